// The esbuild bundle of Flint's programs, shared by the two builds: scripts/build.ts (dist/builds/<id>/, what
// bin/flint runs in a checkout) and scripts/pack.ts (lib/, what the npm package ships).
//
// esbuild bundles the programs of src/util/install.ts (cli, executor, driver, task-thread, api) with their npm
// dependencies into one directory, splitting what they share into chunks beside them.

import { builtinModules } from 'node:module';
import { build, type Plugin } from 'esbuild';
import { PROGRAMS } from '../src/util/install.ts';

const BUILTINS = new Set(builtinModules);

/**
 * Node's built-in modules are loaded with require(), not import: an import makes Node build the module's ESM
 * facade, which reads every export, and some are getters that load more. `node:http`'s WebSocket, MessageEvent
 * and the like load undici, http2, assert and the web streams: an import of node:http costs some 27 ms more than
 * its require() on the machines of docs/benchmarks.md (bench:submit). esbuild reads the exports of the CommonJS
 * module it makes here only where the code uses them.
 */
const builtinsByRequire: Plugin = {
  name: 'builtins-by-require',
  setup(build) {
    build.onResolve({ filter: /^(node:)?[a-z0-9_/]+$/ }, (args) => {
      const name = args.path.replace(/^node:/, '');
      if (name === 'assert' && args.namespace !== 'lazy-assert') return { path: 'assert', namespace: 'lazy-assert' };
      // The require() in the modules made below (their namespace) is left to esbuild, which keeps a built-in's
      // require() as it is.
      if (args.kind === 'require-call' || !BUILTINS.has(name)) return undefined;
      return { path: args.path, namespace: 'node-builtin' };
    });
    build.onLoad({ filter: /.*/, namespace: 'node-builtin' }, (args) => ({ contents: `module.exports = require(${JSON.stringify(args.path)});`, loader: 'js' }));
    build.onLoad({ filter: /.*/, namespace: 'lazy-assert' }, () => ({ contents: LAZY_ASSERT, loader: 'js' }));
  },
};

/**
 * node:assert for the dependencies that load it at start and call it only on a rare path (sonic-boom, under pino,
 * when a destination closes; thread-stream): loading it costs some 7 ms (its error classes, colours and diff),
 * which every process would spend at start. It is loaded at its first use.
 */
const LAZY_ASSERT = `let real;
const load = () => (real ??= require('node:assert'));
module.exports = new Proxy(function assert(...args) { return load()(...args); }, { get: (_target, key) => load()[key] });
`;

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
    // CommonJS dependencies (commander, pino, node-zookeeper-client) call require() for Node's built-ins, and so do
    // the modules builtinsByRequire makes. Every chunk gets this banner; a createRequire() in each would cost some
    // 4 ms at start, so a built-in is taken with process.getBuiltinModule and createRequire is made only for another.
    banner: {
      js: "import { createRequire as __flintCreateRequire } from 'node:module';\nconst require = (id) => process.getBuiltinModule(id) ?? __flintCreateRequire(import.meta.url)(id);",
    },
    plugins: [builtinsByRequire],
    legalComments: 'none',
    logLevel: 'warning',
  });
}
