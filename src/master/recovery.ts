// Leadership and recovery (reference §3.1, §4.4, §8.5). A new leader with persisted state enters RECOVERING:
// recovered workers and apps are UNKNOWN and told `MasterChanged`; they answer with their state
// (WorkerSchedulerStateResponse, MasterChangeAcknowledged). Recovery completes when nothing is UNKNOWN, or
// when the CompleteRecovery timer fires; whatever has not answered by then is removed.

import { endpointOn } from '../protocol/addresses.ts';
import { EXECUTOR_FINISHED_STATES } from '../protocol/messages.ts';
import { newApplicationInfo, registerApplication, removeApplication } from './apps.ts';
import type { Ctx } from './context.ts';
import { relaunchDriver, removeDriver } from './drivers.ts';
import type { Msg } from './inputs.ts';
import type { PersistedMasterState } from './persisted.ts';
import { schedule } from './schedule.ts';
import { recoverable } from './resources.ts';
import { appAddExecutor, workerAddDriver, workerAddExecutor, type DriverInfo } from './state.ts';
import { holdAsOrphan, newWorkerInfo, registerWorker, releaseOrphan, removeWorker } from './workers.ts';

export function handleElectedLeader(ctx: Ctx, persisted: PersistedMasterState): void {
  const { state, out } = ctx;
  if (state.recoveryState !== 'STANDBY') {
    out.warn(`Elected leader again while ${state.recoveryState}; ignoring`);
    return;
  }
  const empty = persisted.apps.length === 0 && persisted.drivers.length === 0 && persisted.workers.length === 0;
  state.recoveryState = empty ? 'ALIVE' : 'RECOVERING';
  out.info(`I have been elected leader! New state: ${state.recoveryState}`, { state: state.recoveryState });
  if (empty) return;
  beginRecovery(ctx, persisted);
  // 4.0 (SPARK-46664): with nothing to wait for, finish now instead of waiting for the timeout.
  if (canCompleteRecovery(ctx)) {
    completeRecovery(ctx);
  } else {
    out.startTimer('CompleteRecovery', ctx.config.recoveryTimeoutMs);
  }
}

function beginRecovery(ctx: Ctx, persisted: PersistedMasterState): void {
  const { state, config, out } = ctx;
  state.recoveryStartMs = ctx.now;
  const masterChanged = { type: 'MasterChanged', masterAddress: config.masterAddress, masterWebUiUrl: config.masterWebUiUrl } as const;
  for (const record of persisted.apps) {
    out.info(`Trying to recover app: ${record.id}`, { appId: record.id });
    const app = newApplicationInfo(record);
    registerApplication(ctx, app);
    app.state = 'UNKNOWN';
    out.send(app.driverAddress, masterChanged);
  }
  // Drivers go back into `drivers` only: those on lost workers are dealt with when recovery completes.
  for (const record of persisted.drivers) {
    const driver: DriverInfo = {
      id: record.id,
      desc: record.desc,
      startTimeMs: record.startTimeMs,
      submitDateMs: record.submitDateMs,
      state: 'SUBMITTED',
      exception: undefined,
      worker: undefined,
      resources: {},
    };
    state.drivers.add(driver);
  }
  for (const record of persisted.workers) {
    out.info(`Trying to recover worker: ${record.id}`, { workerId: record.id });
    const worker = newWorkerInfo(record, ctx.now);
    registerWorker(ctx, worker);
    worker.state = 'UNKNOWN';
    out.send(worker.address, masterChanged);
  }
}

export const canCompleteRecovery = (ctx: Ctx): boolean =>
  ![...ctx.state.workers].some((w) => w.state === 'UNKNOWN') && ![...ctx.state.apps].some((a) => a.state === 'UNKNOWN');

/** Only once per recovery (COMPLETING_RECOVERY guards re-entry from the removals it triggers). */
export function completeRecovery(ctx: Ctx): void {
  const { state, out } = ctx;
  if (state.recoveryState !== 'RECOVERING') return;
  state.recoveryState = 'COMPLETING_RECOVERY';
  out.cancelTimer('CompleteRecovery');
  for (const w of [...state.workers]) {
    if (w.state === 'UNKNOWN') removeWorker(ctx, w, 'Not responding for recovery');
  }
  for (const app of [...state.apps]) {
    if (app.state !== 'UNKNOWN') continue;
    removeApplication(ctx, app, 'FINISHED');
    // Spark tells such an app nothing (its driver is presumed dead). One that was only cut off would wait for
    // executors for ever; it hears why instead, when its connection recovers (src/sim found it: seed 19).
    out.send(app.driverAddress, { type: 'ApplicationRemoved', message: 'FINISHED: it did not answer the recovery of the new master in time (flint.deploy.recoveryTimeout)' });
  }
  for (const app of state.apps) if (app.state === 'WAITING') app.state = 'RUNNING';
  // Drivers no worker claimed: relaunch the supervised ones, give up on the others.
  for (const d of [...state.drivers]) {
    if (d.worker !== undefined) continue;
    out.warn(`Driver ${d.id} was not found after master recovery`, { driverId: d.id });
    if (d.desc.supervise) {
      relaunchDriver(ctx, d);
    } else {
      out.warn(`Did not re-launch ${d.id} because it was not supervised`, { driverId: d.id });
      removeDriver(ctx, d.id, 'ERROR', undefined);
    }
  }
  state.recoveryState = 'ALIVE';
  schedule(ctx);
  out.info(`Recovery complete in ${ctx.now - state.recoveryStartMs} ms - resuming operations!`);
}

export function handleCompleteRecoveryTimer(ctx: Ctx): void {
  completeRecovery(ctx);
}

export function handleMasterChangeAcknowledged(ctx: Ctx, msg: Msg<'MasterChangeAcknowledged'>, from: string): void {
  const app = ctx.state.idToApp.get(msg.appId);
  if (app === undefined) {
    ctx.out.warn(`Master change ack from unknown app: ${msg.appId}`, { appId: msg.appId });
    // A leader that does not know the app (it was removed while its driver was cut off, and the removal's
    // message was lost with the master that sent it) tells the driver, which otherwise re-dials for ever. A standby
    // stays silent. Spark's master only logs (src/sim found it: seed 1101; docs/differences-from-spark.md).
    if (ctx.state.recoveryState !== 'STANDBY') {
      ctx.out.send(endpointOn(from, 'AppClient'), { type: 'ApplicationRemoved', message: `UNKNOWN: the master does not know application ${msg.appId}` });
    }
  } else {
    ctx.out.info(`Application has been re-registered: ${msg.appId}`, { appId: msg.appId });
    // An app client has no port: one that reached us by itself (it re-dials while its master is gone) may
    // not have heard our MasterChanged, sent before it was connected. Tell it now; it acks only a change.
    // Only UNKNOWN becomes WAITING: a late ack must not take a RUNNING app back.
    if (app.state === 'UNKNOWN') {
      ctx.out.send(app.driverAddress, { type: 'MasterChanged', masterAddress: ctx.config.masterAddress, masterWebUiUrl: ctx.config.masterWebUiUrl });
      app.state = 'WAITING';
    }
  }
  if (canCompleteRecovery(ctx)) completeRecovery(ctx);
}

/**
 * A recovered worker reports what it runs. Its executors of known apps are rebuilt with their ids and states
 * (executors of unknown apps are ignored, not killed); the drivers it names are claimed and RUNNING again.
 */
export function handleWorkerSchedulerStateResponse(ctx: Ctx, msg: Msg<'WorkerSchedulerStateResponse'>): void {
  const { state, out } = ctx;
  const worker = state.idToWorker.get(msg.id);
  if (worker === undefined) {
    out.warn(`Scheduler state from unknown worker: ${msg.id}`, { workerId: msg.id });
  } else if (state.recoveryState !== 'RECOVERING') {
    // Only during a recovery may a worker hand back executors. A late answer (held by a partition past the
    // recovery timeout, the worker registered afresh meanwhile) would re-add executors the master has already
    // replaced, over the app's cores and the worker's (Spark takes it at any time; src/sim found it: seed 15). The
    // worker's WorkerLatestState settles its executors instead.
    out.warn(`Ignored scheduler state from worker ${msg.id}: the recovery is over`, { workerId: msg.id });
  } else {
    out.info(`Worker has been re-registered: ${msg.id}`, { workerId: msg.id });
    worker.state = 'ALIVE';
    worker.awaitingLatestState = false; // this report says what it holds
    for (const reported of msg.executors) {
      const app = state.idToApp.get(reported.appId);
      if (app === undefined) continue;
      const fullId = `${reported.appId}/${reported.execId}`;
      releaseOrphan(ctx, fullId, worker.envId); // known again: not an orphan
      const max = app.desc.maxCores;
      if (max !== undefined && app.coresGranted + reported.cores > max) {
        // The previous leader had replaced this executor (its worker was lost to it) and the kill never arrived:
        // taken back, the app would run over its maxCores. It is killed, and holds its cores until it ends (Spark
        // takes every reported executor back; src/sim found it: bench seed 6654; docs/differences-from-spark.md).
        out.warn(`Executor ${fullId} on ${worker.id} would take app ${app.id} over its ${max} cores: killing it`, { appId: app.id });
        out.send(worker.address, { type: 'KillExecutor', masterUrl: ctx.config.masterUrl, appId: reported.appId, execId: reported.execId });
        if (!EXECUTOR_FINISHED_STATES.includes(reported.state)) {
          holdAsOrphan(worker, fullId, reported.cores, reported.memoryMb, reported.resources);
        }
        continue;
      }
      const taken = recoverable(worker.resources, fullId, reported.resources);
      if (taken.dropped.length > 0) out.warn(`Executor ${fullId} on ${worker.id} reported addresses it cannot hold: ${taken.dropped.join(', ')}`, { appId: app.id });
      const exec = appAddExecutor(app, worker, reported.cores, reported.memoryMb, reported.execId, taken.resources);
      workerAddExecutor(worker, exec);
      exec.state = reported.state;
      // Its start is unknown: uptime counts from this report (relaunch-backoff.ts).
      if (reported.state === 'RUNNING') exec.runningSinceMs = ctx.now;
    }
    for (const driverId of msg.driverIds) {
      const driver = [...state.drivers].find((d) => d.id === driverId);
      if (driver === undefined) continue;
      driver.worker = worker;
      driver.state = 'RUNNING';
      const taken = recoverable(worker.resources, driverId, msg.driverResources?.[driverId]);
      if (taken.dropped.length > 0) out.warn(`Driver ${driverId} on ${worker.id} reported addresses it cannot hold: ${taken.dropped.join(', ')}`, { driverId });
      driver.resources = taken.resources;
      workerAddDriver(worker, driver);
    }
  }
  if (canCompleteRecovery(ctx)) completeRecovery(ctx);
}
