// Exported task functions travel by name: the name under which the application's main module exports them. The
// driver finds that name by identity in the main module's namespace (so `export { sq as square }` and
// re-exports work), and falls back to the function's own name when the namespace is not available (a
// program that creates its context from top-level await, outside `runApp`). Either way the name must be one
// the app bundle exports, which is exactly what every executor can resolve. Functions written inline travel
// by the id the source transform gave them, with their captured values (task-functions.ts).

import { FlintError } from '../errors.ts';

let mainNamespace: Readonly<Record<string, unknown>> | undefined;

/** Set by `runApp` once the main module has finished evaluating. */
export function setMainNamespace(ns: Readonly<Record<string, unknown>>): void {
  mainNamespace = ns;
}

/** A task function that the app's main module does not export: found on the driver, before anything runs. */
export class NotExportedError extends FlintError {
  constructor(message: string) {
    super('FLINT_TASK_FUNCTION_NOT_EXPORTED', message);
  }
}

/**
 * The export name of `fn`, checked against `bundleExports`. `usedBy` names the call (`map`, `reduce`) for the
 * error, `appMain` the module the user must change.
 */
export function exportNameOf(fn: unknown, usedBy: string, bundleExports: ReadonlySet<string>, appMain: string): string {
  if (typeof fn !== 'function') {
    throw new TypeError(`${usedBy} expects a function exported by ${appMain}, got ${fn === null ? 'null' : typeof fn}`);
  }
  if (mainNamespace !== undefined) {
    const names = Object.keys(mainNamespace).filter((name) => mainNamespace?.[name] === fn);
    const name = names.find((n) => n === fn.name) ?? names.find((n) => n !== 'default') ?? names[0];
    if (name !== undefined && bundleExports.has(name)) return name;
  } else if (fn.name !== '' && bundleExports.has(fn.name)) {
    return fn.name;
  }
  const shown = fn.name === '' ? 'an anonymous function' : `the function "${fn.name}"`;
  const fix =
    fn.name === '' || fn.name === 'anonymous'
      ? `write it inline in the call, ds.map((x) => x * 2), or declare it as a named function and export it from ${appMain}, e.g. "export function square(x: number) { return x * x; }", then pass it by name`
      : `add "export" in front of "function ${fn.name}" in ${appMain} (or re-export it from there), or write it inline in the call`;
  throw new NotExportedError(
    `${usedBy}: ${shown} is not exported by the application's main module, and was not written inline, so executors cannot find it. ` +
      'A task function travels by its export name, or, written inline in the call (or as a const) in a program started by `flint submit`, ' +
      `as code in the app bundle with its captured values (docs/applications.md, "Task functions"). Fix: ${fix}.`,
  );
}
