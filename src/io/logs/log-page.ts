// Reading a log as Spark's worker `LogPage` does: a byte range across the rolled files and the active one
// (`LogPage.getLog` with `Utils.offsetBytes(files, fileLengths, start, end)`), by default the last `byteLength`
// bytes; and the whole log as one stream, for download.
//
// Byte positions count the log as one sequence of uncompressed bytes: a gzipped rolled file counts with its
// uncompressed length and is read decompressed, as in Spark. Reading a range inside a `.gz` decompresses it
// from its start (streaming, so memory stays bounded by the range); its length is computed once per file
// version and remembered (log-files.ts).

import type { FileHandle } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { LogRequestError } from '../../errors.ts';
import {
  checkLogType,
  checkPlainId,
  logFiles,
  openLogFile,
  quoteInput,
  type LogFile,
  type LogRoots,
  type LogTarget,
} from './log-files.ts';

/** Spark's `LogPage.defaultBytes`. */
export const DEFAULT_LOG_BYTES = 100 * 1024;
/** The most one request returns (Spark has no cap); a larger `byteLength` is cut down to it. */
export const MAX_LOG_BYTES = 1024 * 1024;

export interface LogRequest {
  readonly target: LogTarget;
  /** First byte to return; without it, the last `byteLength` bytes. Past the end: the end. */
  readonly offset?: number;
  readonly byteLength?: number;
}

export interface LogSlice {
  readonly text: string;
  readonly startByte: number;
  readonly endByte: number;
  /** Of the whole log: every rolled file (uncompressed) and the active one. */
  readonly totalLength: number;
}

const badRequest = (message: string): LogRequestError => new LogRequestError('FLINT_LOG_BAD_REQUEST', message);

function checkByteCount(name: string, value: number): void {
  if (!Number.isSafeInteger(value) || value < 0) {
    throw badRequest(`${name}=${String(value)} is not a byte count; expected a whole number from 0 to ${Number.MAX_SAFE_INTEGER}`);
  }
}

/** The query parameters of Spark's log page, as strings (missing: undefined). */
export interface LogQuery {
  readonly appId?: string;
  readonly executorId?: string;
  readonly driverId?: string;
  /** Spark 4's `self`: the daemon's own log. Any value; its presence counts. */
  readonly self?: string;
  readonly logType?: string;
  readonly offset?: string;
  readonly byteLength?: string;
}

function parseByteCount(name: string, text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  if (!/^\d{1,16}$/.test(text)) {
    throw badRequest(`${name}=${quoteInput(text)} is not a byte count; expected a whole number from 0 to ${Number.MAX_SAFE_INTEGER}`);
  }
  const value = Number(text);
  checkByteCount(name, value);
  return value;
}

/**
 * A request from the log page's parameters: `appId` with `executorId`, or `driverId`, or `self`, and nothing
 * else of the three; `logType` is stdout or stderr (for `self`: absent, or Spark's `out`).
 */
export function parseLogQuery(query: LogQuery): LogRequest {
  const { appId, executorId, driverId, self } = query;
  const offset = parseByteCount('offset', query.offset);
  const byteLength = parseByteCount('byteLength', query.byteLength);
  const range = { ...(offset === undefined ? {} : { offset }), ...(byteLength === undefined ? {} : { byteLength }) };
  if (self !== undefined && appId === undefined && executorId === undefined && driverId === undefined) {
    if (query.logType !== undefined && query.logType !== 'out') {
      throw badRequest(`logType=${quoteInput(query.logType)} does not apply to the daemon's own log; leave it out`);
    }
    return { target: { kind: 'daemon' }, ...range };
  }
  const logType = checkLogType(query.logType ?? '');
  if (appId !== undefined && executorId !== undefined && driverId === undefined && self === undefined) {
    checkPlainId('appId', appId);
    checkPlainId('executorId', executorId);
    return { target: { kind: 'executor', appId, executorId, logType }, ...range };
  }
  if (driverId !== undefined && appId === undefined && executorId === undefined && self === undefined) {
    checkPlainId('driverId', driverId);
    return { target: { kind: 'driver', driverId, logType }, ...range };
  }
  throw badRequest('a log request names either appId and executorId, or driverId, or self');
}

/** Spark's `LogPage.getLog`: the range, clamped to the log, and its text (UTF-8; a cut character shows as U+FFFD). */
export async function readLog(roots: LogRoots, request: LogRequest): Promise<LogSlice> {
  checkByteCount('byteLength', request.byteLength ?? DEFAULT_LOG_BYTES);
  if (request.offset !== undefined) checkByteCount('offset', request.offset);
  const byteLength = Math.min(request.byteLength ?? DEFAULT_LOG_BYTES, MAX_LOG_BYTES);
  const files = await logFiles(roots, request.target);
  const totalLength = files.reduce((sum, f) => sum + f.length, 0);
  const offset = request.offset ?? totalLength - byteLength;
  const startByte = Math.min(Math.max(offset, 0), totalLength);
  const endByte = Math.min(startByte + byteLength, totalLength);
  const text = (await offsetBytes(files, startByte, endByte)).toString('utf8');
  return { text, startByte, endByte, totalLength };
}

/** Spark's `Utils.offsetBytes(files, fileLengths, start, end)`: bytes [start, end) of the files laid end to end. */
export async function offsetBytes(files: readonly LogFile[], start: number, end: number): Promise<Buffer> {
  const parts: Buffer[] = [];
  let fileStart = 0;
  for (const file of files) {
    const fileEnd = fileStart + file.length;
    const from = Math.max(start, fileStart) - fileStart;
    const to = Math.min(end, fileEnd) - fileStart;
    if (to > from) parts.push(await fileRange(file, from, to));
    fileStart = fileEnd;
  }
  return Buffer.concat(parts);
}

/** Bytes [from, to) of one file, decompressed first for a `.gz`. */
async function fileRange(file: LogFile, from: number, to: number): Promise<Buffer> {
  const handle = await openLogFile(file.path);
  try {
    if (!file.compressed) {
      const buffer = Buffer.alloc(to - from);
      let done = 0;
      while (done < buffer.length) {
        const { bytesRead } = await handle.read(buffer, done, buffer.length - done, from + done);
        if (bytesRead === 0) break; // the file shrank since it was measured
        done += bytesRead;
      }
      return buffer.subarray(0, done);
    }
    const parts: Buffer[] = [];
    let at = 0;
    for await (const chunk of contentOf(handle, true)) {
      const chunkEnd = at + chunk.length;
      if (chunkEnd > from) parts.push(chunk.subarray(Math.max(0, from - at), Math.min(chunk.length, to - at)));
      at = chunkEnd;
      if (at >= to) break;
    }
    return Buffer.concat(parts);
  } finally {
    await handle.close();
  }
}

/** The content of an open file, gunzipped when `compressed`; both streams are destroyed when the caller stops early. */
async function* contentOf(handle: FileHandle, compressed: boolean): AsyncGenerator<Buffer> {
  const raw = handle.createReadStream({ autoClose: false, start: 0 });
  const stream = compressed ? raw.pipe(createGunzip()) : raw;
  try {
    for await (const chunk of stream as AsyncIterable<Buffer>) yield chunk;
  } finally {
    stream.destroy();
    raw.destroy();
  }
}

/** The whole log, oldest byte first, decompressed: for a download. The files are listed when this is called. */
export async function logReadStream(roots: LogRoots, target: LogTarget): Promise<Readable> {
  const files = await logFiles(roots, target);
  async function* chunks(): AsyncGenerator<Buffer> {
    for (const file of files) {
      const handle = await openLogFile(file.path);
      try {
        yield* contentOf(handle, file.compressed);
      } finally {
        await handle.close();
      }
    }
  }
  return Readable.from(chunks(), { objectMode: false });
}
