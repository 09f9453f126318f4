// A small msgpack encoder for the fuzzer. Unlike @msgpack/msgpack it has no depth limit and lets a value
// carry bytes spliced in verbatim (`Raw`): deep nesting built as bytes, maps with non-string keys, ext
// types, headers that lie about their length. Everything else is standard msgpack
// (https://github.com/msgpack/msgpack/blob/master/spec.md).

/** Bytes inserted as they are where a value would go. */
export class Raw {
  readonly bytes: Buffer;
  constructor(bytes: Buffer) {
    this.bytes = bytes;
  }
}

/** A map with arbitrary keys (msgpack allows any value as a key; JS objects only strings). */
export class Entries {
  readonly entries: ReadonlyArray<readonly [unknown, unknown]>;
  constructor(entries: ReadonlyArray<readonly [unknown, unknown]>) {
    this.entries = entries;
  }
}

export function encodeMsgpack(value: unknown): Buffer {
  const parts: Buffer[] = [];
  write(value, parts);
  return Buffer.concat(parts);
}

function head(byte: number, n: number, size: 1 | 2 | 4 | 8): Buffer {
  const b = Buffer.allocUnsafe(1 + size);
  b[0] = byte;
  if (size === 1) b.writeUInt8(n, 1);
  else if (size === 2) b.writeUInt16BE(n, 1);
  else if (size === 4) b.writeUInt32BE(n, 1);
  else b.writeBigUInt64BE(BigInt(n), 1);
  return b;
}

function lengthHead(n: number, fix: number | undefined, fixMax: number, b8: number | undefined, b16: number, b32: number): Buffer {
  if (fix !== undefined && n <= fixMax) return Buffer.of(fix | n);
  if (b8 !== undefined && n <= 0xff) return head(b8, n, 1);
  if (n <= 0xffff) return head(b16, n, 2);
  return head(b32, n, 4);
}

function writeNumber(n: number, out: Buffer[]): void {
  if (Number.isSafeInteger(n) && !Object.is(n, -0)) {
    if (n >= 0 && n <= 0x7f) return void out.push(Buffer.of(n));
    if (n < 0 && n >= -32) return void out.push(Buffer.of(n & 0xff));
    if (n >= 0 && n <= 0xffffffff) return void out.push(head(0xce, n, 4));
    if (n >= -0x80000000 && n < 0) {
      const b = Buffer.allocUnsafe(5);
      b[0] = 0xd2;
      b.writeInt32BE(n, 1);
      return void out.push(b);
    }
    const b = Buffer.allocUnsafe(9);
    b[0] = 0xd3;
    b.writeBigInt64BE(BigInt(n), 1);
    return void out.push(b);
  }
  const b = Buffer.allocUnsafe(9);
  b[0] = 0xcb;
  b.writeDoubleBE(n, 1);
  out.push(b);
}

function write(v: unknown, out: Buffer[]): void {
  if (v === null || v === undefined) return void out.push(Buffer.of(0xc0));
  if (v === true) return void out.push(Buffer.of(0xc3));
  if (v === false) return void out.push(Buffer.of(0xc2));
  if (typeof v === 'number') return writeNumber(v, out);
  if (typeof v === 'bigint') {
    const b = Buffer.allocUnsafe(9);
    b[0] = v < 0n ? 0xd3 : 0xcf;
    if (v < 0n) b.writeBigInt64BE(BigInt.asIntN(64, v), 1);
    else b.writeBigUInt64BE(BigInt.asUintN(64, v), 1);
    return void out.push(b);
  }
  if (typeof v === 'string') {
    const s = Buffer.from(v, 'utf8');
    out.push(lengthHead(s.length, 0xa0, 31, 0xd9, 0xda, 0xdb), s);
    return;
  }
  if (v instanceof Raw) return void out.push(v.bytes);
  if (v instanceof Uint8Array) {
    out.push(lengthHead(v.length, undefined, 0, 0xc4, 0xc5, 0xc6), Buffer.from(v.buffer, v.byteOffset, v.byteLength));
    return;
  }
  if (Array.isArray(v)) {
    out.push(lengthHead(v.length, 0x90, 15, undefined, 0xdc, 0xdd));
    for (const item of v) write(item, out);
    return;
  }
  const entries = v instanceof Entries ? v.entries : Object.entries(v as object);
  out.push(lengthHead(entries.length, 0x80, 15, undefined, 0xde, 0xdf));
  for (const [key, value] of entries) {
    write(key, out);
    write(value, out);
  }
}
