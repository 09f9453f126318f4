// The task scheduler's mutable state, and the small helpers every handler shares. Spark spreads this over
// TaskSchedulerImpl (executors, task ids), TaskSetManager (one per job here: pending, running, failures) and
// CoarseGrainedSchedulerBackend (free cores). Flint has one task set per job and one core per task
// (`flint.task.cpus` = 1), so the three collapse into one state object.

import { TimerBook } from '../kit/timers.ts';
import { createHistoryState, type HistoryState } from './history.ts';
import type { DriverConfig } from './config.ts';
import type { EffectList } from './effects.ts';
import type { DriverTimer, TaskSpec } from './inputs.ts';
import type { MachineContext } from '../kit/context.ts';

/** Where one task of a job stands. `fetching`: finished on the executor, the result is on its way. */
export type PartitionState = 'pending' | 'running' | 'fetching' | 'done';

export interface ExecutorRecord {
  readonly executorId: string;
  readonly address: string;
  readonly host: string;
  readonly cores: number;
  /** LaunchedExecutor arrived; before that the executor has no free cores (Spark's `DriverEndpoint`). */
  launched: boolean;
  /** `cores − running.size` once launched, 0 before. */
  freeCores: number;
  /** Registration or the last ExecutorHeartbeat, whichever is later. */
  lastSeenMs: number;
  /** Ids of the task attempts occupying a core here (not those whose result is being fetched). */
  readonly running: Set<number>;
}

export interface JobRecord {
  readonly jobId: number;
  readonly tasks: readonly TaskSpec[];
  /** False once the job succeeded or failed. Its attempts still running are then zombies (Spark's isZombie). */
  active: boolean;
  /** Per task index. */
  readonly states: PartitionState[];
  readonly results: Array<Uint8Array | undefined>;
  /** Failures that count toward `maxFailures`, per task index (Spark's `numFailures`). */
  readonly failures: number[];
  /** Attempts launched so far, per task index: the next attempt's number. */
  readonly attempts: number[];
  /** Resubmitted task indices, ascending. They go before never-launched ones. */
  readonly retryQueue: number[];
  /** Indices from here to the end have never been launched. */
  nextFresh: number;
  done: number;
  /** Live attempts: running on an executor or having their result fetched. */
  readonly live: Set<number>;
  /** Sum of the serialized result sizes accepted so far (Spark's `totalResultSize`), and how many. */
  resultBytes: number;
  resultCount: number;
  /** The last Progress emitted, to emit only on change. */
  lastProgress: { readonly done: number; readonly running: number } | undefined;
  /** Run times (from the executors' metrics) of the attempts that finished: the prefetch gate. */
  runTimeMsSum: number;
  runTimeCount: number;
}

export interface TaskAttempt {
  readonly taskId: number;
  readonly job: JobRecord;
  readonly index: number;
  readonly attempt: number;
  readonly executorId: string;
  phase: 'running' | 'fetching';
  /** The result size accounted for this attempt while its result is fetched. */
  resultBytes: number;
}

export interface SchedulerState {
  readonly executors: Map<string, ExecutorRecord>;
  /** Executor ids in `compareExecutorIds` order: the offer order. */
  executorOrder: string[];
  /** Unfinished jobs, in submission order (FIFO scheduling). */
  readonly jobs: Map<number, JobRecord>;
  /** Every attempt the scheduler still tracks: live ones and zombies of finished jobs. */
  readonly tasks: Map<number, TaskAttempt>;
  nextTaskId: number;
  /** The armed timers (src/kit/timers.ts), keyed by name. */
  readonly timers: TimerBook<DriverTimer>;
  stopped: boolean;
  jobsSucceeded: number;
  jobsFailed: number;
  /** What the application UI shows of past and present jobs, tasks and executors, bounded (history.ts). */
  readonly history: HistoryState;
}

/** What a handler works with during one `handle` call. */
export type Ctx = MachineContext<SchedulerState, DriverConfig, EffectList>;

export function createSchedulerState(): SchedulerState {
  return {
    executors: new Map(),
    executorOrder: [],
    jobs: new Map(),
    tasks: new Map(),
    nextTaskId: 0,
    timers: new TimerBook(),
    stopped: false,
    jobsSucceeded: 0,
    jobsFailed: 0,
    history: createHistoryState(),
  };
}

const DIGITS = /^\d+$/;

/**
 * The deterministic tie-break between executors (STYLE.md §4, as Spark 4 sorts workers by id). Executor ids
 * are decimal numbers in standalone mode and sort numerically (`2` before `10`); any other ids sort after
 * them, by code unit.
 */
export function compareExecutorIds(a: string, b: string): number {
  const aNum = DIGITS.test(a);
  const bNum = DIGITS.test(b);
  if (aNum && bNum) {
    const x = a.replace(/^0+(?=\d)/, '');
    const y = b.replace(/^0+(?=\d)/, '');
    if (x.length !== y.length) return x.length - y.length;
  } else if (aNum !== bNum) {
    return aNum ? -1 : 1;
  }
  return a < b ? -1 : a > b ? 1 : 0;
}

export function createJob(jobId: number, tasks: readonly TaskSpec[]): JobRecord {
  const n = tasks.length;
  return {
    jobId,
    tasks,
    active: true,
    states: new Array<PartitionState>(n).fill('pending'),
    results: new Array<Uint8Array | undefined>(n).fill(undefined),
    failures: new Array<number>(n).fill(0),
    attempts: new Array<number>(n).fill(0),
    retryQueue: [],
    nextFresh: 0,
    done: 0,
    live: new Set(),
    resultBytes: 0,
    resultCount: 0,
    lastProgress: undefined,
    runTimeMsSum: 0,
    runTimeCount: 0,
  };
}

export function hasPending(job: JobRecord): boolean {
  return job.retryQueue.length > 0 || job.nextFresh < job.tasks.length;
}

export function pendingCount(job: JobRecord): number {
  return job.retryQueue.length + (job.tasks.length - job.nextFresh);
}

/** The next task index to launch: resubmitted ones first (lowest index first), then fresh ones in order. */
export function takePending(job: JobRecord): number | undefined {
  const retry = job.retryQueue.shift();
  if (retry !== undefined) return retry;
  if (job.nextFresh < job.tasks.length) return job.nextFresh++;
  return undefined;
}

/** Puts a task index back in the queue (Spark's `addPendingTask` after a failure or a lost executor). */
export function resubmit(job: JobRecord, index: number): void {
  job.states[index] = 'pending';
  const queue = job.retryQueue;
  let at = queue.length;
  while (at > 0 && (queue[at - 1] as number) > index) at -= 1;
  queue.splice(at, 0, index);
}

/** Ends an attempt's hold on its executor's core. Safe to call for an executor that is already gone. */
export function releaseCore(state: SchedulerState, attempt: TaskAttempt): void {
  const executor = state.executors.get(attempt.executorId);
  if (executor?.running.delete(attempt.taskId) === true && executor.launched) executor.freeCores += 1;
}

export function sortedIds(ids: Iterable<number>): number[] {
  return [...ids].sort((a, b) => a - b);
}
