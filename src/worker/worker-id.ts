// Worker ids (reference §4.2, §6.1): `worker-<yyyyMMddHHmmss>-<host>-<port>`, made from a time the caller
// passes in. Core code has no `Date` (STYLE.md §6), so the civil date is computed here, in UTC: every node of
// a cluster then formats the same instant the same way. Spark formats in the JVM's local time zone.

import { formatIdTimestamp } from '../util/civil-time.ts';

export { civilTimeUtc, formatIdTimestamp, type CivilTime } from '../util/civil-time.ts';

/** Spark's `worker-%s-%s-%d` (`spark.worker.idPattern`). */
export function generateWorkerId(epochMs: number, host: string, port: number): string {
  return `worker-${formatIdTimestamp(epochMs)}-${host}-${port}`;
}
