// Rolling of executor and driver stdout/stderr: the `flint.executor.logs.rolling.*` keys of the worker's own conf,
// as Spark's `FileAppender.apply` reads `spark.executor.logs.rolling.*` from the worker's SparkConf for
// ExecutorRunner and DriverRunner. Pure parsing; the appender is src/io/logs/rolling-file.ts.
//
// Spark logs a warning and turns rolling off for a value it cannot use, and silently raises a too small size or
// interval to its minimum. Flint refuses such a value with a ConfigError naming the key, so a worker never runs
// with settings other than the ones written (docs/differences-from-spark.md).

import type { FlintConf } from '../conf/flint-conf.ts';
import { ConfigError } from '../errors.ts';
import { civilTimeUtc, pad } from '../util/civil-time.ts';

export const LOG_ROLLING_KEYS = {
  strategy: 'flint.executor.logs.rolling.strategy',
  maxSize: 'flint.executor.logs.rolling.maxSize',
  timeInterval: 'flint.executor.logs.rolling.time.interval',
  maxRetainedFiles: 'flint.executor.logs.rolling.maxRetainedFiles',
  enableCompression: 'flint.executor.logs.rolling.enableCompression',
} as const;

/** Spark's `SizeBasedRollingPolicy.MINIMUM_SIZE_BYTES`: ten times the appender's 8 KiB buffer. */
export const MIN_ROLLING_SIZE_BYTES = 81_920;
/** Spark's `TimeBasedRollingPolicy.MINIMUM_INTERVAL_SECONDS`. */
export const MIN_ROLLING_INTERVAL_MS = 60_000;

/**
 * The suffix of a rolled file's name, in Java's SimpleDateFormat letters, exactly as Spark's `FileAppender.apply`
 * (time) and `SizeBasedRollingPolicy` (size) choose them: `stdout--2026-12-02--13-05` for minutely rolling.
 * Flint formats them in UTC (Spark: the JVM's time zone), as it does every timestamp in ids.
 */
export type RolledSuffixPattern =
  | '--yyyy-MM-dd'
  | '--yyyy-MM-dd--HH'
  | '--yyyy-MM-dd--HH-mm'
  | '--yyyy-MM-dd--HH-mm-ss'
  | '--yyyy-MM-dd--HH-mm-ss--SSSS';

interface RollingCommon {
  /** Rolled files kept per log (the active one not counted); older ones are deleted. 0 keeps them all. */
  readonly maxRetainedFiles: number;
  /** Rolled files are gzipped to `<name>.gz` (Spark's `enableCompression`). */
  readonly enableCompression: boolean;
}

export type LogRollingConfig =
  | (RollingCommon & { readonly strategy: 'size'; readonly maxSizeBytes: number })
  | (RollingCommon & {
      readonly strategy: 'time';
      readonly intervalMs: number;
      readonly suffixPattern: RolledSuffixPattern;
    });

/** The suffix pattern of size-based rolling (Spark's `SizeBasedRollingPolicy.formatter`). */
export const SIZE_SUFFIX_PATTERN: RolledSuffixPattern = '--yyyy-MM-dd--HH-mm-ss--SSSS';

const NAMED_INTERVALS: Readonly<Record<string, { readonly intervalMs: number; readonly suffixPattern: RolledSuffixPattern }>> = {
  daily: { intervalMs: 86_400_000, suffixPattern: '--yyyy-MM-dd' },
  hourly: { intervalMs: 3_600_000, suffixPattern: '--yyyy-MM-dd--HH' },
  minutely: { intervalMs: 60_000, suffixPattern: '--yyyy-MM-dd--HH-mm' },
};

/** Largest interval in seconds: one whose milliseconds stay a safe integer with room for the clock's value. */
const MAX_INTERVAL_SECONDS = 2 ** 31 - 1;

function timeInterval(raw: string): { intervalMs: number; suffixPattern: RolledSuffixPattern } {
  const key = LOG_ROLLING_KEYS.timeInterval;
  const text = raw.trim();
  const named = NAMED_INTERVALS[text];
  if (named !== undefined) return named;
  const expected = `expected daily, hourly, minutely or a whole number of seconds from ${MIN_ROLLING_INTERVAL_MS / 1000} to ${MAX_INTERVAL_SECONDS}`;
  if (!/^\d+$/.test(text)) throw new ConfigError(key, `${key}=${JSON.stringify(raw)} is not an interval; ${expected}`);
  const seconds = Number(text);
  if (seconds * 1000 < MIN_ROLLING_INTERVAL_MS || seconds > MAX_INTERVAL_SECONDS) {
    throw new ConfigError(key, `${key}=${JSON.stringify(raw)} is out of range; ${expected}`);
  }
  return { intervalMs: seconds * 1000, suffixPattern: '--yyyy-MM-dd--HH-mm-ss' };
}

/**
 * Reads the rolling keys; undefined when rolling is off (`strategy` unset or empty, Spark's default). The other
 * keys are read, and checked, only for the strategy that uses them, as Spark does.
 */
export function logRollingFromConf(conf: FlintConf): LogRollingConfig | undefined {
  const k = LOG_ROLLING_KEYS;
  const strategy = conf.getString(k.strategy, '').trim();
  if (strategy === '') return undefined;
  if (strategy !== 'size' && strategy !== 'time') {
    throw new ConfigError(k.strategy, `${k.strategy}=${JSON.stringify(strategy)} is not a rolling strategy; expected time, size or empty (off)`);
  }
  // Spark's default is -1, which like 0 keeps every rolled file.
  const retained = conf.getInt(k.maxRetainedFiles, 0, { min: -1 });
  const common: RollingCommon = {
    maxRetainedFiles: Math.max(0, retained),
    enableCompression: conf.getBoolean(k.enableCompression, false),
  };
  if (strategy === 'time') return { strategy, ...timeInterval(conf.getString(k.timeInterval, 'daily')), ...common };
  // A bare number is bytes, as in Spark (which takes nothing else); units such as 10m are accepted too.
  const maxSizeBytes = conf.getSizeBytes(k.maxSize, String(1024 * 1024), 'b');
  if (maxSizeBytes < MIN_ROLLING_SIZE_BYTES) {
    throw new ConfigError(k.maxSize, `${k.maxSize}=${JSON.stringify(conf.get(k.maxSize))} is too small; expected at least ${MIN_ROLLING_SIZE_BYTES} bytes (80k)`);
  }
  return { strategy, maxSizeBytes, ...common };
}

/**
 * The suffix for a file rolled at `epochMs`, in UTC: SimpleDateFormat's yyyy, MM, dd, HH, mm, ss, and SSSS
 * (milliseconds, zero-padded to four digits). As in Spark, the time is the rollover's, not the file's first
 * write: a daily file rolled just after midnight carries the new day's date.
 */
export function formatRolledSuffix(pattern: RolledSuffixPattern, epochMs: number): string {
  const t = civilTimeUtc(epochMs);
  const ms = ((epochMs % 1000) + 1000) % 1000;
  const fields: Readonly<Record<string, string>> = {
    yyyy: pad(t.year, 4),
    MM: pad(t.month, 2),
    dd: pad(t.day, 2),
    HH: pad(t.hour, 2),
    mm: pad(t.minute, 2),
    ss: pad(t.second, 2),
    SSSS: pad(ms, 4),
  };
  return pattern.replace(/yyyy|MM|dd|HH|mm|ss|SSSS/g, (letters) => fields[letters] ?? letters);
}
