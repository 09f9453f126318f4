// placeExecutorsInTurn: several requests placed one after another (Spark's FIFO loop in startExecutorsOnWorkers,
// reference §5.3), and its heap path for spreadOut + CORES_FREE_DESC. The reference is the obvious loop:
// placeExecutors per request on views charged with what the requests before took. Property tests check that
// both paths give exactly that, for every policy; unit tests pin the cases the heap path has to get right.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { CoresFreeHeap, rankById } from '../../../src/scheduling/cores-free-heap.ts';
import {
  WORKER_SELECTION_POLICIES,
  orderUsableWorkers,
  placeExecutors,
  placeExecutorsInTurn,
  type ExecutorPlacementOptions,
  type ExecutorRequest,
  type ExecutorTurn,
  type WorkerView,
} from '../../../src/scheduling/index.ts';
import { placeOnMostCoresFree, type WorkerSlot } from '../../../src/scheduling/place-executors-in-turn.ts';

const NUM_RUNS = 500;
const DEFAULTS: ExecutorPlacementOptions = { spreadOut: true, policy: 'CORES_FREE_DESC' };

/** `placeExecutors` for each request in turn, on copies charged with every executor placed before. */
function referenceInTurn(
  requests: ReadonlyArray<ExecutorRequest>,
  workers: ReadonlyArray<WorkerView>,
  options: ExecutorPlacementOptions,
): ExecutorTurn[] {
  const views = workers.map((w) => ({ ...w }));
  return requests.map((request) => {
    const plan = placeExecutors(request, views, options);
    for (const e of plan.executors) {
      const view = views.find((v) => v.id === e.workerId && v.state === 'ALIVE');
      assert.ok(view, `placed on an unknown worker ${e.workerId}`);
      view.coresFree -= e.cores;
      view.memoryFreeMb -= e.memoryMb;
    }
    return { executors: plan.executors, anyUsableWorker: plan.usableWorkerIds.length > 0 };
  });
}

const w = (id: string, coresFree: number, memoryFreeMb = 4096, state: WorkerView['state'] = 'ALIVE'): WorkerView => ({
  id,
  state,
  coresFree,
  memoryFreeMb,
});
const req = (coresLeft: number, over: Partial<ExecutorRequest> = {}): ExecutorRequest => ({
  coresLeft,
  memoryMbPerExecutor: 1024,
  existingExecutors: 0,
  ...over,
});
const placed = (turn: ExecutorTurn | undefined): Array<[string, number]> =>
  (turn?.executors ?? []).map((e) => [e.workerId, e.cores]);

// ---- properties ---------------------------------------------------------------------------------------------

/** Short IDs from a small alphabet (ties on cores are common), some of them prefixes of others. */
const idArb = fc.string({ unit: fc.constantFrom('a', 'b', 'B', '1'), minLength: 1, maxLength: 3 });
const workersArb = (maxLength: number, maxCores: number): fc.Arbitrary<WorkerView[]> =>
  fc.uniqueArray(
    fc.record({
      id: idArb,
      state: fc.constantFrom('ALIVE', 'ALIVE', 'ALIVE', 'DEAD', 'DECOMMISSIONED', 'UNKNOWN') as fc.Arbitrary<WorkerView['state']>,
      coresFree: fc.integer({ min: 0, max: maxCores }),
      memoryFreeMb: fc.integer({ min: 0, max: 4096 }),
    }),
    { selector: (x) => x.id, maxLength },
  );
const requestArb: fc.Arbitrary<ExecutorRequest> = fc.record(
  {
    coresLeft: fc.oneof(fc.integer({ min: 0, max: 40 }), fc.constant(2_147_483_647), fc.constant(Number.POSITIVE_INFINITY)),
    coresPerExecutor: fc.integer({ min: 1, max: 6 }),
    memoryMbPerExecutor: fc.integer({ min: 0, max: 2048 }),
    executorLimit: fc.integer({ min: 0, max: 12 }),
    existingExecutors: fc.integer({ min: 0, max: 6 }),
    excludedWorkerIds: fc.uniqueArray(idArb, { maxLength: 3 }).map((ids) => new Set(ids)),
  },
  { requiredKeys: ['coresLeft', 'memoryMbPerExecutor', 'existingExecutors'] },
);
const optionsArb: fc.Arbitrary<ExecutorPlacementOptions> = fc.record({
  spreadOut: fc.boolean(),
  policy: fc.constantFrom(...WORKER_SELECTION_POLICIES),
});

test('placeExecutorsInTurn gives exactly what placeExecutors gives in turn, for every policy', () => {
  fc.assert(
    fc.property(fc.array(requestArb, { minLength: 1, maxLength: 8 }), workersArb(12, 16), optionsArb, (requests, workers, options) => {
      assert.deepEqual(placeExecutorsInTurn(requests, workers, options), referenceInTurn(requests, workers, options));
    }),
    { numRuns: NUM_RUNS },
  );
});

test('the heap path (spreadOut, CORES_FREE_DESC) gives exactly what placeExecutors gives, over longer queues', () => {
  // Few cores per worker and small requests: the first round usually suffices and the heap path answers it.
  const smallRequestArb = fc.record(
    {
      coresLeft: fc.oneof(fc.integer({ min: 0, max: 12 }), requestArb.map((r) => r.coresLeft)),
      coresPerExecutor: fc.integer({ min: 1, max: 3 }),
      memoryMbPerExecutor: fc.integer({ min: 0, max: 2048 }),
      executorLimit: fc.integer({ min: 0, max: 12 }),
      existingExecutors: fc.integer({ min: 0, max: 3 }),
      excludedWorkerIds: requestArb.map((r) => r.excludedWorkerIds ?? new Set<string>()),
    },
    { requiredKeys: ['coresLeft', 'memoryMbPerExecutor', 'existingExecutors'] },
  );
  fc.assert(
    fc.property(fc.array(smallRequestArb, { minLength: 1, maxLength: 30 }), workersArb(40, 6), (requests, workers) => {
      assert.deepEqual(placeExecutorsInTurn(requests, workers, DEFAULTS), referenceInTurn(requests, workers, DEFAULTS));
    }),
    { numRuns: NUM_RUNS },
  );
});

test('placeOnMostCoresFree on one request equals placeExecutors and leaves every worker in the heap', () => {
  fc.assert(
    fc.property(requestArb, workersArb(20, 16), (request, workers) => {
      const slots: WorkerSlot[] = workers.filter((x) => x.state === 'ALIVE').map((x) => ({ ...x, idRank: 0 }));
      rankById(slots);
      const heap = new CoresFreeHeap(slots);
      const turn = placeOnMostCoresFree(request, heap);
      const plan = placeExecutors(request, workers, DEFAULTS);
      assert.deepEqual(turn, { executors: plan.executors, anyUsableWorker: plan.usableWorkerIds.length > 0 });
      assert.equal(heap.size, slots.length);
    }),
    { numRuns: NUM_RUNS },
  );
});

test('CoresFreeHeap pops in orderUsableWorkers CORES_FREE_DESC order, across pushes of changed workers', () => {
  const candidatesArb = fc.uniqueArray(
    fc.record({ id: idArb, coresFree: fc.integer({ min: 0, max: 5 }), memoryFreeMb: fc.constant(0) }),
    { selector: (x) => x.id, maxLength: 30 },
  );
  fc.assert(
    fc.property(candidatesArb, fc.array(fc.integer({ min: 0, max: 3 }), { maxLength: 10 }), (candidates, takes) => {
      const items = candidates.map((c) => ({ ...c, idRank: 0 }));
      rankById(items);
      const heap = new CoresFreeHeap(items);
      // Take cores from the top few, as placement does, then check the whole order.
      for (const take of takes) {
        const top = heap.pop();
        if (top === undefined) break;
        (top as { coresFree: number }).coresFree -= Math.min(take, top.coresFree);
        heap.push(top);
      }
      const popped: string[] = [];
      for (let x = heap.pop(); x !== undefined; x = heap.pop()) popped.push(x.id);
      assert.deepEqual(popped, orderUsableWorkers(items, 'CORES_FREE_DESC').map((x) => x.id));
    }),
    { numRuns: NUM_RUNS },
  );
});

// ---- cases ------------------------------------------------------------------------------------------------

test('each request sees what the requests before it took', () => {
  const workers = [w('w1', 4), w('w2', 4), w('w3', 4)];
  const turns = placeExecutorsInTurn([req(2), req(6, { coresPerExecutor: 2 }), req(8)], workers, DEFAULTS);
  assert.deepEqual(turns.map(placed), [
    [
      ['w3', 1],
      ['w2', 1],
    ],
    [
      ['w1', 2],
      ['w3', 2],
      ['w2', 2],
    ],
    [
      ['w1', 2],
      ['w3', 1],
      ['w2', 1],
    ],
  ]);
  assert.deepEqual(workers, [w('w1', 4), w('w2', 4), w('w3', 4)], 'the input views are not touched');
});

test('a worker short of memory is passed over, and stays available to a later request that needs less', () => {
  const workers = [w('big', 8, 512), w('mid', 6), w('small', 2)];
  const turns = placeExecutorsInTurn([req(2), req(1, { memoryMbPerExecutor: 256 })], workers, DEFAULTS);
  assert.deepEqual(turns.map(placed), [[['mid', 1], ['small', 1]], [['big', 1]]]);
});

test('a worker excluded for one request (relaunch backoff) is passed over by it alone, on every path', () => {
  const workers = [w('big', 8), w('mid', 6), w('small', 2)];
  const requests = [req(2, { excludedWorkerIds: new Set(['big']) }), req(1)];
  for (const options of [DEFAULTS, { spreadOut: false, policy: 'WORKER_ID' } as const]) {
    const turns = placeExecutorsInTurn(requests, workers, options);
    assert.ok(turns[0]?.executors.every((e) => e.workerId !== 'big'), JSON.stringify(turns[0]));
    assert.deepEqual(placed(turns[1]), [['big', 1]]);
  }
  const onlyExcluded = placeExecutorsInTurn([req(2, { excludedWorkerIds: new Set(['big']) })], [w('big', 8)], DEFAULTS);
  assert.deepEqual(onlyExcluded, [{ executors: [], anyUsableWorker: false }]);
});

test('with coresPerExecutor the executor limit ends the first round: the top workers only', () => {
  const workers = [w('w1', 4), w('w2', 4), w('w3', 4), w('w4', 4)];
  const turn = placeExecutorsInTurn([req(8, { coresPerExecutor: 1, executorLimit: 3, existingExecutors: 1 })], workers, DEFAULTS)[0];
  assert.deepEqual(placed(turn), [
    ['w4', 1],
    ['w3', 1],
  ]);
});

test('without coresPerExecutor a limited executor keeps growing a core per round', () => {
  const workers = [w('w1', 4), w('w2', 4), w('w3', 4)];
  const turn = placeExecutorsInTurn([req(6, { executorLimit: 2 })], workers, DEFAULTS)[0];
  assert.deepEqual(placed(turn), [
    ['w3', 3],
    ['w2', 3],
  ]);
});

test('more steps than usable workers: further rounds over the same workers', () => {
  const turn = placeExecutorsInTurn([req(7, { coresPerExecutor: 2 })], [w('w1', 4), w('w2', 3, 4096), w('w3', 1)], DEFAULTS)[0];
  // coresToAssign is min(7, 4 + 3) = 7; 2-core steps: w1, w2, then w1 again; w2's last core and w3 stay unused.
  assert.deepEqual(placed(turn), [
    ['w1', 2],
    ['w1', 2],
    ['w2', 2],
  ]);
});

test('anyUsableWorker: false when no worker fits one executor or the request is skipped, true at the executor limit', () => {
  const workers = [w('w1', 4, 512), w('w2', 8, 4096, 'DEAD')];
  const [none, skipped, limited] = placeExecutorsInTurn(
    [req(4), req(1, { coresPerExecutor: 2, memoryMbPerExecutor: 1 }), req(4, { memoryMbPerExecutor: 1, executorLimit: 1, existingExecutors: 1 })],
    workers,
    DEFAULTS,
  );
  assert.deepEqual(none, { executors: [], anyUsableWorker: false });
  assert.deepEqual(skipped, { executors: [], anyUsableWorker: false });
  assert.deepEqual(limited, { executors: [], anyUsableWorker: true });
});

test('two ALIVE workers with one ID are a bug; a DEAD entry sharing an ALIVE worker\'s ID is not', () => {
  assert.throws(() => placeExecutorsInTurn([req(1)], [w('w1', 4), w('w1', 4)], DEFAULTS), RangeError);
  const turn = placeExecutorsInTurn([req(1)], [w('w1', 8, 4096, 'DEAD'), w('w1', 4)], DEFAULTS)[0];
  assert.deepEqual(placed(turn), [['w1', 1]]);
});

test('a non-positive or fractional coresPerExecutor throws on the heap path too', () => {
  for (const coresPerExecutor of [0, -1, 1.5]) {
    assert.throws(() => placeExecutorsInTurn([req(4, { coresPerExecutor })], [w('w1', 4)], DEFAULTS), RangeError);
  }
});

test('frozen inputs are accepted and left as they were', () => {
  const workers = Object.freeze([Object.freeze(w('w1', 4)), Object.freeze(w('w2', 2))]);
  const requests = Object.freeze([Object.freeze(req(3)), Object.freeze(req(8))]);
  for (const options of [DEFAULTS, { spreadOut: false, policy: 'WORKER_ID' } as const]) {
    assert.deepEqual(placeExecutorsInTurn(requests, workers, options), referenceInTurn(requests, workers, options));
  }
});
