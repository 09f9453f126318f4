// `schedule()` (reference §5): hand free worker resources to waiting drivers, then to waiting apps' executors.
// Placement itself is decided by the pure functions in src/scheduling; this file builds their read-only views
// from the Master's state and turns the plans into state changes and effects.

import {
  placeDrivers,
  placeExecutorsInTurn,
  type DriverHostView,
  type ExecutorRequest,
  type ExecutorTurn,
  type WorkerView,
} from '../scheduling/index.ts';
import { appRecord } from './apps.ts';
import type { Ctx } from './context.ts';
import type { MasterConfig } from './config.ts';
import { resourcesField, resourcesFree } from './resources.ts';
import { persistenceKey } from './persisted.ts';
import { workersInBackoff } from './relaunch-backoff.ts';
import {
  appAddExecutor,
  coresFree,
  coresLeft,
  hostPort,
  memoryFreeMb,
  removeFrom,
  workerAddDriver,
  workerAddExecutor,
  type ApplicationInfo,
  type DriverInfo,
  type ExecutorInfo,
  type MasterState,
  type WorkerInfo,
} from './state.ts';

/**
 * Runs after every change of supply or demand (worker registered or removed, app registered or removed, driver
 * submitted or finished, any executor state change or request, recovery completed). A no-op unless ALIVE.
 * Drivers take strict precedence over executors.
 */
export function schedule(ctx: Ctx): void {
  if (ctx.state.recoveryState !== 'ALIVE') return;
  const timeSchedule = ctx.probes?.timeSchedule;
  if (timeSchedule === undefined) return scheduleNow(ctx);
  timeSchedule(() => scheduleNow(ctx));
}

function scheduleNow(ctx: Ctx): void {
  scheduleDrivers(ctx);
  startExecutorsOnWorkers(ctx);
}

function scheduleDrivers(ctx: Ctx): void {
  const { state, config } = ctx;
  if (state.waitingDrivers.length === 0) return;
  const workers: DriverHostView[] = [...state.workers].map((w) => ({
    ...workerView(w),
    driverCount: w.drivers.size,
    executorCount: w.executors.size,
  }));
  const waiting = [...state.waitingDrivers];
  const plan = placeDrivers(
    {
      waitingDrivers: waiting.map((d) => ({ id: d.id, cores: d.desc.cores, memoryMb: d.desc.memoryMb, resources: d.desc.resourceReqs })),
      workers,
      runningDrivers: state.drivers.size - state.waitingDrivers.length,
      ...(config.maxDrivers === undefined ? {} : { maxDrivers: config.maxDrivers }),
      spreadOut: config.spreadOutDrivers,
    },
    ctx.rng,
  );
  for (const placement of plan.placements) {
    const driver = waiting.find((d) => d.id === placement.driverId);
    const worker = state.idToWorker.get(placement.workerId);
    if (driver === undefined || worker === undefined || worker.state !== 'ALIVE') {
      throw new Error(`driver placement names an unknown driver or worker: ${JSON.stringify(placement)}`);
    }
    driver.resources = placement.resources ?? {};
    launchDriver(ctx, worker, driver);
  }
  for (const warning of plan.warnings) ctx.out.warn(warning.message, { driverId: warning.driverId });
}

function launchDriver(ctx: Ctx, worker: WorkerInfo, driver: DriverInfo): void {
  ctx.out.info(`Launching driver ${driver.id} on worker ${worker.id}`, { driverId: driver.id, workerId: worker.id });
  workerAddDriver(worker, driver);
  driver.worker = worker;
  ctx.out.send(worker.address, {
    type: 'LaunchDriver',
    driverId: driver.id,
    driverDesc: driver.desc,
    ...resourcesField(driver.resources),
  });
  driver.state = 'RUNNING';
  removeFrom(ctx.state.waitingDrivers, driver);
}

/** What placement sees of a worker (shared with the planner, plan.ts). */
export const workerView = (w: WorkerInfo): WorkerView => ({
  id: w.id,
  // A worker whose WorkerLatestState is not in yet is not offered (WorkerInfo.awaitingLatestState).
  state: w.awaitingLatestState ? 'UNKNOWN' : w.state,
  coresFree: coresFree(w),
  memoryFreeMb: memoryFreeMb(w),
  resourcesFree: resourcesFree(w.resources),
});

/**
 * One `placeExecutorsInTurn` pass over every app that can afford one more executor, in registration order, on
 * views of every worker: what `schedule()` launches, and what the planner (plan.ts) reads without launching.
 */
export function executorPass(state: Readonly<MasterState>, config: MasterConfig, now: number, extra?: ExecutorRequest): ExecutorPass {
  // An app that cannot afford one more executor is skipped outright, without a warning.
  const apps = state.waitingApps.filter((app) => coresLeft(app) >= (app.desc.coresPerExecutor ?? 1));
  const backoffs = apps.map((app) => workersInBackoff(app, now));
  const requests = apps.map((app, i) => executorRequest(app, backoffs[i]));
  const turns =
    apps.length === 0 && extra === undefined
      ? []
      : placeExecutorsInTurn(extra === undefined ? requests : [...requests, extra], [...state.workers].map(workerView), {
          spreadOut: config.spreadOutApps,
          policy: config.workerSelectionPolicy,
        });
  return { apps, backoffs, requests, turns };
}

export interface ExecutorPass {
  readonly apps: ReadonlyArray<ApplicationInfo>;
  readonly backoffs: ReadonlyArray<ReadonlySet<string> | undefined>;
  readonly requests: ReadonlyArray<ExecutorRequest>;
  /** Parallel to `requests`, then the extra request's turn last when one was given. */
  readonly turns: ReadonlyArray<ExecutorTurn>;
}

/**
 * FIFO over apps in registration order; each app sees what the apps before it left (reference §5.3). The worker
 * views are built once per pass: `placeExecutorsInTurn` carries each app's launches over to the next app. An
 * app does not use the workers where its relaunch backoff runs (relaunch-backoff.ts).
 */
function startExecutorsOnWorkers(ctx: Ctx): void {
  const { state } = ctx;
  const { apps, backoffs, turns } = executorPass(state, ctx.config, ctx.now);
  apps.forEach((app, i) => {
    const turn = turns[i] as ExecutorTurn;
    // An app held back by its relaunch backoff waits for a timer, not for resources.
    const mayHang =
      state.waitingApps.length === 1 && app.executors.size === 0 && !turn.anyUsableWorker && backoffs[i] === undefined;
    if (mayHang) {
      ctx.out.warn(`App ${app.id} requires more resource than any of Workers could have.`, { appId: app.id });
    }
    for (const launch of turn.executors) {
      const worker = state.idToWorker.get(launch.workerId);
      if (worker === undefined || worker.state !== 'ALIVE') {
        throw new Error(`executor placement names a worker that is not ALIVE: ${launch.workerId}`);
      }
      reserveExecutorId(ctx, app);
      const exec = appAddExecutor(app, worker, launch.cores, launch.memoryMb, undefined, launch.resources);
      launchExecutor(ctx, worker, exec);
      app.state = 'RUNNING';
    }
  });
}

/** Executor ids are reserved this many at a time: one persist of the app record per block of launches. */
export const EXECUTOR_ID_BLOCK = 64;

/**
 * Before the app's next executor id is given, it must be reserved on disk: a master that recovers the app then
 * starts past every id an earlier one gave. A reused id would make a late report about an old executor pass for
 * news of the new one, at the master and at the driver (src/sim found it: seeds 70 and 74). Spark starts again
 * from the executors its workers report, and can reuse an id.
 */
function reserveExecutorId(ctx: Ctx, app: ApplicationInfo): void {
  if (app.nextExecutorId < app.executorIdsReserved) return;
  app.executorIdsReserved = app.nextExecutorId + EXECUTOR_ID_BLOCK;
  const record = appRecord(app);
  ctx.out.persist(persistenceKey(record), record);
}

export function executorRequest(app: ApplicationInfo, inBackoff: ReadonlySet<string> | undefined): ExecutorRequest {
  return {
    coresLeft: coresLeft(app),
    ...(app.desc.coresPerExecutor === undefined ? {} : { coresPerExecutor: app.desc.coresPerExecutor }),
    memoryMbPerExecutor: app.desc.memoryMbPerExecutor,
    ...(Number.isFinite(app.executorLimit) ? { executorLimit: app.executorLimit } : {}),
    existingExecutors: app.executors.size,
    ...(inBackoff === undefined ? {} : { excludedWorkerIds: inBackoff }),
    ...(app.desc.resourceReqsPerExecutor === undefined ? {} : { resourcesPerExecutor: app.desc.resourceReqsPerExecutor }),
  };
}

function launchExecutor(ctx: Ctx, worker: WorkerInfo, exec: ExecutorInfo): void {
  const appId = exec.app.id;
  ctx.out.info(`Launching executor ${appId}/${exec.id} on worker ${worker.id}`, {
    appId,
    execId: exec.id,
    workerId: worker.id,
  });
  workerAddExecutor(worker, exec);
  // Ordering rule (effects.ts): the driver hears of the executor before the worker is told to start it.
  ctx.out.send(exec.app.driverAddress, {
    type: 'ExecutorAdded',
    id: exec.id,
    workerId: worker.id,
    hostPort: hostPort(worker),
    cores: exec.cores,
    memoryMb: exec.memoryMb,
  });
  ctx.out.send(worker.address, {
    type: 'LaunchExecutor',
    masterUrl: ctx.config.masterUrl,
    appId,
    execId: exec.id,
    appDesc: exec.app.desc,
    cores: exec.cores,
    memoryMb: exec.memoryMb,
    ...resourcesField(exec.resources),
  });
}
