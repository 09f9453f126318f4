// The esbuild bundle of Flint's programs, shared by the two builds: scripts/build.ts (dist/builds/<id>/, what
// bin/flint runs in a checkout) and scripts/pack.ts (lib/, what the npm package ships).
//
// esbuild bundles the programs of src/util/install.ts (cli, executor, driver, task-thread, api) with their npm
// dependencies into one directory, splitting what they share into chunks beside them.

import { build } from 'esbuild';
import { PROGRAMS } from '../src/util/install.ts';

/** Where the build sits: src/util/install.ts finds the install's root (FLINT_HOME) from it. */
export type BuildForm = 'dist' | 'package';

export async function bundlePrograms(root: string, outdir: string, form: BuildForm): Promise<void> {
  await build({
    absWorkingDir: root,
    entryPoints: { ...PROGRAMS },
    entryNames: '[name]',
    outExtension: { '.js': '.mjs' },
    // Chunks sit beside the programs: src/util/install.ts finds the install from any of them.
    chunkNames: 'chunk-[hash]',
    outdir,
    bundle: true,
    splitting: true,
    format: 'esm',
    platform: 'node',
    target: 'node24',
    // esbuild itself (a native binary it spawns) is loaded from node_modules, and only by the app bundler.
    external: ['esbuild'],
    define: { FLINT_BUNDLED: 'true', FLINT_PACKAGED: String(form === 'package') },
    // CommonJS dependencies (commander, pino, node-zookeeper-client) call require() for Node's built-ins.
    banner: { js: "import { createRequire as __flintCreateRequire } from 'node:module';\nconst require = __flintCreateRequire(import.meta.url);" },
    legalComments: 'none',
    logLevel: 'warning',
  });
}
