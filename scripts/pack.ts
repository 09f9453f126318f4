// Builds what the npm package ships, into lib/ (npm runs this before `npm pack`: package.json `prepack`).
//
//   node scripts/pack.ts             lib/ made afresh from the sources
//
// lib/ holds, for an install that has no sources (src/util/install.ts, PACKAGED):
//   - the programs, bundled as scripts/build.ts bundles them for dist/ (cli.mjs, executor.mjs, driver.mjs,
//     task-thread.mjs, api.mjs and their chunks): bin/flint runs lib/cli.mjs, and `import … from 'flint'`
//     resolves to lib/api.mjs (package.json `exports`);
//   - the sources read at run time, compiled (install.ts, PACKAGED_SOURCES): remote.mjs, the executors' stand-in
//     for the API, bundled alone and without the build's defines, exactly as the app bundler bundles
//     src/api/remote.ts from the sources; and examples/pi.mjs, the app `flint demo` runs;
//   - types/: the .d.ts of the public API (tsc declaration emit, scripts/tsconfig.types.json), package.json
//     `exports` "types".
// lib/ is made in a temporary directory and renamed into place, so a failed build leaves the previous one whole.
// npm reads lib/ after this script returns, so two `npm pack` at once in one checkout may mix their builds: run one.

import { spawnSync } from 'node:child_process';
import { existsSync, renameSync, rmSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { bundlePrograms } from './bundle-programs.ts';
import { PACKAGED_SOURCES } from '../src/util/install.ts';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const lib = join(root, 'lib');

/** remote.mjs and examples/pi.mjs, where src/util/install.ts's PACKAGED_SOURCES says they are. */
async function compileSources(outdir: string): Promise<void> {
  const shipped = (source: string): string => {
    const path = PACKAGED_SOURCES[source];
    if (path === undefined) throw new Error(`src/util/install.ts PACKAGED_SOURCES does not name ${source}`);
    return join(outdir, path);
  };
  const common = { absWorkingDir: root, format: 'esm', platform: 'node', target: 'node24', legalComments: 'none', logLevel: 'warning' } as const;
  await build({ ...common, entryPoints: ['src/api/remote.ts'], outfile: shipped('src/api/remote.ts'), bundle: true });
  // Not bundled: its `import … from 'flint'` stays, for the launcher's resolve hook and the app bundler's alias.
  await build({ ...common, entryPoints: ['examples/pi.ts'], outfile: shipped('examples/pi.ts'), bundle: false });
}

function emitTypes(outdir: string): void {
  const tsc = join(root, 'node_modules', 'typescript', 'bin', 'tsc');
  const run = spawnSync(process.execPath, [tsc, '-p', join(root, 'scripts', 'tsconfig.types.json'), '--outDir', join(outdir, 'types')], { encoding: 'utf8' });
  if (run.status !== 0) throw new Error(`tsc could not emit the API's declarations:\n${run.stdout}${run.stderr}`);
}

async function main(): Promise<void> {
  const started = performance.now();
  const temp = join(root, `.lib-${process.pid}`);
  rmSync(temp, { recursive: true, force: true });
  try {
    await bundlePrograms(root, temp, 'package');
    await compileSources(temp);
    emitTypes(temp);
    const old = join(root, `.lib-old-${process.pid}`);
    if (existsSync(lib)) renameSync(lib, old);
    renameSync(temp, lib);
    rmSync(old, { recursive: true, force: true });
  } finally {
    rmSync(temp, { recursive: true, force: true });
  }
  process.stderr.write(`flint: built ${relative(process.cwd(), lib) || '.'} for the package in ${Math.round(performance.now() - started)} ms\n`);
}

if (process.argv.length > 2) {
  process.stderr.write('usage: node scripts/pack.ts (no arguments)\n');
  process.exit(2);
}
try {
  await main();
} catch (err) {
  process.stderr.write(`flint: the package build failed: ${(err as Error).message}\n`);
  process.exit(1);
}
