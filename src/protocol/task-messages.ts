// Wire messages between a driver and its executors: Spark's CoarseGrainedClusterMessages (reference §2.8,
// §7.2–§7.4), typed. The driver hosts the `CoarseGrainedScheduler` endpoint; each executor hosts `Executor`
// on a client-mode env, reached over the connection it opened to the driver.
//
// Tasks carry no code. A task names the functions it applies by their export name in the application's main
// module (`fnRefs`), which every executor loads from the bundle the driver serves (content-addressed by
// `codeHash`). Partition data, function arguments and results are msgpack values inside the message.
// A result larger than `flint.task.maxDirectResultSize` stays on the executor and the driver fetches it in
// chunks (FetchTaskResult), so no frame ever has to hold it whole.

import { Type, type Static } from '@sinclair/typebox';
import { defineCatalog, message, type MessageOf } from './catalog.ts';
import { integerIn, LIMITS } from './limits.ts';

const Id = Type.String({ minLength: 1, maxLength: 512 });
// Every number field has a range from limits.ts (docs/rpc.md, "Bounds"); the catalog refuses the rest.
const Count = integerIn(LIMITS.count);
/** Task and job IDs, byte and record counts: Spark's Longs. */
const LongCount = integerIn(LIMITS.longCount);
const Positive = integerIn({ min: 1, max: LIMITS.count.max });
const Cores = integerIn(LIMITS.cores);
const RangeValue = integerIn(LIMITS.rangeValue);
/** A measured time; may have a fraction (performance.now). */
const RunTimeMs = Type.Number({ minimum: LIMITS.durationMs.min, maximum: LIMITS.durationMs.max });
const Str = Type.String({ maxLength: 65_536 });
const Bytes = Type.Uint8Array();
const EndpointAddress = Type.String({ minLength: 1, maxLength: 1024, pattern: '^(flint|spark|flint\\+client)://' });
/** An export name of the application's main module. */
const FnRef = Type.String({ minLength: 1, maxLength: 256, pattern: '^[A-Za-z_$][A-Za-z0-9_$]*$' });

export const TaskState = Type.Union([
  Type.Literal('LAUNCHING'),
  Type.Literal('RUNNING'),
  Type.Literal('FINISHED'),
  Type.Literal('FAILED'),
  Type.Literal('KILLED'),
  Type.Literal('LOST'),
]);
export type TaskState = Static<typeof TaskState>;

/** Where a partition's records come from. */
export const TaskSource = Type.Union([
  /** A slice of a driver-side collection (`parallelize`), msgpack-encoded. */
  Type.Object({ kind: Type.Literal('slice'), data: Bytes }, { additionalProperties: false }),
  /** Integers `start, start+step, …` below `end` (`range`). */
  Type.Object(
    { kind: Type.Literal('range'), start: RangeValue, end: RangeValue, step: RangeValue },
    { additionalProperties: false },
  ),
]);
export type TaskSource = Static<typeof TaskSource>;

/** One narrow transformation, applied in order to the partition's records. */
export const TaskOp = Type.Object(
  {
    op: Type.Union([Type.Literal('map'), Type.Literal('filter'), Type.Literal('flatMap'), Type.Literal('mapPartitions')]),
    fn: FnRef,
  },
  { additionalProperties: false },
);
export type TaskOp = Static<typeof TaskOp>;

/** What the task returns for its partition. `fn`/`zero` are msgpack-encoded where given. */
export const TaskAction = Type.Union([
  Type.Object({ kind: Type.Literal('collect') }, { additionalProperties: false }),
  Type.Object({ kind: Type.Literal('count') }, { additionalProperties: false }),
  Type.Object({ kind: Type.Literal('take'), n: Count }, { additionalProperties: false }),
  Type.Object({ kind: Type.Literal('reduce'), fn: FnRef }, { additionalProperties: false }),
  Type.Object({ kind: Type.Literal('fold'), fn: FnRef, zero: Bytes }, { additionalProperties: false }),
  Type.Object({ kind: Type.Literal('foreach'), fn: FnRef }, { additionalProperties: false }),
  /** `runJob(partitions, fn)`: `fn(records, partitionIndex)` returns the partition's result. */
  Type.Object({ kind: Type.Literal('runJob'), fn: FnRef }, { additionalProperties: false }),
]);
export type TaskAction = Static<typeof TaskAction>;

export const TaskFailure = Type.Object(
  {
    name: Str,
    message: Str,
    stack: Str,
    /**
     * `false`: the failure is deterministic (a record that cannot be encoded, FLINT_RECORD_UNENCODABLE), so the
     * driver fails the job at once instead of retrying up to `flint.task.maxFailures` times. Absent: retryable.
     * Spark's `TaskSetManager.handleFailedTask` does the same for a result that throws NotSerializableException.
     */
    retryable: Type.Optional(Type.Literal(false)),
  },
  { additionalProperties: false },
);
export type TaskFailure = Static<typeof TaskFailure>;

export const TaskMetrics = Type.Object(
  { runTimeMs: RunTimeMs, resultBytes: LongCount, records: LongCount },
  { additionalProperties: false },
);
export type TaskMetrics = Static<typeof TaskMetrics>;

// ---- Executor to driver (`CoarseGrainedScheduler`) -----------------------------------------------------

/** Ask → AppConfigResponse. The executor's first question, before it registers. */
export const RetrieveAppConfig = message('RetrieveAppConfig', { executorId: Id });
/** Ask → BooleanResponse, or a failure ("Duplicate executor ID: <id>"). */
export const RegisterExecutor = message('RegisterExecutor', {
  executorId: Id,
  executorAddress: EndpointAddress,
  hostname: Str,
  cores: Cores,
  logUrls: Type.Record(Type.String({ maxLength: 64 }), Str),
});
/** Sent once the executor can run tasks; only then does the driver offer its cores. */
export const LaunchedExecutor = message('LaunchedExecutor', { executorId: Id });
/** Ask → AppCodeChunk: `length` bytes of the bundle `hash` from `offset`. */
export const FetchAppCode = message('FetchAppCode', { hash: Id, offset: LongCount, length: Positive });
export const StatusUpdate = message('StatusUpdate', {
  executorId: Id,
  taskId: LongCount,
  state: TaskState,
  /** FINISHED with a small result: the msgpack-encoded result. */
  result: Type.Optional(Bytes),
  /** FINISHED with a large result kept on the executor: fetch `chunks` chunks totalling `bytes`. */
  indirectResult: Type.Optional(Type.Object({ bytes: LongCount, chunks: Positive }, { additionalProperties: false })),
  failure: Type.Optional(TaskFailure),
  metrics: Type.Optional(TaskMetrics),
});
/** Ask → HeartbeatResponse, every `flint.executor.heartbeatInterval` (10 s). */
export const ExecutorHeartbeat = message('ExecutorHeartbeat', {
  executorId: Id,
  running: Type.Array(Type.Object({ taskId: LongCount, runTimeMs: RunTimeMs }, { additionalProperties: false })),
});

export const ExecutorToDriver = defineCatalog('ExecutorToDriver', [
  RetrieveAppConfig,
  RegisterExecutor,
  LaunchedExecutor,
  FetchAppCode,
  StatusUpdate,
  ExecutorHeartbeat,
], { from: ['executor'] });
export type ExecutorToDriver = MessageOf<typeof ExecutorToDriver>;

// ---- Driver to executor (`Executor`) -------------------------------------------------------------------

export const LaunchTask = message('LaunchTask', {
  taskId: LongCount,
  jobId: LongCount,
  partition: Count,
  attempt: Count,
  source: TaskSource,
  ops: Type.Array(TaskOp, { maxItems: 1024 }),
  action: TaskAction,
});
export const KillTask = message('KillTask', { taskId: LongCount, reason: Str });
export const StopExecutor = message('StopExecutor', {});
/** Ask → TaskResultChunk. */
export const FetchTaskResult = message('FetchTaskResult', { taskId: LongCount, index: Count });
export const ReleaseTaskResult = message('ReleaseTaskResult', { taskId: LongCount });

export const DriverToExecutor = defineCatalog('DriverToExecutor', [
  LaunchTask,
  KillTask,
  StopExecutor,
  FetchTaskResult,
  ReleaseTaskResult,
], { from: ['app'] });
export type DriverToExecutor = MessageOf<typeof DriverToExecutor>;

// ---- Replies -------------------------------------------------------------------------------------------

export const AppConfigResponse = message('AppConfigResponse', {
  appId: Id,
  conf: Type.Record(Type.String({ maxLength: 256 }), Str),
  /** sha256 of the application bundle, hex. */
  codeHash: Id,
  codeBytes: LongCount,
});
export const AppCodeChunk = message('AppCodeChunk', { hash: Id, offset: LongCount, data: Bytes });
export const TaskResultChunk = message('TaskResultChunk', { taskId: LongCount, index: Count, data: Bytes });
export const HeartbeatResponse = message('HeartbeatResponse', { reregister: Type.Boolean() });
export const TaskBooleanResponse = message('BooleanResponse', { value: Type.Boolean() });

export const DriverReplies = defineCatalog('DriverReplies', [AppConfigResponse, AppCodeChunk, HeartbeatResponse, TaskBooleanResponse], {
  from: ['app'],
});
export type DriverReply = MessageOf<typeof DriverReplies>;
export const ExecutorReplies = defineCatalog('ExecutorReplies', [TaskResultChunk], { from: ['executor'] });
export type ExecutorReply = MessageOf<typeof ExecutorReplies>;

// ---- Partition results ---------------------------------------------------------------------------------

/**
 * What `StatusUpdate.result` (or the concatenated TaskResultChunks) decodes to, by the task's action (msgpack):
 * collect and take → an array of records; count → a number; fold → the folded value; foreach → null;
 * runJob → whatever `fn(records, partitionIndex)` returned (undefined becomes null);
 * reduce → a `ReducePartitionResult`: `[]` for an empty partition (the driver skips it, as Spark skips None)
 * and `[value]` otherwise, so that no record value can be mistaken for "empty".
 */
export type ReducePartitionResult<T> = readonly [] | readonly [T];
