// How a process exit reads as a number. Java's `Process.waitFor()`, which Spark's runners use, reports a
// process ended by signal N as 128 + N; Node reports the signal's name instead, so it is mapped back here.

import type { ProcessExit } from './worker-input.ts';

const SIGNAL_NUMBERS: Readonly<Record<string, number>> = {
  SIGHUP: 1,
  SIGINT: 2,
  SIGQUIT: 3,
  SIGILL: 4,
  SIGTRAP: 5,
  SIGABRT: 6,
  SIGBUS: 7,
  SIGFPE: 8,
  SIGKILL: 9,
  SIGUSR1: 10,
  SIGSEGV: 11,
  SIGUSR2: 12,
  SIGPIPE: 13,
  SIGALRM: 14,
  SIGTERM: 15,
  SIGXCPU: 24,
  SIGXFSZ: 25,
  SIGPWR: 30,
};

/** The exit code, or 128 + the signal's number; undefined when neither is known. */
export function exitStatusOf(exit: Pick<ProcessExit, 'exitCode' | 'signal'>): number | undefined {
  if (exit.exitCode !== null) return exit.exitCode;
  const n = exit.signal === null ? undefined : SIGNAL_NUMBERS[exit.signal];
  return n === undefined ? undefined : 128 + n;
}

/** "code 3" or "signal SIGKILL (137)", for messages. */
export function describeExit(exit: Pick<ProcessExit, 'exitCode' | 'signal'>): string {
  if (exit.exitCode !== null) return `code ${exit.exitCode}`;
  const status = exitStatusOf(exit);
  return `signal ${exit.signal ?? 'unknown'}${status === undefined ? '' : ` (${status})`}`;
}
