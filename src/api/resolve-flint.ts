// Lets an application anywhere on disk `import … from 'flint'`: launchers (`flint submit`, the cluster-mode
// driver) register a resolve hook that maps the bare name `flint` to this Flint's API. Inside the Flint
// checkout the package's own `exports` already does it.

import { registerHooks } from 'node:module';
import { pathToFileURL } from 'node:url';
import { BUNDLED, programPath } from '../util/install.ts';

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
  });
}
