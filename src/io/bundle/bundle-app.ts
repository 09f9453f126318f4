// Bundles an application for its executors: the app's main module and everything it imports (npm packages
// and Flint's own API included) become one ESM file, addressed by the sha256 of its bytes. Executors on
// other machines then need nothing but Flint: they fetch the bundle from the driver once and cache it.
//
// Node built-ins stay imports. `flint` (the package name apps import) resolves to this checkout's API.
// The bundle's exports are listed from esbuild's metafile, so the driver can check, before anything runs,
// that a task function is one the main module exports. With a BundleCache, a bundle built before from the same
// bytes is taken from it and esbuild does not run (bundle-cache.ts).

import { createHash } from 'node:crypto';
import { createRequire } from 'node:module';
import { readFile } from 'node:fs/promises';
import { dirname, extname, resolve } from 'node:path';
import type { BuildOptions, Loader, Plugin } from 'esbuild';
import type { BundleCache } from './bundle-cache.ts';
import { BUNDLE_MARKER, INLINE_TRANSFORM_VERSION, isAppPath, isFlintBundle, transformedText } from './transform-inline.ts';
import { FLINT_CODE_DIRS, sourcePath } from '../../util/install.ts';

/** What `flint` resolves to in an executors' bundle: the API's stand-in for executors. */
export const REMOTE_API = sourcePath('src/api/remote.ts');

export interface AppBundle {
  readonly code: Uint8Array;
  /** sha256 of `code`, hex. */
  readonly hash: string;
  /** Names the main module exports (re-exports included). */
  readonly exports: readonly string[];
  /**
   * Whether it came from the BundleCache as an earlier run left it; false when esbuild built it in this process for
   * its launcher (`flint submit` builds it before the app's import: resolve-flint.ts prepareDriverModules).
   */
  readonly cached: boolean;
  /** Why it could not be kept in the BundleCache (a full disk, say), for the caller to log; the bundle is whole. */
  readonly cacheError?: string;
}

export class AppBundleError extends Error {
  override readonly name = 'AppBundleError';
}

export interface BundleOptions {
  /**
   * The module `import ... from 'flint'` resolves to, or `'external'` to leave it an import (a driver bundle
   * for cluster mode: the driver's host resolves it to its own Flint).
   */
  readonly flintEntry: string | 'external';
  /** Where bundles built before are looked for, and this one is kept (none: esbuild runs every time). */
  readonly cache?: BundleCache | undefined;
  /**
   * Build (the cache's bundle is not taken) and keep in the cache, beside the bundle, each of the app's own
   * TypeScript modules compiled for the driver (driverModuleKey): launch-app.ts asks for it before the app's import.
   */
  readonly driverModules?: boolean;
}

/** The app's modules that the driver runs compiled by esbuild (resolve-flint.ts): ES modules in TypeScript. */
export const DRIVER_MODULE = /\.m?ts$/;

/**
 * The key in the BundleCache (lookupTransformed) of a module compiled for the driver: what the output depends on
 * besides esbuild's options, which are fixed (keepDriverModules).
 */
export function driverModuleKey(path: string, rootDir: string, source: string): string {
  return createHash('sha256').update(JSON.stringify(['driver-module', INLINE_TRANSFORM_VERSION, esbuildVersion, path, rootDir, source])).digest('hex');
}

/** The cache keys of the bundles esbuild built in this process for its launcher (`driverModules`). */
const preparedHere = new Set<string>();

/** esbuild's version, part of a bundle's cache key, read without loading esbuild itself. */
const esbuildVersion = (createRequire(import.meta.url)('esbuild/package.json') as { version: string }).version;

export async function bundleApp(mainModule: string, opts: BundleOptions): Promise<AppBundle> {
  const entry = resolve(mainModule);
  /** The app's own files as the plugin read them: their bytes and what the inline transform made of them. */
  const appFiles = new Map<string, AppFile>();
  const options = {
    entryPoints: [entry],
    bundle: true,
    write: false,
    format: 'esm',
    platform: 'node',
    target: 'node24',
    metafile: true,
    logLevel: 'silent',
    // For a task's error stack in the application's files (src/io/executor/bundle-stack.ts): positions only.
    sourcemap: 'inline',
    sourcesContent: false,
    ...(opts.flintEntry === 'external' ? { external: ['flint'] } : { alias: { flint: opts.flintEntry } }),
    // Packages that use require() inside an ESM bundle need a require function. `var` (not an import), so
    // that bundling a bundle again (cluster mode: the driver bundles the submitted bundle for its executors)
    // may repeat the line without a duplicate declaration.
    banner: { js: `${BUNDLE_MARKER}\nvar require = (await import('node:module')).createRequire(import.meta.url);` },
    // Inline task functions become registered factories (transform-inline.ts), with the same ids the driver's
    // module hook gives them (resolve-flint.ts): ids name files relative to the main module's directory.
    plugins: [inlineFunctionsPlugin(dirname(entry), opts.cache, appFiles)],
  } satisfies BuildOptions;
  // Everything that decides the output besides the input files' bytes: the options (the entry among them), the
  // directory relative inputs are named from, and esbuild itself.
  const key = createHash('sha256')
    .update(JSON.stringify({ options, cwd: process.cwd(), esbuild: esbuildVersion, inline: INLINE_TRANSFORM_VERSION }))
    .digest('hex');
  const hit = opts.driverModules === true ? undefined : opts.cache?.lookup(key);
  if (hit !== undefined) return { ...hit, cached: !preparedHere.has(key) };
  const startedAtMs = Date.now();
  let result;
  try {
    // Loaded only now: loading esbuild starts its service process (about 30 ms of a driver's start), which a
    // bundle from the cache does not need.
    const { build } = await import('esbuild');
    result = await build(options);
  } catch (err) {
    const errors = (err as { errors?: Array<{ text: string; location?: { file: string; line: number } | null }> }).errors ?? [];
    const first = errors[0];
    const where = first?.location ? ` (${first.location.file}:${first.location.line})` : '';
    throw new AppBundleError(`cannot bundle ${mainModule}: ${first?.text ?? (err as Error).message}${where}`);
  }
  const output = result.outputFiles[0];
  if (output === undefined) throw new AppBundleError(`bundling ${mainModule} produced no output`);
  const outputMeta = Object.values(result.metafile.outputs)[0];
  const bundle = {
    code: output.contents,
    hash: createHash('sha256').update(output.contents).digest('hex'),
    exports: outputMeta?.exports ?? [],
    cached: false,
  };
  if (opts.driverModules === true) {
    preparedHere.add(key);
    try {
      if (opts.cache !== undefined) await keepDriverModules(result.metafile.inputs, appFiles, dirname(entry), opts.cache);
    } catch {
      // Not kept (a full disk, say): the driver loads the app's modules as Node does
    }
  }
  // Inputs are named relative to the working directory; one in a namespace of its own (`ns:path`) is no file.
  const inputs = Object.keys(result.metafile.inputs);
  if (opts.cache === undefined || inputs.some((p) => /^[a-z-]+:/.test(p))) return bundle;
  try {
    opts.cache.store(key, bundle, inputs.map((p) => resolve(p)), startedAtMs);
    return bundle;
  } catch (err) {
    return { ...bundle, cacheError: `cannot keep the bundle in ${opts.cache.dir}: ${(err as Error).message}` };
  }
}

const LOADERS: Readonly<Record<string, Loader>> = { '.ts': 'ts', '.mts': 'ts', '.cts': 'ts', '.tsx': 'tsx', '.js': 'js', '.mjs': 'js', '.cjs': 'js', '.jsx': 'jsx' };

interface AppFile {
  readonly source: string;
  readonly text: string;
}

/**
 * Compiles each of the app's TypeScript ES modules for the driver, from the text the bundle was built from (the
 * inline transform's, whose source map esbuild carries on), and keeps it in the cache under driverModuleKey; a
 * module in CommonJS is kept as '' (Node loads it). esbuild's TypeScript, as in the bundle, so that the driver and
 * the executors run the same compilation; imports are kept as written, as Node's own type stripping keeps them.
 */
async function keepDriverModules(inputs: Readonly<Record<string, { readonly format?: string }>>, files: ReadonlyMap<string, AppFile>, rootDir: string, cache: BundleCache): Promise<void> {
  const { transform } = await import('esbuild');
  const work = Object.entries(inputs).map(async ([input, meta]) => {
    const path = resolve(input);
    const file = files.get(path);
    if (file === undefined || !DRIVER_MODULE.test(path)) return;
    const key = driverModuleKey(path, rootDir, file.source);
    if (meta.format !== 'esm') {
      cache.storeTransformed(key, '');
      return;
    }
    const out = await transform(file.text, {
      loader: 'ts',
      target: 'node24',
      sourcemap: 'inline',
      sourcefile: path,
      sourcesContent: false,
      tsconfigRaw: { compilerOptions: { verbatimModuleSyntax: true } },
      logLevel: 'silent',
    });
    cache.storeTransformed(key, out.code);
  });
  await Promise.all(work);
}

/** The esbuild plugin that applies transform-inline.ts to the application's own files. */
function inlineFunctionsPlugin(rootDir: string, cache: BundleCache | undefined, files: Map<string, AppFile>): Plugin {
  return {
    name: 'flint-inline-functions',
    setup(builder) {
      builder.onLoad({ filter: /\.(?:[mc]?[jt]s|[jt]sx)$/, namespace: 'file' }, async (args) => {
        const loader = LOADERS[extname(args.path)];
        if (loader === undefined || !isAppPath(args.path, FLINT_CODE_DIRS)) return undefined;
        const source = await readFile(args.path, 'utf8');
        if (isFlintBundle(source)) return undefined;
        let text;
        try {
          // The driver's hook has usually transformed the same file already: the cache has it.
          text = transformedText(source, { path: args.path, rootDir }, cache);
        } catch (err) {
          // A file Babel cannot parse: esbuild reports its own error for it, or bundles it as it is.
          return { contents: source, loader, warnings: [{ text: `inline task functions not transformed: ${(err as Error).message}` }] };
        }
        files.set(resolve(args.path), { source, text: text ?? source });
        return { contents: text ?? source, loader, resolveDir: dirname(args.path) };
      });
    },
  };
}
