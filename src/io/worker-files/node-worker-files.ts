// The WorkerFiles port on node:fs (see src/ports/worker-files.ts for the contract).

import { access, copyFile, mkdir, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { constants, existsSync } from 'node:fs';
import { isAbsolute, join, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ConfigError } from '../../errors.ts';
import type { ProcessDirSpec, WorkerFiles } from '../../ports/worker-files.ts';

/** What a directory name under the work dir must look like before anything removes it. */
export const SAFE_PATH_PART = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

/** How many files and directories one old-dir check looks at before it gives up and keeps the directory. */
const WALK_BUDGET = 10_000;

export class NodeWorkerFiles implements WorkerFiles {
  readonly workDir: string;

  constructor(workDir: string) {
    this.workDir = resolve(workDir);
  }

  async prepareWorkDir(): Promise<void> {
    try {
      await mkdir(this.workDir, { recursive: true });
      await access(this.workDir, constants.W_OK);
    } catch (err) {
      throw new ConfigError(
        '--work-dir',
        `the work dir ${JSON.stringify(this.workDir)} cannot be created or written: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`,
      );
    }
  }

  async prepareProcessDir(spec: ProcessDirSpec): Promise<void> {
    for (const path of [spec.cwd, spec.stdoutPath, spec.stderrPath]) this.#mustBeInside(path);
    if (spec.cwdMustBeNew && existsSync(spec.cwd)) throw new Error(`directory ${spec.cwd} already exists`);
    await mkdir(spec.cwd, { recursive: true });
    await writeFile(spec.stderrPath, spec.stderrHeader);
  }

  /** Only local files (a path or file:// URL) are fetched. */
  async fetchAppResource(resource: string, localPath: string): Promise<string | undefined> {
    if (!this.#inside(localPath)) return `cannot fetch the app resource to ${localPath}: outside the work dir ${this.workDir}`;
    if (existsSync(localPath)) return undefined;
    let source: string;
    if (resource.startsWith('file://')) source = fileURLToPath(resource);
    else if (isAbsolute(resource)) source = resource;
    else return `cannot fetch the app resource ${resource}: only absolute paths and file:// URLs are supported`;
    try {
      await mkdir(resolve(localPath, '..'), { recursive: true });
      await copyFile(source, localPath);
      return undefined;
    } catch (err) {
      return `cannot fetch the app resource ${resource}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`;
    }
  }

  async removeAppDir(name: string): Promise<void> {
    if (!SAFE_PATH_PART.test(name)) throw new Error(`not removing ${JSON.stringify(name.slice(0, 100))}: not a plain id`);
    await rm(join(this.workDir, name), { recursive: true, force: true });
  }

  async oldAppDirs(beforeMs: number, keep: ReadonlySet<string>): Promise<string[]> {
    const entries = await readdir(this.workDir, { withFileTypes: true }).catch(() => []);
    const old: string[] = [];
    for (const entry of entries) {
      if (!entry.isDirectory() || keep.has(entry.name) || !SAFE_PATH_PART.test(entry.name)) continue;
      if (!(await modifiedSince(join(this.workDir, entry.name), beforeMs, WALK_BUDGET))) old.push(entry.name);
    }
    return old;
  }

  #inside(path: string): boolean {
    return resolve(path).startsWith(this.workDir + sep);
  }

  #mustBeInside(path: string): void {
    if (!this.#inside(path)) throw new Error(`refusing ${path}: outside the work dir ${this.workDir}`);
  }
}

/** True when any file under `dir` (bounded walk) was modified at or after `sinceMs`. */
async function modifiedSince(dir: string, sinceMs: number, budget: number): Promise<boolean> {
  const stack = [dir];
  for (let seen = 0; stack.length > 0 && seen < budget; seen++) {
    const current = stack.pop() as string;
    const info = await stat(current).catch(() => undefined);
    if (info === undefined) continue;
    if (info.mtimeMs >= sinceMs) return true;
    if (info.isDirectory()) {
      for (const name of await readdir(current).catch(() => [])) stack.push(join(current, name));
    }
  }
  return stack.length > 0; // walk cut short: keep the directory
}
