// Time for the hosts of the machines (STYLE.md §6, after TigerBeetle's `src/time.zig`). A machine itself never
// reads a clock: time comes with each input (`handle(input, now)`). Its host reads this port: `SystemClock`
// (src/runtime/system.ts) in the daemons, `SimClock` in the simulator.

export interface Clock {
  /** Wall-clock time in epoch milliseconds: what ids, dates and `/json` show. It may jump (NTP, skew). */
  now(): number;
  /** Milliseconds from an arbitrary origin that never goes back: what durations and timeouts are measured on. */
  monotonic(): number;
}
