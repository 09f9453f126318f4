// The ranges of every number Flint takes from outside: wire message fields, command-line flags and conf keys.
//
// One table, so the same bound is never written twice: the message schemas (messages.ts, task-messages.ts) are
// built from it with `integerIn`, and the CLI and FlintConf check their values against it with `checkInRange`.
// The bounds are checked once, at the edge (the message catalog, the flag parser, the conf getter); the core
// may then rely on them, e.g. placement arithmetic stays exact because every core and memory count is far
// below 2^53 (issue "Trust at the edges", finding 1: a worker declaring 2^53 − 1 cores hung the master).
// docs/rpc.md ("Bounds"), docs/configuration.md and docs/operations.md list them for operators.

import { Type, type TInteger } from '@sinclair/typebox';

/** An inclusive range of whole numbers. */
export interface IntRange {
  readonly min: number;
  readonly max: number;
}

/** Spark's `Int.MaxValue`: Spark keeps these quantities in an Int, so no Spark setup needs more. */
export const INT_MAX = 2_147_483_647;

/** The largest `Date` (ECMAScript: ±8.64e15 ms from the epoch). */
export const MAX_TIMESTAMP_MS = 8_640_000_000_000_000;

/**
 * Node's timers hold at most 2^31 − 1 ms (about 24.8 days); a longer `setTimeout` fires at once. Every duration
 * that arms a timer (most conf durations) is capped here, so no value can turn a timer into a busy loop.
 */
export const MAX_TIMER_MS = INT_MAX;

export const LIMITS = {
  /**
   * Cores of one worker, one executor or one driver: up to 2^20 (1,048,576), far above any machine, and small
   * enough that a placement plan of one executor per core stays bounded.
   */
  cores: { min: 1, max: 1_048_576 },
  /** Cores a whole application asks for (`flint.cores.max`, `maxCores`): Spark's Int. */
  appCores: { min: 1, max: INT_MAX },
  /** Memory of one worker, executor or driver, in MiB: Spark's Int of MiB, about 2 PiB. */
  memoryMb: { min: 1, max: INT_MAX },
  /** A port a daemon has bound or advertises. */
  port: { min: 1, max: 65_535 },
  /** A port to bind; 0 asks the system for any free port. */
  bindPort: { min: 0, max: 65_535 },
  /** Executor IDs, attempts, retries, limits, partitions and other counts Spark keeps in an Int. */
  count: { min: 0, max: INT_MAX },
  /** Task and job IDs, records and bytes, which Spark keeps in a Long: any exact (safe) integer. */
  longCount: { min: 0, max: Number.MAX_SAFE_INTEGER },
  /** A point in time, in ms since the epoch. */
  timestampMs: { min: 0, max: MAX_TIMESTAMP_MS },
  /** A measured duration (task run time), in ms. */
  durationMs: { min: 0, max: MAX_TIMESTAMP_MS },
  /** A process exit status as Node reports it (a 32-bit signed integer). */
  exitStatus: { min: -INT_MAX - 1, max: INT_MAX },
  /** Addresses of one custom resource on a worker, or one holder's amount of it (reference §5.6). */
  resourceAddresses: { min: 1, max: 1024 },
  /** Distinct custom resources a worker may have or an executor, driver or task may ask for. */
  resourceNames: { min: 1, max: 32 },
  /** The start, end and step of a `range` task source: exact integers. */
  rangeValue: { min: Number.MIN_SAFE_INTEGER, max: Number.MAX_SAFE_INTEGER },
} as const satisfies Record<string, IntRange>;

/** A custom resource's name: a letter or digit, then letters, digits, `_`, `.` or `-`; it is also part of conf keys. */
export const RESOURCE_NAME_PATTERN = '[A-Za-z0-9][A-Za-z0-9_.-]{0,63}';
/** A custom resource's address: no commas or spaces (addresses are joined with commas into CUDA_VISIBLE_DEVICES). */
export const RESOURCE_ADDRESS_PATTERN = '[A-Za-z0-9_.:/-]{1,128}';

/** A TypeBox integer schema for `range`; the catalog refuses anything outside it with FLINT_RPC_MALFORMED_MESSAGE. */
export function integerIn(range: IntRange): TInteger {
  return Type.Integer({ minimum: range.min, maximum: range.max });
}

/** `range` with its bounds as a reader sees them, e.g. "a whole number from 1 to 1048576". */
export function describeRange(range: IntRange): string {
  return `a whole number from ${range.min} to ${range.max}`;
}

/**
 * Why `value` is not in `range` (a whole number from min to max), or undefined when it is. NaN, ±Infinity,
 * fractions and values beyond the range are all refused. Callers wrap the reason in their own error, naming
 * the flag or key.
 */
export function outOfRange(value: number, range: IntRange): string | undefined {
  if (Number.isInteger(value) && value >= range.min && value <= range.max) return undefined;
  return `${String(value)} is out of range; expected ${describeRange(range)}`;
}
