// The shuffle's block format, on disk and on the wire: a block is a sequence of frames, each
// `[u32 little-endian byteLength][body]`. Records are encoded in batches (one body per frame, not per record),
// and a reader can decode a block that arrives in chunks of any size, one frame at a time, without holding the
// block whole. Spark's counterpart is a serializer stream over a block (SerializerInstance.serializeStream /
// deserializeStream), here framed so it can be cut anywhere.
//
// A body is one of two kinds, chosen per frame by the writer and told apart by its first byte:
//   - columnar (first byte 0xc1, columnar-frame.ts): every record an array of the same arity whose columns each
//     hold only numbers or only strings, such as [key, value] pairs of numbers and strings;
//   - the record codec's bytes of the array of records (msgpack; its first byte is 0x90–0x9f, 0xdc or 0xdd),
//     for everything else.
// Both decode to the same records: the columnar kind is only faster to write and read.

import { closeSync, openSync, readSync } from 'node:fs';
import { decodeRecord, encodeRecord } from '../task/record-codec.ts';
import { COLUMNAR_TAG, decodeColumnarBody, encodeColumnarBody, type AllocateBody } from './columnar-frame.ts';
import { giveBack, takeBytes } from './column-pool.ts';
import { ShuffleError, describeValue } from './shuffle-errors.ts';

export const FRAME_HEADER_BYTES = 4;
/** No frame is this large; a length above it means the bytes are not a block (or are corrupt). */
export const MAX_FRAME_BYTES = 0x7fff_ffff;

/**
 * A frame's body (no header): the columnar body of `records` when they have its shape (its bytes from `allocate`),
 * else their codec bytes.
 */
export function encodeFrameBody(records: readonly unknown[], allocate?: AllocateBody): Uint8Array {
  return encodeColumnarBody(records, allocate) ?? encodeRecord(records, 'records');
}

/** The records of a frame's body, of either kind. Throws FLINT_SHUFFLE_CORRUPT when they are not an array. */
export function decodeFrameBody(body: Uint8Array): unknown[] {
  if (body[0] === COLUMNAR_TAG) return decodeColumnarBody(body);
  const records = decodeRecord(body);
  if (!Array.isArray(records)) {
    throw new ShuffleError('FLINT_SHUFFLE_CORRUPT', `a shuffle frame holds ${describeValue(records)}, expected an array of records: the block is corrupt`);
  }
  return records;
}

/** One whole frame: the 4-byte little-endian length, then the records' bytes. */
export function encodeFrame(records: readonly unknown[]): Uint8Array {
  const body = encodeFrameBody(records);
  const frame = new Uint8Array(FRAME_HEADER_BYTES + body.length);
  new DataView(frame.buffer).setUint32(0, body.length, true);
  frame.set(body, FRAME_HEADER_BYTES);
  return frame;
}

/**
 * Decodes a block pushed in chunks of any size. `next()` returns one frame's records as soon as its bytes are
 * all in, else undefined. The reader keeps the chunks it was given until their frames are decoded, and decoded
 * Uint8Array values may be views of them: do not reuse a chunk's memory after pushing it.
 */
export class FrameReader {
  readonly #chunks: Uint8Array[] = [];
  /** Read position in #chunks[0]. */
  #head = 0;
  /** Unread bytes over all chunks. */
  #buffered = 0;
  /** Body length of the frame whose header has been read, or -1 before its header. */
  #bodyBytes = -1;

  push(chunk: Uint8Array): void {
    if (chunk.length === 0) return;
    this.#chunks.push(chunk);
    this.#buffered += chunk.length;
  }

  next(): unknown[] | undefined {
    const body = this.nextBody();
    return body === undefined ? undefined : decodeFrameBody(body);
  }

  /** One frame's body, undecoded (see decodeFrameBody), as soon as its bytes are all in; else undefined. */
  nextBody(): Uint8Array | undefined {
    if (this.#bodyBytes < 0) {
      if (this.#buffered < FRAME_HEADER_BYTES) return undefined;
      const header = this.#take(FRAME_HEADER_BYTES);
      this.#bodyBytes = new DataView(header.buffer, header.byteOffset, FRAME_HEADER_BYTES).getUint32(0, true);
      if (this.#bodyBytes > MAX_FRAME_BYTES) {
        throw new ShuffleError('FLINT_SHUFFLE_CORRUPT', `a shuffle frame claims ${this.#bodyBytes} bytes, more than the ${MAX_FRAME_BYTES} a frame may hold: the block is corrupt`);
      }
    }
    if (this.#buffered < this.#bodyBytes) return undefined;
    const body = this.#take(this.#bodyBytes);
    this.#bodyBytes = -1;
    return body;
  }

  /** Declares the block complete. Throws FLINT_SHUFFLE_CORRUPT when the bytes of an unfinished frame remain. */
  end(): void {
    if (this.#buffered === 0 && this.#bodyBytes < 0) return;
    const what = this.#bodyBytes < 0 ? `${this.#buffered} bytes of a frame header (4 expected)` : `${this.#buffered} of the ${this.#bodyBytes} bytes of a frame's records`;
    throw new ShuffleError('FLINT_SHUFFLE_CORRUPT', `a shuffle block ended inside a frame: ${what} remain; the block was truncated`);
  }

  /** Whether the reader still refers to `chunk` (bytes of it not yet returned). */
  holds(chunk: Uint8Array): boolean {
    return this.#chunks.some((held) => held.buffer === chunk.buffer);
  }

  /** The next n buffered bytes: a view when they lie in one chunk, else a copy. */
  #take(n: number): Uint8Array {
    const first = this.#chunks[0];
    if (first !== undefined && first.length - this.#head >= n) {
      const out = first.subarray(this.#head, this.#head + n);
      this.#advance(n);
      return out;
    }
    const out = new Uint8Array(n);
    let filled = 0;
    while (filled < n) {
      const chunk = this.#chunks[0] as Uint8Array;
      const count = Math.min(n - filled, chunk.length - this.#head);
      out.set(chunk.subarray(this.#head, this.#head + count), filled);
      filled += count;
      this.#advance(count);
    }
    return out;
  }

  #advance(n: number): void {
    this.#head += n;
    this.#buffered -= n;
    const first = this.#chunks[0];
    if (first !== undefined && this.#head === first.length) {
      this.#chunks.shift();
      this.#head = 0;
    }
  }
}

export const DEFAULT_CHUNK_BYTES = 1 << 20;

/**
 * The frames of the `length` bytes at `offset` of the file at `path`, read with readSync in chunks of
 * `chunkBytes`, one frame's records at a time. Throws FLINT_SHUFFLE_CORRUPT when the file ends early or the
 * range ends inside a frame. The file is closed when the generator finishes or is abandoned.
 */
export function* readFramesFromFile(path: string, offset: number, length: number, chunkBytes = DEFAULT_CHUNK_BYTES): Generator<unknown[]> {
  for (const body of readFrameBodiesFromFile(path, offset, length, chunkBytes)) yield decodeFrameBody(body);
}

export interface ReadBodiesOptions {
  /**
   * Read into a few buffers reused from chunk to chunk (from the thread's pool, column-pool.ts) instead of a
   * fresh one per chunk. A fresh megabyte is 256 pages that fault in on the read (about 4 ms a MiB on the VMs of
   * docs/benchmarks.md, against 0.2 ms into memory already touched). Only for a caller that is done with a body,
   * and everything decoded from it, when it asks for the next: the body's bytes are then overwritten. A
   * columnar body's number columns are views of it (numberPairColumns, pairColumns), to be copied by whoever keeps
   * them; its records are copies. A body of the record codec is copied before it is handed out, since msgpack
   * gives binary values as views of its input, inside records that may be kept.
   */
  readonly recycle?: boolean;
}

/** readFramesFromFile's frames undecoded: each frame's body (see decodeFrameBody). */
export function* readFrameBodiesFromFile(
  path: string,
  offset: number,
  length: number,
  chunkBytes = DEFAULT_CHUNK_BYTES,
  options: ReadBodiesOptions = {},
): Generator<Uint8Array> {
  if (length === 0) return;
  const reader = new FrameReader();
  const recycle = options.recycle === true && chunkBytes >= MIN_RECYCLED_CHUNK && length > chunkBytes;
  const buffers: Uint8Array[] = [];
  const fd = openSync(path, 'r');
  try {
    let position = offset;
    const end = offset + length;
    while (position < end) {
      const size = Math.min(chunkBytes, end - position);
      // A fresh chunk unless recycling: the reader and decoded byte values may still refer to earlier ones.
      const chunk = recycle ? recycledChunk(buffers, reader, chunkBytes).subarray(0, size) : new Uint8Array(size);
      const read = readSync(fd, chunk, 0, chunk.length, position);
      if (read === 0) {
        throw new ShuffleError('FLINT_SHUFFLE_CORRUPT', `${path} ends at byte ${position}, but its shuffle block runs to byte ${end}: the file was truncated`);
      }
      position += read;
      reader.push(read === chunk.length ? chunk : chunk.subarray(0, read));
      for (let body = reader.nextBody(); body !== undefined; body = reader.nextBody()) {
        yield recycle && body[0] !== COLUMNAR_TAG ? body.slice() : body;
      }
    }
    reader.end();
  } finally {
    closeSync(fd);
    for (const buffer of buffers) giveBack(buffer);
  }
}

/** Chunks smaller than this are not worth recycling (the pool does not keep them). */
const MIN_RECYCLED_CHUNK = 256 * 1024;

/** A buffer of `bytes` the reader no longer refers to: one of `buffers`, or a new one (added to them). */
function recycledChunk(buffers: Uint8Array[], reader: FrameReader, bytes: number): Uint8Array {
  const free = buffers.find((buffer) => !reader.holds(buffer));
  if (free !== undefined) return free;
  const taken = takeBytes(bytes);
  buffers.push(taken);
  return taken;
}
