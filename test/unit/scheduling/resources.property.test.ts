// Custom resources in placement (reference §5.6): property tests that no address is ever given to two holders,
// that every holder gets exactly what it asked for from its own worker's free addresses, and that the heap
// path agrees with `placeExecutors` in turn when requests need resources. A naive reference counts how many
// executors each worker can open with its addresses (Spark's `resOK`, one executor at a time).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  copyResources,
  WORKER_SELECTION_POLICIES,
  placeDrivers,
  placeExecutors,
  placeExecutorsInTurn,
  scheduleExecutorsOnWorkers,
  withoutAddresses,
  type DriverHostView,
  type ExecutorPlacementOptions,
  type ExecutorRequest,
  type ExecutorTurn,
  type WorkerView,
} from '../../../src/scheduling/index.ts';
import { seededRng } from './seeded-rng.ts';

const NUM_RUNS = 400;

const addresses = (prefix: string, n: number): string[] => Array.from({ length: n }, (_, i) => `${prefix}${i}`);

const workerArb: fc.Arbitrary<WorkerView> = fc
  .record({
    coresFree: fc.integer({ min: 0, max: 12 }),
    memoryFreeMb: fc.integer({ min: 0, max: 4096 }),
    gpus: fc.integer({ min: 0, max: 6 }),
    fpgas: fc.option(fc.integer({ min: 0, max: 3 }), { nil: undefined }),
    dead: fc.boolean(),
  })
  .map(({ coresFree, memoryFreeMb, gpus, fpgas, dead }) => ({
    id: '',
    state: dead ? 'DEAD' : 'ALIVE',
    coresFree,
    memoryFreeMb,
    resourcesFree: { gpu: addresses('g', gpus), ...(fpgas === undefined ? {} : { fpga: addresses('f', fpgas) }) },
  }));
const workersArb = fc
  .array(workerArb, { minLength: 0, maxLength: 7 })
  .map((ws) => ws.map((w, i) => ({ ...w, id: `worker-${String(i).padStart(2, '0')}` })));

const needsArb = fc.oneof(
  fc.constant([]),
  fc.integer({ min: 1, max: 3 }).map((gpu) => [{ name: 'gpu', amount: gpu }]),
  fc.tuple(fc.integer({ min: 1, max: 2 }), fc.integer({ min: 1, max: 2 })).map(([fpga, gpu]) => [
    { name: 'fpga', amount: fpga },
    { name: 'gpu', amount: gpu },
  ]),
);
const requestArb: fc.Arbitrary<ExecutorRequest> = fc.record(
  {
    coresLeft: fc.oneof(fc.integer({ min: 0, max: 40 }), fc.constant(2_147_483_647)),
    coresPerExecutor: fc.integer({ min: 1, max: 4 }),
    memoryMbPerExecutor: fc.integer({ min: 0, max: 1024 }),
    executorLimit: fc.integer({ min: 0, max: 10 }),
    existingExecutors: fc.integer({ min: 0, max: 3 }),
    resourcesPerExecutor: needsArb,
  },
  { requiredKeys: ['coresLeft', 'memoryMbPerExecutor', 'existingExecutors', 'resourcesPerExecutor'] },
);
const optionsArb: fc.Arbitrary<ExecutorPlacementOptions> = fc.record({
  spreadOut: fc.boolean(),
  policy: fc.constantFrom(...WORKER_SELECTION_POLICIES),
});

/** Every address a holder got, checked against its worker's free addresses and against every other holder. */
function assertDisjointAndExact(
  workers: ReadonlyArray<WorkerView>,
  holders: ReadonlyArray<{ workerId: string; resources?: Readonly<Record<string, ReadonlyArray<string>>> | undefined; needs: ReadonlyArray<{ name: string; amount: number }> }>,
): void {
  const given = new Set<string>();
  for (const holder of holders) {
    const worker = workers.find((w) => w.id === holder.workerId && w.state === 'ALIVE');
    assert.ok(worker, `placed on a worker that is not ALIVE: ${holder.workerId}`);
    for (const need of holder.needs) {
      const got = holder.resources?.[need.name] ?? [];
      assert.equal(got.length, need.amount, `${holder.workerId} gave ${got.length} ${need.name}, ${need.amount} needed`);
      for (const address of got) {
        assert.ok(worker.resourcesFree?.[need.name]?.includes(address), `${address} is not a free ${need.name} of ${worker.id}`);
        const key = `${worker.id}/${need.name}/${address}`;
        assert.ok(!given.has(key), `${key} given twice`);
        given.add(key);
      }
    }
    assert.deepEqual(Object.keys(holder.resources ?? {}).sort(), holder.needs.map((n) => n.name).sort());
  }
}

test('placeExecutorsInTurn never gives an address twice, and each executor gets exactly its amounts from its worker', () => {
  fc.assert(
    fc.property(workersArb, fc.array(requestArb, { maxLength: 4 }), optionsArb, (workers, requests, options) => {
      const turns = placeExecutorsInTurn(requests, workers, options);
      const holders = turns.flatMap((turn, i) =>
        turn.executors.map((e) => ({ workerId: e.workerId, resources: e.resources, needs: requests[i]?.resourcesPerExecutor ?? [] })),
      );
      assertDisjointAndExact(workers, holders);
    }),
    { numRuns: NUM_RUNS },
  );
});

test('scheduleExecutorsOnWorkers opens no more executors on a worker than its addresses allow (naive count)', () => {
  fc.assert(
    fc.property(workersArb, requestArb, fc.boolean(), (workers, request, spreadOut) => {
      const alive = workers.filter((w) => w.state === 'ALIVE');
      const cores = scheduleExecutorsOnWorkers(request, alive, spreadOut);
      alive.forEach((worker, i) => {
        const given = cores[i] ?? 0;
        // Without coresPerExecutor one executor takes every core the worker gives.
        const executors = request.coresPerExecutor === undefined ? Math.min(given, 1) : given / request.coresPerExecutor;
        // The naive count: take `amount` addresses per executor until one resource runs short.
        let room = 0;
        let free = worker.resourcesFree;
        for (;;) {
          const needs = request.resourcesPerExecutor ?? [];
          if (needs.some((n) => (free?.[n.name]?.length ?? 0) < n.amount)) break;
          free = withoutAddresses(free, Object.fromEntries(needs.map((n) => [n.name, (free?.[n.name] ?? []).slice(0, n.amount)])));
          room += 1;
          if (needs.length === 0 || room > 100) break;
        }
        if ((request.resourcesPerExecutor ?? []).length > 0) assert.ok(executors <= room, `${worker.id}: ${executors} executors, room for ${room}`);
      });
    }),
    { numRuns: NUM_RUNS },
  );
});

test('with resources, the heap path gives exactly what placeExecutors gives in turn on charged views', () => {
  fc.assert(
    fc.property(workersArb, fc.array(requestArb, { maxLength: 5 }), (workers, requests) => {
      const options: ExecutorPlacementOptions = { spreadOut: true, policy: 'CORES_FREE_DESC' };
      const views = workers.map((w) => ({ ...w }));
      const expected: ExecutorTurn[] = requests.map((request) => {
        const plan = placeExecutors(request, views, options);
        for (const e of plan.executors) {
          const view = views.find((v) => v.id === e.workerId) as WorkerView & { coresFree: number; memoryFreeMb: number };
          view.coresFree -= e.cores;
          view.memoryFreeMb -= e.memoryMb;
          Object.assign(view, { resourcesFree: withoutAddresses(view.resourcesFree, e.resources) });
        }
        return { executors: plan.executors, anyUsableWorker: plan.usableWorkerIds.length > 0 };
      });
      assert.deepEqual(placeExecutorsInTurn(requests, workers, options), expected);
    }),
    { numRuns: NUM_RUNS },
  );
});

test('placeDrivers gives each driver its own addresses, from the worker it lands on', () => {
  const driversArb = fc.array(
    fc.record({ cores: fc.integer({ min: 1, max: 4 }), memoryMb: fc.integer({ min: 1, max: 1024 }), resources: needsArb }),
    { maxLength: 8 },
  );
  fc.assert(
    fc.property(workersArb, driversArb, fc.boolean(), fc.integer(), (workers, drivers, spreadOut, seed) => {
      const hosts: DriverHostView[] = workers.map((w) => ({ ...w, driverCount: 0, executorCount: 0 }));
      const waiting = drivers.map((d, i) => ({ ...d, id: `driver-${i}` }));
      const plan = placeDrivers({ waitingDrivers: waiting, workers: hosts, runningDrivers: 0, spreadOut }, seededRng(seed));
      assertDisjointAndExact(
        workers,
        plan.placements.map((p) => ({
          workerId: p.workerId,
          resources: p.resources,
          needs: waiting.find((d) => d.id === p.driverId)?.resources ?? [],
        })),
      );
    }),
    { numRuns: NUM_RUNS },
  );
});

test('a worker with too few addresses is passed over; one with enough gets the first free ones', () => {
  const workers: WorkerView[] = [
    { id: 'a', state: 'ALIVE', coresFree: 8, memoryFreeMb: 4096, resourcesFree: { gpu: ['0'] } },
    { id: 'b', state: 'ALIVE', coresFree: 4, memoryFreeMb: 4096, resourcesFree: { gpu: ['2', '3', '5'] } },
  ];
  const request: ExecutorRequest = {
    coresLeft: 8,
    coresPerExecutor: 1,
    memoryMbPerExecutor: 512,
    existingExecutors: 0,
    resourcesPerExecutor: [{ name: 'gpu', amount: 2 }],
  };
  const [turn] = placeExecutorsInTurn([request], workers, { spreadOut: true, policy: 'CORES_FREE_DESC' });
  assert.deepEqual(turn?.executors, [{ workerId: 'b', cores: 1, memoryMb: 512, resources: { gpu: ['2', '3'] } }]);
  const none = placeExecutorsInTurn([{ ...request, resourcesPerExecutor: [{ name: 'gpu', amount: 4 }] }], workers, {
    spreadOut: false,
    policy: 'WORKER_ID',
  });
  assert.deepEqual(none, [{ executors: [], anyUsableWorker: false }]);
});

test('copyResources gives arrays of its own: changing the copy leaves the holder its addresses', () => {
  fc.assert(
    fc.property(fc.dictionary(fc.string({ minLength: 1, maxLength: 8 }), fc.uniqueArray(fc.string({ minLength: 1, maxLength: 4 }), { maxLength: 6 }), { maxKeys: 4 }), (resources) => {
      const before = JSON.stringify(resources);
      const copy = copyResources(resources);
      assert.equal(JSON.stringify(copy), before);
      for (const [name, addresses] of Object.entries(copy)) {
        assert.notEqual(addresses, resources[name], `${name}: a new array`);
        addresses.push('extra');
      }
      assert.equal(JSON.stringify(resources), before);
    }),
  );
});
