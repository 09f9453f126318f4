// The read-only views and small interfaces the placement functions take. The Master builds these views from its
// own state; nothing here holds a live handle, and nothing here is ever mutated by a placement function.

import type { Rng } from '../kit/rng.ts';
import type { ResourceRequirement, ResourcesFree } from './resources.ts';

/**
 * The Master's view of a worker's state (reference §3.2). Only ALIVE workers receive drivers or executors.
 * Kept here until `protocol/` defines the shared enum; the literals match Spark's `WorkerState`.
 */
export type WorkerState = 'ALIVE' | 'DEAD' | 'DECOMMISSIONED' | 'UNKNOWN';

/** What a worker has left to give: `coresFree = cores − coresUsed`, `memoryFreeMb = memory − memoryUsed`. */
export interface WorkerResources {
  readonly coresFree: number;
  readonly memoryFreeMb: number;
  /** Free addresses of each custom resource (GPU, FPGA), in the order they are handed out. Absent: none. */
  readonly resourcesFree?: ResourcesFree | undefined;
}

/** A worker that placement can name in its result and order by ID. */
export interface WorkerCandidate extends WorkerResources {
  readonly id: string;
}

/** A worker as the Master sees it, before any filtering. */
export interface WorkerView extends WorkerCandidate {
  readonly state: WorkerState;
}

/**
 * Randomness, injected so that placement stays deterministic under a seed (STYLE.md §6; src/kit/rng.ts). Placement
 * draws only `nextInt(n)`, which must return an integer in `[0, n)`; it checks this and throws on a broken generator.
 */
export type { Rng };

/**
 * What one application (for one resource profile) still wants, as `scheduleExecutorsOnWorkers` needs it.
 */
export interface ExecutorRequest {
  /** `requestedCores − coresGranted`: app-wide, shared by every resource profile. */
  readonly coresLeft: number;
  /** `spark.executor.cores`. Absent: one executor per worker that absorbs as many cores as it can. */
  readonly coresPerExecutor?: number;
  readonly memoryMbPerExecutor: number;
  /** Target number of executors for this profile (dynamic allocation). Absent: unlimited. */
  readonly executorLimit?: number;
  /** Executors of this profile the application already has; they count against `executorLimit`. */
  readonly existingExecutors: number;
  /**
   * Workers this request may not use now, whatever they have free: the Master's relaunch backoff after an
   * executor of this application failed on them (docs/differences-from-spark.md). Absent: none.
   */
  readonly excludedWorkerIds?: ReadonlySet<string>;
  /** Custom resources each new executor needs (Spark's `resourceReqsPerExecutor`). Absent or empty: none. */
  readonly resourcesPerExecutor?: ReadonlyArray<ResourceRequirement> | undefined;
}

/** `spark.deploy.workerSelectionPolicy` values (Spark 4.0, SPARK-46881). */
export const WORKER_SELECTION_POLICIES = [
  'CORES_FREE_ASC',
  'CORES_FREE_DESC',
  'MEMORY_FREE_ASC',
  'MEMORY_FREE_DESC',
  'WORKER_ID',
] as const;

export type WorkerSelectionPolicy = (typeof WORKER_SELECTION_POLICIES)[number];

/** Spark's default: most free cores first. */
export const DEFAULT_WORKER_SELECTION_POLICY: WorkerSelectionPolicy = 'CORES_FREE_DESC';
