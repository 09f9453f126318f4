// What the application UI shows beyond the scheduler's live state: every job with its description, times and
// outcome, every task attempt with its executor, duration and error, every executor with its task counts, and
// the executors that are gone. Spark keeps this in `AppStatusListener` (fed by the listener bus) and its
// `ElementTrackingStore`, which drops the oldest finished jobs, stages and tasks past `spark.ui.retainedJobs`,
// `spark.ui.retainedTasks` and `spark.ui.retainedDeadExecutors`. Here the scheduler records it itself as it
// handles inputs, with the same bounds (`flint.ui.retained*`, config.ts), so the driver's memory stays bounded
// however long the application runs. Running jobs, running tasks and live executors are never dropped.

import type { JobError } from './effects.ts';
import type { Ctx, TaskAttempt } from './state.ts';
import { AttemptTable } from './attempt-table.ts';

/** A task attempt's state, in Spark's UI words (`TaskState` plus `GET RESULT` while its result is fetched). */
export type TaskRunState = 'RUNNING' | 'GET RESULT' | 'SUCCESS' | 'FAILED' | 'KILLED' | 'LOST';
export type JobRunState = 'RUNNING' | 'SUCCEEDED' | 'FAILED';

/** Which attempt of which task: what the live view (snapshot.ts TaskSnapshot) and the history share. */
export interface TaskAttemptIdentity {
  readonly taskId: number;
  readonly jobId: number;
  readonly index: number;
  readonly partition: number;
  readonly attempt: number;
  readonly executorId: string;
}

export interface TaskHistory extends TaskAttemptIdentity {
  state: TaskRunState;
  readonly launchedMs: number;
  endedMs: number | undefined;
  /** Why it failed, was killed or lost: `Name: message`. */
  error: string | undefined;
}

export interface JobHistory {
  readonly jobId: number;
  readonly description: string;
  readonly submittedMs: number;
  readonly tasks: number;
  state: JobRunState;
  endedMs: number | undefined;
  /** The failure's summary (why the job failed), as the driver logs it. */
  error: string | undefined;
  /** Every attempt's task id, in launch order: the job page's rows (those still retained). */
  readonly taskIds: number[];
}

export interface ExecutorHistory {
  readonly executorId: string;
  readonly address: string;
  readonly host: string;
  readonly cores: number;
  readonly logUrls: Readonly<Record<string, string>>;
  readonly addedMs: number;
  removedMs: number | undefined;
  removedReason: string | undefined;
  /** Registration or the last heartbeat. */
  lastHeartbeatMs: number;
  completedTasks: number;
  failedTasks: number;
  /** Summed durations (launch to end) of the attempts that ended here. */
  totalTaskTimeMs: number;
}

export interface HistoryState {
  /** Every retained job, in submission order. */
  readonly jobs: Map<number, JobHistory>;
  /** Ended jobs' ids, oldest end first: the order they are dropped in. */
  readonly endedJobs: Set<number>;
  /** Every retained attempt, running or ended (attempt-table.ts). */
  readonly tasks: AttemptTable;
  /**
   * Ended attempts' ids, oldest end first: the order they are dropped in. An id whose record went with its job
   * stays here until it comes up and is skipped (task ids are never reused). A queue, not a Set: taking the
   * first of a Set that has had many deletions walks over them, once per ended task.
   */
  readonly endedTasks: IdQueue;
  /** Ended attempts retained. */
  endedTaskCount: number;
  /** Every retained executor, in registration order. */
  readonly executors: Map<string, ExecutorHistory>;
  /** Removed executors' ids, oldest removal first. */
  readonly deadExecutors: Set<string>;
}

export function createHistoryState(): HistoryState {
  return { jobs: new Map(), endedJobs: new Set(), tasks: new AttemptTable(), endedTasks: new IdQueue(), endedTaskCount: 0, executors: new Map(), deadExecutors: new Set() };
}

export function errorText(error: JobError): string {
  return `${error.name}: ${error.message}`;
}

export function recordJobSubmitted(ctx: Ctx, jobId: number, tasks: number, description: string): void {
  const { history } = ctx.state;
  history.jobs.set(jobId, { jobId, description, submittedMs: ctx.now, tasks, state: 'RUNNING', endedMs: undefined, error: undefined, taskIds: [] });
}

export function recordJobEnded(ctx: Ctx, jobId: number, state: 'SUCCEEDED' | 'FAILED', error?: string): void {
  const { history } = ctx.state;
  const job = history.jobs.get(jobId);
  if (job === undefined || job.state !== 'RUNNING') return;
  job.state = state;
  job.endedMs = ctx.now;
  job.error = error;
  history.endedJobs.add(jobId);
  while (history.endedJobs.size > ctx.config.retainedJobs) dropJob(ctx, first(history.endedJobs));
}

/** A job id may be reused once its job has ended: the new job replaces the old one's record. */
export function forgetJobRecord(ctx: Ctx, jobId: number): void {
  if (ctx.state.history.jobs.has(jobId)) dropJob(ctx, jobId);
}

function dropJob(ctx: Ctx, jobId: number): void {
  const { history } = ctx.state;
  const job = history.jobs.get(jobId);
  history.jobs.delete(jobId);
  history.endedJobs.delete(jobId);
  for (const taskId of job?.taskIds ?? []) {
    if (!isEnded(history.tasks.stateOf(taskId))) continue; // a zombie still running stays until it ends
    history.tasks.delete(taskId);
    history.endedTaskCount -= 1;
  }
}

export function recordTaskLaunched(ctx: Ctx, attempt: TaskAttempt, partition: number): void {
  const { history } = ctx.state;
  history.tasks.add({
    taskId: attempt.taskId,
    jobId: attempt.job.jobId,
    index: attempt.index,
    partition,
    attempt: attempt.attempt,
    executorId: attempt.executorId,
    launchedMs: ctx.now,
  });
  history.jobs.get(attempt.job.jobId)?.taskIds.push(attempt.taskId);
}

export function recordTaskFetching(ctx: Ctx, taskId: number): void {
  const { tasks } = ctx.state.history;
  if (tasks.stateOf(taskId) === 'RUNNING') tasks.setState(taskId, 'GET RESULT');
}

/** The attempt ended. Only the first end counts; later reports of the same attempt change nothing. */
export function recordTaskEnded(ctx: Ctx, taskId: number, state: 'SUCCESS' | 'FAILED' | 'KILLED' | 'LOST', error?: string): void {
  const { history } = ctx.state;
  const was = history.tasks.stateOf(taskId);
  if (was !== 'RUNNING' && was !== 'GET RESULT') return;
  history.tasks.setState(taskId, state, ctx.now, error);
  const task = history.tasks.launchOf(taskId) as NonNullable<ReturnType<AttemptTable['launchOf']>>;
  const executor = history.executors.get(task.executorId);
  if (executor !== undefined) {
    if (state === 'SUCCESS') executor.completedTasks += 1;
    else executor.failedTasks += 1;
    executor.totalTaskTimeMs += ctx.now - task.launchedMs;
  }
  if (!history.jobs.has(task.jobId)) {
    // Its job's record is gone: the attempt was a zombie, kept only while it ran.
    history.tasks.delete(taskId);
    return;
  }
  history.endedTasks.push(taskId);
  history.endedTaskCount += 1;
  while (history.endedTaskCount > ctx.config.retainedTasks) {
    const oldest = history.endedTasks.shift();
    if (oldest === undefined) break;
    if (!isEnded(history.tasks.stateOf(oldest))) continue; // gone with its job already
    history.tasks.delete(oldest);
    history.endedTaskCount -= 1;
  }
}

function isEnded(state: TaskRunState | undefined): boolean {
  return state !== undefined && state !== 'RUNNING' && state !== 'GET RESULT';
}

/** A first-in first-out queue of ids; its array is compacted once half of it has been taken. */
export class IdQueue {
  #items: number[] = [];
  #head = 0;

  push(id: number): void {
    this.#items.push(id);
  }

  shift(): number | undefined {
    if (this.#head >= this.#items.length) return undefined;
    const id = this.#items[this.#head] as number;
    this.#head += 1;
    if (this.#head >= 1024 && this.#head * 2 >= this.#items.length) {
      this.#items = this.#items.slice(this.#head);
      this.#head = 0;
    }
    return id;
  }
}

export function recordExecutorAdded(ctx: Ctx, e: { executorId: string; address: string; host: string; cores: number; logUrls: Readonly<Record<string, string>> }): void {
  const { history } = ctx.state;
  history.deadExecutors.delete(e.executorId);
  history.executors.delete(e.executorId); // re-registered after removal: it starts a new record
  history.executors.set(e.executorId, {
    ...e,
    logUrls: { ...e.logUrls },
    addedMs: ctx.now,
    removedMs: undefined,
    removedReason: undefined,
    lastHeartbeatMs: ctx.now,
    completedTasks: 0,
    failedTasks: 0,
    totalTaskTimeMs: 0,
  });
}

export function recordHeartbeat(ctx: Ctx, executorId: string): void {
  const executor = ctx.state.history.executors.get(executorId);
  if (executor !== undefined && executor.removedMs === undefined) executor.lastHeartbeatMs = Math.max(executor.lastHeartbeatMs, ctx.now);
}

export function recordExecutorRemoved(ctx: Ctx, executorId: string, reason: string): void {
  const { history } = ctx.state;
  const executor = history.executors.get(executorId);
  if (executor === undefined || executor.removedMs !== undefined) return;
  executor.removedMs = ctx.now;
  executor.removedReason = reason;
  history.deadExecutors.add(executorId);
  while (history.deadExecutors.size > ctx.config.retainedDeadExecutors) {
    const oldest = first(history.deadExecutors);
    history.deadExecutors.delete(oldest);
    history.executors.delete(oldest);
  }
}

function first<T>(set: Set<T>): T {
  return set.values().next().value as T;
}
