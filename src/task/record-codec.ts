// The one codec for records: what crosses between the driver and executors as data (parallelize slices, fold
// zeros, task results). Flint's counterpart of Spark's `spark.serializer` (`JavaSerializer`, `KryoSerializer`):
// msgpack, plus extension types so that JavaScript values keep their types across the wire.
//
// Round-trips exactly (assert.deepStrictEqual holds, types included):
//   null, booleans, strings, numbers (NaN, ±Infinity and -0 too), plain arrays and objects (a key holding
//   undefined is kept), undefined (as a value, in arrays, in object properties), BigInt (any size, either sign),
//   Map, Set, Date (invalid ones too), Uint8Array (msgpack bin, as before), Int8Array, Uint8ClampedArray,
//   Int16Array, Uint16Array, Int32Array, Uint32Array, Float32Array, Float64Array, BigInt64Array, BigUint64Array,
//   and any nesting of these (Map keys may be any supported value).
// Arrives changed: an object with a null prototype arrives as a plain object; a Buffer (a Uint8Array subclass)
// as a Uint8Array; a hole in a sparse array as undefined; properties keyed by symbols are not sent.
// Anything else (a function, a symbol, an instance of a class, a WeakMap, a Promise, a DataView, a cyclic
// structure, nesting deeper than MAX_DEPTH) throws RecordEncodeError naming the type and its path, e.g.
// `records[3].user.socket`. Like Spark's NotSerializableException for a task result, this failure is
// deterministic: the driver does not retry a task that fails with it (src/driver/task-events.ts).
//
// Speed: plain values cost what plain msgpack costs (bench/record-codec.ts); an array of 16 or more numbers and
// nothing else is one copy of its numbers (EXT_NUMBER_ARRAY). Our encoders replace msgpack's
// `doEncode` on their own instances with one that dispatches on `typeof` and the prototype straight to
// msgpack's writers: msgpack's own would write undefined as nil and -0 as the integer 0 before asking any
// extension, and asks its extension codec about every object and array. Encoders are reused (one per level
// of Map/Set nesting) instead of one per call. The msgpack version is pinned by package-lock.json; makeEncoder
// throws at load, and test/unit/task/record-codec.test.ts fails, if an upgrade changes those internals.
//
// Typed arrays are sent as their bytes in the platform's byte order (little-endian on every platform Node runs
// Flint on).

import { Encoder, ExtData, ExtensionCodec } from '@msgpack/msgpack';
import { decodeMsgpack } from '../util/msgpack.ts';
import { FlintError } from '../errors.ts';
import { NUMBER_ALIGN } from '../util/own-buffer.ts';

/** msgpack's default nesting limit, kept: deeper records fail with RecordEncodeError. */
export const MAX_DEPTH = 100;

export const SUPPORTED_TYPES =
  'null, undefined, boolean, number, string, bigint, plain object, array, Map, Set, Date, Uint8Array, ' +
  'Int8Array, Uint8ClampedArray, Int16Array, Uint16Array, Int32Array, Uint32Array, Float32Array, ' +
  'Float64Array, BigInt64Array, BigUint64Array';

/**
 * A record holds a value the record codec cannot send. Deterministic: retrying the task cannot help, so the
 * driver fails the job after this one attempt (`retryable: false` in the TaskFailure), as Spark's
 * `TaskSetManager.handleFailedTask` aborts at once on a NotSerializableException.
 */
export class RecordEncodeError extends FlintError {
  /** Where the value was found, e.g. `records[3].user.socket`. */
  readonly path: string;
  /** What it is, e.g. `function sq`, `Socket instance`, `cycle`. */
  readonly valueType: string;
  readonly retryable = false;
  constructor(path: string, valueType: string, why = 'cannot be sent between the driver and executors') {
    super(
      'FLINT_RECORD_UNENCODABLE',
      `${path} is a ${valueType}, which ${why}. Records may hold: ${SUPPORTED_TYPES}, nested up to ${MAX_DEPTH} ` +
        'levels without cycles. Fix: turn it into one of these (e.g. a plain object) before it leaves the function.',
    );
    this.path = path;
    this.valueType = valueType;
  }
}

// ---- Extension types ------------------------------------------------------------------------------------------

const EXT_UNDEFINED = 0;
const EXT_BIGINT = 1;
const EXT_MAP = 2;
const EXT_SET = 3;
const EXT_DATE = 4;
/**
 * A plain array of NUMBER_ARRAY_MIN or more numbers and nothing else travels as the bytes of the narrowest of an
 * Int8Array, Int16Array or Int32Array that holds them all (integers, none -0), else of a Float64Array (which holds
 * any number exactly, -0 and NaN too), and arrives as a plain array again: a parallelize slice or a collected
 * partition of numbers costs a copy, not a msgpack item per number (bench:local), in no more bytes than msgpack
 * gives integers of the same range.
 */
const EXT_NUMBER_ARRAYS = [Int8Array, Int16Array, Int32Array, Float64Array] as const;
const EXT_NUMBER_ARRAY = 5; // ext types 5 to 8, in the order above
const NUMBER_ARRAY_MIN = 16;
/** Typed arrays other than Uint8Array, which stays msgpack bin. Their ext types are 16 + the index here. */
const TYPED_ARRAYS = [
  Int8Array,
  Uint8ClampedArray,
  Int16Array,
  Uint16Array,
  Int32Array,
  Uint32Array,
  Float32Array,
  Float64Array,
  BigInt64Array,
  BigUint64Array,
] as const;
const EXT_TYPED = 16;
// Dates are record values here, never the clock: the codec only recognises and rebuilds them.
// eslint-disable-next-line no-restricted-globals -- a record's Date, not the time (STYLE.md §6 is about clocks)
const DATE = Date;
type TypedArrayCtor = (typeof TYPED_ARRAYS)[number];
const typedIndex = new Map<object, number>(TYPED_ARRAYS.map((ctor, i) => [ctor.prototype, i]));

const EMPTY = new Uint8Array(0);
const UNDEFINED_EXT = new ExtData(EXT_UNDEFINED, EMPTY);

/** Thrown inside the encoder; `encodeRecord` catches it and walks the value to name the culprit and its path. */
class Unencodable extends Error {}

/** Map and Set contents are encoded by a nested encoder, one per level, reused. */
const nested: Encoder[] = [];
let nesting = 0;

function encodeNested(value: unknown[]): Uint8Array {
  if (nesting >= MAX_DEPTH) throw new Unencodable('too deep');
  const encoder = (nested[nesting] ??= makeEncoder());
  nesting += 1;
  try {
    return encoder.encode(value);
  } finally {
    nesting -= 1;
  }
}

function bigintBytes(n: bigint): Uint8Array {
  const negative = n < 0n;
  let hex = (negative ? -n : n).toString(16);
  if (hex.length % 2 === 1) hex = `0${hex}`;
  const out = new Uint8Array(1 + hex.length / 2);
  out[0] = negative ? 1 : 0;
  for (let i = 0; i < hex.length / 2; i += 1) out[i + 1] = parseInt(hex.slice(2 * i, 2 * i + 2), 16);
  return out;
}

function bigintOf(data: Uint8Array): bigint {
  let hex = '0x0';
  for (let i = 1; i < data.length; i += 1) hex += (data[i] as number).toString(16).padStart(2, '0');
  const n = BigInt(hex);
  return data[0] === 1 ? -n : n;
}

function dateBytes(date: InstanceType<typeof DATE>): Uint8Array {
  const out = new Uint8Array(8);
  new DataView(out.buffer).setFloat64(0, date.getTime());
  return out;
}

/** The index in EXT_NUMBER_ARRAYS of the narrowest kind that holds numbers `ints` or not, from `min` to `max`. */
function numberKind(ints: boolean, min: number, max: number): number {
  return !ints ? 3 : min >= -128 && max <= 127 ? 0 : min >= -32_768 && max <= 32_767 ? 1 : 2;
}

/**
 * The kind (numberKind) of `value[start…end)` when it holds numbers only; -1 when it holds anything else (a hole of
 * a sparse array too).
 */
function numberRangeKind(value: ArrayLike<unknown>, start: number, end: number): number {
  let ints = true;
  let min = 0;
  let max = 0;
  for (let i = start; i < end; i++) {
    const x = value[i];
    if (typeof x !== 'number') return -1;
    if (!ints) continue;
    if ((x | 0) !== x || (x === 0 && 1 / x < 0)) ints = false;
    else if (x < min) min = x;
    else if (x > max) max = x;
  }
  return numberKind(ints, min, max);
}

/** The ext of an array of numbers only (EXT_NUMBER_ARRAY + its kind); undefined when it holds anything else. */
function numberArrayExt(value: readonly unknown[]): ExtData | undefined {
  const kind = numberRangeKind(value, 0, value.length);
  if (kind < 0) return undefined;
  const view = new (EXT_NUMBER_ARRAYS[kind] as (typeof EXT_NUMBER_ARRAYS)[number])(value as readonly number[]);
  return new ExtData(EXT_NUMBER_ARRAY + kind, new Uint8Array(view.buffer));
}

/** A plain array of the numbers of `view`. */
function arrayOf(view: ArrayLike<number>): number[] {
  const out = new Array<number>(view.length);
  for (let i = 0; i < view.length; i++) out[i] = view[i] as number;
  return out;
}

/** The numbers of an EXT_NUMBER_ARRAY payload: a view of its bytes where they are aligned, else a copy. */
function numberView(kind: number, data: Uint8Array): ArrayLike<number> {
  const ctor = EXT_NUMBER_ARRAYS[kind] as (typeof EXT_NUMBER_ARRAYS)[number];
  const size = ctor.BYTES_PER_ELEMENT;
  if (data.byteOffset % size === 0) return new ctor(data.buffer as ArrayBuffer, data.byteOffset, data.byteLength / size);
  // `new Uint8Array(data)` always copies; `data.slice()` would not when data is a Buffer (as off a socket).
  return new ctor(new Uint8Array(data).buffer);
}

/** The ext of a supported non-plain object; null for msgpack's own bin; undefined when it is not supported. */
function extensionOf(value: object, proto: unknown): ExtData | null | undefined {
  if (proto === Map.prototype) {
    const flat: unknown[] = [];
    for (const [k, v] of value as Map<unknown, unknown>) flat.push(k, v);
    return new ExtData(EXT_MAP, encodeNested(flat));
  }
  if (proto === Set.prototype) return new ExtData(EXT_SET, encodeNested([...(value as Set<unknown>)]));
  if (proto === DATE.prototype) return new ExtData(EXT_DATE, dateBytes(value as InstanceType<typeof DATE>));
  const typed = typedIndex.get(proto as object);
  if (typed !== undefined) {
    const view = value as InstanceType<TypedArrayCtor>;
    return new ExtData(EXT_TYPED + typed, new Uint8Array(view.buffer, view.byteOffset, view.byteLength));
  }
  if (value instanceof Uint8Array) return null; // a Uint8Array, or a Buffer: msgpack bin
  return undefined;
}

/** The parts of @msgpack/msgpack 3.1's Encoder that `makeEncoder` uses (private in its typings). */
interface EncoderInternals {
  doEncode(value: unknown, depth: number): void;
  encodeNil(): void;
  encodeBoolean(value: boolean): void;
  encodeNumber(value: number): void;
  encodeNumberAsFloat(value: number): void;
  encodeString(value: string): void;
  encodeArray(value: readonly unknown[], depth: number): void;
  encodeMap(value: object, depth: number): void;
  encodeBinary(value: Uint8Array): void;
  encodeExtension(ext: ExtData): void;
}

const INTERNALS = [
  'doEncode',
  'encodeNil',
  'encodeBoolean',
  'encodeNumber',
  'encodeNumberAsFloat',
  'encodeString',
  'encodeArray',
  'encodeMap',
  'encodeBinary',
  'encodeExtension',
] as const;

/**
 * msgpack's `doEncode`, replaced: it dispatches on `typeof` and the prototype straight to msgpack's writers, so
 * undefined, -0, bigints and non-plain objects get our extensions, and plain objects and arrays skip msgpack's
 * extension lookup (`encodeObject` → `ExtensionCodec.tryToEncode`) altogether. No allocation for plain values.
 */
function doEncode(this: EncoderInternals, value: unknown, depth: number): void {
  if (depth > MAX_DEPTH) throw new Error(`Too deep objects in depth ${depth}`);
  switch (typeof value) {
    case 'number':
      if (value === 0 && Object.is(value, -0)) this.encodeNumberAsFloat(value);
      else this.encodeNumber(value);
      return;
    case 'string':
      this.encodeString(value);
      return;
    case 'object': {
      if (value === null) {
        this.encodeNil();
        return;
      }
      const proto: unknown = Object.getPrototypeOf(value);
      if (proto === Array.prototype) {
        const numbers = (value as unknown[]).length >= NUMBER_ARRAY_MIN ? numberArrayExt(value as unknown[]) : undefined;
        if (numbers === undefined) this.encodeArray(value as unknown[], depth);
        else this.encodeExtension(numbers);
        return;
      }
      if (proto === Object.prototype || proto === null) {
        this.encodeMap(value, depth);
        return;
      }
      const ext = extensionOf(value, proto);
      if (ext === undefined) throw new Unencodable('object');
      if (ext === null) this.encodeBinary(value as Uint8Array);
      else this.encodeExtension(ext);
      return;
    }
    case 'boolean':
      this.encodeBoolean(value);
      return;
    case 'undefined':
      this.encodeExtension(UNDEFINED_EXT);
      return;
    case 'bigint':
      this.encodeExtension(new ExtData(EXT_BIGINT, bigintBytes(value)));
      return;
    default:
      throw new Unencodable(typeof value);
  }
}

/** An Encoder whose `doEncode` (called for the top value and every nested one) is ours. */
function makeEncoder(): Encoder {
  const encoder = new Encoder({ maxDepth: MAX_DEPTH });
  const self = encoder as unknown as EncoderInternals;
  if (INTERNALS.some((name) => typeof self[name] !== 'function')) {
    throw new Error('@msgpack/msgpack changed its Encoder internals; src/task/record-codec.ts needs updating');
  }
  self.doEncode = doEncode;
  return encoder;
}

/**
 * Decoders only: no encoders registered, so no encoder loop runs over them. The built-in timestamp decoder
 * stays: Dates go out as EXT_DATE (a float64 of milliseconds, so an invalid Date survives, which the timestamp
 * extension cannot hold), but a timestamp written elsewhere still decodes to a Date.
 */
const decodeCodec = new ExtensionCodec();
const NO_ENCODE = undefined as unknown as () => null;

// ---- Decoding ------------------------------------------------------------------------------------------------

/** The values of a Map's or a Set's extension: decoded with a cursor of their own (src/util/msgpack.ts). */
function decodeNested(data: Uint8Array): unknown[] {
  return decodeMsgpack(data, decodeCodec) as unknown[];
}

decodeCodec.register({ type: EXT_UNDEFINED, encode: NO_ENCODE, decode: () => undefined });
decodeCodec.register({ type: EXT_BIGINT, encode: NO_ENCODE, decode: bigintOf });
decodeCodec.register({
  type: EXT_MAP,
  encode: NO_ENCODE,
  decode: (data) => {
    const flat = decodeNested(data);
    const map = new Map<unknown, unknown>();
    for (let i = 0; i + 1 < flat.length; i += 2) map.set(flat[i], flat[i + 1]);
    return map;
  },
});
EXT_NUMBER_ARRAYS.forEach((_, i) => {
  decodeCodec.register({ type: EXT_NUMBER_ARRAY + i, encode: NO_ENCODE, decode: (data) => arrayOf(numberView(i, data)) });
});
decodeCodec.register({ type: EXT_SET, encode: NO_ENCODE, decode: (data) => new Set(decodeNested(data)) });
decodeCodec.register({
  type: EXT_DATE,
  encode: NO_ENCODE,
  decode: (data) => new DATE(new DataView(data.buffer, data.byteOffset, data.byteLength).getFloat64(0)),
});
TYPED_ARRAYS.forEach((ctor, i) => {
  decodeCodec.register({
    type: EXT_TYPED + i,
    encode: NO_ENCODE,
    // Copied into a fresh buffer: the data may sit at any offset, and a typed array needs its element alignment.
    // `new Uint8Array(data)` always copies; `data.slice()` would not when data is a Buffer (as off a socket).
    decode: (data) => new ctor(new Uint8Array(data).buffer),
  });
});

// ---- The codec -----------------------------------------------------------------------------------------------

const topEncoder = makeEncoder();

/**
 * Encodes a record (or an array of them, a fold zero, a partition's result). `root` names the value in a
 * RecordEncodeError's path (`records`, `zero`, …). Throws RecordEncodeError, synchronously, for anything
 * outside SUPPORTED_TYPES.
 */
export function encodeRecord(value: unknown, root = 'value'): Uint8Array {
  try {
    return topEncoder.encode(value);
  } catch (err) {
    throw explainEncodeFailure(err, value, root);
  }
}

/**
 * Encodes `records.slice(start, end)` (a parallelize slice). A failure's path is the record's index in the whole
 * of `records` (`data[1234].when`), as the user wrote it, not its index in the slice.
 */
export function encodeRecordSlice(records: readonly unknown[], start: number, end: number, root = 'data'): Uint8Array {
  if (end - start >= NUMBER_ARRAY_MIN) {
    // Numbers only: written straight from `records`, without a copy of the slice (bench:local).
    const ints = intSliceBytes(records, start, end);
    if (ints !== undefined) return ints;
    const kind = numberRangeKind(records, start, end);
    if (kind >= 0) return numberArrayBytes(records as readonly number[], start, end, kind);
  }
  const slice = records.slice(start, end);
  try {
    return topEncoder.encode(slice);
  } catch (err) {
    const explained = explainEncodeFailure(err, slice, root);
    if (!(explained instanceof RecordEncodeError) || explained.path === root) throw explained;
    throw findUnencodable(records, root, new Map(), 1) ?? explained;
  }
}

/**
 * Decodes what encodeRecord wrote. A Buffer (as read off a socket) is viewed as a plain Uint8Array first, without
 * copying: msgpack returns bin values as views of its input, and they must arrive as Uint8Array, not Buffer.
 */
export function decodeRecord(bytes: Uint8Array): unknown {
  const plain = Object.getPrototypeOf(bytes) === Uint8Array.prototype ? bytes : new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return decodeMsgpack(plain, decodeCodec);
}

// ---- Lists of records -------------------------------------------------------------------------------------------
//
// A parallelize slice, or a collected partition, is an encoded array of records. When it is an array of numbers
// only (EXT_NUMBER_ARRAY at the top), the paths below skip the plain arrays that are not needed: a task reads the
// numbers from a view of the bytes, a task's collect gathers numbers in a typed column, and the driver copies each
// partition's numbers straight into the one array collect() returns. On a machine where a fresh page of memory
// costs a fault of some microseconds, a megabyte of plain array not made is worth more than its copy
// (docs/benchmarks.md, bench:local).

/** The msgpack ext header of a payload of `size` bytes, as @msgpack/msgpack's encodeExtension writes it. */
function extHeader(type: number, size: number): number[] {
  if (size === 16) return [0xd8, type];
  if (size < 0x100) return [0xc7, size, type];
  if (size < 0x10000) return [0xc8, size >>> 8, size & 0xff, type];
  return [0xc9, size >>> 24, (size >>> 16) & 0xff, (size >>> 8) & 0xff, size & 0xff, type];
}

/**
 * `numbers[start…end)` (at least NUMBER_ARRAY_MIN, all of kind `kind`) encoded as encodeRecord encodes the plain
 * array of them: the same bytes, written without msgpack's encoder or a copy of the range. The bytes start a few
 * bytes into their buffer, so that the numbers after the header are aligned for a typed view (numberView makes
 * none of them a copy); ownsItsBuffer still says they hold their buffer alone.
 */
function numberArrayBytes(numbers: ArrayLike<number>, start: number, end: number, kind: number): Uint8Array {
  const { bytes, view } = numberArrayOut(end - start, kind);
  for (let i = 0; i < view.length; i++) view[i] = numbers[start + i] as number;
  return bytes;
}

/** The bytes of an EXT_NUMBER_ARRAY of `count` numbers of `kind`, header written, and the view to write them in. */
function numberArrayOut(count: number, kind: number): { readonly bytes: Uint8Array; readonly view: Int8Array | Int16Array | Int32Array | Float64Array } {
  const ctor = EXT_NUMBER_ARRAYS[kind] as (typeof EXT_NUMBER_ARRAYS)[number];
  const header = extHeader(EXT_NUMBER_ARRAY + kind, count * ctor.BYTES_PER_ELEMENT);
  const pad = (NUMBER_ALIGN - (header.length % NUMBER_ALIGN)) % NUMBER_ALIGN;
  const buffer = new ArrayBuffer(pad + header.length + count * ctor.BYTES_PER_ELEMENT);
  const bytes = new Uint8Array(buffer, pad);
  bytes.set(header);
  return { bytes, view: new ctor(buffer, pad + header.length, count) };
}

/** numberKind's index of Int32Array. */
const INT32_KIND = 2;

/**
 * numberArrayBytes of `values[start…end)` when they are all integers of 32 bits (none -0), in one pass over them
 * instead of two: each is checked as it is written. They are narrowed afterwards when they fit a narrower kind,
 * by a copy between typed arrays. Undefined at the first value that is not such an integer (the caller then
 * takes the general path, and the pages written so far are all that was lost).
 */
function intSliceBytes(values: readonly unknown[], start: number, end: number): Uint8Array | undefined {
  // A slice of strings or objects (or of floats that start as one) is turned away before its buffer is made.
  const first = values[start];
  if (typeof first !== 'number' || (first | 0) !== first) return undefined;
  const { bytes, view } = numberArrayOut(end - start, INT32_KIND);
  let min = 0;
  let max = 0;
  for (let i = start; i < end; i++) {
    const x = values[i];
    if (typeof x !== 'number' || (x | 0) !== x || (x === 0 && 1 / x < 0)) return undefined;
    if (x < min) min = x;
    else if (x > max) max = x;
    view[i - start] = x;
  }
  const kind = numberKind(true, min, max);
  if (kind === INT32_KIND) return bytes;
  const narrow = numberArrayOut(end - start, kind);
  narrow.view.set(view);
  return narrow.bytes;
}

/** The kind and payload of `bytes` when they are one EXT_NUMBER_ARRAY and nothing else; undefined otherwise. */
function wholeNumberArray(bytes: Uint8Array): { readonly kind: number; readonly data: Uint8Array } | undefined {
  let header: number;
  let size: number;
  switch (bytes[0]) {
    case 0xd8:
      header = 2;
      size = 16;
      break;
    case 0xc7:
      header = 3;
      size = bytes[1] ?? 0;
      break;
    case 0xc8:
      header = 4;
      size = ((bytes[1] ?? 0) << 8) | (bytes[2] ?? 0);
      break;
    case 0xc9:
      header = 6;
      size = (((bytes[1] ?? 0) << 24) | ((bytes[2] ?? 0) << 16) | ((bytes[3] ?? 0) << 8) | (bytes[4] ?? 0)) >>> 0;
      break;
    default:
      return undefined;
  }
  const kind = (bytes[header - 1] ?? 0) - EXT_NUMBER_ARRAY;
  if (kind < 0 || kind >= EXT_NUMBER_ARRAYS.length || header + size !== bytes.byteLength) return undefined;
  return { kind, data: bytes.subarray(header) };
}

/**
 * The records of an encoded array, to be read by index: the numbers of an array of numbers as a view of their bytes
 * (no plain array made), any other array decoded; undefined when the bytes encode something else.
 */
export function decodeRecordList(bytes: Uint8Array): ArrayLike<unknown> | undefined {
  const numbers = wholeNumberArray(bytes);
  if (numbers !== undefined) return numberView(numbers.kind, numbers.data);
  const items = decodeRecord(bytes);
  return Array.isArray(items) ? items : undefined;
}

/** The records of encoded arrays (collected partitions), one array after the other, in one plain array. */
export function concatRecordLists(encoded: readonly Uint8Array[]): unknown[] {
  const lists = encoded.map((bytes, i) => {
    const list = decodeRecordList(bytes);
    if (list === undefined) throw new TypeError(`partition ${i}'s result is not an array of records`);
    return list;
  });
  let total = 0;
  for (const list of lists) total += list.length;
  const out = new Array<unknown>(total);
  let at = 0;
  for (const list of lists) for (let i = 0; i < list.length; i++) out[at++] = list[i];
  return out;
}

// A task's column of numbers grows in chunks. Its first chunk is small and new, so a task that collects a few
// records touches a few bytes; the chunks after it are CHUNK numbers each and come from a pool of this thread's,
// filled as lists are encoded. A fresh page of memory costs a fault of 2.5–15 µs on the Firecracker guests we
// measured, ten times the work of filling it or more, and a column grown by doubling makes twice its size of fresh
// pages: a pooled chunk is memory already mapped (docs/benchmarks.md, bench:local).
const FIRST_CHUNK = 1_024;
const CHUNK = 65_536; // numbers: 512 KiB
/** Chunks kept for reuse per thread: 8 MiB, a column of about a million numbers. */
const POOLED_CHUNKS_MAX = 16;
const pooledChunks: Array<Float64Array<ArrayBuffer>> = [];
const NO_CHUNK = new Float64Array(0);

/**
 * The records a task collects, encoded by `encode` exactly as encodeRecord encodes the plain array of them. While
 * they are all numbers they are kept in a typed column (chunks, above), which is written out without a plain array
 * in between; the first record that is not a number turns the column into a plain array. `encode` hands the
 * column's chunks back to the pool: a list is encoded once, and is used no more afterwards.
 */
export class RecordList {
  /** The column's chunks before the one being filled. */
  #full: Array<Float64Array<ArrayBuffer>> = [];
  /** The numbers in `#full`, kept so that `length` does not walk the chunks. */
  #fullCount = 0;
  #chunk = new Float64Array(FIRST_CHUNK);
  #fill = 0;
  #items: unknown[] | undefined;
  #spent = false;

  get length(): number {
    if (this.#items !== undefined) return this.#items.length;
    return this.#fullCount + this.#fill;
  }

  push(record: unknown): void {
    if (this.#items !== undefined) {
      this.#items.push(record);
      return;
    }
    if (typeof record !== 'number') {
      this.#assertNotSpent();
      this.#items = this.toArray();
      this.#release();
      this.#items.push(record);
      return;
    }
    if (this.#fill === this.#chunk.length) this.#nextChunk();
    this.#chunk[this.#fill++] = record;
  }

  /** The records as a plain array (the list's own, once a record was not a number). */
  toArray(): unknown[] {
    if (this.#items !== undefined) return this.#items;
    const out = new Array<number>(this.length);
    let at = 0;
    for (const chunk of this.#full) for (let i = 0; i < chunk.length; i++) out[at++] = chunk[i] as number;
    for (let i = 0; i < this.#fill; i++) out[at++] = this.#chunk[i] as number;
    return out;
  }

  /** What encodeRecord(this.toArray(), root) returns. The list is spent afterwards (see the class comment). */
  encode(root = 'records'): Uint8Array {
    this.#assertNotSpent();
    const count = this.length;
    if (this.#items !== undefined || count < NUMBER_ARRAY_MIN) {
      const bytes = encodeRecord(this.toArray(), root);
      this.#spend();
      return bytes;
    }
    // The narrowest kind is found in one pass over the column, not record by record as they come; the narrowest
    // kind of all the chunks is the widest of theirs (each kind's range holds the ones before it).
    let kind = numberRangeKind(this.#chunk, 0, this.#fill);
    for (const chunk of this.#full) kind = Math.max(kind, numberRangeKind(chunk, 0, chunk.length));
    const { bytes, view } = numberArrayOut(count, kind);
    let at = 0;
    for (const chunk of this.#full) {
      view.set(chunk, at);
      at += chunk.length;
    }
    view.set(this.#chunk.subarray(0, this.#fill), at);
    this.#spend();
    return bytes;
  }

  #nextChunk(): void {
    this.#assertNotSpent();
    this.#full.push(this.#chunk);
    this.#fullCount += this.#chunk.length;
    this.#chunk = pooledChunks.pop() ?? new Float64Array(CHUNK);
    this.#fill = 0;
  }

  /** Gives the pooled-size chunks back; the column is empty, and a number pushed next lands in #nextChunk. */
  #release(): void {
    for (const chunk of [...this.#full, this.#chunk]) {
      if (chunk.length === CHUNK && pooledChunks.length < POOLED_CHUNKS_MAX) pooledChunks.push(chunk);
    }
    this.#full = [];
    this.#fullCount = 0;
    this.#chunk = NO_CHUNK;
    this.#fill = 0;
  }

  #spend(): void {
    this.#release();
    this.#items = undefined;
    this.#spent = true;
  }

  /** Checked off the hot path only: where a spent list's next record, or its encode, always passes. */
  #assertNotSpent(): void {
    if (this.#spent) throw new Error('a RecordList was used after it was encoded');
  }
}

/** The codec to inject where a TaskCodec is wanted (evaluateTask's env). */
export const recordCodec = { encode: encodeRecord, decode: decodeRecord, decodeList: decodeRecordList, list: () => new RecordList() } as const;

/**
 * Turns an encoder failure into a RecordEncodeError naming what failed and where, by walking `value` the way
 * the encoder does. Only runs on failure, so the fast path keeps no paths. Other errors come back unchanged.
 */
export function explainEncodeFailure(err: unknown, value: unknown, root: string): unknown {
  if (err instanceof RecordEncodeError) return err;
  const tooDeep = err instanceof Error && (/^Too deep/.test(err.message) || err instanceof RangeError);
  if (!(err instanceof Unencodable) && !tooDeep) return err;
  const found = findUnencodable(value, root, new Map(), 1);
  if (found !== undefined) return found;
  return new RecordEncodeError(root, 'structure nested too deeply', `goes deeper than ${MAX_DEPTH} levels`);
}

/** The first value under `value` (depth first, in encoding order) that the codec cannot send. */
export function findUnencodable(value: unknown, path: string, ancestors: Map<object, string>, depth: number): RecordEncodeError | undefined {
  if (typeof value === 'function') return new RecordEncodeError(path, `function ${value.name || '(anonymous)'}`);
  if (typeof value === 'symbol') return new RecordEncodeError(path, `symbol ${String(value)}`);
  if (typeof value !== 'object' || value === null) return undefined;
  const seenAt = ancestors.get(value);
  if (seenAt !== undefined) {
    return new RecordEncodeError(path, `reference to ${seenAt}`, 'makes a cycle, and cycles cannot be sent');
  }
  if (depth > MAX_DEPTH) return new RecordEncodeError(path, 'value nested too deeply', `is deeper than ${MAX_DEPTH} levels`);
  const proto: unknown = Object.getPrototypeOf(value);
  const children = childrenOf(value, proto, path);
  if (children === undefined) return new RecordEncodeError(path, typeName(value, proto));
  ancestors.set(value, path);
  try {
    for (const [childPath, child] of children) {
      const found = findUnencodable(child, childPath, ancestors, depth + 1);
      if (found !== undefined) return found;
    }
  } finally {
    ancestors.delete(value);
  }
  return undefined;
}

/** The contained values of a supported object with their paths; undefined for an unsupported object. */
function childrenOf(value: object, proto: unknown, path: string): Array<[string, unknown]> | undefined {
  if (proto === Array.prototype) return (value as unknown[]).map((item, i) => [`${path}[${i}]`, item]);
  if (proto === Object.prototype || proto === null) {
    return Object.keys(value).map((key) => [`${path}${propertyPath(key)}`, (value as Record<string, unknown>)[key]]);
  }
  if (proto === Map.prototype) {
    const out: Array<[string, unknown]> = [];
    let i = 0;
    for (const [k, v] of value as Map<unknown, unknown>) {
      out.push([`${path}.keys()[${i}]`, k]);
      const label = typeof k === 'string' ? JSON.stringify(k) : typeof k === 'number' ? String(k) : `keys()[${i}]`;
      out.push([`${path}.get(${label})`, v]);
      i += 1;
    }
    return out;
  }
  if (proto === Set.prototype) return [...(value as Set<unknown>)].map((item, i) => [`${path}.values()[${i}]`, item]);
  const leaf = proto === DATE.prototype || typedIndex.has(proto as object) || value instanceof Uint8Array;
  return leaf ? [] : undefined;
}

function propertyPath(key: string): string {
  return /^[A-Za-z_$][\w$]*$/.test(key) ? `.${key}` : `[${JSON.stringify(key)}]`;
}

function typeName(value: object, proto: unknown): string {
  const ctor = (proto as { constructor?: unknown } | null)?.constructor;
  const name = typeof ctor === 'function' && ctor.name !== '' ? ctor.name : Object.prototype.toString.call(value).slice(8, -1);
  return `${name} instance`;
}
