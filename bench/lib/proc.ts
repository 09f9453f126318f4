// Reading another process's CPU time and memory from Linux's /proc, for the benchmarks.

import { STANDBY_FLAG } from '../../src/io/child-process/adoption-line.ts';
import { procStatTimes } from '../../src/io/child-process/process-cpu.ts';
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';

/** Clock ticks per second (`getconf CLK_TCK`): the unit of utime/stime in /proc/<pid>/stat. */
export function clockTicksPerSecond(): number {
  try {
    const n = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim());
    if (Number.isInteger(n) && n > 0) return n;
  } catch {
    // getconf missing: Linux's USER_HZ is 100 everywhere that matters
  }
  return 100;
}

/** A process's CPU time so far (user + system), in clock ticks, with the moment it was read. */
export interface CpuSample {
  readonly ticks: number;
  /** The system (kernel) part of `ticks`. */
  readonly systemTicks: number;
  readonly atMs: number;
}

export function cpuSample(pid: number): CpuSample {
  const times = procStatTimes(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  if (times === undefined) throw new Error(`cannot read the CPU time of process ${pid}`);
  return { ticks: times.utime + times.stime, systemTicks: times.stime, atMs: performance.now() };
}

/** CPU % of one core between two samples (100 = one core busy the whole time); `system`: the kernel part only. */
export function cpuPercent(from: CpuSample, to: CpuSample, ticksPerSecond: number, part: 'all' | 'system' = 'all'): number {
  const ticks = part === 'all' ? to.ticks - from.ticks : to.systemTicks - from.systemTicks;
  const cpuMs = (ticks * 1000) / ticksPerSecond;
  return (100 * cpuMs) / (to.atMs - from.atMs);
}

/** A process's read and write system calls so far (`syscr`, `syscw` of /proc/<pid>/io: every thread's, sockets and files alike). */
export interface IoSample {
  readonly reads: number;
  readonly writes: number;
}

export function ioSample(pid: number | 'self'): IoSample {
  const io = readFileSync(`/proc/${pid}/io`, 'utf8');
  const count = (key: string): number => {
    const match = new RegExp(`^${key}: (\\d+)$`, 'm').exec(io);
    if (!match) throw new Error(`no ${key} in /proc/${pid}/io`);
    return Number(match[1]);
  };
  return { reads: count('syscr'), writes: count('syscw') };
}

export interface MemorySample {
  /** Resident set size now, in MiB (VmRSS). */
  readonly rssMb: number;
  /** Peak resident set size so far, in MiB (VmHWM). */
  readonly peakRssMb: number;
}

export function memorySample(pid: number): MemorySample {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (key: string): number => {
    const match = new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(status);
    if (!match) throw new Error(`no ${key} in /proc/${pid}/status`);
    return Number(match[1]);
  };
  return { rssMb: kb('VmRSS') / 1024, peakRssMb: kb('VmHWM') / 1024 };
}

/** This process's open-file limits (children inherit them), from /proc/self/limits. */
export function openFileLimits(): { soft: number; hard: number } {
  const match = /^Max open files\s+(\S+)\s+(\S+)/m.exec(readFileSync('/proc/self/limits', 'utf8'));
  const read = (v: string | undefined): number => (v === undefined || v === 'unlimited' ? Number.POSITIVE_INFINITY : Number(v));
  return { soft: read(match?.[1]), hard: read(match?.[2]) };
}

/** TCP counters of this network namespace that show a listen queue overflowing (from /proc/net/netstat). */
export interface TcpOverflowCounters {
  readonly listenOverflows: number;
  readonly listenDrops: number;
  readonly synRetransmits: number;
}

export function tcpOverflowCounters(): TcpOverflowCounters | undefined {
  try {
    const lines = readFileSync('/proc/net/netstat', 'utf8').split('\n').filter((l) => l.startsWith('TcpExt:'));
    const names = (lines[0] ?? '').split(/\s+/);
    const values = (lines[1] ?? '').split(/\s+/).map(Number);
    const get = (name: string): number => {
      const at = names.indexOf(name);
      if (at < 0 || !Number.isFinite(values[at])) throw new Error(`no ${name}`);
      return values[at] as number;
    };
    return { listenOverflows: get('ListenOverflows'), listenDrops: get('ListenDrops'), synRetransmits: get('TCPSynRetrans') };
  } catch {
    return undefined;
  }
}

/** The pids of `parentPid`'s direct children, from the parent field of every /proc/<pid>/stat. */
export function childPids(parentPid: number): number[] {
  const children: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    let stat: string;
    try {
      stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
    } catch {
      continue; // it exited meanwhile
    }
    // Field 4 (ppid) is the second after the command name's closing parenthesis.
    const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
    if (ppid === parentPid) children.push(Number(entry));
  }
  return children;
}

/**
 * The executor processes of the worker `workerPid`: its children but the standby executors still waiting to be
 * adopted (docs/standby-executors.md), whose command line ends in `--standby`; an adopted one renames itself
 * (process.title) `flint-executor <appId>/<execId>`.
 */
export function executorPids(workerPid: number): number[] {
  return childPids(workerPid).filter((pid) => {
    try {
      return !readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').includes(STANDBY_FLAG);
    } catch {
      return false; // it exited meanwhile
    }
  });
}
