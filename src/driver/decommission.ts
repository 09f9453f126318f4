// Decommissioning executors (Spark 3.1+): the driver hears that an executor's worker is being drained (the
// master's `ExecutorUpdated(DECOMMISSIONED)`, Spark's `StandaloneSchedulerBackend.executorDecommissioned` →
// `CoarseGrainedSchedulerBackend.decommissionExecutors` → `TaskSchedulerImpl.executorDecommission`). From then
// on the executor is offered nothing (Spark's `isExecutorDecommissioned` check in `resourceOffers`); the tasks
// it runs go on, their results are fetched, and once it holds none it gets `StopExecutor` and leaves the
// scheduler. Its departure counts against nothing: no task failure, no job failure (Spark's
// `ExecutorDecommission` loss reason, which is never `exitCausedByApp`).
//
// `flint.executor.decommission.forceKillTimeout` (Spark's `spark.executor.decommission.forceKillTimeout`, unset
// by default): an executor still busy after that long is stopped anyway; its tasks are resubmitted without
// counting a failure.

import { recordExecutorRemoved } from './history.ts';
import { loseExecutor } from './executors.ts';
import { releasePreferences, type Ctx } from './state.ts';

const forceKillKey = (executorId: string): string => `ForceKillExecutor:${executorId}`;

/** The `DecommissionExecutor` input. */
export function decommissionExecutor(ctx: Ctx, executorId: string, reason: string, removedAs = 'decommissioned'): void {
  const { state, out, config } = ctx;
  const executor = state.executors.get(executorId);
  if (executor === undefined || executor.decommissioning) {
    out.debug(`Decommission of executor ${executorId} ignored: ${executor === undefined ? 'unknown' : 'already decommissioning'}`);
    return;
  }
  executor.decommissioning = true;
  executor.removedAs = removedAs;
  state.decommissioning.add(executorId);
  out.info(`Decommissioning executor ${executorId} on ${executor.host}: ${reason}`, { executorId, runningTasks: executor.running.size });
  // Never-launched tasks that waited for its cached partitions go to anyone now.
  for (const job of state.jobs.values()) releasePreferences(job, executorId);
  if (config.decommissionForceKillTimeoutMs > 0 && !isDrained(ctx, executorId)) {
    out.push(state.timers.start(forceKillKey(executorId), { kind: 'ForceKillExecutor', executorId }, config.decommissionForceKillTimeoutMs));
  }
}

/** An executor being decommissioned may run no task and hold no result still to fetch. */
function isDrained(ctx: Ctx, executorId: string): boolean {
  const executor = ctx.state.executors.get(executorId);
  if (executor === undefined) return true;
  if (executor.running.size > 0) return false;
  for (const attempt of ctx.state.tasks.values()) if (attempt.executorId === executorId && attempt.phase === 'fetching') return false;
  return true;
}

/**
 * Called after every input: each decommissioning executor that is drained now gets `StopExecutor` (its last
 * message) and leaves the scheduler, so that its disconnect later is no loss (the adapter ignores executors the
 * machine does not know).
 */
export function stopDrainedExecutors(ctx: Ctx): void {
  const { state, out } = ctx;
  for (const executorId of [...state.decommissioning]) {
    const executor = state.executors.get(executorId);
    if (executor === undefined) {
      state.decommissioning.delete(executorId); // lost meanwhile (loseExecutor)
      continue;
    }
    if (!isDrained(ctx, executorId)) continue;
    state.decommissioning.delete(executorId);
    const cancel = state.timers.cancel(forceKillKey(executorId));
    if (cancel !== undefined) out.push(cancel);
    out.info(`Executor ${executorId} is decommissioned and drained: stopping it`, { executorId });
    out.send(executorId, executor.address, { type: 'StopExecutor' });
    state.executors.delete(executorId);
    state.executorOrder = state.executorOrder.filter((id) => id !== executorId);
    recordExecutorRemoved(ctx, executorId, executor.removedAs ?? 'decommissioned');
  }
}

/** The force-kill timer: the executor is stopped with its tasks, which run again elsewhere without counting. */
export function forceKillExecutor(ctx: Ctx, executorId: string): void {
  const executor = ctx.state.executors.get(executorId);
  if (executor === undefined || !executor.decommissioning) return;
  const timeoutMs = ctx.config.decommissionForceKillTimeoutMs;
  ctx.out.warn(`Executor ${executorId} still busy ${timeoutMs} ms after its decommission: stopping it (flint.executor.decommission.forceKillTimeout)`, { executorId });
  ctx.state.decommissioning.delete(executorId);
  ctx.out.send(executorId, executor.address, { type: 'StopExecutor' });
  loseExecutor(ctx, executorId, `Executor decommission: stopped ${timeoutMs} ms after the decommission`, false);
}
