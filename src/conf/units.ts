// Durations and sizes written the way Spark writes them (`60`, `60s`, `500ms`, `2m`, `1g`, `512m`).
// Pure functions: they throw a plain Error with a readable reason, and FlintConf wraps it with the key.

const DURATION_UNITS_MS: Record<string, number> = {
  us: 0.001,
  ms: 1,
  s: 1000,
  m: 60_000,
  min: 60_000,
  h: 3_600_000,
  d: 86_400_000,
};

const SIZE_UNITS_BYTES: Record<string, number> = {
  b: 1,
  k: 1024,
  kb: 1024,
  m: 1024 ** 2,
  mb: 1024 ** 2,
  g: 1024 ** 3,
  gb: 1024 ** 3,
  t: 1024 ** 4,
  tb: 1024 ** 4,
  p: 1024 ** 5,
  pb: 1024 ** 5,
};

export type DurationUnit = 'us' | 'ms' | 's' | 'm' | 'min' | 'h' | 'd';
export type SizeUnit = 'b' | 'k' | 'm' | 'g' | 't' | 'p';

const NUMBER_WITH_UNIT = /^(\d+)\s*([a-z]*)$/;

/** Parses `500ms`, `60s`, `2m`, `1h`, `1d`, or a bare number in `defaultUnit`. Returns milliseconds. */
export function parseDurationMs(text: string, defaultUnit: DurationUnit): number {
  const match = NUMBER_WITH_UNIT.exec(text.trim().toLowerCase());
  const unit = match?.[2] === '' ? defaultUnit : match?.[2];
  const factor = unit === undefined ? undefined : DURATION_UNITS_MS[unit];
  if (!match || factor === undefined) {
    throw new Error(
      `"${text}" is not a duration; expected a whole number with an optional unit ` +
        `(us, ms, s, m, min, h, d), e.g. 500ms or 60s; a bare number is in ${defaultUnit}`,
    );
  }
  return Number(match[1]) * factor;
}

/** Parses `512m`, `1g`, `64k`, `128mb`, or a bare number in `defaultUnit`. Returns bytes. */
export function parseSizeBytes(text: string, defaultUnit: SizeUnit): number {
  const match = NUMBER_WITH_UNIT.exec(text.trim().toLowerCase());
  const unit = match?.[2] === '' ? defaultUnit : match?.[2];
  const factor = unit === undefined ? undefined : SIZE_UNITS_BYTES[unit];
  if (!match || factor === undefined) {
    throw new Error(
      `"${text}" is not a size; expected a whole number with an optional unit ` +
        `(b, k, m, g, t, p), e.g. 512m or 1g; a bare number is in ${defaultUnit === 'b' ? 'bytes' : defaultUnit}`,
    );
  }
  const bytes = Number(match[1]) * factor;
  if (!Number.isSafeInteger(bytes)) throw new Error(`"${text}" is too large a size; expected at most ${Number.MAX_SAFE_INTEGER} bytes (8p)`);
  return bytes;
}
