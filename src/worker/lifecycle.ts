// Stopping the worker and decommissioning it (reference §6.3, §6.7), plus the executor descriptions that
// several replies share.

import type { ExecutorDescription } from '../protocol/messages.ts';
import { log, sendToMaster, type Ctx, type WorkerState } from './worker-state.ts';

/** Running executors as the master sees them (WorkerLatestState, WorkerSchedulerStateResponse). */
export function executorDescriptions(state: WorkerState): ExecutorDescription[] {
  return [...state.executors.values()].map((e) => ({
    appId: e.appId,
    execId: e.execId,
    cores: e.cores,
    memoryMb: e.memoryMb,
    state: e.state,
    ...(e.resources === undefined ? {} : { resources: e.resources }),
  }));
}

/**
 * Ends the worker: cancel every timer, kill every executor and driver (Spark's `onStop`, and its shutdown hook
 * for executors), then `Exit`. Nothing is reported to the master: it notices the disconnect and marks the
 * executors LOST. The machine handles no input after this.
 */
export function stopWorker(ctx: Ctx, code: number, reason: string): void {
  const { state } = ctx;
  log(ctx, code === 0 ? 'info' : 'error', reason, { exitCode: code });
  ctx.out.push(...state.timers.cancelAll());
  for (const runner of state.executors.values()) {
    const { processKey, appId, execId } = runner;
    ctx.out.push({ kind: 'KillExecutor', processKey, appId, execId, reason: 'Worker shutting down' });
  }
  for (const runner of state.drivers.values()) {
    if (runner.phase === 'backoff') continue; // no process to kill
    ctx.out.push({
      kind: 'KillDriver',
      processKey: runner.processKey,
      driverId: runner.driverId,
      reason: 'Worker shutting down',
    });
  }
  ctx.out.push({ kind: 'Exit', code, reason });
  state.phase = 'stopped';
}

/** Spark's `decommissionSelf`: from now on LaunchExecutor is refused. Returns whether it took effect. */
export function decommissionSelf(ctx: Ctx): boolean {
  const { state } = ctx;
  if (ctx.config.decommissionEnabled && !state.decommissioned) {
    state.decommissioned = true;
    log(ctx, 'info', `Decommission worker ${state.workerId}.`);
    return true;
  }
  if (state.decommissioned) log(ctx, 'warn', `Worker ${state.workerId} already started decommissioning.`);
  else log(ctx, 'warn', 'Receive decommission request, but decommission feature is disabled.');
  return false;
}

/**
 * The decommission signal (Spark's `WorkerDecommissionSigReceived`): decommission, and tell the master so it
 * stops placing work here. With `exitWhenDrained` (SIGTERM) the worker then exits once no executor is left;
 * its drivers are killed with it, and the master relaunches the supervised ones elsewhere.
 */
export function handleDecommissionSignal(ctx: Ctx, exitWhenDrained = false): void {
  if (decommissionSelf(ctx)) {
    const { workerId, workerAddress } = ctx.state;
    sendToMaster(ctx, { type: 'WorkerDecommissioning', id: workerId, workerAddress });
  }
  if (exitWhenDrained && ctx.state.decommissioned) ctx.state.exitWhenDrained = true;
}

/** After every input: a decommissioned worker told to exit when drained exits once it runs no executor. */
export function exitIfDrained(ctx: Ctx): void {
  const { state } = ctx;
  if (state.exitWhenDrained && state.phase === 'running' && state.executors.size === 0) {
    stopWorker(ctx, 0, 'Worker decommissioned and drained: shutting down');
  }
}
