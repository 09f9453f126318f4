// `flint`: the command-line entry. bin/flint sets up dependencies, then runs this on Node 24.
//
// It turns on Node's compile cache before loading anything else, so that later starts of the CLI, the daemons
// and the executors they launch (which inherit NODE_COMPILE_CACHE) skip compiling Flint's modules again.

import { enableCompileCache } from 'node:module';
import { join } from 'node:path';
import { tmpdir } from 'node:os';

if (process.env['NODE_DISABLE_COMPILE_CACHE'] === undefined) {
  process.env['NODE_COMPILE_CACHE'] ??= join(tmpdir(), 'flint-compile-cache');
  enableCompileCache(process.env['NODE_COMPILE_CACHE']);
}

const { main } = await import('./program.ts');
process.exitCode = await main(process.argv.slice(2));
