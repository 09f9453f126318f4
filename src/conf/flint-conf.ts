// FlintConf: the key/value configuration every daemon and app reads (Spark's SparkConf).
//
// Keys are written `flint.*`. Spark's `spark.*` spelling of the same key is accepted too, so an operator's
// existing spark-defaults.conf keeps working; when both are set, the `flint.*` one wins.
// Typed getters throw ConfigError naming the key, the value and what is expected.

import { ConfigError } from '../errors.ts';
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

  getInt(key: string, defaultValue: number, { min = Number.MIN_SAFE_INTEGER } = {}): number {
    const raw = this.get(key);
    if (raw === undefined) return defaultValue;
    const text = raw.trim();
    const value = Number(text);
    if (!/^-?\d+$/.test(text) || !Number.isSafeInteger(value)) {
      throw new ConfigError(key, `${key}=${JSON.stringify(raw)} is not a whole number`);
    }
    if (value < min) throw new ConfigError(key, `${key}=${value} is too small; expected at least ${min}`);
    return value;
  }

  /** A duration in milliseconds. A bare number is read in `defaultUnit`, as Spark does for each key. */
  getDurationMs(key: string, defaultValue: string, defaultUnit: DurationUnit): number {
    const raw = this.get(key) ?? defaultValue;
    try {
      return parseDurationMs(raw, defaultUnit);
    } catch (err) {
      throw new ConfigError(key, `${key}: ${(err as Error).message}`);
    }
  }

  /** A size in bytes. A bare number is read in `defaultUnit`, as Spark does for each key. */
  getSizeBytes(key: string, defaultValue: string, defaultUnit: SizeUnit): number {
    const raw = this.get(key) ?? defaultValue;
    try {
      return parseSizeBytes(raw, defaultUnit);
    } catch (err) {
      throw new ConfigError(key, `${key}: ${(err as Error).message}`);
    }
  }

  /** All entries, with secret-looking values replaced, for logs and UIs. */
  redacted(): Array<[string, string]> {
    return [...this.#entries].map(([key, value]) => [key, isSecretKey(key) ? REDACTED : value]);
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
