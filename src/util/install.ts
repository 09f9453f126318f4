// Where this Flint install is, and which files are its programs.
//
// Flint runs from one of two forms of the same code:
//   - the TypeScript sources (`node src/cli/main.ts`, what the tests and `node`-from-a-checkout use);
//   - a build: `scripts/build.ts` bundles the programs with esbuild into `dist/builds/<id>/` (one file per
//     program plus shared chunks), and `bin/flint` runs `dist/current/cli.mjs`. A process starts about twice
//     as fast from a build (no type stripping, a handful of files instead of some two hundred modules).
// A process launches its child programs (the CLI for local-cluster daemons, the executor, the cluster-mode
// driver, the task threads) from the same form and the same build it runs from, so a rebuild never mixes two
// versions in one cluster of processes. `import … from 'flint'` resolves to that build's API as well, so an
// application and the launcher that runs it share one copy of the API's state (run-app.ts).

import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PROGRAMS, type ProgramName } from './programs.ts';

export { PROGRAMS, type ProgramName };

/** Set to true by scripts/build.ts (esbuild `define`); absent when running from the sources. */
declare const FLINT_BUNDLED: boolean | undefined;

/** True when this process runs from a build under dist/. */
export const BUNDLED: boolean = typeof FLINT_BUNDLED === 'boolean' && FLINT_BUNDLED;

// From the sources this file is src/util/install.ts; in a build, every chunk sits in dist/builds/<id>/.
const here = dirname(fileURLToPath(import.meta.url));

/** The directory of this build (dist/builds/<id>), when BUNDLED. */
export const BUILD_DIR: string | undefined = BUNDLED ? here : undefined;

/** The root of the Flint install: the directory that holds bin/, src/, conf/ and package.json. */
export const FLINT_HOME: string = resolve(here, BUNDLED ? '../../..' : '../..');


/** The absolute path of a program in the form this process runs from. */
export function programPath(name: ProgramName): string {
  return BUILD_DIR === undefined ? join(FLINT_HOME, PROGRAMS[name]) : join(BUILD_DIR, `${name}.mjs`);
}

/** A program's path relative to FLINT_HOME (what a worker resolves `flint:<name>` to, process-specs.ts). */
export function programRelativePath(name: ProgramName): string {
  return relative(FLINT_HOME, programPath(name));
}

/** A file of the install's sources (the app bundler's stand-in for the API, examples, package.json). */
export function sourcePath(path: string): string {
  return join(FLINT_HOME, path);
}
