// The Master's in-memory state (reference §4.1): Spark's WorkerInfo, ApplicationInfo, ExecutorDesc and
// DriverInfo, and the maps that index them. Objects refer to each other directly (an executor knows its app
// and worker); nothing here is a live handle to another process, only endpoint addresses.
//
// Only the machine's handlers mutate this state, one input at a time. Readers (the UI's `/json`, the
// MasterStateResponse) get it read-only.

import { TimerBook } from '../kit/timers.ts';
import type {
  ApplicationDescription,
  ApplicationState,
  DriverDescription,
  DriverState,
  ExecutorState,
  RecoveryState,
  WorkerState,
} from '../protocol/messages.ts';
import type { MasterConfig } from './config.ts';
import type { MasterTimer } from './inputs.ts';
import { acquireOrThrow, release, type WorkerResourceBook } from './resources.ts';
import type { AssignedResources } from '../scheduling/index.ts';

export interface WorkerInfo {
  readonly id: string;
  readonly host: string;
  readonly port: number;
  /** The worker endpoint: `flint://Worker@host:port`. Commands are sent here. */
  readonly address: string;
  /** The env of `address` (`flint://host:port`): the key of `addressToWorker` and of `Disconnected`. */
  readonly envId: string;
  readonly cores: number;
  readonly memoryMb: number;
  readonly webUiUrl: string;
  state: WorkerState;
  coresUsed: number;
  memoryUsedMb: number;
  lastHeartbeatMs: number;
  /** By full id (`appId/execId`). */
  readonly executors: Map<string, ExecutorInfo>;
  readonly drivers: Map<string, DriverInfo>;
  /**
   * Registered, and its WorkerLatestState not in yet: it may still run executors this master does not know (ones
   * launched for an earlier registration, by commands that reached it late), so nothing is placed on it until
   * that report says what it holds. Recovered workers report through WorkerSchedulerStateResponse instead.
   */
  awaitingLatestState: boolean;
  /**
   * Executors the worker reported that this master does not know, by full id: it has told the worker to kill
   * them, and their cores and memory count as used (in `coresUsed`, `memoryUsedMb`) until the worker reports
   * them ended. Without this, the master would place new executors on cores they still hold.
   */
  readonly orphans: Map<string, { readonly cores: number; readonly memoryMb: number; readonly resources?: AssignedResources }>;
  /** Its custom resources (GPU, FPGA) and who holds each address (resources.ts). */
  readonly resources: WorkerResourceBook;
}

export interface ExecutorInfo {
  readonly id: number;
  readonly app: ApplicationInfo;
  readonly worker: WorkerInfo;
  readonly cores: number;
  readonly memoryMb: number;
  /** The custom-resource addresses it holds on its worker; `{}` for none. */
  readonly resources: AssignedResources;
  state: ExecutorState;
  /** When the master heard RUNNING (its own clock); undefined before. Uptime counts from here. */
  runningSinceMs: number | undefined;
}

/** An app's relaunch backoff on one worker (relaunch-backoff.ts). */
export interface RelaunchBackoff {
  /** The app's executor failures on this worker since one of its executors there was last proven healthy. */
  failures: number;
  lastFailureMs: number;
  /** The app gets no new executor on this worker before this time. */
  untilMs: number;
}

export interface ApplicationInfo {
  readonly id: string;
  readonly desc: ApplicationDescription;
  /** The app client endpoint (Spark's `driver` ref). Executor updates and removal notices go here. */
  readonly driverAddress: string;
  /** The env of `driverAddress`: the key of `addressToApp`. */
  readonly driverEnvId: string;
  readonly startTimeMs: number;
  readonly submitDateMs: number;
  /** `flint.deploy.defaultCores` at registration; undefined = unlimited. */
  readonly defaultCores: number | undefined;
  state: ApplicationState;
  readonly executors: Map<number, ExecutorInfo>;
  /** History for the UI: executors removed while the app ran. */
  readonly removedExecutors: ExecutorInfo[];
  coresGranted: number;
  /** −1 while the app is active. */
  endTimeMs: number;
  /** Target number of executors (dynamic allocation); Infinity = no limit. */
  executorLimit: number;
  nextExecutorId: number;
  /** Ids below this are reserved in the persisted record (`executorIdsBelow`); 0 until the first launch. */
  executorIdsReserved: number;
  /**
   * Executor failures since an executor of the app was last proven healthy (RUNNING for
   * `executorMinUptimeMs`). Spark resets it on any RUNNING; see relaunch-backoff.ts.
   */
  retryCount: number;
  /** When the last counted failure happened; −Infinity before the first. */
  lastFailureMs: number;
  /** By worker id: where the app's next executor must wait (relaunch-backoff.ts). */
  readonly relaunchBackoff: Map<string, RelaunchBackoff>;
}

export interface DriverInfo {
  readonly id: string;
  readonly desc: DriverDescription;
  readonly startTimeMs: number;
  readonly submitDateMs: number;
  state: DriverState;
  exception: string | undefined;
  worker: WorkerInfo | undefined;
  /** The custom-resource addresses it holds on `worker` while it runs; `{}` while waiting. */
  resources: AssignedResources;
}

export interface MasterState {
  readonly config: MasterConfig;
  recoveryState: RecoveryState;
  /** Every worker, DEAD ones included until they are culled; several may share an id (one live at most). */
  readonly workers: Set<WorkerInfo>;
  /** Non-DEAD workers by id: exactly the non-DEAD members of `workers`. */
  readonly idToWorker: Map<string, WorkerInfo>;
  /** Non-DEAD workers by env id. */
  readonly addressToWorker: Map<string, WorkerInfo>;
  /**
   * DEAD workers still listed, by `hostPort`: exactly the DEAD members of `workers`. A new
   * registration drops the DEAD entries on its host:port without scanning every worker.
   */
  readonly deadWorkers: Map<string, Set<WorkerInfo>>;
  readonly apps: Set<ApplicationInfo>;
  readonly idToApp: Map<string, ApplicationInfo>;
  /** Active apps by the env id of their driver (app client). */
  readonly addressToApp: Map<string, ApplicationInfo>;
  /** Every registered, not-yet-removed app in registration order (the name is Spark's, and historical). */
  readonly waitingApps: ApplicationInfo[];
  /** Oldest first, at most `retainedApplications`. */
  readonly completedApps: ApplicationInfo[];
  /** Active drivers: waiting and running. */
  readonly drivers: Set<DriverInfo>;
  readonly waitingDrivers: DriverInfo[];
  readonly completedDrivers: DriverInfo[];
  nextAppNumber: number;
  nextDriverNumber: number;
  recoveryStartMs: number;
  /** The armed timers (src/kit/timers.ts), keyed by name. */
  readonly timers: TimerBook<MasterTimer>;
  /** When the pending ExecutorRelaunchBackoff timer fires; undefined when none is pending. */
  relaunchTimerDueMs: number | undefined;
}

export function createMasterState(config: MasterConfig): MasterState {
  return {
    config,
    recoveryState: 'STANDBY',
    workers: new Set(),
    idToWorker: new Map(),
    addressToWorker: new Map(),
    deadWorkers: new Map(),
    apps: new Set(),
    idToApp: new Map(),
    addressToApp: new Map(),
    waitingApps: [],
    completedApps: [],
    drivers: new Set(),
    waitingDrivers: [],
    completedDrivers: [],
    nextAppNumber: 0,
    nextDriverNumber: 0,
    recoveryStartMs: 0,
    timers: new TimerBook(),
    relaunchTimerDueMs: undefined,
  };
}

// ---- WorkerInfo ---------------------------------------------------------------------------------------

export const coresFree = (w: WorkerInfo): number => w.cores - w.coresUsed;
export const memoryFreeMb = (w: WorkerInfo): number => w.memoryMb - w.memoryUsedMb;
export const hostPort = (w: WorkerInfo): string => (w.host.includes(':') ? `[${w.host}]:${w.port}` : `${w.host}:${w.port}`);
export const fullExecutorId = (e: ExecutorInfo): string => `${e.app.id}/${e.id}`;

export function workerAddExecutor(w: WorkerInfo, exec: ExecutorInfo): void {
  const key = fullExecutorId(exec);
  acquireOrThrow(w.resources, key, exec.resources);
  w.executors.set(key, exec);
  w.coresUsed += exec.cores;
  w.memoryUsedMb += exec.memoryMb;
}

/** A no-op when the executor is not on the worker (Spark's `WorkerInfo.removeExecutor`). */
export function workerRemoveExecutor(w: WorkerInfo, exec: ExecutorInfo): void {
  const key = fullExecutorId(exec);
  if (!w.executors.has(key)) return;
  w.executors.delete(key);
  release(w.resources, key, exec.resources);
  w.coresUsed -= exec.cores;
  w.memoryUsedMb -= exec.memoryMb;
}

export function workerAddDriver(w: WorkerInfo, d: DriverInfo): void {
  acquireOrThrow(w.resources, d.id, d.resources);
  w.drivers.set(d.id, d);
  w.coresUsed += d.desc.cores;
  w.memoryUsedMb += d.desc.memoryMb;
}

export function workerRemoveDriver(w: WorkerInfo, d: DriverInfo): void {
  if (!w.drivers.delete(d.id)) return;
  release(w.resources, d.id, d.resources);
  w.coresUsed -= d.desc.cores;
  w.memoryUsedMb -= d.desc.memoryMb;
}

// ---- ApplicationInfo ----------------------------------------------------------------------------------

/** `desc.maxCores`, else `flint.deploy.defaultCores`, else unlimited. */
export const requestedCores = (app: ApplicationInfo): number =>
  app.desc.maxCores ?? app.defaultCores ?? Number.POSITIVE_INFINITY;
export const coresLeft = (app: ApplicationInfo): number => requestedCores(app) - app.coresGranted;
/** Spark's `isFinished`: neither WAITING nor RUNNING. */
export const isAppFinished = (app: ApplicationInfo): boolean => app.state !== 'WAITING' && app.state !== 'RUNNING';

/** A new executor with the next id, or with `explicitId` when recovery rebuilds one a worker reported. */
export function appAddExecutor(
  app: ApplicationInfo,
  worker: WorkerInfo,
  cores: number,
  memoryMb: number,
  explicitId?: number,
  resources: AssignedResources = {},
): ExecutorInfo {
  const id = explicitId ?? app.nextExecutorId;
  app.nextExecutorId = Math.max(app.nextExecutorId, id + 1);
  const exec: ExecutorInfo = { id, app, worker, cores, memoryMb, resources, state: 'LAUNCHING', runningSinceMs: undefined };
  app.executors.set(id, exec);
  app.coresGranted += cores;
  return exec;
}

export function appRemoveExecutor(app: ApplicationInfo, exec: ExecutorInfo): void {
  const known = app.executors.get(exec.id);
  if (known === undefined) return;
  app.removedExecutors.push(known);
  app.executors.delete(exec.id);
  app.coresGranted -= exec.cores;
}

export const isExecutorFinished = (state: ExecutorState): boolean =>
  state === 'KILLED' || state === 'FAILED' || state === 'LOST' || state === 'EXITED';

/**
 * Keeps a completed list bounded (reference §4.5): when it already holds `retained` entries, drop the oldest
 * max(retained / 10, 1) **before** the caller appends.
 */
export function trimBeforeAppend<T>(list: T[], retained: number): void {
  if (list.length >= retained) list.splice(0, Math.max(Math.floor(retained / 10), 1));
}

/** Removes `item` from an ordered list, if present. */
export function removeFrom<T>(list: T[], item: T): boolean {
  const at = list.indexOf(item);
  if (at < 0) return false;
  list.splice(at, 1);
  return true;
}
