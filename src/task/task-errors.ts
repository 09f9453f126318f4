// Errors a task can end with on the executor, and how any thrown value becomes the `TaskFailure` that a FAILED
// StatusUpdate carries to the driver (name, message, stack: the driver shows them when the job fails).
//
// These are task outcomes, not executor bugs: the thread pool catches them and reports `TaskErrored`.
// Their codes belong in src/errors.ts's ERROR_CODES and docs/errors.md (listed in the executor README).

import { FlintError } from '../errors.ts';
import type { TaskFailure } from '../protocol/task-messages.ts';
import { RecordEncodeError } from './record-codec.ts';

/** A task names a function that the application's main module does not export (or exports as a non-function). */
export class TaskFunctionNotFoundError extends FlintError {
  readonly fnName: string;
  constructor(fnName: string, usedBy: string, found: string | undefined) {
    const what =
      found === undefined
        ? `The application's main module has no export named "${fnName}" (needed by ${usedBy}).`
        : `The export "${fnName}" of the application's main module is ${found}, not a function (needed by ${usedBy}).`;
    super(
      'FLINT_TASK_FUNCTION_NOT_EXPORTED',
      `${what} Fix: export function ${fnName} from your app's main module (re-exports count).`,
    );
    this.fnName = fnName;
  }
}

/**
 * A task names an inline function whose id the application bundle did not register: the driver ran other code
 * than the executors loaded (a bundle built from other sources), or the function's module was not bundled.
 */
export class InlineFunctionNotFoundError extends FlintError {
  constructor(name: string, id: string) {
    super(
      'FLINT_INLINE_FUNCTION_NOT_FOUND',
      `The inline function ${name} (id ${id}) is not in the application bundle the executors loaded: the driver's code and the bundle differ. ` +
        'Fix: run the application again (flint submit bundles it anew), and make sure the module that holds the function is imported by the main module.',
    );
  }
}

/** The task's input cannot be evaluated: a bad range, a slice that is not an array, a non-iterable result. */
export class TaskInputError extends FlintError {
  constructor(message: string) {
    super('FLINT_TASK_BAD_INPUT', message);
  }
}

/** The task saw its kill signal between two records (cooperative cancellation after KillTask). */
export class TaskKilledError extends FlintError {
  constructor(taskId: number) {
    super('FLINT_TASK_KILLED', `Task ${taskId} was killed`);
  }
}

/** A block of a map output could not be read: the driver must re-run that map task (Spark's FetchFailedException). */
export class FetchFailedError extends FlintError {
  readonly shuffleId: number;
  readonly mapId: number;
  readonly service: string;
  constructor(block: { readonly shuffleId: number; readonly mapId: number; readonly reduceId: number }, service: string, cause: string) {
    super(
      'FLINT_SHUFFLE_FETCH_FAILED',
      `Could not read shuffle block (shuffle ${block.shuffleId}, map ${block.mapId}, reduce ${block.reduceId}) ` +
        `from ${service}: ${cause}`,
    );
    this.name = 'FetchFailedError';
    this.shuffleId = block.shuffleId;
    this.mapId = block.mapId;
    this.service = service;
  }
}

/** `StatusUpdate.failure` strings are limited to 65,536 characters by the wire schema. */
export const MAX_FAILURE_TEXT = 65_536;

function clip(text: string): string {
  if (text.length <= MAX_FAILURE_TEXT) return text;
  const marker = '… [truncated]';
  return text.slice(0, MAX_FAILURE_TEXT - marker.length) + marker;
}

/**
 * Describes anything a task threw. Errors keep their name, message and stack; other values (`throw 'x'`,
 * `throw { code: 1 }`) become a message with an empty stack. Every field fits the wire schema. A
 * RecordEncodeError is marked `retryable: false`: the same records fail the same way on every attempt.
 */
export function taskFailureOf(thrown: unknown): TaskFailure {
  if (thrown instanceof FetchFailedError) {
    const fetchFailed = { shuffleId: thrown.shuffleId, mapId: thrown.mapId, service: thrown.service };
    return { name: thrown.name, message: clip(thrown.message), stack: clip(thrown.stack ?? ''), fetchFailed };
  }
  // Deterministic failures: a record that cannot be encoded, and any error that says so itself (a corrupt gzip
  // file, a record JSON cannot hold: src/io/dataset-files).
  if (thrown instanceof RecordEncodeError || (thrown instanceof Error && (thrown as { retryable?: unknown }).retryable === false)) {
    return { name: thrown.name, message: clip(thrown.message), stack: clip(thrown.stack ?? ''), retryable: false };
  }
  if (thrown instanceof Error) {
    return { name: clip(thrown.name || 'Error'), message: clip(thrown.message), stack: clip(thrown.stack ?? '') };
  }
  if (typeof thrown === 'object' && thrown !== null && typeof (thrown as { message?: unknown }).message === 'string') {
    const like = thrown as { name?: unknown; message: string; stack?: unknown };
    return {
      name: clip(typeof like.name === 'string' && like.name !== '' ? like.name : 'Error'),
      message: clip(like.message),
      stack: clip(typeof like.stack === 'string' ? like.stack : ''),
    };
  }
  let text: string;
  try {
    text = typeof thrown === 'string' ? thrown : (JSON.stringify(thrown) ?? String(thrown));
  } catch {
    text = String(thrown);
  }
  return { name: 'NonErrorThrown', message: clip(`The task threw a non-Error value: ${text}`), stack: '' };
}

/** Clips a failure that did not come from `taskFailureOf` (e.g. one built by the thread pool) to the schema. */
export function clipTaskFailure(failure: TaskFailure): TaskFailure {
  const clipped: TaskFailure = { name: clip(failure.name), message: clip(failure.message), stack: clip(failure.stack) };
  if (failure.fetchFailed !== undefined) return { ...clipped, fetchFailed: failure.fetchFailed };
  return failure.retryable === false ? { ...clipped, retryable: false } : clipped;
}
