// The worker's `/json` document (reference §11.4; Spark's `JsonProtocol.writeWorkerState`), built from a
// snapshot. Field names are Spark's, all lower-case, so existing scrapers keep working. Custom resources are
// Spark's `{name: {name, addresses}}` objects: the worker's, those its executors and drivers hold
// (`resourcesused`), and each executor's. Drivers are not listed, as in Spark.

import type { ResourceAddresses } from '../protocol/messages.ts';
import { formatCpuList } from './cpu-binding.ts';
import { describeCommand } from './process-specs.ts';
import type { ExecutorSnapshot, WorkerSnapshot } from './worker-snapshot.ts';

export interface WorkerJsonAppDesc {
  readonly name: string;
  /** maxCores, or 0 for unlimited. */
  readonly cores: number;
  readonly memoryperexecutor: number;
  readonly resourcesperexecutor: readonly { name: string; amount: number }[];
  readonly memoryperslave: number;
  readonly resourcesperslave: readonly { name: string; amount: number }[];
  readonly user: string;
  readonly command: string;
}

/** Spark's `ResourceInformation` JSON, keyed by name. */
export type ResourcesJson = Readonly<Record<string, { readonly name: string; readonly addresses: readonly string[] }>>;

export interface WorkerJsonExecutor {
  readonly id: number;
  readonly memory: number;
  readonly resources: ResourcesJson;
  /** Flint's: the cpu list it is bound to (flint.worker.executorCpus), e.g. `0-1`; absent when not bound. */
  readonly cpus?: string;
  readonly appid: string;
  readonly appdesc: WorkerJsonAppDesc;
}

export interface WorkerJson {
  readonly id: string;
  readonly masterurl: string;
  readonly masterwebuiurl: string;
  readonly cores: number;
  readonly coresused: number;
  readonly memory: number;
  readonly memoryused: number;
  readonly resources: ResourcesJson;
  readonly resourcesused: ResourcesJson;
  readonly executors: readonly WorkerJsonExecutor[];
  readonly finishedexecutors: readonly WorkerJsonExecutor[];
}

function resourcesJson(byName: ResourceAddresses | undefined): ResourcesJson {
  return Object.fromEntries(Object.entries(byName ?? {}).map(([name, addresses]) => [name, { name, addresses }]));
}

function executorJson(e: ExecutorSnapshot): WorkerJsonExecutor {
  const d = e.appDesc;
  const perExecutor = (d.resourceReqsPerExecutor ?? []).map(({ name, amount }) => ({ name, amount }));
  return {
    id: e.execId,
    memory: e.memoryMb,
    resources: resourcesJson(e.resources),
    ...(e.cpus === undefined ? {} : { cpus: formatCpuList(e.cpus) }),
    appid: e.appId,
    appdesc: {
      name: d.name,
      cores: d.maxCores ?? 0,
      memoryperexecutor: d.memoryMbPerExecutor,
      resourcesperexecutor: perExecutor,
      memoryperslave: d.memoryMbPerExecutor,
      resourcesperslave: perExecutor,
      user: d.user,
      command: describeCommand(d.command),
    },
  };
}

/**
 * `/json` for this worker. `now` is the time of the request; Spark's worker document has no time-derived field
 * today, and the parameter keeps the signature the same as the master's so the HTTP layer treats both alike.
 */
export function workerJson(snapshot: WorkerSnapshot, _now: number): WorkerJson {
  return {
    id: snapshot.workerId,
    masterurl: snapshot.activeMasterUrl,
    masterwebuiurl: snapshot.activeMasterWebUiUrl,
    cores: snapshot.cores,
    coresused: snapshot.coresUsed,
    memory: snapshot.memoryMb,
    memoryused: snapshot.memoryUsedMb,
    resources: resourcesJson(snapshot.resources),
    resourcesused: resourcesJson(snapshot.resourcesUsed),
    executors: snapshot.executors.map(executorJson),
    finishedexecutors: snapshot.finishedExecutors.map(executorJson),
  };
}
