// The in-memory twin of the WorkerFiles port (src/ports/worker-files.ts): the work dir as a set of directory paths
// and a map of files, with a clock for their modification times, so a worker daemon can run in one process without
// touching the disk (test/unit/daemons/in-memory-cluster.test.ts). Paths are POSIX and absolute.

import type { ProcessDirSpec, WorkerFiles } from '../../ports/worker-files.ts';
import { SAFE_PATH_PART } from './node-worker-files.ts';

export class MemoryWorkerFiles implements WorkerFiles {
  readonly workDir: string;
  /** Directories, by absolute path, with when each was last modified. */
  readonly dirs = new Map<string, number>();
  /** Files, by absolute path. */
  readonly files = new Map<string, { readonly text: string; readonly mtimeMs: number }>();
  readonly #now: () => number;

  constructor(workDir: string, now: () => number = Date.now) {
    this.workDir = normalize(workDir);
    this.#now = now;
  }

  async prepareWorkDir(): Promise<void> {
    this.#mkdirs(this.workDir);
    await Promise.resolve();
  }

  async prepareProcessDir(spec: ProcessDirSpec): Promise<void> {
    await Promise.resolve();
    for (const path of [spec.cwd, spec.stdoutPath, spec.stderrPath]) {
      if (!this.#inside(path)) throw new Error(`refusing ${path}: outside the work dir ${this.workDir}`);
    }
    if (spec.cwdMustBeNew && this.dirs.has(normalize(spec.cwd))) throw new Error(`directory ${spec.cwd} already exists`);
    this.#mkdirs(normalize(spec.cwd));
    this.files.set(normalize(spec.stderrPath), { text: spec.stderrHeader, mtimeMs: this.#now() });
  }

  async fetchAppResource(resource: string, localPath: string): Promise<string | undefined> {
    await Promise.resolve();
    if (!this.#inside(localPath)) return `cannot fetch the app resource to ${localPath}: outside the work dir ${this.workDir}`;
    if (this.files.has(normalize(localPath))) return undefined;
    return `cannot fetch the app resource ${resource}: the in-memory work dir has no files from outside`;
  }

  async removeAppDir(name: string): Promise<void> {
    await Promise.resolve();
    if (!SAFE_PATH_PART.test(name)) throw new Error(`not removing ${JSON.stringify(name.slice(0, 100))}: not a plain id`);
    const root = `${this.workDir}/${name}`;
    for (const path of [...this.dirs.keys()]) if (path === root || path.startsWith(`${root}/`)) this.dirs.delete(path);
    for (const path of [...this.files.keys()]) if (path.startsWith(`${root}/`)) this.files.delete(path);
  }

  async oldAppDirs(beforeMs: number, keep: ReadonlySet<string>): Promise<string[]> {
    await Promise.resolve();
    const old: string[] = [];
    for (const [path, mtimeMs] of this.dirs) {
      const name = path.slice(this.workDir.length + 1);
      if (!path.startsWith(`${this.workDir}/`) || name.includes('/') || keep.has(name)) continue;
      let newest = mtimeMs;
      for (const [file, { mtimeMs: m }] of this.files) if (file.startsWith(`${path}/`)) newest = Math.max(newest, m);
      for (const [dir, m] of this.dirs) if (dir.startsWith(`${path}/`)) newest = Math.max(newest, m);
      if (newest < beforeMs) old.push(name);
    }
    return old;
  }

  #inside(path: string): boolean {
    return normalize(path).startsWith(`${this.workDir}/`);
  }

  #mkdirs(path: string): void {
    const parts = path.split('/').filter((p) => p !== '');
    for (let i = 1; i <= parts.length; i++) {
      const dir = `/${parts.slice(0, i).join('/')}`;
      if (!this.dirs.has(dir)) this.dirs.set(dir, this.#now());
    }
  }
}

/** `/a/./b/../c/` → `/a/c`; a relative path is taken from `/`. */
function normalize(path: string): string {
  const out: string[] = [];
  for (const part of path.split('/')) {
    if (part === '' || part === '.') continue;
    if (part === '..') out.pop();
    else out.push(part);
  }
  return `/${out.join('/')}`;
}
