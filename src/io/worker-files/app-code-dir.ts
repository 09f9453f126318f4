// The worker's shared directory of application bundles, `<workDir>/.app-code/` (src/io/executor/load-app-code.ts
// fills it; its executors learn it from FLINT_APP_CODE_DIR: APP_CODE_DIR in src/worker/process-specs.ts). Its name
// starts with a dot, so the sweep of old application directories (NodeWorkerFiles.oldAppDirs, Spark's
// WorkDirCleanup) never takes it whole; instead each sweep removes the bundles no executor has used since the
// sweep's cut-off (an executor sets a bundle's modification time when it uses it). Only `<sha256>.mjs` files and
// the fetches' temporary files are removed; links are never followed, and nothing else in the directory is touched.

import { lstat, readdir, unlink } from 'node:fs/promises';
import { join } from 'node:path';

/** A bundle (`<sha256>.mjs`) or a fetch's temporary file (`.<sha256>.<uuid>.tmp`). */
const CODE_FILE = /^(?:[0-9a-f]{64}\.mjs|\.[0-9a-f]{64}\.[0-9a-f-]{36}\.tmp)$/;

/** Files looked at in one sweep, at most: the rest wait for the next. */
const MAX_ENTRIES = 100_000;

/** Removes the code files in `dir` last modified before `modifiedBeforeMs`; returns how many. A missing dir has none. */
export async function removeOldAppCode(dir: string, modifiedBeforeMs: number): Promise<number> {
  const names = await readdir(dir).catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') return [];
    throw err;
  });
  let removed = 0;
  for (const name of names.slice(0, MAX_ENTRIES)) {
    if (!CODE_FILE.test(name)) continue;
    const path = join(dir, name);
    const stat = await lstat(path).catch(() => undefined);
    if (stat === undefined || !stat.isFile() || stat.mtimeMs >= modifiedBeforeMs) continue;
    if (await unlink(path).then(() => true, () => false)) removed += 1;
  }
  return removed;
}
