// Dataset<T>: a distributed collection described by its partitions' plans (plan.ts): where each partition's
// records come from and the narrow transformations applied to them (Spark's RDD). Transformations are lazy and
// return a new Dataset; key-value operations (`reduceByKey`, `join`, `sortByKey`, …) cut the lineage at a
// shuffle; actions run one job, whose stages the DAG runner (dag-runner.ts) runs in order of dependency, and
// bring the results to the driver (or, for `saveAsTextFile`, write them from the executors).
//
// Functions passed to transformations and actions run on executors, which find them by the name the app's
// main module exports them under: `ds.map(square)` works when the app has `export function square`. A
// function that is not exported is refused here, on the driver, before anything runs. The functions of
// key-value operations (combiners, `reduceByKey`'s function) must be synchronous (docs/applications.md).

import { resolve as resolvePath } from 'node:path';
import type { AggregatorSpec, ShuffleReadMode, TaskAction, TaskOp } from '../protocol/task-messages.ts';
import { concatRecordLists, decodeRecord, encodeRecord } from '../task/index.ts';
import { abortJob, checkOutputDir, commitJob, setupJob } from '../io/dataset-files/index.ts';
import type { FlintContext } from './context.ts';
import { HashPartitioner, RangePartitioner, checkPartitions, type Partitioner } from './partitioner.ts';
import { CacheRef, IndexDependency, type ShuffleDependency, type PartitionPlan, type PartitionerPlan, type PlanOp } from './plan.ts';

/** Records of one partition as task functions see them: iterate with `for … of` or `for await … of`. */
export type PartitionRecords<T> = Iterable<T> & AsyncIterable<T>;

type Maybe<T> = T | Promise<T>;

export class Dataset<T> {
  readonly context: FlintContext;
  /** @internal How each partition is computed. */
  readonly plans: readonly PartitionPlan[];
  /** @internal How the records are partitioned by key, when a shuffle made this dataset (or kept it). */
  readonly partitioner: PartitionerPlan | undefined;

  /** Set while the dataset is persisted; every dataset derived from it passes its records through it. */
  readonly #cache = new CacheRef();

  /** @internal Use `flint.parallelize`, `flint.range` or `flint.textFile`. */
  constructor(context: FlintContext, plans: readonly PartitionPlan[], partitioner?: PartitionerPlan) {
    this.context = context;
    const ref = this.#cache;
    this.plans = plans.map((plan, partition) => ({ ...plan, cachePoints: [...(plan.cachePoints ?? []), { at: plan.ops.length, ref, partition }] }));
    this.partitioner = partitioner;
  }

  /**
   * Keeps each partition's records in the memory of the executor that computes it, the first time an action
   * needs it; later jobs read them from there, on that executor (Spark's `persist(MEMORY_ONLY)`). Applies to
   * datasets already derived from this one too. A partition that does not fit in the executor's storage
   * memory, or whose executor is lost, is computed again when needed. Returns this dataset.
   */
  persist(): this {
    this.#cache.id ??= this.context.newCacheId();
    return this;
  }

  /** The same as persist(). */
  cache(): this {
    return this.persist();
  }

  /** Drops the cached partitions from the executors' memory; later jobs compute them again. */
  unpersist(): this {
    const id = this.#cache.id;
    if (id === undefined) return this;
    this.#cache.id = undefined;
    this.context.dropCache(id);
    return this;
  }

  /** Whether persist() is in effect. */
  get isPersisted(): boolean {
    return this.#cache.id !== undefined;
  }

  get numPartitions(): number {
    return this.plans.length;
  }

  // ---- Narrow transformations -------------------------------------------------------------------------------

  map<U>(fn: (record: T) => Maybe<U>): Dataset<U> {
    return this.#with('map', fn);
  }

  filter(fn: (record: T) => Maybe<boolean>): Dataset<T> {
    return this.#with('filter', fn);
  }

  flatMap<U>(fn: (record: T) => Maybe<Iterable<U> | AsyncIterable<U>>): Dataset<U> {
    return this.#with('flatMap', fn);
  }

  mapPartitions<U>(fn: (records: PartitionRecords<T>, partition: number) => Maybe<Iterable<U> | AsyncIterable<U>>): Dataset<U> {
    return this.#with('mapPartitions', fn);
  }

  /** `[fn(record), record]` for each record. */
  keyBy<K>(fn: (record: T) => Maybe<K>): Dataset<[K, T]> {
    return this.#with('keyBy', fn);
  }

  /** Applies `fn` to the value of each `[key, value]`; the partitioning by key is kept. */
  mapValues<K, V, W>(this: Dataset<[K, V]>, fn: (value: V) => Maybe<W>): Dataset<[K, W]> {
    return this.#with('mapValues', fn, true);
  }

  /** `[key, w]` for each `w` of `fn(value)`; the partitioning by key is kept. */
  flatMapValues<K, V, W>(this: Dataset<[K, V]>, fn: (value: V) => Maybe<Iterable<W> | AsyncIterable<W>>): Dataset<[K, W]> {
    return this.#with('flatMapValues', fn, true);
  }

  keys<K, V>(this: Dataset<[K, V]>): Dataset<K> {
    return this.#builtin<K>('map', 'flint$key');
  }

  values<K, V>(this: Dataset<[K, V]>): Dataset<V> {
    return this.#builtin<V>('map', 'flint$value');
  }

  /** Bernoulli sampling of about `fraction` of the records (Poisson, allowing repeats, `withReplacement`). */
  sample(withReplacement: boolean, fraction: number, seed: number = Math.floor(Math.random() * 2 ** 31)): Dataset<T> {
    if (!(fraction >= 0) || (!withReplacement && fraction > 1)) {
      throw new RangeError(`sample(): fraction must be ≥ 0${withReplacement ? '' : ' and ≤ 1 without replacement'}, got ${fraction}`);
    }
    if (!Number.isSafeInteger(seed)) throw new RangeError(`sample(): seed must be a whole number, got ${seed}`);
    return this.#withOp({ op: 'sample', withReplacement, fraction, seed: seed | 0 });
  }

  /** Both datasets' partitions, this one's first (no shuffle). */
  union(other: Dataset<T>): Dataset<T> {
    this.#sameContext(other, 'union');
    return new Dataset<T>(this.context, [...this.plans, ...other.plans]);
  }

  /**
   * `[record, index]`, numbering the records in partition order from 0. Counting the partitions first takes
   * one job (as in Spark), run before the first action on the result.
   */
  zipWithIndex(): Dataset<[T, number]> {
    const dep = new IndexDependency(this.plans);
    return new Dataset<[T, number]>(
      this.context,
      this.plans.map((plan, partition) => ({ ...plan, ops: [...plan.ops, { op: 'zipWithIndexOf', dep, partition }] })),
    );
  }

  /**
   * `numPartitions` partitions. Without `shuffle`, neighbouring partitions are joined (no data moves, so only
   * fewer partitions are possible); with it, records are spread evenly over the new partitions.
   */
  coalesce(numPartitions: number, shuffle = false): Dataset<T> {
    checkPartitions(numPartitions, 'coalesce');
    if (shuffle) return this.repartition(numPartitions);
    const n = Math.min(numPartitions, this.plans.length);
    if (n === this.plans.length) return this;
    const groups: PartitionPlan[] = [];
    for (let i = 0; i < n; i++) {
      const parts = this.plans.slice(Math.floor((i * this.plans.length) / n), Math.floor(((i + 1) * this.plans.length) / n));
      groups.push({ source: { kind: 'concatPlans', parts }, ops: [] });
    }
    return new Dataset<T>(this.context, groups);
  }

  /** Spreads the records evenly over `numPartitions` partitions, through a shuffle (Spark's repartition). */
  repartition(numPartitions: number): Dataset<T> {
    checkPartitions(numPartitions, 'repartition');
    // Spark's distributePartition: each record keyed by its position, from a different start per partition.
    const keyed = new Dataset<[number, T]>(
      this.context,
      this.plans.map((plan, p) => ({ ...plan, ops: [...plan.ops, { op: 'zipWithIndex', start: p * 7_919 }, { op: 'map', fn: 'flint$swap' }] })),
    );
    return keyed.#shuffled<[number, T]>({ kind: 'hash', partitions: numPartitions }, undefined, { kind: 'plain' }, 'repartition').values();
  }

  // ---- Key-value operations (shuffles) -----------------------------------------------------------------------

  /** `[key, records]` partitioned by `partitioner` (a number means a HashPartitioner of that many). */
  partitionBy<K, V>(this: Dataset<[K, V]>, partitioner: number | Partitioner): Dataset<[K, V]> {
    const plan = partitionerPlan(partitioner);
    if (plan.kind === 'hash' && this.partitioner?.kind === 'hash' && this.partitioner.partitions === plan.partitions) return this;
    const mode: ShuffleReadMode = plan.kind === 'range' ? { kind: 'sort', ascending: plan.ascending } : { kind: 'plain' };
    return this.#shuffled<[K, V]>(plan, undefined, mode, 'partitionBy');
  }

  /** Merges the values of each key with `fn` (associative and commutative), combining on the map side first. */
  reduceByKey<K, V>(this: Dataset<[K, V]>, fn: (a: V, b: V) => V, numPartitions?: number): Dataset<[K, V]> {
    const spec: AggregatorSpec = { kind: 'reduce', fn: this.context.exportName(fn, 'reduceByKey') };
    return this.#aggregated(spec, true, numPartitions, `reduceByKey(${spec.fn})`);
  }

  /** As reduceByKey, starting each key from `zero` (copied for each key). */
  foldByKey<K, V>(this: Dataset<[K, V]>, zero: V, fn: (a: V, b: V) => V, numPartitions?: number): Dataset<[K, V]> {
    const spec: AggregatorSpec = { kind: 'fold', fn: this.context.exportName(fn, 'foldByKey'), zero: encodeRecord(zero, 'zero') };
    return this.#aggregated(spec, true, numPartitions, `foldByKey(${spec.fn})`);
  }

  /** Spark's aggregateByKey: `seqOp` folds a value into a key's accumulator, `combOp` merges two accumulators. */
  aggregateByKey<K, V, U>(this: Dataset<[K, V]>, zero: U, seqOp: (acc: U, value: V) => U, combOp: (a: U, b: U) => U, numPartitions?: number): Dataset<[K, U]> {
    const spec: AggregatorSpec = {
      kind: 'aggregate',
      seqOp: this.context.exportName(seqOp, 'aggregateByKey'),
      combOp: this.context.exportName(combOp, 'aggregateByKey'),
      zero: encodeRecord(zero, 'zero'),
    };
    return this.#aggregated(spec, true, numPartitions, `aggregateByKey(${spec.seqOp}, ${spec.combOp})`);
  }

  /** Spark's combineByKey, the general form of the aggregations above. */
  combineByKey<K, V, C>(
    this: Dataset<[K, V]>,
    createCombiner: (value: V) => C,
    mergeValue: (combiner: C, value: V) => C,
    mergeCombiners: (a: C, b: C) => C,
    numPartitions?: number,
    mapSideCombine = true,
  ): Dataset<[K, C]> {
    const spec: AggregatorSpec = {
      kind: 'combine',
      createCombiner: this.context.exportName(createCombiner, 'combineByKey'),
      mergeValue: this.context.exportName(mergeValue, 'combineByKey'),
      mergeCombiners: this.context.exportName(mergeCombiners, 'combineByKey'),
    };
    return this.#aggregated(spec, mapSideCombine, numPartitions, `combineByKey(${spec.createCombiner})`);
  }

  /** `[key, values]` for each key. No map-side combining (it would not shrink anything), as in Spark. */
  groupByKey<K, V>(this: Dataset<[K, V]>, numPartitions?: number): Dataset<[K, V[]]> {
    return this.#aggregated({ kind: 'group' }, false, numPartitions, 'groupByKey');
  }

  /** Each distinct record once. */
  distinct(numPartitions?: number): Dataset<T> {
    const pairs = this.#builtin<[T, null]>('map', 'flint$withNull');
    return pairs.#aggregated<[T, null]>({ kind: 'reduce', fn: 'flint$first' }, true, numPartitions ?? this.numPartitions, 'distinct').keys();
  }

  /** `[key, [values of this, values of other]]` for every key of either. */
  cogroup<K, V, W>(this: Dataset<[K, V]>, other: Dataset<[K, W]>, numPartitions?: number): Dataset<[K, [V[], W[]]]> {
    return this.#coPartitioned<[K, [V[], W[]]]>(other, { kind: 'cogroup' }, numPartitions, 'cogroup');
  }

  /** `[key, [v, w]]` for every pair of values of a key present in both (an inner join). */
  join<K, V, W>(this: Dataset<[K, V]>, other: Dataset<[K, W]>, numPartitions?: number): Dataset<[K, [V, W]]> {
    return this.#coPartitioned(other, { kind: 'join', how: 'inner' }, numPartitions, 'join');
  }

  /** As join, keeping keys only this dataset has, with `undefined` for the missing value. */
  leftOuterJoin<K, V, W>(this: Dataset<[K, V]>, other: Dataset<[K, W]>, numPartitions?: number): Dataset<[K, [V, W | undefined]]> {
    return this.#coPartitioned(other, { kind: 'join', how: 'left' }, numPartitions, 'leftOuterJoin');
  }

  rightOuterJoin<K, V, W>(this: Dataset<[K, V]>, other: Dataset<[K, W]>, numPartitions?: number): Dataset<[K, [V | undefined, W]]> {
    return this.#coPartitioned(other, { kind: 'join', how: 'right' }, numPartitions, 'rightOuterJoin');
  }

  fullOuterJoin<K, V, W>(this: Dataset<[K, V]>, other: Dataset<[K, W]>, numPartitions?: number): Dataset<[K, [V | undefined, W | undefined]]> {
    return this.#coPartitioned(other, { kind: 'join', how: 'full' }, numPartitions, 'fullOuterJoin');
  }

  /** This dataset and `other` shuffled by one hash partitioner and read together in `mode` (cogroup or a join). */
  #coPartitioned<R>(other: Dataset<unknown>, mode: Extract<ShuffleReadMode, { kind: 'cogroup' | 'join' }>, numPartitions: number | undefined, operation: string): Dataset<R> {
    this.#sameContext(other, operation);
    const partitions = numPartitions ?? this.#defaultPartitions(Math.max(this.numPartitions, other.numPartitions));
    checkPartitions(partitions, operation);
    const partitioner: PartitionerPlan = { kind: 'hash', partitions };
    const deps = [this.#dependency(partitioner, undefined, operation), other.#dependency(partitioner, undefined, operation)];
    const plans: PartitionPlan[] = Array.from({ length: partitions }, (_, reduceId) => ({ source: { kind: 'shuffled', deps, reduceId, mode }, ops: [] }));
    return new Dataset<R>(this.context, plans, partitioner);
  }

  /**
   * Sorted by key (docs/applications.md gives the order of keys of mixed types), across partitions: partition
   * i holds keys before those of partition i + 1. The key ranges come from a sample of the data, as Spark's.
   */
  sortByKey<K, V>(this: Dataset<[K, V]>, ascending = true, numPartitions: number = this.numPartitions): Dataset<[K, V]> {
    checkPartitions(numPartitions, 'sortByKey');
    return this.#shuffled<[K, V]>({ kind: 'range', partitions: numPartitions, ascending }, undefined, { kind: 'sort', ascending }, 'sortByKey');
  }

  /** Sorted by `fn(record)`. */
  sortBy<K>(fn: (record: T) => K, ascending = true, numPartitions: number = this.numPartitions): Dataset<T> {
    return this.keyBy(fn).sortByKey(ascending, numPartitions).values();
  }

  // ---- Actions -----------------------------------------------------------------------------------------------

  /** Every record, in partition order. */
  async collect(): Promise<T[]> {
    // Each partition's records go straight into the one array (record-codec.ts concatRecordLists).
    const encoded = (await this.context.submitTasks(this as Dataset<unknown>, { kind: 'collect' }, undefined, true)) as Uint8Array[];
    return concatRecordLists(encoded) as T[];
  }

  async count(): Promise<number> {
    const counts = (await this.context.submitTasks(this as Dataset<unknown>, { kind: 'count' })) as number[];
    return counts.reduce((a, b) => a + b, 0);
  }

  /** How many records each key has, on the driver. */
  async countByKey<K, V>(this: Dataset<[K, V]>): Promise<Map<K, number>> {
    const counted = this.#builtin<[K, number]>('mapValues', 'flint$one').#aggregated<[K, number]>({ kind: 'reduce', fn: 'flint$add' }, true, undefined, 'countByKey');
    return new Map(await counted.collect());
  }

  /** The records as a Map, on the driver (a later value of a key wins). */
  async collectAsMap<K, V>(this: Dataset<[K, V]>): Promise<Map<K, V>> {
    return new Map(await this.collect());
  }

  /** Combines the records with `fn`, which must be associative and commutative. Fails on an empty dataset. */
  async reduce(fn: (a: T, b: T) => Maybe<T>): Promise<T> {
    const name = this.context.exportName(fn, 'reduce');
    const parts = (await this.context.submitTasks(this as Dataset<unknown>, { kind: 'reduce', fn: name })) as Array<[] | [T]>;
    let acc: { value: T } | undefined;
    for (const part of parts) {
      if (part.length === 0) continue;
      acc = acc === undefined ? { value: part[0] } : { value: await fn(acc.value, part[0]) };
    }
    if (acc === undefined) throw new Error('reduce() of an empty dataset: it has no records (use fold with a zero value)');
    return acc.value;
  }

  /**
   * Folds each partition from `zero`, then the partition results from `zero`, as Spark's fold. A `zero` that
   * cannot be sent to executors (docs/applications.md, "Records") throws RecordEncodeError from this call,
   * synchronously, before any job runs.
   */
  fold(zero: T, fn: (a: T, b: T) => Maybe<T>): Promise<T> {
    const encodedZero = encodeRecord(zero, 'zero');
    return this.#fold(zero, encodedZero, fn);
  }

  async #fold(zero: T, encodedZero: Uint8Array, fn: (a: T, b: T) => Maybe<T>): Promise<T> {
    const name = this.context.exportName(fn, 'fold');
    const parts = (await this.context.submitTasks(this as Dataset<unknown>, { kind: 'fold', fn: name, zero: encodedZero })) as T[];
    let acc = zero;
    for (const part of parts) acc = await fn(acc, part);
    return acc;
  }

  /**
   * The first `n` records, scanning one partition first and then more at a time (Spark's take: up to four
   * times as many partitions as scanned so far).
   */
  async take(n: number): Promise<T[]> {
    if (!Number.isSafeInteger(n) || n < 0) throw new RangeError(`take(n) needs a whole number ≥ 0, got ${n}`);
    const out: T[] = [];
    let scanned = 0;
    while (out.length < n && scanned < this.plans.length) {
      const batch = scanned === 0 ? 1 : Math.min(scanned * 4, this.plans.length - scanned);
      const ids = Array.from({ length: Math.min(batch, this.plans.length - scanned) }, (_, i) => scanned + i);
      const parts = (await this.context.submitTasks(this as Dataset<unknown>, { kind: 'take', n: n - out.length }, ids)) as T[][];
      for (const part of parts) for (const record of part) if (out.length < n) out.push(record);
      scanned += ids.length;
    }
    return out;
  }

  /** Runs `fn` on every record, on the executors (for its side effects there). */
  async foreach(fn: (record: T) => unknown): Promise<void> {
    const name = this.context.exportName(fn, 'foreach');
    await this.context.submitTasks(this as Dataset<unknown>, { kind: 'foreach', fn: name });
  }

  /**
   * Writes each partition as a text file `part-NNNNN` in `dir`, one line per record (`String(record)`), from
   * the executors. The output appears only when every task succeeded, with a `_SUCCESS` marker; a failed job
   * leaves nothing. `dir` must not exist or be empty, and executors and driver must see the same file system.
   */
  saveAsTextFile(dir: string): Promise<void> {
    return this.#save(dir, 'text');
  }

  /** As saveAsTextFile, one JSON document per line (read it back with `flint.jsonFile`). */
  saveAsJsonFile(dir: string): Promise<void> {
    return this.#save(dir, 'json');
  }

  async #save(dir: string, format: 'text' | 'json'): Promise<void> {
    const path = resolvePath(dir);
    checkOutputDir(path);
    const action: TaskAction = { kind: 'save', dir: path, format };
    try {
      setupJob(path);
      await this.context.submitTasks(this as Dataset<unknown>, action, undefined, true);
    } catch (err) {
      abortJob(path);
      throw err;
    }
    commitJob(path, this.plans.length);
  }

  // ---- Building ------------------------------------------------------------------------------------------------

  #with<U>(op: Extract<TaskOp, { fn: string }>['op'], fn: unknown, keepsPartitioner = false): Dataset<U> {
    const name = this.context.exportName(fn, op);
    return this.#withOp({ op, fn: name }, keepsPartitioner);
  }

  #builtin<U>(op: Extract<TaskOp, { fn: string }>['op'], name: string, keepsPartitioner = false): Dataset<U> {
    return this.#withOp({ op, fn: name }, keepsPartitioner);
  }

  #withOp<U>(op: PlanOp, keepsPartitioner = false): Dataset<U> {
    return new Dataset<U>(
      this.context,
      this.plans.map((plan) => ({ ...plan, ops: [...plan.ops, op] })),
      keepsPartitioner ? this.partitioner : undefined,
    );
  }

  #sameContext(other: Dataset<unknown>, what: string): void {
    if (other.context !== this.context) throw new Error(`${what}: both datasets must belong to the same FlintContext`);
  }

  /** Spark's defaultPartitioner: `flint.default.parallelism` when set, else the larger parent's partitions. */
  #defaultPartitions(parents: number): number {
    return this.context.conf.has('flint.default.parallelism') ? this.context.defaultParallelism : Math.max(1, parents);
  }

  #dependency(partitioner: PartitionerPlan, mapSide: AggregatorSpec | undefined, label: string): ShuffleDependency {
    return this.context.newShuffle(this.plans, partitioner, mapSide, label);
  }

  #shuffled<U>(partitioner: PartitionerPlan, mapSide: AggregatorSpec | undefined, mode: ShuffleReadMode, label: string): Dataset<U> {
    const dep = this.#dependency(partitioner, mapSide, label);
    const plans: PartitionPlan[] = Array.from({ length: partitioner.partitions }, (_, reduceId) => ({
      source: { kind: 'shuffled', deps: [dep], reduceId, mode },
      ops: [],
    }));
    return new Dataset<U>(this.context, plans, partitioner);
  }

  #aggregated<U>(spec: AggregatorSpec, mapSideCombine: boolean, numPartitions: number | undefined, label: string): Dataset<U> {
    const partitions = numPartitions ?? this.#defaultPartitions(this.numPartitions);
    checkPartitions(partitions, label);
    const partitioner: PartitionerPlan = { kind: 'hash', partitions };
    const mode: ShuffleReadMode = { kind: 'aggregate', aggregator: spec, combined: mapSideCombine };
    return this.#shuffled<U>(partitioner, mapSideCombine ? spec : undefined, mode, label);
  }
}

function partitionerPlan(partitioner: number | Partitioner): PartitionerPlan {
  if (typeof partitioner === 'number') return { kind: 'hash', partitions: new HashPartitioner(partitioner).numPartitions };
  if (partitioner instanceof RangePartitioner) return { kind: 'range', partitions: partitioner.numPartitions, ascending: partitioner.ascending };
  return { kind: 'hash', partitions: partitioner.numPartitions };
}

/** Decodes a job's results (used by the context). */
export function decodeResults(encoded: readonly Uint8Array[]): unknown[] {
  return encoded.map((bytes) => decodeRecord(bytes));
}

