// The worker's state (Spark's `Worker` fields) and the small helpers every handler uses to emit effects.
// Only the machine's handlers mutate it, one input at a time; everyone else reads a snapshot.

import { logEffect, type LogFields } from '../kit/log.ts';
import type { TimerBook } from '../kit/timers.ts';
import type { ApplicationDescription, DriverDescription, DriverState, ExecutorState, ResourceAddresses } from '../protocol/messages.ts';
import type { RegistrationIntervals, WorkerConfig } from './worker-config.ts';
import type { LogLevel, WorkerEffect } from './worker-effect.ts';
import { timerKey, type WorkerTimer } from './worker-input.ts';
import type { MachineContext } from '../kit/context.ts';

/** The master this worker reports to (Spark's `master`, `activeMasterUrl`, `masterAddressToConnect`). */
export interface ActiveMaster {
  /** Its `Master` endpoint: where sends and asks go. */
  readonly address: string;
  /** Its env URL, `flint://host:port`: what LaunchExecutor/KillExecutor must name, and a disconnect matches. */
  readonly url: string;
  readonly webUiUrl: string;
  /** The address to reconnect to: the configured URL it was reached at (SPARK-20529), or `url`. */
  readonly connectUrl: string;
}

/** Spark's ExecutorRunner, reduced to state: the process itself belongs to the host. */
export interface ExecutorRunner {
  readonly appId: string;
  readonly execId: number;
  readonly fullId: string;
  readonly appDesc: ApplicationDescription;
  readonly cores: number;
  readonly memoryMb: number;
  /** The custom-resource addresses the master assigned to it (LaunchExecutor.resources). */
  readonly resources?: ResourceAddresses | undefined;
  /** The CPUs it is bound to (flint.worker.executorCpus, cpu-binding.ts); absent when the worker binds none. */
  readonly cpus?: readonly number[] | undefined;
  readonly processKey: string;
  readonly workDir: string;
  state: ExecutorState;
  killReason?: string;
  message?: string;
  exitStatus?: number;
}

/** Spark's DriverRunner, including its supervise loop (`runCommandWithRetry`). */
export interface DriverRunner {
  readonly driverId: string;
  readonly desc: DriverDescription;
  /** The custom-resource addresses the master assigned to it (LaunchDriver.resources). */
  readonly resources?: ResourceAddresses | undefined;
  readonly processKey: string;
  /** RUNNING while launched or waiting to relaunch; then its final state. */
  state: DriverState;
  /** `launching`: waiting for the host; `running`: process up; `backoff`: waiting to relaunch; `done`. */
  phase: 'launching' | 'running' | 'backoff' | 'done';
  killed: boolean;
  attempts: number;
  /** The next back-off wait: 1 s, doubled after each relaunch, reset after a run longer than 5 s. */
  backoffMs: number;
  runStartedAtMs?: number;
  lastExitStatus?: number;
  exception?: string;
}

export interface WorkerState {
  readonly workerId: string;
  readonly workerAddress: string;
  readonly workerWebUiUrl: string;
  phase: 'created' | 'running' | 'stopped';
  registered: boolean;
  /** Registered with some master at least once: only then can a master know this worker's id. */
  everRegistered: boolean;
  /**
   * Before the first registration: masters that refused this worker's connection for good (a wrong secret,
   * another protocol version, an HTTP server at the address), each with its error (registration.ts).
   */
  readonly refused: Map<string, string>;
  connected: boolean;
  master?: ActiveMaster;
  connectionAttemptCount: number;
  decommissioned: boolean;
  /** SIGTERM with `flint.decommission.enabled`: once decommissioned, exit when no executor is left (lifecycle.ts). */
  exitWhenDrained: boolean;
  readonly executors: Map<string, ExecutorRunner>;
  /** Insertion-ordered, like Spark's LinkedHashMap: the oldest are trimmed first. */
  readonly finishedExecutors: Map<string, ExecutorRunner>;
  readonly drivers: Map<string, DriverRunner>;
  readonly finishedDrivers: Map<string, DriverRunner>;
  /** Consecutive failed syncs per executor full id (Spark's `executorStateSyncFailureAttempts`). */
  readonly stateSyncFailures: Map<string, number>;
  /** Armed timers (src/kit/timers.ts). */
  readonly timers: TimerBook<WorkerTimer>;
  coresUsed: number;
  memoryUsedMb: number;
}

/** What a handler needs: the state to change, the time, and the list of effects it appends to. */
export interface Ctx extends MachineContext<WorkerState, WorkerConfig, WorkerEffect[]> {
  readonly intervals: RegistrationIntervals;
}

export function log(ctx: Ctx, level: LogLevel, msg: string, fields?: LogFields): void {
  ctx.out.push(logEffect(level, msg, fields));
}

/** Arms `timer`, replacing any armed timer with the same key (one timer per key; Spark's quirk of stacking
 * a new heartbeat schedule on every registration is not kept). */
export function startTimer(ctx: Ctx, timer: WorkerTimer, delayMs: number): void {
  ctx.out.push(ctx.state.timers.start(timerKey(timer), timer, delayMs));
}

export function cancelTimer(ctx: Ctx, key: string): void {
  const effect = ctx.state.timers.cancel(key);
  if (effect !== undefined) ctx.out.push(effect);
}

export function isArmed(ctx: Ctx, key: string): boolean {
  return ctx.state.timers.isArmed(key);
}

/** Spark's `sendToMaster`: dropped with a warning while no master is known. */
export function sendToMaster(ctx: Ctx, message: Extract<WorkerEffect, { kind: 'Send' }>['message']): void {
  const master = ctx.state.master;
  if (master === undefined) {
    log(ctx, 'warn', `Dropping ${message.type} because the connection to master has not yet been established`);
    return;
  }
  ctx.out.push({ kind: 'Send', to: master.address, message });
}

/** Keeps a finished map at most `retained` long: after an insert that overflows it, drop the oldest
 * `max(size / 10, 1)` (Spark's `trimFinishedExecutorsIfNecessary`, WorkerSuite "test clearing of …"). */
export function trimFinished<V>(finished: Map<string, V>, retained: number): void {
  if (finished.size <= retained) return;
  const drop = Math.max(Math.floor(finished.size / 10), 1);
  let dropped = 0;
  for (const key of finished.keys()) {
    if (dropped >= drop) break;
    finished.delete(key);
    dropped += 1;
  }
}
