// Calendar dates from epoch milliseconds, in UTC, without `Date` (core code takes time as a number, STYLE.md
// §6). Every id and UI date in Flint is formatted here, in UTC, so that every node formats an instant alike
// (Spark uses the JVM's local time zone).

const MS_PER_DAY = 86_400_000;

export interface CivilTime {
  readonly year: number;
  readonly month: number;
  readonly day: number;
  /** 0 = Sunday. */
  readonly weekday: number;
  readonly hour: number;
  readonly minute: number;
  readonly second: number;
}

/** The UTC calendar date and time of `epochMs` (Howard Hinnant's `civil_from_days`). */
export function civilTimeUtc(epochMs: number): CivilTime {
  if (!Number.isFinite(epochMs)) throw new RangeError(`not a time: ${epochMs}`);
  const days = Math.floor(epochMs / MS_PER_DAY);
  const seconds = Math.floor((epochMs - days * MS_PER_DAY) / 1000);
  const z = days + 719_468;
  const era = Math.floor(z / 146_097);
  const doe = z - era * 146_097;
  const yoe = Math.floor((doe - Math.floor(doe / 1460) + Math.floor(doe / 36_524) - Math.floor(doe / 146_096)) / 365);
  const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100));
  const mp = Math.floor((5 * doy + 2) / 153);
  const month = mp < 10 ? mp + 3 : mp - 9;
  return {
    year: yoe + era * 400 + (month <= 2 ? 1 : 0),
    month,
    day: doy - Math.floor((153 * mp + 2) / 5) + 1,
    // 1970-01-01 was a Thursday.
    weekday: (((days + 4) % 7) + 7) % 7,
    hour: Math.floor(seconds / 3600),
    minute: Math.floor((seconds % 3600) / 60),
    second: seconds % 60,
  };
}

export const pad = (value: number, width: number): string => String(value).padStart(width, '0');

/** `yyyyMMddHHmmss` in UTC, as used by every Flint id. */
export function formatIdTimestamp(epochMs: number): string {
  const t = civilTimeUtc(epochMs);
  return `${pad(t.year, 4)}${pad(t.month, 2)}${pad(t.day, 2)}${pad(t.hour, 2)}${pad(t.minute, 2)}${pad(t.second, 2)}`;
}
