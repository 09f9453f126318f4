// A cheap guess at how many bytes of V8 heap a record holds: the shuffle's counterpart of Spark's
// SizeEstimator, used only to decide when to spill (SizeTracker samples it). It walks at most MAX_DEPTH levels
// and, in a large array, Map or Set, measures the first SAMPLE_ITEMS members and scales up. Not exact; cheap.

const MAX_DEPTH = 8;
const SAMPLE_ITEMS = 32;
/** What a value nested deeper than MAX_DEPTH is taken to cost. */
const DEEP_GUESS = 64;

function stringBytes(s: string): number {
  return (12 + 2 * s.length + 7) & ~7;
}

/** Approximate heap bytes of `value`: a string ≈ 12 + 2·length, a number 8, containers a header and members. */
export function estimateSize(value: unknown): number {
  return estimate(value, 0);
}

function estimate(value: unknown, depth: number): number {
  switch (typeof value) {
    case 'string':
      return stringBytes(value);
    case 'number':
      return 8;
    case 'bigint':
      return 16 + 8 * Math.ceil(value.toString(16).length / 16);
    case 'object':
      if (value === null) return 0;
      return depth >= MAX_DEPTH ? DEEP_GUESS : estimateObject(value, depth);
    default:
      return 0; // booleans, undefined: immediate values in their slot
  }
}

function estimateObject(value: object, depth: number): number {
  if (Array.isArray(value)) return 16 + 8 * value.length + sampled(value, value.length, depth);
  if (ArrayBuffer.isView(value)) return 64 + value.byteLength;
  if (value instanceof Map) {
    let bytes = 0;
    let seen = 0;
    for (const [k, v] of value) {
      if (seen === SAMPLE_ITEMS) break;
      bytes += estimate(k, depth + 1) + estimate(v, depth + 1);
      seen += 1;
    }
    return 48 + 24 * value.size + (seen === 0 ? 0 : (bytes * value.size) / seen);
  }
  if (value instanceof Set) return 48 + 16 * value.size + sampled(value, value.size, depth);
  if (value instanceof Date) return 32;
  let bytes = 24;
  for (const name in value) bytes += 16 + estimate((value as Record<string, unknown>)[name], depth + 1);
  return bytes;
}

/** The members' bytes: all of them when few, else the first SAMPLE_ITEMS scaled to `size`. */
function sampled(items: Iterable<unknown>, size: number, depth: number): number {
  let bytes = 0;
  let seen = 0;
  for (const item of items) {
    if (seen === SAMPLE_ITEMS) break;
    bytes += estimate(item, depth + 1);
    seen += 1;
  }
  return seen === 0 ? 0 : (bytes * size) / seen;
}

/**
 * Spark's SizeTracker, simplified: callers `observe` every insert; one in SAMPLE_EVERY is measured and folded
 * into a moving mean, so the cost of estimateSize is paid rarely. `mean` is the bytes to count per held item.
 */
export class SizeTracker {
  static readonly SAMPLE_EVERY = 64;
  #countdown = 0;
  #mean = 0;
  readonly #overhead: number;
  readonly #every: number;

  /**
   * `overhead`: bytes per held item beyond the item itself (a Map entry's slots, an array slot). `every`: one call
   * in this many measures (a caller that calls only every so many inserts passes fewer).
   */
  constructor(overhead: number, every = SizeTracker.SAMPLE_EVERY) {
    this.#overhead = overhead;
    this.#every = every;
  }

  /** Per-item bytes to charge, measured on `item` when this call is a sampled one. */
  observe(item: unknown): number {
    if (this.#countdown === 0) {
      this.#countdown = this.#every;
      const bytes = estimateSize(item) + this.#overhead;
      // The first sample sets the mean; later ones move it by a quarter, so it follows growing combiners.
      this.#mean = this.#mean === 0 ? bytes : this.#mean + (bytes - this.#mean) / 4;
    }
    this.#countdown -= 1;
    return this.#mean;
  }

  get mean(): number {
    return this.#mean;
  }
}
