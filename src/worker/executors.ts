// Executors on this worker (reference §6.3, §6.4; Spark's Worker `LaunchExecutor`/`KillExecutor` handlers,
// `handleExecutorStateChanged`, `syncExecutorStateWithMaster`, and ExecutorRunner).
//
//   LaunchExecutor ─► LAUNCHING ─ProcessStarted─► RUNNING ─ProcessExited─► EXITED (any code, 0 included)
//        │ (active master only)        │                       └ killed by the worker ─► KILLED
//        └ LaunchFailed ─► FAILED      └ KillExecutor ─► KILLED (reported when the process is gone)
//
// Every state change is synced to the master with an ask (SPARK-34245). A failed ask is retried: at once
// after a timeout, after `askTimeoutMs` otherwise; `executorStateSyncMaxAttempts` consecutive failures for one
// executor make the worker exit, as it has most likely lost the network.

import type { Static } from '@sinclair/typebox';
import type { ExecutorState, KillExecutor, LaunchExecutor } from '../protocol/messages.ts';
import { masterEnvUrl } from './master-address.ts';
import { chooseCpus } from './cpu-binding.ts';
import { buildExecutorSpec, executorProcessKey, joinPath } from './process-specs.ts';
import { describeExit, exitStatusOf } from './process-exit.ts';
import type { ExecutorStateChangedMessage, ProcessExit } from './worker-input.ts';
import { log, startTimer, trimFinished, type Ctx, type ExecutorRunner } from './worker-state.ts';
import { stopWorker } from './lifecycle.ts';

export const fullIdOf = (appId: string, execId: number): string => `${appId}/${execId}`;

/**
 * The master URL a LaunchExecutor or KillExecutor names is the active master's: Spark's check. The sender itself
 * is checked in worker-machine.ts.
 */
function namesActiveMaster(ctx: Ctx, masterUrl: string): boolean {
  return ctx.state.master !== undefined && masterEnvUrl(masterUrl) === ctx.state.master.url;
}

export function launchExecutor(ctx: Ctx, msg: Static<typeof LaunchExecutor>): void {
  const { state, config } = ctx;
  const fullId = fullIdOf(msg.appId, msg.execId);
  if (!namesActiveMaster(ctx, msg.masterUrl)) {
    log(ctx, 'warn', `Invalid Master (${msg.masterUrl}) attempted to launch executor.`);
    return;
  }
  if (state.decommissioned) {
    log(ctx, 'warn', 'Asked to launch an executor while decommissioned. Not launching executor.');
    return;
  }
  if (state.executors.has(fullId)) {
    log(ctx, 'warn', `Asked to launch executor ${fullId}, which is already running. Ignoring.`);
    return;
  }
  log(ctx, 'info', `Asked to launch executor ${fullId} for ${msg.appDesc.name}`);
  const cpus = config.executorCpus === undefined ? undefined : chooseCpus(config.executorCpus, heldCpus(state.executors.values()), msg.cores);
  const runner: ExecutorRunner = {
    appId: msg.appId,
    execId: msg.execId,
    fullId,
    appDesc: msg.appDesc,
    cores: msg.cores,
    memoryMb: msg.memoryMb,
    ...(msg.resources === undefined ? {} : { resources: msg.resources }),
    ...(cpus === undefined ? {} : { cpus }),
    processKey: executorProcessKey(msg.appId, msg.execId),
    workDir: `${joinPath(config.workDir, msg.appId, String(msg.execId))}/`,
    state: 'LAUNCHING',
  };
  state.executors.set(fullId, runner);
  state.coresUsed += msg.cores;
  state.memoryUsedMb += msg.memoryMb;
  const built = buildExecutorSpec(config, state, { ...msg, cpus });
  if (built.ok) ctx.out.push({ kind: 'LaunchExecutor', spec: built.spec });
  else executorLaunchFailed(ctx, msg.appId, msg.execId, built.error);
}

/** The CPUs each running executor is bound to. */
function* heldCpus(runners: Iterable<ExecutorRunner>): Iterable<readonly number[]> {
  for (const runner of runners) if (runner.cpus !== undefined) yield runner.cpus;
}

export function killExecutor(ctx: Ctx, msg: Static<typeof KillExecutor>): void {
  const fullId = fullIdOf(msg.appId, msg.execId);
  if (!namesActiveMaster(ctx, msg.masterUrl)) {
    log(ctx, 'warn', `Invalid Master (${msg.masterUrl}) attempted to kill executor ${msg.execId}`);
    return;
  }
  const runner = ctx.state.executors.get(fullId);
  if (runner === undefined) {
    log(ctx, 'info', `Asked to kill unknown executor ${fullId}`);
    return;
  }
  log(ctx, 'info', `Asked to kill executor ${fullId}`);
  if (runner.killReason !== undefined) return; // already being killed
  runner.killReason = `Runner thread for executor ${fullId} interrupted`;
  runner.state = 'KILLED';
  const { processKey, appId, execId } = runner;
  ctx.out.push({ kind: 'KillExecutor', processKey, appId, execId, reason: 'Killed by the master' });
}

export function executorStarted(ctx: Ctx, appId: string, execId: number): void {
  const runner = ctx.state.executors.get(fullIdOf(appId, execId));
  if (runner === undefined || runner.state !== 'LAUNCHING') {
    log(ctx, 'debug', `Ignoring a start of executor ${fullIdOf(appId, execId)} in state ${runner?.state ?? 'unknown'}`);
    return;
  }
  runner.state = 'RUNNING';
  syncExecutorState(ctx, { type: 'ExecutorStateChanged', appId, execId, state: 'RUNNING' });
}

/** ExecutorRunner's outcome: EXITED for any exit on its own (0 included), KILLED when the worker killed it. */
export function executorExited(ctx: Ctx, appId: string, execId: number, exit: ProcessExit): void {
  const runner = ctx.state.executors.get(fullIdOf(appId, execId));
  if (runner === undefined) {
    log(ctx, 'debug', `Ignoring the exit of unknown executor ${fullIdOf(appId, execId)}`);
    return;
  }
  const exitStatus = exitStatusOf(exit);
  const killed = exit.killedByWorker || runner.killReason !== undefined;
  const state: ExecutorState = killed ? 'KILLED' : 'EXITED';
  const message = killed
    ? (runner.killReason ?? `Executor ${runner.fullId} killed by the worker`)
    : `Command exited with ${describeExit(exit)}`;
  finishExecutor(ctx, runner, state, message, exitStatus);
}

export function executorLaunchFailed(ctx: Ctx, appId: string, execId: number, error: string): void {
  const runner = ctx.state.executors.get(fullIdOf(appId, execId));
  if (runner === undefined) return;
  log(ctx, 'error', `Failed to launch executor ${runner.fullId} for ${runner.appDesc.name}.`, { error });
  finishExecutor(ctx, runner, 'FAILED', error, undefined);
}

/** Reports a final state, then moves the runner to the finished list and frees its cores and memory. */
function finishExecutor(
  ctx: Ctx,
  runner: ExecutorRunner,
  state: ExecutorState,
  message: string,
  exitStatus: number | undefined,
): void {
  const s = ctx.state;
  const report: ExecutorStateChangedMessage = {
    type: 'ExecutorStateChanged',
    appId: runner.appId,
    execId: runner.execId,
    state,
    message,
    ...(exitStatus === undefined ? {} : { exitStatus }),
  };
  syncExecutorState(ctx, report);
  runner.state = state;
  runner.message = message;
  if (exitStatus !== undefined) runner.exitStatus = exitStatus;
  const exitText = exitStatus === undefined ? '' : ` exitStatus ${exitStatus}`;
  log(ctx, 'info', `Executor ${runner.fullId} finished with state ${state} message ${message}${exitText}`);
  s.executors.delete(runner.fullId);
  s.finishedExecutors.set(runner.fullId, runner);
  trimFinished(s.finishedExecutors, ctx.config.retainedExecutors);
  s.coresUsed -= runner.cores;
  s.memoryUsedMb -= runner.memoryMb;
}

/** Spark's `syncExecutorStateWithMaster`: an ask, dropped while no master is known. */
export function syncExecutorState(ctx: Ctx, message: ExecutorStateChangedMessage): void {
  const master = ctx.state.master;
  if (master === undefined) {
    log(ctx, 'warn', `Dropping ExecutorStateChanged because the connection to master has not yet been established`);
    return;
  }
  ctx.out.push({ kind: 'Ask', to: master.address, message, context: message, timeoutMs: ctx.config.askTimeoutMs });
}

export function executorStateSyncSucceeded(ctx: Ctx, message: ExecutorStateChangedMessage): void {
  ctx.state.stateSyncFailures.delete(fullIdOf(message.appId, message.execId));
}

export function executorStateSyncFailed(
  ctx: Ctx,
  message: ExecutorStateChangedMessage,
  error: string,
  timedOut: boolean,
): void {
  const fullId = fullIdOf(message.appId, message.execId);
  const max = ctx.config.executorStateSyncMaxAttempts;
  const failures = (ctx.state.stateSyncFailures.get(fullId) ?? 0) + 1;
  const what = `ExecutorStateChanged(${fullId} ${message.state})`;
  if (failures >= max) {
    const master = ctx.state.master?.url ?? '(none)';
    stopWorker(ctx, 1, `Failed to send ${what} to Master ${master} for ${max} times. Giving up.`);
    return;
  }
  ctx.state.stateSyncFailures.set(fullId, failures);
  log(ctx, 'error', `Failed to send ${what} to Master, will retry (${failures}/${max}).`, { error, timedOut });
  // After a timeout the master has had its time already; otherwise give a broken connection a while.
  if (timedOut) syncExecutorState(ctx, message);
  else startTimer(ctx, { kind: 'ExecutorStateSyncRetry', message }, ctx.config.askTimeoutMs);
}
