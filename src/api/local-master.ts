// Local mode's master URLs, as Spark's SparkContext.createTaskScheduler reads them: `local` (one task thread),
// `local[N]`, `local[*]` (a thread per core the process may use) and `local[N,F]` / `local[*,F]` (a task may fail F
// times). Without F a failed task fails its job at once: Spark's MAX_LOCAL_TASK_FAILURES is 1, so that a test
// sees its first failure instead of four. docs/local-mode.md.

import { availableParallelism } from 'node:os';
import { ConfigError } from '../errors.ts';
import { LIMITS } from '../protocol/limits.ts';

export interface LocalMaster {
  /** Task threads of the one executor, which is this process. */
  readonly threads: number;
  /** Attempts of a task before its job fails (`flint.task.maxFailures`). */
  readonly maxFailures: number;
}

/** Spark's MAX_LOCAL_TASK_FAILURES. */
const LOCAL_TASK_FAILURES = 1;
const LOCAL_URL = /^local(?:\[\s*(\*|\d+)\s*(?:,\s*(\d+)\s*)?\])?$/;

/** Whether `master` asks for local mode (it starts with `local`, well formed or not). */
export function isLocalMaster(master: string): boolean {
  return /^local(?:\[|$)/.test(master.trim());
}

/** The threads and task attempts of a local master URL; a malformed one is a ConfigError naming the forms. */
export function parseLocalMaster(master: string): LocalMaster {
  const match = LOCAL_URL.exec(master.trim());
  const expected = 'expected local, local[N], local[*], local[N,F] or local[*,F], with N threads and F task attempts of at least 1';
  if (match === null) throw new ConfigError('flint.master', `${JSON.stringify(master)} is not a local master URL: ${expected}`);
  const [, threadsText, failuresText] = match;
  const threads = threadsText === undefined ? 1 : threadsText === '*' ? availableParallelism() : Number(threadsText);
  const maxFailures = failuresText === undefined ? LOCAL_TASK_FAILURES : Number(failuresText);
  if (!Number.isSafeInteger(threads) || threads < 1 || threads > LIMITS.cores.max) {
    throw new ConfigError('flint.master', `${JSON.stringify(master)} asks for ${threadsText} threads: ${expected}, N at most ${LIMITS.cores.max}`);
  }
  if (!Number.isSafeInteger(maxFailures) || maxFailures < 1 || maxFailures > LIMITS.count.max) {
    throw new ConfigError('flint.master', `${JSON.stringify(master)} allows ${failuresText} task attempts: ${expected}`);
  }
  return { threads, maxFailures };
}
