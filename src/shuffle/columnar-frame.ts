// The columnar frame body: the common shuffle frame — every record a plain array of the same small arity whose
// columns each hold only numbers or only strings ([word, count], [key, value] of numbers, the aggregator's
// [hash, key, combiner] spill triples) — written column by column instead of through the record codec, which
// costs a few hundred nanoseconds per record either way. Decoding gives exactly what
// decodeRecord(encodeRecord(records)) gives: fresh arrays, equal strings, -0 and NaN kept.
//
// Layout (all integers little-endian; offsets from the body's first byte):
//
//   0      u8   COLUMNAR_TAG (0xc1): msgpack never writes this byte, and a msgpack body is an array, whose first
//               byte is 0x90–0x9f, 0xdc or 0xdd; so the two kinds of body cannot be mistaken for each other
//   1      u8   LAYOUT_VERSION (1)
//   2      u8   arity a (1…MAX_ARITY)
//   3      u8   0
//   4      u32  record count n (≥ 1)
//   8      a × u8 column kinds, then zeros to the next multiple of 8
//   then a columns, each starting at a multiple of 8 (zero padded):
//     KIND_I32     n × i32                     every value an integer in int32 range, and not -0
//     KIND_F64     n × f64                     any numbers (NaN's bits as written)
//     KIND_LATIN1  n × u32 end offsets, blob   every code unit < 256; the blob holds one byte per code unit
//     KIND_UTF8    n × u32 end offsets, blob   UTF-8; only when every string is well-formed (no lone
//                                              surrogates, which UTF-8 cannot carry)
//   String i is blob[end[i-1] (0 for i = 0), end[i]); the blob's length is end[n-1]. The body ends after the
//   last column's padding.
//
// Anything else (mixed columns, other types, arrays of other lengths, array subclasses, a string with a lone
// surrogate) returns undefined from encodeColumnarBody and the frame goes through the record codec.

import { Buffer } from 'node:buffer';
import { ShuffleError } from './shuffle-errors.ts';

export const COLUMNAR_TAG = 0xc1;
const LAYOUT_VERSION = 1;
/** Records wider than this are left to the record codec. */
export const MAX_ARITY = 8;
const HEADER_BYTES = 8;

const KIND_I32 = 1;
const KIND_F64 = 2;
const KIND_LATIN1 = 3;
const KIND_UTF8 = 4;
/** Classification only: a string column before its encoding is chosen. */
const KIND_STRING = 5;

/**
 * V8's SlicedString::kMinLength: a substring shorter than this is a copy, a longer one a slice that keeps the
 * whole string it was cut from alive. Decoded strings shorter than this are cut from the frame's one decoded
 * blob; longer ones are decoded on their own, so that a kept string never pins its frame's whole blob (and the
 * shuffle writer copies new string keys this long: shuffle-writer.ts ownString).
 */
export const SLICE_BELOW = 13;
// eslint-disable-next-line no-control-regex -- U+0000 is the start of the latin1 range
const NOT_LATIN1 = /[^\u0000-\u00ff]/;

const pad8 = (n: number): number => (n + 7) & ~7;

function isInt32(x: number): boolean {
  return (x | 0) === x && (x !== 0 || 1 / x > 0);
}

/** The column kinds (KIND_I32, KIND_F64 or KIND_STRING), or undefined when the records do not fit. */
function classify(records: readonly unknown[]): Uint8Array | undefined {
  const first = records[0];
  if (!Array.isArray(first) || Object.getPrototypeOf(first) !== Array.prototype) return undefined;
  const arity = first.length;
  if (arity < 1 || arity > MAX_ARITY) return undefined;
  const kinds = new Uint8Array(arity);
  for (let c = 0; c < arity; c += 1) {
    const v: unknown = first[c];
    if (typeof v === 'string') kinds[c] = KIND_STRING;
    else if (typeof v === 'number') kinds[c] = isInt32(v) ? KIND_I32 : KIND_F64;
    else return undefined;
  }
  for (let i = 1; i < records.length; i += 1) {
    const record = records[i];
    if (!Array.isArray(record) || record.length !== arity || Object.getPrototypeOf(record) !== Array.prototype) return undefined;
    for (let c = 0; c < arity; c += 1) {
      const v: unknown = record[c];
      const kind = kinds[c];
      if (kind === KIND_STRING) {
        if (typeof v !== 'string') return undefined;
      } else if (typeof v !== 'number') return undefined;
      else if (kind === KIND_I32 && !isInt32(v)) kinds[c] = KIND_F64;
    }
  }
  return kinds;
}

/** A string column ready to write: its strings joined, its kind, and for UTF-8 the strings' byte end offsets. */
interface StringColumn {
  readonly strings: string[];
  readonly joined: string;
  readonly kind: number;
  readonly ends: Uint32Array | undefined;
}

const blobBytesOf = (column: StringColumn): number => (column.ends === undefined ? column.joined.length : (column.ends[column.ends.length - 1] as number));

/**
 * The UTF-8 length of `s`, or -1 when it holds a lone surrogate (UTF-8 cannot carry one: the frame then goes
 * through the record codec).
 */
function utf8Length(s: string): number {
  let bytes = 0;
  for (let i = 0; i < s.length; i += 1) {
    const u = s.charCodeAt(i);
    if (u < 0x80) bytes += 1;
    else if (u < 0x800) bytes += 2;
    else if (u < 0xd800 || u > 0xdfff) bytes += 3;
    else if (u > 0xdbff) return -1;
    else {
      const low = s.charCodeAt(i + 1);
      if (!(low >= 0xdc00 && low <= 0xdfff)) return -1;
      bytes += 4;
      i += 1;
    }
  }
  return bytes;
}

function stringColumn(records: readonly unknown[], c: number): StringColumn | undefined {
  const n = records.length;
  const strings = new Array<string>(n);
  for (let i = 0; i < n; i += 1) strings[i] = (records[i] as string[])[c] as string;
  const joined = strings.join('');
  if (!NOT_LATIN1.test(joined)) return { strings, joined, kind: KIND_LATIN1, ends: undefined };
  const ends = new Uint32Array(n);
  let end = 0;
  for (let i = 0; i < n; i += 1) {
    const bytes = utf8Length(strings[i] as string);
    if (bytes < 0) return undefined;
    ends[i] = end += bytes;
  }
  return { strings, joined, kind: KIND_UTF8, ends };
}

/** Where a body's bytes come from: `bytes` zeroed bytes (Buffer.alloc, or a FrameArena's). */
export type AllocateBody = (bytes: number) => Buffer;

/** The columnar body of `records`, or undefined when they do not have a columnar shape (see the header). */
export function encodeColumnarBody(records: readonly unknown[], allocate: AllocateBody = Buffer.alloc): Uint8Array | undefined {
  const n = records.length;
  if (n === 0 || n > 0xffff_ffff) return undefined;
  const kinds = classify(records);
  if (kinds === undefined) return undefined;
  const arity = kinds.length;
  const strings: Array<StringColumn | undefined> = [];
  let bytes = pad8(HEADER_BYTES + arity);
  for (let c = 0; c < arity; c += 1) {
    const kind = kinds[c] as number;
    if (kind === KIND_STRING) {
      const column = stringColumn(records, c);
      if (column === undefined) return undefined;
      kinds[c] = column.kind;
      strings.push(column);
      bytes += pad8(4 * n + blobBytesOf(column));
    } else {
      strings.push(undefined);
      bytes += pad8((kind === KIND_I32 ? 4 : 8) * n);
    }
  }
  const body = allocate(bytes);
  let at = writeHeader(body, n, kinds);
  for (let c = 0; c < arity; c += 1) {
    const column = strings[c];
    at = column === undefined ? writeNumbers(body, at, records, c, kinds[c] === KIND_I32) : writeStrings(body, at, column);
  }
  return new Uint8Array(body.buffer, body.byteOffset, body.byteLength);
}

/**
 * The columnar body of n [number, number] records held as two columns (FrameBatcher's number pairs): the same
 * bytes encodeColumnarBody gives for the records themselves.
 */
export function encodeNumberPairBody(keys: Float64Array, values: Float64Array, n: number, allocate: AllocateBody = Buffer.alloc): Uint8Array {
  const keysInt32 = allInt32(keys, n);
  const valuesInt32 = allInt32(values, n);
  const body = allocate(pad8(HEADER_BYTES + 2) + pad8((keysInt32 ? 4 : 8) * n) + pad8((valuesInt32 ? 4 : 8) * n));
  let at = writeHeader(body, n, [keysInt32 ? KIND_I32 : KIND_F64, valuesInt32 ? KIND_I32 : KIND_F64]);
  at = writeColumn(body, at, keys, n, keysInt32);
  writeColumn(body, at, values, n, valuesInt32);
  return new Uint8Array(body.buffer, body.byteOffset, body.byteLength);
}

/** Writes the header of a body of n records with columns of `kinds`; returns where the first column starts. */
function writeHeader(body: Buffer, n: number, kinds: ArrayLike<number>): number {
  body[0] = COLUMNAR_TAG;
  body[1] = LAYOUT_VERSION;
  body[2] = kinds.length;
  body.writeUInt32LE(n, 4);
  body.set(kinds, HEADER_BYTES);
  return pad8(HEADER_BYTES + kinds.length);
}

function allInt32(column: Float64Array, n: number): boolean {
  for (let i = 0; i < n; i += 1) if (!isInt32(column[i] as number)) return false;
  return true;
}

/** Whether this machine stores numbers little-endian, as the layout does (every platform Node runs Flint on). */
const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/**
 * Writes the first n numbers of `column` at `at`, as int32 or float64. Where the machine's byte order is the
 * layout's and the place is aligned (always, for bodies from Buffer.alloc or a FrameArena), one typed array copy
 * does it (a native loop, which converts to int32 as a DataView would); else a DataView, number by number.
 */
function writeColumn(body: Buffer, at: number, column: Float64Array, n: number, int32: boolean): number {
  const width = int32 ? 4 : 8;
  const offset = body.byteOffset + at;
  if (LITTLE_ENDIAN && offset % width === 0) {
    const from = n === column.length ? column : column.subarray(0, n);
    if (int32) new Int32Array(body.buffer, offset, n).set(from);
    else new Float64Array(body.buffer, offset, n).set(from);
  } else {
    const view = new DataView(body.buffer, offset, width * n);
    if (int32) for (let i = 0; i < n; i += 1) view.setInt32(4 * i, column[i] as number, true);
    else for (let i = 0; i < n; i += 1) view.setFloat64(8 * i, column[i] as number, true);
  }
  return at + pad8(width * n);
}

function writeNumbers(body: Buffer, at: number, records: readonly unknown[], c: number, int32: boolean): number {
  const n = records.length;
  const view = new DataView(body.buffer, body.byteOffset + at, (int32 ? 4 : 8) * n);
  if (int32) for (let i = 0; i < n; i += 1) view.setInt32(4 * i, (records[i] as number[])[c] as number, true);
  else for (let i = 0; i < n; i += 1) view.setFloat64(8 * i, (records[i] as number[])[c] as number, true);
  return at + pad8(view.byteLength);
}

function writeStrings(body: Buffer, at: number, column: StringColumn): number {
  const { strings, joined, ends } = column;
  const n = strings.length;
  const view = new DataView(body.buffer, body.byteOffset + at, 4 * n);
  const blobBytes = blobBytesOf(column);
  body.write(joined, at + 4 * n, blobBytes, ends === undefined ? 'latin1' : 'utf8');
  if (ends === undefined) {
    let end = 0;
    for (let i = 0; i < n; i += 1) view.setUint32(4 * i, (end += (strings[i] as string).length), true);
  } else for (let i = 0; i < n; i += 1) view.setUint32(4 * i, ends[i] as number, true);
  return at + pad8(4 * n + blobBytes);
}

// ---- Decoding -------------------------------------------------------------------------------------------------

function corrupt(why: string): ShuffleError {
  return new ShuffleError('FLINT_SHUFFLE_CORRUPT', `a columnar shuffle frame ${why}: the block is corrupt`);
}

type Column = ArrayLike<number> | ArrayLike<string>;

/** The records of a columnar body (its first byte is COLUMNAR_TAG). Throws FLINT_SHUFFLE_CORRUPT on bad bytes. */
export function decodeColumnarBody(bytes: Uint8Array): unknown[] {
  const { columns, n } = decodeColumns(bytes);
  return rows(columns, n);
}

/**
 * The two number columns of a columnar body of [number, number] records (its keys and values, as typed arrays
 * over or copied from the body), or undefined when the body is not of that shape: the external sorter keeps such
 * frames as columns instead of records. Throws FLINT_SHUFFLE_CORRUPT on bad bytes.
 */
export function numberPairColumns(bytes: Uint8Array): { keys: ArrayLike<number>; values: ArrayLike<number> } | undefined {
  if (bytes[0] !== COLUMNAR_TAG || bytes[2] !== 2) return undefined;
  const kinds = [bytes[HEADER_BYTES], bytes[HEADER_BYTES + 1]];
  if (!kinds.every((kind) => kind === KIND_I32 || kind === KIND_F64)) return undefined;
  const { columns } = decodeColumns(bytes);
  return { keys: columns[0] as ArrayLike<number>, values: columns[1] as ArrayLike<number> };
}

/**
 * The fewest bytes a [number, number] record takes in a shuffle block (two int32 columns): a block's bytes over
 * this bound the number of pairs it holds, which the sorter and the join size their tables by.
 */
export const MIN_NUMBER_PAIR_BYTES = 8;

/** A frame of [key, value] records as its two columns. */
export interface PairColumns {
  readonly keys: ArrayLike<unknown>;
  readonly values: ArrayLike<unknown>;
}

/**
 * The two columns of a columnar body of [key, value] records, whatever their kinds (numbers or strings), or
 * undefined when the body is not of that shape: the hash join streams such frames without making a pair per
 * record. Throws FLINT_SHUFFLE_CORRUPT on bad bytes.
 */
export function pairColumns(bytes: Uint8Array): PairColumns | undefined {
  if (bytes[0] !== COLUMNAR_TAG || bytes[2] !== 2) return undefined;
  const { columns } = decodeColumns(bytes);
  return { keys: columns[0] as Column, values: columns[1] as Column };
}

function decodeColumns(bytes: Uint8Array): { columns: Column[]; n: number } {
  const body = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (body.length < HEADER_BYTES) throw corrupt(`has ${body.length} bytes, fewer than its header`);
  if (body[1] !== LAYOUT_VERSION) throw corrupt(`has layout version ${body[1]}, not ${LAYOUT_VERSION}`);
  const arity = body[2] as number;
  const n = body.readUInt32LE(4);
  if (arity < 1 || arity > MAX_ARITY || n === 0) throw corrupt(`claims ${n} records of ${arity} columns`);
  let at = pad8(HEADER_BYTES + arity);
  const columns: Column[] = [];
  for (let c = 0; c < arity; c += 1) {
    const kind = body[HEADER_BYTES + c];
    let bytesUsed: number;
    if (kind === KIND_I32 || kind === KIND_F64) {
      bytesUsed = (kind === KIND_I32 ? 4 : 8) * n;
      if (at + bytesUsed > body.length) throw corrupt(`ends inside column ${c}`);
      columns.push(numberColumn(body, at, n, kind === KIND_I32));
    } else if (kind === KIND_LATIN1 || kind === KIND_UTF8) {
      if (at + 4 * n > body.length) throw corrupt(`ends inside column ${c}`);
      const blobBytes = body.readUInt32LE(at + 4 * (n - 1));
      bytesUsed = 4 * n + blobBytes;
      if (at + bytesUsed > body.length) throw corrupt(`ends inside column ${c}`);
      columns.push(stringsOf(body, at, n, kind === KIND_LATIN1));
    } else throw corrupt(`has column kind ${kind}`);
    at += pad8(bytesUsed);
  }
  if (at !== body.length) throw corrupt(`has ${body.length} bytes, its columns ${at}`);
  return { columns, n };
}

/**
 * An aligned typed array over the column: a view of the body when the bytes are aligned, else a copy. A view
 * lives only as long as the body's bytes, which a reader may reuse for the next frame (frames.ts `recycle`):
 * whoever keeps numbers past the frame copies them (ExternalSorter's NumberPairs does).
 */
function numberColumn(body: Buffer, at: number, n: number, int32: boolean): ArrayLike<number> {
  const width = int32 ? 4 : 8;
  const offset = body.byteOffset + at;
  const buffer = offset % width === 0 ? body.buffer : body.buffer.slice(offset, offset + width * n);
  const start = offset % width === 0 ? offset : 0;
  return int32 ? new Int32Array(buffer, start, n) : new Float64Array(buffer, start, n);
}

/**
 * The strings of a string column. The blob is decoded once and short strings are cut from it by code unit
 * offsets (for UTF-8, counted from the bytes: one code unit per byte that starts a sequence, two for a 4-byte
 * sequence); long ones are decoded on their own (see SLICE_BELOW).
 */
function stringsOf(body: Buffer, at: number, n: number, latin1: boolean): string[] {
  const ends = new DataView(body.buffer, body.byteOffset + at, 4 * n);
  const blobAt = at + 4 * n;
  const blobBytes = ends.getUint32(4 * (n - 1), true);
  const encoding = latin1 ? 'latin1' : 'utf8';
  const whole = body.toString(encoding, blobAt, blobAt + blobBytes);
  const out = new Array<string>(n);
  let start = 0;
  let unit = 0;
  for (let i = 0; i < n; i += 1) {
    const end = ends.getUint32(4 * i, true);
    if (end < start || end > blobBytes) throw corrupt(`has string offset ${end} after ${start} in a blob of ${blobBytes} bytes`);
    let units = end - start;
    if (!latin1) {
      units = 0;
      for (let b = blobAt + start; b < blobAt + end; b += 1) {
        const byte = body[b] as number;
        if ((byte & 0xc0) !== 0x80) units += byte >= 0xf0 ? 2 : 1;
      }
    }
    out[i] = units < SLICE_BELOW ? whole.slice(unit, unit + units) : body.toString(encoding, blobAt + start, blobAt + end);
    unit += units;
    start = end;
  }
  return out;
}

function rows(columns: Column[], n: number): unknown[] {
  const out = new Array<unknown>(n);
  if (columns.length === 2) {
    const [a, b] = columns as [Column, Column];
    for (let i = 0; i < n; i += 1) out[i] = [a[i], b[i]];
  } else if (columns.length === 3) {
    const [a, b, c] = columns as [Column, Column, Column];
    for (let i = 0; i < n; i += 1) out[i] = [a[i], b[i], c[i]];
  } else {
    for (let i = 0; i < n; i += 1) out[i] = columns.map((column) => column[i]);
  }
  return out;
}
