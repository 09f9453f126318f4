import { filterUsableWorkers } from './filter-usable-workers.ts';
import { orderUsableWorkers } from './order-workers.ts';
import { scheduleExecutorsOnWorkers } from './schedule-executors-on-workers.ts';
import { addressesFor, needsResources, type AssignedResources } from './resources.ts';
import type { ExecutorRequest, WorkerCandidate, WorkerSelectionPolicy, WorkerView } from './types.ts';

export interface ExecutorPlacementOptions {
  /** `spark.deploy.spreadOutApps`. */
  readonly spreadOut: boolean;
  /** `spark.deploy.workerSelectionPolicy`. */
  readonly policy: WorkerSelectionPolicy;
}

/** One executor to launch. The Master gives it an ID and turns it into a `LaunchExecutor` effect. */
export interface ExecutorLaunch {
  readonly workerId: string;
  readonly cores: number;
  readonly memoryMb: number;
  /**
   * The custom-resource addresses this executor gets, taken from its worker's `resourcesFree` in order; absent
   * when the request needs none. Never an address another launch of the same plan got.
   */
  readonly resources?: AssignedResources;
}

export interface ExecutorPlan {
  /** In usable-worker order, as Spark launches them. */
  readonly executors: ReadonlyArray<ExecutorLaunch>;
  /**
   * The usable workers after filtering and ordering. Empty means no worker could host even one executor; the
   * Master uses that for its "requires more resource than any of Workers could have" warning, which also
   * depends on the other waiting applications and so is not decided here.
   */
  readonly usableWorkerIds: ReadonlyArray<string>;
}

/**
 * The whole executor pipeline for one application and profile: filter usable → order → schedule cores →
 * split into executors (reference §5.3, §5.5). Pure; a what-if endpoint can call it on a snapshot.
 */
export function placeExecutors(
  request: ExecutorRequest,
  workers: ReadonlyArray<WorkerView>,
  options: ExecutorPlacementOptions,
): ExecutorPlan {
  const minCores = request.coresPerExecutor ?? 1;
  // Spark skips the application outright when it cannot afford even one executor.
  if (request.coresLeft < minCores) return { executors: [], usableWorkerIds: [] };

  const usable = orderUsableWorkers(
    filterUsableWorkers(workers, {
      memoryMbPerExecutor: request.memoryMbPerExecutor,
      minCores,
      excludedWorkerIds: request.excludedWorkerIds,
      resources: request.resourcesPerExecutor,
    }),
    options.policy,
  );
  const assignedCores = scheduleExecutorsOnWorkers(request, usable, options.spreadOut);
  return { executors: executorsFromCores(request, usable, assignedCores), usableWorkerIds: usable.map((w) => w.id) };
}

/**
 * Splits the cores `scheduleExecutorsOnWorkers` gave each worker (`assignedCores`, parallel to `workers`) into
 * executors, in worker order. Each executor on a worker takes the next free addresses of every resource it needs.
 */
export function executorsFromCores(
  request: ExecutorRequest,
  workers: ReadonlyArray<WorkerCandidate>,
  assignedCores: ReadonlyArray<number>,
): ExecutorLaunch[] {
  const executors: ExecutorLaunch[] = [];
  workers.forEach((worker, pos) => {
    const cores = assignedCores[pos] ?? 0;
    if (cores === 0) return;
    // With coresPerExecutor the cores divide evenly into executors (scheduling hands them out in whole
    // executors); without it, one executor takes all the cores this worker gave.
    const count = request.coresPerExecutor === undefined ? 1 : cores / request.coresPerExecutor;
    const coresEach = request.coresPerExecutor ?? cores;
    const needs = request.resourcesPerExecutor;
    for (let i = 0; i < count; i += 1) {
      const launch: ExecutorLaunch = { workerId: worker.id, cores: coresEach, memoryMb: request.memoryMbPerExecutor };
      executors.push(needsResources(needs) ? { ...launch, resources: addressesFor(worker.resourcesFree, needs, i) } : launch);
    }
  });
  return executors;
}
