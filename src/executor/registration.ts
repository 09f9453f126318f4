// Bootstrap, registration and liveness (reference §7.3, §7.4; Spark's CoarseGrainedExecutorBackend and
// Executor's heartbeater): ask the driver for the app config, load the code and register at the same time,
// send LaunchedExecutor once both are done, then heartbeat until the driver, the worker or the heartbeats fail.

import { FlintConf } from '../conf/flint-conf.ts';
import { isFlintError } from '../errors.ts';
import { executorConfigFromConf } from './executor-config.ts';
import { ExecutorExitCode } from './executor-effect.ts';
import type { Static } from '@sinclair/typebox';
import type { AppConfigResponse } from '../protocol/task-messages.ts';
import { HEARTBEAT_TIMER, exit, log, startTimer, type Ctx } from './executor-state.ts';

export function start(ctx: Ctx): void {
  const { state } = ctx;
  state.phase = 'configuring';
  const { executorId, hostname, cores, driverUrl } = state.config;
  log(ctx, 'info', `Starting executor ID ${executorId} on host ${hostname} with ${cores} cores`, { driverUrl });
  ctx.out.push({ kind: 'Ask', to: driverUrl, message: { type: 'RetrieveAppConfig', executorId }, context: 'RetrieveAppConfig' });
}

export function appConfigReceived(ctx: Ctx, input: Static<typeof AppConfigResponse>): void {
  const { state } = ctx;
  try {
    state.config = executorConfigFromConf(new FlintConf(Object.entries(input.conf)), state.config);
  } catch (err) {
    if (!isFlintError(err)) throw err;
    exit(ctx, ExecutorExitCode.FAILURE, `The application's configuration cannot be used: ${err.message}`);
    return;
  }
  if (input.appId !== state.config.appId) {
    log(ctx, 'warn', `The driver serves application ${input.appId}, but this executor was launched for ${state.config.appId}`);
  }
  state.phase = 'registering';
  state.codeHash = input.codeHash;
  const { executorId, executorAddress, hostname, cores, logUrls, driverUrl, resources } = state.config;
  // Loading the code and registering run at once: the driver offers cores only after LaunchedExecutor.
  ctx.out.push({ kind: 'LoadCode', hash: input.codeHash, bytes: input.codeBytes });
  ctx.out.push({
    kind: 'Ask',
    to: driverUrl,
    message: {
      type: 'RegisterExecutor',
      executorId,
      executorAddress,
      hostname,
      cores,
      logUrls: { ...logUrls },
      ...(resources === undefined ? {} : { resources: Object.fromEntries(Object.entries(resources).map(([name, addresses]) => [name, [...addresses]])) }),
    },
    context: 'RegisterExecutor',
  });
}

export function codeLoaded(ctx: Ctx, hash: string): void {
  if (hash !== ctx.state.codeHash) {
    log(ctx, 'warn', `Ignoring CodeLoaded for ${hash}: the application's code is ${ctx.state.codeHash}`);
    return;
  }
  ctx.state.codeLoaded = true;
  launchedIfReady(ctx);
}

export function registered(ctx: Ctx): void {
  log(ctx, 'info', 'Successfully registered with driver');
  ctx.state.registered = true;
  launchedIfReady(ctx);
}

/** Spark builds the Executor on RegisteredExecutor and then sends LaunchedExecutor; here the code must be in too. */
function launchedIfReady(ctx: Ctx): void {
  const { state } = ctx;
  if (!state.registered || !state.codeLoaded) return;
  state.phase = 'running';
  ctx.out.push({ kind: 'Send', to: state.config.driverUrl, message: { type: 'LaunchedExecutor', executorId: state.config.executorId } });
  // Spark's first heartbeat waits one interval plus a random fraction of another, so that executors started
  // together do not heartbeat in lockstep.
  const intervalMs = state.config.heartbeatIntervalMs;
  const draw = ctx.rng.next();
  if (!(draw >= 0 && draw < 1)) throw new RangeError(`Rng.next() returned ${draw}, outside [0, 1)`);
  startTimer(ctx, HEARTBEAT_TIMER, intervalMs + Math.floor(draw * intervalMs));
}

export function heartbeatTimerFired(ctx: Ctx): void {
  const { state } = ctx;
  startTimer(ctx, HEARTBEAT_TIMER, state.config.heartbeatIntervalMs);
  if (state.heartbeatInFlight) {
    log(ctx, 'debug', 'Skipping a heartbeat: the previous one is still unanswered');
    return;
  }
  state.heartbeatInFlight = true;
  const running: Array<{ taskId: number; runTimeMs: number }> = [];
  for (const entry of state.tasks.values()) {
    if (entry.status === 'running') {
      running.push({ taskId: entry.task.taskId, runTimeMs: Math.max(0, ctx.now - entry.startedAtMs) });
    }
  }
  ctx.out.push({
    kind: 'Ask',
    to: state.config.driverUrl,
    message: { type: 'ExecutorHeartbeat', executorId: state.config.executorId, running },
    context: 'ExecutorHeartbeat',
    timeoutMs: state.config.heartbeatIntervalMs,
  });
}

export function heartbeatSucceeded(ctx: Ctx, reregister: boolean): void {
  ctx.state.heartbeatInFlight = false;
  ctx.state.heartbeatFailures = 0;
  if (!reregister || ctx.state.phase === 'stopped') return;
  // The driver removed this executor as lost (its worker was lost to the master, say) while it ran on: no task will
  // come, and it holds its worker's cores for nothing, and a master recovering from the worker's report would count
  // it as the app's. It exits (0: nothing failed), and its worker reports it ended. Spark's executor re-registers
  // its BlockManager and lingers (src/sim found it: bench seed 6654; docs/differences-from-spark.md).
  exit(ctx, ExecutorExitCode.SUCCESS, 'The driver no longer knows this executor (it was removed as lost): exiting, so that its cores go back to the cluster', 'warn');
}

export function heartbeatFailed(ctx: Ctx, error: string): void {
  const { state } = ctx;
  state.heartbeatInFlight = false;
  state.heartbeatFailures += 1;
  log(ctx, 'warn', 'Issue communicating with driver in heartbeater', { error, failures: state.heartbeatFailures });
  const max = state.config.heartbeatMaxFailures;
  if (state.heartbeatFailures >= max) {
    exit(ctx, ExecutorExitCode.HEARTBEAT_FAILURE, `Exit as unable to send heartbeats to driver more than ${max} times`);
  }
}
