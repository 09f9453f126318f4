// The shuffle's file layout and commit: Spark's IndexShuffleBlockResolver. A map task's output is one data file,
// the blocks of reduce partitions 0..n-1 one after another, and an index file of n + 1 little-endian u64
// offsets into it (the first 0, the last the data file's length), so block r is [offsets[r], offsets[r+1]).
//
// Commit (writeIndexFileAndCommit): the writer fills `<name>.<attemptId>.tmp` files, then, holding a lock file,
// either finds a valid output of another attempt of the same map task already there and keeps it (the first
// commit wins; the temporaries are deleted) or renames the data file and then the index file into place. The
// index goes last, so an index always names a complete data file.

import { closeSync, existsSync, openSync, readFileSync, readSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { ShuffleError } from './shuffle-errors.ts';
import { removeFile, removeFilesQuietly } from './spill-file.ts';

/** Spark's names: `shuffle_<shuffleId>_<mapId>_0.data` and `.index` (the trailing 0 is the no-op reduce id). */
export function shuffleFileNames(shuffleId: number, mapId: number): { data: string; index: string } {
  const base = `shuffle_${shuffleId}_${mapId}_0`;
  return { data: `${base}.data`, index: `${base}.index` };
}

/** The index file's bytes for blocks of `sizes` bytes. */
export function indexBytes(sizes: readonly number[]): Uint8Array {
  const bytes = new Uint8Array(8 * (sizes.length + 1));
  const view = new DataView(bytes.buffer);
  let offset = 0;
  for (let i = 0; i <= sizes.length; i += 1) {
    view.setUint32(8 * i, offset % 4294967296, true);
    view.setUint32(8 * i + 4, Math.floor(offset / 4294967296), true);
    offset += sizes[i] ?? 0;
  }
  return bytes;
}

function offsetsOf(bytes: Uint8Array, indexPath: string): number[] {
  if (bytes.length < 8 || bytes.length % 8 !== 0) {
    throw new ShuffleError('FLINT_SHUFFLE_CORRUPT', `${indexPath} has ${bytes.length} bytes; a shuffle index holds one or more 8-byte offsets`);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const offsets: number[] = [];
  for (let i = 0; i < bytes.length; i += 8) offsets.push(view.getUint32(i, true) + view.getUint32(i + 4, true) * 4294967296);
  return offsets;
}

/** The n + 1 offsets of an index file. */
export function readIndex(indexPath: string): number[] {
  return offsetsOf(readFileSync(indexPath), indexPath);
}

/** Where reduce partition `reduceId`'s block lies in the data file, reading only its two offsets. */
export function blockRange(indexPath: string, reduceId: number): { offset: number; length: number } {
  if (!Number.isInteger(reduceId) || reduceId < 0) throw new RangeError(`reduceId must be a non-negative integer, got ${reduceId}`);
  const bytes = new Uint8Array(16);
  const fd = openSync(indexPath, 'r');
  let read: number;
  try {
    read = readSync(fd, bytes, 0, 16, 8 * reduceId);
  } finally {
    closeSync(fd);
  }
  if (read < 16) {
    const partitions = Math.max(0, statSync(indexPath).size / 8 - 1);
    throw new RangeError(`${indexPath} indexes ${partitions} reduce partitions; there is no partition ${reduceId}`);
  }
  const [start, end] = offsetsOf(bytes, indexPath) as [number, number];
  if (end < start) throw new ShuffleError('FLINT_SHUFFLE_CORRUPT', `${indexPath} gives partition ${reduceId} offsets ${start}..${end}, which go backwards`);
  return { offset: start, length: end - start };
}

/**
 * The block sizes of a committed output, or undefined when there is none or it is not whole: Spark's
 * checkIndexAndDataFile (n + 1 offsets, the first 0, never decreasing, the last the data file's length).
 */
export function existingOutput(dataPath: string, indexPath: string, partitions: number): number[] | undefined {
  if (!existsSync(indexPath) || !existsSync(dataPath)) return undefined;
  let offsets: number[];
  try {
    offsets = readIndex(indexPath);
  } catch {
    return undefined;
  }
  if (offsets.length !== partitions + 1 || offsets[0] !== 0) return undefined;
  const sizes: number[] = [];
  for (let i = 0; i < partitions; i += 1) {
    const size = (offsets[i + 1] as number) - (offsets[i] as number);
    if (size < 0) return undefined;
    sizes.push(size);
  }
  return statSync(dataPath).size === offsets[partitions] ? sizes : undefined;
}

const LOCK_WAIT_MS = 10_000;
const sleeper = new Int32Array(new SharedArrayBuffer(4));

/**
 * Runs `fn` holding `lockPath` (created exclusively, so it excludes other threads and processes). A lock older
 * than LOCK_WAIT_MS is taken to be left by a dead task and is broken.
 */
function withLock<T>(lockPath: string, fn: () => T): T {
  for (let waited = 0; ; waited += 1) {
    try {
      closeSync(openSync(lockPath, 'wx'));
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      if (waited >= LOCK_WAIT_MS) {
        removeFile(lockPath);
        waited = 0;
      } else Atomics.wait(sleeper, 0, 0, 1);
    }
  }
  try {
    return fn();
  } finally {
    removeFile(lockPath);
  }
}

export interface CommitResult {
  readonly sizes: number[];
  readonly reusedExisting: boolean;
}

/**
 * Commits written temporaries (`dataTmp`, with blocks of `sizes` bytes) as the output at `dataPath`/`indexPath`:
 * writes the index temporary, then keeps a valid existing output (deleting the temporaries) or renames data
 * then index into place. On failure the temporaries are deleted and the error is rethrown.
 */
export function commitOutput(dataTmp: string, dataPath: string, indexPath: string, attemptId: number, sizes: number[]): CommitResult {
  const indexTmp = `${indexPath}.${attemptId}.tmp`;
  try {
    writeFileSync(indexTmp, indexBytes(sizes));
    return withLock(`${indexPath}.lock`, () => {
      const existing = existingOutput(dataPath, indexPath, sizes.length);
      if (existing !== undefined) {
        removeFile(dataTmp);
        removeFile(indexTmp);
        return { sizes: existing, reusedExisting: true };
      }
      renameSync(dataTmp, dataPath);
      renameSync(indexTmp, indexPath);
      return { sizes, reusedExisting: false };
    });
  } catch (err) {
    removeFilesQuietly([dataTmp, indexTmp]);
    throw err;
  }
}
