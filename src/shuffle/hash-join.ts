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

import { MIN_NUMBER_PAIR_BYTES, type PairColumns } from './columnar-frame.ts';
import { keyIdentity } from './keys.ts';
import { notAPair } from './shuffle-writer.ts';
import { SizeTracker } from './size-estimate.ts';
import { giveBack, takeBytes } from './column-pool.ts';

export type JoinHow = 'inner' | 'left' | 'right' | 'full';

/** A build-side key's values when it has more than one (one value is held as itself). */
class Many {
  readonly values: unknown[];
  constructor(values: unknown[]) {
    this.values = values;
  }
}

/** Stands for a build-side value that is `undefined`, which the table could not tell from a missing key. */
const UNDEFINED = Symbol('undefined');

const unwrap = (value: unknown): unknown => (value === UNDEFINED ? undefined : value);

/** How often (in records added) the build side's memory is checked. */
const CHECK_EVERY = 32;
/** A Map entry (and a Many's array when a key has several values), beyond the values themselves. */
const ENTRY_OVERHEAD = 64;
/** A value's slot in its key's values array. */
const VALUE_OVERHEAD = 8;
/** An Int32Table slot: its key and its value's array element. */
const SLOT_BYTES = 12;

const identityOf = (key: unknown): unknown => (typeof key === 'string' && key.charCodeAt(0) !== 0 ? key : keyIdentity(key));

/** What the join needs of its table: a Map, or an Int32Table while every build key is an int32. */
interface JoinTable {
  get(id: unknown): unknown;
  set(id: unknown, value: unknown): void;
  readonly size: number;
  entries(): Iterator<[unknown, unknown]>;
}

/**
 * The build side's table while every key is an int32 (and not -0), the common case of joins on ids: open
 * addressing over an Int32Array of keys and an array of values (Fibonacci hashing, linear probing, at most half
 * full). A probe is two reads at one slot where a Map's is a bucket, then an entry chain elsewhere: about two to
 * three times faster at the sizes of a reduce partition (docs/benchmarks.md, bench:shuffle). A slot is empty when
 * its value is `undefined`; the table never holds `undefined` (the join stores UNDEFINED for it).
 */
export class Int32Table implements JoinTable {
  #keys: Int32Array;
  #values: unknown[];
  /** 32 − log2(slots): the hash's top bits pick the slot. */
  #shift: number;
  size = 0;

  /** `expected`: about how many keys will come (the table grows past it as needed). */
  constructor(expected = 0) {
    let slots = INITIAL_SLOTS;
    while (slots < 2 * expected && slots < MAX_PRESIZED_SLOTS) slots *= 2;
    this.#keys = takeKeys(slots);
    this.#values = takeValues(slots);
    this.#shift = 32 - Math.log2(slots);
  }

  /**
   * Gives the table's arrays back for the next table of this thread (see takeKeys); the table is empty and must
   * not be used after this. Called when a join's output ends.
   */
  release(): void {
    giveBack(this.#keys);
    giveValues(this.#values);
    this.#keys = new Int32Array(0);
    this.#values = [];
    this.size = 0;
  }

  /** Whether `id` (a key identity) can be a key here. */
  static fits(id: unknown): id is number {
    return typeof id === 'number' && (id | 0) === id && !Object.is(id, -0);
  }

  get(id: unknown): unknown {
    return Int32Table.fits(id) ? this.#values[this.#slotOf(id)] : undefined;
  }

  /** Sets the value of an int32 key (Int32Table.fits); `value` is never undefined. */
  set(id: unknown, value: unknown): void {
    const key = id as number;
    const slot = this.#slotOf(key);
    if (this.#values[slot] === undefined) {
      this.size += 1;
      this.#keys[slot] = key;
    }
    this.#values[slot] = value;
    if (2 * this.size > this.#keys.length) this.#grow();
  }

  /** The slot that holds `key`, or the empty slot where it would go. */
  #slotOf(key: number): number {
    const keys = this.#keys;
    const values = this.#values;
    const mask = keys.length - 1;
    let slot = Math.imul(key, FIBONACCI) >>> this.#shift;
    while (values[slot] !== undefined && keys[slot] !== key) slot = (slot + 1) & mask;
    return slot;
  }

  *entries(): Generator<[unknown, unknown]> {
    const keys = this.#keys;
    const values = this.#values;
    for (let slot = 0; slot < keys.length; slot += 1) if (values[slot] !== undefined) yield [keys[slot], values[slot]];
  }

  #grow(): void {
    const keys = this.#keys;
    const values = this.#values;
    this.#keys = takeKeys(2 * keys.length);
    this.#values = takeValues(2 * keys.length);
    this.#shift -= 1;
    this.size = 0;
    for (let slot = 0; slot < keys.length; slot += 1) if (values[slot] !== undefined) this.set(keys[slot], values[slot]);
    giveBack(keys);
  }
}

/**
 * A table's arrays, reused by the next table of the thread. A join's reduce tasks build tables of about one size,
 * and fresh arrays of a megabyte or more are memory the process has not touched: the keys' Int32Array and the values'
 * array (in V8's large-object space) of a table of 262,144 slots took about 515 page faults, some 9 ms on the
 * machine of docs/benchmarks.md, in every reduce task. The keys come from the thread's column pool
 * (column-pool.ts) and need no clearing: a slot is empty when its value is undefined. One values array of at most
 * MAX_PRESIZED_SLOTS is kept, emptied when given back, so that it holds no build-side value alive.
 */
function takeKeys(slots: number): Int32Array {
  return new Int32Array(takeBytes(slots * Int32Array.BYTES_PER_ELEMENT).buffer, 0, slots);
}

let spareValues: unknown[] | undefined;

function takeValues(slots: number): unknown[] {
  const spare = spareValues;
  if (spare !== undefined && spare.length === slots) {
    spareValues = undefined;
    return spare;
  }
  return new Array<unknown>(slots).fill(undefined);
}

/** Keeps `values` for the next table, emptied, unless it is larger than a presized table's (MAX_PRESIZED_SLOTS). */
function giveValues(values: unknown[]): void {
  if (values.length > MAX_PRESIZED_SLOTS) return;
  values.fill(undefined);
  spareValues = values;
}

const INITIAL_SLOTS = 1024;
/** Presizing goes no further (12 MB of slots); past it the table grows as keys come. */
const MAX_PRESIZED_SLOTS = 1 << 20;
/** 2^32 / φ, odd: Knuth's multiplicative hashing constant. */
const FIBONACCI = 0x9e3779b1 | 0;

export class HashJoinTable {
  readonly #how: JoinHow;
  /** Whether the build side is the join's left input (this dataset) rather than its right (the other). */
  readonly #buildIsLeft: boolean;
  readonly #keepBuild: boolean;
  readonly #memoryLimitBytes: number;
  /**
   * keyIdentity → the key's one value (UNDEFINED for undefined), or a Many. The value itself, not an entry object,
   * so that a probe costs one lookup in the table and no further memory access for a key of one value.
   */
  #table: JoinTable;
  /** For joins that keep the build side's unmatched keys: each identity's key as first seen. */
  readonly #keys: Map<unknown, unknown> | undefined;
  readonly #sizes = new SizeTracker(VALUE_OVERHEAD);
  #values = 0;
  #untilCheck = CHECK_EVERY;
  #probed = false;

  /**
   * `buildBytes`: the build side's bytes as shuffled, if known. Its number pairs take at least
   * MIN_NUMBER_PAIR_BYTES each, so it bounds the number of keys the table is sized for at the start (within the
   * memory limit): growing from empty rehashes every key about once more.
   */
  constructor(how: JoinHow, buildIsLeft: boolean, memoryLimitBytes: number, buildBytes = 0) {
    this.#table = new Int32Table(Math.min(buildBytes / MIN_NUMBER_PAIR_BYTES, memoryLimitBytes / (4 * SLOT_BYTES)));
    this.#how = how;
    this.#buildIsLeft = buildIsLeft;
    this.#keepBuild = how === 'full' || how === (buildIsLeft ? 'left' : 'right');
    this.#keys = this.#keepBuild ? new Map() : undefined;
    this.#memoryLimitBytes = memoryLimitBytes;
  }

  /** Adds a build-side [key, value]; false once the table holds more than its memory limit (then stop adding). */
  add(record: unknown): boolean {
    if (!Array.isArray(record) || record.length !== 2) throw notAPair(record, 'join');
    return this.#addPair(record[0], record[1]);
  }

  /**
   * Adds every build-side record of a frame, its records or (for [key, value] records) its keys and values as
   * columns; false once the table holds more than its memory limit (then stop adding). From columns no pair is
   * made per record, and the loop is a small function of its own, which V8 compiles once and reuses for every
   * frame and task, where the loop in the reading task's async function was compiled anew on the spot (OSR).
   */
  addFrame(frame: StreamFrame): boolean {
    if (Array.isArray(frame)) {
      for (const record of frame) if (!this.add(record)) return false;
      return true;
    }
    const { keys, values } = frame as PairColumns;
    for (let i = 0; i < keys.length; i += 1) if (!this.#addPair(keys[i], values[i])) return false;
    return true;
  }

  #addPair(key: unknown, given: unknown): boolean {
    const id = identityOf(key);
    const value: unknown = given === undefined ? UNDEFINED : given;
    if (this.#table instanceof Int32Table && !Int32Table.fits(id)) this.#table = asMap(this.#table);
    const held = this.#table.get(id);
    if (held === undefined) {
      this.#table.set(id, value);
      this.#keys?.set(id, key);
    } else if (held instanceof Many) held.values.push(value);
    else this.#table.set(id, new Many([held, value]));
    this.#values += 1;
    const perValue = this.#sizes.observe(given);
    this.#untilCheck -= 1;
    if (this.#untilCheck > 0) return true;
    this.#untilCheck = CHECK_EVERY;
    return this.#table.size * ENTRY_OVERHEAD + this.#values * perValue <= this.#memoryLimitBytes;
  }

  /**
   * The joined records: every stream-side record of `frames` (each frame an array of [key, value] records, or their
   * keys and values as columns) against the table, then, for a join that keeps the build side's unmatched keys,
   * those. Single use.
   */
  probe(frames: Iterator<StreamFrame>): IterableIterator<unknown> {
    // Its output gives the table's arrays back when it ends (Int32Table.release).
    if (this.#probed) throw new Error('HashJoinTable.probe is single use');
    this.#probed = true;
    const keepStream = this.#how === 'full' || this.#how === (this.#buildIsLeft ? 'right' : 'left');
    return new JoinRecords(this.#table, this.#keys, frames, this.#buildIsLeft, keepStream);
  }
}

/** The table's entries in a Map (the first build key that is not an int32 came). */
function asMap(table: JoinTable): Map<unknown, unknown> {
  const map = new Map<unknown, unknown>();
  const entries = table.entries();
  for (let step = entries.next(); step.done !== true; step = entries.next()) map.set(step.value[0], step.value[1]);
  return map;
}

/** A stream-side frame: its records, or (for [key, value] records) its keys and values as columns. */
export type StreamFrame = readonly unknown[] | PairColumns;

const NO_COLUMN: ArrayLike<unknown> = [];

/** HashJoinTable.probe's iterator. */
class JoinRecords implements IterableIterator<unknown> {
  #table: JoinTable;
  /** Set for joins that keep the build side's unmatched keys (then #matched is too). */
  readonly #keys: Map<unknown, unknown> | undefined;
  readonly #matched: Set<unknown> | undefined;
  readonly #frames: Iterator<StreamFrame>;
  readonly #buildIsLeft: boolean;
  readonly #keepStream: boolean;
  // The current frame: records (#records), or columns (#streamKeys and #streamValues, #records empty), read
  // from #index to #size. Columns spare a pair per stream record, made only to be taken apart here.
  #records: readonly unknown[] = [];
  #streamKeys: ArrayLike<unknown> = NO_COLUMN;
  #streamValues: ArrayLike<unknown> = NO_COLUMN;
  #size = 0;
  #index = 0;
  /** The build values still to pair with #key and #value, from #match on. */
  #matches: readonly unknown[] = [];
  #match = 0;
  #key: unknown = undefined;
  #value: unknown = undefined;
  /** After the stream side: the build side's identities and values, for its unmatched keys. */
  #unmatched: Iterator<[unknown, unknown]> | undefined;
  #done = false;

  constructor(table: JoinTable, keys: Map<unknown, unknown> | undefined, frames: Iterator<StreamFrame>, buildIsLeft: boolean, keepStream: boolean) {
    this.#table = table;
    this.#keys = keys;
    this.#matched = keys === undefined ? undefined : new Set();
    this.#frames = frames;
    this.#buildIsLeft = buildIsLeft;
    this.#keepStream = keepStream;
  }

  next(): IteratorResult<unknown> {
    for (;;) {
      if (this.#match < this.#matches.length) return this.#pair(unwrap(this.#matches[this.#match++]));
      if (this.#done) return this.#end();
      if (this.#unmatched !== undefined) {
        this.#nextUnmatched();
        continue;
      }
      if (this.#index < this.#size) {
        const i = this.#index++;
        let key: unknown;
        let value: unknown;
        if (this.#records.length > 0) {
          const record = this.#records[i];
          if (!Array.isArray(record) || record.length !== 2) throw notAPair(record, 'join');
          key = record[0];
          value = record[1];
        } else {
          key = this.#streamKeys[i];
          value = this.#streamValues[i];
        }
        const id = identityOf(key);
        const held = this.#table.get(id);
        if (held !== undefined) {
          this.#matched?.add(id);
          this.#key = key;
          this.#value = value;
          if (!(held instanceof Many)) return this.#pair(unwrap(held));
          this.#matches = held.values;
          this.#match = 0;
        } else if (this.#keepStream) {
          this.#key = key;
          this.#value = value;
          return this.#pair(undefined);
        }
        continue;
      }
      const frame = this.#frames.next();
      if (frame.done !== true) this.#startFrame(frame.value);
      else if (this.#keys !== undefined) {
        this.#startFrame([]);
        this.#unmatched = this.#table.entries();
      } else this.#done = true;
    }
  }

  #startFrame(frame: StreamFrame): void {
    this.#index = 0;
    if (Array.isArray(frame)) {
      this.#records = frame;
      this.#streamKeys = this.#streamValues = NO_COLUMN;
      this.#size = frame.length;
    } else {
      const { keys, values } = frame as PairColumns;
      this.#records = [];
      this.#streamKeys = keys;
      this.#streamValues = values;
      this.#size = keys.length;
    }
  }

  /** Moves to the next build key no stream record matched (its values paired with undefined), or to the end. */
  #nextUnmatched(): void {
    const unmatched = this.#unmatched as Iterator<[unknown, unknown]>;
    for (let step = unmatched.next(); step.done !== true; step = unmatched.next()) {
      const [id, held] = step.value;
      if ((this.#matched as Set<unknown>).has(id)) continue;
      this.#key = (this.#keys as Map<unknown, unknown>).get(id);
      this.#value = undefined;
      this.#matches = held instanceof Many ? held.values : [held];
      this.#match = 0;
      return;
    }
    this.#unmatched = undefined;
    this.#done = true;
  }

  /**
   * `[#key, [left, right]]` of #value (the stream side's) and a build-side value, in a new result: this iterator
   * lives as long as the task (in V8's old generation), and a new record stored in a result it kept took the write
   * barrier's slow path, where a new result dies young or, with this inlined into the consumer's loop, is never made.
   */
  #pair(built: unknown): IteratorResult<unknown> {
    return { done: false, value: [this.#key, this.#buildIsLeft ? [built, this.#value] : [this.#value, built]] };
  }

  #end(): IteratorResult<unknown> {
    this.#frames.return?.();
    this.#releaseTable();
    return { done: true, value: undefined };
  }

  return(): IteratorResult<unknown> {
    this.#done = true;
    this.#matches = [];
    this.#unmatched = undefined;
    this.#frames.return?.();
    this.#releaseTable();
    return { done: true, value: undefined };
  }

  /** The output has ended: an Int32Table's arrays go back for the next join of this thread (once). */
  #releaseTable(): void {
    const table = this.#table;
    if (!(table instanceof Int32Table)) return;
    table.release();
    this.#table = new Map();
  }

  [Symbol.iterator](): this {
    return this;
  }
}
