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
import { FLINT_CODE_DIRS } from '../../util/install.ts';

export interface AppBundle {
  readonly code: Uint8Array;
  /** sha256 of `code`, hex. */
  readonly hash: string;
  /** Names the main module exports (re-exports included). */
  readonly exports: readonly string[];
  /** Whether it came from the BundleCache rather than from esbuild. */
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
}

/** esbuild's version, part of a bundle's cache key, read without loading esbuild itself. */
const esbuildVersion = (createRequire(import.meta.url)('esbuild/package.json') as { version: string }).version;

export async function bundleApp(mainModule: string, opts: BundleOptions): Promise<AppBundle> {
  const entry = resolve(mainModule);
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
    plugins: [inlineFunctionsPlugin(dirname(entry), opts.cache)],
  } satisfies BuildOptions;
  // Everything that decides the output besides the input files' bytes: the options (the entry among them), the
  // directory relative inputs are named from, and esbuild itself.
  const key = createHash('sha256')
    .update(JSON.stringify({ options, cwd: process.cwd(), esbuild: esbuildVersion, inline: INLINE_TRANSFORM_VERSION }))
    .digest('hex');
  const hit = opts.cache?.lookup(key);
  if (hit !== undefined) return { ...hit, cached: true };
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

/** The esbuild plugin that applies transform-inline.ts to the application's own files. */
function inlineFunctionsPlugin(rootDir: string, cache: BundleCache | undefined): Plugin {
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
        return { contents: text ?? source, loader, resolveDir: dirname(args.path) };
      });
    },
  };
}
