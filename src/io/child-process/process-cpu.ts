// How busy a set of processes keeps the machine's CPUs: the CPU time they used between two samples (utime and
// stime of `/proc/<pid>/stat`, in clock ticks of 1/100 s, the kernel's USER_HZ on every Linux architecture) over
// the wall time between them. The standby launcher asks it whether the worker's executors and drivers leave a
// core free before it starts a standby (docs/standby-executors.md, "Lifecycle").

import { readFileSync } from 'node:fs';

/** Linux reports process times in these units per second (USER_HZ, fixed by the kernel's ABI). */
const TICKS_PER_SECOND = 100;

export class ProcessCpu {
  /** Ticks each process had used at the last sample. */
  #ticks = new Map<number, number>();
  #at: number;
  readonly #now: () => number;
  readonly #read: (pid: number) => number | undefined;

  constructor(opts: { now?: () => number; readTicks?: (pid: number) => number | undefined } = {}) {
    this.#now = opts.now ?? (() => performance.now());
    this.#read = opts.readTicks ?? readProcTicks;
    this.#at = this.#now();
  }

  /**
   * The cores `pids` kept busy on average since the last sample (or since this was made): 1.5 is one core and a
   * half. A process the last sample did not see counts all the CPU time it has used (it started since). Processes
   * that cannot be read (gone, or no /proc) count nothing.
   */
  sample(pids: readonly number[]): number {
    const now = this.#now();
    const seconds = (now - this.#at) / 1000;
    const ticks = new Map<number, number>();
    let used = 0;
    for (const pid of pids) {
      const total = this.#read(pid);
      if (total === undefined) continue;
      ticks.set(pid, total);
      used += total - (this.#ticks.get(pid) ?? 0);
    }
    this.#ticks = ticks;
    this.#at = now;
    return seconds <= 0 ? 0 : used / TICKS_PER_SECOND / seconds;
  }
}

/** utime + stime of a process in clock ticks, or undefined when it cannot be read. */
export function readProcTicks(pid: number): number | undefined {
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
  } catch {
    return undefined;
  }
  const times = procStatTimes(stat);
  return times === undefined ? undefined : times.utime + times.stime;
}

/** The user and system CPU time (clock ticks) in the text of a `/proc/<pid>/stat`, or undefined when malformed. */
export function procStatTimes(stat: string): { readonly utime: number; readonly stime: number } | undefined {
  // `pid (comm) state ppid …`: comm may hold spaces and parentheses, so the fields start after the last ')';
  // utime and stime are fields 14 and 15 of proc(5), fields[0] being field 3 (state).
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const utime = Number(fields[11]);
  const stime = Number(fields[12]);
  return Number.isFinite(utime) && Number.isFinite(stime) ? { utime, stime } : undefined;
}
