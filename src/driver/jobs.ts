// Job lifecycle: submit, store results, count failures, succeed, fail, cancel, progress. After Spark's
// TaskSetManager (`handleSuccessfulTask`, `handleFailedTask`, `canFetchMoreResults`, `abort`) with one task set
// per job.

import type { JobError } from './effects.ts';
import type { TaskSpec } from './inputs.ts';
import { errorText, forgetJobRecord, recordJobEnded, recordJobSubmitted, recordTaskEnded } from './history.ts';
import { createJob, resubmit, sortedIds, type Ctx, type JobRecord, type TaskAttempt } from './state.ts';

/** A driver-side error has no remote frames: its stack is its first line, as a JS Error's would start. */
export function driverError(name: string, message: string): JobError {
  return { name, message, stack: `${name}: ${message}` };
}

export function submitJob(ctx: Ctx, jobId: number, tasks: readonly TaskSpec[], description: string): void {
  const { state, out } = ctx;
  if (state.jobs.has(jobId)) throw new Error(`SubmitJob: job ${jobId} is still running; job ids must be unique`);
  forgetJobRecord(ctx, jobId);
  recordJobSubmitted(ctx, jobId, tasks.length, description);
  if (state.stopped) {
    const error = driverError('SchedulerStopped', `Job ${jobId} cancelled because the scheduler was stopped`);
    recordJobEnded(ctx, jobId, 'FAILED', error.message);
    state.jobsFailed += 1;
    out.push({ kind: 'JobFailed', jobId, error, summary: error.message, results: [], accumulators: [] });
    return;
  }
  if (tasks.length === 0) {
    // Spark's runJob over no partitions returns at once.
    state.jobsSucceeded += 1;
    recordJobEnded(ctx, jobId, 'SUCCEEDED');
    out.push({ kind: 'JobSucceeded', jobId, results: [], executors: [], accumulators: [] });
    return;
  }
  state.jobs.set(jobId, createJob(jobId, tasks));
  out.info(`Got job ${jobId} with ${tasks.length} tasks`, { jobId, tasks: tasks.length });
}

/** Emits Progress when `done` or `running` changed since the last one. */
export function flushProgress(ctx: Ctx, job: JobRecord): void {
  const running = job.live.size;
  const last = job.lastProgress;
  if (last !== undefined && last.done === job.done && last.running === running) return;
  job.lastProgress = { done: job.done, running };
  ctx.out.push({ kind: 'Progress', jobId: job.jobId, total: job.tasks.length, done: job.done, running });
}

/** The attempt no longer counts as live for its job, nor as tracked. Its core is released separately. */
export function forget(ctx: Ctx, attempt: TaskAttempt): void {
  ctx.state.tasks.delete(attempt.taskId);
  attempt.job.live.delete(attempt.taskId);
}

export function storeResult(ctx: Ctx, job: JobRecord, index: number, bytes: Uint8Array, attempt: Pick<TaskAttempt, 'executorId' | 'accumulators'>): void {
  job.states[index] = 'done';
  job.results[index] = bytes;
  job.resultExecutors[index] = attempt.executorId;
  job.accumulatorUpdates[index] = attempt.accumulators;
  job.done += 1;
  if (job.done === job.tasks.length) succeedJob(ctx, job);
}

function succeedJob(ctx: Ctx, job: JobRecord): void {
  job.active = false;
  ctx.state.jobs.delete(job.jobId);
  ctx.state.jobsSucceeded += 1;
  recordJobEnded(ctx, job.jobId, 'SUCCEEDED');
  flushProgress(ctx, job);
  ctx.out.info(`Job ${job.jobId} finished: ${job.tasks.length} tasks`, { jobId: job.jobId });
  ctx.out.push({ kind: 'JobSucceeded', jobId: job.jobId, results: job.results as Uint8Array[], executors: job.resultExecutors, accumulators: job.accumulatorUpdates });
}

/**
 * Ends the job with `error` (Spark's `TaskSetManager.abort`): its pending tasks are dropped and, when
 * `killReason` is given, its running tasks get KillTask. They stay tracked as zombies, holding their cores,
 * until the executor reports them ended or is lost; results still being fetched are released on arrival.
 */
export function failJob(ctx: Ctx, job: JobRecord, error: JobError, summary: string, killReason?: string, level: 'error' | 'warn' = 'error'): void {
  const { state, out } = ctx;
  job.active = false;
  state.jobs.delete(job.jobId);
  state.jobsFailed += 1;
  recordJobEnded(ctx, job.jobId, 'FAILED', summary);
  if (killReason !== undefined) {
    for (const taskId of sortedIds(job.live)) {
      const attempt = state.tasks.get(taskId);
      const executor = attempt === undefined ? undefined : state.executors.get(attempt.executorId);
      if (attempt?.phase !== 'running' || executor === undefined) continue;
      out.send(executor.executorId, executor.address, { type: 'KillTask', taskId, reason: killReason });
    }
  }
  out.log(level, summary, { jobId: job.jobId });
  out.push({ kind: 'JobFailed', jobId: job.jobId, error, summary, results: job.results, accumulators: job.accumulatorUpdates });
}

export function cancelJob(ctx: Ctx, jobId: number, reason: string): void {
  const job = ctx.state.jobs.get(jobId);
  if (job === undefined) {
    ctx.out.info(`No running job ${jobId} to cancel`, { jobId });
    return;
  }
  const error = driverError('JobCancelled', `Job ${jobId} cancelled: ${reason}`);
  failJob(ctx, job, error, error.message, `job ${jobId} cancelled: ${reason}`);
}

/**
 * One failed attempt that counts toward `maxFailures` (Spark's `handleFailedTask` when
 * `countTowardsTaskFailures`): resubmit the task, or fail the job with this attempt's error once the task has
 * failed `maxFailures` times. The attempt must already be forgotten and its core released.
 *
 * A failure marked `retryable: false` (a record the executor could not encode: the same records fail the same
 * way every time) fails the job after this one attempt, as Spark's `handleFailedTask` aborts the task set at
 * once when a task's result throws NotSerializableException.
 */
export function countFailure(ctx: Ctx, attempt: TaskAttempt, error: JobError): void {
  const { job, index } = attempt;
  recordTaskEnded(ctx, attempt.taskId, 'FAILED', errorText(error));
  const failures = (job.failures[index] ?? 0) + 1;
  job.failures[index] = failures;
  const max = ctx.config.maxFailures;
  const partition = job.tasks[index]?.partition ?? index;
  const lost =
    `Lost task ${index}.${attempt.attempt} in job ${job.jobId} (TID ${attempt.taskId}, partition ${partition}) ` +
    `on executor ${attempt.executorId}: ${error.name}: ${error.message}`;
  if (error.fetchFailed !== undefined) {
    // Spark's FetchFailed: not the task's fault and never counted toward its failures. The stage (this task
    // set) ends at once; the DAG runner re-runs the lost map output and then the tasks of this stage that
    // had not finished (their results so far travel with JobFailed).
    const { shuffleId, mapId, service } = error.fetchFailed;
    const summary = `Stage ${job.jobId} failed: ${lost} (shuffle ${shuffleId}, map ${mapId} at ${service} is lost; it will be recomputed)`;
    failJob(ctx, job, error, summary, `stage ${job.jobId} failed on a fetch failure`, 'warn');
    return;
  }
  if (error.retryable === false) {
    ctx.out.warn(`${lost} (not retried: retrying cannot fix it)`, { jobId: job.jobId, taskId: attempt.taskId });
    const summary = `Job ${job.jobId} aborted: task ${index} (partition ${partition}) failed and will not be retried, ${lost}`;
    failJob(ctx, job, error, summary, `job ${job.jobId} aborted`);
    return;
  }
  ctx.out.warn(`${lost} (failure ${failures} of ${max})`, { jobId: job.jobId, taskId: attempt.taskId });
  if (failures < max) {
    resubmit(job, index);
    return;
  }
  const summary =
    `Job ${job.jobId} aborted: task ${index} (partition ${partition}) failed ${failures} times ` +
    `(flint.task.maxFailures = ${max}), most recent failure: ${lost}`;
  failJob(ctx, job, error, summary, `job ${job.jobId} aborted`);
}

const formatBytes = (bytes: number): string => {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return unit === 0 ? `${value} B` : `${value.toFixed(1)} ${units[unit]}`;
};

/**
 * Spark's `canFetchMoreResults`: accounts `size` more bytes of results for `job` and, past
 * `flint.driver.maxResultSize`, fails the job (killing its running tasks) and returns false.
 */
export function canFetchMoreResults(ctx: Ctx, job: JobRecord, size: number): boolean {
  job.resultBytes += size;
  job.resultCount += 1;
  const max = ctx.config.maxResultSizeBytes;
  if (max === 0 || job.resultBytes <= max) return true;
  const message =
    `Total size of serialized results of ${job.resultCount} tasks (${formatBytes(job.resultBytes)}) ` +
    `is bigger than flint.driver.maxResultSize (${formatBytes(max)})`;
  const error = driverError('ResultSizeExceeded', message);
  failJob(ctx, job, error, `Job ${job.jobId} aborted: ${message}`, `job ${job.jobId} aborted`);
  return false;
}
