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
import { ResourceAddresses } from './messages.ts';

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
/** A sampling seed: a 32-bit integer (the PRNG uses its low 32 bits). */
const Seed = integerIn({ min: -(2 ** 31), max: 2 ** 31 - 1 });
const EndpointAddress = Type.String({ minLength: 1, maxLength: 1024, pattern: '^(flint|spark|flint\\+client)://' });
/**
 * A task function: an export name of the application's main module, or the name the driver gave an inline
 * function (`app.ts:12#0`: its file and line, and a number), whose code and captured values the task's
 * `closures` carry.
 */
const FnRef = FnRefSchema();
function FnRefSchema() {
  return Type.String({ minLength: 1, maxLength: 256, pattern: '^(?:[A-Za-z_$][A-Za-z0-9_$]*|[^\\s#:]+:[0-9]+#[0-9]+)$' });
}

/**
 * An inline task function a task names (docs/applications.md, "Task functions"; Spark ships a closure with each
 * task the same way): `name` as the task's ops and action use it, `id` the factory the app bundle registered
 * for its code (src/io/bundle/transform-inline.ts), `captures` the msgpack-encoded values of what it captured
 * (src/task/closures.ts).
 */
export const InlineClosure = Type.Object(
  { name: FnRefSchema(), id: Type.String({ pattern: '^[0-9a-f]{16}$' }), captures: Bytes },
  { additionalProperties: false },
);
export type InlineClosure = Static<typeof InlineClosure>;

export const TaskState = Type.Union([
  Type.Literal('LAUNCHING'),
  Type.Literal('RUNNING'),
  Type.Literal('FINISHED'),
  Type.Literal('FAILED'),
  Type.Literal('KILLED'),
  Type.Literal('LOST'),
]);
export type TaskState = Static<typeof TaskState>;

/** Where one shuffle block is kept: the worker host, its shuffle service (the worker's RPC env) and the directory. */
export const ShuffleLocation = Type.Object(
  { host: Str, service: EndpointAddress, dir: Type.String({ minLength: 1, maxLength: 4096 }) },
  { additionalProperties: false },
);
export type ShuffleLocation = Static<typeof ShuffleLocation>;

/**
 * The combiner functions of a key-value aggregation (Spark's `Aggregator`): by export name, or built in
 * (`flint$…` names, src/shuffle/builtins.ts). Zero values are msgpack-encoded and decoded afresh for each key.
 */
export const AggregatorSpec = Type.Union([
  Type.Object({ kind: Type.Literal('reduce'), fn: FnRefSchema() }, { additionalProperties: false }),
  Type.Object({ kind: Type.Literal('fold'), fn: FnRefSchema(), zero: Bytes }, { additionalProperties: false }),
  Type.Object({ kind: Type.Literal('aggregate'), seqOp: FnRefSchema(), combOp: FnRefSchema(), zero: Bytes }, { additionalProperties: false }),
  Type.Object(
    { kind: Type.Literal('combine'), createCombiner: FnRefSchema(), mergeValue: FnRefSchema(), mergeCombiners: FnRefSchema() },
    { additionalProperties: false },
  ),
  Type.Object({ kind: Type.Literal('group') }, { additionalProperties: false }),
]);
export type AggregatorSpec = Static<typeof AggregatorSpec>;

/** One shuffle's blocks for this reduce partition: one per map task, with its size in bytes (0: skipped). */
export const ShuffleRead = Type.Object(
  {
    shuffleId: Count,
    reduceId: Count,
    blocks: Type.Array(
      Type.Object({ mapId: Count, location: Count, size: LongCount }, { additionalProperties: false }),
      { maxItems: 1_000_000 },
    ),
  },
  { additionalProperties: false },
);
export type ShuffleRead = Static<typeof ShuffleRead>;

/** How a reduce task turns the blocks it fetched into records. */
export const ShuffleReadMode = Type.Union([
  /** Records as written (`repartition`, `partitionBy`). */
  Type.Object({ kind: Type.Literal('plain') }, { additionalProperties: false }),
  /** `[key, combiner]` per key; `combined`: the map side already combined (its blocks hold combiners). */
  Type.Object({ kind: Type.Literal('aggregate'), aggregator: AggregatorSpec, combined: Type.Boolean() }, { additionalProperties: false }),
  /** Records sorted by key (`sortByKey`). */
  Type.Object({ kind: Type.Literal('sort'), ascending: Type.Boolean() }, { additionalProperties: false }),
  /** `[key, [values of read 0, values of read 1, …]]` (`cogroup`). */
  Type.Object({ kind: Type.Literal('cogroup') }, { additionalProperties: false }),
  /** `[key, [v, w]]` per pair of values of read 0 and read 1 (`join`; outer kinds pair a lone value with undefined). */
  Type.Object(
    { kind: Type.Literal('join'), how: Type.Union([Type.Literal('inner'), Type.Literal('left'), Type.Literal('right'), Type.Literal('full')]) },
    { additionalProperties: false },
  ),
]);
export type ShuffleReadMode = Static<typeof ShuffleReadMode>;

/** A byte range of a text file (Hadoop's FileSplit); a gzip file is read whole. */
export const FileSplitSource = Type.Object(
  {
    kind: Type.Literal('textFile'),
    path: Type.String({ minLength: 1, maxLength: 4096 }),
    start: LongCount,
    length: LongCount,
    gzip: Type.Boolean(),
    /** Parse each line as JSON (`jsonFile`). */
    json: Type.Boolean(),
  },
  { additionalProperties: false },
);

/** Where a partition's records come from. */
export const TaskSource = Type.Recursive((Self) =>
  Type.Union([
    /** A slice of a driver-side collection (`parallelize`), msgpack-encoded. */
    Type.Object({ kind: Type.Literal('slice'), data: Bytes }, { additionalProperties: false }),
    /** Integers `start, start+step, …` below `end` (`range`). */
    Type.Object(
      { kind: Type.Literal('range'), start: RangeValue, end: RangeValue, step: RangeValue },
      { additionalProperties: false },
    ),
    /** Lines of a part of a text file (`textFile`, `jsonFile`). */
    FileSplitSource,
    /** The blocks of one or more shuffles for this reduce partition. */
    Type.Object(
      {
        kind: Type.Literal('shuffle'),
        reads: Type.Array(ShuffleRead, { minItems: 1, maxItems: 64 }),
        locations: Type.Array(ShuffleLocation, { maxItems: 1_000_000 }),
        mode: ShuffleReadMode,
      },
      { additionalProperties: false },
    ),
    /**
     * A persisted dataset's partition (`persist`): its records from the executor's memory when it holds them,
     * else from `inner`, kept in memory as they pass.
     */
    Type.Object(
      {
        kind: Type.Literal('cache'),
        id: Count,
        partition: Count,
        inner: Type.Object({ source: Self, ops: Type.Array(TaskOpSchema(), { maxItems: 1024 }) }, { additionalProperties: false }),
      },
      { additionalProperties: false },
    ),
    /** Several parent partitions, one after the other, each with its own narrow ops (`coalesce`). */
    Type.Object(
      {
        kind: Type.Literal('concat'),
        parts: Type.Array(Type.Object({ source: Self, ops: Type.Array(TaskOpSchema(), { maxItems: 1024 }) }, { additionalProperties: false }), {
          minItems: 1,
          maxItems: 100_000,
        }),
      },
      { additionalProperties: false },
    ),
  ]),
  { $id: 'TaskSource' },
);
export type TaskSource = Static<typeof TaskSource>;

/** One narrow transformation, applied in order to the partition's records. */
function TaskOpSchema() {
  return Type.Union([
    Type.Object(
      {
        op: Type.Union([
          Type.Literal('map'),
          Type.Literal('filter'),
          Type.Literal('flatMap'),
          Type.Literal('mapPartitions'),
          /** On `[key, value]` records: the function sees the value (`mapValues`, `flatMapValues`). */
          Type.Literal('mapValues'),
          Type.Literal('flatMapValues'),
          /** `[fn(record), record]` (`keyBy`, and `sortBy` under it). */
          Type.Literal('keyBy'),
        ]),
        fn: FnRefSchema(),
      },
      { additionalProperties: false },
    ),
    /** `[record, start + i]` for the i-th record (`zipWithIndex`, with the partition's first index). */
    Type.Object({ op: Type.Literal('zipWithIndex'), start: LongCount }, { additionalProperties: false }),
    /** Spark's `sample`: Bernoulli (or Poisson, with replacement) sampling with a seed per partition. */
    Type.Object(
      { op: Type.Literal('sample'), withReplacement: Type.Boolean(), fraction: Type.Number({ minimum: 0, maximum: 1e9 }), seed: Seed },
      { additionalProperties: false },
    ),
  ]);
}
export const TaskOp = TaskOpSchema();
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
  /**
   * A shuffle map task (Spark's ShuffleMapTask): partition `[key, value]` records with `partitioner`, combine
   * them map-side with `aggregator` when given, write one data file and index to the worker's shuffle directory.
   * Its result is a `MapStatus` (shuffle/map-status.ts).
   */
  Type.Object(
    {
      kind: Type.Literal('shuffleWrite'),
      shuffleId: Count,
      partitioner: Type.Union([
        Type.Object({ kind: Type.Literal('hash'), partitions: Positive }, { additionalProperties: false }),
        /** `bounds`: the msgpack-encoded array of range bounds (RangePartitioner). */
        Type.Object({ kind: Type.Literal('range'), partitions: Positive, bounds: Bytes, ascending: Type.Boolean() }, { additionalProperties: false }),
      ]),
      aggregator: Type.Optional(AggregatorSpec),
    },
    { additionalProperties: false },
  ),
  /** A reservoir sample of the keys of `[key, value]` records, and their count (RangePartitioner's sketch). */
  Type.Object({ kind: Type.Literal('sampleKeys'), size: Count, seed: Seed }, { additionalProperties: false }),
  /** Write the records, one line each, as `part-NNNNN` of `dir` (committed by the driver when the job succeeds). */
  Type.Object(
    { kind: Type.Literal('save'), dir: Type.String({ minLength: 1, maxLength: 4096 }), format: Type.Union([Type.Literal('text'), Type.Literal('json')]) },
    { additionalProperties: false },
  ),
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
    /**
     * A shuffle block could not be read (Spark's FetchFailed): the map output at `location` (a shuffle service
     * address) is lost. The driver re-runs the map tasks that wrote there, then this stage; it never counts
     * toward the task's failures.
     */
    fetchFailed: Type.Optional(
      Type.Object({ shuffleId: Count, mapId: Count, service: EndpointAddress }, { additionalProperties: false }),
    ),
  },
  { additionalProperties: false },
);
export type TaskFailure = Static<typeof TaskFailure>;

export const TaskMetrics = Type.Object(
  {
    runTimeMs: RunTimeMs,
    resultBytes: LongCount,
    records: LongCount,
    /** The task's accumulator updates by name (src/api/shared-variables.ts), applied once if its result is kept. */
    accumulators: Type.Optional(
      Type.Record(Type.String({ minLength: 1, maxLength: 128 }), Type.Number({ minimum: Number.MIN_SAFE_INTEGER, maximum: Number.MAX_SAFE_INTEGER }), { maxProperties: 256 }),
    ),
  },
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
  /**
   * The custom-resource addresses this executor holds (its worker's `FLINT_RESOURCES`; Spark's
   * `RegisterExecutor.resources`): the driver hands them to tasks that ask for them. Absent: none.
   */
  resources: Type.Optional(ResourceAddresses),
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
/**
 * The executor process's own figures, which only it can measure (Spark's `ExecutorMetrics` in the heartbeat): the
 * driver exports them with an `executor_id` label (docs/metrics.md). Absent with `flint.metrics.enabled=false`.
 */
export const ExecutorFigures = Type.Object(
  {
    /** `process.memoryUsage().heapUsed`. */
    heapUsedBytes: LongCount,
    /** `process.memoryUsage().rss`. */
    rssBytes: LongCount,
    /** Time spent in garbage collection since the executor started (summed `gc` performance entries). */
    gcTimeMs: RunTimeMs,
  },
  { additionalProperties: false },
);
export type ExecutorFigures = Static<typeof ExecutorFigures>;

/** Ask → HeartbeatResponse, every `flint.executor.heartbeatInterval` (10 s). */
export const ExecutorHeartbeat = message('ExecutorHeartbeat', {
  executorId: Id,
  running: Type.Array(Type.Object({ taskId: LongCount, runTimeMs: RunTimeMs }, { additionalProperties: false })),
  figures: Type.Optional(ExecutorFigures),
});

/**
 * Most messages a task batch (LaunchTasks, StatusUpdates) carries. Batches are made by the senders' I/O
 * (src/daemons/send-batches.ts): messages of one kind to one peer that are ready in the same turn of the event loop.
 */
export const TASK_BATCH_MAX = 256;

/** Two or more StatusUpdates, in the order the executor's machine sent them. */
export const StatusUpdates = message('StatusUpdates', { updates: Type.Array(StatusUpdate, { minItems: 2, maxItems: TASK_BATCH_MAX }) });

export const ExecutorToDriver = defineCatalog('ExecutorToDriver', [
  RetrieveAppConfig,
  RegisterExecutor,
  LaunchedExecutor,
  FetchAppCode,
  StatusUpdate,
  StatusUpdates,
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
  /**
   * The broadcast variables set when the job was submitted. `data` (msgpack) comes with the first task an
   * executor gets that uses the value; later tasks name it only, and the executor reuses what it kept.
   */
  broadcasts: Type.Optional(
    Type.Array(
      Type.Object({ name: Type.String({ minLength: 1, maxLength: 128 }), id: Count, data: Type.Optional(Bytes) }, { additionalProperties: false }),
      { maxItems: 256 },
    ),
  ),
  /** The inline functions the task names, with their captured values. Absent: it names exported functions only. */
  closures: Type.Optional(Type.Array(InlineClosure, { maxItems: 1024 })),
  /**
   * The executor's addresses this task holds while it runs (`flint.task.resource.<name>.amount`; Spark's
   * `TaskDescription.resources`), read by `TaskContext.resources()`. Absent: the task asked for none.
   */
  resources: Type.Optional(ResourceAddresses),
});
/** Two or more LaunchTasks, in the order the driver's machine sent them. */
export const LaunchTasks = message('LaunchTasks', { tasks: Type.Array(LaunchTask, { minItems: 2, maxItems: TASK_BATCH_MAX }) });
export const KillTask = message('KillTask', { taskId: LongCount, reason: Str });
export const StopExecutor = message('StopExecutor', {});
/** Ask → TaskResultChunk. */
export const FetchTaskResult = message('FetchTaskResult', { taskId: LongCount, index: Count });
export const ReleaseTaskResult = message('ReleaseTaskResult', { taskId: LongCount });
/** Drop the cached partitions of persisted dataset `id` (unpersist; Spark's BlockManager `RemoveRdd`). */
export const RemoveCache = message('RemoveCache', { id: Count });
/** Delete this worker's map output of shuffle `shuffleId`: the driver no longer needs it (Spark's `RemoveShuffle`). */
export const RemoveShuffle = message('RemoveShuffle', { shuffleId: Count });

export const DriverToExecutor = defineCatalog('DriverToExecutor', [
  LaunchTask,
  LaunchTasks,
  KillTask,
  StopExecutor,
  FetchTaskResult,
  ReleaseTaskResult,
  RemoveCache,
  RemoveShuffle,
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
