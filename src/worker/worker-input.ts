// Everything that can happen to a worker, as one closed union fed to `WorkerMachine.handle` one at a time
// (Spark's ThreadSafeRpcEndpoint guarantee). Wire messages from a master, timer firings, connection events,
// ask outcomes and process events all arrive here; the adapter turns each callback into one input.

import type { Answered, AskFailed, DialFailed } from '../kit/messaging.ts';
import type { Static } from '@sinclair/typebox';
import type { TimerFired } from '../kit/timers.ts';
import type { ExecutorStateChanged, MasterToWorker } from '../protocol/messages.ts';

export type ExecutorStateChangedMessage = Static<typeof ExecutorStateChanged>;

/**
 * The worker's timers (Spark's self-sent `SendHeartbeat`, `ReregisterWithMaster`, `WorkDirCleanup`, plus the
 * two waits Spark spends sleeping on a thread: the state-sync retry and the supervised driver's back-off).
 * Each timer fires once; periodic ones are re-armed by the machine when they fire.
 */
export type WorkerTimer =
  | { readonly kind: 'SendHeartbeat' }
  | { readonly kind: 'ReregisterWithMaster' }
  | { readonly kind: 'WorkDirCleanup' }
  | { readonly kind: 'ExecutorStateSyncRetry'; readonly message: ExecutorStateChangedMessage }
  | { readonly kind: 'DriverRelaunch'; readonly driverId: string };

/** One armed timer per key: starting a key that is armed replaces it. */
export function timerKey(timer: WorkerTimer): string {
  switch (timer.kind) {
    case 'SendHeartbeat':
    case 'ReregisterWithMaster':
    case 'WorkDirCleanup':
      return timer.kind;
    case 'ExecutorStateSyncRetry': {
      const m = timer.message;
      return `ExecutorStateSyncRetry:${m.appId}/${m.execId}:${m.state}`;
    }
    case 'DriverRelaunch':
      return `DriverRelaunch:${timer.driverId}`;
    default: {
      const never: never = timer;
      throw new Error(`unknown timer ${JSON.stringify(never)}`);
    }
  }
}

/** How a process ended, as the child-process adapter saw it. */
export interface ProcessExit {
  /** The exit code, or null when the process was ended by a signal. */
  readonly exitCode: number | null;
  /** The signal name (`SIGKILL`, …) that ended it, or null. */
  readonly signal: string | null;
  /** True when the adapter ended it because of a `KillExecutor`/`KillDriver` effect. */
  readonly killedByWorker: boolean;
}

export type WorkerInput =
  /** The endpoint started (Spark's `onStart`, after the work dir and the UI are up): begin registering. */
  | { readonly kind: 'Start' }
  /** A message from a master; `from` is the sender's env id (`flint://host:port`). */
  | { readonly kind: 'MasterMessage'; readonly from: string; readonly message: MasterToWorker }
  /** The connection to an env closed (Spark's `onDisconnected`). Only a master's env matters. */
  | { readonly kind: 'Disconnected'; readonly envId: string }
  /** A `Dial` could not reach that master (connect, endpoint check or send failed). */
  | DialFailed
  /** The master answered the `Ask` for this state change. */
  | Answered<ExecutorStateChangedMessage, unknown>
  /** The `Ask` for this state change failed; `timedOut` when the ask timed out. */
  | AskFailed<ExecutorStateChangedMessage>
  /** A timer fired; `key` and `generation` are echoed from its `StartTimer` effect. */
  | TimerFired
  | { readonly kind: 'ExecutorProcessStarted'; readonly appId: string; readonly execId: number }
  | ({ readonly kind: 'ExecutorProcessExited'; readonly appId: string; readonly execId: number } & ProcessExit)
  /** The executor's directory could not be created (it exists, or I/O failed) or its process could not start. */
  | { readonly kind: 'ExecutorLaunchFailed'; readonly appId: string; readonly execId: number; readonly error: string }
  | { readonly kind: 'DriverProcessStarted'; readonly driverId: string }
  | ({ readonly kind: 'DriverProcessExited'; readonly driverId: string } & ProcessExit)
  /** Downloading the app resource, creating the driver dir or starting the process failed. */
  | { readonly kind: 'DriverLaunchFailed'; readonly driverId: string; readonly error: string }
  /**
   * The decommission signal (`flint.worker.decommission.signal`, PWR) arrived, or SIGTERM with
   * `flint.decommission.enabled` (`exitWhenDrained`: the worker exits once its executors have ended).
   */
  | { readonly kind: 'DecommissionSignal'; readonly exitWhenDrained?: boolean }
  /** Stop the worker (SIGTERM, `stop-worker`): kill every process, then exit 0. */
  | { readonly kind: 'Shutdown'; readonly reason: string };
