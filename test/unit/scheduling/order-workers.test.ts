// Worker filtering and ordering for executor placement (reference §5.3 step 3), including the ports of Spark's
// WorkerSelectionSuite (SPARK-46881), which runs the whole startExecutorsOnWorkers pipeline.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  WORKER_SELECTION_POLICIES,
  filterUsableWorkers,
  orderUsableWorkers,
  parseWorkerSelectionPolicy,
  placeExecutors,
  type WorkerSelectionPolicy,
  type WorkerView,
} from '../../../src/scheduling/index.ts';

const w = (id: string, coresFree: number, memoryFreeMb: number, state: WorkerView['state'] = 'ALIVE'): WorkerView => ({
  id,
  coresFree,
  memoryFreeMb,
  state,
});
const ids = (workers: ReadonlyArray<{ id: string }>): string[] => workers.map((x) => x.id);

// WorkerSelectionSuite registers workers 10001..10003 with 4 + idx cores and 1280 × (idx < 2 ? idx : 6 − idx) MB,
// then schedules an application with 128 MB, 2-core executors and maxCores 4: two executors.
const suiteWorkers = [1, 2, 3].map((idx) => w(String(10000 + idx), 4 + idx, 1280 * (idx < 2 ? idx : 6 - idx)));
const suiteApp = { coresLeft: 4, coresPerExecutor: 2, memoryMbPerExecutor: 128, existingExecutors: 0 };

const workerSelectionPolicyTestCases: ReadonlyArray<[WorkerSelectionPolicy, boolean, string[]]> = [
  ['CORES_FREE_ASC', true, ['10001', '10002']],
  ['CORES_FREE_ASC', false, ['10001']],
  ['CORES_FREE_DESC', true, ['10002', '10003']],
  ['CORES_FREE_DESC', false, ['10003']],
  ['MEMORY_FREE_ASC', true, ['10001', '10003']],
  ['MEMORY_FREE_ASC', false, ['10001']],
  ['MEMORY_FREE_DESC', true, ['10002', '10003']],
  ['MEMORY_FREE_DESC', false, ['10002']],
  ['WORKER_ID', true, ['10001', '10002']],
  ['WORKER_ID', false, ['10001']],
];

for (const [policy, spreadOut, expected] of workerSelectionPolicyTestCases) {
  test(`WorkerSelectionSuite "SPARK-46881: scheduling with workerSelectionPolicy - ${policy} (${spreadOut})"`, () => {
    const plan = placeExecutors(suiteApp, suiteWorkers, { policy, spreadOut });
    assert.deepEqual([...new Set(plan.executors.map((e) => e.workerId))].sort(), expected);
    // Spark also ends up with exactly two 2-core executors in every case.
    assert.deepEqual(
      plan.executors.map((e) => [e.cores, e.memoryMb]),
      [
        [2, 128],
        [2, 128],
      ],
    );
  });
}

test('CORES_FREE_DESC (default): most free cores first, ties broken by the larger worker ID', () => {
  const workers = [w('b', 4, 100), w('a', 8, 100), w('c', 4, 100), w('d', 8, 50)];
  assert.deepEqual(ids(orderUsableWorkers(workers, 'CORES_FREE_DESC')), ['d', 'a', 'c', 'b']);
});

test('CORES_FREE_ASC: fewest free cores first, ties broken by the smaller worker ID', () => {
  const workers = [w('b', 4, 100), w('a', 8, 100), w('c', 4, 100), w('d', 8, 50)];
  assert.deepEqual(ids(orderUsableWorkers(workers, 'CORES_FREE_ASC')), ['b', 'c', 'a', 'd']);
});

test('MEMORY_FREE_ASC and MEMORY_FREE_DESC order by free memory with the same ID tie-breaks', () => {
  const workers = [w('b', 1, 512), w('a', 9, 256), w('c', 5, 512), w('d', 2, 1024)];
  assert.deepEqual(ids(orderUsableWorkers(workers, 'MEMORY_FREE_ASC')), ['a', 'b', 'c', 'd']);
  assert.deepEqual(ids(orderUsableWorkers(workers, 'MEMORY_FREE_DESC')), ['d', 'c', 'b', 'a']);
});

test('WORKER_ID: ascending by ID in code-unit order, as Java String.compareTo', () => {
  // Upper case sorts before lower case and "10" before "9", whatever the host locale.
  const workers = [w('worker-9', 1, 1), w('worker-10', 1, 1), w('Worker-z', 1, 1), w('worker-a', 1, 1)];
  assert.deepEqual(ids(orderUsableWorkers(workers, 'WORKER_ID')), ['Worker-z', 'worker-10', 'worker-9', 'worker-a']);
});

test('ordering returns a new array and leaves the input as it was', () => {
  const workers = Object.freeze([w('b', 1, 1), w('a', 2, 2)]);
  for (const policy of WORKER_SELECTION_POLICIES) {
    const ordered = orderUsableWorkers(workers, policy);
    assert.notEqual(ordered, workers);
    assert.deepEqual(ids(workers), ['b', 'a']);
    assert.deepEqual(ids(ordered).sort(), ['a', 'b']);
  }
});

test('usable workers are ALIVE with enough free memory and at least minCores free cores', () => {
  const workers = [
    w('ok', 2, 128),
    w('dead', 8, 4096, 'DEAD'),
    w('decommissioned', 8, 4096, 'DECOMMISSIONED'),
    w('unknown', 8, 4096, 'UNKNOWN'),
    w('low-memory', 8, 127),
    w('low-cores', 1, 4096),
    w('exact', 2, 128),
  ];
  const usable = filterUsableWorkers(workers, { memoryMbPerExecutor: 128, minCores: 2 });
  assert.deepEqual(ids(usable), ['ok', 'exact']);
});

test('placeExecutors skips an application that cannot afford one executor, as startExecutorsOnWorkers does', () => {
  const plan = placeExecutors({ ...suiteApp, coresLeft: 1 }, suiteWorkers, { policy: 'WORKER_ID', spreadOut: true });
  assert.deepEqual(plan, { executors: [], usableWorkerIds: [] });
});

test('placeExecutors reports the ordered usable workers and splits cores into executors', () => {
  const workers = [w('a', 10, 512), w('dead', 10, 512, 'DEAD'), w('b', 6, 512), w('small', 10, 16)];
  const request = { coresLeft: 12, coresPerExecutor: 3, memoryMbPerExecutor: 64, existingExecutors: 0 };
  const plan = placeExecutors(request, workers, { policy: 'CORES_FREE_DESC', spreadOut: false });
  assert.deepEqual(plan.usableWorkerIds, ['a', 'b']);
  assert.deepEqual(
    plan.executors.map((e) => `${e.workerId}:${e.cores}`),
    ['a:3', 'a:3', 'a:3', 'b:3'],
  );
  // Without coresPerExecutor, one executor per worker takes every core it was given.
  const single = placeExecutors({ ...request, coresPerExecutor: undefined }, workers, {
    policy: 'CORES_FREE_DESC',
    spreadOut: true,
  });
  assert.deepEqual(
    single.executors.map((e) => `${e.workerId}:${e.cores}`),
    ['a:6', 'b:6'],
  );
});

test('parseWorkerSelectionPolicy is case-insensitive and rejects unknown names', () => {
  assert.equal(parseWorkerSelectionPolicy('cores_free_asc'), 'CORES_FREE_ASC');
  assert.equal(parseWorkerSelectionPolicy('Worker_Id'), 'WORKER_ID');
  assert.equal(parseWorkerSelectionPolicy('RANDOM'), undefined);
});
