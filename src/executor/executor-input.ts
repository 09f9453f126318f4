// Everything that can happen to an executor, as one closed union fed to `ExecutorMachine.handle` one at a time
// (Spark's ThreadSafeRpcEndpoint guarantee). Driver messages, ask outcomes, the thread pool's reports, timer
// firings and connection events all arrive here; the adapter turns each callback into one input.

import type { Static } from '@sinclair/typebox';
import type { ReplyToken } from '../kit/replies.ts';
import type { TimerFired } from '../kit/timers.ts';
import type { Answered, AskFailed } from '../kit/messaging.ts';
import type { DriverReply, DriverToExecutor, FetchTaskResult, TaskFailure } from '../protocol/task-messages.ts';
import type { DriverAskMessage } from './executor-effect.ts';

/**
 * The host's handle on one pending ask from the driver (src/kit/replies.ts). The machine never looks inside;
 * it echoes the token in exactly one `Reply` or `ReplyFailure` effect.
 */
export type { ReplyToken } from '../kit/replies.ts';

export type FetchTaskResultMessage = Static<typeof FetchTaskResult>;
/**
 * The one-way driver messages (FetchTaskResult is an ask and arrives as `DriverAsk`; a LaunchTasks batch arrives
 * as its LaunchTasks, one by one: the executor's I/O unpacks it, src/daemons/send-batches.ts).
 */
export type DriverCommand = Exclude<DriverToExecutor, { readonly type: 'FetchTaskResult' | 'LaunchTasks' }>;

export type ExecutorInput =
  /** The endpoint is up (Spark's `onStart`): ask the driver for the application's config. */
  | { readonly kind: 'Start' }
  /** The driver answered the `Ask` for RetrieveAppConfig, RegisterExecutor or ExecutorHeartbeat. */
  | Answered<DriverAskMessage['type'], DriverReply>
  /** That ask failed (after the adapter's connection retries) or timed out. */
  | AskFailed<DriverAskMessage['type']>
  /** The bundle `hash` is on disk (fetched or cached, hash verified) and the pool threads can import it. */
  | { readonly kind: 'CodeLoaded'; readonly hash: string }
  | { readonly kind: 'CodeLoadFailed'; readonly hash: string; readonly error: string }
  /** A one-way message from the driver: LaunchTask, KillTask, StopExecutor, ReleaseTaskResult. */
  | { readonly kind: 'DriverMessage'; readonly message: DriverCommand }
  /** An ask from the driver; answered by exactly one `Reply` or `ReplyFailure` carrying `token`. */
  | { readonly kind: 'DriverAsk'; readonly message: FetchTaskResultMessage; readonly token: ReplyToken }
  /** The pool finished a task: `result` is the encoded partition result (evaluateTask's output). */
  | {
      readonly kind: 'TaskCompleted';
      readonly taskId: number;
      readonly result: Uint8Array;
      readonly records: number;
      readonly runTimeMs: number;
      /** The task's accumulator updates, reported with its result. */
      readonly accumulators?: Readonly<Record<string, number>>;
    }
  /** The task threw (or its result could not be encoded); `error` from `taskFailureOf`. */
  | { readonly kind: 'TaskErrored'; readonly taskId: number; readonly error: TaskFailure; readonly runTimeMs?: number }
  /** The pool ended the task after a `CancelTask` (or lost its thread); the task produced nothing. */
  | { readonly kind: 'TaskAborted'; readonly taskId: number; readonly runTimeMs?: number }
  /** A timer fired; `key` and `generation` are echoed from its `StartTimer` effect. */
  | TimerFired
  /** The connection to the driver closed (Spark's `onDisconnected` for the driver's address). */
  | { readonly kind: 'DriverDisconnected'; readonly reason?: string }
  /** stdin closed: the worker that launched this executor is gone (Spark's WorkerWatcher). */
  | { readonly kind: 'ParentGone' };
