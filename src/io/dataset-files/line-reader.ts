// Reading the lines of one split in a task: Hadoop's `LineRecordReader` (the reader behind Spark's `textFile`),
// over synchronous fs calls, since a task runs in a worker thread where blocking is fine and fastest.
//
// Which lines a split owns (Hadoop 2+, so that every line of a file is read by exactly one split):
//   - a split that starts at 0 reads from the first byte; any other split throws away everything up to and
//     including the first '\n' at or after `start` (that line began in, and is read by, the split before);
//   - a split reads every line that starts at or before `end = start + length`, so the line that crosses `end`
//     (or starts exactly at it) is read here, and thrown away by the next split.
// Lines end at '\n' (byte 0x0A); a '\r' before it is removed ('\r\n'). Unlike Hadoop, a lone '\r' does not end a
// line. A last line without '\n' is returned; a file ending in '\n' gives no extra empty line; a UTF-8 byte-order
// mark at the start of a file is dropped (Hadoop 2.7+). An empty split gives no line without opening the file.
//
// Speed: the file is read in `chunkBytes` pieces into one buffer; the complete lines of each piece are decoded
// (see decodeLines) and the unfinished last line is carried over to the next read. Lines are decoded from their
// own bytes, and '\n' never occurs inside a multi-byte UTF-8 sequence, so a character that straddles two chunks
// is always in the carried-over line and decodes whole. Memory is
// one chunk plus the longest line (the buffer doubles when a line does not fit).
//
// Gzip files (never split) stream through zlib with bounded memory: `readGzipLines`.

import { closeSync, createReadStream, openSync, readSync } from 'node:fs';
import { createGunzip } from 'node:zlib';
import { isAscii } from 'node:buffer';
import { FlintError } from '../../errors.ts';
import { InputArgumentError, InputNotFoundError } from './text-splits.ts';
import type { FileSplit } from './text-splits.ts';

export interface LineReaderOptions {
  /** Bytes per read; default 1 MiB. */
  readonly chunkBytes?: number;
  /** Bytes of whole lines decoded into one string at a time (a longer line is decoded whole); default 64 KiB. */
  readonly decodeBytes?: number;
}

export const DEFAULT_CHUNK_BYTES = 1024 * 1024;
/**
 * Bytes of lines decoded into one string at a time. A string above V8's largest regular object (128 KiB) goes
 * to its large-object space, which maps fresh pages for each one and unmaps them after the next GC: a 1 MiB
 * string decoded per chunk cost 256 page faults (about 15 µs each on the benchmark's machine) every time.
 * Below that size, the string lives in the young generation, whose pages are reused.
 */
export const DEFAULT_DECODE_BYTES = 64 * 1024;

const NEWLINE = 0x0a;
const CARRIAGE_RETURN = 0x0d;
const BYTE_ORDER_MARK = 0xfeff;

/** A file whose bytes cannot be decoded as its format says: a `.gz` file that is not valid gzip. */
export class CorruptInputError extends FlintError {
  readonly path: string;
  /** The same bytes fail the same way on every attempt. */
  readonly retryable = false;
  constructor(path: string, message: string, options?: ErrorOptions) {
    super('FLINT_INPUT_CORRUPT', message, options);
    this.path = path;
  }
}

/**
 * The lines `split` owns of a plain (uncompressed) file. Each iteration opens the file, reads it with
 * `readSync`, and closes it when done or when the loop is left early.
 */
export function readSplitLines(split: FileSplit, options: LineReaderOptions = {}): Iterable<string> {
  const chunkBytes = options.chunkBytes ?? DEFAULT_CHUNK_BYTES;
  const decodeBytes = options.decodeBytes ?? DEFAULT_DECODE_BYTES;
  for (const [name, value] of [['chunkBytes', chunkBytes], ['decodeBytes', decodeBytes]] as const) {
    if (!Number.isSafeInteger(value) || value < 1) throw new InputArgumentError(`${name} must be a positive whole number of bytes, got ${String(value)}`);
  }
  if (split.gzip) {
    throw new InputArgumentError(`${split.path} is gzip-compressed: read it with readGzipLines, not readSplitLines`);
  }
  return { [Symbol.iterator]: () => splitLines(split, chunkBytes, decodeBytes) };
}

function* splitLines(split: FileSplit, chunkBytes: number, decodeBytes: number): Generator<string, void, undefined> {
  if (split.length === 0) return;
  const end = split.start + split.length;
  const chunks = new ChunkBuffer(openInput(split.path), split.start, chunkBytes);
  try {
    let from = split.start === 0 ? 0 : chunks.skipFirstLine();
    if (from === -1) return;
    for (;;) {
      const { bytes, position, filled } = chunks;
      if (position + from > end) return;
      // The last line this split owns ends at the first '\n' at or after `end`.
      const endAt = end - position;
      const endNewline = endAt < filled ? indexOfNewline(bytes, Math.max(from, endAt), filled) : -1;
      const stop = endNewline !== -1 ? endNewline : lastIndexOfNewline(bytes, from, filled);
      // The lines up to `stop`, decoded decodeBytes or so at a time (see DEFAULT_DECODE_BYTES).
      while (stop !== -1 && from <= stop) {
        let cut = stop;
        if (stop - from > decodeBytes) {
          cut = lastIndexOfNewline(bytes, from, from + decodeBytes);
          if (cut === -1) cut = indexOfNewline(bytes, from + decodeBytes, stop + 1); // one line longer than that
        }
        const lines = decodeLines(bytes, from, cut, position + from === 0);
        for (let i = 0; i < lines.length; i++) yield lines[i] as string;
        from = cut + 1;
      }
      if (endNewline !== -1) return;
      if (chunks.eof) {
        if (from < filled && !isOnlyByteOrderMark(bytes, from, filled, position + from === 0)) {
          yield decodeLines(bytes, from, filled, position + from === 0)[0] as string;
        }
        return;
      }
      from = chunks.refill(from);
    }
  } finally {
    chunks.close();
  }
}

/** One growing read buffer over an open file: `bytes[0, filled)` holds the file from `position`. */
class ChunkBuffer {
  bytes: Buffer;
  position: number;
  filled = 0;
  eof = false;
  readonly #fd: number;

  constructor(fd: number, position: number, chunkBytes: number) {
    this.#fd = fd;
    this.position = position;
    this.bytes = Buffer.allocUnsafe(chunkBytes);
  }

  /**
   * Drops `bytes[0, keepFrom)`, moves the rest to the front (doubling the buffer when it is full of one line)
   * and reads once more after it. Returns the new index of what was at `keepFrom`: 0.
   */
  refill(keepFrom: number): number {
    if (keepFrom > 0) {
      this.bytes.copyWithin(0, keepFrom, this.filled);
      this.filled -= keepFrom;
      this.position += keepFrom;
    } else if (this.filled === this.bytes.length) {
      const larger = Buffer.allocUnsafe(this.bytes.length * 2);
      this.bytes.copy(larger, 0, 0, this.filled);
      this.bytes = larger;
    }
    const read = readSync(this.#fd, this.bytes, this.filled, this.bytes.length - this.filled, this.position + this.filled);
    this.filled += read;
    if (read === 0) this.eof = true;
    return 0;
  }

  /** Reads past the first '\n' from `position`; returns the index after it, or -1 at end of file without one. */
  skipFirstLine(): number {
    for (;;) {
      this.refill(this.filled);
      const newline = indexOfNewline(this.bytes, 0, this.filled);
      if (newline !== -1) return newline + 1;
      if (this.eof) return -1;
    }
  }

  close(): void {
    closeSync(this.#fd);
  }
}

function indexOfNewline(bytes: Buffer, from: number, to: number): number {
  const at = bytes.indexOf(NEWLINE, from);
  return at !== -1 && at < to ? at : -1;
}

function lastIndexOfNewline(bytes: Buffer, from: number, to: number): number {
  if (to <= from) return -1;
  const at = bytes.lastIndexOf(NEWLINE, to - 1);
  return at >= from ? at : -1;
}

/**
 * The lines of `bytes[from, to)`, where `to` is a '\n' (or the end of the last line), without their '\r\n' or
 * '\n'. `atFileStart` drops a UTF-8 byte-order mark. An all-ASCII range (the common case, checked with SIMD by
 * `isAscii`) is decoded once and split; otherwise each line is decoded on its own, which keeps V8 on its fast
 * one-byte path for the ASCII lines of a mostly-ASCII file (one decode of a mixed range is several times slower).
 */
function decodeLines(bytes: Buffer, from: number, to: number, atFileStart: boolean): string[] {
  if (isAscii(bytes.subarray(from, to))) return splitAscii(bytes.toString('latin1', from, to));
  const lines: string[] = [];
  let start = from;
  for (;;) {
    const newline = bytes.indexOf(NEWLINE, start);
    const stop = newline !== -1 && newline < to ? newline : to;
    const end = stop > start && bytes[stop - 1] === CARRIAGE_RETURN ? stop - 1 : stop;
    lines.push(bytes.toString('utf8', start, end));
    if (stop === to) break;
    start = stop + 1;
  }
  if (atFileStart && lines[0]?.charCodeAt(0) === BYTE_ORDER_MARK) lines[0] = lines[0].slice(1);
  return lines;
}

/** A file that holds nothing but a byte-order mark (and so no line). */
function isOnlyByteOrderMark(bytes: Buffer, from: number, to: number, atFileStart: boolean): boolean {
  return atFileStart && to - from === 3 && bytes[from] === 0xef && bytes[from + 1] === 0xbb && bytes[from + 2] === 0xbf;
}

function splitAscii(text: string): string[] {
  const lines = text.split('\n');
  if (text.includes('\r')) {
    for (let i = 0; i < lines.length; i++) {
      const line = lines[i] as string;
      if (line.charCodeAt(line.length - 1) === CARRIAGE_RETURN) lines[i] = line.slice(0, -1);
    }
  }
  return lines;
}

function openInput(path: string): number {
  try {
    return openSync(path, 'r');
  } catch (err) {
    const code = (err as { code?: unknown }).code;
    if (code !== 'ENOENT' && code !== 'ENOTDIR') throw err;
    throw new InputNotFoundError(
      path,
      `Input file ${path} does not exist (it did when the job was planned; was it moved or deleted while the job ran?)`,
      { cause: err },
    );
  }
}

/**
 * The lines of a whole gzip file (a gzip split is never cut), streamed through zlib's gunzip with bounded
 * memory. Same line rules as readSplitLines. Throws CorruptInputError when the file is not valid gzip.
 */
export async function* readGzipLines(split: FileSplit): AsyncGenerator<string, void, undefined> {
  if (split.length === 0) return;
  const source = createReadStream(split.path, { fd: openInput(split.path), highWaterMark: 256 * 1024 });
  const gunzip = createGunzip();
  source.on('error', (err) => gunzip.destroy(err));
  source.pipe(gunzip);
  const lines = new LineAssembler();
  try {
    for await (const chunk of gunzip as AsyncIterable<Buffer>) {
      const complete = lines.push(chunk);
      for (let i = 0; i < complete.length; i++) yield complete[i] as string;
    }
  } catch (err) {
    throw gzipError(split.path, err);
  } finally {
    source.destroy();
    gunzip.destroy();
  }
  const last = lines.finish();
  if (last !== undefined) yield last;
}

function gzipError(path: string, err: unknown): unknown {
  const code = (err as { code?: unknown } | null)?.code;
  if (typeof code !== 'string' || !code.startsWith('Z_')) return err;
  return new CorruptInputError(
    path,
    `${path} is not a valid gzip file: ${(err as Error).message}. Expected a whole gzip stream ` +
      '(rename the file if it is not gzip: files ending in .gz are read as gzip).',
    { cause: err },
  );
}

/** Turns a stream of byte chunks into complete lines, holding back the unfinished last line. */
export class LineAssembler {
  #pending: Buffer[] = [];
  #atFileStart = true;

  /** The lines completed by `chunk`. */
  push(chunk: Buffer): string[] {
    const last = chunk.lastIndexOf(NEWLINE);
    if (last === -1) {
      this.#pending.push(chunk);
      return [];
    }
    let bytes = chunk;
    let stop = last;
    if (this.#pending.length > 0) {
      this.#pending.push(chunk.subarray(0, last + 1));
      bytes = Buffer.concat(this.#pending);
      stop = bytes.length - 1;
    }
    const lines = decodeLines(bytes, 0, stop, this.#atFileStart);
    this.#atFileStart = false;
    this.#pending = last + 1 < chunk.length ? [Buffer.from(chunk.subarray(last + 1))] : [];
    return lines;
  }

  /** The last line when the input did not end in '\n'; undefined otherwise. */
  finish(): string | undefined {
    if (this.#pending.length === 0) return undefined;
    const bytes = Buffer.concat(this.#pending);
    this.#pending = [];
    if (bytes.length === 0 || isOnlyByteOrderMark(bytes, 0, bytes.length, this.#atFileStart)) return undefined;
    return decodeLines(bytes, 0, bytes.length, this.#atFileStart)[0];
  }
}
