// What the fuzzer measures on the daemons: is the process alive, its RSS (VmRSS of /proc/<pid>/status), and
// how long its web UI's /json takes to answer.

import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';

/** The process's resident set in MiB, or undefined when it is gone (or a zombie). */
export function rssMb(pid: number): number | undefined {
  let status: string;
  try {
    status = readFileSync(`/proc/${pid}/status`, 'utf8');
  } catch {
    return undefined;
  }
  if (/^State:\s+Z/m.test(status)) return undefined;
  const kb = /^VmRSS:\s+(\d+) kB/m.exec(status)?.[1];
  return kb === undefined ? 0 : Number(kb) / 1024;
}

export function isAlive(pid: number): boolean {
  return rssMb(pid) !== undefined;
}

/**
 * GET http://127.0.0.1:<port>/json, with the cluster's UI token when it has one (the web UIs need it: docs/ui.md):
 * the body and the time it took; throws after `timeoutMs`.
 */
export async function timedJson<T>(port: number, timeoutMs: number, uiToken?: string): Promise<{ json: T; ms: number }> {
  const start = performance.now();
  const headers: Record<string, string> = uiToken === undefined ? {} : { authorization: `Bearer ${uiToken}` };
  const res = await fetch(`http://127.0.0.1:${port}/json`, { headers, signal: AbortSignal.timeout(timeoutMs) });
  if (res.status !== 200) throw new Error(`GET /json on port ${port} answered ${res.status}`);
  const json = (await res.json()) as T;
  return { json, ms: performance.now() - start };
}

/** `promise`, or 'timeout' after `ms`. */
export async function within<T>(promise: Promise<T>, ms: number): Promise<T | 'timeout'> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([promise, new Promise<'timeout'>((resolve) => (timer = setTimeout(() => resolve('timeout'), ms)))]);
  } finally {
    clearTimeout(timer);
  }
}

/** The CPU model line of /proc/cpuinfo. */
export function cpuModel(): string {
  try {
    return /^model name\s*:\s*(.+)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'))?.[1]?.trim() ?? 'unknown';
  } catch {
    return 'unknown';
  }
}

/**
 * A CPU calibration figure: milliseconds to SHA-256 64 MiB in this process. Figures from machines (or
 * moments: the machine may be shared) are comparable in proportion to it.
 */
export function calibrationMs(): number {
  const block = Buffer.alloc(1024 * 1024, 7);
  const start = performance.now();
  const hash = createHash('sha256');
  for (let i = 0; i < 64; i++) hash.update(block);
  hash.digest();
  return performance.now() - start;
}

/** CPU time (user + system) the process `pid` has used so far, in ms (from /proc/<pid>/stat). */
export function cpuMs(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // After the command: state is field 3, so utime (14) and stime (15) are at 11 and 12 here.
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / CLOCK_TICKS_PER_S;
  } catch {
    return undefined;
  }
}

/** USER_HZ: 100 on every Linux this runs on (getconf CLK_TCK). */
const CLOCK_TICKS_PER_S = 100;
