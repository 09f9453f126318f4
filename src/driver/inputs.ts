// Everything that can happen to the driver's task scheduler, as one closed union (STYLE.md §3). The adapter
// (the driver's `CoarseGrainedScheduler` endpoint, the app client listener and the user-facing context) turns
// each outside event into one of these and feeds it to `TaskSchedulerMachine.handle`, one at a time.

import type { ReplyToken } from '../kit/replies.ts';
import type { TimerFired } from '../kit/timers.ts';
import type { ExecutorToDriver, InlineClosure, TaskAction, TaskOp, TaskSource } from '../protocol/task-messages.ts';

export type StatusUpdateMessage = Extract<ExecutorToDriver, { readonly type: 'StatusUpdate' }>;
export type ExecutorHeartbeatMessage = Extract<ExecutorToDriver, { readonly type: 'ExecutorHeartbeat' }>;

/** One task of a job: which partition, where its records come from, what to apply, what to return. */
export interface TaskSpec {
  readonly partition: number;
  readonly source: TaskSource;
  readonly ops: readonly TaskOp[];
  readonly action: TaskAction;
  /**
   * The executor that holds this partition's cached records (persist): a free core there takes this task before
   * any other of its job (Spark's PROCESS_LOCAL preference, without a locality wait).
   */
  readonly preferredExecutor?: string;
  /** The broadcast values the task may read (sent to each executor once: offers.ts). */
  readonly broadcasts?: ReadonlyArray<{ readonly name: string; readonly id: number; readonly data: Uint8Array }>;
  /** The inline functions the task names, with their captured values (sent with every task that names them). */
  readonly closures?: readonly InlineClosure[];
}

/**
 * The scheduler's timers: Spark's HeartbeatReceiver `ExpireDeadHosts` check, and one per decommissioning
 * executor that still runs tasks when `flint.executor.decommission.forceKillTimeout` is set (Spark's
 * `CoarseGrainedSchedulerBackend` schedules that force kill), keyed `ForceKillExecutor:<executorId>`.
 */
export type DriverTimer = 'ExpireDeadExecutors' | { readonly kind: 'ForceKillExecutor'; readonly executorId: string };

export type DriverInput =
  /**
   * A job to run. `jobId` must not belong to a job that is still running (a bug in the caller: `handle`
   * throws). Results come back indexed by the order of `tasks`, not by partition number. `description` is what
   * the application UI calls the job (Spark's call site, `collect at Pi.scala:12`); by default `Job <id>`.
   */
  | { readonly kind: 'SubmitJob'; readonly jobId: number; readonly tasks: readonly TaskSpec[]; readonly description?: string }
  /**
   * An executor asks to register (Spark's `RegisterExecutor` to `CoarseGrainedSchedulerBackend.DriverEndpoint`).
   * Answered through `token`: `BooleanResponse{true}`, or a failure "Duplicate executor ID: <id>" for an id the
   * driver knows, or "the driver is stopping" after `Stop`. Its cores are not offered until `ExecutorLaunched`.
   */
  | {
      readonly kind: 'RegisterExecutor';
      readonly token: ReplyToken;
      readonly executorId: string;
      readonly executorAddress: string;
      readonly hostname: string;
      readonly cores: number;
      /** Its stdout/stderr log pages on its worker (RegisterExecutor's `logUrls`), linked from the UI. */
      readonly logUrls?: Readonly<Record<string, string>>;
      /** Its custom-resource addresses (RegisterExecutor's `resources`), handed to tasks that ask for them. */
      readonly resources?: Readonly<Record<string, readonly string[]>>;
    }
  /** LaunchedExecutor arrived: the executor can run tasks, so its cores become free (as in Spark's `DriverEndpoint`). */
  | { readonly kind: 'ExecutorLaunched'; readonly executorId: string }
  /**
   * The executor is gone: its connection dropped, its worker reported it exited, the master removed it.
   * `causedByApp` (Spark's `ExecutorExited.exitCausedByApp`): the loss counts as a failure of its running tasks.
   */
  | {
      readonly kind: 'ExecutorLost';
      readonly executorId: string;
      readonly reason: string;
      readonly causedByApp: boolean;
    }
  /**
   * The executor's worker is being decommissioned (Spark's `ExecutorDecommission`: the master's
   * `ExecutorUpdated(DECOMMISSIONED)` through the app client). It is offered no task from now on; once its
   * running tasks end and their results are fetched it gets `StopExecutor` and leaves, and its loss counts
   * against nothing. Unknown or already decommissioning executors are ignored.
   */
  | {
      readonly kind: 'DecommissionExecutor';
      readonly executorId: string;
      readonly reason: string;
      /**
       * What the application UI records as its removal (`decommissioned` when left out): dynamic allocation
       * (allocation.ts) releases an idle executor this way, draining it like a decommission.
       */
      readonly removedAs?: string;
    }
  | { readonly kind: 'StatusUpdate'; readonly message: StatusUpdateMessage }
  /** The answer to a `FetchResult` effect: all chunks, concatenated. */
  | { readonly kind: 'ResultFetched'; readonly taskId: number; readonly bytes: Uint8Array }
  /** The answer to a `FetchResult` effect when any chunk could not be fetched. */
  | { readonly kind: 'ResultFetchFailed'; readonly taskId: number; readonly error: string }
  /**
   * An executor's heartbeat ask (Spark's `HeartbeatReceiver`), answered through `token` with
   * `HeartbeatResponse{ reregister }`: true when the driver does not know the executor.
   */
  | { readonly kind: 'ExecutorHeartbeat'; readonly token: ReplyToken; readonly message: ExecutorHeartbeatMessage }
  /** A timer fired (src/kit/timers.ts): its name as `key`, and the generation it was armed with. */
  | TimerFired
  /** A persisted dataset was unpersisted: every executor drops its cached partitions (Spark's `removeRdd`). */
  | { readonly kind: 'RemoveCache'; readonly id: number }
  /** The driver no longer needs a shuffle: every executor deletes its worker's map output of it (ContextCleaner). */
  | { readonly kind: 'RemoveShuffle'; readonly shuffleId: number }
  /** The user (or the context on its behalf) cancels a running job. */
  | { readonly kind: 'CancelJob'; readonly jobId: number; readonly reason: string }
  /** The context stops: every executor is told to stop and every unfinished job fails. Final. */
  | { readonly kind: 'Stop' };

export type DriverInputKind = DriverInput['kind'];
