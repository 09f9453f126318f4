// A directory whose files a Flint process runs as code: created (0700) when missing, and refused when it is a
// symbolic link or a file, belongs to another user, or others may write to it. Both caches of code live in one:
// the bundle cache (src/io/bundle/bundle-cache.ts), whose bundles the executors run, and Node's compile cache
// (src/cli/main.ts), whose bytecode every daemon and executor runs. A directory another local user can write to
// (or created first, in a shared /tmp) would let that user run code as Flint's (docs/security.md).

import { lstatSync, mkdirSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';

/** `$XDG_CACHE_HOME/flint/<name>` (an absolute XDG_CACHE_HOME only), else `~/.cache/flint/<name>`. */
export function userCacheDir(name: string, env: NodeJS.ProcessEnv = process.env): string {
  const xdg = env['XDG_CACHE_HOME'];
  return join(xdg !== undefined && xdg.startsWith('/') ? xdg : join(homedir(), '.cache'), 'flint', name);
}

/** Why a directory cannot hold code: `unsafe` when it is there but someone else could write to it. */
export interface DirProblem {
  readonly message: string;
  readonly unsafe: boolean;
}

/**
 * Undefined when `dir` is, or has just been made, a directory of this process's user that only it may write to;
 * else what is wrong, as a sentence about `what` ("the bundle cache", "Node's compile cache") for an error or a
 * warning.
 */
export function privateDirProblem(dir: string, what: string): DirProblem | undefined {
  try {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
  } catch (err) {
    return { message: `cannot create ${what} directory ${dir}: ${(err as Error).message}`, unsafe: false };
  }
  let st;
  try {
    st = lstatSync(dir);
  } catch (err) {
    return { message: `cannot read ${what} directory ${dir}: ${(err as Error).message}`, unsafe: false };
  }
  if (!st.isDirectory()) return { message: `${what} ${dir} is not a directory (a symbolic link or a file)`, unsafe: true };
  const uid = process.getuid?.();
  if (uid !== undefined && st.uid !== uid) return { message: `${what} ${dir} belongs to user ${st.uid}, not to this process's user ${uid}`, unsafe: true };
  if ((st.mode & 0o022) !== 0) return { message: `${what} ${dir} may be written by others (mode ${(st.mode & 0o777).toString(8)}); expected 700`, unsafe: true };
  return undefined;
}
