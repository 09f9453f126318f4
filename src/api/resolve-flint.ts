// Lets an application anywhere on disk `import … from 'flint'`: launchers (`flint submit`, the cluster-mode
// driver) register a resolve hook that maps the bare name `flint` to this Flint's API. Inside the Flint
// checkout the package's own `exports` already does it.

//
// The same hooks apply the inline-function transform (src/io/bundle/transform-inline.ts) to the application's
// own modules as they load, so that the functions the driver passes to Dataset methods carry the ids the
// executors' bundle registers.
//
// And they load the app's own ES modules in TypeScript as esbuild compiled them for the bundle (bundle-app.ts,
// driverModules), kept in the bundle cache, instead of by Node's type stripping: that loads a WebAssembly
// compiler, some 90 ms of a driver's start (bench:submit), and takes only erasable syntax, where the executors'
// bundle takes all of TypeScript. prepareDriverModules has them compiled before the app's import when the cache
// has no compilation of the main module's bytes; a module without one is loaded as Node loads it.

import { readFileSync } from 'node:fs';
import { registerHooks } from 'node:module';
import { dirname } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { BUNDLED, FLINT_CODE_DIRS, programPath } from '../util/install.ts';
import { isAppPath, isFlintBundle, transformedText } from '../io/bundle/transform-inline.ts';
import { openBundleCache, type BundleCache } from '../io/bundle/bundle-cache.ts';
import { bundleApp, DRIVER_MODULE, driverModuleKey, REMOTE_API } from '../io/bundle/bundle-app.ts';
import { FlintConf } from '../conf/flint-conf.ts';
import { launchContext } from './launch-context.ts';
import { appMainPath } from './run-app.ts';

// The API of the form this process runs from: the build's api.mjs shares its chunks with the launcher.
const API_URL = pathToFileURL(programPath('api')).href;
const API_FORMAT = BUNDLED ? 'module' : 'module-typescript';
let registered = false;

export function registerFlintResolution(): void {
  if (registered) return;
  registered = true;
  registerHooks({
    resolve(specifier, context, nextResolve) {
      if (specifier === 'flint') return { url: API_URL, format: API_FORMAT, shortCircuit: true };
      return nextResolve(specifier, context);
    },
    load(url, context, nextLoad) {
      const compiled = compiledForDriver(url);
      if (compiled !== undefined) {
        // Its inline source map names the lines of the app's own file.
        process.setSourceMapsEnabled(true);
        return { format: 'module', source: compiled, shortCircuit: true };
      }
      const loaded = nextLoad(url, context);
      if (!url.startsWith('file:') || (loaded.format !== 'module' && loaded.format !== 'module-typescript') || loaded.source === undefined || loaded.source === null) return loaded;
      const path = fileURLToPath(url);
      const main = appMainPath();
      if (main === undefined || !isAppPath(path, FLINT_CODE_DIRS)) return loaded;
      const source = typeof loaded.source === 'string' ? loaded.source : Buffer.from(loaded.source as Uint8Array).toString('utf8');
      if (isFlintBundle(source)) return loaded;
      // A module that does not parse is left to Node, whose error names the file and line.
      let text;
      try {
        text = transformedText(source, { path, rootDir: dirname(main) }, transformedCache());
      } catch {
        return loaded;
      }
      if (text === undefined) return loaded;
      // Errors thrown by moved functions (an Array callback on the driver, say) name their own lines. Node reads
      // the maps of modules loaded from now on; one that needs none is not slowed.
      process.setSourceMapsEnabled(true);
      return { ...loaded, source: text };
    },
  });
}

/**
 * Before the app's import: when the bundle cache has no compilation of the main module's bytes for the driver (a new
 * app, or one changed since), builds the app's bundle now and keeps the compilation of each of its modules beside it
 * (bundle-app.ts). The context's own bundling then finds the bundle in the cache. A failure is left to the import
 * and the context, which report it as they do without this.
 */
export async function prepareDriverModules(): Promise<void> {
  const main = appMainPath();
  const cache = transformedCache();
  if (main === undefined || cache === undefined || !DRIVER_MODULE.test(main)) return;
  const key = keyOf(main, main);
  if (key === undefined || cache.lookupTransformed(key) !== undefined) return;
  try {
    await bundleApp(main, { flintEntry: REMOTE_API, cache, driverModules: true });
  } catch {
    // reported by the import, or by FlintContext.create's own bundling
  }
}

/** The module at `url` as compiled for the driver (prepareDriverModules), or undefined: Node loads it. */
function compiledForDriver(url: string): string | undefined {
  if (!url.startsWith('file:') || !DRIVER_MODULE.test(url)) return undefined;
  const main = appMainPath();
  const cache = transformedCache();
  if (main === undefined || cache === undefined) return undefined;
  const path = fileURLToPath(url);
  if (!isAppPath(path, FLINT_CODE_DIRS)) return undefined;
  const key = keyOf(path, main);
  const compiled = key === undefined ? undefined : cache.lookupTransformed(key);
  return compiled === '' ? undefined : compiled;
}

/** driverModuleKey of the file's bytes now; undefined when it cannot be read (Node reports that). */
function keyOf(path: string, main: string): string | undefined {
  try {
    return driverModuleKey(path, dirname(main), readFileSync(path, 'utf8'));
  } catch {
    return undefined;
  }
}

let cache: BundleCache | null | undefined;

/**
 * The bundle cache of the launcher's conf, where transformed modules are kept between runs; undefined when it is
 * off or unsafe (the context warns about that when it opens it for the bundle).
 */
function transformedCache(): BundleCache | undefined {
  cache ??= openBundleCache(new FlintConf(launchContext()?.conf ?? []), () => {}) ?? null;
  return cache ?? undefined;
}

