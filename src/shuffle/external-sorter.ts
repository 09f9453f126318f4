// The reduce side of sortByKey: Spark's ExternalSorter with an ordering and no aggregator. Records are held in
// an array; past the memory limit the array is sorted (stable) and written as a run to a spill file, and
// `sorted()` merges the runs and the sorted remainder in one streaming k-way merge. Stable: records with equal
// keys keep their insertion order within a run, and across runs the earlier run's come first (the in-memory
// remainder is the last run).

import { compareKeys } from './keys.ts';
import { MinHeap } from '../kit/min-heap.ts';
import { notAPair } from './shuffle-writer.ts';
import { SizeTracker } from './size-estimate.ts';
import { sortByNumberKey } from './sort-by-number-key.ts';
import type { RecordCursor } from './spill-file.ts';
import { ArrayRecordCursor, SpillFiles } from './spill-file.ts';

export interface ExternalSorterOptions {
  /** Orders keys; compareKeys gets fast paths for all-number and all-string keys. */
  compare: (a: unknown, b: unknown) => number;
  ascending: boolean;
  spillDir: string;
  memoryLimitBytes: number;
}

type Pair = [unknown, unknown];

const CHECK_EVERY = 32;
/** An array slot and the pair's header, beyond the pair's contents. */
const RECORD_OVERHEAD = 8;

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

  constructor(opts: ExternalSorterOptions) {
    this.#opts = opts;
    const compare = opts.compare;
    this.#compareKeys = opts.ascending ? compare : (a, b) => compare(b, a);
    this.#runs = new SpillFiles(opts.spillDir, 'temp_sort');
  }

  get spills(): number {
    return this.#runs.count;
  }

  get spilledBytes(): number {
    return this.#runs.bytes;
  }

  /** Adds a [key, value] record. Throws FLINT_NOT_A_PAIR for anything else. */
  insert(record: readonly [unknown, unknown]): void {
    if (!Array.isArray(record) || record.length !== 2) throw notAPair(record, 'sortByKey');
    if (this.#state !== 'open') throw new Error('ExternalSorter.insert after sorted() or cleanup()');
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

  #spill(): void {
    this.#runs.write(this.#sortBuffer());
    this.#buffer = [];
    this.#allNumbers = true;
    this.#allStrings = true;
  }

  /** Every record, sorted by key. Single use; spill files are deleted when it ends or is abandoned. */
  *sorted(): Generator<[unknown, unknown]> {
    if (this.#state !== 'open') throw new Error('ExternalSorter.sorted() can be read only once');
    this.#state = 'merging';
    try {
      const memory = this.#sortBuffer();
      this.#buffer = [];
      if (this.#runs.count === 0) yield* memory;
      else yield* this.#merge(memory);
    } finally {
      this.cleanup();
    }
  }

  *#merge(memory: Pair[]): Generator<Pair> {
    const cursors: RecordCursor[] = this.#runs.cursors(this.#opts.memoryLimitBytes);
    cursors.push(new ArrayRecordCursor(memory));
    const keys = this.#compareKeys;
    const heap = new MinHeap<RunSource>((a, b) => {
      const c = keys(a.record[0], b.record[0]);
      return c < 0 || (c === 0 && a.run < b.run);
    });
    try {
      cursors.forEach((cursor, run) => {
        if (cursor.advance()) heap.push({ cursor, run, record: cursor.head as Pair });
      });
      for (let top = heap.peek(); top !== undefined; top = heap.peek()) {
        const record = top.record;
        if (top.cursor.advance()) {
          top.record = top.cursor.head as Pair;
          heap.replaceTop(top);
        } else heap.pop();
        yield record;
      }
    } finally {
      for (const cursor of cursors) cursor.close();
    }
  }

  /** Deletes the spill files and forgets everything. Idempotent. */
  cleanup(): void {
    this.#state = 'done';
    this.#runs.removeAll();
    this.#buffer = [];
  }
}
