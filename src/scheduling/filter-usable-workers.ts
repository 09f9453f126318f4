import type { WorkerView } from './types.ts';

/** What one new executor needs from a worker before the worker is worth considering at all. */
export interface ExecutorFootprint {
  readonly memoryMbPerExecutor: number;
  /** `coresPerExecutor`, or 1 when executors take whatever cores a worker has. */
  readonly minCores: number;
}

/** Named filters, composed below (Nomad's feasibility-chain idea, STYLE.md §4). */
export const isAlive = (worker: WorkerView): boolean => worker.state === 'ALIVE';

export const hasMemoryFor = (worker: WorkerView, need: ExecutorFootprint): boolean =>
  worker.memoryFreeMb >= need.memoryMbPerExecutor;

export const hasCoresFor = (worker: WorkerView, need: ExecutorFootprint): boolean =>
  worker.coresFree >= need.minCores;

/** A worker can host at least one executor of this shape (Spark's `canLaunchExecutor` on an ALIVE worker). */
export function isUsableWorker(worker: WorkerView, need: ExecutorFootprint): boolean {
  return isAlive(worker) && hasMemoryFor(worker, need) && hasCoresFor(worker, need);
}

/**
 * The usable workers for one application and profile (reference §5.3 step 3), in input order, as a new array.
 * Custom resources are not checked yet; see README.md.
 */
export function filterUsableWorkers<W extends WorkerView>(
  workers: ReadonlyArray<W>,
  need: ExecutorFootprint,
): W[] {
  return workers.filter((worker) => isUsableWorker(worker, need));
}
