// The map side of a shuffle: Spark's SortShuffleWriter with its ExternalSorter and IndexShuffleBlockResolver,
// simplified. Records of one map task go to the reduce partition `partition(key)` picks; the output is one data
// file holding every partition's block in order and an index of their offsets (index-file.ts).
//
// Without an aggregator, records are batched per partition and encoded as frames as batches fill (frames.ts),
// so memory is mostly encoded bytes. With one (map-side combine), [key, combiner] entries hold every
// partition's keys (string keys in a StringKeyTable, others in a Map by keyIdentity); a key's partition is
// computed once per spill or commit, not once per record (a word count inserts millions of records over a few
// thousand keys, and hashing each record's key cost more than combining it). Every 32 inserts (Spark's Spillable
// checks as often) the estimated memory is compared with memoryLimitBytes; past it, everything held is written to
// a spill file as one segment per partition. commit() writes the data file (per partition: its spilled segments,
// copied in bounded chunks, then what is in memory) and commits it atomically; a key may so appear once per spill
// in a block, which the reduce side merges.

import { closeSync, openSync } from 'node:fs';
import { join } from 'node:path';
import type { Aggregator } from './aggregator.ts';
import { commitOutput, shuffleFileNames } from './index-file.ts';
import { keyIdentity } from './keys.ts';
import { ShuffleError, describeValue } from './shuffle-errors.ts';
import { SizeTracker } from './size-estimate.ts';
import { StringKeyTable } from './string-key-table.ts';
import { SLICE_BELOW } from './columnar-frame.ts';
import { FileSink, FrameBatcher, removeFilesQuietly, writeRecordFrames } from './spill-file.ts';
import { FrameArena } from './frame-arena.ts';

export { blockRange, readIndex, shuffleFileNames } from './index-file.ts';

export interface ShuffleWriteOptions {
  /** Where the spill, temporary and output files go. */
  dir: string;
  shuffleId: number;
  mapId: number;
  /** Tells the temporaries of concurrent attempts of one map task apart. */
  attemptId: number;
  numPartitions: number;
  partition: (key: unknown) => number;
  /** Map-side combine when given. */
  aggregator?: Aggregator;
  memoryLimitBytes: number;
}

export interface MapOutput {
  dataPath: string;
  indexPath: string;
  /** Bytes of each reduce partition's block. */
  sizes: number[];
  /** Records written (after map-side combine, summed over spills). */
  records: number;
  spills: number;
  /** Bytes written to spill files. */
  spilledBytes: number;
  /** Another attempt of this map task had committed first; its files were kept and `sizes` are theirs. */
  reusedExisting: boolean;
}

interface Segment {
  readonly offset: number;
  readonly length: number;
}

interface Spill {
  readonly path: string;
  /** One per reduce partition. */
  readonly segments: Segment[];
}

/** How often (in inserts) memory is checked against the limit, as Spark's Spillable.maybeSpill. */
const CHECK_EVERY = 32;
/** Bytes a held pending record costs beyond its own estimate (its array slot and header). */
const RECORD_OVERHEAD = 16;
/** Bytes a combine Map entry costs beyond [key, combiner] (hash table slots, the entry array header). */
const ENTRY_OVERHEAD = 64;

/**
 * `key` as a string of its own. A word `split` cut from a line is, from 13 characters on, a slice of the line's
 * string, itself a slice of the 64 KiB its text split decoded at once (line-reader.ts): a table that kept the
 * slice would keep all that text alive, unseen by the memory estimate, for every such key until the spill or
 * the commit. The copy is made once per new key (columnar-frame.ts cuts strings this long apart on the way in).
 */
function ownString(key: string): string {
  return key.length < SLICE_BELOW ? key : (' ' + key).slice(1);
}

export function notAPair(record: unknown, operation: string): ShuffleError {
  return new ShuffleError(
    'FLINT_NOT_A_PAIR',
    `${operation} needs key-value records, [key, value] arrays of length 2, but got ${describeValue(record)}. ` +
      'Fix: map the records to [key, value] pairs before this operation.',
  );
}

export class ShuffleWriter {
  readonly #opts: ShuffleWriteOptions;
  readonly #partition: (key: unknown) => number;
  readonly #n: number;
  readonly #aggregator: Aggregator | undefined;
  readonly #sizes: SizeTracker;
  // Without an aggregator: pending records per partition, and encoded frame bodies per partition.
  readonly #batchers: FrameBatcher[] = [];
  #frames: Uint8Array[][] = [];
  /** Where the held bodies' bytes live until a spill or the commit has written them. */
  readonly #arena = new FrameArena();
  #pending = 0;
  #encodedBytes = 0;
  /**
   * Map-side combine: string keys' combiners in a faster table of their own, by key, and other keys' [key,
   * combiner] entries by their identity (keys.ts). #entries lists every key in the order it came first (which
   * spills and the commit keep): a string key as itself, its combiner in the table at the same rank among string
   * keys (no entry object for the hot path to load), any other key as its entry.
   */
  readonly #combinedStrings = new StringKeyTable<unknown>();
  readonly #combined = new Map<unknown, [unknown, unknown]>();
  #entries: Array<[unknown, unknown] | string> = [];
  /** The combined entries cut by partition, while a spill or the commit writes them. */
  #buckets: Array<Array<[unknown, unknown]>> = [];
  /** Records written with map-side combine (entries, counted as they leave memory). */
  #written = 0;

  #records = 0;
  #untilCheck = CHECK_EVERY;
  readonly #spills: Spill[] = [];
  #spilledBytes = 0;
  #state: 'open' | 'committed' | 'aborted' = 'open';

  constructor(opts: ShuffleWriteOptions) {
    if (!Number.isInteger(opts.numPartitions) || opts.numPartitions < 1) {
      throw new RangeError(`numPartitions must be a positive integer, got ${opts.numPartitions}`);
    }
    this.#opts = opts;
    this.#partition = opts.partition;
    this.#n = opts.numPartitions;
    this.#aggregator = opts.aggregator;
    // Observed at each memory check (every CHECK_EVERY inserts); measuring every other one samples one insert in 64.
    this.#sizes = new SizeTracker(this.#aggregator === undefined ? RECORD_OVERHEAD : ENTRY_OVERHEAD, 2);
    for (let p = 0; p < this.#n; p += 1) {
      if (this.#aggregator === undefined) {
        this.#batchers.push(new FrameBatcher(undefined, this.#arena.allocate));
        this.#frames.push([]);
      }
    }
  }

  /**
   * Adds a [key, value] record. Throws FLINT_NOT_A_PAIR for anything else.
   *
   * Kept small, as are #combine and #hold, so that the compiler inlines them into the loop that pushes the task's
   * records (V8 inlines functions of up to 460 bytes of bytecode; the single method these were exceeded it):
   * a call fewer per record, and a record made by the function before (`[word, 1]`) need not be allocated at all.
   * What is rare, a refusal and the memory check, is in methods of its own.
   */
  insert(record: unknown): void {
    if (!Array.isArray(record) || record.length !== 2 || this.#state !== 'open') this.#refuse(record);
    const held = this.#aggregator === undefined ? this.#hold(record as [unknown, unknown]) : this.#combine(record as [unknown, unknown], this.#aggregator);
    this.#records += 1;
    this.#untilCheck -= 1;
    if (this.#untilCheck === 0) this.#checkMemory(held);
  }

  #hold(record: [unknown, unknown]): unknown {
    this.#addPending(this.#checkedPartition(record[0]), record);
    return record;
  }

  /**
   * Map-side combine: the record's value into its key's combiner. Returns what #checkMemory samples: a string
   * key's index in #combinedStrings, else the key's entry. Only the hot case, a string key seen before, is here,
   * so that this too is inlined into the record loop (with the function before it, a `[word, 1]` made for the
   * call is then never allocated); a new key, or a key of another type, goes to #combineOther with the key and
   * value, not the record.
   */
  #combine(record: [unknown, unknown], aggregator: Aggregator): unknown {
    const key: unknown = record[0];
    // String keys have a table of their own, so no string is ever compared with another key's identity
    // (keys.ts: the identity of an encoded key is a string too).
    if (typeof key === 'string') {
      const strings = this.#combinedStrings;
      const at = strings.indexOf(key);
      if (at >= 0) {
        strings.setValueAt(at, aggregator.mergeValue(strings.valueAt(at), record[1]));
        return at;
      }
    }
    return this.#combineOther(key, record[1], aggregator);
  }

  #combineOther(key: unknown, value: unknown, aggregator: Aggregator): unknown {
    if (typeof key === 'string') {
      const own = ownString(key);
      const strings = this.#combinedStrings;
      strings.set(own, aggregator.createCombiner(value));
      this.#entries.push(own);
      return strings.size - 1;
    }
    const id = keyIdentity(key);
    const entry = this.#combined.get(id);
    if (entry !== undefined) {
      entry[1] = aggregator.mergeValue(entry[1], value);
      return entry;
    }
    const created: [unknown, unknown] = [key, aggregator.createCombiner(value)];
    this.#combined.set(id, created);
    this.#entries.push(created);
    return created;
  }

  #refuse(record: unknown): never {
    if (!Array.isArray(record) || record.length !== 2) throw notAPair(record, 'a shuffle');
    throw new Error(`insert after ${this.#state === 'committed' ? 'commit' : 'abort'} of ${this.#describe()}`);
  }

  /** Every CHECK_EVERY inserts: spills when the held records or entries pass the memory limit. */
  #checkMemory(held: unknown): void {
    // Sizes are sampled here, at the memory check, not on every insert (SizeTracker samples one in 64 calls).
    this.#untilCheck = CHECK_EVERY;
    const strings = this.#combinedStrings;
    const perItem = this.#sizes.observe(typeof held === 'number' ? [strings.keyAt(held), strings.valueAt(held)] : held);
    const bytes = this.#aggregator === undefined ? this.#encodedBytes + this.#pending * perItem : this.#entries.length * perItem;
    if (bytes > this.#opts.memoryLimitBytes) this.#spill();
  }

  #checkedPartition(key: unknown): number {
    const p = this.#partition(key);
    if (!(p >= 0 && p < this.#n && (p | 0) === p)) {
      throw new RangeError(`the partitioner of ${this.#describe()} put key ${describeValue(key)} in partition ${p}; expected an integer in [0, ${this.#n})`);
    }
    return p;
  }

  /** Cuts the combined entries by partition (then forgets them in the map), for a spill or the commit. */
  #bucketize(): void {
    if (this.#aggregator === undefined) return;
    const buckets: Array<Array<[unknown, unknown]>> = Array.from({ length: this.#n }, () => []);
    const strings = this.#combinedStrings;
    let rank = 0; // among string keys: the index of their combiner in #combinedStrings
    for (const e of this.#entries) {
      const entry: [unknown, unknown] = typeof e === 'string' ? [e, strings.valueAt(rank++)] : e;
      (buckets[this.#checkedPartition(entry[0])] as Array<[unknown, unknown]>).push(entry);
    }
    this.#forgetCombined();
    this.#buckets = buckets;
  }

  #forgetCombined(): void {
    this.#combinedStrings.clear();
    this.#combined.clear();
    this.#entries = [];
  }

  #addPending(p: number, record: unknown): void {
    const batcher = this.#batchers[p] as FrameBatcher;
    const count = batcher.size + 1;
    const body = batcher.add(record);
    this.#pending += 1;
    if (body !== undefined) {
      (this.#frames[p] as Uint8Array[]).push(body);
      this.#pending -= count;
      this.#encodedBytes += body.length + 4;
    }
  }

  /** Writes everything held to a new spill file, a segment per partition, and forgets it. */
  #spill(): void {
    const { dir, shuffleId, mapId, attemptId } = this.#opts;
    const path = join(dir, `temp_shuffle_${shuffleId}_${mapId}_${attemptId}_${this.#spills.length}.spill`);
    const sink = new FileSink(path);
    const spill: Spill = { path, segments: [] };
    this.#spills.push(spill); // before writing, so abort() deletes a half-written spill too
    try {
      this.#bucketize();
      for (let p = 0; p < this.#n; p += 1) {
        const start = sink.position;
        this.#writeHeld(sink, p);
        spill.segments.push({ offset: start, length: sink.position - start });
      }
      sink.close();
    } finally {
      sink.closeQuietly();
    }
    this.#arena.release(); // every held body is written and dropped
    this.#spilledBytes += sink.position;
    this.#pending = 0;
    this.#encodedBytes = 0;
  }

  /** Writes partition p's held records to `sink` as frames and forgets them. */
  #writeHeld(sink: FileSink, p: number): void {
    if (this.#aggregator === undefined) {
      for (const body of this.#frames[p] as Uint8Array[]) sink.writeFrame(body);
      this.#frames[p] = [];
      const rest = (this.#batchers[p] as FrameBatcher).flush();
      if (rest !== undefined) sink.writeFrame(rest);
    } else {
      const bucket = this.#buckets[p] ?? [];
      this.#written += bucket.length;
      writeRecordFrames(sink, bucket.values());
      this.#buckets[p] = [];
    }
  }

  /**
   * Writes the data file and its index and commits them (see index-file.ts). Deletes the spill files, whatever
   * happens. The writer is closed afterwards.
   */
  commit(): MapOutput {
    if (this.#state !== 'open') throw new Error(`commit after ${this.#state === 'committed' ? 'commit' : 'abort'} of ${this.#describe()}`);
    const { dir, shuffleId, mapId, attemptId } = this.#opts;
    const names = shuffleFileNames(shuffleId, mapId);
    const dataPath = join(dir, names.data);
    const indexPath = join(dir, names.index);
    const dataTmp = `${dataPath}.${attemptId}.tmp`;
    try {
      const sizes = this.#writeData(dataTmp);
      const committed = commitOutput(dataTmp, dataPath, indexPath, attemptId, sizes);
      this.#state = 'committed';
      return {
        dataPath,
        indexPath,
        sizes: committed.sizes,
        records: this.#aggregator === undefined ? this.#records : this.#written,
        spills: this.#spills.length,
        spilledBytes: this.#spilledBytes,
        reusedExisting: committed.reusedExisting,
      };
    } catch (err) {
      removeFilesQuietly([dataTmp]);
      this.#state = 'aborted';
      throw err;
    } finally {
      this.#release();
    }
  }

  /** Block sizes of the data file written at `path`: per partition, its spilled segments then memory. */
  #writeData(path: string): number[] {
    const sink = new FileSink(path);
    const fds: number[] = [];
    try {
      this.#bucketize();
      for (const spill of this.#spills) fds.push(openSync(spill.path, 'r'));
      const sizes: number[] = [];
      for (let p = 0; p < this.#n; p += 1) {
        const start = sink.position;
        this.#spills.forEach((spill, i) => {
          const segment = spill.segments[p] as Segment;
          if (segment.length > 0) sink.copyFrom(fds[i] as number, segment.offset, segment.length, spill.path);
        });
        this.#writeHeld(sink, p);
        sizes.push(sink.position - start);
      }
      sink.close();
      return sizes;
    } finally {
      sink.closeQuietly();
      for (const fd of fds) closeSync(fd);
    }
  }

  /** Drops everything: deletes spill files, forgets held records. Idempotent; a no-op after commit. */
  abort(): void {
    if (this.#state === 'open') this.#state = 'aborted';
    this.#release();
  }

  #release(): void {
    removeFilesQuietly(this.#spills.map((s) => s.path));
    this.#frames = this.#frames.map(() => []);
    this.#arena.release();
    for (const batcher of this.#batchers) batcher.clear();
    this.#forgetCombined();
    this.#buckets = [];
  }

  #describe(): string {
    return `the shuffle writer of shuffle ${this.#opts.shuffleId} map ${this.#opts.mapId} attempt ${this.#opts.attemptId}`;
  }
}
