import { hasResourcesFor, type ResourceRequirement } from './resources.ts';
import type { WorkerView } from './types.ts';

/** What one new executor needs from a worker before the worker is worth considering at all. */
export interface ExecutorFootprint {
  readonly memoryMbPerExecutor: number;
  /** `coresPerExecutor`, or 1 when executors take whatever cores a worker has. */
  readonly minCores: number;
  /** Workers this application may not use now (`ExecutorRequest.excludedWorkerIds`). */
  readonly excludedWorkerIds?: ReadonlySet<string> | undefined;
  /** Custom resources one executor needs (`ExecutorRequest.resourcesPerExecutor`). */
  readonly resources?: ReadonlyArray<ResourceRequirement> | undefined;
}

/** Named filters, composed below (Nomad's feasibility-chain idea, STYLE.md §4). */
export const isAlive = (worker: WorkerView): boolean => worker.state === 'ALIVE';

export const hasMemoryFor = (worker: WorkerView, need: ExecutorFootprint): boolean =>
  worker.memoryFreeMb >= need.memoryMbPerExecutor;

export const hasCoresFor = (worker: WorkerView, need: ExecutorFootprint): boolean =>
  worker.coresFree >= need.minCores;

/** Enough free addresses of every custom resource one executor needs (Spark's `resOK`). */
export const hasResourcesForExecutor = (worker: WorkerView, need: ExecutorFootprint): boolean =>
  hasResourcesFor(worker.resourcesFree, need.resources);

/** Not excluded for this application (its relaunch backoff on this worker has not ended). */
export const isNotExcluded = (worker: WorkerView, need: ExecutorFootprint): boolean =>
  need.excludedWorkerIds?.has(worker.id) !== true;

/**
 * A worker can host at least one executor of this shape (Spark's `canLaunchExecutor` on an ALIVE worker) and
 * is not excluded for the application.
 */
export function isUsableWorker(worker: WorkerView, need: ExecutorFootprint): boolean {
  return (
    isAlive(worker) &&
    hasMemoryFor(worker, need) &&
    hasCoresFor(worker, need) &&
    hasResourcesForExecutor(worker, need) &&
    isNotExcluded(worker, need)
  );
}

/**
 * The usable workers for one application and profile (reference §5.3 step 3), in input order, as a new array.
 */
export function filterUsableWorkers<W extends WorkerView>(
  workers: ReadonlyArray<W>,
  need: ExecutorFootprint,
): W[] {
  return workers.filter((worker) => isUsableWorker(worker, need));
}
