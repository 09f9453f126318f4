// Property tests for placement (STYLE.md §10): scheduleExecutorsOnWorkers against a naive reference written
// differently (explicit executor lists, "retry every worker until nothing moves" instead of a shrinking free
// list), plus invariants for executors, worker ordering and driver placement.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  WORKER_SELECTION_POLICIES,
  orderUsableWorkers,
  placeDrivers,
  scheduleExecutorsOnWorkers,
  type DriverHostView,
  type ExecutorRequest,
  type WorkerResources,
} from '../../../src/scheduling/index.ts';
import { seededRng } from './seeded-rng.ts';

const NUM_RUNS = 500;

/**
 * The naive model: each worker holds a list of new executors (their core counts). One "step" on a worker either
 * opens a new executor or, in one-executor-per-worker mode, grows the one it has by a core. Passes repeat over
 * every worker until a whole pass changes nothing.
 */
function referenceSchedule(
  request: ExecutorRequest,
  workers: ReadonlyArray<WorkerResources>,
  spreadOut: boolean,
): number[] {
  const step = request.coresPerExecutor ?? 1;
  const single = request.coresPerExecutor === undefined;
  const limit = request.executorLimit ?? Infinity;
  const execs: number[][] = workers.map(() => []);
  const totalCores = workers.reduce((s, w) => s + w.coresFree, 0);
  const budget = Math.min(request.coresLeft, totalCores);
  const sum = (xs: number[]): number => xs.reduce((s, x) => s + x, 0);
  const granted = (): number => sum(execs.map(sum));
  const opened = (): number => execs.reduce((s, e) => s + e.length, 0);

  const tryStep = (i: number): boolean => {
    const worker = workers[i] as WorkerResources;
    const mine = execs[i] as number[];
    if (budget - granted() < step || worker.coresFree - sum(mine) < step) return false;
    if (single && mine.length === 1) {
      mine[0] = (mine[0] as number) + 1;
      return true;
    }
    const memoryLeft = worker.memoryFreeMb - mine.length * request.memoryMbPerExecutor;
    if (memoryLeft < request.memoryMbPerExecutor) return false;
    if (opened() + request.existingExecutors >= limit) return false;
    mine.push(step);
    return true;
  };

  for (let moved = true; moved; ) {
    moved = false;
    for (let i = 0; i < workers.length; i += 1) {
      while (tryStep(i)) {
        moved = true;
        if (spreadOut) break;
      }
    }
  }
  return execs.map(sum);
}

const workerArb = fc.record({
  coresFree: fc.integer({ min: 0, max: 16 }),
  memoryFreeMb: fc.integer({ min: 0, max: 2048 }),
});
const requestArb: fc.Arbitrary<ExecutorRequest> = fc.record(
  {
    coresLeft: fc.oneof(fc.integer({ min: 0, max: 64 }), fc.constant(2_147_483_647)),
    coresPerExecutor: fc.integer({ min: 1, max: 6 }),
    memoryMbPerExecutor: fc.integer({ min: 0, max: 1024 }),
    executorLimit: fc.integer({ min: 0, max: 12 }),
    existingExecutors: fc.integer({ min: 0, max: 6 }),
  },
  { requiredKeys: ['coresLeft', 'memoryMbPerExecutor', 'existingExecutors'] },
);
const scenarioArb = fc.tuple(requestArb, fc.array(workerArb, { maxLength: 7 }), fc.boolean());

test('scheduleExecutorsOnWorkers agrees with the naive reference', () => {
  fc.assert(
    fc.property(scenarioArb, ([request, workers, spreadOut]) => {
      assert.deepEqual(
        scheduleExecutorsOnWorkers(request, workers, spreadOut),
        referenceSchedule(request, workers, spreadOut),
      );
    }),
    { numRuns: NUM_RUNS },
  );
});

test('scheduleExecutorsOnWorkers invariants: cores, memory, executor multiples and the executor limit', () => {
  fc.assert(
    fc.property(scenarioArb, ([request, workers, spreadOut]) => {
      const cores = scheduleExecutorsOnWorkers(request, workers, spreadOut);
      assert.equal(cores.length, workers.length);
      const total = cores.reduce((s, c) => s + c, 0);
      assert.ok(total <= request.coresLeft, 'never more than coresLeft');
      let newExecutors = 0;
      cores.forEach((c, i) => {
        const worker = workers[i] as WorkerResources;
        assert.ok(Number.isInteger(c) && c >= 0);
        assert.ok(c <= worker.coresFree, `worker ${i}: ${c} > ${worker.coresFree} free cores`);
        const cpe = request.coresPerExecutor;
        if (cpe !== undefined) assert.equal(c % cpe, 0, `worker ${i}: ${c} not a multiple of ${cpe}`);
        const executorsHere = c === 0 ? 0 : cpe === undefined ? 1 : c / cpe;
        assert.ok(executorsHere * request.memoryMbPerExecutor <= worker.memoryFreeMb, `worker ${i}: memory`);
        newExecutors += executorsHere;
      });
      if (request.executorLimit !== undefined) {
        assert.ok(newExecutors <= Math.max(0, request.executorLimit - request.existingExecutors), 'executor limit');
      }
    }),
    { numRuns: NUM_RUNS },
  );
});

test('spreading out never uses fewer workers than consolidating', () => {
  fc.assert(
    fc.property(requestArb, fc.array(workerArb, { maxLength: 7 }), (request, workers) => {
      const used = (cores: number[]): number => cores.filter((c) => c > 0).length;
      assert.ok(
        used(scheduleExecutorsOnWorkers(request, workers, true)) >=
          used(scheduleExecutorsOnWorkers(request, workers, false)),
      );
    }),
    { numRuns: NUM_RUNS },
  );
});

test('orderUsableWorkers returns a permutation sorted by the policy key', () => {
  const candidateArb = fc.uniqueArray(
    fc.record({
      id: fc.string({ minLength: 1, maxLength: 4 }),
      coresFree: fc.integer({ min: 0, max: 4 }),
      memoryFreeMb: fc.integer({ min: 0, max: 4 }),
    }),
    { selector: (w) => w.id, maxLength: 8 },
  );
  fc.assert(
    fc.property(candidateArb, fc.constantFrom(...WORKER_SELECTION_POLICIES), (workers, policy) => {
      const ordered = orderUsableWorkers(workers, policy);
      assert.deepEqual(ordered.map((w) => w.id).sort(), workers.map((w) => w.id).sort());
      const key = (w: { id: string; coresFree: number; memoryFreeMb: number }): number =>
        policy.startsWith('CORES') ? w.coresFree : policy.startsWith('MEMORY') ? w.memoryFreeMb : 0;
      const desc = policy.endsWith('_DESC');
      for (let i = 1; i < ordered.length; i += 1) {
        const [a, b] = [ordered[i - 1], ordered[i]] as [(typeof workers)[number], (typeof workers)[number]];
        const byKey = desc ? key(b) - key(a) : key(a) - key(b);
        const idOrdered = desc ? a.id > b.id : a.id < b.id;
        assert.ok(byKey < 0 || (byKey === 0 && idOrdered), `${policy}: ${a.id} before ${b.id}`);
      }
    }),
    { numRuns: NUM_RUNS },
  );
});

test('placeDrivers never over-commits a worker, places each driver once and respects maxDrivers', () => {
  const hostArb = fc.record({
    state: fc.constantFrom('ALIVE', 'ALIVE', 'DEAD', 'UNKNOWN') as fc.Arbitrary<DriverHostView['state']>,
    coresFree: fc.integer({ min: 0, max: 8 }),
    memoryFreeMb: fc.integer({ min: 0, max: 1024 }),
    driverCount: fc.integer({ min: 0, max: 2 }),
    executorCount: fc.integer({ min: 0, max: 2 }),
  });
  const driverArb = fc.record({ cores: fc.integer({ min: 0, max: 4 }), memoryMb: fc.integer({ min: 0, max: 512 }) });
  fc.assert(
    fc.property(
      fc.array(hostArb, { maxLength: 6 }),
      fc.array(driverArb, { maxLength: 10 }),
      fc.integer({ min: 0, max: 5 }),
      fc.option(fc.integer({ min: 1, max: 8 }), { nil: undefined }),
      fc.boolean(),
      fc.integer(),
      (hostShapes, driverShapes, runningDrivers, maxDrivers, spreadOut, seed) => {
        const workers = hostShapes.map((h, i) => ({ ...h, id: `w${i}` }));
        const waitingDrivers = driverShapes.map((d, i) => ({ ...d, id: `d${i}` }));
        const plan = placeDrivers(
          { waitingDrivers, workers, runningDrivers, spreadOut, ...(maxDrivers === undefined ? {} : { maxDrivers }) },
          seededRng(seed),
        );
        const placed = plan.placements.map((p) => p.driverId);
        assert.equal(new Set(placed).size, placed.length, 'each driver placed at most once');
        assert.ok(plan.placements.length <= Math.max(0, (maxDrivers ?? Infinity) - runningDrivers), 'maxDrivers');
        for (const worker of workers) {
          const mine = plan.placements
            .filter((p) => p.workerId === worker.id)
            .map((p) => waitingDrivers.find((d) => d.id === p.driverId) as (typeof waitingDrivers)[number]);
          if (worker.state !== 'ALIVE') assert.equal(mine.length, 0, `${worker.id} is ${worker.state}`);
          assert.ok(mine.reduce((s, d) => s + d.cores, 0) <= worker.coresFree, `${worker.id} cores`);
          assert.ok(mine.reduce((s, d) => s + d.memoryMb, 0) <= worker.memoryFreeMb, `${worker.id} memory`);
        }
        // A driver left waiting is either capped, or there was no ALIVE worker it fits on by then: in
        // consolidate mode a waiting, uncapped driver must have been warned about.
        if (!spreadOut && maxDrivers === undefined) {
          assert.equal(plan.placements.length + plan.warnings.length, waitingDrivers.length);
        }
      },
    ),
    { numRuns: NUM_RUNS },
  );
});
