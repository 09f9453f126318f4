// Flint's msgpack codec: the values of @msgpack/msgpack 3.1, byte for byte, written and read by code made for
// Flint's RPC frames (src/rpc/wire.ts). The record codec (src/task/record-codec.ts: task data, results, shuffle
// blocks) and the persistence stores (src/io/file-store/record-codec.ts) read with it too, with bounded decoding.
// Two reasons it is our own:
//
// - **Bounded decoding.** @msgpack/msgpack's Decoder makes `new Array(size)` from an array's header before it reads
//   one element, and a header may claim up to 2^32 - 1 elements. A frame of 504 bytes (a hundred nested headers
//   claiming ten million elements each) made it allocate gigabytes and killed the process, and a server decodes
//   a peer's HELLO before it knows who the peer is. Here a header claiming more elements than bytes are left is
//   refused, an array is made at its length only up to PREALLOCATE_MAX elements (longer ones grow with the
//   elements actually read), and nesting stops at MAX_DEPTH, the depth msgpack's encoder refuses to go past. What
//   a frame decodes to is bounded by the frame's own size.
// - **Speed.** An ask's envelope cost 590 ns to encode and 680 ns to decode with the library (bench:rpc's
//   Ping, in-process): most of what the ask paid over a raw round trip (docs/benchmarks.md, "The work per
//   message"). The writer hands out views of a chunk it fills, with room for the frame's length in front, so
//   a frame is written once and never copied; ASCII strings are written by a loop up to STRING_LOOP_MAX characters and read by one up to
//   STRING_READ_LOOP_MAX bytes (Node's calls cost more below that); map keys are decoded through a small cache.
//
// What stays the library's: the timestamp extension (a Date) and ExtData (any other extension type, passed on
// as it came). @msgpack/msgpack is also the oracle of test/unit/util/msgpack.test.ts: every value both encode must
// give the same bytes, and each must decode what the other wrote.
//
// Values as @msgpack/msgpack (with `ignoreUndefined`) gives them: null and undefined as nil, an object's undefined
// properties left out, safe integers in the smallest integer encoding (-0 as 0), other numbers as float64,
// strings as UTF-8 (a lone surrogate kept as its three bytes in a string of up to 50 units, U+FFFD in a longer
// one), any ArrayBufferView as bin, a Date as the timestamp extension, arrays, and any other object as a map of its
// own enumerable string keys. A bigint, a function or a symbol throws. Decoding gives bin as a view of the bytes
// decoded (a Buffer for a Buffer), 64-bit integers as numbers (rounded past 2^53), strings as msgpack reads them
// (invalid UTF-8 included), and refuses a map key that is not a string or a number, the key `__proto__`, and bytes
// left over after the value.

import { ExtData, ExtensionCodec, encodeTimestampExtension, EXT_TIMESTAMP, type ExtensionCodecType } from '@msgpack/msgpack';

/** Nesting deeper than this is refused both ways (msgpack's own encoder limit, DEFAULT_MAX_DEPTH). */
export const MAX_DEPTH = 100;

/** Strings up to this many characters are written by a loop when ASCII; longer ones (or not ASCII) by Node. */
const STRING_LOOP_MAX = 64;
/**
 * msgpack's own thresholds, kept so that every string comes out as it did: strings of up to 50 UTF-16 units are
 * encoded in JavaScript (a lone surrogate survives, as WTF-8), longer ones by a TextEncoder (it becomes U+FFFD);
 * strings of up to 200 bytes are decoded in JavaScript, longer ones by a TextDecoder.
 */
const TEXT_ENCODER_THRESHOLD = 50;
const TEXT_DECODER_THRESHOLD = 200;

/** Strings up to this many bytes are read by a loop when ASCII; from there Node's decoder (one call) is faster. */
const STRING_READ_LOOP_MAX = 8;

/** The writer's chunks: a value larger than a chunk gets one of twice its size. */
const CHUNK_BYTES = 16 * 1024;

const TWO_32 = 0x1_0000_0000;

// ---- Encoding -------------------------------------------------------------------------------------------------

/**
 * Values are written one after another into a chunk of memory and handed out as views of it, as Node's own
 * Buffer pool does: no copy, and no allocation but the view. A value that outgrows what is left of the chunk moves
 * to a new one; a chunk is never written again where a view was handed out, and is freed with the last of them.
 */
class Writer {
  buf: Buffer = Buffer.allocUnsafeSlow(CHUNK_BYTES);
  /** Where the value being written starts. */
  start = 0;
  pos = 0;
  busy = false;

  /** The value's bytes, after `reserve` bytes left for the caller (a frame's header). */
  encode(value: unknown, reserve: number): Buffer {
    this.busy = true;
    try {
      this.start = this.pos;
      this.ensure(reserve);
      this.pos += reserve;
      this.value(value, 1);
      const out = this.buf.subarray(this.start, this.pos);
      if (this.buf.length > CHUNK_BYTES) {
        // A chunk made for one large value is left to that value: small ones after it get a chunk of their own.
        this.buf = Buffer.allocUnsafeSlow(CHUNK_BYTES);
        this.pos = 0;
      } else {
        this.pos += (8 - (this.pos & 7)) & 7; // the next value starts 8-byte aligned, as the pool's do
      }
      return out;
    } catch (err) {
      this.pos = this.start;
      throw err;
    } finally {
      this.busy = false;
    }
  }

  /** Room for `bytes` more at `pos`: a new chunk when this one has too little, the value so far moved into it. */
  ensure(bytes: number): void {
    if (this.pos + bytes <= this.buf.length) return;
    const written = this.pos - this.start;
    const fresh = Buffer.allocUnsafeSlow(Math.max(CHUNK_BYTES, 2 * (written + bytes)));
    this.buf.copy(fresh, 0, this.start, this.pos);
    this.buf = fresh;
    this.start = 0;
    this.pos = written;
  }

  value(v: unknown, depth: number): void {
    if (depth > MAX_DEPTH) throw new Error(`Too deep objects in depth ${depth}`);
    switch (typeof v) {
      case 'string':
        this.string(v);
        return;
      case 'number':
        this.number(v);
        return;
      case 'boolean':
        this.ensure(1);
        this.buf[this.pos++] = v ? 0xc3 : 0xc2;
        return;
      case 'undefined':
        this.ensure(1);
        this.buf[this.pos++] = 0xc0;
        return;
      case 'object':
        if (v === null) {
          this.ensure(1);
          this.buf[this.pos++] = 0xc0;
        } else if (Array.isArray(v)) {
          this.array(v, depth);
        } else if (ArrayBuffer.isView(v)) {
          this.binary(v instanceof Uint8Array ? v : new Uint8Array(v.buffer, v.byteOffset, v.byteLength));
        } else if (v instanceof Date) {
          this.extension(EXT_TIMESTAMP, encodeTimestampExtension(v) as Uint8Array);
        } else if (v instanceof ExtData) {
          if (typeof v.data === 'function') throw new Error('an ExtData whose data is a function cannot be sent');
          this.extension(v.type, v.data);
        } else {
          this.map(v as Record<string, unknown>, depth);
        }
        return;
      default:
        throw new Error(`Unrecognized object: ${Object.prototype.toString.call(v)}`);
    }
  }

  number(n: number): void {
    this.ensure(9);
    const b = this.buf;
    let p = this.pos;
    if (!Number.isSafeInteger(n)) {
      b[p] = 0xcb;
      b.writeDoubleBE(n, p + 1);
      this.pos = p + 9;
      return;
    }
    if (n >= 0) {
      if (n < 0x80) b[p++] = n;
      else if (n < 0x100) {
        b[p++] = 0xcc;
        b[p++] = n;
      } else if (n < 0x10000) {
        b[p++] = 0xcd;
        b[p++] = n >>> 8;
        b[p++] = n & 0xff;
      } else if (n < TWO_32) {
        b[p++] = 0xce;
        p = writeU32(b, p, n);
      } else {
        b[p++] = 0xcf;
        p = writeU32(b, p, Math.floor(n / TWO_32));
        p = writeU32(b, p, n >>> 0);
      }
    } else if (n >= -0x20) {
      b[p++] = 0xe0 | (n + 0x20);
    } else if (n >= -0x80) {
      b[p++] = 0xd0;
      b[p++] = n & 0xff;
    } else if (n >= -0x8000) {
      b[p++] = 0xd1;
      b[p++] = (n >> 8) & 0xff;
      b[p++] = n & 0xff;
    } else if (n >= -0x8000_0000) {
      b[p++] = 0xd2;
      p = writeU32(b, p, n >>> 0);
    } else {
      b[p++] = 0xd3;
      p = writeU32(b, p, Math.floor(n / TWO_32) >>> 0);
      p = writeU32(b, p, n >>> 0);
    }
    this.pos = p;
  }

  string(s: string): void {
    const length = s.length;
    if (length <= STRING_LOOP_MAX) {
      // ASCII by a loop: one byte per character, so the header is known before the bytes.
      this.ensure(2 + length);
      const b = this.buf;
      const start = this.pos + (length < 32 ? 1 : 2);
      let i = 0;
      for (; i < length; i++) {
        const c = s.charCodeAt(i);
        if (c >= 0x80) break;
        b[start + i] = c;
      }
      if (i === length) {
        if (length < 32) b[this.pos] = 0xa0 | length;
        else {
          b[this.pos] = 0xd9;
          b[this.pos + 1] = length;
        }
        this.pos = start + length;
        return;
      }
    }
    if (length <= TEXT_ENCODER_THRESHOLD) {
      // As msgpack's utf8EncodeJs: a lone surrogate is written as its three bytes (WTF-8), so that it survives.
      const bytes = utf8Count(s);
      this.ensure(2 + bytes);
      this.header(bytes, 0xa0, 0xd9, 0xda, 0xdb);
      this.pos = utf8EncodeJs(s, this.buf, this.pos);
      return;
    }
    // Longer: Node's encoder, which writes a lone surrogate as U+FFFD, as msgpack's TextEncoder does. UTF-8 takes
    // at most 3 bytes per UTF-16 unit; the header is sized for that bound, then moved up against the bytes if the
    // string came out shorter, so that the encoding stays msgpack's shortest.
    const bound = length * 3;
    const room = stringHeaderBytes(bound);
    this.ensure(room + bound);
    const start = this.pos + room;
    const bytes = this.buf.write(s, start, 'utf8');
    const header = stringHeaderBytes(bytes);
    if (header < room) this.buf.copyWithin(this.pos + header, start, start + bytes);
    this.header(bytes, 0xa0, 0xd9, 0xda, 0xdb);
    this.pos += bytes;
  }

  /** A length header: fixed (when `fix` is not 0 and n < 32, or < 16 for arrays and maps), 8, 16 or 32 bits. */
  header(n: number, fix: number, h8: number, h16: number, h32: number): void {
    const b = this.buf;
    const fixMax = fix === 0xa0 ? 32 : 16;
    if (fix !== 0 && n < fixMax) b[this.pos++] = fix | n;
    else if (h8 !== 0 && n < 0x100) {
      b[this.pos++] = h8;
      b[this.pos++] = n;
    } else if (n < 0x10000) {
      b[this.pos++] = h16;
      b[this.pos++] = n >>> 8;
      b[this.pos++] = n & 0xff;
    } else {
      b[this.pos++] = h32;
      this.pos = writeU32(b, this.pos, n);
    }
  }

  binary(bytes: Uint8Array): void {
    const size = bytes.byteLength;
    if (size >= TWO_32) throw new Error(`Too large binary: ${size}`);
    this.ensure(5 + size);
    this.header(size, 0, 0xc4, 0xc5, 0xc6);
    this.buf.set(bytes, this.pos);
    this.pos += size;
  }

  extension(type: number, data: Uint8Array): void {
    const size = data.length;
    if (size >= TWO_32) throw new Error(`Too large extension object: ${size}`);
    this.ensure(6 + size);
    const b = this.buf;
    const fixext = size === 1 ? 0xd4 : size === 2 ? 0xd5 : size === 4 ? 0xd6 : size === 8 ? 0xd7 : size === 16 ? 0xd8 : 0;
    if (fixext !== 0) b[this.pos++] = fixext;
    else this.header(size, 0, 0xc7, 0xc8, 0xc9);
    b[this.pos++] = type & 0xff;
    b.set(data, this.pos);
    this.pos += size;
  }

  array(a: readonly unknown[], depth: number): void {
    const length = a.length;
    if (length >= TWO_32) throw new Error(`Too large array: ${length}`);
    this.ensure(5);
    this.header(length, 0x90, 0, 0xdc, 0xdd);
    for (let i = 0; i < length; i++) this.value(a[i], depth + 1);
  }

  map(o: Record<string, unknown>, depth: number): void {
    const keys = Object.keys(o);
    let size = 0;
    for (let i = 0; i < keys.length; i++) if (o[keys[i] as string] !== undefined) size++;
    this.ensure(5);
    this.header(size, 0x80, 0, 0xde, 0xdf);
    for (let i = 0; i < keys.length; i++) {
      const key = keys[i] as string;
      const v = o[key];
      if (v === undefined) continue;
      this.string(key);
      this.value(v, depth + 1);
    }
  }
}

/** The bytes of a string's header (fixstr, str 8, 16 or 32) for `n` bytes of UTF-8, as `header` writes it. */
function stringHeaderBytes(n: number): number {
  return n < 32 ? 1 : n < 0x100 ? 2 : n < 0x10000 ? 3 : 5;
}

/** UTF-8 bytes of `s`, a lone surrogate counted as three (msgpack's utf8Count). */
function utf8Count(s: string): number {
  let bytes = 0;
  for (let i = 0; i < s.length; i++) {
    let c = s.charCodeAt(i);
    if (c < 0x80) bytes += 1;
    else if (c < 0x800) bytes += 2;
    else {
      if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length && (s.charCodeAt(i + 1) & 0xfc00) === 0xdc00) {
        c = 0x10000;
        i++;
      }
      bytes += c > 0xffff ? 4 : 3;
    }
  }
  return bytes;
}

/** Writes `s` at `p` as msgpack's utf8EncodeJs does; returns the position after it. */
function utf8EncodeJs(s: string, b: Buffer, p: number): number {
  for (let i = 0; i < s.length; i++) {
    let c = s.charCodeAt(i);
    if (c < 0x80) {
      b[p++] = c;
      continue;
    }
    if (c < 0x800) {
      b[p++] = 0xc0 | (c >> 6);
    } else {
      if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length) {
        const low = s.charCodeAt(i + 1);
        if ((low & 0xfc00) === 0xdc00) {
          c = ((c & 0x3ff) << 10) + (low & 0x3ff) + 0x10000;
          i++;
        }
      }
      if (c > 0xffff) {
        b[p++] = 0xf0 | (c >> 18);
        b[p++] = 0x80 | ((c >> 12) & 0x3f);
      } else {
        b[p++] = 0xe0 | (c >> 12);
      }
      b[p++] = 0x80 | ((c >> 6) & 0x3f);
    }
    b[p++] = 0x80 | (c & 0x3f);
  }
  return p;
}

function writeU32(b: Buffer, p: number, n: number): number {
  b[p] = n >>> 24;
  b[p + 1] = (n >>> 16) & 0xff;
  b[p + 2] = (n >>> 8) & 0xff;
  b[p + 3] = n & 0xff;
  return p + 4;
}

const writer = new Writer();

/**
 * `value` in msgpack, in a Buffer of its own whose first `reserve` bytes are left for the caller. Throws for what
 * msgpack cannot hold (see the top of this file). A getter that sends a message while its object is being
 * encoded gets a writer of its own.
 */
export function encodeMsgpack(value: unknown, reserve = 0): Buffer {
  return (writer.busy ? new Writer() : writer).encode(value, reserve);
}

// ---- Decoding -------------------------------------------------------------------------------------------------

/** Bad msgpack: its message says what and where. */
export class MsgpackDecodeError extends Error {
  override readonly name = 'MsgpackDecodeError';
}

/**
 * Arrays of up to this many elements are made at their length before their elements are read: at most 8 KiB a
 * level, so 800 KiB over MAX_DEPTH levels whatever the headers claim. Longer ones grow as their elements are read.
 */
const PREALLOCATE_MAX = 1024;

/** Map keys up to this many bytes are looked up in KEY_CACHE before being decoded. */
const KEY_CACHE_MAX_BYTES = 24;
const KEY_CACHE_SLOTS = 512;
const keyCacheBytes: (Uint8Array | undefined)[] = new Array<Uint8Array | undefined>(KEY_CACHE_SLOTS).fill(undefined);
const keyCacheStrings: string[] = new Array<string>(KEY_CACHE_SLOTS).fill('');

let extensions: ExtensionCodecType<undefined> = ExtensionCodec.defaultCodec;

// The value being read. An extension's decoder may decode again: readExtension keeps this cursor and restores it.
const EMPTY = Buffer.alloc(0);
let src: Buffer = EMPTY;
/** What the caller passed (src is a Buffer over the same bytes): bin values are views of it, of its class. */
let input: Uint8Array = src;
let pos = 0;
let end = 0;

/**
 * The value in `bytes`, all of them. Throws MsgpackDecodeError for anything that is not exactly one value.
 * Extension types are decoded by `codec` (the record codec passes its own, whose decoders may decode again: each
 * such decode has a cursor, and a depth, of its own).
 */
export function decodeMsgpack(bytes: Uint8Array, codec: ExtensionCodecType<undefined> = ExtensionCodec.defaultCodec): unknown {
  src = Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  input = bytes;
  pos = 0;
  end = src.length;
  extensions = codec;
  try {
    const value = read(1);
    if (pos !== end) throw new MsgpackDecodeError(`${end - pos} byte(s) left over after the value, at offset ${pos} of ${end}`);
    return value;
  } finally {
    src = EMPTY;
    input = EMPTY;
  }
}

function truncated(what: string, need: number): MsgpackDecodeError {
  return new MsgpackDecodeError(`${what} at offset ${pos} needs ${need} more byte(s) than the ${end - pos} left`);
}

function take(n: number, what: string): number {
  const at = pos;
  if (n > end - at) throw truncated(what, n - (end - at));
  pos = at + n;
  return at;
}

function u16(at: number): number {
  return (src[at] as number) * 0x100 + (src[at + 1] as number);
}

function u32(at: number): number {
  return (src[at] as number) * 0x100_0000 + (((src[at + 1] as number) << 16) | ((src[at + 2] as number) << 8) | (src[at + 3] as number));
}

function read(depth: number): unknown {
  if (pos >= end) throw truncated('a value', 1);
  const b = src[pos++] as number;
  if (b < 0x80) return b;
  if (b >= 0xe0) return b - 0x100;
  if (b < 0x90) return readMap(b & 0x0f, depth);
  if (b < 0xa0) return readArray(b & 0x0f, depth);
  if (b < 0xc0) return readString(b & 0x1f, false);
  switch (b) {
    case 0xc0:
      return null;
    case 0xc2:
      return false;
    case 0xc3:
      return true;
    case 0xc4:
      return readBinary(src[take(1, 'a bin 8 header')] as number);
    case 0xc5:
      return readBinary(u16(take(2, 'a bin 16 header')));
    case 0xc6:
      return readBinary(u32(take(4, 'a bin 32 header')));
    case 0xc7:
      return readExtension(src[take(1, 'an ext 8 header')] as number);
    case 0xc8:
      return readExtension(u16(take(2, 'an ext 16 header')));
    case 0xc9:
      return readExtension(u32(take(4, 'an ext 32 header')));
    case 0xca:
      return src.readFloatBE(take(4, 'a float 32'));
    case 0xcb:
      return src.readDoubleBE(take(8, 'a float 64'));
    case 0xcc:
      return src[take(1, 'a uint 8')];
    case 0xcd:
      return u16(take(2, 'a uint 16'));
    case 0xce:
      return u32(take(4, 'a uint 32'));
    case 0xcf: {
      const at = take(8, 'a uint 64');
      return u32(at) * TWO_32 + u32(at + 4);
    }
    case 0xd0:
      return src.readInt8(take(1, 'an int 8'));
    case 0xd1:
      return src.readInt16BE(take(2, 'an int 16'));
    case 0xd2:
      return src.readInt32BE(take(4, 'an int 32'));
    case 0xd3: {
      const at = take(8, 'an int 64');
      return src.readInt32BE(at) * TWO_32 + u32(at + 4);
    }
    case 0xd4:
      return readExtension(1);
    case 0xd5:
      return readExtension(2);
    case 0xd6:
      return readExtension(4);
    case 0xd7:
      return readExtension(8);
    case 0xd8:
      return readExtension(16);
    case 0xd9:
      return readString(src[take(1, 'a str 8 header')] as number, false);
    case 0xda:
      return readString(u16(take(2, 'a str 16 header')), false);
    case 0xdb:
      return readString(u32(take(4, 'a str 32 header')), false);
    case 0xdc:
      return readArray(u16(take(2, 'an array 16 header')), depth);
    case 0xdd:
      return readArray(u32(take(4, 'an array 32 header')), depth);
    case 0xde:
      return readMap(u16(take(2, 'a map 16 header')), depth);
    case 0xdf:
      return readMap(u32(take(4, 'a map 32 header')), depth);
    default:
      throw new MsgpackDecodeError(`byte 0x${b.toString(16)} at offset ${pos - 1} is not a msgpack type`);
  }
}

/** Refuses nesting past MAX_DEPTH and a count of elements the bytes left cannot hold (each takes a byte or more). */
function checkContainer(kind: string, count: number, bytesEach: number, depth: number): void {
  if (depth >= MAX_DEPTH && count > 0) throw new MsgpackDecodeError(`a ${kind} at offset ${pos} is nested deeper than ${MAX_DEPTH} levels`);
  if (count * bytesEach > end - pos) {
    throw new MsgpackDecodeError(`a ${kind} at offset ${pos} claims ${count} element(s), more than the ${end - pos} byte(s) left can hold`);
  }
}

function readArray(count: number, depth: number): unknown[] {
  checkContainer('array', count, 1, depth);
  if (count <= PREALLOCATE_MAX) {
    // Exactly as long as it will be: an array grown by push from empty keeps room for 17 elements or more.
    const array = new Array<unknown>(count);
    for (let i = 0; i < count; i++) array[i] = read(depth + 1);
    return array;
  }
  // Past that, grown by push: memory follows the elements read, not what a header claims.
  const array: unknown[] = [];
  for (let i = 0; i < count; i++) array.push(read(depth + 1));
  return array;
}

function readMap(count: number, depth: number): Record<string, unknown> {
  checkContainer('map', count, 2, depth);
  const map: Record<string, unknown> = {};
  for (let i = 0; i < count; i++) {
    const key = readKey();
    map[key] = read(depth + 1);
  }
  return map;
}

function readKey(): string | number {
  const at = pos;
  const b = src[at];
  const key = b !== undefined && b >= 0xa0 && b < 0xc0 ? (pos++, readString(b & 0x1f, true)) : read(MAX_DEPTH);
  if (typeof key === 'string') {
    if (key === '__proto__') throw new MsgpackDecodeError(`the map key __proto__ at offset ${at} is not allowed`);
    return key;
  }
  if (typeof key === 'number') return key;
  throw new MsgpackDecodeError(`a map key at offset ${at} is a ${key === null ? 'nil' : typeof key}; keys must be strings or numbers`);
}

function readString(length: number, isKey: boolean): string {
  const start = take(length, 'a string');
  if (length === 0) return '';
  if (isKey && length <= KEY_CACHE_MAX_BYTES) return cachedKey(start, length);
  if (length <= STRING_READ_LOOP_MAX) return asciiString(start, length) ?? utf8DecodeJs(start, length);
  const text = utf8(start, start + length);
  if (length > TEXT_DECODER_THRESHOLD) return text; // as msgpack's TextDecoder: invalid bytes become U+FFFD
  // Up to TEXT_DECODER_THRESHOLD bytes msgpack decodes in JavaScript, which keeps a lone surrogate (and reads
  // invalid bytes its own way): Node's result stands when it is plain ASCII, which both read alike.
  return text.length === length && !text.includes('\uFFFD') ? text : utf8DecodeJs(start, length);
}

/** msgpack's utf8DecodeJs, over `src`: what it makes of every byte sequence, valid or not, is kept. */
function utf8DecodeJs(start: number, length: number): string {
  const units: number[] = [];
  let i = start;
  const stop = start + length;
  while (i < stop) {
    const b1 = src[i++] as number;
    if ((b1 & 0x80) === 0) units.push(b1);
    else if ((b1 & 0xe0) === 0xc0) units.push(((b1 & 0x1f) << 6) | ((src[i++] as number) & 0x3f));
    else if ((b1 & 0xf0) === 0xe0) {
      const b2 = (src[i++] as number) & 0x3f;
      const b3 = (src[i++] as number) & 0x3f;
      units.push(((b1 & 0x1f) << 12) | (b2 << 6) | b3);
    } else if ((b1 & 0xf8) === 0xf0) {
      const b2 = (src[i++] as number) & 0x3f;
      const b3 = (src[i++] as number) & 0x3f;
      const b4 = (src[i++] as number) & 0x3f;
      let unit = ((b1 & 0x07) << 0x12) | (b2 << 0x0c) | (b3 << 0x06) | b4;
      if (unit > 0xffff) {
        unit -= 0x10000;
        units.push(((unit >>> 10) & 0x3ff) | 0xd800);
        unit = 0xdc00 | (unit & 0x3ff);
      }
      units.push(unit);
    } else units.push(b1);
  }
  return String.fromCharCode(...units);
}

/** Buffer's own `utf8Slice` (what `toString('utf8', ...)` calls after checking its arguments), when it has one. */
const utf8Slice = (Buffer.prototype as unknown as { utf8Slice?: (this: Buffer, start: number, end: number) => string }).utf8Slice;
const utf8: (start: number, end: number) => string =
  typeof utf8Slice === 'function' ? (start, end) => utf8Slice.call(src, start, end) : (start, end) => src.toString('utf8', start, end);

/** The string of `length` ASCII bytes at `start`, or undefined when one of them is not ASCII. */
function asciiString(start: number, length: number): string | undefined {
  let s = '';
  for (let i = start; i < start + length; i++) {
    const c = src[i] as number;
    if (c >= 0x80) return undefined;
    s += String.fromCharCode(c);
  }
  return s;
}

function cachedKey(start: number, length: number): string {
  let hash = length;
  for (let i = start; i < start + length; i++) hash = (Math.imul(hash, 31) + (src[i] as number)) | 0;
  const slot = hash & (KEY_CACHE_SLOTS - 1);
  const known = keyCacheBytes[slot];
  if (known !== undefined && known.length === length) {
    let same = true;
    for (let i = 0; i < length; i++) {
      if (known[i] !== src[start + i]) {
        same = false;
        break;
      }
    }
    if (same) return keyCacheStrings[slot] as string;
  }
  const key = asciiString(start, length) ?? utf8DecodeJs(start, length);
  keyCacheBytes[slot] = Uint8Array.prototype.slice.call(src, start, start + length);
  keyCacheStrings[slot] = key;
  return key;
}

function readBinary(length: number): Uint8Array {
  const start = take(length, 'a bin');
  return input.subarray(start, start + length);
}

function readExtension(length: number): unknown {
  const typeAt = take(1, 'an extension type');
  const type = src.readInt8(typeAt);
  const start = take(length, 'an extension');
  const data = input.subarray(start, start + length);
  // The extension's decoder may decode again (a Map's entries): this cursor is put back afterwards.
  const savedSrc = src;
  const savedInput = input;
  const savedPos = pos;
  const savedEnd = end;
  const savedExtensions = extensions;
  try {
    return extensions.decode(data, type, undefined);
  } catch (err) {
    throw new MsgpackDecodeError(`the extension of type ${type} at offset ${typeAt - 1}: ${(err as Error).message}`);
  } finally {
    src = savedSrc;
    input = savedInput;
    pos = savedPos;
    end = savedEnd;
    extensions = savedExtensions;
  }
}
