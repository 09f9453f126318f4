// The worker's `/json` document (reference §11.4; Spark's `JsonProtocol.writeWorkerState`), built from a
// snapshot. Field names are Spark's, all lower-case, so existing scrapers keep working. Custom resources are not
// modelled yet, so `resources`/`resourcesused` are empty objects. Drivers are not listed, as in Spark.

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

export interface WorkerJsonExecutor {
  readonly id: number;
  readonly memory: number;
  readonly resources: Readonly<Record<string, never>>;
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
  readonly resources: Readonly<Record<string, never>>;
  readonly resourcesused: Readonly<Record<string, never>>;
  readonly executors: readonly WorkerJsonExecutor[];
  readonly finishedexecutors: readonly WorkerJsonExecutor[];
}

function executorJson(e: ExecutorSnapshot): WorkerJsonExecutor {
  const d = e.appDesc;
  return {
    id: e.execId,
    memory: e.memoryMb,
    resources: {},
    appid: e.appId,
    appdesc: {
      name: d.name,
      cores: d.maxCores ?? 0,
      memoryperexecutor: d.memoryMbPerExecutor,
      resourcesperexecutor: [],
      memoryperslave: d.memoryMbPerExecutor,
      resourcesperslave: [],
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
    resources: {},
    resourcesused: {},
    executors: snapshot.executors.map(executorJson),
    finishedexecutors: snapshot.finishedExecutors.map(executorJson),
  };
}
