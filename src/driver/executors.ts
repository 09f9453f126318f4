// Executors as the scheduler sees them: registration, launch, heartbeats, loss, and stopping them all.
// After Spark's CoarseGrainedSchedulerBackend (RegisterExecutor, LaunchedExecutor, removeExecutor),
// HeartbeatReceiver (`expireDeadHosts`) and TaskSchedulerImpl (`executorLost`, `stop`).

import type { DriverInput } from './inputs.ts';
import { countFailure, driverError, failJob, forget } from './jobs.ts';
import { compareExecutorIds, releasePreferences, resubmit, sortedIds, type Ctx, type TaskAttempt } from './state.ts';
import { addressBook, taskSlots } from './task-resources.ts';
import { recordExecutorAdded, recordExecutorRemoved, recordHeartbeat, recordTaskEnded } from './history.ts';

type Register = Extract<DriverInput, { readonly kind: 'RegisterExecutor' }>;
type Heartbeat = Extract<DriverInput, { readonly kind: 'ExecutorHeartbeat' }>;

/**
 * RegisterExecutor, as Spark's `CoarseGrainedSchedulerBackend.DriverEndpoint.receiveAndReply` answers it: a known
 * id is refused ("Duplicate executor ID"), and so is every executor once the scheduler has stopped; otherwise the
 * executor is recorded and the answer is true. Its cores are offered only after LaunchedExecutor.
 */
export function handleRegisterExecutor(ctx: Ctx, input: Register): void {
  const { state, out, config } = ctx;
  if (state.stopped) {
    out.replyFailure(input.token, 'the driver is stopping');
    return;
  }
  if (state.executors.has(input.executorId)) {
    out.warn(`Refusing a second registration of executor ${input.executorId}`, { executorId: input.executorId });
    out.replyFailure(input.token, `Duplicate executor ID: ${input.executorId}`);
    return;
  }
  state.executors.set(input.executorId, {
    executorId: input.executorId,
    address: input.executorAddress,
    host: input.hostname,
    cores: input.cores,
    launched: false,
    freeCores: 0,
    addresses: addressBook(input.resources),
    slots: taskSlots(input.cores, input.resources, config),
    lastSeenMs: ctx.now,
    running: new Set(),
    broadcastsSent: new Set(),
    decommissioning: false,
  });
  state.executorOrder = [...state.executorOrder, input.executorId].sort(compareExecutorIds);
  const { executorId, executorAddress: address, hostname: host, cores } = input;
  recordExecutorAdded(ctx, { executorId, address, host, cores, logUrls: input.logUrls ?? {} });
  out.info(`Registered executor ${input.executorId} (${input.executorAddress}) on ${input.hostname} with ${input.cores} cores`, {
    executorId: input.executorId,
    host: input.hostname,
    cores: input.cores,
  });
  warnIfNoSlots(ctx, input);
  out.reply(input.token, { type: 'BooleanResponse', value: true });
  if (!state.timers.isArmed('ExpireDeadExecutors')) {
    // Spark's HeartbeatReceiver checks every spark.network.timeoutInterval; Flint arms it with the first executor.
    out.push(state.timers.start('ExpireDeadExecutors', 'ExpireDeadExecutors', config.heartbeatCheckIntervalMs));
  }
}

/** An executor that can run no task (too few cores for `flint.task.cpus`, or too few addresses) is worth a warning. */
function warnIfNoSlots(ctx: Ctx, input: Register): void {
  const { config } = ctx;
  const executor = ctx.state.executors.get(input.executorId);
  if (executor === undefined || executor.slots > 0) return;
  const needs = [`${config.taskCpus} core(s)`, ...config.taskResourceReqs.map((r) => `${r.amount} ${r.name}`)].join(', ');
  const has = [`${input.cores} core(s)`, ...config.taskResourceReqs.map((r) => `${input.resources?.[r.name]?.length ?? 0} ${r.name}`)].join(', ');
  ctx.out.warn(`Executor ${input.executorId} can run no task: each task needs ${needs}; it has ${has}`, { executorId: input.executorId });
}

/** LaunchedExecutor: only now are the executor's cores free for offers, as in Spark's `DriverEndpoint`. */
export function handleExecutorLaunched(ctx: Ctx, executorId: string): void {
  const executor = ctx.state.executors.get(executorId);
  if (executor === undefined) {
    ctx.out.warn(`Ignoring LaunchedExecutor from unknown executor ${executorId}`);
    return;
  }
  if (executor.launched) return;
  executor.launched = true;
  executor.freeCores = executor.cores - ctx.config.taskCpus * executor.running.size;
}

/**
 * ExecutorHeartbeat (Spark's `HeartbeatReceiver`): an unknown executor is told to re-register
 * (`HeartbeatResponse{ reregister: true }`, Spark's `HeartbeatResponse(reregisterBlockManager = true)`); a known one
 * is marked seen.
 */
export function handleExecutorHeartbeat(ctx: Ctx, input: Heartbeat): void {
  const executorId = input.message.executorId;
  const executor = ctx.state.executors.get(executorId);
  ctx.out.reply(input.token, { type: 'HeartbeatResponse', reregister: executor === undefined });
  if (executor === undefined) {
    ctx.out.debug(`Heartbeat from unknown executor ${executorId}: it is told to re-register`);
    return;
  }
  executor.lastSeenMs = Math.max(executor.lastSeenMs, ctx.now);
  recordHeartbeat(ctx, executorId);
}

/**
 * Removes the executor. Its running tasks are resubmitted; when the loss was `causedByApp` each of them also
 * counts a failure (Spark's ExecutorLostFailure with `exitCausedByApp`), which may fail their jobs. Results
 * being fetched from it are left to the fetch, which will fail (see `handleResultFetchFailed`).
 */
export function loseExecutor(ctx: Ctx, executorId: string, reason: string, causedByApp: boolean): void {
  const { state, out } = ctx;
  const executor = state.executors.get(executorId);
  if (executor === undefined) {
    out.debug(`Lost an executor ${executorId} (already removed): ${reason}`);
    return;
  }
  // A decommissioning executor's loss is expected (Spark's ExecutorDecommission reason): it counts against nothing.
  if (executor.decommissioning) causedByApp = false;
  state.executors.delete(executorId);
  state.executorOrder = state.executorOrder.filter((id) => id !== executorId);
  out.error(`Lost executor ${executorId} on ${executor.host}: ${reason}`, { executorId, causedByApp });
  recordExecutorRemoved(ctx, executorId, reason);
  // Detach every attempt first, so that a job failing on one of them sends no KillTask to this executor.
  const lost: TaskAttempt[] = [];
  for (const taskId of sortedIds(executor.running)) {
    const attempt = state.tasks.get(taskId);
    if (attempt === undefined) continue;
    lost.push(attempt);
    forget(ctx, attempt);
    recordTaskEnded(ctx, taskId, 'LOST', `ExecutorLostFailure: Executor ${executorId} lost: ${reason}`);
  }
  for (const job of state.jobs.values()) releasePreferences(job, executorId);
  const how = causedByApp ? 'exited caused by one of the running tasks' : 'exited unrelated to the running tasks';
  for (const attempt of lost) {
    if (!attempt.job.active) continue;
    if (causedByApp) {
      const text = `Executor ${executorId} ${how}. Reason: ${reason}`;
      countFailure(ctx, attempt, driverError('ExecutorLostFailure', text));
    } else {
      resubmit(attempt.job, attempt.index);
    }
  }
}

/**
 * The periodic check (Spark's `HeartbeatReceiver.expireDeadHosts`): an executor silent for more than
 * `executorTimeoutMs` is killed through the master and treated as lost. Like Spark's
 * `ExecutorProcessLost("Executor heartbeat timed out after … ms")`, the loss counts against its tasks.
 */
export function expireDeadExecutors(ctx: Ctx): void {
  const timeout = ctx.config.executorTimeoutMs;
  for (const executorId of [...ctx.state.executorOrder]) {
    const executor = ctx.state.executors.get(executorId);
    if (executor === undefined) continue;
    const silentMs = ctx.now - executor.lastSeenMs;
    if (silentMs <= timeout) continue;
    ctx.out.warn(
      `Removing executor ${executorId} with no recent heartbeats: ${silentMs} ms exceeds timeout ${timeout} ms`,
    );
    const reason = `Executor heartbeat timed out after ${silentMs} ms`;
    ctx.out.push({ kind: 'KillExecutor', executorId, reason });
    loseExecutor(ctx, executorId, reason, true);
  }
}

/**
 * Stop (Spark's SparkContext.stop order: the DAG scheduler cancels jobs, then the backend stops executors):
 * every unfinished job fails, then every executor gets StopExecutor, then the timer is cancelled.
 */
export function stopScheduler(ctx: Ctx): void {
  const { state, out } = ctx;
  if (state.stopped) return;
  out.info('Stopping the task scheduler');
  for (const job of [...state.jobs.values()]) {
    const error = driverError('SchedulerStopped', `Job ${job.jobId} cancelled because the scheduler was stopped`);
    failJob(ctx, job, error, error.message);
  }
  for (const executorId of state.executorOrder) {
    const executor = state.executors.get(executorId);
    if (executor !== undefined) out.send(executorId, executor.address, { type: 'StopExecutor' });
  }
  for (const cancel of state.timers.cancelAll()) out.push(cancel);
  for (const taskId of sortedIds(state.tasks.keys())) recordTaskEnded(ctx, taskId, 'KILLED', 'TaskKilled: the application stopped');
  for (const executorId of state.executorOrder) recordExecutorRemoved(ctx, executorId, 'the application stopped');
  state.stopped = true;
  state.executors.clear();
  state.executorOrder = [];
  state.tasks.clear();
}
