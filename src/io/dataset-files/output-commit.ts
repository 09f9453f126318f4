// Writing a dataset's output atomically: Hadoop's `FileOutputCommitter` (algorithm version 1), simplified, as
// Spark's `saveAsTextFile` uses it through `SparkHadoopWriter` and `HadoopMapRedCommitProtocol`. No partial output
// is visible after a failed or retried task, or a failed job.
//
//   driver:  checkOutputDir(dir)                          refuse a non-empty dir (FileAlreadyExistsException)
//            setupJob(dir)                                make <dir>/_temporary/committed
//   task:    new PartWriter(dir, p, attempt) ─ writeLine* → <dir>/_temporary/attempt-<attempt>/part-NNNNN
//            ├─ commit()  rename → <dir>/_temporary/committed/part-NNNNN   (atomic; replaces an earlier attempt's)
//            └─ abort()   delete the attempt's file and directory
//   driver:  commitJob(dir, n)   every part-00000 … part-(n−1) committed? rename each into <dir>, delete
//                                _temporary (with leftovers of killed attempts), write _SUCCESS last
//            abortJob(dir)       delete _temporary and any part file, and <dir> if it is then empty
//
// Tasks never create `_temporary` itself (Hadoop's setupJob makes it on the driver, as here): a task attempt
// still running when its job is aborted finds it gone and fails, instead of making it again and leaving it behind.
//
// A reader knows the output is whole when `_SUCCESS` is there, and skips `_temporary` and `_SUCCESS` as hidden
// (text-splits.ts). Two attempts of one partition may both commit (a retried or speculative task): the later
// rename wins, which is harmless because a deterministic task writes the same lines.

import { closeSync, existsSync, mkdirSync, openSync, readdirSync, renameSync, rmSync, rmdirSync, statSync, writeFileSync, writeSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { FlintError } from '../../errors.ts';

/** Where task attempts write, under the output directory (Hadoop's `_temporary`). */
export const TEMPORARY_DIR = '_temporary';
/** Where committed task output waits for the job commit, under TEMPORARY_DIR. */
export const COMMITTED_DIR = 'committed';
/** The empty marker file written last by commitJob (Hadoop's `_SUCCESS`). */
export const SUCCESS_FILE = '_SUCCESS';
/** PartWriter gathers about this many characters before one write. */
export const WRITE_BUFFER_CHARS = 1024 * 1024;

const PART_FILE = /^part-\d{5,}/;

/** The output directory already holds files (Spark's FileAlreadyExistsException). */
export class OutputExistsError extends FlintError {
  readonly path: string;
  constructor(path: string, message: string) {
    super('FLINT_OUTPUT_EXISTS', message);
    this.path = path;
  }
}

/** The job or a task cannot commit: a partition's output is missing, or the job was aborted meanwhile. */
export class OutputCommitError extends FlintError {
  readonly path: string;
  constructor(path: string, message: string, options?: ErrorOptions) {
    super('FLINT_OUTPUT_COMMIT_FAILED', message, options);
    this.path = path;
  }
}

/** Refuses an output directory that exists and is not empty (or is not a directory). Run on the driver first. */
export function checkOutputDir(dir: string): void {
  const path = resolve(dir);
  if (!existsSync(path)) return;
  if (!statSync(path).isDirectory()) {
    throw new OutputExistsError(path, `Output path ${path} already exists and is not a directory. Expected a directory that does not exist yet (or is empty); choose another path.`);
  }
  if (readdirSync(path).length > 0) {
    throw new OutputExistsError(
      path,
      `Output directory ${path} already exists. Expected a path that does not exist yet (or an empty directory); ` +
        'delete it or choose another, so that an earlier output is never mixed with this one.',
    );
  }
}

/** `part-00000` for partition 0: five digits at least, more when needed (Hadoop's part file names), then `ext`. */
export function partFileName(partition: number, ext = ''): string {
  checkWholeNumber('partition', partition);
  return `part-${String(partition).padStart(5, '0')}${ext}`;
}

/**
 * The output of one task attempt for one partition. Write lines, then either commit (the file moves, atomically,
 * to `_temporary/committed`) or abort (the file is deleted). Not reusable after either.
 */
export class PartWriter {
  readonly partition: number;
  readonly attemptId: number;
  readonly #attemptDir: string;
  readonly #attemptFile: string;
  readonly #committedFile: string;
  #fd: number | undefined;
  #pending = '';
  #bytes = 0;
  #lines = 0;

  constructor(dir: string, partition: number, attemptId: number, ext = '') {
    checkWholeNumber('attemptId', attemptId);
    const name = partFileName(partition, ext);
    const temporary = join(resolve(dir), TEMPORARY_DIR);
    this.partition = partition;
    this.attemptId = attemptId;
    this.#attemptDir = join(temporary, `attempt-${attemptId}`);
    this.#attemptFile = join(this.#attemptDir, name);
    this.#committedFile = join(temporary, COMMITTED_DIR, name);
    // Only the attempt's own directory is made, in the job's `_temporary`: when that is gone the job was aborted,
    // and commit() only renames, so an attempt that outlives its job recreates nothing.
    try {
      mkdirSync(this.#attemptDir);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') {
        throw new OutputCommitError(
          temporary,
          `${this.#describe()} cannot write: ${temporary} does not exist. Was the job aborted while this task ran (or setupJob not run)?`,
          { cause: err },
        );
      }
      if (code !== 'EEXIST') throw err;
    }
    this.#fd = openSync(this.#attemptFile, 'w');
  }

  /** Appends `line` and a '\n'. Lines are gathered and written about WRITE_BUFFER_CHARS at a time. */
  writeLine(line: string): void {
    if (this.#fd === undefined) throw new Error(`${this.#describe()} is closed: writeLine after commit or abort`);
    this.#pending += line + '\n';
    this.#lines++;
    if (this.#pending.length >= WRITE_BUFFER_CHARS) this.#flush(this.#fd);
  }

  /** Closes the file and renames it into `_temporary/committed`, replacing an earlier attempt's. */
  commit(): { path: string; bytes: number; lines: number } {
    const fd = this.#fd;
    if (fd === undefined) throw new Error(`${this.#describe()} is closed: commit after commit or abort`);
    try {
      this.#flush(fd);
    } finally {
      this.#fd = undefined;
      closeSync(fd);
    }
    try {
      renameSync(this.#attemptFile, this.#committedFile);
    } catch (err) {
      throw new OutputCommitError(
        this.#committedFile,
        `${this.#describe()} could not commit ${this.#attemptFile} to ${this.#committedFile}: ${(err as Error).message}. ` +
          'Was the job aborted (its _temporary directory removed) while this task ran?',
        { cause: err },
      );
    }
    rmSync(this.#attemptDir, { recursive: true, force: true });
    return { path: this.#committedFile, bytes: this.#bytes, lines: this.#lines };
  }

  /** Closes and deletes the attempt's file and directory. Safe to call more than once, and after a failed commit. */
  abort(): void {
    const fd = this.#fd;
    this.#fd = undefined;
    this.#pending = '';
    if (fd !== undefined) {
      try {
        closeSync(fd);
      } catch {
        // Already unusable; deleting the file below is what matters.
      }
    }
    rmSync(this.#attemptDir, { recursive: true, force: true });
  }

  #flush(fd: number): void {
    if (this.#pending === '') return;
    const bytes = Buffer.from(this.#pending, 'utf8');
    this.#pending = '';
    let written = 0;
    while (written < bytes.length) written += writeSync(fd, bytes, written, bytes.length - written);
    this.#bytes += bytes.length;
  }

  #describe(): string {
    return `PartWriter for partition ${this.partition} (attempt ${this.attemptId})`;
  }
}

/** Prepares `dir` for a job's tasks (Hadoop's FileOutputCommitter.setupJob): makes `_temporary/committed` in it. */
export function setupJob(dir: string): void {
  mkdirSync(join(resolve(dir), TEMPORARY_DIR, COMMITTED_DIR), { recursive: true });
}

/**
 * Publishes a job's output once every task succeeded: checks that each of part 0 … partitions−1 was committed,
 * moves them into `dir`, removes `_temporary` (leftover attempts included) and writes `_SUCCESS` last.
 */
export function commitJob(dir: string, partitions: number, ext = ''): { files: number; bytes: number } {
  checkWholeNumber('partitions', partitions);
  const out = resolve(dir);
  const committed = join(out, TEMPORARY_DIR, COMMITTED_DIR);
  const names = Array.from({ length: partitions }, (_, partition) => partFileName(partition, ext));
  let bytes = 0;
  for (const [partition, name] of names.entries()) {
    bytes += committedSize(join(committed, name), partition, out);
  }
  mkdirSync(out, { recursive: true });
  for (const name of names) renameSync(join(committed, name), join(out, name));
  rmSync(join(out, TEMPORARY_DIR), { recursive: true, force: true });
  writeFileSync(join(out, SUCCESS_FILE), '');
  return { files: names.length, bytes };
}

function committedSize(path: string, partition: number, out: string): number {
  try {
    return statSync(path).size;
  } catch (err) {
    throw new OutputCommitError(
      path,
      `Cannot commit the output in ${out}: partition ${partition} has no committed part file (expected ${path}). ` +
        'Every task must commit its PartWriter before commitJob; nothing was moved.',
      { cause: err },
    );
  }
}

/**
 * Cleans up after a failed job: removes `_temporary` and any part file (of a commitJob that failed half-way),
 * then `dir` itself if nothing else is left in it. Safe when `dir` does not exist.
 */
export function abortJob(dir: string): void {
  const out = resolve(dir);
  // Retried: an attempt still running may add its file while the tree is being removed (ENOTEMPTY).
  rmSync(join(out, TEMPORARY_DIR), { recursive: true, force: true, maxRetries: 5, retryDelay: 20 });
  if (!existsSync(out)) return;
  for (const name of readdirSync(out)) {
    if (PART_FILE.test(name)) rmSync(join(out, name), { force: true });
  }
  if (readdirSync(out).length === 0) rmdirSync(out);
}

function checkWholeNumber(name: string, value: number): void {
  if (!Number.isSafeInteger(value) || value < 0) {
    throw new RangeError(`${name} must be a whole number from 0, got ${String(value)}`);
  }
}
