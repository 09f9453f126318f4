// The bytes under a directory (a worker's work dir: executors' logs, shuffle files, fetched code) for the worker's
// `flint_worker_work_dir_bytes`. Spark has no such figure; operators ask `du`. The walk is asynchronous (one
// directory listed at a time, its entries stat'ed in parallel batches), so the event loop turns between
// steps; it visits at most `maxEntries` entries (the figure is then a lower bound, and says so); and its result
// is kept for `maxAgeMs`: a scrape reads the last figure and starts a new walk when it is stale, waiting for one
// only when there has never been one.

import { lstat, readdir } from 'node:fs/promises';
import { join } from 'node:path';

export interface DirSizeFigure {
  readonly bytes: number;
  /** Entries visited (files, directories and links). */
  readonly entries: number;
  /** The walk stopped at `maxEntries`: `bytes` is a lower bound. */
  readonly truncated: boolean;
}

export interface DirSizeOptions {
  /** Default 30 s. */
  readonly maxAgeMs?: number;
  /** Default 100,000. */
  readonly maxEntries?: number;
  readonly now?: () => number;
}

const STAT_BATCH = 64;

export class DirSize {
  readonly #dir: string;
  readonly #maxAgeMs: number;
  readonly #maxEntries: number;
  readonly #now: () => number;
  #last: { readonly figure: DirSizeFigure; readonly atMs: number } | undefined;
  #walking: Promise<DirSizeFigure> | undefined;

  constructor(dir: string, options: DirSizeOptions = {}) {
    this.#dir = dir;
    this.#maxAgeMs = options.maxAgeMs ?? 30_000;
    this.#maxEntries = options.maxEntries ?? 100_000;
    this.#now = options.now ?? (() => performance.now());
  }

  /** The last figure (a new walk starts when it is older than maxAgeMs); the first call waits for the first walk. */
  async read(): Promise<DirSizeFigure> {
    const last = this.#last;
    if (last !== undefined && this.#now() - last.atMs < this.#maxAgeMs) return last.figure;
    const walking = (this.#walking ??= this.#walk().finally(() => (this.#walking = undefined)));
    return last?.figure ?? walking;
  }

  async #walk(): Promise<DirSizeFigure> {
    let bytes = 0;
    let entries = 0;
    const pending = [this.#dir];
    while (pending.length > 0 && entries < this.#maxEntries) {
      const dir = pending.pop() as string;
      let names: string[];
      try {
        names = await readdir(dir);
      } catch {
        continue; // removed meanwhile (an application's dir cleaned up), or not readable
      }
      for (let i = 0; i < names.length && entries < this.#maxEntries; i += STAT_BATCH) {
        const batch = names.slice(i, Math.min(i + STAT_BATCH, i + this.#maxEntries - entries));
        const stats = await Promise.all(batch.map((name) => lstat(join(dir, name)).then((s) => ({ name, s }), () => undefined)));
        for (const entry of stats) {
          if (entry === undefined) continue;
          entries++;
          if (entry.s.isDirectory()) pending.push(join(dir, entry.name));
          else bytes += entry.s.size;
        }
      }
    }
    const figure = { bytes, entries, truncated: pending.length > 0 || entries >= this.#maxEntries };
    this.#last = { figure, atMs: this.#now() };
    return figure;
  }
}
