// The web UI's `/json` (reference §11.3): Spark 4.0's JsonProtocol field names, types and quirks, built from a
// read-only view of the state. Quirks kept on purpose, since scripts parse this output:
//   - `workers` lists every worker (DEAD too), while the sums cover ALIVE workers only;
//   - an app's `cores` is the cores granted, not maxCores; `memoryperslave`/`resourcesperslave` duplicate
//     the per-executor fields;
//   - a driver's `starttime` is a string, its `worker` is the string "None" until placed;
//   - `submitdate` is Java's `Date.toString` (here always in UTC).

import { formatJavaDate } from './ids.ts';
import { resourcesFree, resourcesUsed } from './resources.ts';
import {
  coresFree,
  memoryFreeMb,
  type ApplicationInfo,
  type DriverInfo,
  type MasterState,
  type WorkerInfo,
} from './state.ts';

export type JsonValue = string | number | boolean | null | JsonValue[] | { readonly [key: string]: JsonValue };
export type JsonObject = { readonly [key: string]: JsonValue };

/** Spark's `ResourceInformation` JSON per resource: `{gpu: {name: "gpu", addresses: ["0", "1"]}}`. */
function resourcesJson(byName: Readonly<Record<string, ReadonlyArray<string>>> | undefined): JsonObject {
  return Object.fromEntries(Object.entries(byName ?? {}).map(([name, addresses]) => [name, { name, addresses: [...addresses] }]));
}

const resourcesFreeJson = (w: WorkerInfo): JsonObject => resourcesJson(resourcesFree(w.resources));
const resourcesUsedJson = (w: WorkerInfo): JsonObject => resourcesJson(resourcesUsed(w.resources));
const requestsJson = (reqs: ReadonlyArray<{ name: string; amount: number }> | undefined): JsonValue[] =>
  (reqs ?? []).map((r) => ({ name: r.name, amount: r.amount }));

export function workerJson(w: WorkerInfo): JsonObject {
  return {
    id: w.id,
    host: w.host,
    port: w.port,
    webuiaddress: w.webUiUrl,
    cores: w.cores,
    coresused: w.coresUsed,
    coresfree: coresFree(w),
    memory: w.memoryMb,
    memoryused: w.memoryUsedMb,
    memoryfree: memoryFreeMb(w),
    resources: resourcesJson(w.resources.addresses),
    resourcesused: resourcesUsedJson(w),
    resourcesfree: resourcesFreeJson(w),
    state: w.state,
    lastheartbeat: w.lastHeartbeatMs,
  };
}

/** `duration`: end − start once finished, else now − start. */
export function applicationJson(app: ApplicationInfo, now: number): JsonObject {
  const memory = app.desc.memoryMbPerExecutor;
  return {
    id: app.id,
    starttime: app.startTimeMs,
    name: app.desc.name,
    cores: app.coresGranted,
    user: app.desc.user,
    memoryperexecutor: memory,
    memoryperslave: memory,
    resourcesperexecutor: requestsJson(app.desc.resourceReqsPerExecutor),
    resourcesperslave: requestsJson(app.desc.resourceReqsPerExecutor),
    // Flint's: each executor's assigned addresses (Spark's /json lists no executors).
    executors: [...app.executors.values()].map((e) => ({ id: e.id, worker: e.worker.id, cores: e.cores, state: e.state, resources: resourcesJson(e.resources) })),
    submitdate: formatJavaDate(app.submitDateMs),
    state: app.state,
    duration: (app.endTimeMs >= 0 ? app.endTimeMs : now) - app.startTimeMs,
  };
}

/** `mainclass`: Spark shows the user's main class; a Flint driver's is the module its command runs. */
export function driverJson(d: DriverInfo): JsonObject {
  return {
    id: d.id,
    starttime: String(d.startTimeMs),
    state: d.state,
    cores: d.desc.cores,
    memory: d.desc.memoryMb,
    resources: resourcesJson(d.resources),
    submitdate: formatJavaDate(d.submitDateMs),
    worker: d.worker?.id ?? 'None',
    mainclass: d.desc.command.mainModule,
  };
}

const aliveWorkers = (state: Readonly<MasterState>): WorkerInfo[] => [...state.workers].filter((w) => w.state === 'ALIVE');
const sum = (values: number[]): number => values.reduce((a, b) => a + b, 0);

type FieldWriter = (state: Readonly<MasterState>, now: number) => JsonValue;

/** The top-level fields in Spark's order. */
const FIELDS: ReadonlyArray<readonly [string, FieldWriter]> = [
  ['url', (s) => s.config.masterUrl],
  ['workers', (s) => [...s.workers].map(workerJson)],
  ['aliveworkers', (s) => aliveWorkers(s).length],
  ['cores', (s) => sum(aliveWorkers(s).map((w) => w.cores))],
  ['coresused', (s) => sum(aliveWorkers(s).map((w) => w.coresUsed))],
  ['memory', (s) => sum(aliveWorkers(s).map((w) => w.memoryMb))],
  ['memoryused', (s) => sum(aliveWorkers(s).map((w) => w.memoryUsedMb))],
  ['resources', (s) => aliveWorkers(s).map((w) => resourcesJson(w.resources.addresses))],
  ['resourcesused', (s) => aliveWorkers(s).map(resourcesUsedJson)],
  ['activeapps', (s, now) => [...s.apps].map((a) => applicationJson(a, now))],
  ['completedapps', (s, now) => s.completedApps.map((a) => applicationJson(a, now))],
  ['activedrivers', (s) => [...s.drivers].map(driverJson)],
  ['completeddrivers', (s) => s.completedDrivers.map(driverJson)],
  ['status', (s) => s.recoveryState],
];

/** `/json`: the whole master state. */
export function masterJson(state: Readonly<MasterState>, now: number): JsonObject {
  return Object.fromEntries(FIELDS.map(([name, write]) => [name, write(state, now)]));
}

/** `/json/<field>` (4.0): `{ field: value }`, or `{ field: "" }` for a field that does not exist. */
export function masterJsonField(state: Readonly<MasterState>, now: number, field: string): JsonObject {
  const writer = FIELDS.find(([name]) => name === field)?.[1];
  return { [field]: writer === undefined ? '' : writer(state, now) };
}

/** `/json/clusterutilization` (4.0). Utilization is an integer percent, 100 when there is no capacity. */
export function clusterUtilizationJson(state: Readonly<MasterState>): JsonObject {
  const alive = aliveWorkers(state);
  const cores = sum(alive.map((w) => w.cores));
  const coresUsed = sum(alive.map((w) => w.coresUsed));
  const memory = sum(alive.map((w) => w.memoryMb));
  const memoryUsed = sum(alive.map((w) => w.memoryUsedMb));
  const percent = (used: number, total: number): number => (total === 0 ? 100 : Math.floor((100 * used) / total));
  return {
    waitingDrivers: [...state.drivers].filter((d) => d.state === 'SUBMITTED').length,
    cores,
    coresused: coresUsed,
    coresutilization: percent(coresUsed, cores),
    memory,
    memoryused: memoryUsed,
    memoryutilization: percent(memoryUsed, memory),
  };
}
