// `flint`: the command-line entry. bin/flint sets up dependencies, then runs this on Node 24.
//
// It turns on Node's compile cache before loading anything else, so that later starts of the CLI, the daemons
// and the executors they launch (which inherit NODE_COMPILE_CACHE) skip compiling Flint's modules again. The
// cache holds bytecode these processes run, so it must be a private directory of this user's
// (src/util/private-dir.ts): by default `~/.cache/flint/compile-cache`, not a shared /tmp where another user
// could create it first. A directory that is not private is not used, with a warning, and is not handed on.

import { enableCompileCache } from 'node:module';
import { privateDirProblem, userCacheDir } from '../util/private-dir.ts';

if (process.env['NODE_DISABLE_COMPILE_CACHE'] === undefined) {
  const dir = process.env['NODE_COMPILE_CACHE'] ?? userCacheDir('compile-cache');
  const problem = privateDirProblem(dir, "Node's compile cache");
  if (problem === undefined) {
    process.env['NODE_COMPILE_CACHE'] = dir;
    enableCompileCache(dir);
  } else {
    delete process.env['NODE_COMPILE_CACHE'];
    process.stderr.write(`flint: warning: ${problem.message}; running without it (NODE_COMPILE_CACHE chooses another directory, NODE_DISABLE_COMPILE_CACHE=1 turns it off)\n`);
  }
}

const { main } = await import('./program.ts');
process.exitCode = await main(process.argv.slice(2));
