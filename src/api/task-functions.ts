// How the driver names a task function for its executors (docs/applications.md, "Task functions"):
//   - an exported function by its export name (app-exports.ts);
//   - an inline function (`ds.map((x) => x * factor)`, tagged by the transform, transform-inline.ts) by a name of
//     its own, `app.ts:12#0`, under which its id and captured values travel with every task that uses it
//     (LaunchTask.closures), as Spark's tasks carry their serialised closures.
// The captured values are encoded here, when the Dataset method is called, so a function that cannot travel is
// refused before any job runs, naming the variable and the line: Spark's ClosureCleaner.ensureSerializable
// checks a closure when `map` is called, too (its "Task not serializable").

import { createHash } from 'node:crypto';
import { FlintError } from '../errors.ts';
import type { InlineClosure } from '../protocol/task-messages.ts';
import { RecordEncodeError, encodeRecord, type CaptureEntry } from '../task/index.ts';
import { exportNameOf } from './app-exports.ts';
import { inlineSite, inlineTagOf } from './inline-registry.ts';

/** An inline function that cannot be sent to executors: found on the driver, before any job runs. */
export class InlineFunctionError extends FlintError {
  constructor(message: string) {
    super('FLINT_INLINE_FUNCTION_REFUSED', message);
  }
}

/**
 * Inline functions passed to Dataset methods so far, by the name tasks use. Kept for the driver's life (a
 * dataset names them by name only), so one function made again with the same values (in a loop, say) shares
 * its entry: only distinct captured values add one.
 */
const closures = new Map<string, InlineClosure>();
const namesByContent = new Map<string, string>();
const namesByFunction = new WeakMap<object, string>();
let nextNumber = 0;

/**
 * The name tasks use for `fn`: its export name, or for an inline function the name its captured values are kept
 * under. `usedBy` names the call (`map`, `reduce`) for errors; `bundleExports` and `appMain` as exportNameOf.
 */
export function taskFunctionName(fn: unknown, usedBy: string, bundleExports: ReadonlySet<string>, appMain: string): string {
  const tag = inlineTagOf(fn);
  if (tag === undefined) return exportNameOf(fn, usedBy, bundleExports, appMain);
  if ('refused' in tag) throw new InlineFunctionError(`${usedBy}: ${tag.refused}.`);
  const known = namesByFunction.get(fn as object);
  if (known !== undefined) return known;
  const where = inlineSite(tag.id)?.where ?? tag.id;
  const captures = encodeRecord(captureEntries(tag.id, tag.values, usedBy, bundleExports, appMain), 'captures');
  const content = `${tag.id}:${createHash('sha256').update(captures).digest('hex')}`;
  let name = namesByContent.get(content);
  if (name === undefined) {
    name = `${where}#${nextNumber++}`;
    closures.set(name, { name, id: tag.id, captures });
    namesByContent.set(content, name);
  }
  namesByFunction.set(fn as object, name);
  return name;
}

/** The inline functions among `names` (a task's), with their captured values: what the task carries. */
export function closuresFor(names: Iterable<string>): InlineClosure[] {
  const out: InlineClosure[] = [];
  for (const name of names) {
    const closure = closures.get(name);
    if (closure !== undefined) out.push(closure);
  }
  return out;
}

function captureEntries(id: string, values: readonly unknown[], usedBy: string, bundleExports: ReadonlySet<string>, appMain: string): CaptureEntry[] {
  const site = inlineSite(id);
  const where = site?.where ?? id;
  return values.map((value, i): CaptureEntry => {
    const name = site?.names[i] ?? `capture ${i}`;
    const refuse = (what: string, fix: string): never => {
      throw new InlineFunctionError(`${usedBy}: the inline function at ${where} captures "${name}", ${what}, which cannot be sent to executors. Fix: ${fix}.`);
    };
    if (typeof value === 'function') {
      const tag = inlineTagOf(value);
      if (tag !== undefined) {
        if ('refused' in tag) throw new InlineFunctionError(`${usedBy}: the inline function at ${where} captures "${name}": ${tag.refused}.`);
        return { i: tag.id, c: captureEntries(tag.id, tag.values, usedBy, bundleExports, appMain) };
      }
      try {
        return { e: exportNameOf(value, usedBy, bundleExports, appMain) };
      } catch {
        return refuse(`a function that is neither exported nor written inline`, `export it from ${appMain} (then use it by name), or pass what it computes as a value`);
      }
    }
    try {
      return { v: encodeRecord(value, name) };
    } catch (err) {
      if (!(err instanceof RecordEncodeError)) throw err;
      const what = err.path === name ? `a ${err.valueType}` : `whose ${err.path} is a ${err.valueType}`;
      return refuse(what, `capture plain data instead (numbers, strings, plain objects, arrays, Maps, Sets, Dates, typed arrays): copy the fields the function needs into a const before the call`);
    }
  });
}
