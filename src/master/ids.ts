// Application and driver ids (reference §4.2), and the date strings the UI's `/json` shows (§11.3), made from
// the `now` the machine is handed. Core code has no `Date` (STYLE.md §6), so the civil date is computed here,
// in UTC, so that every node formats an instant the same way (Spark uses the JVM's local time zone).

import { civilTimeUtc, formatIdTimestamp, pad } from '../util/civil-time.ts';

const WEEKDAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'] as const;
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'] as const;

export { formatIdTimestamp };

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
