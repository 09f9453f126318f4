// The executor machine's mutable state and the helpers every transition uses to emit effects. Only the
// machine's own modules touch this; the outside sees `snapshot()`.

import { logEffect, type LogFields } from '../kit/log.ts';
import type { TaskFailure, TaskMetrics, TaskState } from '../protocol/task-messages.ts';
import type { LaunchTaskMessage } from '../task/evaluate-task.ts';
import type { ExecutorConfig } from './executor-config.ts';
import type { ExecutorEffect, ExecutorTimer, LogLevel } from './executor-effect.ts';
import type { Rng } from '../kit/rng.ts';
import type { TimerBook } from '../kit/timers.ts';
import type { MachineContext } from '../kit/context.ts';

/** Randomness, injected (STYLE.md §6; src/kit/rng.ts): the executor draws its registration jitter with `next()`. */
export type { Rng };

/**
 * created ─Start─► configuring ─AppConfigResponse─► registering ─RegisterExecutor answered true + CodeLoaded─► running
 * and from any of them ─Exit─► stopped. Only `running` has an executor that can run tasks (Spark's
 * `executor != null`).
 */
export type ExecutorPhase = 'created' | 'configuring' | 'registering' | 'running' | 'stopped';

export interface TaskEntry {
  readonly task: LaunchTaskMessage;
  status: 'queued' | 'running';
  /** When its RunTask was emitted. */
  startedAtMs: number;
  /** Set by KillTask while running: the task ends KILLED however the pool reports it. */
  killReason?: string;
}

/** A result larger than `maxDirectResultSizeBytes`, kept until the driver releases it. */
export interface KeptResult {
  readonly bytes: Uint8Array;
  readonly chunks: number;
  readonly chunkBytes: number;
}

export interface ExecutorState {
  phase: ExecutorPhase;
  /** Launch arguments with defaults until the AppConfigResponse, then with the application's keys applied. */
  config: ExecutorConfig;
  codeHash?: string;
  registered: boolean;
  codeLoaded: boolean;
  /** Queued and running tasks by task id. */
  readonly tasks: Map<number, TaskEntry>;
  /** Task ids waiting for a free core, oldest first. */
  queue: number[];
  /** Tasks handed to the pool (RunTask) and not answered yet: at most `config.cores × tasksPerCore`. */
  runningCount: number;
  /** ExecutorMachineOptions.tasksPerCore. */
  readonly tasksPerCore: number;
  readonly results: Map<number, KeptResult>;
  heartbeatFailures: number;
  heartbeatInFlight: boolean;
  /** Armed timers (src/kit/timers.ts). */
  readonly timers: TimerBook<ExecutorTimer>;
  readonly counts: { finished: number; failed: number; killed: number };
}

export interface Ctx extends MachineContext<ExecutorState, ExecutorConfig, ExecutorEffect[]> {
  /** Draws the first heartbeat's jitter. */
  readonly rng: Rng;
}

export function log(ctx: Ctx, level: LogLevel, msg: string, fields?: LogFields): void {
  ctx.out.push(logEffect(level, msg, fields));
}

export const HEARTBEAT_TIMER: ExecutorTimer = { kind: 'Heartbeat' };

export function startTimer(ctx: Ctx, timer: ExecutorTimer, delayMs: number): void {
  ctx.out.push(ctx.state.timers.start(timer.kind, timer, delayMs));
}

export function cancelTimer(ctx: Ctx, key: string): void {
  const effect = ctx.state.timers.cancel(key);
  if (effect !== undefined) ctx.out.push(effect);
}

/** Spark's `exitExecutor`: log why, stop the timers, and end the process. Nothing is emitted after this. */
export function exit(ctx: Ctx, code: number, reason: string, level: LogLevel = code === 0 ? 'info' : 'error'): void {
  log(ctx, level, code === 0 ? reason : `Executor self-exiting due to : ${reason}`, { exitCode: code });
  ctx.out.push(...ctx.state.timers.cancelAll());
  ctx.state.phase = 'stopped';
  ctx.out.push({ kind: 'Exit', code, reason });
}

export function sendStatus(
  ctx: Ctx,
  taskId: number,
  state: TaskState,
  extra: { result?: Uint8Array; indirectResult?: { bytes: number; chunks: number }; failure?: TaskFailure; metrics?: TaskMetrics } = {},
): void {
  ctx.out.push({
    kind: 'Send',
    to: ctx.state.config.driverUrl,
    message: { type: 'StatusUpdate', executorId: ctx.state.config.executorId, taskId, state, ...extra },
  });
}

/** `partition.attempt in job J (TID n)`, Spark's way of naming a task in logs. */
export function taskName(task: LaunchTaskMessage): string {
  return `${task.partition}.${task.attempt} in job ${task.jobId} (TID ${task.taskId})`;
}
