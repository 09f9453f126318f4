// A writable that appends to a log file and rolls it over: Spark's `RollingFileAppender` (with the read loop of
// its `FileAppender`), fed by a child's stdout or stderr pipe.
//
// - Data is taken in slices of at most 8 KiB (Spark's `DEFAULT_BUFFER_SIZE`, what its appender reads at once);
//   before each slice the policy decides whether to roll. A size-rolled file therefore never exceeds the size
//   unless one slice alone does.
// - Rolling closes the active file, renames it to `<name><suffix>` (or gzips it to `<name><suffix>.gz` and deletes
//   it), opens a new active file, then deletes the oldest rolled files beyond `maxRetainedFiles`. A suffix that is
//   taken gets `--0`, `--1`, … as in Spark's `moveFile`. An active file still empty is not rolled.
// - Memory is bounded: one write at a time (the Writable's buffer gives the pipe back-pressure) and compression
//   streams through zlib.
// - A failure to roll or to delete is reported to `onError` and writing goes on in the active file (Spark logs
//   and goes on). A failure to write is reported once and later data is dropped, so the child never blocks on a
//   full pipe (Spark's appender stops reading, and the child then blocks).

import { createReadStream, createWriteStream } from 'node:fs';
import { open, rename, stat, unlink, type FileHandle } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGzip } from 'node:zlib';
import type { LogRollingConfig } from '../../worker/log-rolling-config.ts';
import { GZIP_LOG_SUFFIX, listLogFiles } from './rolled-files.ts';
import { rollingPolicyFor, type RollingPolicy } from './rolling-policy.ts';

/** Spark's `RollingFileAppender.DEFAULT_BUFFER_SIZE`. */
export const APPEND_SLICE_BYTES = 8192;

export interface RollingFileOptions {
  /** Milliseconds since the epoch; the system clock unless a test steps its own. */
  readonly now?: () => number;
  /** A roll, a retention delete or a write failed; `what` says which. The appender carries on. */
  readonly onError?: (err: Error, what: string) => void;
}

export class RollingFileAppender extends Writable {
  readonly #activePath: string;
  readonly #config: LogRollingConfig;
  readonly #now: () => number;
  readonly #onError: (err: Error, what: string) => void;
  #file: FileHandle | undefined;
  #policy: RollingPolicy | undefined;
  #activeBytes = 0;
  #writeFailed = false;

  /** Appends to `activePath` (created if missing, its content kept: the worker writes stderr's header first). */
  constructor(activePath: string, config: LogRollingConfig, options: RollingFileOptions = {}) {
    super({ decodeStrings: true });
    this.#activePath = activePath;
    this.#config = config;
    this.#now = options.now ?? Date.now;
    this.#onError = options.onError ?? (() => {});
  }

  override _construct(callback: (error?: Error | null) => void): void {
    this.#openActive().then(
      () => {
        this.#policy = rollingPolicyFor(this.#config, this.#now(), this.#activeBytes);
        callback();
      },
      (err: Error) => callback(err),
    );
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    this.#append(chunk).then(() => callback(), callback);
  }

  override _final(callback: (error?: Error | null) => void): void {
    this.#closeActive().then(() => callback(), callback);
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    this.#closeActive().then(
      () => callback(error),
      () => callback(error),
    );
  }

  async #append(chunk: Buffer): Promise<void> {
    const policy = this.#policy as RollingPolicy;
    for (let at = 0; at < chunk.length && !this.#writeFailed; at += APPEND_SLICE_BYTES) {
      const slice = chunk.subarray(at, at + APPEND_SLICE_BYTES);
      const now = this.#now();
      try {
        if (policy.shouldRollover(slice.length, now)) {
          if (this.#activeBytes > 0) await this.#rollover(policy.rolledOverFileSuffix(now));
          policy.rolledOver(now);
        }
        await this.#writeAll(slice);
      } catch (err) {
        this.#writeFailed = true;
        this.#onError(err as Error, `writing ${this.#activePath} (later output is dropped)`);
        return;
      }
      policy.bytesWritten(slice.length);
    }
  }

  async #writeAll(slice: Buffer): Promise<void> {
    const file = this.#file;
    if (file === undefined) throw new Error(`${this.#activePath} is not open`);
    for (let done = 0; done < slice.length; ) {
      const { bytesWritten } = await file.write(slice, done, slice.length - done);
      done += bytesWritten;
      this.#activeBytes += bytesWritten;
    }
  }

  async #openActive(): Promise<void> {
    this.#file = await open(this.#activePath, 'a');
    this.#activeBytes = (await this.#file.stat()).size;
  }

  async #closeActive(): Promise<void> {
    const file = this.#file;
    this.#file = undefined;
    await file?.close();
  }

  /** Spark's `rollover`: close, move (or compress), reopen, then retention. */
  async #rollover(suffix: string): Promise<void> {
    try {
      await this.#closeActive();
      await this.#moveActive(suffix);
    } catch (err) {
      this.#onError(err as Error, `rolling over ${this.#activePath}`);
    }
    await this.#openActive(); // a failure here is a failed write (#append)
    if (this.#config.maxRetainedFiles > 0) {
      await this.#deleteOldFiles().catch((err: Error) => this.#onError(err, `deleting old rolled files of ${this.#activePath}`));
    }
  }

  async #moveActive(suffix: string): Promise<void> {
    const target = await freeRolledName(`${this.#activePath}${suffix}`);
    if (!this.#config.enableCompression) {
      await rename(this.#activePath, target);
      return;
    }
    const gz = `${target}${GZIP_LOG_SUFFIX}`;
    try {
      await pipeline(createReadStream(this.#activePath), createGzip(), createWriteStream(gz, { flags: 'wx' }));
    } catch (err) {
      await unlink(gz).catch(() => {}); // the active file keeps the data
      throw err;
    }
    await unlink(this.#activePath);
  }

  /** Spark's `deleteOldFiles`: keep the newest `maxRetainedFiles` rolled files. */
  async #deleteOldFiles(): Promise<void> {
    const dir = dirname(this.#activePath);
    const { rolled } = await listLogFiles(dir, basename(this.#activePath));
    const excess = rolled.length - this.#config.maxRetainedFiles;
    for (const name of rolled.slice(0, Math.max(0, excess))) await unlink(join(dir, name));
  }
}

const exists = (path: string): Promise<boolean> =>
  stat(path).then(
    () => true,
    () => false,
  );

/** `path`, or `path--0`, `path--1`, … when it (or its `.gz`) is taken: Spark's `moveFile`, up to 10000 tries. */
async function freeRolledName(path: string): Promise<string> {
  const taken = async (candidate: string): Promise<boolean> =>
    (await exists(candidate)) || (await exists(`${candidate}${GZIP_LOG_SUFFIX}`));
  if (!(await taken(path))) return path;
  for (let i = 0; i < 10_000; i++) {
    const candidate = `${path}--${i}`;
    if (!(await taken(candidate))) return candidate;
  }
  throw new Error(`no free name for a rolled file: ${path} and ${path}--0 to --9999 are taken`);
}
