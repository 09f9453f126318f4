// FlintConf: the key/value configuration every daemon and app reads (Spark's SparkConf).
//
// Keys are written `flint.*`. Spark's `spark.*` spelling of the same key is accepted too, so an operator's
// existing spark-defaults.conf keeps working; when both are set, the `flint.*` one wins.
// Typed getters throw ConfigError naming the key, the value and what is expected. They are the one place conf
// numbers are range-checked: every integer is a whole number within a range (by default Spark's Int), every
// duration fits a Node timer unless the key says otherwise, every size is an exact integer (docs/configuration.md,
// "Ranges"). The ranges shared with the wire come from src/protocol/limits.ts.

import { ConfigError } from '../errors.ts';
import { describeRange, INT_MAX, LIMITS, MAX_TIMER_MS, type IntRange } from '../protocol/limits.ts';
import { parseDurationMs, parseSizeBytes, type DurationUnit, type SizeUnit } from './units.ts';

const SECRET_KEY = /secret|password|token|credential/i;

/** What a secret-looking value is shown as in logs, UIs and command lines. */
export const REDACTED = '*********(redacted)';

/** Whether `key` looks like it holds a secret (its value is never logged, shown or passed on). */
export function isSecretKey(key: string): boolean {
  return SECRET_KEY.test(key);
}

export class FlintConf {
  readonly #entries = new Map<string, string>();

  constructor(entries: Iterable<readonly [string, string]> = []) {
    for (const [key, value] of entries) this.set(key, value);
  }

  set(key: string, value: string): this {
    this.#entries.set(key, value);
    return this;
  }

  /** `flint.x` falls back to `spark.x`. Other keys are read as written. */
  get(key: string): string | undefined {
    const direct = this.#entries.get(key);
    if (direct !== undefined) return direct;
    if (key.startsWith('flint.')) return this.#entries.get(`spark.${key.slice('flint.'.length)}`);
    return undefined;
  }

  has(key: string): boolean {
    return this.get(key) !== undefined;
  }

  getString(key: string, defaultValue: string): string {
    return this.get(key) ?? defaultValue;
  }

  getBoolean(key: string, defaultValue: boolean): boolean {
    const raw = this.get(key);
    if (raw === undefined) return defaultValue;
    const text = raw.trim().toLowerCase();
    if (text === 'true') return true;
    if (text === 'false') return false;
    throw new ConfigError(key, `${key}=${JSON.stringify(raw)} is not a boolean; expected true or false`);
  }

  /**
   * A whole number from `min` to `max` (default: Spark's Int range; pass a range of src/protocol/limits.ts,
   * e.g. `LIMITS.cores`, for a quantity that also travels on the wire).
   */
  getInt(key: string, defaultValue: number, { min = -INT_MAX - 1, max = INT_MAX }: Partial<IntRange> = {}): number {
    const raw = this.get(key);
    if (raw === undefined) return defaultValue;
    const text = raw.trim();
    const value = Number(text);
    if (!/^-?\d+$/.test(text) || !Number.isSafeInteger(value)) {
      throw new ConfigError(key, `${key}=${JSON.stringify(raw)} is not a whole number; expected ${describeRange({ min, max })}`);
    }
    if (value < min) throw new ConfigError(key, `${key}=${value} is too small; expected ${describeRange({ min, max })}`);
    if (value > max) throw new ConfigError(key, `${key}=${value} is too large; expected ${describeRange({ min, max })}`);
    return value;
  }

  /**
   * A duration in milliseconds, at most `max` (default: 2^31 − 1 ms, about 24.8 days, the longest a Node timer
   * can wait; a longer one would fire at once). A bare number is read in `defaultUnit`, as Spark does for each key.
   */
  getDurationMs(key: string, defaultValue: string, defaultUnit: DurationUnit, { max = MAX_TIMER_MS } = {}): number {
    const raw = this.get(key) ?? defaultValue;
    const ms = this.#parse(key, () => parseDurationMs(raw, defaultUnit));
    if (ms > max) throw new ConfigError(key, `${key}=${JSON.stringify(raw)} is too long; expected at most ${max} ms`);
    return ms;
  }

  /** A size in bytes, at most `max`. A bare number is read in `defaultUnit`, as Spark does for each key. */
  getSizeBytes(key: string, defaultValue: string, defaultUnit: SizeUnit, { max = Number.MAX_SAFE_INTEGER } = {}): number {
    const raw = this.get(key) ?? defaultValue;
    const bytes = this.#parse(key, () => parseSizeBytes(raw, defaultUnit));
    if (bytes > max) throw new ConfigError(key, `${key}=${JSON.stringify(raw)} is too large; expected at most ${max} bytes`);
    return bytes;
  }

  /**
   * The memory of one executor or driver in MiB, rounded up (`flint.executor.memory`, `flint.driver.memory`; a
   * bare number is MiB), from 1 to `LIMITS.memoryMb.max`, as the wire's `memoryMb` fields allow.
   */
  getMemoryMb(key: string, defaultValue: string): number {
    const { min, max } = LIMITS.memoryMb;
    const mb = Math.ceil(this.getSizeBytes(key, defaultValue, 'm', { max: max * 2 ** 20 }) / 2 ** 20);
    if (mb < min) throw new ConfigError(key, `${key}=${JSON.stringify(this.get(key))} is too small; expected at least 1m`);
    return mb;
  }

  #parse(key: string, parse: () => number): number {
    try {
      return parse();
    } catch (err) {
      throw new ConfigError(key, `${key}: ${(err as Error).message}`);
    }
  }

  /** All entries, with secret-looking values replaced, for logs and UIs. */
  redacted(): Array<[string, string]> {
    return [...this.#entries].map(([key, value]) => [key, isSecretKey(key) ? REDACTED : value]);
  }

  /** The keys set, as written (a `spark.*` spelling stays one). */
  keys(): string[] {
    return [...this.#entries.keys()];
  }

  entries(): Array<[string, string]> {
    return [...this.#entries];
  }

  /** All entries but the secret-looking ones: what may be passed on to other processes. */
  withoutSecrets(): Array<[string, string]> {
    return [...this.#entries].filter(([key]) => !isSecretKey(key));
  }

  /**
   * A copy with `flint.authenticate=true` when a secret is given but `flint.authenticate` is not set: how
   * clients (drivers, `flint submit`) read "here is the secret".
   */
  withAuthenticationWhenSecretGiven(): FlintConf {
    const copy = this.clone();
    const given = ['flint.authenticate.secret', 'flint.authenticate.appSecret'].some((key) => copy.has(key) || copy.has(`${key}.file`));
    if (!copy.has('flint.authenticate') && given) {
      copy.set('flint.authenticate', 'true');
    }
    return copy;
  }

  clone(): FlintConf {
    return new FlintConf(this.#entries);
  }
}
