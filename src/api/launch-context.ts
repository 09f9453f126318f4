// What a launcher (`flint submit`, the cluster-mode driver entry) tells the application it starts, through
// a process-wide slot instead of environment variables, so that conf values (secrets included) never reach
// child processes or `ps`. A program started with plain `node app.ts` finds the slot empty and uses
// `process.argv`.

import type { Credential } from '../rpc/auth.ts';

const kLaunch = Symbol.for('flint.launch');
const kExecutor = Symbol.for('flint.executor');

export interface LaunchContext {
  /** Absolute path of the application's main module. */
  readonly appMain: string;
  /** The application's own arguments. */
  readonly appArgs: readonly string[];
  /** `flint.*` entries from the launcher (flags, properties file), in increasing precedence. */
  readonly conf: ReadonlyArray<readonly [string, string]>;
  /** A cluster-mode driver's own credential (`driver:<id>`), which its worker gave it on stdin. */
  readonly credential?: Credential;
}

type Slots = Record<symbol, unknown>;

export function setLaunchContext(context: LaunchContext): void {
  (globalThis as Slots)[kLaunch] = context;
}

export function launchContext(): LaunchContext | undefined {
  return (globalThis as Slots)[kLaunch] as LaunchContext | undefined;
}

/** True inside an executor, which imports the app's bundle only to reach its exported task functions. */
export function isExecutor(): boolean {
  return (globalThis as Slots)[kExecutor] === true;
}
