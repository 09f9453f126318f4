// A stable sort of [key, value] records whose keys are all numbers (no NaN), for the external sorter: an LSD
// radix sort of the keys' bits that moves 32-bit indexes, not records, then one gather of the records in
// their new order. Array.prototype.sort with a comparator costs about a microsecond per record at millions of records
// (a comparator call per comparison, each loading two arrays); this costs a few passes over typed arrays.
//
// Keys are mapped to unsigned 64-bit integers (hi, lo) that order as the numbers do: an int32 key k is
// (k ^ 0x80000000, 0); any other key takes its IEEE 754 bits, all inverted when negative, else with the sign
// bit set. -0 is made 0 first (compareKeys holds them equal, and the sort is stable). Descending inverts every
// bit, which keeps equal keys in insertion order. Passes whose digit is the same for every key are skipped, so
// int32 keys cost at most 3 passes of 11 bits.

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
  const { hi, lo } = sortableKeys(records, ascending);
  return permuted(records, radixOrder(hi, lo));
}

/** The keys as unsigned (hi, lo) words that order as the records must (see the header). */
function sortableKeys(records: Pair[], ascending: boolean): { hi: Uint32Array; lo: Uint32Array } {
  const n = records.length;
  const hi = new Uint32Array(n);
  const lo = new Uint32Array(n);
  const flip = ascending ? 0 : 0xffff_ffff;
  let allInt32 = true;
  for (let i = 0; i < n; i += 1) {
    const k = (records[i] as Pair)[0] as number;
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
    bits[0] = ((records[i] as Pair)[0] as number) + 0; // -0 + 0 is 0
    const h = words[high] as number;
    const l = words[1 - high] as number;
    const negative = h >>> 31 === 1;
    hi[i] = ((negative ? ~h : h | 0x8000_0000) ^ flip) >>> 0;
    lo[i] = ((negative ? ~l : l) ^ flip) >>> 0;
  }
  return { hi, lo };
}

interface Words {
  order: Uint32Array;
  hi: Uint32Array;
  lo: Uint32Array;
}

/** The stable order of the keys: order[i] is the index of the i-th smallest. Destroys hi and lo. */
function radixOrder(hiIn: Uint32Array, loIn: Uint32Array): Uint32Array {
  const n = hiIn.length;
  const counts = histograms(hiIn, loIn);
  const words: Words = { order: new Uint32Array(n), hi: hiIn, lo: loIn };
  for (let i = 0; i < n; i += 1) words.order[i] = i;
  const spare: Words = { order: new Uint32Array(n), hi: new Uint32Array(n), lo: new Uint32Array(n) };
  for (let pass = 0; pass < SHIFTS.length; pass += 1) {
    const shift = SHIFTS[pass] as number;
    const fromLo = pass < 3;
    const base = pass * BUCKETS;
    const first = ((fromLo ? words.lo[0] : words.hi[0]) as number) >>> shift;
    if (counts[base + (first & MASK)] === n) continue; // the same digit for every key
    const starts = new Uint32Array(BUCKETS);
    for (let d = 1; d < BUCKETS; d += 1) starts[d] = (starts[d - 1] as number) + (counts[base + d - 1] as number);
    scatter(fromLo ? words.lo : words.hi, shift, starts, words, spare, fromLo ? 'hi' : undefined);
    for (const key of ['order', 'hi', 'lo'] as const) [words[key], spare[key]] = [spare[key], words[key]];
  }
  return words.order;
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
 * One pass on the digit at `shift` of `keys`: moves the indexes, the keys, and `other` when given (hi during
 * the passes on lo; lo is not read after those, so the passes on hi move nothing else).
 */
function scatter(keys: Uint32Array, shift: number, starts: Uint32Array, from: Words, to: Words, other: 'hi' | undefined): void {
  const { order } = from;
  const orderTo = to.order;
  const keysTo = other === undefined ? to.hi : to.lo;
  const otherFrom = from.hi;
  const otherTo = to.hi;
  for (let i = 0; i < keys.length; i += 1) {
    const k = keys[i] as number;
    const d = (k >>> shift) & MASK;
    const at = starts[d] as number;
    starts[d] = at + 1;
    orderTo[at] = order[i] as number;
    keysTo[at] = k;
    if (other !== undefined) otherTo[at] = otherFrom[i] as number;
  }
}

/** records[order[i]] for every i, in a new array. */
function permuted(records: Pair[], order: Uint32Array): Pair[] {
  const out = new Array<Pair>(order.length);
  for (let i = 0; i < order.length; i += 1) out[i] = records[order[i] as number] as Pair;
  return out;
}
