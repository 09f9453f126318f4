// The captured values of an inline task function, as they travel with a task (LaunchTask.closures), and how an
// executor turns them back into the function: the factory the app bundle registered under the function's id
// (src/io/bundle/transform-inline.ts), applied to the decoded values once per task, never per record.
//
// Each captured value is one entry:
//   { v: bytes }          a value, encoded by the record codec (record-codec.ts)
//   { e: name }           a function the app's main module exports, by its export name
//   { i: id, c: entries } another inline function, by its id, with its own captures
// The driver writes them (src/api/task-functions.ts); Spark's ClosureCleaner and JavaSerializer do the same job
// for a Scala closure's captured objects.

import type { InlineClosure } from '../protocol/task-messages.ts';
import { InlineFunctionNotFoundError, TaskInputError } from './task-errors.ts';

export type CaptureEntry =
  | { readonly v: Uint8Array }
  | { readonly e: string }
  | { readonly i: string; readonly c: readonly CaptureEntry[] };

/** What the executor resolves a closure with: the bundle's registered factories, its exports, the codec. */
export interface ClosureEnv {
  factory(id: string): ((...captures: unknown[]) => unknown) | undefined;
  exported(name: string): unknown;
  decode(bytes: Uint8Array): unknown;
}

/** The task's inline functions by the names its ops and action use. */
export function closureFunctions(closures: readonly InlineClosure[], env: ClosureEnv): Map<string, unknown> {
  const out = new Map<string, unknown>();
  for (const closure of closures) {
    const entries = env.decode(closure.captures);
    if (!Array.isArray(entries)) throw new TaskInputError(`the captured values of ${closure.name} must decode to an array`);
    out.set(closure.name, build(closure.id, entries as CaptureEntry[], closure.name, env));
  }
  return out;
}

function build(id: string, entries: readonly CaptureEntry[], name: string, env: ClosureEnv): unknown {
  const factory = env.factory(id);
  if (factory === undefined) throw new InlineFunctionNotFoundError(name, id);
  return factory(...entries.map((entry) => valueOf(entry, name, env)));
}

function valueOf(entry: CaptureEntry, name: string, env: ClosureEnv): unknown {
  if ('v' in entry) return env.decode(entry.v);
  if ('e' in entry) {
    const fn = env.exported(entry.e);
    if (typeof fn !== 'function') throw new TaskInputError(`${name} captures the export "${entry.e}", which the application bundle does not export as a function`);
    return fn;
  }
  return build(entry.i, entry.c, name, env);
}
