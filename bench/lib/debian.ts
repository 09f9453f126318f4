// Debian packages the benchmarks need (python3-distributed for Dask, strace), installed with apt-get when
// missing, as the README's test command installs the tests' own.

import { execFileSync } from 'node:child_process';

/**
 * Makes sure `present()` holds, installing Debian's `pkg` when it does not: `apt-get update && apt-get install -y
 * pkg` (as root; apt's output goes to stderr). `missing` says what is missing, for the errors.
 */
export function ensureDebianPackage(pkg: string, present: () => boolean, missing: string): void {
  if (present()) return;
  if (process.getuid?.() !== 0) throw new Error(`${missing}; install Debian's ${pkg} (as root: apt-get install -y ${pkg})`);
  process.stderr.write(`bench: installing ${pkg} with apt-get\n`);
  const apt = { stdio: ['ignore', 2, 2] as Array<'ignore' | number>, env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } };
  execFileSync('apt-get', ['update', '-q'], apt);
  execFileSync('apt-get', ['install', '-y', '-q', pkg], apt);
  if (!present()) throw new Error(`${missing}, even after apt-get install ${pkg}`);
}
