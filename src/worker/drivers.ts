// Drivers on this worker, cluster deploy mode (reference §6.3, §6.5; Spark's Worker `LaunchDriver`/`KillDriver`
// handlers, `handleDriverStateChanged`, and DriverRunner's supervise loop `runCommandWithRetry`).
//
//   LaunchDriver ─► launching ─Started─► running ─Exited─┬─ supervise ∧ status ≠ 0 ∧ not killed ─► backoff
//                                                         │        (wait 1, 2, 4, 8… s; back to 1 s after a
//                                                         │         run longer than 5 s) ─Relaunch─► launching
//                                                         └─ otherwise: FINISHED (status 0, even if killed),
//                                                            KILLED (killed), FAILED; LaunchFailed: ERROR
//
// The final state is forwarded to the master with a plain send (Spark does not use the reliable path here).
// The machine decides every relaunch; the host only runs the process it is given.

import type { Static } from '@sinclair/typebox';
import type { DriverState, LaunchDriver } from '../protocol/messages.ts';
import { buildDriverSpec, driverProcessKey } from './process-specs.ts';
import { describeExit, exitStatusOf } from './process-exit.ts';
import type { ProcessExit } from './worker-input.ts';
import {
  cancelTimer,
  log,
  sendToMaster,
  startTimer,
  trimFinished,
  type Ctx,
  type DriverRunner,
} from './worker-state.ts';
import { timerKey } from './worker-input.ts';

/** A run at least this long resets the back-off (Spark's `successfulRunDuration`, 5 s). */
export const SUCCESSFUL_RUN_DURATION_MS = 5_000;
/** The first back-off wait (Spark's `waitSeconds = 1`). */
export const INITIAL_DRIVER_BACKOFF_MS = 1_000;

function launch(ctx: Ctx, runner: DriverRunner): void {
  runner.attempts += 1;
  runner.phase = 'launching';
  const built = buildDriverSpec(ctx.config, ctx.state, runner.driverId, runner.desc, runner.resources);
  if (built.ok) ctx.out.push({ kind: 'LaunchDriver', spec: built.spec, attempt: runner.attempts });
  else driverLaunchFailed(ctx, runner.driverId, built.error);
}

export function launchDriver(ctx: Ctx, msg: Static<typeof LaunchDriver>): void {
  const { state } = ctx;
  if (state.drivers.has(msg.driverId)) {
    log(ctx, 'warn', `Asked to launch driver ${msg.driverId}, which is already running. Ignoring.`);
    return;
  }
  log(ctx, 'info', `Asked to launch driver ${msg.driverId}`);
  const runner: DriverRunner = {
    driverId: msg.driverId,
    desc: msg.driverDesc,
    ...(msg.resources === undefined ? {} : { resources: msg.resources }),
    processKey: driverProcessKey(msg.driverId),
    state: 'RUNNING',
    phase: 'launching',
    killed: false,
    attempts: 0,
    backoffMs: INITIAL_DRIVER_BACKOFF_MS,
  };
  state.drivers.set(msg.driverId, runner);
  state.coresUsed += msg.driverDesc.cores;
  state.memoryUsedMb += msg.driverDesc.memoryMb;
  launch(ctx, runner);
}

export function killDriver(ctx: Ctx, driverId: string): void {
  const runner = ctx.state.drivers.get(driverId);
  if (runner === undefined) {
    log(ctx, 'error', `Asked to kill unknown driver ${driverId}`);
    return;
  }
  log(ctx, 'info', `Asked to kill driver ${driverId}`);
  if (runner.killed) return;
  runner.killed = true;
  if (runner.phase === 'backoff') {
    // No process runs: stop waiting; the last run's status was not 0, so the driver ends KILLED.
    cancelTimer(ctx, timerKey({ kind: 'DriverRelaunch', driverId }));
    finishDriver(ctx, runner, 'KILLED');
    return;
  }
  ctx.out.push({ kind: 'KillDriver', processKey: runner.processKey, driverId, reason: 'Killed by the master' });
}

export function driverStarted(ctx: Ctx, driverId: string): void {
  const runner = ctx.state.drivers.get(driverId);
  if (runner === undefined || runner.phase !== 'launching') return;
  runner.phase = 'running';
  runner.runStartedAtMs = ctx.now;
}

export function driverExited(ctx: Ctx, driverId: string, exit: ProcessExit): void {
  const runner = ctx.state.drivers.get(driverId);
  if (runner === undefined || runner.phase === 'done' || runner.phase === 'backoff') return;
  const status = exitStatusOf(exit) ?? -1;
  runner.lastExitStatus = status;
  const killed = runner.killed || exit.killedByWorker;
  if (runner.desc.supervise && status !== 0 && !killed) {
    const ranMs = runner.runStartedAtMs === undefined ? 0 : ctx.now - runner.runStartedAtMs;
    if (ranMs > SUCCESSFUL_RUN_DURATION_MS) runner.backoffMs = INITIAL_DRIVER_BACKOFF_MS;
    const waitMs = runner.backoffMs;
    log(ctx, 'info', `Command exited with ${describeExit(exit)}, re-launching after ${waitMs / 1000} s.`, { driverId });
    runner.phase = 'backoff';
    delete runner.runStartedAtMs;
    startTimer(ctx, { kind: 'DriverRelaunch', driverId }, waitMs);
    runner.backoffMs = waitMs * 2;
    return;
  }
  finishDriver(ctx, runner, status === 0 ? 'FINISHED' : killed ? 'KILLED' : 'FAILED');
}

/** The back-off wait is over: run the driver again (same id, same spec). */
export function relaunchDriver(ctx: Ctx, driverId: string): void {
  const runner = ctx.state.drivers.get(driverId);
  if (runner === undefined || runner.phase !== 'backoff' || runner.killed) return;
  launch(ctx, runner);
}

export function driverLaunchFailed(ctx: Ctx, driverId: string, error: string): void {
  const runner = ctx.state.drivers.get(driverId);
  if (runner === undefined || runner.phase === 'done') return;
  runner.exception = error;
  finishDriver(ctx, runner, 'ERROR');
}

function logFinalState(ctx: Ctx, runner: DriverRunner, state: DriverState): void {
  const id = runner.driverId;
  switch (state) {
    case 'ERROR':
      return log(ctx, 'warn', `Driver ${id} failed with unrecoverable exception: ${runner.exception ?? ''}`);
    case 'FAILED':
      return log(ctx, 'warn', `Driver ${id} exited with failure`);
    case 'FINISHED':
      return log(ctx, 'info', `Driver ${id} exited successfully`);
    case 'KILLED':
      return log(ctx, 'info', `Driver ${id} was killed by user`);
    default:
      return log(ctx, 'debug', `Driver ${id} changed state to ${state}`);
  }
}

/** Spark's `handleDriverStateChanged`: forward, move to the finished list, free cores and memory. */
function finishDriver(ctx: Ctx, runner: DriverRunner, state: DriverState): void {
  const s = ctx.state;
  runner.state = state;
  runner.phase = 'done';
  logFinalState(ctx, runner, state);
  sendToMaster(ctx, {
    type: 'DriverStateChanged',
    driverId: runner.driverId,
    state,
    ...(state === 'ERROR' && runner.exception !== undefined ? { exception: runner.exception } : {}),
  });
  s.drivers.delete(runner.driverId);
  s.finishedDrivers.set(runner.driverId, runner);
  trimFinished(s.finishedDrivers, ctx.config.retainedDrivers);
  s.coresUsed -= runner.desc.cores;
  s.memoryUsedMb -= runner.desc.memoryMb;
}
