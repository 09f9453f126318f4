// Keeps Node's compile cache bounded. The CLI turns the cache on for every Flint process (src/cli/main.ts,
// NODE_COMPILE_CACHE), and Node keeps an entry for every module it ever compiled and never removes one. On a
// worker every application's bundle was a module of its own (its executors loaded it from the application's
// directory; now from the worker's shared `.app-code`, so only a new bundle adds one), so the cache grew by some
// 400 KB an application run, without end: 80,000 entries and 950 MB on the
// development machine after two days of tests. The worker's periodic cleanup (flint.worker.cleanup.*, Spark's
// WorkDirCleanup) now also removes the oldest entries until the cache is at most
// flint.worker.cleanup.compileCacheMaxSize; Node compiles again, and keeps again, any module it then misses.
//
// The cache's layout is Node's own: `<dir>/<node version, arch and flags hash>/<entry>`. Only regular files two
// levels down are counted and removed; links are never followed, and nothing else under `dir` is touched.
//
// A machine that only runs `flint submit` has no worker to trim it: `flint submit` prunes it too as its app ends,
// at most once a day (pruneCompileCacheIfDue; a stamp file in `dir` says when it was last done).

import { lstat, readdir, unlink, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

/** What one pruning found and did. */
export interface PruneResult {
  readonly files: number;
  readonly bytes: number;
  readonly removedFiles: number;
  readonly removedBytes: number;
}

interface Entry {
  readonly path: string;
  readonly size: number;
  readonly mtimeMs: number;
}

/** Entries looked at, at most: a cache so large is pruned in several rounds rather than held in memory at once. */
const MAX_ENTRIES = 1_000_000;

/**
 * Removes the oldest entries (by modification time) of the compile cache in `dir` until it holds at most `maxBytes`.
 * A missing `dir` is an empty cache. An entry that vanishes meanwhile (another process pruned it) is skipped.
 */
export async function pruneCompileCache(dir: string, maxBytes: number): Promise<PruneResult> {
  const entries: Entry[] = [];
  for (const version of await readdir(dir, { withFileTypes: true }).catch(missingIsEmpty)) {
    if (!version.isDirectory()) continue;
    const versionDir = join(dir, version.name);
    for (const file of await readdir(versionDir, { withFileTypes: true }).catch(missingIsEmpty)) {
      if (!file.isFile() || entries.length >= MAX_ENTRIES) continue;
      const path = join(versionDir, file.name);
      const stat = await lstat(path).catch(() => undefined);
      if (stat?.isFile()) entries.push({ path, size: stat.size, mtimeMs: stat.mtimeMs });
    }
  }
  let bytes = 0;
  for (const entry of entries) bytes += entry.size;
  let left = bytes;
  let removedFiles = 0;
  if (left > maxBytes) {
    entries.sort((a, b) => a.mtimeMs - b.mtimeMs);
    for (const entry of entries) {
      if (left <= maxBytes) break;
      if (await unlink(entry.path).then(() => true, () => false)) removedFiles += 1;
      left -= entry.size;
    }
  }
  return { files: entries.length, bytes, removedFiles, removedBytes: bytes - left };
}

/** The file in the cache's directory whose modification time says when a process last pruned it as it ended. */
export const PRUNED_STAMP = '.flint-pruned';

/** How often `flint submit` prunes the cache at most (a worker prunes at each of its cleanup sweeps). */
export const PRUNE_EVERY_MS = 86_400_000;

/**
 * For `flint submit`, whose machine may run no worker to trim the cache: prunes it as pruneCompileCache does when
 * no process has for PRUNE_EVERY_MS (PRUNED_STAMP's modification time, `nowMs` or later counting as long ago), and
 * stamps it first, so that processes ending together do not all walk it. Undefined when it was not due.
 */
export async function pruneCompileCacheIfDue(dir: string, maxBytes: number, nowMs: number = Date.now()): Promise<PruneResult | undefined> {
  const stamp = join(dir, PRUNED_STAMP);
  const last = await lstat(stamp).then((s) => (s.isFile() ? s.mtimeMs : undefined), () => undefined);
  if (last !== undefined && last <= nowMs && nowMs - last < PRUNE_EVERY_MS) return undefined;
  const when = new Date(nowMs);
  await writeFile(stamp, '')
    .then(() => utimes(stamp, when, when))
    .catch(() => {}); // a cache dir that cannot take the stamp is pruned anyway (a missing one is empty)
  return pruneCompileCache(dir, maxBytes);
}

function missingIsEmpty(err: NodeJS.ErrnoException): [] {
  if (err.code === 'ENOENT' || err.code === 'ENOTDIR') return [];
  throw err;
}
