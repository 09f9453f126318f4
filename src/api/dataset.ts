// Dataset<T>: a distributed collection described by where its partitions come from and the narrow
// transformations applied to them (Spark's RDD without shuffles). Transformations are lazy and return a new
// Dataset; actions run one job with one task per partition and bring the results to the driver.
//
// Functions passed to transformations and actions run on executors, which find them by the name the app's
// main module exports them under: `ds.map(square)` works when the app has `export function square`. A
// function that is not exported is refused here, on the driver, before anything runs.

import type { TaskOp, TaskSource } from '../protocol/task-messages.ts';
import { encodeRecord } from '../task/index.ts';
import type { FlintContext } from './context.ts';

export type Partition = TaskSource;

/** Records of one partition as task functions see them: iterate with `for … of` or `for await … of`. */
export type PartitionRecords<T> = Iterable<T> & AsyncIterable<T>;

type Maybe<T> = T | Promise<T>;

export class Dataset<T> {
  readonly context: FlintContext;
  /** @internal */
  readonly partitions: readonly Partition[];
  /** @internal */
  readonly ops: readonly TaskOp[];

  /** @internal Use `flint.parallelize` or `flint.range`. */
  constructor(context: FlintContext, partitions: readonly Partition[], ops: readonly TaskOp[]) {
    this.context = context;
    this.partitions = partitions;
    this.ops = ops;
  }

  get numPartitions(): number {
    return this.partitions.length;
  }

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

  /** Every record, in partition order. */
  async collect(): Promise<T[]> {
    const parts = (await this.context.submitTasks(this as Dataset<unknown>, { kind: 'collect' })) as T[][];
    return parts.flat();
  }

  async count(): Promise<number> {
    const counts = (await this.context.submitTasks(this as Dataset<unknown>, { kind: 'count' })) as number[];
    return counts.reduce((a, b) => a + b, 0);
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
    while (out.length < n && scanned < this.partitions.length) {
      const batch = scanned === 0 ? 1 : Math.min(scanned * 4, this.partitions.length - scanned);
      const ids = Array.from({ length: Math.min(batch, this.partitions.length - scanned) }, (_, i) => scanned + i);
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

  #with<U>(op: TaskOp['op'], fn: unknown): Dataset<U> {
    const name = this.context.exportName(fn, op);
    return new Dataset<U>(this.context, this.partitions, [...this.ops, { op, fn: name }]);
  }
}
