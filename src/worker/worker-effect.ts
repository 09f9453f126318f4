// What the worker asks its host to do. `WorkerMachine.handle` returns a list of these; the host (daemon or
// simulator) performs them and feeds every outcome back as a `WorkerInput`. The machine decides; the host
// only sends, times and runs processes (STYLE.md §3, after raft's `Ready`).
//
// Ordering rules (perform effects in list order; these are the ones that matter):
//
//  1. State first, report second. A list reflects state the machine already changed: a `Send`/`Ask`
//     that reports an executor or driver state comes after the bookkeeping, and `WorkerLatestState` after
//     `RegisteredWorker` has switched the active master. Hosts need not reorder anything.
//  2. Timers: at most one timer per `key`. `StartTimer` on an armed key replaces it. After `CancelTimer` or a
//     replacing `StartTimer`, a firing that was already queued may still be delivered; the machine ignores any
//     `TimerFired` whose `generation` is not the key's current one, so hosts need no cancellation race handling.
//  3. Messages to one master keep their list order (one connection, in-order delivery), e.g. `WorkerLatestState`
//     before the first `Heartbeat` of a registration.
//  4. Messaging is the kit's (src/kit/messaging.ts): a `Dial` to a master reports only failure (`DialFailed`);
//     success shows up as the master's reply message. Several may be in flight at once (one per master, in
//     parallel). Each `Ask` (an `ExecutorStateChanged`, SPARK-34245) is answered exactly once, by `Answered` or
//     `AskFailed` carrying the message as its context.
//  6. Processes: a `LaunchExecutor`/`LaunchDriver` is answered by `…ProcessStarted` then `…ProcessExited`, or
//     by one `…LaunchFailed`. A kill for a process that has not started yet is applied as soon as it starts
//     (then `killedByWorker` is true); a kill for one that already exited does nothing. A supervised driver is
//     relaunched only by a new `LaunchDriver` with the same `processKey` and a higher `attempt`, never by the
//     host on its own.
//  7. `Exit` is the last effect of its list and the machine emits nothing after it. Before the host exits it
//     performs the `KillExecutor`/`KillDriver` effects earlier in the same list (each with its terminate
//     timeout) and flushes pending sends; exits of those processes need not be reported.
//  8. `CleanupOldDirs` runs in the background; its outcome is only logged, never fed back. Nothing else deletes
//     under the work dir: a finished application's executor logs stay until this sweep finds them old.

import type { Static } from '@sinclair/typebox';
import type { RegisterWorker, WorkerToMaster } from '../protocol/messages.ts';
import type { ExecutorStateChangedMessage, WorkerTimer } from './worker-input.ts';
import type { LogEffect, LogLevel } from '../kit/log.ts';
import type { TimerEffect } from '../kit/timers.ts';
import type { Ask, Dial, Send } from '../kit/messaging.ts';

export type RegisterWorkerMessage = Static<typeof RegisterWorker>;

/** A process to start: argv as an array (never a shell string), run in `cwd` with `env` added. */
export interface ProcessSpec {
  /** `executor:<appId>/<execId>` or `driver:<driverId>`: names the process in kill effects and logs. */
  readonly processKey: string;
  /** argv[0] is the program (`WorkerConfig.nodeExecutable`), then Node options, the main module, arguments. */
  readonly argv: readonly string[];
  /** Added on top of the worker's own environment. */
  readonly env: Readonly<Record<string, string>>;
  /** Created before the launch. For executors it must not exist yet (then `ExecutorLaunchFailed`). */
  readonly cwd: string;
  readonly cwdMustBeNew: boolean;
  /** The process's stdout is appended to this file. */
  readonly stdoutPath: string;
  /** This file starts with `stderrHeader`, then the process's stderr is appended. */
  readonly stderrPath: string;
  readonly stderrHeader: string;
}

export interface ExecutorLaunchSpec extends ProcessSpec {
  readonly appId: string;
  readonly execId: number;
  readonly cores: number;
  readonly memoryMb: number;
  /** The CPUs the process is bound to (flint.worker.executorCpus, cpu-binding.ts); absent: not bound. */
  readonly cpus?: readonly number[];
}

export interface DriverLaunchSpec extends ProcessSpec {
  readonly driverId: string;
  /** Spark's jarUrl: fetched into `localAppResourcePath` unless a file of that name is already there. */
  readonly appResource: string;
  readonly localAppResourcePath: string;
  readonly cores: number;
  readonly memoryMb: number;
  readonly supervise: boolean;
}

export type { LogLevel };

export type WorkerEffect =
  /** One-way message to an endpoint address (`flint://Master@host:port`). */
  | Send<WorkerToMaster>
  /** `ExecutorStateChanged` as an ask (SPARK-34245); the message itself is the context of its answer. */
  | Ask<ExecutorStateChangedMessage, ExecutorStateChangedMessage>
  /** `RegisterWorker` to the `Master` endpoint of the env `envUrl`. */
  | Dial<RegisterWorkerMessage>
  | TimerEffect<WorkerTimer>
  | { readonly kind: 'LaunchExecutor'; readonly spec: ExecutorLaunchSpec }
  /** Terminate gracefully, then force after the terminate timeout. */
  | {
      readonly kind: 'KillExecutor';
      readonly processKey: string;
      readonly appId: string;
      readonly execId: number;
      readonly reason: string;
    }
  /** `attempt` counts launches of this driver id, from 1; above 1 it is a supervised relaunch. */
  | { readonly kind: 'LaunchDriver'; readonly spec: DriverLaunchSpec; readonly attempt: number }
  | { readonly kind: 'KillDriver'; readonly processKey: string; readonly driverId: string; readonly reason: string }
  /**
   * Delete every directory directly under `workDir` whose name is not in `keepNames` and that holds no file
   * (recursively) modified after `modifiedBeforeMs`, i.e. within the last `olderThanMs` (Spark's WorkDirCleanup).
   */
  | {
      readonly kind: 'CleanupOldDirs';
      readonly workDir: string;
      readonly olderThanMs: number;
      readonly modifiedBeforeMs: number;
      readonly keepNames: readonly string[];
    }
  /**
   * Remove the ended application's shuffle files, `<workDir>/<appId>/shuffle` (Spark's
   * `ExternalShuffleService.applicationRemoved` with cleanup). Its logs stay, for the log pages.
   */
  | { readonly kind: 'RemoveAppShuffle'; readonly appId: string }
  /** End the worker process with this code. See rule 7. */
  | { readonly kind: 'Exit'; readonly code: number; readonly reason: string }
  | LogEffect;
