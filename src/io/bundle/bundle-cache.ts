// A cache of application bundles on the driver's machine, so that running an app again (or another app with the
// same sources) does not wait for esbuild: the executors of a new context wait for the bundle before they can
// register (docs/applications.md, "On the cluster"), and bundling takes 40–120 ms, a fresh esbuild process
// included (docs/benchmarks.md, bench:tasks).
//
// An entry is found by a key (the hash of the bundle's build options, esbuild's version and the entry module's
// path: bundle-app.ts) and holds what it was built from: the sha256 of each input file's bytes, and the mtime of
// each directory holding one (a file added or removed there could change how an import resolves). It is used only
// when every one of them still matches and the stored bundle's bytes hash to the name it is stored under; else
// esbuild runs and the entry is written anew. Spark has no counterpart: its jars are built before spark-submit.
//
// The directory is private (created 0700; refused when another user owns it or others may write to it), as
// whatever is in it runs in the executors. Entries are written to a temporary name and renamed, so processes
// that bundle at once never read half an entry; at most MAX_ENTRIES are kept, the least recently used dropped.

import { createHash, randomBytes } from 'node:crypto';
import { readdirSync, readFileSync, renameSync, statSync, unlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import type { FlintConf } from '../../conf/flint-conf.ts';
import { privateDirProblem, userCacheDir } from '../../util/private-dir.ts';

/** Entries (one per app and build options) kept; the least recently used beyond this are removed. */
export const MAX_ENTRIES = 64;

/** Modules transformed by the driver's hook (transform-inline.ts) kept; the least recently used beyond are removed. */
export const MAX_TRANSFORMED = 256;

/**
 * Inputs modified less than this before a build started are not cached: what is hashed after the build might not
 * be what it read. Timestamps of whole seconds (ext3, HFS+, FAT) can be a second coarse; a file system whose
 * timestamps have a fraction of a second is trusted to within FINE_RACY_MS, the kernel's clock tick (1–10 ms) with
 * room to spare, so that an app saved and run at once is cached on that run (bench:submit's second runs).
 */
const RACY_MS = 1000;
const FINE_RACY_MS = 50;

/** The cached bundle, as bundle-app.ts's AppBundle. */
export interface CachedBundle {
  readonly code: Uint8Array;
  readonly hash: string;
  readonly exports: readonly string[];
}

interface Manifest {
  readonly format: 1;
  readonly hash: string;
  readonly exports: readonly string[];
  readonly files: ReadonlyArray<{ readonly path: string; readonly sha256: string }>;
  readonly dirs: ReadonlyArray<{ readonly path: string; readonly mtimeMs: number }>;
}

/** `$XDG_CACHE_HOME/flint/bundles`, else `~/.cache/flint/bundles`. */
export function defaultBundleCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  return userCacheDir('bundles', env);
}

export class BundleCacheError extends Error {
  override readonly name = 'BundleCacheError';
}

export class BundleCache {
  readonly dir: string;

  private constructor(dir: string) {
    this.dir = dir;
  }

  /**
   * The cache in `dir`, created (0700) when missing. Throws a BundleCacheError naming the directory when it is not
   * a directory of this user's that only this user may write to.
   */
  static open(dir: string): BundleCache {
    const problem = privateDirProblem(dir, 'the bundle cache');
    if (problem !== undefined) {
      // Whoever else may write there may choose what the executors run.
      throw new BundleCacheError(problem.unsafe ? `${problem.message}: its bundles would run in the executors` : problem.message);
    }
    return new BundleCache(dir);
  }

  /** The bundle stored under `key`, when everything it was built from is unchanged; else undefined. */
  lookup(key: string): CachedBundle | undefined {
    const manifestPath = this.#manifestPath(key);
    const manifest = readManifest(manifestPath);
    if (manifest === undefined) return undefined;
    for (const d of manifest.dirs) {
      if (mtimeOf(d.path) !== d.mtimeMs) return undefined;
    }
    for (const f of manifest.files) {
      const bytes = readOrUndefined(f.path);
      if (bytes === undefined || sha256(bytes) !== f.sha256) return undefined;
    }
    const code = readOrUndefined(this.#bundlePath(manifest.hash));
    if (code === undefined || sha256(code) !== manifest.hash) return undefined;
    try {
      const now = new Date();
      utimesSync(manifestPath, now, now); // recently used
    } catch {
      // removed by another process meanwhile: the bundle read is still whole and checked
    }
    return { code, hash: manifest.hash, exports: manifest.exports };
  }

  /**
   * Stores `bundle` under `key`, as built from `inputs` (absolute paths of the files esbuild read) by a build that
   * started at `startedAtMs` (wall clock). Returns false, storing nothing, when an input or its directory cannot be
   * read or was modified since shortly before the build started (racyMs): what is hashed now might not be what
   * esbuild read (git's "racy" entries; the next run bundles again). Other failures (a full disk) throw.
   */
  store(key: string, bundle: CachedBundle, inputs: readonly string[], startedAtMs: number): boolean {
    const settled = (mtimeMs: number | undefined): mtimeMs is number => mtimeMs !== undefined && mtimeMs < startedAtMs - racyMs(mtimeMs);
    const files: Array<{ path: string; sha256: string }> = [];
    const dirs = new Map<string, number>();
    for (const path of inputs) {
      const dir = dirname(path);
      if (!dirs.has(dir)) {
        const mtimeMs = mtimeOf(dir);
        if (!settled(mtimeMs)) return false;
        dirs.set(dir, mtimeMs);
      }
      if (!settled(mtimeOf(path))) return false;
      const bytes = readOrUndefined(path);
      if (bytes === undefined) return false;
      files.push({ path, sha256: sha256(bytes) });
    }
    const manifest: Manifest = {
      format: 1,
      hash: bundle.hash,
      exports: [...bundle.exports],
      files,
      dirs: [...dirs].map(([path, mtimeMs]) => ({ path, mtimeMs })),
    };
    writeAtomically(this.#bundlePath(bundle.hash), bundle.code);
    writeAtomically(this.#manifestPath(key), JSON.stringify(manifest));
    this.#evict();
    return true;
  }

  /**
   * A module the driver's module hook transformed before (src/api/resolve-flint.ts), stored under `key`, a hash of
   * everything the output depends on (the transform's version, the file's path, the app's directory, the source).
   * Spares the driver Babel (about 300 ms) on every run after the first.
   */
  lookupTransformed(key: string): string | undefined {
    const path = this.#transformedPath(key);
    const text = readOrUndefined(path);
    if (text === undefined) return undefined;
    try {
      const now = new Date();
      utimesSync(path, now, now); // recently used
    } catch {
      // removed by another process meanwhile: the text read is whole (entries are renamed into place)
    }
    return text.toString('utf8');
  }

  /** Keeps a transformed module under `key` (see lookupTransformed); at most MAX_TRANSFORMED are kept. */
  storeTransformed(key: string, text: string): void {
    writeAtomically(this.#transformedPath(key), text);
    const entries = readdirSync(this.dir)
      .filter((n) => n.startsWith(TRANSFORMED_PREFIX) && n.endsWith('.txt'))
      .map((n) => ({ path: join(this.dir, n), mtimeMs: mtimeOf(join(this.dir, n)) ?? 0 }))
      .sort((a, b) => b.mtimeMs - a.mtimeMs);
    for (const e of entries.slice(MAX_TRANSFORMED)) removeQuietly(e.path);
  }

  #transformedPath(key: string): string {
    if (!HEX64.test(key)) throw new RangeError(`a transformed module's key is a sha256, got ${key}`);
    return join(this.dir, `${TRANSFORMED_PREFIX}${key}.txt`);
  }

  #manifestPath(key: string): string {
    return join(this.dir, `${key}.json`);
  }

  #bundlePath(hash: string): string {
    return join(this.dir, `${hash}.mjs`);
  }

  /** Drops the least recently used entries beyond MAX_ENTRIES, then the bundles no entry names. */
  #evict(): void {
    const names = readdirSync(this.dir);
    const manifests = names
      .filter((n) => n.endsWith('.json'))
      .map((n) => ({ path: join(this.dir, n), mtimeMs: mtimeOf(join(this.dir, n)) ?? 0 }))
      .sort((a, b) => b.mtimeMs - a.mtimeMs);
    if (manifests.length <= MAX_ENTRIES) return;
    for (const m of manifests.slice(MAX_ENTRIES)) removeQuietly(m.path);
    const named = new Set(manifests.slice(0, MAX_ENTRIES).map((m) => readManifest(m.path)?.hash));
    for (const n of names) {
      if (n.endsWith('.mjs') && !named.has(n.slice(0, -'.mjs'.length))) removeQuietly(join(this.dir, n));
    }
  }
}

/** How long before a build an input with this mtime must have been modified to be trusted (RACY_MS). */
export function racyMs(mtimeMs: number): number {
  return mtimeMs % 1000 === 0 ? RACY_MS : FINE_RACY_MS;
}

function sha256(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

function readOrUndefined(path: string): Buffer | undefined {
  try {
    return readFileSync(path);
  } catch {
    return undefined;
  }
}

function mtimeOf(path: string): number | undefined {
  try {
    return statSync(path).mtimeMs;
  } catch {
    return undefined;
  }
}

function removeQuietly(path: string): void {
  try {
    unlinkSync(path);
  } catch {
    // another process removed it first
  }
}

function writeAtomically(path: string, data: Uint8Array | string): void {
  const temp = `${path}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  writeFileSync(temp, data, { mode: 0o600 });
  try {
    renameSync(temp, path);
  } catch (err) {
    removeQuietly(temp);
    throw err;
  }
}

const HEX64 = /^[0-9a-f]{64}$/;
const TRANSFORMED_PREFIX = 'inline-';

/** The manifest at `path`, or undefined when it is missing or not one this version wrote (a miss, rewritten later). */
function readManifest(path: string): Manifest | undefined {
  const text = readOrUndefined(path);
  if (text === undefined) return undefined;
  let value: unknown;
  try {
    value = JSON.parse(text.toString('utf8'));
  } catch {
    return undefined;
  }
  const m = value as Partial<Manifest> | null;
  if (m === null || typeof m !== 'object' || m.format !== 1 || typeof m.hash !== 'string' || !HEX64.test(m.hash)) return undefined;
  if (!Array.isArray(m.exports) || !m.exports.every((e) => typeof e === 'string')) return undefined;
  if (!Array.isArray(m.files) || !m.files.every((f) => typeof f?.path === 'string' && typeof f.sha256 === 'string')) return undefined;
  if (!Array.isArray(m.dirs) || !m.dirs.every((d) => typeof d?.path === 'string' && typeof d.mtimeMs === 'number')) return undefined;
  return m as Manifest;
}

/**
 * The bundle cache `flint.app.bundleCache.enabled` (default true) and `flint.app.bundleCache.dir` ask for, or
 * undefined (esbuild bundles every time) when it is off or its directory cannot be used safely, which is logged.
 */
export function openBundleCache(conf: FlintConf, warn: (message: string) => void): BundleCache | undefined {
  if (!conf.getBoolean('flint.app.bundleCache.enabled', true)) return undefined;
  const dir = conf.get('flint.app.bundleCache.dir') ?? defaultBundleCacheDir();
  try {
    return BundleCache.open(resolve(dir));
  } catch (err) {
    if (!(err instanceof BundleCacheError)) throw err;
    warn(`${err.message}; bundling without a cache (flint.app.bundleCache.dir chooses another directory)`);
    return undefined;
  }
}
