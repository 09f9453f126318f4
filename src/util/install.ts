// Where this Flint install is, and which files are its programs.
//
// Flint runs from one of three forms of the same code:
//   - the TypeScript sources (`node src/cli/main.ts`, what the tests and `node`-from-a-checkout use);
//   - a build: `scripts/build.ts` bundles the programs with esbuild into `dist/builds/<id>/` (one file per
//     program plus shared chunks), and `bin/flint` runs `dist/current/cli.mjs`. A process starts about twice
//     as fast from a build (no type stripping, a handful of files instead of some two hundred modules);
//   - the npm package (`npm pack`, scripts/pack.ts): the same bundle in `lib/` of an install that has no src/,
//     typically `<project>/node_modules/flint`. The few sources read at run time are shipped compiled beside it
//     (PACKAGED_SOURCES).
// A process launches its child programs (the CLI for local-cluster daemons, the executor, the cluster-mode
// driver, the task threads) from the same form and the same build it runs from, so a rebuild never mixes two
// versions in one cluster of processes. `import … from 'flint'` resolves to that build's API as well, so an
// application and the launcher that runs it share one copy of the API's state (run-app.ts).

import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PROGRAMS, type ProgramName } from './programs.ts';

export { PROGRAMS, type ProgramName };

/** Set by scripts/bundle-programs.ts (esbuild `define`); absent when running from the sources. */
declare const FLINT_BUNDLED: boolean | undefined;
declare const FLINT_PACKAGED: boolean | undefined;

/** True when this process runs from a build (dist/builds/<id>, or the npm package's lib/). */
export const BUNDLED: boolean = typeof FLINT_BUNDLED === 'boolean' && FLINT_BUNDLED;

/** True when this process runs from the npm package's build (lib/), in an install without sources. */
export const PACKAGED: boolean = BUNDLED && typeof FLINT_PACKAGED === 'boolean' && FLINT_PACKAGED;

// From the sources this file is src/util/install.ts; in a build, every chunk sits in dist/builds/<id>/ or lib/.
const here = dirname(fileURLToPath(import.meta.url));

/** The directory of this build (dist/builds/<id> or lib), when BUNDLED. */
export const BUILD_DIR: string | undefined = BUNDLED ? here : undefined;

/** The root of the Flint install: the directory that holds bin/, conf/, static/ and package.json (and src/). */
export const FLINT_HOME: string = resolve(here, !BUNDLED ? '../..' : PACKAGED ? '..' : '../../..');

/**
 * Flint's own code, which is never an application's (the inline-function transform leaves it alone): the sources,
 * and the build this process runs from, whose chunks a driver loads beside the application.
 */
export const FLINT_CODE_DIRS: readonly string[] = [join(FLINT_HOME, 'src'), ...(BUILD_DIR === undefined ? [] : [BUILD_DIR])];

/**
 * Sources the code reads at run time, and what the npm package ships in their place, relative to its lib/
 * (scripts/pack.ts builds them): the executors' stand-in for the API, which the app bundler inlines into every
 * app (src/api/context.ts), and the app `flint demo` runs. A package has no src/ to read them from, and Node
 * does not strip types from files under node_modules.
 */
export const PACKAGED_SOURCES: Readonly<Record<string, string>> = {
  'src/api/remote.ts': 'remote.mjs',
  'examples/pi.ts': 'examples/pi.mjs',
};


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
  const shipped = PACKAGED && Object.hasOwn(PACKAGED_SOURCES, path) ? PACKAGED_SOURCES[path] : undefined;
  return shipped === undefined || BUILD_DIR === undefined ? join(FLINT_HOME, path) : join(BUILD_DIR, shipped);
}
