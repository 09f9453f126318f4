// Workers (reference §2.1, §3.2, §4.4, §4.5): registration, liveness, reconciliation of what a worker runs,
// the timeout sweep, removal and decommissioning.

import { envIdOf } from '../protocol/addresses.ts';
import { EXECUTOR_FINISHED_STATES } from '../protocol/messages.ts';
import type { Ctx } from './context.ts';
import { relaunchDriver, removeDriver } from './drivers.ts';
import type { Msg } from './inputs.ts';
import { persistenceKey, type PersistedWorker } from './persisted.ts';
import { noteHealthyExecutors } from './relaunch-backoff.ts';
import { schedule } from './schedule.ts';
import { acquire, hasResources, newResourceBook, release } from './resources.ts';
import type { AssignedResources } from '../scheduling/index.ts';
import { appRemoveExecutor, hostPort, type WorkerInfo } from './state.ts';

export function workerRecord(w: WorkerInfo): PersistedWorker {
  return {
    kind: 'worker',
    id: w.id,
    host: w.host,
    port: w.port,
    workerAddress: w.address,
    cores: w.cores,
    memoryMb: w.memoryMb,
    webUiUrl: w.webUiUrl,
    // Spark persists the worker's resource address lists with it (reference §8.1).
    ...(hasResources(w.resources) ? { resources: w.resources.addresses } : {}),
  };
}

/** A fresh WorkerInfo: ALIVE, nothing used, last heard from `now` (also how recovery rebuilds one). */
export function newWorkerInfo(record: Omit<PersistedWorker, 'kind'>, now: number): WorkerInfo {
  return {
    id: record.id,
    host: record.host,
    port: record.port,
    address: record.workerAddress,
    envId: envIdOf(record.workerAddress),
    cores: record.cores,
    memoryMb: record.memoryMb,
    webUiUrl: record.webUiUrl,
    state: 'ALIVE',
    coresUsed: 0,
    memoryUsedMb: 0,
    awaitingLatestState: false,
    orphans: new Map(),
    resources: newResourceBook(record.resources),
    lastHeartbeatMs: now,
    executors: new Map(),
    drivers: new Map(),
  };
}

export function handleRegisterWorker(ctx: Ctx, msg: Msg<'RegisterWorker'>): void {
  const { state, config, out } = ctx;
  out.info(`Registering worker ${msg.host}:${msg.port} with ${msg.cores} cores, ${msg.memoryMb} MB RAM`, {
    workerId: msg.id,
  });
  if (state.recoveryState === 'STANDBY') {
    out.send(msg.workerAddress, { type: 'MasterInStandby' });
    return;
  }
  const registered = (duplicate: boolean): void =>
    out.send(msg.workerAddress, {
      type: 'RegisteredWorker',
      masterAddress: config.masterAddress,
      masterWebUiUrl: config.masterWebUiUrl,
      masterUrl: msg.masterAddress,
      duplicate,
    });
  const known = state.idToWorker.get(msg.id);
  if (known !== undefined) {
    // SPARK-23191: a duplicate id is acknowledged (the worker keeps running), not refused. A worker that was
    // UNKNOWN during recovery and registers again is back (4.0); nothing else changes.
    if (known.state === 'UNKNOWN') {
      out.info(`Worker has been re-registered: ${msg.id}`, { workerId: msg.id });
      known.state = 'ALIVE';
      // What it runs is not known yet: nothing is placed on it before its WorkerLatestState (or its
      // WorkerSchedulerStateResponse) says.
      known.awaitingLatestState = true;
    }
    registered(true);
    return;
  }
  const worker = newWorkerInfo({ ...msg, webUiUrl: msg.workerWebUiUrl }, ctx.now);
  worker.awaitingLatestState = true;
  if (registerWorker(ctx, worker)) {
    out.persist(persistenceKey(workerRecord(worker)), workerRecord(worker));
    registered(false);
    schedule(ctx);
  } else {
    const message = `Attempted to re-register worker at same address: ${worker.envId}`;
    out.warn(`Worker registration failed. ${message}`, { workerId: msg.id });
    out.send(msg.workerAddress, { type: 'RegisterWorkerFailed', message });
  }
}

/**
 * Adds a worker to the indexes. DEAD entries on the same host:port are dropped first. Another worker on the
 * same RPC address is replaced if it is UNKNOWN (it restarted during recovery), else this one is refused.
 */
export function registerWorker(ctx: Ctx, worker: WorkerInfo): boolean {
  const { state } = ctx;
  const key = hostPort(worker);
  const dead = state.deadWorkers.get(key);
  if (dead !== undefined) {
    for (const w of dead) state.workers.delete(w);
    state.deadWorkers.delete(key);
  }
  const old = state.addressToWorker.get(worker.envId);
  if (old !== undefined) {
    if (old.state !== 'UNKNOWN') {
      ctx.out.info(`Attempted to re-register worker at same address: ${worker.envId}`, { workerId: worker.id });
      return false;
    }
    removeWorker(ctx, old, 'Worker replaced by a new worker with same address');
  }
  state.workers.add(worker);
  state.idToWorker.set(worker.id, worker);
  state.addressToWorker.set(worker.envId, worker);
  return true;
}

export function handleHeartbeat(ctx: Ctx, msg: Msg<'Heartbeat'>): void {
  const known = ctx.state.idToWorker.get(msg.workerId);
  if (known !== undefined) {
    known.lastHeartbeatMs = ctx.now;
    return;
  }
  // Only a worker we once had (now DEAD, still listed) is asked to come back; a stranger is ignored.
  if ([...ctx.state.deadWorkers.values()].some((dead) => [...dead].some((w) => w.id === msg.workerId))) {
    ctx.out.warn(`Got heartbeat from unregistered worker ${msg.workerId}. Asking it to re-register.`, {
      workerId: msg.workerId,
    });
    ctx.out.send(msg.workerAddress, { type: 'ReconnectWorker', masterUrl: ctx.config.masterUrl });
  } else {
    ctx.out.warn(
      `Got heartbeat from unregistered worker ${msg.workerId}. This worker was never registered, so ignoring the heartbeat.`,
      { workerId: msg.workerId },
    );
  }
}

/** SPARK-13604: kill whatever a (re-)registered worker runs that the master does not know about. */
export function handleWorkerLatestState(ctx: Ctx, msg: Msg<'WorkerLatestState'>): void {
  const worker = ctx.state.idToWorker.get(msg.id);
  if (worker === undefined) {
    ctx.out.warn(`Worker state from unknown worker: ${msg.id}`, { workerId: msg.id });
    return;
  }
  for (const exec of msg.executors) {
    const fullId = `${exec.appId}/${exec.execId}`;
    if (worker.executors.has(fullId)) continue;
    noteExecutorId(ctx, exec.appId, exec.execId);
    ctx.out.send(worker.address, {
      type: 'KillExecutor',
      masterUrl: ctx.config.masterUrl,
      appId: exec.appId,
      execId: exec.execId,
    });
    // Until it ends, it holds its cores and memory on the worker (WorkerInfo.orphans).
    if (!EXECUTOR_FINISHED_STATES.includes(exec.state)) holdAsOrphan(worker, fullId, exec.cores, exec.memoryMb, exec.resources);
  }
  // The worker's whole state: an orphan it no longer runs has ended, and its report of that may have been lost.
  const reported = new Set(msg.executors.map((e) => `${e.appId}/${e.execId}`));
  for (const fullId of [...worker.orphans.keys()]) if (!reported.has(fullId)) releaseOrphan(ctx, fullId, worker.envId);
  for (const driverId of msg.driverIds) {
    if (!worker.drivers.has(driverId)) ctx.out.send(worker.address, { type: 'KillDriver', driverId });
  }
  if (worker.awaitingLatestState) {
    worker.awaitingLatestState = false;
    schedule(ctx);
  }
}

/**
 * An executor id this master did not give (a previous incarnation did, before a restart) is never given again:
 * a late report about the old executor would be taken for news of the new one (src/sim found it: seed 74).
 */
export function noteExecutorId(ctx: Ctx, appId: string, execId: number): void {
  const app = ctx.state.idToApp.get(appId);
  if (app !== undefined && app.nextExecutorId <= execId) app.nextExecutorId = execId + 1;
}

/** An executor the worker runs (or is killing) that no app holds: its cores and memory stay used until it ends. */
export function holdAsOrphan(
  worker: WorkerInfo,
  fullId: string,
  cores: number,
  memoryMb: number,
  resources?: AssignedResources,
): void {
  if (worker.orphans.has(fullId)) return;
  // An address another holder has is not taken (a worker's report is not trusted to take it away).
  acquire(worker.resources, fullId, resources);
  worker.orphans.set(fullId, resources === undefined ? { cores, memoryMb } : { cores, memoryMb, resources });
  worker.coresUsed += cores;
  worker.memoryUsedMb += memoryMb;
}

/** The worker at `envId` no longer runs the orphan `fullId`: its resources are free again. */
export function releaseOrphan(ctx: Ctx, fullId: string, envId: string): boolean {
  const worker = ctx.state.addressToWorker.get(envId);
  const orphan = worker?.orphans.get(fullId);
  if (worker === undefined || orphan === undefined) return false;
  worker.orphans.delete(fullId);
  release(worker.resources, fullId, orphan.resources);
  worker.coresUsed -= orphan.cores;
  worker.memoryUsedMb -= orphan.memoryMb;
  return true;
}



function forgetDead(ctx: Ctx, worker: WorkerInfo): void {
  const key = hostPort(worker);
  const dead = ctx.state.deadWorkers.get(key);
  if (dead === undefined) return;
  dead.delete(worker);
  if (dead.size === 0) ctx.state.deadWorkers.delete(key);
}

/**
 * The periodic sweep (`CheckForWorkerTimeOut`). A worker silent for longer than the timeout is removed; a
 * DEAD one is culled from the list once silent for (deadWorkerPersistence + 1) timeouts.
 */
export function timeOutDeadWorkers(ctx: Ctx): void {
  const timeoutMs = ctx.config.workerTimeoutMs;
  const silent = [...ctx.state.workers].filter((w) => w.lastHeartbeatMs < ctx.now - timeoutMs);
  for (const worker of silent) {
    if (worker.state !== 'DEAD') {
      ctx.out.warn(`Removing ${worker.id} because we got no heartbeat in ${timeoutMs} ms`, { workerId: worker.id });
      removeWorker(ctx, worker, `Not receiving heartbeat for ${Math.floor(timeoutMs / 1000)} seconds`);
    } else if (worker.lastHeartbeatMs < ctx.now - (ctx.config.deadWorkerPersistence + 1) * timeoutMs) {
      ctx.state.workers.delete(worker);
      forgetDead(ctx, worker);
    }
  }
}

/**
 * Reference §4.5. The worker stays listed as DEAD. Its executors are LOST to their drivers (not counted as
 * failures); its drivers are relaunched if supervised, else end in ERROR; every active app hears of it.
 */
export function removeWorker(ctx: Ctx, worker: WorkerInfo, message: string): void {
  const { state, out } = ctx;
  out.info(`Removing worker ${worker.id} on ${worker.host}:${worker.port}`, { workerId: worker.id, reason: message });
  worker.state = 'DEAD';
  const key = hostPort(worker);
  const dead = state.deadWorkers.get(key) ?? new Set<WorkerInfo>();
  dead.add(worker);
  state.deadWorkers.set(key, dead);
  if (state.idToWorker.get(worker.id) === worker) state.idToWorker.delete(worker.id);
  if (state.addressToWorker.get(worker.envId) === worker) state.addressToWorker.delete(worker.envId);
  for (const exec of worker.executors.values()) {
    out.send(exec.app.driverAddress, {
      type: 'ExecutorUpdated',
      id: exec.id,
      state: 'LOST',
      message: `worker lost: ${message}`,
      workerHost: worker.host,
    });
    noteHealthyExecutors(ctx, exec.app, [exec]);
    exec.state = 'LOST';
    appRemoveExecutor(exec.app, exec);
  }
  for (const driver of [...worker.drivers.values()]) {
    if (driver.desc.supervise) {
      relaunchDriver(ctx, driver);
    } else {
      out.info(`Not re-launching ${driver.id} because it was not supervised`, { driverId: driver.id });
      removeDriver(ctx, driver.id, 'ERROR', undefined);
    }
  }
  for (const app of state.apps) {
    out.send(app.driverAddress, { type: 'WorkerRemoved', id: worker.id, host: worker.host, message });
  }
  out.unpersist(persistenceKey(workerRecord(worker)));
  schedule(ctx);
}

export function handleWorkerDecommissioning(ctx: Ctx, msg: Msg<'WorkerDecommissioning'>): void {
  if (ctx.state.recoveryState === 'STANDBY') {
    ctx.out.send(msg.workerAddress, { type: 'MasterInStandby' });
    return;
  }
  const worker = ctx.state.idToWorker.get(msg.id);
  if (worker !== undefined) decommissionWorker(ctx, worker);
}

/**
 * The worker stays registered and keeps heartbeating but is never chosen again. Its executors are reported
 * DECOMMISSIONED and leave their apps, yet stay booked on the worker; it is unpersisted so a recovery does
 * not bring it back.
 */
export function decommissionWorker(ctx: Ctx, worker: WorkerInfo): void {
  if (worker.state === 'DECOMMISSIONED') {
    ctx.out.warn(`Skipping decommissioning worker ${worker.id} as worker is already decommissioned`, {
      workerId: worker.id,
    });
    return;
  }
  ctx.out.info(`Decommissioning worker ${worker.id} on ${worker.host}:${worker.port}`, { workerId: worker.id });
  worker.state = 'DECOMMISSIONED';
  for (const exec of worker.executors.values()) {
    ctx.out.send(exec.app.driverAddress, {
      type: 'ExecutorUpdated',
      id: exec.id,
      state: 'DECOMMISSIONED',
      message: 'worker decommissioned',
      workerHost: worker.host,
    });
    exec.state = 'DECOMMISSIONED';
    appRemoveExecutor(exec.app, exec);
  }
  ctx.out.unpersist(persistenceKey(workerRecord(worker)));
  // Their apps may have new executors elsewhere now (Spark waits for the next schedule()).
  schedule(ctx);
}
