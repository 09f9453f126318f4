// How launchers (`flint submit` in client mode, `flint demo`, the cluster-mode driver entry) run an
// application in their own process: `flint` made importable from anywhere, the launch context set, then the
// app's main module imported; its `runApp(main)` takes over from there.

import { pathToFileURL } from 'node:url';
import { setLaunchContext, type LaunchContext } from './launch-context.ts';
import { prepareDriverModules, registerFlintResolution } from './resolve-flint.ts';

/** Rejects with the import's own error when the module cannot be loaded. */
export async function launchApp(context: LaunchContext): Promise<void> {
  registerFlintResolution();
  setLaunchContext(context);
  await prepareDriverModules();
  await import(pathToFileURL(context.appMain).href);
}
