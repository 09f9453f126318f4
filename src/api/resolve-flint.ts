// Lets an application anywhere on disk `import … from 'flint'`: launchers (`flint submit`, the cluster-mode
// driver) register a resolve hook that maps the bare name `flint` to this Flint's API. Inside the Flint
// checkout the package's own `exports` already does it.

import { registerHooks } from 'node:module';

const API_URL = new URL('./index.ts', import.meta.url).href;
let registered = false;

export function registerFlintResolution(): void {
  if (registered) return;
  registered = true;
  registerHooks({
    resolve(specifier, context, nextResolve) {
      if (specifier === 'flint') return { url: API_URL, format: 'module-typescript', shortCircuit: true };
      return nextResolve(specifier, context);
    },
  });
}
