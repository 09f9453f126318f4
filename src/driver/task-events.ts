// What executors report about tasks: StatusUpdate, and the outcome of fetching a result kept on the executor.
// After Spark's `TaskSchedulerImpl.statusUpdate`, `TaskResultGetter` and `TaskSetManager.handleSuccessfulTask`
// / `handleFailedTask`.
//
// Only the one live attempt of a task counts. An update for an attempt the scheduler no longer tracks (a
// duplicate, an attempt of a lost executor, one whose job is over) is dropped, as Spark drops updates whose
// task set is gone and ignores a second success for a finished task (SPARK-37300).

import type { TaskFailure } from '../protocol/task-messages.ts';
import type { StatusUpdateMessage } from './inputs.ts';
import { canFetchMoreResults, countFailure, driverError, forget, storeResult } from './jobs.ts';
import { releaseCore, resubmit, type Ctx, type TaskAttempt } from './state.ts';
import { errorText, recordTaskEnded, recordTaskFetching } from './history.ts';

export function handleStatusUpdate(ctx: Ctx, message: StatusUpdateMessage): void {
  const attempt = ctx.state.tasks.get(message.taskId);
  if (attempt === undefined) {
    ctx.out.debug(
      `Ignoring update with state ${message.state} for TID ${message.taskId}: the task is no longer tracked ` +
        '(a duplicate status update, or a task of a lost executor)',
    );
    return;
  }
  if (attempt.executorId !== message.executorId) {
    ctx.out.warn(
      `Ignoring update for TID ${message.taskId} from executor ${message.executorId}: ` +
        `it runs on executor ${attempt.executorId}`,
    );
    return;
  }
  switch (message.state) {
    case 'LAUNCHING':
    case 'RUNNING':
      return;
    case 'FINISHED':
    case 'FAILED':
    case 'KILLED':
    case 'LOST':
      if (attempt.phase === 'fetching') {
        ctx.out.debug(`Ignoring ${message.state} for TID ${message.taskId}: it already finished`);
        return;
      }
      if (message.state === 'FINISHED') taskFinished(ctx, attempt, message);
      else taskEnded(ctx, attempt, message.state, message.failure);
      return;
    default:
      unreachable(message.state);
  }
}

/** Is this attempt still the one that counts for its task? (False for zombies and duplicates.) */
function isLive(attempt: TaskAttempt): boolean {
  const { job } = attempt;
  return job.active && job.live.has(attempt.taskId) && job.states[attempt.index] !== 'done';
}

function releaseResult(ctx: Ctx, attempt: TaskAttempt): void {
  const executor = ctx.state.executors.get(attempt.executorId);
  if (executor === undefined) return;
  ctx.out.send(executor.executorId, executor.address, { type: 'ReleaseTaskResult', taskId: attempt.taskId });
}

function taskFinished(ctx: Ctx, attempt: TaskAttempt, message: StatusUpdateMessage): void {
  releaseCore(ctx, attempt);
  if (message.metrics !== undefined) {
    attempt.job.runTimeMsSum += message.metrics.runTimeMs;
    attempt.job.runTimeCount += 1;
    if (message.metrics.accumulators !== undefined) attempt.accumulators = message.metrics.accumulators;
  }
  const { result, indirectResult } = message;
  // An indirect result's attempt ends when its result has been fetched (GET RESULT until then), unless unwanted.
  if (result !== undefined || (indirectResult !== undefined && !isLive(attempt))) recordTaskEnded(ctx, attempt.taskId, 'SUCCESS');
  if (!isLive(attempt)) {
    forget(ctx, attempt);
    if (result === undefined && indirectResult !== undefined) releaseResult(ctx, attempt);
    ctx.out.debug(`Ignoring result of TID ${attempt.taskId}: its job is over or the task already finished`);
    return;
  }
  if (result === undefined && indirectResult === undefined) {
    forget(ctx, attempt);
    const text = `Task ${attempt.taskId} reported FINISHED with neither result nor indirectResult`;
    countFailure(ctx, attempt, driverError('TaskResultMissing', text));
    return;
  }
  const size = result !== undefined ? result.byteLength : (indirectResult?.bytes ?? 0);
  if (result !== undefined) {
    forget(ctx, attempt);
    if (canFetchMoreResults(ctx, attempt.job, size)) storeResult(ctx, attempt.job, attempt.index, result, attempt);
    return;
  }
  // No longer running: a job failing on this result must not send it a KillTask.
  attempt.phase = 'fetching';
  if (!canFetchMoreResults(ctx, attempt.job, size)) {
    recordTaskEnded(ctx, attempt.taskId, 'SUCCESS');
    forget(ctx, attempt);
    releaseResult(ctx, attempt);
    return;
  }
  attempt.resultBytes = size;
  attempt.job.states[attempt.index] = 'fetching';
  recordTaskFetching(ctx, attempt.taskId);
  const executor = ctx.state.executors.get(attempt.executorId);
  if (executor === undefined) throw new Error(`TID ${attempt.taskId}: executor ${attempt.executorId} is unknown`);
  ctx.out.push({
    kind: 'FetchResult',
    executorId: executor.executorId,
    to: executor.address,
    taskId: attempt.taskId,
    chunks: indirectResult?.chunks ?? 1,
    bytes: size,
  });
}

function taskEnded(ctx: Ctx, attempt: TaskAttempt, state: 'FAILED' | 'KILLED' | 'LOST', failure?: TaskFailure): void {
  releaseCore(ctx, attempt);
  const live = isLive(attempt);
  forget(ctx, attempt);
  if (state !== 'FAILED' || !live) recordTaskEnded(ctx, attempt.taskId, state, failure === undefined ? undefined : errorText(failure));
  if (!live) return;
  if (state === 'FAILED') {
    countFailure(ctx, attempt, failure ?? driverError('TaskFailed', `Task ${attempt.taskId} failed without a reason`));
    return;
  }
  // Spark's TaskKilled does not count toward task failures; a LOST task is resubmitted the same way.
  const { index, job, taskId } = attempt;
  ctx.out.info(`Task ${index}.${attempt.attempt} in job ${job.jobId} (TID ${taskId}) was ${state}; resubmitting`);
  resubmit(attempt.job, attempt.index);
}

function fetchingAttempt(ctx: Ctx, taskId: number, what: string): TaskAttempt | undefined {
  const attempt = ctx.state.tasks.get(taskId);
  if (attempt?.phase === 'fetching') return attempt;
  ctx.out.warn(`Ignoring ${what} for TID ${taskId}: no result fetch is pending for it`);
  return undefined;
}

/** The result arrived: release it on the executor, then store it (unless its job is over meanwhile). */
export function handleResultFetched(ctx: Ctx, taskId: number, bytes: Uint8Array): void {
  const attempt = fetchingAttempt(ctx, taskId, 'ResultFetched');
  if (attempt === undefined) return;
  const live = isLive(attempt);
  forget(ctx, attempt);
  releaseResult(ctx, attempt);
  recordTaskEnded(ctx, taskId, 'SUCCESS');
  if (live) storeResult(ctx, attempt.job, attempt.index, bytes, attempt);
}

/**
 * The fetch failed (Spark's TaskResultLost). It counts as a task failure while the executor is still
 * registered; when the executor is gone, its loss is the cause and the task is just resubmitted.
 */
export function handleResultFetchFailed(ctx: Ctx, taskId: number, error: string): void {
  const attempt = fetchingAttempt(ctx, taskId, 'ResultFetchFailed');
  if (attempt === undefined) return;
  const live = isLive(attempt);
  forget(ctx, attempt);
  const executorAlive = ctx.state.executors.has(attempt.executorId);
  if (executorAlive) releaseResult(ctx, attempt);
  const text = `Fetching the result of TID ${taskId} from executor ${attempt.executorId} failed: ${error}`;
  if (!live || !executorAlive) recordTaskEnded(ctx, taskId, executorAlive ? 'FAILED' : 'LOST', `TaskResultLost: ${text}`);
  if (!live) return;
  const { job } = attempt;
  job.resultBytes -= attempt.resultBytes;
  job.resultCount -= 1;
  if (executorAlive) {
    countFailure(ctx, attempt, driverError('TaskResultLost', text));
  } else {
    ctx.out.info(`${text}; the executor is gone, resubmitting`);
    resubmit(job, attempt.index);
  }
}

function unreachable(value: never): never {
  throw new Error(`unhandled value ${String(value)}`);
}
