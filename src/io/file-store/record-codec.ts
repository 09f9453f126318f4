// The bytes a persistence store keeps for one value: a 9-byte header, then the value as msgpack.
//
//   "FLNT" (4 bytes) | format version 1 (1 byte) | CRC-32 of the payload (4 bytes, big-endian) | msgpack payload
//
// msgpack, not JSON: it is already Flint's wire codec, it round-trips everything the master persists (strings,
// integers, nested objects, byte arrays) and omits `undefined` fields the way an optional TypeBox field expects.
// The header makes a truncated or corrupted value fail to decode (length and checksum are checked) instead of
// decoding into something plausible. Shared by the file and ZooKeeper stores.

import { crc32 } from 'node:zlib';
import { encode } from '@msgpack/msgpack';
import { decodeMsgpack } from '../../util/msgpack.ts';

const MAGIC = Buffer.from('FLNT', 'latin1');
const VERSION = 1;
const HEADER_BYTES = MAGIC.length + 1 + 4;

export function encodeRecord(value: unknown): Buffer {
  const payload = encode(value, { ignoreUndefined: true });
  const out = Buffer.allocUnsafe(HEADER_BYTES + payload.length);
  MAGIC.copy(out, 0);
  out.writeUInt8(VERSION, MAGIC.length);
  out.writeUInt32BE(crc32(payload), MAGIC.length + 1);
  out.set(payload, HEADER_BYTES);
  return out;
}

/** Decodes what `encodeRecord` wrote; throws an Error saying why the bytes are unreadable. */
export function decodeRecord(bytes: Uint8Array): unknown {
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (buf.length < HEADER_BYTES) throw new Error(`truncated: ${buf.length} bytes, shorter than the ${HEADER_BYTES}-byte header`);
  if (!buf.subarray(0, MAGIC.length).equals(MAGIC)) throw new Error('not a Flint record (bad magic)');
  const version = buf.readUInt8(MAGIC.length);
  if (version !== VERSION) throw new Error(`unsupported record format version ${version}`);
  const payload = buf.subarray(HEADER_BYTES);
  if (crc32(payload) !== buf.readUInt32BE(MAGIC.length + 1)) throw new Error('checksum mismatch (truncated or corrupt)');
  try {
    // A copy, so byte arrays come back as Uint8Array, not Buffer. Decoded as frames are (bounded: src/util/msgpack.ts).
    return decodeMsgpack(new Uint8Array(payload));
  } catch (err) {
    throw new Error(`undecodable msgpack (${(err as Error).message})`, { cause: err });
  }
}

const KEY_PATTERN = /^[\x21-\x7e]{1,200}$/;

/**
 * Throws a clear Error unless `key` can name a file or znode: 1–200 printable ASCII characters (no spaces), no
 * `/`, no `..`, not starting with `.` (names starting with `.` are the stores' own temp files). An empty
 * string is allowed when `allowEmpty` (a `list` prefix that matches every key).
 */
export function checkStoreKey(key: string, allowEmpty = false): void {
  if (allowEmpty && key === '') return;
  const why = !KEY_PATTERN.test(key)
    ? 'must be 1-200 printable ASCII characters without spaces'
    : key.includes('/')
      ? 'must not contain "/"'
      : key.includes('..')
        ? 'must not contain ".."'
        : key.startsWith('.')
          ? 'must not start with "."'
          : undefined;
  if (why !== undefined) throw new Error(`invalid persistence key ${JSON.stringify(key)}: a key ${why}`);
}
