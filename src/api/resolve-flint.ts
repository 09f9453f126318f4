// Lets an application anywhere on disk `import … from 'flint'`: launchers (`flint submit`, the cluster-mode
// driver) register a resolve hook that maps the bare name `flint` to this Flint's API. Inside the Flint
// checkout the package's own `exports` already does it.

//
// The same hooks apply the inline-function transform (src/io/bundle/transform-inline.ts) to the application's
// own modules as they load, so that the functions the driver passes to Dataset methods carry the ids the
// executors' bundle registers.

import { registerHooks } from 'node:module';
import { dirname } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { BUNDLED, FLINT_CODE_DIRS, programPath } from '../util/install.ts';
import { isAppPath, isFlintBundle, transformedText } from '../io/bundle/transform-inline.ts';
import { openBundleCache, type BundleCache } from '../io/bundle/bundle-cache.ts';
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

let cache: BundleCache | null | undefined;

/**
 * The bundle cache of the launcher's conf, where transformed modules are kept between runs; undefined when it is
 * off or unsafe (the context warns about that when it opens it for the bundle).
 */
function transformedCache(): BundleCache | undefined {
  cache ??= openBundleCache(new FlintConf(launchContext()?.conf ?? []), () => {}) ?? null;
  return cache ?? undefined;
}

