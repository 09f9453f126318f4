import type { ExecutorRequest, WorkerResources } from './types.ts';

/** Per-worker bookkeeping local to one call; the inputs are never touched. */
interface Slot {
  readonly worker: WorkerResources;
  cores: number;
  executors: number;
}

/**
 * Decides how many cores each usable worker gives one application (one resource profile). Returns an array
 * parallel to `workers`. Pure: it reads the request and the workers and mutates neither. This is Spark's
 * `Master.scheduleExecutorsOnWorkers` (reference §5.4), exported so it can be tested and dry-run directly.
 *
 * Two modes. Spreading out (`spreadOut = true`, Spark's default) places the application's executors on as many
 * workers as possible, one step per worker per pass, which is usually better for data locality. Consolidating
 * (`spreadOut = false`) fills one worker completely before moving to the next, so the application lands on as
 * few workers as possible.
 *
 * When `coresPerExecutor` is set, a worker with enough cores and memory may host several executors of the same
 * application. When it is not set, each worker gets at most one new executor per call, and that executor grows
 * one core at a time until the worker or the application runs out. (A second executor of the same application
 * can still land on that worker in a later call, once another application has freed cores there.)
 *
 * Cores must be handed out `coresPerExecutor` at a time, never one at a time. Take 4 workers with 16 cores each
 * and an application asking for 48 cores in 16-core executors: granting one core per step would spread 12 cores
 * over each worker, and since 12 < 16 no executor could ever launch (SPARK-8881). Leftovers smaller than one
 * executor therefore stay unassigned.
 *
 * Memory and `executorLimit` are only checked when a step would create a new executor; growing the single
 * executor of one-per-worker mode only needs cores. The limit counts new executors plus `existingExecutors`.
 */
export function scheduleExecutorsOnWorkers(
  request: ExecutorRequest,
  workers: ReadonlyArray<WorkerResources>,
  spreadOut: boolean,
): number[] {
  const { coresPerExecutor, memoryMbPerExecutor, existingExecutors } = request;
  assertCoresPerExecutor(request);
  const minCores = coresPerExecutor ?? 1;
  const oneExecutorPerWorker = coresPerExecutor === undefined;
  const executorLimit = request.executorLimit ?? Number.POSITIVE_INFINITY;

  const slots: Slot[] = workers.map((worker) => ({ worker, cores: 0, executors: 0 }));
  let newExecutors = 0;
  let coresToAssign = Math.min(
    request.coresLeft,
    workers.reduce((sum, w) => sum + w.coresFree, 0),
  );

  const canLaunch = (slot: Slot): boolean => {
    const keepScheduling = coresToAssign >= minCores;
    const enoughCores = slot.worker.coresFree - slot.cores >= minCores;
    const launchingNewExecutor = !oneExecutorPerWorker || slot.executors === 0;
    if (!launchingNewExecutor) {
      // Growing an existing executor: its memory is already accounted for and it is already counted.
      return keepScheduling && enoughCores;
    }
    const enoughMemory = slot.worker.memoryFreeMb - slot.executors * memoryMbPerExecutor >= memoryMbPerExecutor;
    const underLimit = newExecutors + existingExecutors < executorLimit;
    return keepScheduling && enoughCores && enoughMemory && underLimit;
  };

  // Keep going until no worker can take another step. Every condition in `canLaunch` only gets harder as
  // cores are assigned, so a worker dropped from `free` never becomes eligible again.
  let free = slots.filter(canLaunch);
  while (free.length > 0) {
    for (const slot of free) {
      while (canLaunch(slot)) {
        coresToAssign -= minCores;
        slot.cores += minCores;
        if (oneExecutorPerWorker) {
          if (slot.executors === 0) newExecutors += 1;
          slot.executors = 1;
        } else {
          slot.executors += 1;
          newExecutors += 1;
        }
        // Spreading out: one step on this worker, then move on to the next one.
        if (spreadOut) break;
      }
    }
    free = free.filter(canLaunch);
  }
  return slots.map((slot) => slot.cores);
}

/** Throws a RangeError unless `coresPerExecutor` is absent or a positive integer. */
export function assertCoresPerExecutor(request: ExecutorRequest): void {
  const { coresPerExecutor } = request;
  if (coresPerExecutor !== undefined && !(Number.isInteger(coresPerExecutor) && coresPerExecutor > 0)) {
    // A zero step would never exhaust `coresToAssign` and loop forever.
    throw new RangeError(`coresPerExecutor must be a positive integer, got ${coresPerExecutor}`);
  }
}
