// Driver placement (reference §5.2), including ports of MasterSuite's "SPARK-45174: scheduling with max drivers"
// and the two SPARK-46800 spreadOutDrivers cases (MasterSuiteBase.verifyDrivers).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  placeDrivers,
  type DriverHostView,
  type DriverPlacementInput,
  type DriverRequest,
} from '../../../src/scheduling/index.ts';
import { identityRng, seededRng } from './seeded-rng.ts';

const host = (
  id: string,
  coresFree: number,
  memoryFreeMb: number,
  extra: Partial<DriverHostView> = {},
): DriverHostView => ({
  id,
  state: 'ALIVE',
  coresFree,
  memoryFreeMb,
  driverCount: 0,
  executorCount: 0,
  ...extra,
});
// Spark's tests use DriverDescription("", mem = 1, cores = 1, ...).
const driver = (id: string, cores = 1, memoryMb = 1): DriverRequest => ({ id, cores, memoryMb });
const drivers = (from: number, to: number): DriverRequest[] =>
  Array.from({ length: to - from + 1 }, (_, i) => driver(`driver${from + i}`));

const input = (over: Partial<DriverPlacementInput>): DriverPlacementInput => ({
  waitingDrivers: [],
  workers: [],
  runningDrivers: 0,
  spreadOut: true,
  ...over,
});
const countBy = (workerIds: string[], placements: ReadonlyArray<{ workerId: string }>): number[] =>
  workerIds.map((id) => placements.filter((p) => p.workerId === id).length);

test('MasterSuite "SPARK-46800: schedule to spread out drivers": one driver per worker, whatever the shuffle', () => {
  const workers = ['worker1', 'worker2', 'worker3'].map((id) => host(id, 10, 512));
  for (let seed = 0; seed < 25; seed += 1) {
    const plan = placeDrivers(input({ waitingDrivers: drivers(1, 3), workers }), seededRng(seed));
    assert.deepEqual(countBy(['worker1', 'worker2', 'worker3'], plan.placements), [1, 1, 1], `seed ${seed}`);
    assert.deepEqual(plan.warnings, []);
  }
});

test('MasterSuite "SPARK-46800: schedule not to spread out drivers": all on the smallest worker ID', () => {
  // Given in reverse to show the sort by ID; Spark's worker IDs grow with creation time.
  const workers = ['worker3', 'worker2', 'worker1'].map((id) => host(id, 10, 512));
  const plan = placeDrivers(input({ waitingDrivers: drivers(1, 3), workers, spreadOut: false }), seededRng(1));
  assert.deepEqual(countBy(['worker1', 'worker2', 'worker3'], plan.placements), [3, 0, 0]);
  assert.deepEqual(
    plan.placements.map((p) => p.driverId),
    ['driver1', 'driver2', 'driver3'],
  );
});

for (const spreadOut of [true, false]) {
  test(`MasterSuite "SPARK-45174: scheduling with max drivers" (spreadOutDrivers=${spreadOut})`, () => {
    // maxDrivers = 4 on one 10-core / 512 MB worker. First schedule(): three waiting, none running.
    const first = placeDrivers(
      input({ waitingDrivers: drivers(1, 3), workers: [host('w', 10, 512)], maxDrivers: 4, spreadOut }),
      seededRng(7),
    );
    assert.equal(first.placements.length, 3);
    // Second schedule(): three more waiting, three running → only one starts, two stay waiting, silently.
    const worker = host('w', 7, 509, { driverCount: 3 });
    const second = placeDrivers(
      input({ waitingDrivers: drivers(4, 6), workers: [worker], runningDrivers: 3, maxDrivers: 4, spreadOut }),
      seededRng(7),
    );
    assert.deepEqual(second.placements, [{ driverId: 'driver4', workerId: 'w' }]);
    assert.deepEqual(second.warnings, []);
  });
}

test('spread out: the round-robin cursor continues after the last worker visited', () => {
  // identityRng keeps the order a, b, c. d1 does not fit a, lands on b; d2 starts at c; d3 wraps to a.
  const workers = [host('a', 1, 100), host('b', 4, 100), host('c', 4, 100)];
  const plan = placeDrivers(
    input({ waitingDrivers: [driver('d1', 2), driver('d2'), driver('d3'), driver('d4')], workers }),
    identityRng,
  );
  assert.deepEqual(
    plan.placements.map((p) => `${p.driverId}@${p.workerId}`),
    ['d1@b', 'd2@c', 'd3@a', 'd4@b'],
  );
});

test('resources taken by earlier drivers in the same call are not offered again', () => {
  const workers = [host('a', 2, 1024), host('b', 8, 100)];
  for (const spreadOut of [true, false]) {
    // Three 1-core, 512 MB drivers: 'a' holds two of them by memory, 'b' none.
    const waitingDrivers = [driver('d1', 1, 512), driver('d2', 1, 512), driver('d3', 1, 512)];
    const plan = placeDrivers(input({ waitingDrivers, workers, spreadOut }), seededRng(3));
    assert.deepEqual(
      plan.placements.map((p) => p.workerId),
      ['a', 'a'],
      `spreadOut=${spreadOut}`,
    );
  }
});

test('spread out: warn only when the last worker visited was idle', () => {
  const big = [driver('huge', 64)];
  const idle = placeDrivers(input({ waitingDrivers: big, workers: [host('a', 8, 1024)] }), identityRng);
  assert.deepEqual(idle.placements, []);
  assert.deepEqual(idle.warnings, [
    {
      type: 'DriverRequiresMoreResource',
      driverId: 'huge',
      message: 'Driver huge requires more resource than any of Workers could have.',
    },
  ]);
  // A worker running an executor may free cores later: Spark stays quiet.
  const busy = placeDrivers(
    input({ waitingDrivers: big, workers: [host('a', 8, 1024, { executorCount: 1 })] }),
    identityRng,
  );
  assert.deepEqual(busy.warnings, []);
  // A worker that just received a driver in this call is no longer idle either.
  const filled = placeDrivers(
    input({ waitingDrivers: [driver('d1', 8), driver('d2', 8)], workers: [host('a', 8, 1024)] }),
    identityRng,
  );
  assert.deepEqual(filled.placements, [{ driverId: 'd1', workerId: 'a' }]);
  assert.deepEqual(filled.warnings, []);
});

test('consolidate: warn for every driver that fits nowhere', () => {
  const plan = placeDrivers(
    input({
      waitingDrivers: [driver('d1', 8), driver('d2', 8)],
      workers: [host('a', 8, 1024, { executorCount: 1 })],
      spreadOut: false,
    }),
    identityRng,
  );
  assert.deepEqual(plan.placements, [{ driverId: 'd1', workerId: 'a' }]);
  assert.deepEqual(
    plan.warnings.map((w) => w.driverId),
    ['d2'],
  );
});

test('only ALIVE workers receive drivers; with none, every driver is warned about', () => {
  const workers = [host('dead', 8, 1024, { state: 'DEAD' }), host('unknown', 8, 1024, { state: 'UNKNOWN' })];
  for (const spreadOut of [true, false]) {
    const plan = placeDrivers(input({ waitingDrivers: drivers(1, 2), workers, spreadOut }), seededRng(5));
    assert.deepEqual(plan.placements, []);
    assert.deepEqual(
      plan.warnings.map((w) => w.driverId),
      ['driver1', 'driver2'],
    );
  }
});

test('the same seed gives the same plan, and the shuffle really depends on the seed', () => {
  const workers = ['w1', 'w2', 'w3', 'w4', 'w5'].map((id) => host(id, 4, 1024));
  const request = input({ waitingDrivers: drivers(1, 2), workers });
  assert.deepEqual(placeDrivers(request, seededRng(42)), placeDrivers(request, seededRng(42)));
  const firstChoices = new Set<string>();
  for (let seed = 0; seed < 40; seed += 1) {
    firstChoices.add(placeDrivers(request, seededRng(seed)).placements[0]?.workerId ?? 'none');
  }
  assert.ok(firstChoices.size >= 3, `first driver went to only ${[...firstChoices].join(', ')}`);
});

test('inputs are not mutated (frozen inputs, equal afterwards)', () => {
  const frozen = Object.freeze(
    input({
      waitingDrivers: Object.freeze(drivers(1, 4).map((d) => Object.freeze(d))),
      workers: Object.freeze([host('b', 2, 64), host('a', 2, 64)].map((w) => Object.freeze(w))),
      maxDrivers: 3,
    }),
  );
  const before = structuredClone(frozen);
  for (const spreadOut of [true, false]) {
    const plan = placeDrivers({ ...frozen, spreadOut }, seededRng(9));
    assert.equal(plan.placements.length, 3);
  }
  assert.deepEqual(frozen, before);
});

test('a broken Rng is reported, not silently used', () => {
  const workers = [host('a', 1, 1), host('b', 1, 1)];
  const broken = { next: (): number => 0, nextInt: (n: number): number => n };
  assert.throws(() => placeDrivers(input({ waitingDrivers: drivers(1, 1), workers }), broken), RangeError);
});

// Found by mutation testing (docs/testing.md): the boundary of a worker's resources and of maxDrivers.
test('a driver that needs exactly what a worker has free is placed there, in both modes', () => {
  for (const spreadOut of [true, false]) {
    for (const [cores, memoryMb] of [[4, 100], [1, 1024], [4, 1024]] as const) {
      const plan = placeDrivers(input({ waitingDrivers: [{ id: 'd1', cores, memoryMb }], workers: [host('w1', 4, 1024)], spreadOut }), identityRng);
      assert.deepEqual(plan.placements, [{ driverId: 'd1', workerId: 'w1' }], `spreadOut=${spreadOut} ${cores} cores ${memoryMb} MB`);
      assert.deepEqual(plan.warnings, []);
    }
  }
});

test('a worker that runs a driver (and no executor) is not idle: a driver too big for it is not warned about', () => {
  const plan = placeDrivers(
    input({ waitingDrivers: [{ id: 'big', cores: 64, memoryMb: 1 }], workers: [host('w1', 8, 1024, { driverCount: 1 })] }),
    identityRng,
  );
  assert.deepEqual(plan, { placements: [], warnings: [] });
});

test('at maxDrivers a driver that fits nowhere is skipped silently, even on an idle worker', () => {
  for (const spreadOut of [true, false]) {
    const plan = placeDrivers(
      input({ waitingDrivers: [{ id: 'big', cores: 64, memoryMb: 1 }], workers: [host('w1', 8, 1024)], runningDrivers: 2, maxDrivers: 2, spreadOut }),
      identityRng,
    );
    assert.deepEqual(plan, { placements: [], warnings: [] }, `spreadOut=${spreadOut}`);
  }
});
