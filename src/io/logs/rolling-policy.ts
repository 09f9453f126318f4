// When a log file rolls over, and what the rolled file is called: Spark's `RollingPolicy` with its
// `TimeBasedRollingPolicy` and `SizeBasedRollingPolicy`. Time comes from the caller (the appender's clock),
// so tests step it instead of sleeping.

import {
  SIZE_SUFFIX_PATTERN,
  formatRolledSuffix,
  type LogRollingConfig,
  type RolledSuffixPattern,
} from '../../worker/log-rolling-config.ts';

export interface RollingPolicy {
  /** Whether to roll before writing `bytesToBeWritten` more bytes at `now`. */
  shouldRollover(bytesToBeWritten: number, now: number): boolean;
  /** The active file was just rolled (or the roll was skipped because it was empty). */
  rolledOver(now: number): void;
  bytesWritten(bytes: number): void;
  /** Appended to the active file's name to name the rolled file, e.g. `--2026-12-02`. */
  rolledOverFileSuffix(now: number): string;
}

/**
 * Rolls at every multiple of `intervalMs` since the epoch (so daily rolling happens at 00:00 UTC), at the first
 * write after it. Spark's `TimeBasedRollingPolicy`, whose `calculateNextRolloverTime` rounds up the same way.
 */
export class TimeBasedRollingPolicy implements RollingPolicy {
  readonly #intervalMs: number;
  readonly #pattern: RolledSuffixPattern;
  #nextRolloverMs: number;

  constructor(intervalMs: number, pattern: RolledSuffixPattern, now: number) {
    if (!Number.isSafeInteger(intervalMs) || intervalMs <= 0) throw new RangeError(`rolling interval ${intervalMs} ms must be positive`);
    this.#intervalMs = intervalMs;
    this.#pattern = pattern;
    this.#nextRolloverMs = this.#next(now);
  }

  get nextRolloverMs(): number {
    return this.#nextRolloverMs;
  }

  shouldRollover(_bytesToBeWritten: number, now: number): boolean {
    return now > this.#nextRolloverMs;
  }

  rolledOver(now: number): void {
    this.#nextRolloverMs = this.#next(now);
  }

  bytesWritten(): void {}

  rolledOverFileSuffix(now: number): string {
    return formatRolledSuffix(this.#pattern, now);
  }

  #next(now: number): number {
    return Math.ceil(now / this.#intervalMs) * this.#intervalMs;
  }
}

/**
 * Rolls before a write that would take the active file past `maxSizeBytes`. Spark's `SizeBasedRollingPolicy`;
 * Flint starts the count at what the file already holds (the stderr header the worker writes first), where
 * Spark starts at 0.
 */
export class SizeBasedRollingPolicy implements RollingPolicy {
  readonly #maxSizeBytes: number;
  #bytesWrittenSinceRollover: number;

  constructor(maxSizeBytes: number, bytesAlreadyInFile = 0) {
    if (!Number.isSafeInteger(maxSizeBytes) || maxSizeBytes <= 0) throw new RangeError(`rolling size ${maxSizeBytes} must be positive`);
    this.#maxSizeBytes = maxSizeBytes;
    this.#bytesWrittenSinceRollover = bytesAlreadyInFile;
  }

  shouldRollover(bytesToBeWritten: number): boolean {
    return bytesToBeWritten + this.#bytesWrittenSinceRollover > this.#maxSizeBytes;
  }

  rolledOver(): void {
    this.#bytesWrittenSinceRollover = 0;
  }

  bytesWritten(bytes: number): void {
    this.#bytesWrittenSinceRollover += bytes;
  }

  rolledOverFileSuffix(now: number): string {
    return formatRolledSuffix(SIZE_SUFFIX_PATTERN, now);
  }
}

/** The policy a config asks for, for a file that already holds `bytesInFile` bytes. */
export function rollingPolicyFor(config: LogRollingConfig, now: number, bytesInFile: number): RollingPolicy {
  return config.strategy === 'size'
    ? new SizeBasedRollingPolicy(config.maxSizeBytes, bytesInFile)
    : new TimeBasedRollingPolicy(config.intervalMs, config.suffixPattern, now);
}
