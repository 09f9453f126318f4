// Read-only snapshots of the Master's state as wire values: the reply to RequestMasterState (reference §2.7).

import type { Static } from '@sinclair/typebox';
import type {
  ApplicationSummary,
  DriverSummary,
  ExecutorSummary,
  MasterStateResponse,
  WorkerSummary,
} from '../protocol/messages.ts';
import {
  fullExecutorId,
  hostPort,
  type ApplicationInfo,
  type DriverInfo,
  type ExecutorInfo,
  type MasterState,
  type WorkerInfo,
} from './state.ts';
import { copyResources } from '../scheduling/index.ts';
import { hasResources, resourcesField, resourcesUsed } from './resources.ts';

export function workerSummary(w: WorkerInfo): WorkerSummary {
  return {
    id: w.id,
    host: w.host,
    port: w.port,
    workerAddress: w.address,
    webUiUrl: w.webUiUrl,
    cores: w.cores,
    coresUsed: w.coresUsed,
    memoryMb: w.memoryMb,
    memoryUsedMb: w.memoryUsedMb,
    state: w.state,
    lastHeartbeatMs: w.lastHeartbeatMs,
    executorIds: [...w.executors.values()].map(fullExecutorId),
    driverIds: [...w.drivers.keys()],
    ...(hasResources(w.resources) ? { resources: copyResources(w.resources.addresses), resourcesUsed: resourcesUsed(w.resources) } : {}),
  };
}

const executorSummary = (e: ExecutorInfo): ExecutorSummary => ({
  appId: e.app.id,
  execId: e.id,
  workerId: e.worker.id,
  cores: e.cores,
  memoryMb: e.memoryMb,
  state: e.state,
  ...resourcesField(e.resources),
});

export function applicationSummary(app: ApplicationInfo): ApplicationSummary {
  return {
    id: app.id,
    desc: app.desc,
    driverAddress: app.driverAddress,
    state: app.state,
    startTimeMs: app.startTimeMs,
    submitDateMs: app.submitDateMs,
    ...(app.endTimeMs < 0 ? {} : { endTimeMs: app.endTimeMs }),
    coresGranted: app.coresGranted,
    ...(Number.isFinite(app.executorLimit) ? { executorLimit: app.executorLimit } : {}),
    retryCount: app.retryCount,
    executors: [...app.executors.values()].map(executorSummary),
  };
}

export function driverSummary(d: DriverInfo): DriverSummary {
  return {
    id: d.id,
    desc: d.desc,
    state: d.state,
    startTimeMs: d.startTimeMs,
    submitDateMs: d.submitDateMs,
    ...(d.worker === undefined ? {} : { workerId: d.worker.id, workerHostPort: hostPort(d.worker) }),
    ...(d.exception === undefined ? {} : { exception: d.exception }),
    ...resourcesField(d.resources),
  };
}

/** Answered in every recovery state. */
export function masterStateResponse(state: Readonly<MasterState>): Static<typeof MasterStateResponse> {
  const { config } = state;
  return {
    type: 'MasterStateResponse',
    host: config.host,
    port: config.port,
    ...(config.restPort === undefined ? {} : { restPort: config.restPort }),
    masterUrl: config.masterUrl,
    status: state.recoveryState,
    workers: [...state.workers].map(workerSummary),
    activeApps: [...state.apps].map(applicationSummary),
    completedApps: state.completedApps.map(applicationSummary),
    activeDrivers: [...state.drivers].map(driverSummary),
    completedDrivers: state.completedDrivers.map(driverSummary),
  };
}
