import { CoresFreeHeap, rankById } from './cores-free-heap.ts';
import { isAlive } from './filter-usable-workers.ts';
import {
  executorsFromCores,
  placeExecutors,
  type ExecutorLaunch,
  type ExecutorPlacementOptions,
} from './place-executors.ts';
import { assertCoresPerExecutor, scheduleExecutorsOnWorkers } from './schedule-executors-on-workers.ts';
import { hasResourcesFor, withoutAddresses, type ResourcesFree } from './resources.ts';
import type { ExecutorRequest, WorkerView } from './types.ts';

/** What one request got when its turn came. */
export interface ExecutorTurn {
  /** As `placeExecutors` gives them: in usable-worker order. */
  readonly executors: ReadonlyArray<ExecutorLaunch>;
  /**
   * Some worker could host one executor of this request when its turn came (`placeExecutors`'s
   * `usableWorkerIds` was not empty). The Master's "requires more resource than any of Workers could have"
   * warning needs only this, and the heap path finds it without listing every usable worker.
   */
  readonly anyUsableWorker: boolean;
}

/** This call's own copy of an ALIVE worker, charged as the requests before take its cores and memory. */
export interface WorkerSlot extends WorkerView {
  coresFree: number;
  memoryFreeMb: number;
  resourcesFree?: ResourcesFree | undefined;
  /** Its place in ID order among this call's slots (`rankById`): the heap's tie-break. */
  idRank: number;
}

const NOTHING: ExecutorTurn = { executors: [], anyUsableWorker: false };

/**
 * Places several requests (applications, or their resource profiles) one after another: each sees the cores and
 * memory the earlier ones left, exactly as calling `placeExecutors` for each in turn on updated views would
 * (Spark's FIFO loop in `startExecutorsOnWorkers`, reference §5.3). Pure: the inputs are not touched; the
 * views are copied once, and afterwards only the workers an executor lands on change.
 *
 * Cost: `placeExecutors` filters and sorts every worker, O(n log n) per request. Spreading out with
 * `CORES_FREE_DESC` (Spark's defaults) goes through a max-heap built once instead (`placeOnMostCoresFree`):
 * a request that can reach k workers costs O((k + workers passed over) log n), however many there are.
 *
 * ALIVE worker IDs must be unique (the Master keys its workers by ID); a duplicate throws a RangeError.
 */
export function placeExecutorsInTurn(
  requests: ReadonlyArray<ExecutorRequest>,
  workers: ReadonlyArray<WorkerView>,
  options: ExecutorPlacementOptions,
): ExecutorTurn[] {
  const alive: WorkerSlot[] = [];
  for (const worker of workers) {
    if (!isAlive(worker)) continue; // never usable: left out of every copy
    alive.push({
      id: worker.id,
      state: worker.state,
      coresFree: worker.coresFree,
      memoryFreeMb: worker.memoryFreeMb,
      resourcesFree: worker.resourcesFree,
      idRank: 0,
    });
  }
  rankById(alive); // and throws on a duplicate ID
  if (options.spreadOut && options.policy === 'CORES_FREE_DESC') {
    const heap = new CoresFreeHeap(alive);
    return requests.map((request) => placeOnMostCoresFree(request, heap));
  }
  const slots = new Map(alive.map((slot) => [slot.id, slot]));
  return requests.map((request) => {
    const plan = placeExecutors(request, alive, options);
    charge(slots, plan.executors);
    return { executors: plan.executors, anyUsableWorker: plan.usableWorkerIds.length > 0 };
  });
}

/**
 * One request, spreading out with `CORES_FREE_DESC`, on the heap of this call's ALIVE slots; charges the slots
 * it places executors on, and leaves the heap holding every slot. Exported for its tests.
 *
 * Spreading out goes round the usable workers in that order, one step of `minCores` per worker per round, and
 * only the first `reach` of them can get any cores (`reachOf`). So only those are popped, with the workers
 * passed over for want of memory or custom resources or because the request excludes them; when there are fewer, every usable worker is popped (the heap is ordered by
 * cores, so the first worker short of `minCores` ends the search). `scheduleExecutorsOnWorkers` then runs on
 * the workers popped: the head of `placeExecutors`'s ordered usable workers, and the only part that gets cores.
 */
export function placeOnMostCoresFree(request: ExecutorRequest, heap: CoresFreeHeap<WorkerSlot>): ExecutorTurn {
  const minCores = request.coresPerExecutor ?? 1;
  // Spark skips the application outright when it cannot afford even one executor.
  if (request.coresLeft < minCores) return NOTHING;
  assertCoresPerExecutor(request);
  const reach = reachOf(request, minCores);
  // At least one, even when none can get cores: `anyUsableWorker` needs to know whether one exists.
  const wanted = Math.max(reach, 1);
  const usable: WorkerSlot[] = [];
  const passedOver: WorkerSlot[] = [];
  const excluded = request.excludedWorkerIds;
  for (let top = heap.peek(); top !== undefined && top.coresFree >= minCores && usable.length < wanted; top = heap.peek()) {
    heap.pop();
    const fits =
      top.memoryFreeMb >= request.memoryMbPerExecutor &&
      hasResourcesFor(top.resourcesFree, request.resourcesPerExecutor) &&
      excluded?.has(top.id) !== true;
    (fits ? usable : passedOver).push(top);
  }
  const candidates = usable.slice(0, reach);
  const executors = executorsFromCores(request, candidates, scheduleExecutorsOnWorkers(request, candidates, true));
  charge(new Map(candidates.map((slot) => [slot.id, slot])), executors);
  for (const slot of usable) heap.push(slot);
  for (const slot of passedOver) heap.push(slot);
  return { executors, anyUsableWorker: usable.length > 0 };
}

/**
 * How many of the first usable workers a spread-out request can give cores to (infinite when no bound).
 * The first round gives one step to each usable worker in turn until `coresLeft` or the executor limit runs
 * out. A worker it did not reach gets nothing later either: once `coresLeft` is spent nothing moves, and once
 * the limit is hit no worker can open an executor (without `coresPerExecutor`, the executors already opened
 * keep growing a core per round, on the workers the first round reached).
 */
function reachOf(request: ExecutorRequest, minCores: number): number {
  const executorsLeft = (request.executorLimit ?? Number.POSITIVE_INFINITY) - request.existingExecutors;
  return Math.max(0, Math.min(Math.floor(request.coresLeft / minCores), executorsLeft));
}

function charge(slots: ReadonlyMap<string, WorkerSlot>, executors: ReadonlyArray<ExecutorLaunch>): void {
  for (const launch of executors) {
    const slot = slots.get(launch.workerId);
    if (slot === undefined) throw new Error(`placement names a worker it was not given: ${launch.workerId}`);
    slot.coresFree -= launch.cores;
    slot.memoryFreeMb -= launch.memoryMb;
    slot.resourcesFree = withoutAddresses(slot.resourcesFree, launch.resources);
  }
}
