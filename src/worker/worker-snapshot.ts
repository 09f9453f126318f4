// A read-only copy of the worker's state, for the worker UI (`/`, `/json`), the simulator's invariant checks
// and tests. Copying keeps callers from mutating the machine behind its back.

import type { ApplicationDescription, DriverState, ExecutorState } from '../protocol/messages.ts';
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
  };
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
