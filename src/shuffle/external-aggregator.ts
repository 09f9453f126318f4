// The reduce side of a combining shuffle (reduceByKey, groupByKey, …): Spark's ExternalAppendOnlyMap. Records
// are combined in a Map keyed by keyIdentity; past the memory limit the map is sorted by (hashKey, identity)
// and written to a spill file, and `entries()` merges the in-memory map with every spill in one streaming k-way
// merge, combining the entries of equal keys with mergeCombiners. Spark merges on hash alone and keeps
// colliding keys in lists; the identity tie-break makes equal keys adjacent, so each spill is read once,
// frame by frame, through a bounded buffer.
//
// Spilled records are [hash, key, combiner] triples (the hash saves recomputing it during the merge). Both
// memory and spills hold combiners: raw values are turned into combiners on insert.

import type { Aggregator } from './aggregator.ts';
import { compareKeys, hashKey, keyIdentity } from './keys.ts';
import { MinHeap } from '../kit/min-heap.ts';
import { notAPair } from './shuffle-writer.ts';
import { SizeTracker } from './size-estimate.ts';
import type { RecordCursor } from './spill-file.ts';
import { ArrayRecordCursor, SpillFiles } from './spill-file.ts';

export interface ExternalAggregatorOptions {
  aggregator: Aggregator;
  /** Inserted values are already combiners (the output of a map-side combine). */
  inputIsCombiners: boolean;
  spillDir: string;
  memoryLimitBytes: number;
}

const CHECK_EVERY = 32;
const ENTRY_OVERHEAD = 64;

/** Same identity (SameValueZero, as a Map compares keys). */
function sameIdentity(a: unknown, b: unknown): boolean {
  return a === b || (a !== a && b !== b);
}

/** One spill (or memory) in the merge, with its current entry. */
interface MergeSource {
  readonly cursor: RecordCursor;
  /** Spills in the order written, memory last: equal keys merge in this order, so groups keep insertion order. */
  readonly order: number;
  hash: number;
  id: unknown;
  key: unknown;
  combiner: unknown;
}

function load(source: MergeSource): boolean {
  if (!source.cursor.advance()) return false;
  const [hash, key, combiner] = source.cursor.head as [number, unknown, unknown];
  source.hash = hash;
  source.key = key;
  source.id = keyIdentity(key);
  source.combiner = combiner;
  return true;
}

function before(a: MergeSource, b: MergeSource): boolean {
  if (a.hash !== b.hash) return a.hash < b.hash;
  const c = compareKeys(a.id, b.id);
  return c < 0 || (c === 0 && a.order < b.order);
}

export class ExternalAggregator {
  readonly #opts: ExternalAggregatorOptions;
  readonly #aggregator: Aggregator;
  readonly #map = new Map<unknown, [unknown, unknown]>();
  readonly #sizes = new SizeTracker(ENTRY_OVERHEAD);
  #untilCheck = CHECK_EVERY;
  readonly #spillFiles: SpillFiles;
  #state: 'open' | 'merging' | 'done' = 'open';

  constructor(opts: ExternalAggregatorOptions) {
    this.#opts = opts;
    this.#aggregator = opts.aggregator;
    this.#spillFiles = new SpillFiles(opts.spillDir, 'temp_aggregate');
  }

  get spills(): number {
    return this.#spillFiles.count;
  }

  get spilledBytes(): number {
    return this.#spillFiles.bytes;
  }

  /** Adds a [key, value] (or [key, combiner]) record. Throws FLINT_NOT_A_PAIR for anything else. */
  insert(record: readonly [unknown, unknown]): void {
    if (!Array.isArray(record) || record.length !== 2) throw notAPair(record, 'a combining shuffle read');
    if (this.#state !== 'open') throw new Error('ExternalAggregator.insert after entries() or cleanup()');
    const key: unknown = record[0];
    const id = keyIdentity(key);
    let entry = this.#map.get(id);
    if (entry === undefined) {
      entry = [key, this.#opts.inputIsCombiners ? record[1] : this.#aggregator.createCombiner(record[1])];
      this.#map.set(id, entry);
    } else if (this.#opts.inputIsCombiners) entry[1] = this.#aggregator.mergeCombiners(entry[1], record[1]);
    else entry[1] = this.#aggregator.mergeValue(entry[1], record[1]);
    const perEntry = this.#sizes.observe(entry);
    this.#untilCheck -= 1;
    if (this.#untilCheck === 0) {
      this.#untilCheck = CHECK_EVERY;
      if (this.#map.size * perEntry > this.#opts.memoryLimitBytes) this.#spill();
    }
  }

  /** The in-memory entries as [hash, key, combiner], by (hash, identity). */
  #sortedMemory(): Array<[number, unknown, unknown]> {
    const keyed: Array<{ hash: number; id: unknown; entry: [number, unknown, unknown] }> = [];
    for (const [id, [key, combiner]] of this.#map) {
      const hash = hashKey(key);
      keyed.push({ hash, id, entry: [hash, key, combiner] });
    }
    keyed.sort((a, b) => a.hash - b.hash || compareKeys(a.id, b.id));
    return keyed.map((k) => k.entry);
  }

  #spill(): void {
    this.#spillFiles.write(this.#sortedMemory());
    this.#map.clear();
  }

  /**
   * Every key once, with its combiner. Without spills, the map's entries in insertion order; with spills, a
   * merge in (hash, identity) order, combining a key's combiners oldest spill first (so groupByKey's values
   * keep their insertion order). Single use; spill files are deleted when it ends or is abandoned.
   */
  *entries(): Generator<[unknown, unknown]> {
    if (this.#state !== 'open') throw new Error('ExternalAggregator.entries() can be read only once');
    this.#state = 'merging';
    try {
      if (this.#spillFiles.count === 0) {
        for (const entry of this.#map.values()) yield entry;
        return;
      }
      yield* this.#merge();
    } finally {
      this.cleanup();
    }
  }

  *#merge(): Generator<[unknown, unknown]> {
    const cursors = this.#spillFiles.cursors(this.#opts.memoryLimitBytes);
    cursors.push(new ArrayRecordCursor(this.#sortedMemory()));
    this.#map.clear();
    const heap = new MinHeap<MergeSource>(before);
    try {
      cursors.forEach((cursor, order) => {
        const source: MergeSource = { cursor, order, hash: 0, id: undefined, key: undefined, combiner: undefined };
        if (load(source)) heap.push(source);
      });
      for (let top = heap.peek(); top !== undefined; top = heap.peek()) {
        const { hash, id, key } = top;
        let combiner = top.combiner;
        this.#next(heap, top);
        for (let other = heap.peek(); other !== undefined && other.hash === hash && sameIdentity(other.id, id); other = heap.peek()) {
          combiner = this.#aggregator.mergeCombiners(combiner, other.combiner);
          this.#next(heap, other);
        }
        yield [key, combiner];
      }
    } finally {
      for (const cursor of cursors) cursor.close();
    }
  }

  /** Moves the heap's top source to its next entry, or drops it at its end. */
  #next(heap: MinHeap<MergeSource>, top: MergeSource): void {
    if (load(top)) heap.replaceTop(top);
    else heap.pop();
  }

  /** Deletes the spill files and forgets everything. Idempotent. */
  cleanup(): void {
    this.#state = 'done';
    this.#spillFiles.removeAll();
    this.#map.clear();
  }
}
