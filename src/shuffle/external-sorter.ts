// The reduce side of sortByKey: Spark's ExternalSorter with an ordering and no aggregator. Records are held in
// an array; past the memory limit the array is sorted (stable) and written as a run to a spill file, and
// `sorted()` merges the runs and the sorted remainder in one streaming k-way merge. Stable: records with equal
// keys keep their insertion order within a run, and across runs the earlier run's come first (the in-memory
// remainder is the last run).
//
// Number pairs: frames whose records are all [number, number] (columnar frames of two number columns, the
// common case of sortByKey on numbers) are kept as two Float64Arrays instead of an array of pairs, 16 bytes a
// record instead of about 60 spread over the heap, and sorted by a radix sort of the key column
// (sort-by-number-key.ts); the pairs are made again only as the sorted records are read. The first record that
// is not such a pair (from a frame of another shape, or a NaN key) turns the columns back into pairs, and the
// sorter goes on with its array of records.

import { MIN_NUMBER_PAIR_BYTES } from './columnar-frame.ts';
import { giveBack, takeFloat64 } from './column-pool.ts';
import { compareKeys } from './keys.ts';
import { MinHeap } from '../kit/min-heap.ts';
import { notAPair } from './shuffle-writer.ts';
import { SizeTracker } from './size-estimate.ts';
import { sortByNumberKey, sortNumberPairs } from './sort-by-number-key.ts';
import type { RecordCursor } from './spill-file.ts';
import { ArrayRecordCursor, SpillFiles } from './spill-file.ts';

export interface ExternalSorterOptions {
  /** Orders keys; compareKeys gets fast paths for all-number and all-string keys. */
  compare: (a: unknown, b: unknown) => number;
  ascending: boolean;
  spillDir: string;
  memoryLimitBytes: number;
  /**
   * The bytes of the records to come as shuffled, when known. A number pair takes at least MIN_NUMBER_PAIR_BYTES
   * of them, so the columns of number pairs are reserved for that many at the start (within the memory limit)
   * instead of growing by doubling, which copied them about once more and took a fresh buffer at each step.
   */
  expectedBytes?: number;
}

type Pair = [unknown, unknown];

const CHECK_EVERY = 32;
/** An array slot and the pair's header, beyond the pair's contents. */
const RECORD_OVERHEAD = 8;
/** Bytes of a pair kept in NumberPairs: its key and value, each a float64. */
const NUMBER_PAIR_BYTES = 16;

const EMPTY = new Float64Array(0);

/**
 * [number, number] records as two columns, in insertion order. Each frame's columns are copied in as they come
 * (the frame's bytes may be a read buffer used again for the next: frames.ts `recycle`), into arrays from the
 * thread's pool (column-pool.ts) that grow by doubling; the sort then works on them in place.
 */
class NumberPairs {
  #keys: Float64Array = EMPTY;
  #values: Float64Array = EMPTY;
  length = 0;
  /** Pairs the first columns are made for. */
  readonly #reserve: number;

  constructor(reserve = 0) {
    this.#reserve = Math.floor(reserve);
  }

  /** Appends the pairs; false, appending nothing, when a key is NaN. */
  append(keys: ArrayLike<number>, values: ArrayLike<number>): boolean {
    const n = keys.length;
    if (!(keys instanceof Int32Array)) for (let i = 0; i < n; i += 1) if (Number.isNaN(keys[i])) return false;
    if (this.length + n > this.#keys.length) this.#grow(this.length + n);
    copyInto(this.#keys, keys, this.length);
    copyInto(this.#values, values, this.length);
    this.length += n;
    return true;
  }

  #grow(needed: number): void {
    const capacity = Math.max(needed, 2 * this.#keys.length, this.#keys === EMPTY ? this.#reserve : 0, INITIAL_PAIRS);
    const keys = takeFloat64(capacity);
    const values = takeFloat64(capacity);
    keys.set(this.#keys.subarray(0, this.length));
    values.set(this.#values.subarray(0, this.length));
    this.#giveBackColumns();
    this.#keys = keys;
    this.#values = values;
  }

  /** Bytes held, as float64 keys and values. */
  get bytes(): number {
    return this.length * NUMBER_PAIR_BYTES;
  }

  /** The pairs, sorted by key stably, as a cursor that makes each pair as it is read; empties this. */
  sortedCursor(ascending: boolean): NumberPairCursor {
    const n = this.length;
    // Views of exactly n over the pooled columns: the cursor gives their memory back when it is done.
    const sorted = sortNumberPairs(new Float64Array(this.#keys.buffer, 0, n), new Float64Array(this.#values.buffer, 0, n), ascending);
    this.#keys = this.#values = EMPTY;
    this.length = 0;
    return new NumberPairCursor(sorted.keys, sorted.values);
  }

  /** The pairs, in insertion order, made as arrays; empties this. */
  takePairs(): Pair[] {
    const out: Pair[] = [];
    for (let i = 0; i < this.length; i += 1) out.push([this.#keys[i], this.#values[i]]);
    this.clear();
    return out;
  }

  clear(): void {
    this.#giveBackColumns();
    this.#keys = this.#values = EMPTY;
    this.length = 0;
  }

  #giveBackColumns(): void {
    if (this.#keys !== EMPTY) giveBack(this.#keys);
    if (this.#values !== EMPTY) giveBack(this.#values);
  }
}

/** `source` into `target` from `at`: a typed array's copy when it is one (a frame's column), else element by element. */
function copyInto(target: Float64Array, source: ArrayLike<number>, at: number): void {
  if (source instanceof Float64Array || source instanceof Int32Array) target.set(source, at);
  else for (let i = 0; i < source.length; i += 1) target[at + i] = source[i] as number;
}

/** The first columns' size: 64 Ki pairs (512 KiB a column, enough to come from the pool). */
const INITIAL_PAIRS = 64 * 1024;

/** Sorted number pairs, read one at a time: each `[key, value]` is a new array. */
class NumberPairCursor implements RecordCursor {
  head: Pair | undefined = undefined;
  #keys: Float64Array;
  #values: Float64Array;
  #index = 0;

  constructor(keys: Float64Array, values: Float64Array) {
    this.#keys = keys;
    this.#values = values;
  }

  advance(): boolean {
    const i = this.#index;
    if (i >= this.#keys.length) {
      this.head = undefined;
      this.close();
      return false;
    }
    this.#index = i + 1;
    this.head = [this.#keys[i] as number, this.#values[i] as number];
    return true;
  }

  /**
   * The next pair, a new array, without keeping it in `head`: the cursor lives as long as the task, so V8 has
   * moved it to the old generation, and storing each new pair in it took the write barrier's slow path (it
   * records the old-to-young pointer), 3 % of a sort's reduce side.
   */
  take(): Pair | undefined {
    const i = this.#index;
    if (i >= this.#keys.length) {
      this.close();
      return undefined;
    }
    this.#index = i + 1;
    return [this.#keys[i] as number, this.#values[i] as number];
  }

  /** Gives the columns back to the pool: the cursor owns them, and every pair read out is a copy. */
  close(): void {
    giveBack(this.#keys);
    giveBack(this.#values);
    this.#keys = this.#values = EMPTY;
    this.#index = 0;
  }
}


/**
 * A cursor's records as an iterator: `onEnd` runs once, at the end or on return(). Each result is a new object,
 * not one refilled: this iterator lives as long as the task (in V8's old generation), and a new record stored in
 * it took the write barrier's slow path, where a new result dies young (or is never made, when the consumer's
 * loop has this inlined).
 */
class CursorRecords implements IterableIterator<Pair> {
  readonly #cursor: RecordCursor;
  #onEnd: (() => void) | undefined;

  constructor(cursor: RecordCursor, onEnd: () => void) {
    this.#cursor = cursor;
    this.#onEnd = onEnd;
  }

  next(): IteratorResult<Pair> {
    if (this.#onEnd !== undefined) {
      const record = this.#cursor.take();
      if (record !== undefined) return { done: false, value: record as Pair };
    }
    this.#end();
    return { done: true, value: undefined };
  }

  return(): IteratorResult<Pair> {
    this.#end();
    return { done: true, value: undefined };
  }

  [Symbol.iterator](): this {
    return this;
  }

  #end(): void {
    const onEnd = this.#onEnd;
    this.#onEnd = undefined;
    if (onEnd === undefined) return;
    try {
      this.#cursor.close();
    } finally {
      onEnd();
    }
  }
}

/** The k-way merge of sorted runs (earlier runs first among equal keys), as one cursor. */
class MergeCursor implements RecordCursor {
  head: unknown = undefined;
  readonly #cursors: RecordCursor[];
  readonly #heap: MinHeap<RunSource>;

  constructor(cursors: RecordCursor[], compareKeys: (a: unknown, b: unknown) => number) {
    this.#cursors = cursors;
    this.#heap = new MinHeap<RunSource>((a, b) => {
      const c = compareKeys(a.record[0], b.record[0]);
      return c < 0 || (c === 0 && a.run < b.run);
    });
    cursors.forEach((cursor, run) => {
      if (cursor.advance()) this.#heap.push({ cursor, run, record: cursor.head as Pair });
    });
  }

  advance(): boolean {
    const top = this.#heap.peek();
    if (top === undefined) {
      this.head = undefined;
      return false;
    }
    this.head = top.record;
    if (top.cursor.advance()) {
      top.record = top.cursor.head as Pair;
      this.#heap.replaceTop(top);
    } else this.#heap.pop();
    return true;
  }

  take(): unknown {
    return this.advance() ? this.head : undefined;
  }

  close(): void {
    for (const cursor of this.#cursors) cursor.close();
  }
}

const stringsUp = (a: Pair, b: Pair): number => ((a[0] as string) < (b[0] as string) ? -1 : (a[0] as string) > (b[0] as string) ? 1 : 0);
const stringsDown = (a: Pair, b: Pair): number => stringsUp(b, a);

interface RunSource {
  readonly cursor: RecordCursor;
  readonly run: number;
  record: Pair;
}

export class ExternalSorter {
  readonly #opts: ExternalSorterOptions;
  readonly #compareKeys: (a: unknown, b: unknown) => number;
  #buffer: Pair[] = [];
  readonly #sizes = new SizeTracker(RECORD_OVERHEAD);
  #untilCheck = CHECK_EVERY;
  /** Whether every buffered key is a non-NaN number / a string (for the fast comparators). */
  #allNumbers = true;
  #allStrings = true;
  readonly #runs: SpillFiles;
  #state: 'open' | 'merging' | 'done' = 'open';
  /** While every record so far came as number pairs: those records (#buffer is then empty). */
  #pairs: NumberPairs | undefined;

  constructor(opts: ExternalSorterOptions) {
    this.#opts = opts;
    const compare = opts.compare;
    this.#compareKeys = opts.ascending ? compare : (a, b) => compare(b, a);
    this.#runs = new SpillFiles(opts.spillDir, 'temp_sort');
    this.#pairs = new NumberPairs(Math.min((opts.expectedBytes ?? 0) / MIN_NUMBER_PAIR_BYTES, opts.memoryLimitBytes / NUMBER_PAIR_BYTES));
  }

  get spills(): number {
    return this.#runs.count;
  }

  get spilledBytes(): number {
    return this.#runs.bytes;
  }

  /**
   * Adds the records [keys[i], values[i]] in order (a columnar frame of number pairs: see numberPairColumns).
   * Kept as columns while every record so far came this way.
   */
  insertNumberPairs(keys: ArrayLike<number>, values: ArrayLike<number>): void {
    if (this.#state !== 'open') throw new Error('ExternalSorter.insert after sorted() or cleanup()');
    const pairs = this.#pairs;
    if (pairs !== undefined && pairs.append(keys, values)) {
      if (pairs.bytes > this.#opts.memoryLimitBytes) this.#spill();
      return;
    }
    for (let i = 0; i < keys.length; i += 1) this.insert([keys[i], values[i]]);
  }

  /** Adds a [key, value] record. Throws FLINT_NOT_A_PAIR for anything else. */
  insert(record: readonly [unknown, unknown]): void {
    if (!Array.isArray(record) || record.length !== 2) throw notAPair(record, 'sortByKey');
    if (this.#state !== 'open') throw new Error('ExternalSorter.insert after sorted() or cleanup()');
    if (this.#pairs !== undefined) this.#leavePairs();
    const key: unknown = record[0];
    if (typeof key === 'number') {
      this.#allStrings = false;
      if (key !== key) this.#allNumbers = false;
    } else {
      this.#allNumbers = false;
      if (typeof key !== 'string') this.#allStrings = false;
    }
    this.#buffer.push(record as Pair);
    const perRecord = this.#sizes.observe(record);
    this.#untilCheck -= 1;
    if (this.#untilCheck === 0) {
      this.#untilCheck = CHECK_EVERY;
      if (this.#buffer.length * perRecord > this.#opts.memoryLimitBytes) this.#spill();
    }
  }

  /** Sorts the buffer in place, stably, and returns it: number keys by a radix sort, others with Array.prototype.sort. */
  #sortBuffer(): Pair[] {
    const up = this.#opts.ascending;
    if (this.#opts.compare === compareKeys && this.#allNumbers) return sortByNumberKey(this.#buffer, up);
    let compare: (a: Pair, b: Pair) => number;
    if (this.#opts.compare === compareKeys && this.#allStrings) compare = up ? stringsUp : stringsDown;
    else {
      const keys = this.#compareKeys;
      compare = (a, b) => keys(a[0], b[0]);
    }
    return this.#buffer.sort(compare);
  }

  /** Goes on with an array of records: the number pairs held so far become its first records. */
  #leavePairs(): void {
    const pairs = this.#pairs as NumberPairs;
    this.#pairs = undefined;
    for (const record of pairs.takePairs()) this.#buffer.push(record);
    // They count for the memory check as any record does.
    if (this.#buffer.length > 0) this.#sizes.observe(this.#buffer[0] as Pair);
  }

  #spill(): void {
    if (this.#pairs !== undefined) {
      this.#runs.write(new CursorRecords(this.#pairs.sortedCursor(this.#opts.ascending), () => undefined));
      return;
    }
    this.#runs.write(this.#sortBuffer());
    this.#buffer = [];
    this.#allNumbers = true;
    this.#allStrings = true;
  }

  /**
   * Every record, sorted by key. Single use; spill files are deleted when the iterator ends or is returned (a
   * `for … of` that breaks), or by cleanup().
   */
  sorted(): IterableIterator<Pair> {
    if (this.#state !== 'open') throw new Error('ExternalSorter.sorted() can be read only once');
    this.#state = 'merging';
    let memory: RecordCursor;
    try {
      memory = this.#pairs !== undefined ? this.#pairs.sortedCursor(this.#opts.ascending) : new ArrayRecordCursor(this.#sortBuffer());
      this.#buffer = [];
      if (this.#runs.count > 0) {
        const cursors = this.#runs.cursors(this.#opts.memoryLimitBytes);
        cursors.push(memory);
        memory = new MergeCursor(cursors, this.#compareKeys);
      }
    } catch (err) {
      this.cleanup();
      throw err;
    }
    return new CursorRecords(memory, () => this.cleanup());
  }

  /** Deletes the spill files and forgets everything. Idempotent. */
  cleanup(): void {
    this.#state = 'done';
    this.#runs.removeAll();
    this.#buffer = [];
    this.#pairs?.clear();
  }
}
