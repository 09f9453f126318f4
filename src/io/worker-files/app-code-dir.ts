// The worker's shared directory of application bundles, `<workDir>/.app-code/` (src/io/executor/load-app-code.ts
// fills it; its executors learn it from FLINT_APP_CODE_DIR: APP_CODE_DIR in src/worker/process-specs.ts). Its name
// starts with a dot, so the sweep of old application directories (NodeWorkerFiles.oldAppDirs, Spark's
// WorkDirCleanup) never takes it whole; instead each sweep removes the bundles no executor has used since the
// sweep's cut-off (an executor sets a bundle's modification time when it takes it up, and again with each of its
// heartbeats while it runs). Only `<sha256>.mjs` files and the fetches' temporary files are removed; links are
// never followed, and nothing else in the directory is touched.
//
// An executor may take a bundle up at the very moment the sweep finds it old. So a bundle is not unlinked where it
// lies: it is first renamed aside (an executor looking for it then fetches it again), and its modification time is
// read once more there. If an executor marked it as used in between, it is put back; only a bundle still old once
// aside is removed. An executor's task thread that finds the bundle missing during that moment tries again
// (src/io/executor/task-thread.ts, importBundle).

import { randomUUID } from 'node:crypto';
import { lstat, readdir, rename, unlink } from 'node:fs/promises';
import { join } from 'node:path';

/** A bundle (`<sha256>.mjs`) or a fetch's temporary file (`.<sha256>.<uuid>.tmp`). */
const CODE_FILE = /^(?:([0-9a-f]{64})\.mjs|\.[0-9a-f]{64}\.[0-9a-f-]{36}\.tmp)$/;

/** Files looked at in one sweep, at most: the rest wait for the next. */
const MAX_ENTRIES = 100_000;

/** For tests: called after a bundle was found old and before it is taken aside, and once it is aside. */
export interface SweepHooks {
  beforeTake?(path: string): Promise<void>;
  afterTake?(path: string): Promise<void>;
}

/** Removes the code files in `dir` last modified before `modifiedBeforeMs`; returns how many. A missing dir has none. */
export async function removeOldAppCode(dir: string, modifiedBeforeMs: number, hooks: SweepHooks = {}): Promise<number> {
  const names = await readdir(dir).catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') return [];
    throw err;
  });
  let removed = 0;
  for (const name of names.slice(0, MAX_ENTRIES)) {
    const match = CODE_FILE.exec(name);
    if (match === null) continue;
    const path = join(dir, name);
    const stat = await lstat(path).catch(() => undefined);
    if (stat === undefined || !stat.isFile() || stat.mtimeMs >= modifiedBeforeMs) continue;
    const hash = match[1];
    const gone = hash === undefined ? await unlink(path).then(() => true, () => false) : await removeBundle(path, dir, hash, modifiedBeforeMs, hooks);
    if (gone) removed += 1;
  }
  return removed;
}

/** Takes an old bundle aside, then removes it unless an executor marked it as used meanwhile (then it goes back). */
async function removeBundle(path: string, dir: string, hash: string, modifiedBeforeMs: number, hooks: SweepHooks): Promise<boolean> {
  await hooks.beforeTake?.(path);
  // A fetch's temporary name: should this sweep stop half-way, the next one removes what it left aside.
  const aside = join(dir, `.${hash}.${randomUUID()}.tmp`);
  if (!(await rename(path, aside).then(() => true, () => false))) return false;
  await hooks.afterTake?.(path);
  const again = await lstat(aside).catch(() => undefined);
  if (again !== undefined && again.mtimeMs >= modifiedBeforeMs) {
    // In use after all. A copy an executor fetched meanwhile has the same bytes, so replacing it does no harm.
    await rename(aside, path).catch(() => unlink(aside).catch(() => {}));
    return false;
  }
  return unlink(aside).then(() => true, () => false);
}
