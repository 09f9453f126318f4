// A stable sort of [key, value] records whose keys are all numbers (no NaN), for the external sorter: an LSD
// radix sort of the keys' bits that moves 32-bit indexes, not records, then one gather of the records in
// their new order (sortNumberPairs: keys and values in columns, moved with the digits). Array.prototype.sort with a comparator costs about a microsecond per record at millions of records
// (a comparator call per comparison, each loading two arrays); this costs a few passes over typed arrays.
//
// Keys are mapped to unsigned 64-bit integers (hi, lo) that order as the numbers do: an int32 key k is
// (k ^ 0x80000000, 0); any other key takes its IEEE 754 bits, all inverted when negative, else with the sign
// bit set. -0 is made 0 first (compareKeys holds them equal, and the sort is stable). Descending inverts every
// bit, which keeps equal keys in insertion order. Passes whose digit is the same for every key are skipped, so
// int32 keys cost at most 3 passes of 11 bits. Number pairs whose keys are all int32 (sortInt32Pairs) move just
// the one sortable word and the value, and rebuild the keys from the words at the end.

import { giveBack, takeFloat64, takeUint32 } from './column-pool.ts';

type Pair = [unknown, unknown];

const DIGIT_BITS = 11;
const BUCKETS = 1 << DIGIT_BITS;
const MASK = BUCKETS - 1;
/** Shifts of the 6 digits: three of lo (11, 11, 10 bits), then three of hi. */
const SHIFTS = [0, 11, 22, 0, 11, 22] as const;
/** Below this many records a comparator sort is as fast. */
const RADIX_FROM = 256;

function isInt32(x: number): boolean {
  return (x | 0) === x;
}

/**
 * `records` sorted by their number keys (none NaN), stably: equal keys (-0 and 0 too) keep their order. The
 * result may be `records` itself (sorted in place) or a new array.
 */
export function sortByNumberKey(records: Pair[], ascending: boolean): Pair[] {
  const n = records.length;
  if (n < RADIX_FROM) {
    return records.sort(ascending ? (a, b) => (a[0] as number) - (b[0] as number) : (a, b) => (b[0] as number) - (a[0] as number));
  }
  const keys = new Float64Array(n);
  for (let i = 0; i < n; i += 1) keys[i] = (records[i] as Pair)[0] as number;
  const { hi, lo } = sortableKeys(keys, ascending);
  return permuted(records, radixOrder(hi, lo));
}

/**
 * Sorts the pairs (keys[i], values[i]) by key (none NaN), stably, for keys and values kept in columns
 * (ExternalSorter's number pairs). The radix passes move the keys and values along with the digits, so the
 * result is read in order, not gathered through an index (a cache miss per record at millions of records).
 * Returns the sorted columns; `keys` and `values` themselves may be reused for them or left in any order.
 */
export function sortNumberPairs(keys: Float64Array, values: Float64Array, ascending: boolean): { keys: Float64Array; values: Float64Array } {
  const n = keys.length;
  if (n < RADIX_FROM) {
    const order = Array.from({ length: n }, (_, i) => i);
    order.sort(ascending ? (a, b) => (keys[a] as number) - (keys[b] as number) || a - b : (a, b) => (keys[b] as number) - (keys[a] as number) || a - b);
    return { keys: Float64Array.from(order, (i) => keys[i] as number), values: Float64Array.from(order, (i) => values[i] as number) };
  }
  const int32 = sortInt32Pairs(keys, values, ascending);
  if (int32 !== undefined) return int32;
  const { hi, lo } = sortableKeys(keys, ascending);
  let from: PairWords = { hi, lo, keys, values };
  let to: PairWords = { hi: new Uint32Array(n), lo: new Uint32Array(n), keys: new Float64Array(n), values: new Float64Array(n) };
  for (const pass of passesOf(hi, lo)) {
    scatterPairs(pass, from, to);
    [from, to] = [to, from];
  }
  return { keys: from.keys, values: from.values };
}

/**
 * sortNumberPairs when every key is an int32 (not -0): the keys' sortable words are all that moves with the
 * values, and the sorted keys and values end in `keys` and `values` themselves. Half the bytes of the general
 * passes move (no lo word, no float64 key), so it is about twice as fast (docs/benchmarks.md, bench:shuffle).
 * Undefined when a key is not an int32.
 *
 * Each hot loop is a function of its own. A loop of millions of iterations gets V8 to compile its function on
 * the spot (on-stack replacement), once per loop; with the six loops in one function, each reduce task compiled
 * that whole function up to nine times, about 70 ms of an executor's CPU a sort (docs/benchmarks.md). Small,
 * each is compiled once and then called compiled by every later pass and task.
 */
function sortInt32Pairs(keys: Float64Array, values: Float64Array, ascending: boolean): { keys: Float64Array; values: Float64Array } | undefined {
  const n = keys.length;
  if (!allInt32Keys(keys)) return undefined;
  const flip = ascending ? 0 : 0xffff_ffff;
  // The scratch arrays come from the thread's pool (column-pool.ts): fresh ones fault in every page.
  let words = takeUint32(n);
  int32Words(keys, words, flip);
  const counts = int32WordCounts(words);
  let moved: Float64Array = values;
  let wordsTo: Uint32Array | undefined;
  let valuesTo: Float64Array | undefined;
  for (let pass = 0; pass < 3; pass += 1) {
    const shift = SHIFTS[pass] as number;
    const starts = digitStarts(counts, pass, n, ((words[0] as number) >>> shift) & MASK);
    if (starts === undefined) continue;
    wordsTo ??= takeUint32(n);
    valuesTo ??= takeFloat64(n);
    scatterWords(shift, starts, words, moved, wordsTo, valuesTo);
    [words, wordsTo] = [wordsTo, words];
    [moved, valuesTo] = [valuesTo, moved];
  }
  keysOfInt32Words(words, keys, flip);
  if (moved !== values) {
    values.set(moved); // an odd number of passes: the sorted values are in scratch
    valuesTo = moved;
  }
  giveBack(words);
  if (wordsTo !== undefined) giveBack(wordsTo);
  if (valuesTo !== undefined) giveBack(valuesTo);
  return { keys, values };
}

/** Whether every key is an int32 and none is -0. */
function allInt32Keys(keys: Float64Array): boolean {
  for (let i = 0; i < keys.length; i += 1) {
    const k = keys[i] as number;
    if (!isInt32(k) || (k === 0 && 1 / k < 0)) return false;
  }
  return true;
}

/** Each int32 key's sortable word (see the header), into `words`. */
function int32Words(keys: Float64Array, words: Uint32Array, flip: number): void {
  for (let i = 0; i < keys.length; i += 1) words[i] = ((keys[i] as number) ^ 0x8000_0000 ^ flip) >>> 0;
}

/** The keys back from their sortable words (int32Words undone). */
function keysOfInt32Words(words: Uint32Array, keys: Float64Array, flip: number): void {
  for (let i = 0; i < keys.length; i += 1) keys[i] = ((words[i] as number) ^ flip ^ 0x8000_0000) | 0;
}

/** The counts of the 3 digits of 32-bit words (11, 11 and 10 bits), BUCKETS per digit, in one pass. */
function int32WordCounts(words: Uint32Array): Uint32Array {
  const counts = new Uint32Array(3 * BUCKETS);
  for (let i = 0; i < words.length; i += 1) {
    const w = words[i] as number;
    counts[w & MASK]! += 1;
    counts[BUCKETS + ((w >>> 11) & MASK)]! += 1;
    counts[2 * BUCKETS + (w >>> 22)]! += 1;
  }
  return counts;
}

/** One LSD pass of sortInt32Pairs: each word and its value to its digit's next place. */
function scatterWords(shift: number, starts: Uint32Array, words: Uint32Array, values: Float64Array, wordsTo: Uint32Array, valuesTo: Float64Array): void {
  for (let i = 0; i < words.length; i += 1) {
    const w = words[i] as number;
    const d = (w >>> shift) & MASK;
    const at = starts[d] as number;
    starts[d] = at + 1;
    wordsTo[at] = w;
    valuesTo[at] = values[i] as number;
  }
}

/** The keys as unsigned (hi, lo) words that order as the records must (see the header). */
function sortableKeys(keys: ArrayLike<number>, ascending: boolean): { hi: Uint32Array; lo: Uint32Array } {
  const n = keys.length;
  const hi = new Uint32Array(n);
  const lo = new Uint32Array(n);
  const flip = ascending ? 0 : 0xffff_ffff;
  let allInt32 = true;
  for (let i = 0; i < n; i += 1) {
    const k = keys[i] as number;
    if (!isInt32(k)) {
      allInt32 = false;
      break;
    }
    hi[i] = (k ^ 0x8000_0000 ^ flip) >>> 0;
    lo[i] = flip;
  }
  if (allInt32) return { hi, lo };
  const bits = new Float64Array(1);
  const words = new Uint32Array(bits.buffer);
  const high = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1 ? 1 : 0; // the high word's index
  for (let i = 0; i < n; i += 1) {
    bits[0] = (keys[i] as number) + 0; // -0 + 0 is 0
    const h = words[high] as number;
    const l = words[1 - high] as number;
    const negative = h >>> 31 === 1;
    hi[i] = ((negative ? ~h : h | 0x8000_0000) ^ flip) >>> 0;
    lo[i] = ((negative ? ~l : l) ^ flip) >>> 0;
  }
  return { hi, lo };
}

/** One LSD pass: the digit at `shift` of lo or hi, and where each digit's keys start (advanced as they are placed). */
interface Pass {
  readonly shift: number;
  readonly ofLo: boolean;
  readonly starts: Uint32Array;
}

/** The passes a sort of (hi, lo) needs, lo's digits first: one per digit that is not the same for every key. */
function passesOf(hi: Uint32Array, lo: Uint32Array): Pass[] {
  const n = hi.length;
  const counts = histograms(hi, lo);
  const passes: Pass[] = [];
  SHIFTS.forEach((shift, pass) => {
    const ofLo = pass < 3;
    const starts = digitStarts(counts, pass, n, (((ofLo ? lo[0] : hi[0]) as number) >>> shift) & MASK);
    if (starts !== undefined) passes.push({ shift, ofLo, starts });
  });
  return passes;
}

/**
 * Where each digit's keys start in the pass over digit `pass` of `counts` (BUCKETS counts per digit), or
 * undefined when every key has the same digit (`first`, the first key's) and the pass can be skipped.
 */
function digitStarts(counts: Uint32Array, pass: number, n: number, first: number): Uint32Array | undefined {
  const base = pass * BUCKETS;
  if (counts[base + first] === n) return undefined;
  const starts = new Uint32Array(BUCKETS);
  for (let d = 1; d < BUCKETS; d += 1) starts[d] = (starts[d - 1] as number) + (counts[base + d - 1] as number);
  return starts;
}

interface Words {
  order: Uint32Array;
  hi: Uint32Array;
  lo: Uint32Array;
}

/** The stable order of the keys: order[i] is the index of the i-th smallest. Destroys hi and lo. */
function radixOrder(hi: Uint32Array, lo: Uint32Array): Uint32Array {
  const n = hi.length;
  let from: Words = { order: new Uint32Array(n), hi, lo };
  for (let i = 0; i < n; i += 1) from.order[i] = i;
  let to: Words = { order: new Uint32Array(n), hi: new Uint32Array(n), lo: new Uint32Array(n) };
  for (const pass of passesOf(hi, lo)) {
    scatter(pass, from, to);
    [from, to] = [to, from];
  }
  return from.order;
}

/** The 6 digits' counts, BUCKETS per digit, in one pass. */
function histograms(hi: Uint32Array, lo: Uint32Array): Uint32Array {
  const counts = new Uint32Array(SHIFTS.length * BUCKETS);
  for (let i = 0; i < hi.length; i += 1) {
    const l = lo[i] as number;
    const h = hi[i] as number;
    counts[l & MASK]! += 1;
    counts[BUCKETS + ((l >>> 11) & MASK)]! += 1;
    counts[2 * BUCKETS + (l >>> 22)]! += 1;
    counts[3 * BUCKETS + (h & MASK)]! += 1;
    counts[4 * BUCKETS + ((h >>> 11) & MASK)]! += 1;
    counts[5 * BUCKETS + (h >>> 22)]! += 1;
  }
  return counts;
}

/**
 * One pass: moves the indexes and the digits' words to their places. The passes on lo move lo and hi; lo is not
 * read after those, so the passes on hi move hi alone.
 */
function scatter({ shift, ofLo, starts }: Pass, from: Words, to: Words): void {
  const digits = ofLo ? from.lo : from.hi;
  const { order, hi } = from;
  const { order: orderTo, hi: hiTo, lo: loTo } = to;
  for (let i = 0; i < digits.length; i += 1) {
    const word = digits[i] as number;
    const d = (word >>> shift) & MASK;
    const at = starts[d] as number;
    starts[d] = at + 1;
    orderTo[at] = order[i] as number;
    if (ofLo) {
      loTo[at] = word;
      hiTo[at] = hi[i] as number;
    } else hiTo[at] = word;
  }
}

interface PairWords {
  hi: Uint32Array;
  lo: Uint32Array;
  keys: Float64Array;
  values: Float64Array;
}

/** scatter for sortNumberPairs: the keys and values move instead of indexes (a loop of its own, kept monomorphic). */
function scatterPairs({ shift, ofLo, starts }: Pass, from: PairWords, to: PairWords): void {
  const digits = ofLo ? from.lo : from.hi;
  const { hi, keys, values } = from;
  const { hi: hiTo, lo: loTo, keys: keysTo, values: valuesTo } = to;
  for (let i = 0; i < digits.length; i += 1) {
    const word = digits[i] as number;
    const d = (word >>> shift) & MASK;
    const at = starts[d] as number;
    starts[d] = at + 1;
    keysTo[at] = keys[i] as number;
    valuesTo[at] = values[i] as number;
    if (ofLo) {
      loTo[at] = word;
      hiTo[at] = hi[i] as number;
    } else hiTo[at] = word;
  }
}

/** records[order[i]] for every i, in a new array. */
function permuted(records: Pair[], order: Uint32Array): Pair[] {
  const out = new Array<Pair>(order.length);
  for (let i = 0; i < order.length; i += 1) out[i] = records[order[i] as number] as Pair;
  return out;
}
