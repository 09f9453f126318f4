// What the executor asks its host to do. `ExecutorMachine.handle` returns a list of these; the host (the
// executor program, or the simulator) performs them and feeds every outcome back as an `ExecutorInput`. The
// machine decides; the host only talks to the driver, fetches code, runs pool threads and keeps time
// (STYLE.md §3, after raft's `Ready`).
//
// Ordering rules (perform effects in list order, and finish a list before handling the next input):
//
//  1. State first, report second. A list reflects state the machine already changed: a terminal StatusUpdate
//     comes after the task left the machine's books. Hosts need not reorder anything. (No RUNNING update is
//     sent: the driver marks a task running when it launches it; heartbeats list the running tasks.)
//  2. Messages to the driver (`Send`, `Ask`) keep their list order across lists (one connection, in-order
//     delivery). A `Send` that
//     cannot be delivered is dropped and logged (Spark drops status updates when the driver is unknown).
//  3. Messaging is the kit's (src/kit/messaging.ts), always to the driver's `CoarseGrainedScheduler` at
//     `config.driverUrl`. Each `Ask` is answered exactly once, by `Answered` or `AskFailed` whose context is the
//     type of the message asked (RetrieveAppConfig, RegisterExecutor, ExecutorHeartbeat); the machine judges the
//     reply itself. `timeoutMs` undefined means the RPC env's `flint.rpc.askTimeout`.
//  4. `LoadCode` is answered exactly once: CodeLoaded or CodeLoadFailed, with the same hash.
//  5. Each `RunTask` is answered exactly once: TaskCompleted, TaskErrored or TaskAborted. At most
//     `cores × tasksPerCore` RunTasks are unanswered at any time (ExecutorMachineOptions; the machine queues
//     the rest): a pool of `cores` threads runs one task per thread and may queue the others on its threads.
//     `CancelTask` asks the pool to stop a task it was given: one it has not started must never run (answer
//     TaskAborted); a started one has its abort signal set, then its thread ended if it does not stop. The
//     task's one answer still follows. A `CancelTask` for a task already answered does nothing.
//  6. Each `DriverAsk` token is answered exactly once, by a `Reply` or a `ReplyFailure`. A `Reply`'s chunk
//     `data` is a view into a kept result; the bytes never change, so the host may send it at leisure.
//  7. Timers: at most one timer per `key`; `StartTimer` on an armed key replaces it. A firing that was already
//     queued when it was cancelled or replaced may still be delivered; the machine ignores any `TimerFired`
//     whose `generation` is not the key's current one.
//  8. `Exit` is the last effect of its list and the machine emits nothing after it. The host flushes the
//     sends before it (best effort, bounded), ends the pool threads without waiting for their tasks, and
//     ends the process with `code`.

import type { Ask, Send } from '../kit/messaging.ts';
import type { Static } from '@sinclair/typebox';
import type {
  ExecutorHeartbeat,
  LaunchedExecutor,
  RegisterExecutor,
  RetrieveAppConfig,
  StatusUpdate,
  TaskResultChunk,
} from '../protocol/task-messages.ts';
import type { LaunchTaskMessage } from '../task/evaluate-task.ts';
import type { LogEffect, LogLevel } from '../kit/log.ts';
import type { Reply, ReplyFailure } from '../kit/replies.ts';
import type { TimerEffect } from '../kit/timers.ts';

export type StatusUpdateMessage = Static<typeof StatusUpdate>;
export type DriverAskMessage = Static<typeof RetrieveAppConfig> | Static<typeof RegisterExecutor> | Static<typeof ExecutorHeartbeat>;
export type DriverSendMessage = Static<typeof LaunchedExecutor> | StatusUpdateMessage;

/** Exit codes, as Spark's executor uses them (ExecutorExitCode; reference §7.2 reads 56 as "not the app's fault"). */
export const ExecutorExitCode = {
  /** StopExecutor from the driver. */
  SUCCESS: 0,
  /** Registration refused, app config or code unavailable, driver lost, worker lost, a command with no executor. */
  FAILURE: 1,
  /** `flint.executor.heartbeat.maxFailures` consecutive heartbeats failed. */
  HEARTBEAT_FAILURE: 56,
} as const;

/** The executor's only timer: Spark's heartbeater thread, as a one-shot timer re-armed on every firing. */
export type ExecutorTimer = { readonly kind: 'Heartbeat' };

export type { LogLevel };

export type ExecutorEffect =
  /** Ask the driver's `CoarseGrainedScheduler` endpoint; see rule 3 for the answering inputs. */
  | Ask<DriverAskMessage, DriverAskMessage['type']>
  /** One-way message to the driver's `CoarseGrainedScheduler` endpoint. */
  | Send<DriverSendMessage>
  /**
   * Make the application bundle `hash` (`bytes` long) importable by pool threads: use the copy cached in the
   * work directory if its sha256 matches, else fetch it with FetchAppCode asks in chunks, verify, cache.
   */
  | { readonly kind: 'LoadCode'; readonly hash: string; readonly bytes: number }
  /** Run `evaluateTask(task)` on a free pool thread. */
  | { readonly kind: 'RunTask'; readonly task: LaunchTaskMessage }
  | { readonly kind: 'CancelTask'; readonly taskId: number; readonly reason: string }
  /** Drop the cached partitions of dataset `id` from every pool thread (RemoveCache, the driver's unpersist). */
  | { readonly kind: 'DropCache'; readonly id: number }
  /** Delete this worker's map output of a shuffle the driver no longer needs (RemoveShuffle). */
  | { readonly kind: 'DropShuffle'; readonly shuffleId: number }
  | Reply<Static<typeof TaskResultChunk>>
  /** Answer the ask with a failure (the driver's ask rejects with RpcRemoteError carrying `error`). */
  | ReplyFailure
  | TimerEffect<ExecutorTimer>
  /** End the executor process with this code. See rule 8. */
  | { readonly kind: 'Exit'; readonly code: number; readonly reason: string }
  | LogEffect;
