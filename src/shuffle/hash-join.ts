// The reduce side of `join` and its outer kinds: a hash join of the two co-partitioned inputs. Spark's RDD join is
// cogroup then a flatMap over each key's two value lists (PairRDDFunctions.join); that holds every value of both
// sides in memory (or spills them) before the first pair comes out. Here the smaller side (by the bytes of its
// blocks) is the build side, held in a Map from keyIdentity to its values, and the other side streams through it
// record by record: memory is the build side's, whatever the size of the stream side. When the build side does
// not fit in the task's memory share, `add` says so and the caller falls back to cogroup, which spills.
//
// The output is what cogroup-then-flatMap gives, as a multiset (the order within a partition differs, as it may in
// Spark): `[key, [v, w]]` for every pair of a key's values of both sides, and for outer joins `[key, [v, undefined]]`
// or `[key, [undefined, w]]` for every value of a key only one side has. Keys match by keyIdentity, as everywhere in
// the shuffle.

import { keyIdentity } from './keys.ts';
import { notAPair } from './shuffle-writer.ts';
import { SizeTracker } from './size-estimate.ts';

export type JoinHow = 'inner' | 'left' | 'right' | 'full';

type Pair = [unknown, unknown];

interface BuildEntry {
  /** The key as the build side's first record for it had it. */
  readonly key: unknown;
  readonly values: unknown[];
  matched: boolean;
}

/** How often (in records added) the build side's memory is checked. */
const CHECK_EVERY = 32;
/** A Map entry, its BuildEntry and values array, beyond the values themselves. */
const ENTRY_OVERHEAD = 120;
/** A value's slot in its key's values array. */
const VALUE_OVERHEAD = 8;

const identityOf = (key: unknown): unknown => (typeof key === 'string' && key.charCodeAt(0) !== 0 ? key : keyIdentity(key));

export class HashJoinTable {
  readonly #how: JoinHow;
  /** Whether the build side is the join's left input (this dataset) rather than its right (the other). */
  readonly #buildIsLeft: boolean;
  readonly #memoryLimitBytes: number;
  readonly #entries = new Map<unknown, BuildEntry>();
  readonly #sizes = new SizeTracker(VALUE_OVERHEAD);
  #values = 0;
  #untilCheck = CHECK_EVERY;

  constructor(how: JoinHow, buildIsLeft: boolean, memoryLimitBytes: number) {
    this.#how = how;
    this.#buildIsLeft = buildIsLeft;
    this.#memoryLimitBytes = memoryLimitBytes;
  }

  /** Adds a build-side [key, value]; false once the table holds more than its memory limit (then stop adding). */
  add(record: unknown): boolean {
    if (!Array.isArray(record) || record.length !== 2) throw notAPair(record, 'join');
    const key: unknown = record[0];
    const id = identityOf(key);
    const entry = this.#entries.get(id);
    if (entry === undefined) this.#entries.set(id, { key, values: [record[1]], matched: false });
    else entry.values.push(record[1]);
    this.#values += 1;
    const perValue = this.#sizes.observe(record[1]);
    this.#untilCheck -= 1;
    if (this.#untilCheck > 0) return true;
    this.#untilCheck = CHECK_EVERY;
    return this.#entries.size * ENTRY_OVERHEAD + this.#values * perValue <= this.#memoryLimitBytes;
  }

  /**
   * The joined records: every stream-side record of `frames` (each frame an array of [key, value] records) against
   * the table, then, for a join that keeps the build side's unmatched keys, those. Single use.
   */
  probe(frames: Iterator<readonly unknown[]>): IterableIterator<unknown> {
    const buildIsLeft = this.#buildIsLeft;
    const keepStream = this.#how === 'full' || this.#how === (buildIsLeft ? 'right' : 'left');
    const keepBuild = this.#how === 'full' || this.#how === (buildIsLeft ? 'left' : 'right');
    return new JoinRecords(this.#entries, frames, buildIsLeft, keepStream, keepBuild);
  }
}

/** HashJoinTable.probe's iterator; one result object, refilled (read `value` before the next call). */
class JoinRecords implements IterableIterator<unknown> {
  readonly #entries: Map<unknown, BuildEntry>;
  readonly #frames: Iterator<readonly unknown[]>;
  readonly #buildIsLeft: boolean;
  readonly #keepStream: boolean;
  readonly #keepBuild: boolean;
  readonly #result: { done: boolean; value: unknown } = { done: false, value: undefined };
  #records: readonly unknown[] = [];
  #index = 0;
  /** The build values still to pair with #key and #value, from #match on. */
  #matches: readonly unknown[] = [];
  #match = 0;
  #key: unknown = undefined;
  #value: unknown = undefined;
  /** After the stream side: the build entries, for their unmatched keys. */
  #unmatched: Iterator<BuildEntry> | undefined;
  #done = false;

  constructor(entries: Map<unknown, BuildEntry>, frames: Iterator<readonly unknown[]>, buildIsLeft: boolean, keepStream: boolean, keepBuild: boolean) {
    this.#entries = entries;
    this.#frames = frames;
    this.#buildIsLeft = buildIsLeft;
    this.#keepStream = keepStream;
    this.#keepBuild = keepBuild;
  }

  next(): IteratorResult<unknown> {
    for (;;) {
      if (this.#match < this.#matches.length) {
        const built = this.#matches[this.#match++];
        return this.#yield(this.#buildIsLeft ? [built, this.#value] : [this.#value, built]);
      }
      if (this.#done) return this.#end();
      if (this.#unmatched !== undefined) {
        this.#nextUnmatched();
        continue;
      }
      if (this.#index < this.#records.length) {
        const record = this.#records[this.#index++];
        if (!Array.isArray(record) || record.length !== 2) throw notAPair(record, 'join');
        const entry = this.#entries.get(identityOf(record[0]));
        if (entry !== undefined) {
          entry.matched = true;
          this.#key = record[0];
          this.#value = record[1];
          this.#matches = entry.values;
          this.#match = 0;
        } else if (this.#keepStream) {
          return this.#yield(this.#buildIsLeft ? [undefined, record[1]] : [record[1], undefined], record[0]);
        }
        continue;
      }
      const frame = this.#frames.next();
      if (frame.done !== true) {
        this.#records = frame.value;
        this.#index = 0;
      } else if (this.#keepBuild) {
        this.#records = [];
        this.#unmatched = this.#entries.values();
      } else this.#done = true;
    }
  }

  /** Moves to the next build entry no stream record matched (its values paired with undefined), or to the end. */
  #nextUnmatched(): void {
    const unmatched = this.#unmatched as Iterator<BuildEntry>;
    for (let step = unmatched.next(); step.done !== true; step = unmatched.next()) {
      const entry = step.value;
      if (entry.matched) continue;
      this.#key = entry.key;
      this.#value = undefined;
      this.#matches = entry.values;
      this.#match = 0;
      return;
    }
    this.#unmatched = undefined;
    this.#done = true;
  }

  #yield(values: Pair, key: unknown = this.#key): IteratorResult<unknown> {
    this.#result.value = [key, values];
    return this.#result as IteratorResult<unknown>;
  }

  #end(): IteratorResult<unknown> {
    this.#result.done = true;
    this.#result.value = undefined;
    this.#frames.return?.();
    return this.#result as IteratorResult<unknown>;
  }

  return(): IteratorResult<unknown> {
    this.#done = true;
    this.#matches = [];
    this.#unmatched = undefined;
    this.#frames.return?.();
    return { done: true, value: undefined };
  }

  [Symbol.iterator](): this {
    return this;
  }
}
