// A read-only copy of the worker's state, for the worker UI (`/`, `/json`), the simulator's invariant checks
// and tests. Copying keeps callers from mutating the machine behind its back.

import type { ApplicationDescription, DriverState, ExecutorState, ResourceAddresses } from '../protocol/messages.ts';
import type { RegistrationIntervals, WorkerConfig } from './worker-config.ts';
import type { DriverRunner, ExecutorRunner, WorkerState } from './worker-state.ts';

export interface ExecutorSnapshot {
  readonly appId: string;
  readonly execId: number;
  readonly fullId: string;
  readonly state: ExecutorState;
  readonly cores: number;
  readonly memoryMb: number;
  readonly appDesc: ApplicationDescription;
  readonly processKey: string;
  readonly workDir: string;
  readonly message?: string;
  readonly exitStatus?: number;
  /** The custom-resource addresses it holds (LaunchExecutor.resources); absent: none. */
  readonly resources?: ResourceAddresses;
  /** The CPUs it is bound to (flint.worker.executorCpus); absent: not bound. */
  readonly cpus?: readonly number[];
}

export interface DriverSnapshot {
  readonly driverId: string;
  readonly state: DriverState;
  readonly phase: DriverRunner['phase'];
  readonly cores: number;
  readonly memoryMb: number;
  readonly supervise: boolean;
  readonly mainModule: string;
  /** Launches so far, the first included. */
  readonly attempts: number;
  readonly lastExitStatus?: number;
  readonly exception?: string;
  /** The custom-resource addresses it holds (LaunchDriver.resources); absent: none. */
  readonly resources?: ResourceAddresses;
}

export interface WorkerSnapshot {
  readonly workerId: string;
  readonly host: string;
  readonly port: number;
  readonly workerAddress: string;
  readonly workerWebUiUrl: string;
  readonly cores: number;
  readonly memoryMb: number;
  readonly coresUsed: number;
  readonly memoryUsedMb: number;
  readonly coresFree: number;
  readonly memoryFreeMb: number;
  /** Every custom-resource address the worker found (flint.worker.resource.*), by name. */
  readonly resources: ResourceAddresses;
  /** Those its running executors and drivers hold, in the worker's order (Spark's `resourcesInfoUsed`). */
  readonly resourcesUsed: ResourceAddresses;
  readonly phase: WorkerState['phase'];
  readonly registered: boolean;
  readonly connected: boolean;
  readonly decommissioned: boolean;
  /** The active master's env URL (`flint://host:port`), or "" while none is known. */
  readonly activeMasterUrl: string;
  readonly activeMasterAddress: string;
  readonly activeMasterWebUiUrl: string;
  readonly registrationAttempts: number;
  readonly registrationIntervals: RegistrationIntervals;
  readonly executors: readonly ExecutorSnapshot[];
  readonly finishedExecutors: readonly ExecutorSnapshot[];
  readonly drivers: readonly DriverSnapshot[];
  readonly finishedDrivers: readonly DriverSnapshot[];
  /** Keys of the armed timers, sorted. */
  readonly armedTimers: readonly string[];
}

function executorSnapshot(e: ExecutorRunner): ExecutorSnapshot {
  return {
    appId: e.appId,
    execId: e.execId,
    fullId: e.fullId,
    state: e.state,
    cores: e.cores,
    memoryMb: e.memoryMb,
    appDesc: e.appDesc,
    processKey: e.processKey,
    workDir: e.workDir,
    ...(e.message === undefined ? {} : { message: e.message }),
    ...(e.exitStatus === undefined ? {} : { exitStatus: e.exitStatus }),
    ...(e.resources === undefined ? {} : { resources: e.resources }),
    ...(e.cpus === undefined ? {} : { cpus: [...e.cpus] }),
  };
}

function driverSnapshot(d: DriverRunner): DriverSnapshot {
  return {
    driverId: d.driverId,
    state: d.state,
    phase: d.phase,
    cores: d.desc.cores,
    memoryMb: d.desc.memoryMb,
    supervise: d.desc.supervise,
    mainModule: d.desc.command.mainModule,
    attempts: d.attempts,
    ...(d.lastExitStatus === undefined ? {} : { lastExitStatus: d.lastExitStatus }),
    ...(d.exception === undefined ? {} : { exception: d.exception }),
    ...(d.resources === undefined ? {} : { resources: d.resources }),
  };
}

/** The worker's addresses that its live executors and drivers hold, by name, in the worker's own order. */
function resourcesUsed(all: ResourceAddresses, holders: Iterable<{ readonly resources?: ResourceAddresses | undefined }>): ResourceAddresses {
  const held = new Map<string, Set<string>>();
  for (const holder of holders) {
    for (const [name, addresses] of Object.entries(holder.resources ?? {})) {
      const set = held.get(name) ?? new Set<string>();
      for (const address of addresses) set.add(address);
      held.set(name, set);
    }
  }
  const used: ResourceAddresses = {};
  for (const [name, addresses] of Object.entries(all)) used[name] = addresses.filter((address) => held.get(name)?.has(address) === true);
  return used;
}

export function snapshotOf(config: WorkerConfig, s: WorkerState, intervals: RegistrationIntervals): WorkerSnapshot {
  return {
    workerId: s.workerId,
    host: config.host,
    port: config.port,
    workerAddress: s.workerAddress,
    workerWebUiUrl: s.workerWebUiUrl,
    cores: config.cores,
    memoryMb: config.memoryMb,
    coresUsed: s.coresUsed,
    memoryUsedMb: s.memoryUsedMb,
    coresFree: config.cores - s.coresUsed,
    memoryFreeMb: config.memoryMb - s.memoryUsedMb,
    resources: config.resources ?? {},
    resourcesUsed: resourcesUsed(config.resources ?? {}, [...s.executors.values(), ...s.drivers.values()]),
    phase: s.phase,
    registered: s.registered,
    connected: s.connected,
    decommissioned: s.decommissioned,
    activeMasterUrl: s.master?.url ?? '',
    activeMasterAddress: s.master?.address ?? '',
    activeMasterWebUiUrl: s.master?.webUiUrl ?? '',
    registrationAttempts: s.connectionAttemptCount,
    registrationIntervals: intervals,
    executors: [...s.executors.values()].map(executorSnapshot),
    finishedExecutors: [...s.finishedExecutors.values()].map(executorSnapshot),
    drivers: [...s.drivers.values()].map(driverSnapshot),
    finishedDrivers: [...s.finishedDrivers.values()].map(driverSnapshot),
    armedTimers: s.timers.armed().map((t) => t.key).sort(),
  };
}
