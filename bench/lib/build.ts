// The build of Flint that bin/flint runs (dist/current, scripts/build.ts): benchmarks start their daemons from
// it, as operators do. Making sure it is current goes through bin/flint itself.

import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { FLINT_HOME } from '../../src/util/install.ts';

/** Brings dist/current up to date with the sources (bin/flint rebuilds when stale) and returns its CLI. */
export function currentBuildCli(): string {
  execFileSync(join(FLINT_HOME, 'bin', 'flint'), ['--version'], { stdio: ['ignore', 'ignore', 'inherit'] });
  return join(FLINT_HOME, 'dist', 'current', 'cli.mjs');
}
