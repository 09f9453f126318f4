// Keys of key-value records: how the shuffle hashes them (partitioning, the reduce side's merge order), tells
// equal ones apart (grouping in a JS Map) and orders them (sortByKey). Spark leans on the JVM's `hashCode`,
// `equals` and an implicit `Ordering[K]`; JavaScript has none of these for values, so Flint defines them once,
// here, for every value the record codec carries (src/task/record-codec.ts).
//
// Equality of keys: two keys are equal when their `keyIdentity` values are SameValueZero-equal. Primitives
// compare by value (`-0` equals `0`, `NaN` equals `NaN`, `1` differs from `1n` and from `'1'`). Anything else
// compares by its canonical encoding: the record codec's bytes of the value after `canonical` (below) has turned
// `-0` into `0`, every NaN into the one NaN, sorted plain objects' properties by name and sorted Map entries and
// Set members by their encoded bytes. So `[1, 'a']` equals another `[1, 'a']`, `{a: 1, b: 2}` equals
// `{b: 2, a: 1}`, a Map equals a Map with the same entries in another order, and `new Date(5)` equals
// `new Date(5)`. Typed arrays compare by their bytes (a Float64Array's -0 and 0 differ).
//
// The three functions agree: `keyIdentity(a) === keyIdentity(b)` (SameValueZero) exactly when
// `compareKeys(a, b) === 0`, and then `hashKey(a) === hashKey(b)`. test/unit/shuffle/keys.test.ts checks this
// as a property over mixed values.

import { MAX_DEPTH, encodeRecord } from '../task/record-codec.ts';

// ---- Canonical form ------------------------------------------------------------------------------------------

const DATE_PROTO = Date.prototype;

/**
 * The canonical form of a non-primitive key (see the header). Returns its argument unchanged when there is
 * nothing to normalise (the common case for tuple keys), so most arrays are not copied. Unsupported values are
 * returned as they are, for the codec to reject with a RecordEncodeError naming them.
 */
function canonical(value: unknown, depth: number): unknown {
  if (typeof value === 'number') return value === 0 ? 0 : value !== value ? NaN : value;
  if (typeof value !== 'object' || value === null || depth > MAX_DEPTH) return value;
  const proto: unknown = Object.getPrototypeOf(value);
  if (proto === Array.prototype) return canonicalArray(value as unknown[], depth);
  if (proto === Object.prototype || proto === null) {
    const source = value as Record<string, unknown>;
    const out = Object.create(null) as Record<string, unknown>;
    for (const name of Object.keys(source).sort()) out[name] = canonical(source[name], depth + 1);
    return out;
  }
  if (proto === Map.prototype) {
    const entries = [...(value as Map<unknown, unknown>)].map(([k, v]) => [canonical(k, depth + 1), canonical(v, depth + 1)] as const);
    return new Map(sortByEncoding(entries));
  }
  if (proto === Set.prototype) {
    return new Set(sortByEncoding([...(value as Set<unknown>)].map((item) => canonical(item, depth + 1))));
  }
  if (proto === DATE_PROTO && Number.isNaN((value as Date).getTime())) return new Date(NaN);
  return value;
}

function canonicalArray(items: unknown[], depth: number): unknown[] {
  let out: unknown[] | undefined;
  for (let i = 0; i < items.length; i += 1) {
    const item = items[i];
    const normal = canonical(item, depth + 1);
    if (out === undefined && normal !== item) out = items.slice(0, i); // NaN copies too: harmless
    if (out !== undefined) out.push(normal);
  }
  return out ?? items;
}

function sortByEncoding<T>(items: readonly T[]): T[] {
  const keyed = items.map((item) => ({ item, bytes: encodeRecord(item, 'key') }));
  keyed.sort((a, b) => compareBytes(a.bytes, b.bytes));
  return keyed.map((k) => k.item);
}

/** The record codec's bytes of the canonical form of `key`. Throws RecordEncodeError for an unsupported key. */
export function encodeKey(key: unknown): Uint8Array {
  return encodeRecord(canonical(key, 0), 'key');
}

export function compareBytes(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i += 1) {
    const d = (a[i] as number) - (b[i] as number);
    if (d !== 0) return d < 0 ? -1 : 1;
  }
  return a.length === b.length ? 0 : a.length < b.length ? -1 : 1;
}

// ---- keyIdentity ---------------------------------------------------------------------------------------------

/** Prefix of the identity of a string key that itself starts with U+0000. */
const ESCAPED_STRING = '\u0000s';
/** Prefix of the identity of a non-primitive key: the latin1 text of its canonical encoding follows. */
const ENCODED = '\u0000e';

/**
 * A value to use as a JS Map key for `key`: two keys are equal (see the header) exactly when their identities
 * are SameValueZero-equal. Strings (not starting with U+0000), numbers (-0 becomes 0), booleans, null,
 * undefined and bigints are their own identity. Other keys become `'\u0000e' + latin1(canonical encoding)`, and
 * a string that starts with U+0000 becomes `'\u0000s' + string`, so no identity of an encoded key is ever the
 * text of a real string key.
 */
export function keyIdentity(key: unknown): unknown {
  switch (typeof key) {
    case 'string':
      return key.charCodeAt(0) === 0 ? ESCAPED_STRING + key : key;
    case 'number':
      return key === 0 ? 0 : key;
    case 'boolean':
    case 'undefined':
    case 'bigint':
      return key;
    default:
      return key === null ? null : ENCODED + latin1(encodeKey(key));
  }
}

function latin1(bytes: Uint8Array): string {
  if (bytes.length <= 1024) return String.fromCharCode.apply(null, bytes as unknown as number[]);
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('latin1');
}

// ---- hashKey -------------------------------------------------------------------------------------------------

const HASH_UNDEFINED = 0x1b873593;
const HASH_NULL = 0x2c1b3c6d;
const HASH_FALSE = 0x297a2d39;
const HASH_TRUE = 0x5cb8e6f1;
const HASH_NAN = 0x7ff80000;
const SEED_FLOAT = 0x3c6ef372;
const SEED_BIGINT = 0x1f83d9ab;
const SEED_DATE = 0x5be0cd19;
const SEED_ARRAY = 0x510e527f;
const SEED_BYTES = 0x6a09e667;
const FNV_OFFSET = 0x811c9dc5;
const FNV_PRIME = 0x01000193;

const floatView = new Float64Array(1);
const floatWords = new Uint32Array(floatView.buffer);

/** murmur3's 32-bit finaliser: spreads FNV's weak low bits, which `% partitions` would otherwise see. */
function fmix(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h & 0x7fffffff;
}

/** FNV-1a over the UTF-16 code units, finalised. */
export function hashString(s: string): number {
  let h = FNV_OFFSET;
  for (let i = 0; i < s.length; i += 1) h = Math.imul(h ^ s.charCodeAt(i), FNV_PRIME);
  return fmix(h);
}

function hashNumber(n: number): number {
  if ((n | 0) === n) return fmix(n); // int32 (and -0, as 0)
  if (Number.isInteger(n)) {
    // A larger integer: its two 32-bit halves.
    const high = Math.floor(n / 4294967296);
    return fmix(Math.imul((n - high * 4294967296) | 0, FNV_PRIME) ^ (high | 0) ^ SEED_FLOAT);
  }
  if (n !== n) return HASH_NAN;
  floatView[0] = n;
  return fmix(Math.imul(floatWords[0] as number, FNV_PRIME) ^ (floatWords[1] as number) ^ SEED_FLOAT);
}

function hashBytes(bytes: Uint8Array, seed: number): number {
  let h = FNV_OFFSET ^ seed;
  for (let i = 0; i < bytes.length; i += 1) h = Math.imul(h ^ (bytes[i] as number), FNV_PRIME);
  return fmix(h);
}

function hashArray(items: readonly unknown[], depth: number): number {
  if (depth > MAX_DEPTH) return hashBytes(encodeKey(items), SEED_BYTES); // throws the codec's clear error
  let h = SEED_ARRAY ^ items.length;
  for (let i = 0; i < items.length; i += 1) {
    const item = items[i];
    const e = Array.isArray(item) && Object.getPrototypeOf(item) === Array.prototype ? hashArray(item, depth + 1) : hashKey(item);
    h = Math.imul(h ^ e, FNV_PRIME) + 0x9e3779b9;
  }
  return fmix(h | 0);
}

/**
 * A deterministic non-negative 31-bit hash of `key`, the same in every process and on every run (no seeds
 * from the environment). Keys equal by `keyIdentity` hash equal: strings by FNV-1a over UTF-16 code units,
 * numbers by value (integers as integers, -0 as 0, every NaN alike), booleans, null and undefined as fixed
 * values, bigints by their digits, Dates by their time, arrays by their elements' hashes, and anything else by
 * its canonical encoding. Throws RecordEncodeError for a key the record codec cannot carry.
 */
export function hashKey(key: unknown): number {
  switch (typeof key) {
    case 'string':
      return hashString(key);
    case 'number':
      return hashNumber(key);
    case 'boolean':
      return key ? HASH_TRUE : HASH_FALSE;
    case 'undefined':
      return HASH_UNDEFINED;
    case 'bigint':
      return fmix(hashString(key.toString(16)) ^ SEED_BIGINT);
    default: {
      if (key === null) return HASH_NULL;
      const proto: unknown = Object.getPrototypeOf(key);
      if (proto === Array.prototype) return hashArray(key as unknown[], 0);
      if (proto === DATE_PROTO) return fmix(hashNumber((key as Date).getTime()) ^ SEED_DATE);
      return hashBytes(encodeKey(key), SEED_BYTES);
    }
  }
}

// ---- compareKeys ---------------------------------------------------------------------------------------------

const RANK_UNDEFINED = 0;
const RANK_NULL = 1;
const RANK_BOOLEAN = 2;
const RANK_NUMBER = 3;
const RANK_BIGINT = 4;
const RANK_STRING = 5;
const RANK_DATE = 6;
const RANK_ARRAY = 7;
const RANK_OTHER = 8;

function rankOf(key: unknown): number {
  switch (typeof key) {
    case 'undefined':
      return RANK_UNDEFINED;
    case 'boolean':
      return RANK_BOOLEAN;
    case 'number':
      return RANK_NUMBER;
    case 'bigint':
      return RANK_BIGINT;
    case 'string':
      return RANK_STRING;
    default: {
      if (key === null) return RANK_NULL;
      const proto: unknown = Object.getPrototypeOf(key);
      return proto === DATE_PROTO ? RANK_DATE : proto === Array.prototype ? RANK_ARRAY : RANK_OTHER;
    }
  }
}

/** Numbers ascending, -0 equal to 0, NaN after every other number (and equal to NaN). */
export function compareNumbers(a: number, b: number): number {
  if (a < b) return -1;
  if (a > b) return 1;
  if (a === b) return 0;
  return a !== a ? (b !== b ? 0 : 1) : -1;
}

/**
 * The total order of keys used by sortByKey and range partitioning (Spark's implicit `Ordering[K]`). Keys of
 * different kinds order by kind: undefined < null < boolean < number < bigint < string < Date < array < other.
 * Within a kind: false < true; numbers numerically with -0 equal to 0 and NaN last; bigints numerically;
 * strings by UTF-16 code unit (JavaScript's `<`, like Java's `String.compareTo`); Dates by time, invalid ones
 * last; arrays lexicographically by compareKeys, a prefix first; other values (plain objects, Maps, Sets,
 * typed arrays) by the bytes of their canonical encoding, which is consistent but not meaningful.
 * `compareKeys(a, b) === 0` exactly when the keys are equal by `keyIdentity`.
 */
export function compareKeys(a: unknown, b: unknown): number {
  const ta = typeof a;
  if (ta === typeof b) {
    if (ta === 'string') return (a as string) < (b as string) ? -1 : (a as string) > (b as string) ? 1 : 0;
    if (ta === 'number') return compareNumbers(a as number, b as number);
  }
  const ra = rankOf(a);
  const rb = rankOf(b);
  if (ra !== rb) return ra < rb ? -1 : 1;
  switch (ra) {
    case RANK_BOOLEAN:
      return a === b ? 0 : a ? 1 : -1;
    case RANK_BIGINT:
      return (a as bigint) < (b as bigint) ? -1 : (a as bigint) > (b as bigint) ? 1 : 0;
    case RANK_DATE:
      return compareNumbers((a as Date).getTime(), (b as Date).getTime());
    case RANK_ARRAY:
      return compareArrays(a as unknown[], b as unknown[]);
    case RANK_OTHER:
      return compareBytes(encodeKey(a), encodeKey(b));
    default:
      return 0; // undefined, null
  }
}

function compareArrays(a: readonly unknown[], b: readonly unknown[]): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i += 1) {
    const c = compareKeys(a[i], b[i]);
    if (c !== 0) return c;
  }
  return a.length === b.length ? 0 : a.length < b.length ? -1 : 1;
}
