import { holdersWithin } from './resources.ts';
import type { ExecutorRequest, WorkerResources } from './types.ts';

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
 * Memory, custom resources (each new executor needs `resourcesPerExecutor` free addresses, Spark's `resOK`) and
 * `executorLimit` are only checked when a step would create a new executor; growing the single
 * executor of one-per-worker mode only needs cores. The limit counts new executors plus `existingExecutors`.
 *
 * Cost: O(n log n) in the number of workers, never in the number of cores. Spark hands out one step per
 * iteration, so a worker declaring 2^53 cores would keep the loop (and the Master) busy for ever. Here the
 * same walk is done arithmetically: each worker's capacity in steps and the shared budget of steps are worked
 * out first, then shared in one go (`fillInOrder` when consolidating, `shareRoundRobin` when spreading out).
 * The result is exactly the step-by-step loop's; test/unit/scheduling/placement-chunks.property.test.ts keeps
 * that loop as the reference. Inputs are expected to be integers well below 2^53 (the wire bounds of
 * src/protocol/limits.ts see to it).
 */
export function scheduleExecutorsOnWorkers(
  request: ExecutorRequest,
  workers: ReadonlyArray<WorkerResources>,
  spreadOut: boolean,
): number[] {
  assertCoresPerExecutor(request);
  const minCores = request.coresPerExecutor ?? 1;
  const coresToAssign = Math.min(
    request.coresLeft,
    workers.reduce((sum, w) => sum + w.coresFree, 0),
  );
  // One step gives `minCores` cores: to a new executor, or (one-per-worker mode) to the one already opened.
  const stepsToAssign = stepsWithin(coresToAssign, minCores);
  const executorsAllowed = newExecutorsAllowed(request);
  let capacities: number[];
  let budget: number;
  if (request.coresPerExecutor === undefined) {
    // Only the first step on a worker opens an executor, so the limit only decides which workers open one:
    // the first `executorsAllowed` that can, in worker order (in both modes the loop reaches them first).
    // After that, growing needs cores alone.
    let opened = 0;
    capacities = workers.map((worker) => {
      const opens = worker.memoryFreeMb >= request.memoryMbPerExecutor && holdersWithin(worker.resourcesFree, request.resourcesPerExecutor) >= 1;
      const steps = opens ? stepsWithin(worker.coresFree, minCores) : 0;
      if (steps === 0 || opened >= executorsAllowed) return 0;
      opened += 1;
      return steps;
    });
    budget = stepsToAssign;
  } else {
    // Every step opens an executor: the limit is one more shared budget, and memory and resources cap each worker.
    capacities = workers.map((worker) =>
      Math.min(
        stepsWithin(worker.coresFree, minCores),
        executorsWithin(worker.memoryFreeMb, request.memoryMbPerExecutor),
        holdersWithin(worker.resourcesFree, request.resourcesPerExecutor),
      ),
    );
    budget = Math.min(stepsToAssign, executorsAllowed);
  }
  const steps = spreadOut ? shareRoundRobin(capacities, budget) : fillInOrder(capacities, budget);
  return steps.map((n) => n * minCores);
}

/** How many steps of `step` (> 0) fit in `amount`: Spark's `coresFree - assigned >= minCores` test, counted. */
function stepsWithin(amount: number, step: number): number {
  return amount >= step ? Math.floor(amount / step) : 0;
}

/** How many executors of `memoryMb` fit in `memoryFreeMb`: Spark's `memoryFree - n * memory >= memory`, counted. */
function executorsWithin(memoryFreeMb: number, memoryMb: number): number {
  if (!(memoryFreeMb >= memoryMb)) return 0;
  return memoryMb > 0 ? Math.floor(memoryFreeMb / memoryMb) : Number.POSITIVE_INFINITY;
}

/** New executors the limit still allows: Spark's `newExecutors + existing < executorLimit`, counted. */
function newExecutorsAllowed(request: ExecutorRequest): number {
  const room = (request.executorLimit ?? Number.POSITIVE_INFINITY) - request.existingExecutors;
  return room > 0 ? Math.ceil(room) : 0;
}

/**
 * Consolidating: each worker in turn takes all the steps it can until the budget runs out. This is the loop's
 * inner `while (canLaunch)` run to its end on one worker before the next.
 */
function fillInOrder(capacities: ReadonlyArray<number>, budget: number): number[] {
  let left = budget;
  return capacities.map((capacity) => {
    const taken = Math.min(capacity, left);
    left -= taken;
    return taken;
  });
}

/**
 * Spreading out: the loop's rounds, one step per worker per round in worker order, until the budget runs out or
 * no worker has room. After `level` full rounds every worker holds `min(capacity, level)`; `level` is the
 * largest such that this fits in the budget. What is left of the budget is smaller than the number of workers
 * with room for more, and the next, partial round gives it one step each to the first of them in worker order.
 */
function shareRoundRobin(capacities: ReadonlyArray<number>, budget: number): number[] {
  const total = capacities.reduce((sum, c) => sum + c, 0);
  if (total <= budget) return [...capacities];
  const ascending = capacities.filter((c) => c > 0).sort((a, b) => a - b);
  let level = 0;
  let filled = 0; // the sum of the capacities below `level`
  for (const [k, capacity] of ascending.entries()) {
    const above = ascending.length - k;
    if (filled + capacity * above > budget) {
      level = Math.floor((budget - filled) / above);
      break;
    }
    filled += capacity;
  }
  let extra = budget - capacities.reduce((sum, c) => sum + Math.min(c, level), 0);
  return capacities.map((capacity) => {
    if (capacity <= level || extra === 0) return Math.min(capacity, level);
    extra -= 1;
    return level + 1;
  });
}

/** Throws a RangeError unless `coresPerExecutor` is absent or a positive integer. */
export function assertCoresPerExecutor(request: ExecutorRequest): void {
  const { coresPerExecutor } = request;
  if (coresPerExecutor !== undefined && !(Number.isInteger(coresPerExecutor) && coresPerExecutor > 0)) {
    // A zero step would mean infinitely many steps (Spark's loop would never end).
    throw new RangeError(`coresPerExecutor must be a positive integer, got ${coresPerExecutor}`);
  }
}
