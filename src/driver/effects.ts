// What the driver's task scheduler asks the outside world to do, as one closed union (STYLE.md §3, after
// etcd raft's `Ready`).
//
// ORDERING. `handle` returns effects in a list, and the adapter MUST carry them out in list order (each one at
// least handed to the transport in order before the next):
//
//   - Sends to one executor keep their order (the RPC layer keeps per-connection order). In particular a
//     `KillTask` follows the `LaunchTask` it kills, and `StopExecutor` is the last message an executor gets.
//   - The list reflects state the machine has already changed: every effect may be performed as soon as it
//     is read, and none needs to wait for the ones after it.
//   - When a job fails (its retries ran out, its result grew too big, it was cancelled), the `KillTask`s for
//     its still-running tasks come before its `JobFailed`.
//   - A job's `Progress` effects never follow its `JobSucceeded`/`JobFailed`; its last `Progress` before a
//     `JobSucceeded` shows every task done. After either terminal effect the job id is never mentioned again.
//   - Every `FetchResult` is answered by exactly one `ResultFetched` or `ResultFetchFailed` input with its
//     `taskId`, even when the executor is gone meanwhile (then the fetch fails). The machine decides what to
//     release: the adapter never sends `ReleaseTaskResult` on its own.
//   - Every `RegisterExecutor` and `ExecutorHeartbeat` input gets exactly one `Reply` or `ReplyFailure` with its
//     token, in the list of that input, before any effect that follows from it (a registered executor's
//     timer, say).
//   - `KillExecutor` comes before the effects that follow from treating that executor as lost (resubmitted
//     tasks launched elsewhere, a failed job).
//
// TIMERS. The kit's model (src/kit/timers.ts): one timer per name, keyed by it; `StartTimer` on an armed name
// replaces it, and a firing comes back as a `TimerFired` input with the generation it was armed with (a stale one is
// ignored). Timers are one-shot: the dead-executor check re-arms itself each time it fires.

import type { Send } from '../kit/messaging.ts';
import type { DriverReply, DriverToExecutor, TaskFailure } from '../protocol/task-messages.ts';
import type { Reply, ReplyFailure, ReplyToken } from '../kit/replies.ts';
import type { TimerEffect } from '../kit/timers.ts';
import type { DriverTimer } from './inputs.ts';
import type { LogEffect, LogFields, LogLevel } from '../kit/log.ts';

/** The driver-to-executor messages the scheduler sends. (`FetchTaskResult` belongs to the adapter's fetch.) */
export type ExecutorCommand = Extract<
  DriverToExecutor,
  { readonly type: 'LaunchTask' | 'KillTask' | 'StopExecutor' | 'ReleaseTaskResult' | 'RemoveCache' | 'RemoveShuffle' }
>;

/** An error as the user sees it: the remote task's own name, message and stack, or one the driver made. */
export type JobError = TaskFailure;

export type { LogFields, LogLevel };

export type DriverEffect =
  /** One-way message to the executor's `Executor` endpoint at `to` (its `executorAddress`): the kit's `Send`. */
  | (Send<ExecutorCommand> & { readonly executorId: string })
  /**
   * Fetch a result the executor kept: ask `FetchTaskResult { taskId, index }` for `index` 0 … `chunks` − 1,
   * concatenate (`bytes` in all), then feed `ResultFetched` or `ResultFetchFailed`.
   */
  | {
      readonly kind: 'FetchResult';
      readonly executorId: string;
      readonly to: string;
      readonly taskId: number;
      readonly chunks: number;
      readonly bytes: number;
    }
  /** Every task finished; `results[i]` is the msgpack result of the job's `tasks[i]`. */
  /** `executors[i]`: the executor that computed `results[i]` (where a cached partition now is). */
  /** `accumulators[i]`: the accumulator updates of the task whose result is `results[i]` (applied once, by the caller). */
  | {
      readonly kind: 'JobSucceeded';
      readonly jobId: number;
      readonly results: readonly Uint8Array[];
      readonly executors: readonly string[];
      readonly accumulators: ReadonlyArray<Readonly<Record<string, number>> | undefined>;
    }
  /** `error` is what the user's promise rejects with; `summary` says why, Spark style, for the log and UI. */
  /** `results`: those of the tasks that had finished (the others undefined), for a stage that will be resubmitted. */
  | {
      readonly kind: 'JobFailed';
      readonly jobId: number;
      readonly error: JobError;
      readonly summary: string;
      readonly results: ReadonlyArray<Uint8Array | undefined>;
      readonly accumulators: ReadonlyArray<Readonly<Record<string, number>> | undefined>;
    }
  /** For the console progress bar `[Stage n: ===>  (done + running) / total]` (each task set is a stage). Emitted when a number changes. */
  | {
      readonly kind: 'Progress';
      readonly jobId: number;
      readonly total: number;
      readonly done: number;
      readonly running: number;
    }
  /** Ask the master, through the app client, to kill this executor (`KillExecutors`); it is already dropped here. */
  | { readonly kind: 'KillExecutor'; readonly executorId: string; readonly reason: string }
  /** Answer an executor's ask (`RegisterExecutor`, `ExecutorHeartbeat`) behind `token`. */
  | Reply<DriverReply>
  /** Fail an executor's ask: its ask rejects with `error` (a refused registration). */
  | ReplyFailure
  | TimerEffect<DriverTimer>
  | LogEffect;

export type DriverEffectKind = DriverEffect['kind'];

/** Collects the effects of one `handle` call, in order. Handlers only append. */
export class EffectList {
  readonly #effects: DriverEffect[] = [];

  get effects(): readonly DriverEffect[] {
    return this.#effects;
  }

  push(effect: DriverEffect): void {
    this.#effects.push(effect);
  }

  send(executorId: string, to: string, message: ExecutorCommand): void {
    this.#effects.push({ kind: 'Send', executorId, to, message });
  }

  reply(token: ReplyToken, message: DriverReply): void {
    this.#effects.push({ kind: 'Reply', token, message });
  }

  replyFailure(token: ReplyToken, error: string): void {
    this.#effects.push({ kind: 'ReplyFailure', token, error });
  }

  log(level: LogLevel, msg: string, fields?: LogFields): void {
    this.#effects.push(fields === undefined ? { kind: 'Log', level, msg } : { kind: 'Log', level, msg, fields });
  }

  debug(msg: string, fields?: LogFields): void {
    this.log('debug', msg, fields);
  }

  info(msg: string, fields?: LogFields): void {
    this.log('info', msg, fields);
  }

  warn(msg: string, fields?: LogFields): void {
    this.log('warn', msg, fields);
  }

  error(msg: string, fields?: LogFields): void {
    this.log('error', msg, fields);
  }
}
