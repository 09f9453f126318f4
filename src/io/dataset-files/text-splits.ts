// Planning the splits of a text input on the driver: Hadoop's `FileInputFormat.getSplits` (the old `mapred` API
// that Spark's `SparkContext.textFile` goes through via `HadoopRDD`). The driver only lists and stats files; each
// split becomes one partition, read by one task with `readSplitLines` (line-reader.ts).
//
//   argument ──expand──▶ sorted absolute files ──stat──▶ sizes ──cut──▶ FileSplit[]
//
// - Expanding: a file is itself; a directory is its visible files (Hadoop's hiddenFileFilter: names starting
//   with `_` or `.` are skipped, so `_SUCCESS` and `.crc` files of an earlier job are not read); a glob (`*`, `?`,
//   `[…]`, `{a,b}`) is every visible path it matches, a matched directory standing for its visible files.
//   A subdirectory inside an input directory fails ("Not a file", as Hadoop does without recursive listing).
// - Cutting: goalSize = floor(totalBytes / minPartitions); splitSize = max(1, min(goalSize, maxSplitBytes));
//   each file is cut into splitSize pieces while more than SPLIT_SLOP (1.1) split sizes remain, so the last
//   piece may be up to 10 % larger than the others. A `.gz` file is one split (gzip cannot be split).
// - Empty files give no split, as Spark with `spark.files.ignoreEmptySplits=true` (plain Hadoop would give one
//   empty split each). When nothing is left (every file empty, or an empty directory), one empty split is
//   returned so the dataset still has one partition; reading an empty split gives no line.

import { globSync, readdirSync, statSync } from 'node:fs';
import type { Stats } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { FlintError } from '../../errors.ts';

/** One partition of a text input: `length` bytes of `path` from `start` (for gzip: the whole file). */
export interface FileSplit {
  /** Absolute path of the file. */
  readonly path: string;
  /** Byte offset of the split in the file. */
  readonly start: number;
  /** Bytes in the split (for gzip: the compressed size of the whole file). */
  readonly length: number;
  /** Compressed with gzip (`.gz`): read whole with `readGzipLines`, never cut. */
  readonly gzip: boolean;
}

export interface TextSplitOptions {
  /** The largest split, in bytes; default 128 MiB (Hadoop's default HDFS block size). */
  readonly maxSplitBytes?: number;
}

/** Hadoop's default HDFS block size, which bounds a split. */
export const DEFAULT_MAX_SPLIT_BYTES = 128 * 1024 * 1024;

/** Hadoop's `FileInputFormat.SPLIT_SLOP`: the last split of a file may be up to 10 % larger than splitSize. */
export const SPLIT_SLOP = 1.1;

/** No file matches the argument, or a file to read is gone (Hadoop's InvalidInputException). */
export class InputNotFoundError extends FlintError {
  readonly path: string;
  constructor(path: string, message: string, options?: ErrorOptions) {
    super('FLINT_INPUT_NOT_FOUND', message, options);
    this.path = path;
  }
}

/** An input argument that cannot be used: minPartitions, maxSplitBytes, or a path that is not a file. */
export class InputArgumentError extends FlintError {
  constructor(message: string) {
    super('FLINT_INPUT_INVALID', message);
  }
}

/**
 * The splits of `pathOrGlob` for at least `minPartitions` partitions (more when a file is larger than
 * maxSplitBytes), in sorted path order and by offset within each file. Throws InputNotFoundError when nothing
 * matches, InputArgumentError for a bad number or a subdirectory inside an input directory.
 */
export function planTextSplits(pathOrGlob: string, minPartitions: number, options: TextSplitOptions = {}): FileSplit[] {
  checkPositiveInteger('minPartitions', minPartitions, 'the fewest partitions to cut the input into');
  const maxSplitBytes = options.maxSplitBytes ?? DEFAULT_MAX_SPLIT_BYTES;
  checkPositiveInteger('maxSplitBytes', maxSplitBytes, 'the largest split in bytes');
  const files = statFiles(expandInputPath(pathOrGlob));
  const totalBytes = files.reduce((sum, file) => sum + file.size, 0);
  const goalSize = Math.floor(totalBytes / minPartitions);
  const splitSize = Math.max(1, Math.min(goalSize, maxSplitBytes));
  const splits = files.flatMap((file) => cutFile(file.path, file.size, splitSize));
  if (splits.length > 0) return splits;
  const path = files[0]?.path ?? resolve(pathOrGlob);
  return [{ path, start: 0, length: 0, gzip: isGzipPath(path) }];
}

/** Whether a file is read as gzip: by its suffix, as Hadoop's CompressionCodecFactory decides. */
export function isGzipPath(path: string): boolean {
  return path.endsWith('.gz');
}

/** Hadoop's hiddenFileFilter: `_SUCCESS`, `_temporary`, `.part-00000.crc` and the like are not input. */
export function isHiddenName(name: string): boolean {
  return name.startsWith('_') || name.startsWith('.');
}

/** Whether the argument is a pattern rather than a plain path. */
export function isGlob(pathOrGlob: string): boolean {
  return /[*?[{]/.test(pathOrGlob);
}

/**
 * The absolute, sorted, de-duplicated files an argument stands for (directories may remain in the answer only
 * when they are nested in an input directory: statFiles rejects them).
 */
export function expandInputPath(pathOrGlob: string): string[] {
  if (typeof pathOrGlob !== 'string' || pathOrGlob === '') {
    throw new InputArgumentError(`The input path must be a non-empty string (a file, a directory or a glob), got ${describe(pathOrGlob)}`);
  }
  const absolute = resolve(pathOrGlob);
  const matched = isGlob(pathOrGlob) ? matchGlob(absolute, pathOrGlob) : [statOrMissing(absolute, pathOrGlob)];
  const files = matched.flatMap(({ path, stats }) => (stats.isDirectory() ? visibleEntries(path) : [path]));
  return [...new Set(files)].sort(comparePaths);
}

function matchGlob(absolute: string, pattern: string): Array<{ path: string; stats: Stats }> {
  const visible = globSync(absolute)
    .filter((path) => !isHiddenName(basename(path)))
    .sort(comparePaths);
  if (visible.length === 0) {
    throw new InputNotFoundError(
      absolute,
      `Input Pattern ${absolute} matches 0 files${pattern === absolute ? '' : ` (from "${pattern}")`}. ` +
        'Expected a glob that matches at least one visible file or directory (names starting with "_" or "." are skipped).',
    );
  }
  return visible.map((path) => statOrMissing(path, pattern));
}

function statOrMissing(absolute: string, asGiven: string): { path: string; stats: Stats } {
  try {
    return { path: absolute, stats: statSync(absolute) };
  } catch (err) {
    if (!isMissing(err)) throw err;
    throw new InputNotFoundError(
      absolute,
      `Input path does not exist: ${absolute}${asGiven === absolute ? '' : ` (from "${asGiven}")`}. ` +
        'Expected an existing file, a directory of files, or a glob such as logs/*.txt.',
      { cause: err },
    );
  }
}

function visibleEntries(dir: string): string[] {
  return readdirSync(dir)
    .filter((name) => !isHiddenName(name))
    .map((name) => join(dir, name));
}

function statFiles(paths: string[]): Array<{ path: string; size: number }> {
  return paths.map((path) => {
    const { stats } = statOrMissing(path, path);
    if (!stats.isFile()) {
      throw new InputArgumentError(
        `Not a file: ${path}. Flint reads the files directly inside an input directory, not its subdirectories; ` +
          'pass a glob such as dir/*/* to read those.',
      );
    }
    return { path, size: stats.size };
  });
}

/** One file's splits, Hadoop's loop: cut splitSize pieces while more than SPLIT_SLOP of them remain. */
export function cutFile(path: string, size: number, splitSize: number): FileSplit[] {
  if (size === 0) return [];
  if (isGzipPath(path)) return [{ path, start: 0, length: size, gzip: true }];
  const splits: FileSplit[] = [];
  let remaining = size;
  while (remaining / splitSize > SPLIT_SLOP) {
    splits.push({ path, start: size - remaining, length: splitSize, gzip: false });
    remaining -= splitSize;
  }
  splits.push({ path, start: size - remaining, length: remaining, gzip: false });
  return splits;
}

function checkPositiveInteger(name: string, value: number, meaning: string): void {
  if (!Number.isSafeInteger(value) || value < 1) {
    throw new InputArgumentError(`${name} must be a positive whole number (${meaning}), got ${describe(value)}`);
  }
}

function comparePaths(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function describe(value: unknown): string {
  return typeof value === 'string' ? JSON.stringify(value.slice(0, 80)) : String(value);
}

function isMissing(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return code === 'ENOENT' || code === 'ENOTDIR';
}
