// Evaluates one task: read the partition's source, apply the narrow ops in order, run the action, encode the
// partition's result. Pure apart from the functions it calls: the application's exports come through
// `env.resolve`, the codec is injected (the adapter passes recordCodec, record-codec.ts), and nothing here does I/O. It
// runs on a pool thread; the executor machine never calls it.
//
// Evaluation is lazy and pull-based (record-stream.ts): `take(n)` stops after n records, even on a range of a
// trillion. Every task function may be async; its promise is awaited before the next record is pulled, so
// records are processed one at a time, in order.
//
// The encoded result of each action (what the driver decodes from `StatusUpdate.result` or the fetched chunks):
//   collect, take → an array of records        count → a number          fold → the folded value
//   reduce → `[]` for an empty partition, `[value]` otherwise (the driver skips `[]`, as Spark skips None)
//   foreach → null                             runJob → whatever fn(records, partitionIndex) returned

import type { Static } from '@sinclair/typebox';
import type { AggregatorSpec, LaunchTask, TaskAction, TaskOp, TaskSource } from '../protocol/task-messages.ts';
import {
  PartitionRecords,
  arrayPull,
  checkedPull,
  filterPull,
  flatMapPull,
  isThenable,
  mapPartitionsPull,
  mapPull,
  pullOf,
  pushRecords,
  rangeCount,
  rangePull,
  STOP,
  type RecordPull,
  type Step,
  type TaskFn,
} from './record-stream.ts';
import { TaskFunctionNotFoundError, TaskInputError, TaskKilledError } from './task-errors.ts';
import { BUILTIN_FUNCTIONS } from './builtins.ts';
import { samplePull, zipWithIndexPull } from './sampling.ts';
import { mulberry32 } from '../kit/rng.ts';

export type LaunchTaskMessage = Static<typeof LaunchTask>;

/**
 * Encodes a partition's result and decodes slices and fold zeros. The adapters pass `recordCodec`
 * (record-codec.ts). `root` names the value in an encoding error's path: `records` for collect/take (so
 * `records[3]` is the partition's fourth record out), `result` for the other actions.
 */
export interface TaskCodec {
  encode(value: unknown, root?: string): Uint8Array;
  decode(bytes: Uint8Array): unknown;
  /** An encoded array's records, to be read by index; undefined for another value (record-codec.ts decodeRecordList). */
  decodeList?(bytes: Uint8Array): ArrayLike<unknown> | undefined;
  /** A list for collect to gather records in, which `encode` writes as their plain array (RecordList); absent: an array. */
  list?(): { push(record: unknown): void; encode(root?: string): Uint8Array };
}

/**
 * A kill flag in shared memory (the executor's task threads, task-thread.ts): the task is killed once
 * `flags[slot]` holds `id`. Read directly, not through a getter: a getter's call and its own state cost about
 * 10 ns a record, a read about 4 (docs/benchmarks.md, bench:shuffle).
 */
export interface AbortFlag {
  readonly flags: Int32Array;
  readonly slot: number;
  readonly id: number;
}

/** How often the check of an AbortFlag reads it atomically (see abortFlagCheck). */
const ATOMIC_READ_EVERY = 1024;

/**
 * The kill check of an AbortFlag: a plain read of the slot before every record. A plain read of memory that
 * nothing in the loop writes may be hoisted out of a loop the compiler sees whole, so every ATOMIC_READ_EVERY-th
 * read is atomic: a kill is seen at the next record, and in the worst case within that many.
 */
function abortFlagCheck({ flags, slot, id }: AbortFlag, taskId: number): () => void {
  let untilAtomicRead = ATOMIC_READ_EVERY;
  return () => {
    untilAtomicRead -= 1;
    if (untilAtomicRead > 0) {
      if (flags[slot] === id) throw new TaskKilledError(taskId);
      return;
    }
    untilAtomicRead = ATOMIC_READ_EVERY;
    if (Atomics.load(flags, slot) === id) throw new TaskKilledError(taskId);
  };
}

export interface TaskEnv {
  /** An export of the application's main module by name (re-exports included); undefined when absent. */
  resolve(name: string): unknown;
  readonly codec: TaskCodec;
  /**
   * Checked before every source record; once it says so, the task ends with TaskKilledError. An object with an
   * `aborted` boolean (an AbortSignal fits), or an AbortFlag in shared memory. A function stuck inside one
   * record is not reached: the pool must end its thread.
   */
  readonly signal?: { readonly aborted: boolean } | AbortFlag;
  /** The executor's file and shuffle I/O; only tasks that read or write files or shuffles need it. */
  readonly io?: TaskIo;
}

type ShuffleSource = Extract<TaskSource, { kind: 'shuffle' }>;
type FileSource = Extract<TaskSource, { kind: 'textFile' }>;

/**
 * What a task does with the disks and the network (src/io/executor/task-io.ts is the adapter): read a split
 * of a text file, open a reduce partition's shuffle blocks, write a map task's shuffle output, write a part
 * file of a dataset being saved.
 */
export interface TaskIo {
  /** The lines of a split (parsed as JSON when `json`), synchronously when the file allows it. */
  readFile(source: FileSource): Iterable<unknown> | AsyncIterable<unknown>;
  /** The records of a reduce partition (src/io/executor/shuffle-task.ts `openShuffle`). */
  openShuffle(source: ShuffleSource, resolve: (name: string) => TaskFn): Promise<Iterable<unknown> | AsyncIterable<unknown>>;
  /** Pulls every record into the shuffle writer; resolves with the map status to send to the driver. */
  writeShuffle(
    records: RecordPull<unknown>,
    action: Extract<TaskAction, { kind: 'shuffleWrite' }>,
    mapId: number,
    attemptId: number,
    resolve: (name: string) => TaskFn,
  ): Promise<{ readonly status: unknown; readonly records: number }>;
  /** A reservoir sample of the keys of `[key, value]` records, and their count. */
  sampleKeys(records: RecordPull<unknown>, size: number, seed: number): Promise<{ readonly count: number; readonly sample: unknown[] }>;
  /** A persisted dataset's partition kept in this executor's memory, or undefined. */
  cacheGet(id: number, partition: number): readonly unknown[] | undefined;
  /** Keeps a computed partition of a persisted dataset (the store may refuse or evict by its memory bound). */
  cachePut(id: number, partition: number, records: unknown[]): void;
  /** The part file of `partition` being saved in `dir`, written by this attempt. */
  openPart(dir: string, partition: number, attemptId: number, format: 'text' | 'json'): PartSink;
}

export interface PartSink {
  write(record: unknown): void;
  /** Makes the file this attempt's committed output; returns what the driver is told. */
  commit(): unknown;
  abort(): void;
}

export interface TaskOutput {
  /** The encoded partition result (see the table above). */
  readonly result: Uint8Array;
  /** Records that reached the action (for runJob: that fn pulled from its records). The `records` metric. */
  readonly records: number;
}

interface TaskFunctions {
  readonly ops: readonly TaskFn[];
  readonly action: TaskFn | undefined;
}

/** Resolves every function the task names before any record is read, so a missing export fails first. */
export function resolveTaskFunctions(task: LaunchTaskMessage, resolve: (name: string) => unknown): TaskFunctions {
  const lookup = (name: string, usedBy: string): TaskFn => {
    const found = BUILTIN_FUNCTIONS[name] ?? resolve(name);
    if (typeof found === 'function') return found as TaskFn;
    const what = found === undefined ? undefined : found === null ? 'null' : `a ${typeof found}`;
    throw new TaskFunctionNotFoundError(name, usedBy, what);
  };
  const ops = task.ops.map((op) => ('fn' in op ? lookup(op.fn, `${op.op}(${op.fn})`) : NO_FN));
  const action = 'fn' in task.action ? lookup(task.action.fn, `${task.action.kind}(${task.action.fn})`) : undefined;
  // Functions named by the source (a reduce side's combiners) and by a shuffle write's aggregator, checked now too.
  for (const name of namedFunctions(task)) lookup(name, `a key-value operation's ${name}`);
  return { ops, action };
}

const NO_FN: TaskFn = () => undefined;

function aggregatorFunctions(spec: AggregatorSpec | undefined): string[] {
  if (spec === undefined) return [];
  switch (spec.kind) {
    case 'reduce':
    case 'fold':
      return [spec.fn];
    case 'aggregate':
      return [spec.seqOp, spec.combOp];
    case 'combine':
      return [spec.createCombiner, spec.mergeValue, spec.mergeCombiners];
    case 'group':
      return [];
  }
}

function namedFunctions(task: LaunchTaskMessage): string[] {
  return nestedFunctionNames(task.source, task.action);
}

/**
 * Every function name a task uses: its ops', its action's, and those of the sources and aggregators inside it.
 * The driver sends the inline functions among them with the task (LaunchTask.closures).
 */
export function taskFunctionNames(task: { readonly source: TaskSource; readonly ops: readonly TaskOp[]; readonly action: TaskAction }): Set<string> {
  const names = new Set(nestedFunctionNames(task.source, task.action));
  for (const op of task.ops) if ('fn' in op) names.add(op.fn);
  if ('fn' in task.action) names.add(task.action.fn);
  return names;
}

function nestedFunctionNames(source: TaskSource, action: TaskAction): string[] {
  const names: string[] = action.kind === 'shuffleWrite' ? aggregatorFunctions(action.aggregator) : [];
  const visit = (source: TaskSource): void => {
    if (source.kind === 'shuffle' && source.mode.kind === 'aggregate') names.push(...aggregatorFunctions(source.mode.aggregator));
    const parts = source.kind === 'concat' ? source.parts : source.kind === 'cache' ? [source.inner] : [];
    for (const part of parts) {
      visit(part.source);
      for (const op of part.ops) if ('fn' in op) names.push(op.fn);
    }
  };
  visit(source);
  return names;
}

/** The task's functions by name: built-ins first, then the application's exports. */
function resolver(env: TaskEnv): (name: string) => TaskFn {
  return (name) => (BUILTIN_FUNCTIONS[name] ?? env.resolve(name)) as TaskFn;
}

export async function evaluateTask(task: LaunchTaskMessage, env: TaskEnv): Promise<TaskOutput> {
  const fns = resolveTaskFunctions(task, (name) => env.resolve(name));
  const signal = env.signal;
  const check =
    signal === undefined
      ? undefined
      : 'flags' in signal
        ? abortFlagCheck(signal, task.taskId)
        : (): void => {
            if (signal.aborted) throw new TaskKilledError(task.taskId);
          };
  check?.();
  if (task.action.kind === 'sampleKeys') {
    const sampled = await sampleKnownCount(task, task.action, fns.ops, env, check);
    if (sampled !== undefined) return sampled;
  }
  // A shuffle's blocks are read (and aggregated or sorted) before the pipeline starts: see openShuffle. The kill
  // check runs before every record of the source, whatever its kind.
  const pull = withOps(await openSource(task, task.source, env), task, fns.ops, check);
  const { value, records, encoded } = await runAction(task, task.action, pull, fns.action, env);
  const root = task.action.kind === 'collect' || task.action.kind === 'take' ? 'records' : 'result';
  return { result: encoded ?? env.codec.encode(value, root), records };
}

/** The task's ops applied to the records of its source, each source record checked first (`check`, the kill). */
function withOps(source: RecordPull<unknown>, task: LaunchTaskMessage, fns: ReadonlyArray<TaskFn | undefined>, check: (() => void) | undefined): RecordPull<unknown> {
  let pull = check === undefined ? source : checkedPull(source, check);
  task.ops.forEach((op, i) => {
    pull = applyOp(pull, op, fns[i] as TaskFn, task);
  });
  return pull;
}

// ---- Sampling a partition whose size is known ------------------------------------------------------------------

/**
 * The sampling stage of a range partitioner (sortByKey, partitionBy a range) over a partition whose records can
 * be counted without computing them, a `range` or a `slice`, with only `map`s after it: a uniform sample of
 * `size` of its indices, in order, and only those records computed. Spark's RangePartitioner.sketch computes
 * every record of the partition to sample it (a reservoir), which is a whole pass over the data before the
 * shuffle's own; the sample here has the same distribution (every `size`-subset equally likely) and the same
 * count. Undefined for any other partition: it is sampled by reading it all.
 *
 * A consequence, besides the time: the application's map functions run once per record for the shuffle, and
 * once more only for the sampled records (Spark: twice for every record), so an accumulator updated in them
 * counts most records once where Spark counts them twice.
 */
async function sampleKnownCount(
  task: LaunchTaskMessage,
  action: Extract<TaskAction, { kind: 'sampleKeys' }>,
  fns: ReadonlyArray<TaskFn | undefined>,
  env: TaskEnv,
  check: (() => void) | undefined,
): Promise<TaskOutput | undefined> {
  if (!task.ops.every((op) => op.op === 'map')) return undefined;
  const source = task.source;
  let count: number;
  let recordAt: (index: number) => unknown;
  if (source.kind === 'range') {
    const [start, end, step] = checkedRange(source); // the same checks, and errors, as a range read whole
    if (!Number.isSafeInteger(end - start)) return undefined;
    count = rangeCount(start, end, step);
    recordAt = (index) => start + index * step;
  } else if (source.kind === 'slice') {
    const items = sliceItems(source.data, env);
    count = items.length;
    recordAt = (index) => items[index];
  } else return undefined;
  const seed = sampleSeed(task, action);
  const pull = withOps(arrayPull(sampleIndices(count, action.size, seed).map(recordAt)), task, fns, check);
  const { sample } = await ioOf(env).sampleKeys(pull, action.size, seed);
  return { result: env.codec.encode({ sample, count }, 'result'), records: count };
}

/** The sampling seed of a partition: the stage's, offset by the partition, the same for every attempt. */
function sampleSeed(task: LaunchTaskMessage, action: Extract<TaskAction, { kind: 'sampleKeys' }>): number {
  return action.seed + task.partition;
}

/**
 * `k` distinct indices of `[0, n)`, every k-subset equally likely (Floyd's algorithm), in increasing order; all of
 * them when n ≤ k. Seeded: a retried task samples the same records.
 */
export function sampleIndices(n: number, k: number, seed: number): number[] {
  if (n <= k) return Array.from({ length: n }, (_, i) => i);
  const random = mulberry32(seed);
  const chosen = new Set<number>();
  for (let j = n - k; j < n; j += 1) {
    const t = Math.floor(random() * (j + 1));
    chosen.add(chosen.has(t) ? j : t);
  }
  return [...chosen].sort((a, b) => a - b);
}

// ---- Source and ops ------------------------------------------------------------------------------------------

function sliceItems(data: Uint8Array, env: TaskEnv): ArrayLike<unknown> {
  const { codec } = env;
  if (codec.decodeList !== undefined) {
    const list = codec.decodeList(data);
    if (list === undefined) throw new TaskInputError('A slice must decode to an array of records; it decoded to something else');
    return list;
  }
  const items = codec.decode(data);
  if (!Array.isArray(items)) throw new TaskInputError(`A slice must decode to an array of records; it decoded to ${typeof items}`);
  return items;
}

/** A range source's start, end and step, once checked: safe integers, and a step that is not 0. */
function checkedRange(source: Extract<TaskSource, { kind: 'range' }>): [start: number, end: number, step: number] {
  const { start, end, step } = source;
  for (const [name, value] of [['start', start], ['end', end], ['step', step]] as const) {
    if (!Number.isSafeInteger(value)) {
      throw new TaskInputError(`range ${name} must be a safe integer (|n| ≤ 2^53 − 1); got ${value}`);
    }
  }
  if (step === 0) throw new TaskInputError('range step must not be 0');
  return [start, end, step];
}

function sourcePull(task: LaunchTaskMessage, source: TaskSource, env: TaskEnv): RecordPull<unknown> {
  switch (source.kind) {
    case 'slice':
      return arrayPull(sliceItems(source.data, env));
    case 'range':
      return rangePull(...checkedRange(source));
    case 'textFile':
      return pullOf(ioOf(env).readFile(source), `textFile(${source.path})`);
    case 'shuffle':
      // Inside a concat (coalesce after a shuffle): opened lazily, when the concat reaches it.
      return pullOf(lazily(() => openShuffleSource(source, env)), 'a shuffle read');
    case 'cache':
      // Inside a concat or another cache: opened when reached.
      return pullOf(lazily(async () => pullIterable(await openSource(task, source, env))), 'a cached partition');
    case 'concat': {
      const parts = source.parts;
      let index = 0;
      let current: RecordPull<unknown> | undefined;
      const open = (): RecordPull<unknown> => {
        const part = parts[index] as (typeof parts)[number];
        let pull = sourcePull(task, part.source, env);
        for (const op of part.ops) pull = applyOp(pull, op, 'fn' in op ? resolver(env)(op.fn) : NO_FN, task);
        return pull;
      };
      const next = (): ReturnType<RecordPull<unknown>['next']> => {
        for (;;) {
          if (index >= parts.length) return { done: true };
          current ??= open();
          const step = current.next();
          if (isThenable(step)) {
            return Promise.resolve(step).then(async (s) => {
              if (!s.done) return s;
              await (current as RecordPull<unknown>).close();
              current = undefined;
              index += 1;
              return next();
            });
          }
          if (!step.done) return step;
          const closing = current.close();
          current = undefined;
          index += 1;
          if (isThenable(closing)) return Promise.resolve(closing).then(() => next());
        }
      };
      return {
        next,
        close: () => {
          index = parts.length;
          const c = current;
          current = undefined;
          return c?.close();
        },
      };
    }
    default: {
      const never: never = source;
      throw new TaskInputError(`unknown task source ${JSON.stringify(never)}`);
    }
  }
}

function pairOf(record: unknown, usedBy: string): readonly [unknown, unknown] {
  if (Array.isArray(record) && record.length === 2) return record as unknown as readonly [unknown, unknown];
  throw new TaskInputError(`${usedBy} needs [key, value] records (2-element arrays); got ${Array.isArray(record) ? `an array of ${record.length}` : typeof record}`);
}

/** `[key, value]` for each value a flatMapValues function gave, as an async iterable the pull understands. */
async function* flatMapValuesOf(key: unknown, values: RecordPull<unknown>): AsyncGenerator<unknown> {
  for (;;) {
    let s = values.next();
    if (isThenable(s)) s = await s;
    if (s.done) return;
    yield [key, s.value];
  }
}

/**
 * The task's own source, opened before any record is pulled: a shuffle read is fetched (and aggregated or
 * sorted) first, a cached partition is looked up, so the records then come synchronously when they can.
 */
async function openSource(task: LaunchTaskMessage, source: TaskSource, env: TaskEnv): Promise<RecordPull<unknown>> {
  if (source.kind === 'shuffle') return pullOf(await openShuffleSource(source, env), 'a shuffle read');
  if (source.kind !== 'cache') return sourcePull(task, source, env);
  const io = ioOf(env);
  const hit = io.cacheGet(source.id, source.partition);
  if (hit !== undefined) return arrayPull(hit);
  let pull = await openSource(task, source.inner.source, env);
  for (const op of source.inner.ops) pull = applyOp(pull, op, 'fn' in op ? resolver(env)(op.fn) : NO_FN, task);
  return keepingRecords(pull, (records) => io.cachePut(source.id, source.partition, records));
}

/** Passes the records on and, once the last has passed (not when the task stops early), hands them all to `done`. */
function keepingRecords(up: RecordPull<unknown>, done: (records: unknown[]) => void): RecordPull<unknown> {
  const kept: unknown[] = [];
  const see = (s: Step<unknown>): Step<unknown> => {
    if (s.done) done(kept);
    else kept.push(s.value);
    return s;
  };
  return {
    next() {
      const s = up.next();
      return isThenable(s) ? Promise.resolve(s).then(see) : see(s);
    },
    close: () => up.close(),
  };
}

function openShuffleSource(source: ShuffleSource, env: TaskEnv): Promise<Iterable<unknown> | AsyncIterable<unknown>> {
  return ioOf(env).openShuffle(source, resolver(env));
}

async function* pullIterable(pull: RecordPull<unknown>): AsyncGenerator<unknown> {
  try {
    for (;;) {
      let s = pull.next();
      if (isThenable(s)) s = await s;
      if (s.done) return;
      yield s.value;
    }
  } finally {
    await pull.close();
  }
}

async function* lazily(open: () => Promise<Iterable<unknown> | AsyncIterable<unknown>>): AsyncGenerator<unknown> {
  yield* await open();
}

function ioOf(env: TaskEnv): TaskIo {
  if (env.io === undefined) throw new TaskInputError('this executor cannot read or write files or shuffles: it was started without a worker (no --worker-url)');
  return env.io;
}

function applyOp(up: RecordPull<unknown>, op: TaskOp, fn: TaskFn, task: LaunchTaskMessage): RecordPull<unknown> {
  if (op.op === 'zipWithIndex') return zipWithIndexPull(up, op.start);
  if (op.op === 'sample') return samplePull(up, op.withReplacement, op.fraction, op.seed + task.partition);
  const usedBy = `${op.op}(${op.fn})`;
  switch (op.op) {
    case 'map':
      return mapPull(up, fn);
    case 'filter':
      return filterPull(up, fn);
    case 'flatMap':
      return flatMapPull(up, fn, usedBy);
    case 'mapPartitions':
      return mapPartitionsPull(up, fn, usedBy, task.partition);
    case 'mapValues':
      return mapPull(up, (pair) => {
        const [k, v] = pairOf(pair, usedBy);
        const out = fn(v);
        return isThenable(out) ? Promise.resolve(out).then((w) => [k, w]) : [k, out];
      });
    case 'flatMapValues':
      return flatMapPull(
        up,
        (pair) => {
          const [k, v] = pairOf(pair, usedBy);
          const out = fn(v);
          const pairs = (values: unknown): unknown =>
            Array.isArray(values) ? values.map((v: unknown) => [k, v]) : flatMapValuesOf(k, pullOf(values, usedBy));
          return isThenable(out) ? Promise.resolve(out).then(pairs) : pairs(out);
        },
        usedBy,
      );
    case 'keyBy':
      return mapPull(up, (record) => {
        const key = fn(record);
        return isThenable(key) ? Promise.resolve(key).then((k) => [k, record]) : [key, record];
      });
    default: {
      const never: never = op;
      throw new TaskInputError(`unknown op ${JSON.stringify(never)}`);
    }
  }
}

// ---- Actions -------------------------------------------------------------------------------------------------

/**
 * Hands records to `visit` until the source ends or `visit` returns STOP; awaits only thenables. The pipeline
 * pushes them when every stage can (record-stream.ts, RecordPull.push), else they are pulled. Closes the
 * pipeline on the way out (quietly when it is already failing). Returns how many records were visited.
 */
async function drain(pull: RecordPull<unknown>, visit: (record: unknown) => unknown): Promise<number> {
  let visited = 0;
  try {
    const pushed = pushRecords(pull, (record) => {
      visited += 1;
      return visit(record);
    });
    if (isThenable(pushed)) await pushed;
  } catch (err) {
    await closeQuietly(pull);
    throw err;
  }
  await pull.close();
  return visited;
}

async function closeQuietly(pull: RecordPull<unknown>): Promise<void> {
  try {
    await pull.close();
  } catch {
    // The task is already failing with a more useful error.
  }
}

/** Calls `fn(acc, record)` for every record, keeping the (awaited) result as the accumulator. */
async function aggregate(pull: RecordPull<unknown>, fn: TaskFn, first: { has: boolean; acc: unknown }) {
  const state = first;
  const records = await drain(pull, (record) => {
    if (!state.has) {
      state.has = true;
      state.acc = record;
      return undefined;
    }
    const next = fn(state.acc, record);
    if (!isThenable(next)) {
      state.acc = next;
      return undefined;
    }
    return Promise.resolve(next).then((value) => {
      state.acc = value;
    });
  });
  return { state, records };
}

async function runAction(
  task: LaunchTaskMessage,
  action: TaskAction,
  pull: RecordPull<unknown>,
  fn: TaskFn | undefined,
  env: TaskEnv,
): Promise<{ value: unknown; records: number; encoded?: Uint8Array }> {
  const codec = env.codec;
  switch (action.kind) {
    case 'shuffleWrite': {
      const { status, records } = await ioOf(env).writeShuffle(pull, action, task.partition, task.taskId, resolver(env));
      return { value: status, records };
    }
    case 'sampleKeys': {
      const sketch = await ioOf(env).sampleKeys(pull, action.size, sampleSeed(task, action));
      return { value: sketch, records: sketch.count };
    }
    case 'save': {
      const part = ioOf(env).openPart(action.dir, task.partition, task.taskId, action.format);
      try {
        const records = await drain(pull, (record) => part.write(record));
        return { value: part.commit(), records };
      } catch (err) {
        part.abort();
        throw err;
      }
    }
    case 'collect': {
      const list = codec.list?.();
      if (list !== undefined) {
        const records = await drain(pull, (record) => void list.push(record));
        return { value: undefined, encoded: list.encode('records'), records };
      }
      const out: unknown[] = [];
      const records = await drain(pull, (record) => void out.push(record));
      return { value: out, records };
    }
    case 'count': {
      const records = await drain(pull, () => undefined);
      return { value: records, records };
    }
    case 'take': {
      const out: unknown[] = [];
      if (action.n === 0) {
        await pull.close();
        return { value: out, records: 0 };
      }
      const records = await drain(pull, (record) => (out.push(record) >= action.n ? STOP : undefined));
      return { value: out, records };
    }
    case 'reduce': {
      const { state, records } = await aggregate(pull, fn as TaskFn, { has: false, acc: undefined });
      return { value: state.has ? [state.acc] : [], records };
    }
    case 'fold': {
      const { state, records } = await aggregate(pull, fn as TaskFn, { has: true, acc: codec.decode(action.zero) });
      return { value: state.acc, records };
    }
    case 'foreach': {
      const each = fn as TaskFn;
      const records = await drain(pull, (record) => each(record));
      return { value: null, records };
    }
    case 'runJob': {
      const view = new PartitionRecords(pull, `runJob(${action.fn})`);
      try {
        const value = await (fn as TaskFn)(view, task.partition);
        await pull.close();
        return { value: value === undefined ? null : value, records: view.count };
      } catch (err) {
        await closeQuietly(pull);
        throw err;
      }
    }
    default: {
      const never: never = action;
      throw new TaskInputError(`unknown task action ${JSON.stringify(never)}`);
    }
  }
}
