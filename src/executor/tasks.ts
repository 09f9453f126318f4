// Task bookkeeping: launch (at most `cores × tasksPerCore` handed to the pool, the rest queued), kill, the
// pool's three answers, and the results kept for the driver to fetch (Spark's Executor.TaskRunner status
// reporting, reference §2.8, §7.3).

import type { TaskFailure, TaskMetrics } from '../protocol/task-messages.ts';
import type { LaunchTaskMessage } from '../task/evaluate-task.ts';
import type { FetchTaskResultMessage, ReplyToken } from './executor-input.ts';
import { log, sendStatus, taskName, type Ctx, type TaskEntry } from './executor-state.ts';
import { clipTaskFailure } from '../task/task-errors.ts';

const NO_METRICS: TaskMetrics = { runTimeMs: 0, resultBytes: 0, records: 0 };

export function launchTask(ctx: Ctx, task: LaunchTaskMessage): void {
  const { state } = ctx;
  if (state.tasks.has(task.taskId) || state.results.has(task.taskId)) {
    log(ctx, 'warn', `Ignoring LaunchTask for task ${task.taskId}: this executor already has it`);
    return;
  }
  log(ctx, 'debug', `Got assigned task ${task.taskId}`);
  state.tasks.set(task.taskId, { task, status: 'queued', startedAtMs: ctx.now });
  state.queue.push(task.taskId);
  startQueuedTasks(ctx);
}

/** Hands queued tasks to the pool while it has room (rule 5). */
export function startQueuedTasks(ctx: Ctx): void {
  const { state } = ctx;
  const slots = state.config.cores * state.tasksPerCore;
  while (state.runningCount < slots && state.queue.length > 0) {
    const taskId = state.queue.shift() as number;
    const entry = state.tasks.get(taskId);
    if (entry === undefined) throw new Error(`queued task ${taskId} has no entry`);
    entry.status = 'running';
    entry.startedAtMs = ctx.now;
    state.runningCount += 1;
    ctx.out.push({ kind: 'RunTask', task: entry.task });
    log(ctx, 'debug', `Running task ${taskName(entry.task)}`);
    // No RUNNING StatusUpdate: the driver marks a task running when it launches it and ignores RUNNING, as
    // Spark's does; heartbeats list the running tasks. Half the messages per task (docs/differences-from-spark.md).
  }
}

export function killTask(ctx: Ctx, taskId: number, reason: string): void {
  const { state } = ctx;
  const entry = state.tasks.get(taskId);
  if (entry === undefined) {
    log(ctx, 'debug', `Ignoring KillTask for task ${taskId}: it is not queued or running here`);
    return;
  }
  if (entry.status === 'queued') {
    state.tasks.delete(taskId);
    state.queue = state.queue.filter((id) => id !== taskId);
    state.counts.killed += 1;
    log(ctx, 'info', `Killed task ${taskName(entry.task)} before it started, reason: ${reason}`);
    sendStatus(ctx, taskId, 'KILLED', { failure: killedFailure(reason), metrics: NO_METRICS });
    return;
  }
  if (entry.killReason !== undefined) return;
  entry.killReason = reason;
  log(ctx, 'info', `Executor is trying to kill task ${taskName(entry.task)}, reason: ${reason}`);
  ctx.out.push({ kind: 'CancelTask', taskId, reason });
}

/** Takes a running task off the books, or logs and returns undefined for an answer nobody expects. */
function takeRunning(ctx: Ctx, taskId: number, what: string): TaskEntry | undefined {
  const entry = ctx.state.tasks.get(taskId);
  if (entry === undefined || entry.status !== 'running') {
    log(ctx, 'warn', `Ignoring ${what} for task ${taskId}: it is not running here`);
    return undefined;
  }
  ctx.state.tasks.delete(taskId);
  ctx.state.runningCount -= 1;
  return entry;
}

function killedFailure(reason: string): TaskFailure {
  return { name: 'TaskKilled', message: reason, stack: '' };
}

function reportKilled(ctx: Ctx, entry: TaskEntry, reason: string, runTimeMs: number): void {
  ctx.state.counts.killed += 1;
  log(ctx, 'info', `Killed task ${taskName(entry.task)}, reason: ${reason}`);
  sendStatus(ctx, entry.task.taskId, 'KILLED', {
    failure: killedFailure(reason),
    metrics: { runTimeMs, resultBytes: 0, records: 0 },
  });
}

export function taskCompleted(
  ctx: Ctx,
  taskId: number,
  result: Uint8Array,
  records: number,
  runTimeMs: number,
  accumulators?: Readonly<Record<string, number>>,
): void {
  const entry = takeRunning(ctx, taskId, 'a result');
  if (entry === undefined) return;
  if (entry.killReason !== undefined) {
    // Spark's TaskRunner calls killTaskIfInterrupted() after the task returns: a kill wins over a late result.
    reportKilled(ctx, entry, entry.killReason, runTimeMs);
  } else {
    reportFinished(ctx, entry, result, { runTimeMs, resultBytes: result.byteLength, records, ...(accumulators === undefined ? {} : { accumulators: { ...accumulators } }) });
  }
  startQueuedTasks(ctx);
}

function reportFinished(ctx: Ctx, entry: TaskEntry, result: Uint8Array, metrics: TaskMetrics): void {
  const { config, results, counts } = ctx.state;
  const taskId = entry.task.taskId;
  const size = result.byteLength;
  counts.finished += 1;
  if (size <= config.maxDirectResultSizeBytes) {
    log(ctx, 'info', `Finished task ${taskName(entry.task)}. ${size} bytes result sent to driver`);
    sendStatus(ctx, taskId, 'FINISHED', { result, metrics });
    return;
  }
  const chunkBytes = config.resultChunkBytes;
  const chunks = Math.max(1, Math.ceil(size / chunkBytes));
  if (config.maxResultSizeBytes > 0 && size > config.maxResultSizeBytes) {
    log(
      ctx,
      'warn',
      `Finished task ${taskName(entry.task)}. Result is larger than maxResultSize ` +
        `(${size} > ${config.maxResultSizeBytes} bytes, flint.driver.maxResultSize), dropping it.`,
    );
  } else {
    results.set(taskId, { bytes: result, chunks, chunkBytes });
    log(ctx, 'info', `Finished task ${taskName(entry.task)}. ${size} bytes result kept for the driver to fetch`, {
      chunks,
    });
  }
  sendStatus(ctx, taskId, 'FINISHED', { indirectResult: { bytes: size, chunks }, metrics });
}

export function taskErrored(ctx: Ctx, taskId: number, error: TaskFailure, runTimeMs: number | undefined): void {
  const entry = takeRunning(ctx, taskId, 'an error');
  if (entry === undefined) return;
  const elapsedMs = runTimeMs ?? Math.max(0, ctx.now - entry.startedAtMs);
  if (entry.killReason !== undefined) {
    reportKilled(ctx, entry, entry.killReason, elapsedMs);
  } else {
    ctx.state.counts.failed += 1;
    const failure = clipTaskFailure(error);
    log(ctx, 'error', `Exception in task ${taskName(entry.task)}`, { name: failure.name, message: failure.message });
    sendStatus(ctx, taskId, 'FAILED', { failure, metrics: { runTimeMs: elapsedMs, resultBytes: 0, records: 0 } });
  }
  startQueuedTasks(ctx);
}

export function taskAborted(ctx: Ctx, taskId: number, runTimeMs: number | undefined): void {
  const entry = takeRunning(ctx, taskId, 'an abort');
  if (entry === undefined) return;
  const reason = entry.killReason ?? "the executor's thread pool ended the task";
  reportKilled(ctx, entry, reason, runTimeMs ?? Math.max(0, ctx.now - entry.startedAtMs));
  startQueuedTasks(ctx);
}

export function fetchTaskResult(ctx: Ctx, token: ReplyToken, request: FetchTaskResultMessage): void {
  const { taskId, index } = request;
  const kept = ctx.state.results.get(taskId);
  if (kept === undefined) {
    const error =
      `Executor ${ctx.state.config.executorId} keeps no result of task ${taskId}: it was released, ` +
      'dropped for exceeding flint.driver.maxResultSize, or never kept';
    ctx.out.push({ kind: 'ReplyFailure', token, error });
    return;
  }
  if (index >= kept.chunks) {
    const error = `The result of task ${taskId} has ${kept.chunks} chunks; there is no chunk ${index}`;
    ctx.out.push({ kind: 'ReplyFailure', token, error });
    return;
  }
  const start = index * kept.chunkBytes;
  const data = kept.bytes.subarray(start, Math.min(kept.bytes.byteLength, start + kept.chunkBytes));
  ctx.out.push({ kind: 'Reply', token, message: { type: 'TaskResultChunk', taskId, index, data } });
}

export function releaseTaskResult(ctx: Ctx, taskId: number): void {
  if (ctx.state.results.delete(taskId)) log(ctx, 'debug', `Released the kept result of task ${taskId}`);
  else log(ctx, 'debug', `ReleaseTaskResult for task ${taskId}: no result kept`);
}

/** For StopExecutor: ask the pool to stop every running task (the process exits right after). */
export function cancelAllTasks(ctx: Ctx, reason: string): void {
  for (const entry of ctx.state.tasks.values()) {
    if (entry.status === 'running' && entry.killReason === undefined) {
      ctx.out.push({ kind: 'CancelTask', taskId: entry.task.taskId, reason });
    }
  }
}
