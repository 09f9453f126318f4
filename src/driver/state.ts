// The task scheduler's mutable state, and the small helpers every handler shares. Spark spreads this over
// TaskSchedulerImpl (executors, task ids), TaskSetManager (one per job here: pending, running, failures) and
// CoarseGrainedSchedulerBackend (free cores and addresses). Flint has one task set per job, so the three
// collapse into one state object.

import { TimerBook } from '../kit/timers.ts';
import { createHistoryState, type HistoryState } from './history.ts';
import type { DriverConfig } from './config.ts';
import type { EffectList } from './effects.ts';
import type { DriverTimer, TaskSpec } from './inputs.ts';
import type { MachineContext } from '../kit/context.ts';
import type { AssignedResources } from '../scheduling/resources.ts';
import { releaseTaskResources, type ExecutorAddressBook } from './task-resources.ts';

/** Where one task of a job stands. `fetching`: finished on the executor, the result is on its way. */
export type PartitionState = 'pending' | 'running' | 'fetching' | 'done';

export interface ExecutorRecord {
  readonly executorId: string;
  readonly address: string;
  readonly host: string;
  readonly cores: number;
  /** LaunchedExecutor arrived; before that the executor has no free cores (Spark's `DriverEndpoint`). */
  launched: boolean;
  /** `cores − taskCpus × running.size` once launched, 0 before (negative while prefetched tasks wait). */
  freeCores: number;
  /** Its custom-resource addresses, and which no running task holds (task-resources.ts). */
  readonly addresses: ExecutorAddressBook;
  /** Tasks it can run at once: min(cores / taskCpus, its addresses / each task's amount) (task-resources.ts). */
  readonly slots: number;
  /** Registration or the last ExecutorHeartbeat, whichever is later. */
  lastSeenMs: number;
  /** Ids of the task attempts occupying a core here (not those whose result is being fetched). */
  readonly running: Set<number>;
  /** Broadcast ids whose value this executor has been sent (with an earlier LaunchTask). */
  readonly broadcastsSent: Set<number>;
  /** Its worker is being decommissioned: no offers, and it is stopped once drained (decommission.ts). */
  decommissioning: boolean;
  /**
   * What the application UI calls its removal once drained: 'decommissioned', or the reason dynamic allocation
   * released it (allocation.ts). Undefined until decommissioned.
   */
  removedAs?: string;
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
  /** The executor whose result was stored, per task index. */
  readonly resultExecutors: string[];
  /** The accumulator updates of the attempt whose result was stored, per task index. */
  readonly accumulatorUpdates: Array<Readonly<Record<string, number>> | undefined>;
  /** Never-launched task indices that prefer an executor (TaskSpec.preferredExecutor), by executor, ascending. */
  readonly byExecutor: Map<string, number[]>;
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
  /**
   * The executor's addresses this attempt holds while it runs (`flint.task.resource.*`); undefined: none, or
   * released. Set to undefined rather than deleted: a deleted property turns the object into a slow dictionary.
   */
  resources: AssignedResources | undefined;
  /** The result size accounted for this attempt while its result is fetched. */
  resultBytes: number;
  /** Its accumulator updates (from the FINISHED StatusUpdate), kept while its result is fetched. */
  accumulators?: Readonly<Record<string, number>>;
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
  /** Executors being decommissioned, waiting for their tasks to end (decommission.ts). */
  readonly decommissioning: Set<string>;
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
    decommissioning: new Set(),
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
    resultExecutors: new Array<string>(n).fill(''),
    accumulatorUpdates: new Array<Readonly<Record<string, number>> | undefined>(n).fill(undefined),
    byExecutor: preferences(tasks),
  };
}

function preferences(tasks: readonly TaskSpec[]): Map<string, number[]> {
  const out = new Map<string, number[]>();
  tasks.forEach((task, index) => {
    if (task.preferredExecutor === undefined) return;
    const list = out.get(task.preferredExecutor);
    if (list === undefined) out.set(task.preferredExecutor, [index]);
    else list.push(index);
  });
  return out;
}

export function hasPending(job: JobRecord): boolean {
  if (job.retryQueue.length > 0 || job.nextFresh < job.tasks.length) return true;
  if (job.byExecutor.size === 0) return false;
  for (const list of job.byExecutor.values()) if (list.length > 0) return true;
  return false;
}

export function pendingCount(job: JobRecord): number {
  return job.retryQueue.length + (job.tasks.length - job.nextFresh);
}

/**
 * The next task index to launch on `executorId`: resubmitted ones first (lowest index first), then a fresh one
 * that prefers this executor, then fresh ones in order. A fresh task that prefers another executor still
 * registered (`isRegistered`) waits for it: its cached partition is there (Spark waits `spark.locality.wait`;
 * Flint waits as long as that executor lives, then loseExecutor requeues it).
 */
export function takePending(job: JobRecord, executorId?: string, isRegistered: (id: string) => boolean = () => false): number | undefined {
  for (let retry = job.retryQueue.shift(); retry !== undefined; retry = job.retryQueue.shift()) {
    if (job.states[retry] === 'pending') return retry; // else launched meanwhile by the fresh sequence
  }
  const preferred = executorId === undefined ? undefined : job.byExecutor.get(executorId);
  while (preferred !== undefined && preferred.length > 0) {
    const index = preferred.shift() as number;
    if (job.states[index] === 'pending' && job.attempts[index] === 0) return index;
  }
  while (job.nextFresh < job.tasks.length) {
    const index = job.nextFresh++;
    if (job.attempts[index] !== 0 || job.states[index] !== 'pending') continue;
    const wants = job.tasks[index]?.preferredExecutor;
    if (wants !== undefined && wants !== executorId && isRegistered(wants)) continue; // left in byExecutor
    return index;
  }
  return undefined;
}

/** The fresh tasks that waited for a lost executor go to anyone now (into the retry queue, never attempted). */
export function releasePreferences(job: JobRecord, executorId: string): void {
  const list = job.byExecutor.get(executorId);
  if (list === undefined) return;
  job.byExecutor.delete(executorId);
  for (const index of list) if (job.states[index] === 'pending' && job.attempts[index] === 0) resubmit(job, index);
}

/** Puts a task index back in the queue (Spark's `addPendingTask` after a failure or a lost executor). */
export function resubmit(job: JobRecord, index: number): void {
  job.states[index] = 'pending';
  const queue = job.retryQueue;
  let at = queue.length;
  while (at > 0 && (queue[at - 1] as number) > index) at -= 1;
  queue.splice(at, 0, index);
}

/**
 * Ends an attempt's hold on its executor's cores (`flint.task.cpus`) and addresses. Safe to call for an executor
 * that is already gone, and twice.
 */
export function releaseCore(ctx: Pick<Ctx, 'state' | 'config'>, attempt: TaskAttempt): void {
  const executor = ctx.state.executors.get(attempt.executorId);
  if (executor?.running.delete(attempt.taskId) !== true) return;
  if (executor.launched) executor.freeCores += ctx.config.taskCpus;
  releaseTaskResources(executor.addresses, attempt.resources);
  attempt.resources = undefined;
}

export function sortedIds(ids: Iterable<number>): number[] {
  return [...ids].sort((a, b) => a - b);
}
