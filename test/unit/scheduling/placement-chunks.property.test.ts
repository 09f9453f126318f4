// scheduleExecutorsOnWorkers hands out cores in arithmetic chunks (issue "Trust at the edges", finding 1: a
// worker declaring 2^53 cores kept the one-core-per-iteration loop, and the Master, busy for ever). These
// properties pin the chunked version to the loop it replaced, kept here verbatim as the naive reference, and
// check that huge workers and requests finish with a consistent placement.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  placeExecutors,
  placeExecutorsInTurn,
  scheduleExecutorsOnWorkers,
  type ExecutorRequest,
  type WorkerResources,
  type WorkerView,
} from '../../../src/scheduling/index.ts';

const NUM_RUNS = 1000;

interface Slot {
  readonly worker: WorkerResources;
  cores: number;
  executors: number;
}

/** The step-by-step loop as it stood before the chunked rewrite (Spark's `scheduleExecutorsOnWorkers`). */
function stepByStep(request: ExecutorRequest, workers: ReadonlyArray<WorkerResources>, spreadOut: boolean): number[] {
  const { coresPerExecutor, memoryMbPerExecutor, existingExecutors } = request;
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
    if (!launchingNewExecutor) return keepScheduling && enoughCores;
    const enoughMemory = slot.worker.memoryFreeMb - slot.executors * memoryMbPerExecutor >= memoryMbPerExecutor;
    const underLimit = newExecutors + existingExecutors < executorLimit;
    return keepScheduling && enoughCores && enoughMemory && underLimit;
  };

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
        if (spreadOut) break;
      }
    }
    free = free.filter(canLaunch);
  }
  return slots.map((slot) => slot.cores);
}

const smallWorkerArb = fc.record({
  coresFree: fc.integer({ min: 0, max: 40 }),
  memoryFreeMb: fc.integer({ min: 0, max: 4096 }),
});
const smallRequestArb: fc.Arbitrary<ExecutorRequest> = fc.record(
  {
    coresLeft: fc.oneof(fc.integer({ min: 0, max: 200 }), fc.constant(Number.MAX_SAFE_INTEGER)),
    coresPerExecutor: fc.integer({ min: 1, max: 8 }),
    memoryMbPerExecutor: fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 2048 })),
    executorLimit: fc.integer({ min: 0, max: 20 }),
    existingExecutors: fc.integer({ min: 0, max: 8 }),
  },
  { requiredKeys: ['coresLeft', 'memoryMbPerExecutor', 'existingExecutors'] },
);

test('chunked placement equals the step-by-step loop on small random cases', () => {
  fc.assert(
    fc.property(smallRequestArb, fc.array(smallWorkerArb, { maxLength: 9 }), fc.boolean(), (request, workers, spreadOut) => {
      assert.deepEqual(scheduleExecutorsOnWorkers(request, workers, spreadOut), stepByStep(request, workers, spreadOut));
    }),
    { numRuns: NUM_RUNS },
  );
});

/** No worker over-committed, multiples of coresPerExecutor, sums and the executor limit right. */
function assertConsistent(request: ExecutorRequest, workers: ReadonlyArray<WorkerResources>, cores: number[]): void {
  assert.equal(cores.length, workers.length);
  const total = cores.reduce((s, c) => s + c, 0);
  const free = workers.reduce((s, w) => s + w.coresFree, 0);
  assert.ok(Number.isSafeInteger(total) && total <= Math.min(request.coresLeft, free), `total ${total}`);
  let executors = 0;
  cores.forEach((c, i) => {
    const worker = workers[i] as WorkerResources;
    assert.ok(Number.isSafeInteger(c) && c >= 0 && c <= worker.coresFree, `worker ${i}: ${c} of ${worker.coresFree}`);
    const cpe = request.coresPerExecutor;
    if (cpe !== undefined) assert.equal(c % cpe, 0, `worker ${i}: ${c} not a multiple of ${cpe}`);
    const here = c === 0 ? 0 : cpe === undefined ? 1 : c / cpe;
    assert.ok(here * request.memoryMbPerExecutor <= worker.memoryFreeMb, `worker ${i}: memory`);
    executors += here;
  });
  if (request.executorLimit !== undefined) {
    assert.ok(executors <= Math.max(0, request.executorLimit - request.existingExecutors), 'executor limit');
  }
}

const hugeWorkerArb = fc.record({
  coresFree: fc.oneof(fc.integer({ min: 0, max: 2 ** 31 }), fc.constant(2 ** 31)),
  memoryFreeMb: fc.oneof(fc.integer({ min: 0, max: 2 ** 31 }), fc.constant(2 ** 31 - 1)),
});
const hugeRequestArb: fc.Arbitrary<ExecutorRequest> = fc.record(
  {
    coresLeft: fc.oneof(fc.constant(Number.MAX_SAFE_INTEGER), fc.integer({ min: 0, max: 2 ** 40 })),
    coresPerExecutor: fc.integer({ min: 1, max: 2 ** 20 }),
    memoryMbPerExecutor: fc.integer({ min: 0, max: 2 ** 20 }),
    executorLimit: fc.oneof(fc.integer({ min: 0, max: 2 ** 31 }), fc.constant(Number.MAX_SAFE_INTEGER)),
    existingExecutors: fc.integer({ min: 0, max: 1000 }),
  },
  { requiredKeys: ['coresLeft', 'memoryMbPerExecutor', 'existingExecutors'] },
);

test('workers of up to 2^31 cores and requests of up to Number.MAX_SAFE_INTEGER cores finish and stay consistent', () => {
  fc.assert(
    fc.property(hugeRequestArb, fc.array(hugeWorkerArb, { maxLength: 12 }), fc.boolean(), (request, workers, spreadOut) => {
      assertConsistent(request, workers, scheduleExecutorsOnWorkers(request, workers, spreadOut));
    }),
    { numRuns: NUM_RUNS },
  );
});

test('finding 1: one worker with 2^31 cores and an app wanting MAX_SAFE_INTEGER cores gets every core at once', () => {
  const workers = [{ coresFree: 2 ** 31, memoryFreeMb: 1024 }];
  const request: ExecutorRequest = { coresLeft: Number.MAX_SAFE_INTEGER, memoryMbPerExecutor: 1024, existingExecutors: 0 };
  assert.deepEqual(scheduleExecutorsOnWorkers(request, workers, true), [2 ** 31]);
  assert.deepEqual(scheduleExecutorsOnWorkers(request, workers, false), [2 ** 31]);
  // Through the Master's entry points too: one executor holding all the cores.
  const views: WorkerView[] = [{ id: 'w', state: 'ALIVE', ...workers[0]! }];
  const options = { spreadOut: true, policy: 'CORES_FREE_DESC' } as const;
  assert.deepEqual(placeExecutors(request, views, options).executors, [{ workerId: 'w', cores: 2 ** 31, memoryMb: 1024 }]);
  assert.deepEqual(placeExecutorsInTurn([request], views, options)[0]?.executors, [
    { workerId: 'w', cores: 2 ** 31, memoryMb: 1024 },
  ]);
});

test('spreading out a huge budget: full rounds to the smallest workers, the remainder one each in worker order', () => {
  const workers = [
    { coresFree: 2 ** 31, memoryFreeMb: 0 },
    { coresFree: 5, memoryFreeMb: 0 },
    { coresFree: 2 ** 31, memoryFreeMb: 0 },
    { coresFree: 2 ** 31, memoryFreeMb: 0 },
  ];
  const request: ExecutorRequest = { coresLeft: 5 + 3 * 1000 + 2, memoryMbPerExecutor: 0, existingExecutors: 0 };
  assert.deepEqual(scheduleExecutorsOnWorkers(request, workers, true), [1001, 5, 1001, 1000]);
  assert.deepEqual(scheduleExecutorsOnWorkers(request, workers, false), [3007, 0, 0, 0]);
});
