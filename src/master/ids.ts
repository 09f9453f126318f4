// Application and driver ids (reference §4.2), and the date strings the UI's `/json` shows (§11.3), made from
// the `now` the machine is handed. Core code has no `Date` (STYLE.md §6), so the civil date is computed here,
// in UTC, so that every node formats an instant the same way (Spark uses the JVM's local time zone).

const MS_PER_DAY = 86_400_000;
const WEEKDAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'] as const;
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'] as const;

interface CivilTime {
  readonly year: number;
  readonly month: number;
  readonly day: number;
  readonly weekday: number;
  readonly hour: number;
  readonly minute: number;
  readonly second: number;
}

/** The UTC calendar date and time of `epochMs` (Howard Hinnant's `civil_from_days`). */
function civilTimeUtc(epochMs: number): CivilTime {
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

const pad = (value: number, width: number): string => String(value).padStart(width, '0');

/** `yyyyMMddHHmmss` in UTC. */
export function formatIdTimestamp(epochMs: number): string {
  const t = civilTimeUtc(epochMs);
  return `${pad(t.year, 4)}${pad(t.month, 2)}${pad(t.day, 2)}${pad(t.hour, 2)}${pad(t.minute, 2)}${pad(t.second, 2)}`;
}

/** Spark's `app-%s-%04d`: the number is zero-padded to 4 digits and simply grows past 9999. */
export function formatApplicationId(epochMs: number, n: number): string {
  return `app-${formatIdTimestamp(epochMs)}-${pad(n, 4)}`;
}

/** Spark's `driver-%s-%04d`. */
export function formatDriverId(epochMs: number, n: number): string {
  return `driver-${formatIdTimestamp(epochMs)}-${pad(n, 4)}`;
}

/** Java's `Date.toString` in UTC, as `/json` shows `submitdate`: `Fri Jan 02 10:17:36 UTC 1970`. */
export function formatJavaDate(epochMs: number): string {
  const t = civilTimeUtc(epochMs);
  const weekday = WEEKDAYS[t.weekday] ?? '???';
  const month = MONTHS[t.month - 1] ?? '???';
  const time = `${pad(t.hour, 2)}:${pad(t.minute, 2)}:${pad(t.second, 2)}`;
  return `${weekday} ${month} ${pad(t.day, 2)} ${time} UTC ${t.year}`;
}
