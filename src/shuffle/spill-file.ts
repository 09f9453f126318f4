// File plumbing shared by the shuffle writer, the external aggregator and the external sorter: a buffered
// synchronous file sink that writes frames and copies byte ranges from other files, frame batching with an
// adaptive record count, and cursors that walk the records of a file range (or an array) one at a time for
// k-way merges. Synchronous on purpose: this runs in executor task threads (Spark's DiskBlockObjectWriter
// and the spill readers of ExternalSorter/ExternalAppendOnlyMap play these parts).

import { randomUUID } from 'node:crypto';
import { closeSync, openSync, readSync, unlinkSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { encodeNumberPairBody, type AllocateBody } from './columnar-frame.ts';
import { FRAME_HEADER_BYTES, encodeFrameBody, readFramesFromFile } from './frames.ts';

const SINK_BUFFER_BYTES = 1 << 20;
const COPY_CHUNK_BYTES = 1 << 20;

/** Writes all of `bytes` at the file's current position (writeSync may write less than asked). */
function writeAll(fd: number, bytes: Uint8Array): void {
  let done = 0;
  while (done < bytes.length) done += writeSync(fd, bytes, done, bytes.length - done);
}

/** A file opened for writing from its start, with a 1 MiB write buffer. `position` counts buffered bytes. */
export class FileSink {
  readonly path: string;
  #fd: number | undefined;
  readonly #buffer = new Uint8Array(SINK_BUFFER_BYTES);
  readonly #header = new DataView(new ArrayBuffer(FRAME_HEADER_BYTES));
  #used = 0;
  #position = 0;

  constructor(path: string) {
    this.path = path;
    this.#fd = openSync(path, 'w');
  }

  get position(): number {
    return this.#position;
  }

  write(bytes: Uint8Array): void {
    if (bytes.length > SINK_BUFFER_BYTES - this.#used) {
      this.#flush();
      if (bytes.length >= SINK_BUFFER_BYTES / 2) {
        writeAll(this.#open(), bytes);
        this.#position += bytes.length;
        return;
      }
    }
    this.#buffer.set(bytes, this.#used);
    this.#used += bytes.length;
    this.#position += bytes.length;
  }

  /** One frame: the 4-byte little-endian length of `body`, then `body` (from encodeFrameBody). */
  writeFrame(body: Uint8Array): void {
    this.#header.setUint32(0, body.length, true);
    this.write(new Uint8Array(this.#header.buffer));
    this.write(body);
  }

  /** Appends `length` bytes of the open file `fd` from `offset`, through a bounded buffer. */
  copyFrom(fd: number, offset: number, length: number, sourcePath: string): void {
    this.#flush();
    const scratch = new Uint8Array(Math.min(COPY_CHUNK_BYTES, Math.max(1, length)));
    let done = 0;
    while (done < length) {
      const read = readSync(fd, scratch, 0, Math.min(scratch.length, length - done), offset + done);
      if (read === 0) throw new Error(`${sourcePath} ended at byte ${offset + done}, before the ${length} bytes at ${offset} were copied`);
      writeAll(this.#open(), scratch.subarray(0, read));
      done += read;
    }
    this.#position += length;
  }

  /** Flushes and closes. Idempotent. */
  close(): void {
    if (this.#fd === undefined) return;
    try {
      this.#flush();
    } finally {
      closeSync(this.#fd);
      this.#fd = undefined;
    }
  }

  /** Closes without caring about errors (the file is about to be deleted). */
  closeQuietly(): void {
    if (this.#fd === undefined) return;
    try {
      closeSync(this.#fd);
    } catch {
      // already failing; the caller deletes the file
    }
    this.#fd = undefined;
  }

  #flush(): void {
    if (this.#used === 0) return;
    writeAll(this.#open(), this.#buffer.subarray(0, this.#used));
    this.#used = 0;
  }

  #open(): number {
    if (this.#fd === undefined) throw new Error(`${this.path} is already closed`);
    return this.#fd;
  }
}

/** Deletes a file, ignoring one that is not there. */
export function removeFile(path: string): void {
  try {
    unlinkSync(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
}

/** Deletes files, ignoring every failure: cleanup after an error must not hide the error. */
export function removeFilesQuietly(paths: Iterable<string>): void {
  for (const path of paths) {
    try {
      unlinkSync(path);
    } catch {
      // best effort
    }
  }
}

export const MAX_FRAME_RECORDS = 1000;
export const TARGET_FRAME_BYTES = 256 * 1024;

/**
 * Collects records into frames of at most MAX_FRAME_RECORDS records, shrinking the count when frames come out
 * larger than `targetBytes` (big records) and growing it back when they come out small.
 *
 * [number, number] records (a sort's or a join's pairs) are kept as two columns of numbers while every record
 * of the batch is one: the pair itself is not held (it dies young, or is never made when the compiler sees it
 * is not kept), and the frame is written from the columns without looking at each record again. The first other
 * record turns the batch back into records.
 */
export class FrameBatcher {
  #records: unknown[] = [];
  #keys: Float64Array | undefined;
  #values: Float64Array | undefined;
  /** Number pairs held in #keys and #values (then #records is empty). */
  #pairs = 0;
  #limit: number;
  readonly #targetBytes: number;
  readonly #allocate: AllocateBody | undefined;

  /** `allocate`: where columnar bodies' bytes come from (a FrameArena's, or fresh). */
  constructor(targetBytes = TARGET_FRAME_BYTES, allocate?: AllocateBody) {
    this.#targetBytes = targetBytes;
    this.#limit = MAX_FRAME_RECORDS;
    this.#allocate = allocate;
  }

  /** Records held. */
  get size(): number {
    return this.#pairs + this.#records.length;
  }

  /** Adds a record; returns the encoded frame body when the batch is full. */
  add(record: unknown): Uint8Array | undefined {
    if (this.#records.length === 0 && isNumberPair(record)) {
      const n = this.#pairs;
      const keys = (this.#keys ??= new Float64Array(MAX_FRAME_RECORDS));
      const values = (this.#values ??= new Float64Array(MAX_FRAME_RECORDS));
      keys[n] = record[0];
      values[n] = record[1];
      this.#pairs = n + 1;
      return n + 1 >= this.#limit ? this.flush() : undefined;
    }
    if (this.#pairs > 0) this.#toRecords();
    this.#records.push(record);
    return this.#records.length >= this.#limit ? this.flush() : undefined;
  }

  /** The encoded body of the records held (and forgets them), or undefined when there are none. */
  flush(): Uint8Array | undefined {
    const count = this.size;
    if (count === 0) return undefined;
    const body =
      this.#pairs > 0
        ? encodeNumberPairBody(this.#keys as Float64Array, this.#values as Float64Array, this.#pairs, this.#allocate)
        : encodeFrameBody(this.#records, this.#allocate);
    this.clear();
    if (body.length > this.#targetBytes) this.#limit = Math.max(1, Math.floor((count * this.#targetBytes) / body.length));
    else if (count >= this.#limit && body.length < this.#targetBytes / 4) this.#limit = Math.min(MAX_FRAME_RECORDS, this.#limit * 2);
    return body;
  }

  /** Forgets the records held. */
  clear(): void {
    this.#records = [];
    this.#pairs = 0;
  }

  /** The number pairs held, as records (a record of another shape came). */
  #toRecords(): void {
    const keys = this.#keys as Float64Array;
    const values = this.#values as Float64Array;
    for (let i = 0; i < this.#pairs; i += 1) this.#records.push([keys[i], values[i]]);
    this.#pairs = 0;
  }
}

/** A plain [number, number] array: what FrameBatcher keeps as columns. */
function isNumberPair(record: unknown): record is [number, number] {
  return (
    Array.isArray(record) &&
    record.length === 2 &&
    typeof record[0] === 'number' &&
    typeof record[1] === 'number' &&
    Object.getPrototypeOf(record) === Array.prototype
  );
}

/** Writes `records` to `sink` as frames; returns the number of bytes written. */
export function writeRecordFrames(sink: FileSink, records: Iterable<unknown>, targetBytes = TARGET_FRAME_BYTES): number {
  const start = sink.position;
  // Each body is written as soon as it is made, so one scratch body serves them all.
  const scratch = new ScratchBody();
  const batcher = new FrameBatcher(targetBytes, scratch.allocate);
  for (const record of records) {
    const body = batcher.add(record);
    if (body !== undefined) sink.writeFrame(body);
  }
  const rest = batcher.flush();
  if (rest !== undefined) sink.writeFrame(rest);
  return sink.position - start;
}

/** One body's bytes reused for the next (zeroed each time); grows to the largest asked for. */
class ScratchBody {
  #bytes = Buffer.alloc(0);
  readonly allocate = (bytes: number): Buffer => {
    if (bytes > this.#bytes.length) this.#bytes = Buffer.alloc(Math.max(bytes, 2 * this.#bytes.length));
    return this.#bytes.subarray(0, bytes).fill(0);
  };
}

/** A position in a sorted stream of records, for k-way merges: `head` is the current record. */
export interface RecordCursor {
  readonly head: unknown;
  /** Moves to the next record; false (and head undefined) at the end. */
  advance(): boolean;
  /**
   * The next record, or undefined at the end (records here are [key, value] pairs, never undefined): for a reader
   * that does not merge, which needs no `head` kept.
   */
  take(): unknown;
  close(): void;
}

/** The records of the frames in a byte range of a file, one at a time, reading `chunkBytes` at a time. */
export class FileRecordCursor implements RecordCursor {
  head: unknown = undefined;
  readonly #frames: Generator<unknown[]>;
  #batch: unknown[] = [];
  #index = 0;

  constructor(path: string, offset: number, length: number, chunkBytes: number) {
    this.#frames = readFramesFromFile(path, offset, length, chunkBytes);
  }

  advance(): boolean {
    while (this.#index >= this.#batch.length) {
      const next = this.#frames.next();
      if (next.done === true) {
        this.head = undefined;
        this.#batch = [];
        this.#index = 0;
        return false;
      }
      this.#batch = next.value;
      this.#index = 0;
    }
    this.head = this.#batch[this.#index];
    this.#batch[this.#index] = undefined; // let merged records go
    this.#index += 1;
    return true;
  }

  take(): unknown {
    return this.advance() ? this.head : undefined;
  }

  close(): void {
    this.#frames.return(undefined);
  }
}

/** The records of an array, one at a time. */
export class ArrayRecordCursor implements RecordCursor {
  head: unknown = undefined;
  readonly #items: readonly unknown[];
  #index = 0;

  constructor(items: readonly unknown[]) {
    this.#items = items;
  }

  advance(): boolean {
    if (this.#index >= this.#items.length) {
      this.head = undefined;
      return false;
    }
    this.head = this.#items[this.#index];
    this.#index += 1;
    return true;
  }

  take(): unknown {
    return this.advance() ? this.head : undefined;
  }

  close(): void {
    this.#index = this.#items.length;
  }
}

/**
 * How many bytes each of `files` spill readers may buffer during a merge: a share of the memory limit, kept
 * within [4 KiB, 1 MiB] (Spark reads spills through `spark.shuffle.file.buffer`, 32 KiB).
 */
function mergeChunkBytes(memoryLimitBytes: number, files: number): number {
  return Math.max(4096, Math.min(1 << 20, Math.floor(memoryLimitBytes / (4 * Math.max(1, files)))));
}

/** Spill frames of the reduce side are kept small: a merge holds one decoded frame per spill. */
const SPILL_FRAME_BYTES = 32 * 1024;

/**
 * The spill files of one ExternalAggregator or ExternalSorter: each a sorted run of records written whole,
 * read back as cursors for a merge, deleted together. Names are `<prefix>_<uuid>.spill`, unique across the
 * task threads that share a directory.
 */
export class SpillFiles {
  readonly #dir: string;
  readonly #prefix: string;
  readonly #files: Array<{ path: string; bytes: number }> = [];
  #bytes = 0;

  constructor(dir: string, prefix: string) {
    this.#dir = dir;
    this.#prefix = prefix;
  }

  get count(): number {
    return this.#files.length;
  }

  /** Bytes written to spill files. */
  get bytes(): number {
    return this.#bytes;
  }

  /** Writes `records` (already in merge order) as a new spill file. */
  write(records: Iterable<unknown>): void {
    const file = { path: join(this.#dir, `${this.#prefix}_${randomUUID()}.spill`), bytes: 0 };
    const sink = new FileSink(file.path);
    this.#files.push(file); // before writing, so removeAll() deletes a half-written spill too
    try {
      writeRecordFrames(sink, records, SPILL_FRAME_BYTES);
      sink.close();
    } finally {
      sink.closeQuietly();
    }
    file.bytes = sink.position;
    this.#bytes += sink.position;
  }

  /** A cursor per spill, oldest first, together buffering about a quarter of `memoryLimitBytes`. */
  cursors(memoryLimitBytes: number): RecordCursor[] {
    const chunkBytes = mergeChunkBytes(memoryLimitBytes, this.#files.length);
    return this.#files.map((f) => new FileRecordCursor(f.path, 0, f.bytes, chunkBytes));
  }

  /** Deletes every spill file. Idempotent. */
  removeAll(): void {
    removeFilesQuietly(this.#files.map((f) => f.path));
  }
}
