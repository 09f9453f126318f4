// Errors of the shuffle core. User-facing ones carry a stable FLINT_* code (STYLE.md §8): a combiner function
// that returned a promise, a record of a key-value operation that is not a [key, value] pair, and shuffle bytes
// that cannot be read back (a truncated block, an index that does not match its data file).
//
// The codes are listed in SHUFFLE_ERROR_CODES; they still have to be added to ERROR_CODES in src/errors.ts and
// documented in docs/errors.md when the shuffle is wired into the engine.

import { FlintError } from '../errors.ts';

export const SHUFFLE_ERROR_CODES = ['FLINT_ASYNC_COMBINER', 'FLINT_NOT_A_PAIR', 'FLINT_SHUFFLE_CORRUPT'] as const;
export type ShuffleErrorCode = (typeof SHUFFLE_ERROR_CODES)[number];

export class ShuffleError extends FlintError {
  constructor(code: ShuffleErrorCode, message: string, options?: ErrorOptions) {
    super(code, message, options);
  }
}

/** A short description of a value for error messages: its type and, for small values, the value itself. */
export function describeValue(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return `an array of length ${value.length}`;
  switch (typeof value) {
    case 'string':
      return `the string ${JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value)}`;
    case 'number':
    case 'boolean':
    case 'bigint':
    case 'undefined':
      return `${typeof value} ${String(value)}`;
    case 'function':
      return `function ${value.name || '(anonymous)'}`;
    case 'object': {
      const ctor = (Object.getPrototypeOf(value) as { constructor?: { name?: string } } | null)?.constructor;
      return ctor?.name === undefined || ctor.name === 'Object' ? 'an object' : `a ${ctor.name}`;
    }
    default:
      return typeof value;
  }
}
