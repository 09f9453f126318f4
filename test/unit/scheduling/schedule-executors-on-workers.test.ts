// Ports of the scheduling cases in Spark's MasterSuite (helpers in MasterSuiteBase.scala), which call
// `Master.scheduleExecutorsOnWorkers` through reflection. Here the function is exported and called directly.
//
// Spark's setup: three identical workers with 10 cores and 512 MB each; an application without maxCores has
// coresLeft = spark.deploy.defaultCores = Int.MaxValue; without a requested total its executor limit is
// Int.MaxValue. The executor-limit cases call the function three times on the same application, but since
// the function launches nothing, the application never has existing executors between calls.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { scheduleExecutorsOnWorkers, type ExecutorRequest } from '../../../src/scheduling/index.ts';

const INT_MAX = 2_147_483_647;
const workerInfos = [0, 1, 2].map(() => ({ coresFree: 10, memoryFreeMb: 512 }));

/** Spark's `makeAppInfo(memoryPerExecutorMb, coresPerExecutor, maxCores)` as a request. */
function app(
  memoryMbPerExecutor: number,
  opts: { coresPerExecutor?: number; maxCores?: number; executorLimit?: number } = {},
): ExecutorRequest {
  return {
    coresLeft: opts.maxCores ?? INT_MAX,
    memoryMbPerExecutor,
    existingExecutors: 0,
    ...(opts.coresPerExecutor === undefined ? {} : { coresPerExecutor: opts.coresPerExecutor }),
    ...(opts.executorLimit === undefined ? {} : { executorLimit: opts.executorLimit }),
  };
}

const schedule = (request: ExecutorRequest, spreadOut: boolean): number[] =>
  scheduleExecutorsOnWorkers(request, workerInfos, spreadOut);

/** Spark's `appInfo.requestExecutors(total)` followed by a scheduling call, for totals 0, 2 and 5. */
const withLimits = (base: ExecutorRequest, spreadOut: boolean): number[][] =>
  [0, 2, 5].map((executorLimit) => schedule({ ...base, executorLimit }, spreadOut));

for (const spreadOut of [true, false]) {
  const mode = spreadOut ? 'spread out' : 'no spread out';

  test(`MasterSuite "basic scheduling - ${mode}"`, () => {
    assert.deepEqual(schedule(app(128), spreadOut), [10, 10, 10]);
  });

  test(`MasterSuite "basic scheduling with more memory - ${mode}"`, () => {
    assert.deepEqual(schedule(app(384), spreadOut), [10, 10, 10]);
  });

  test(`MasterSuite "scheduling with max cores - ${mode}"`, () => {
    const cores1 = schedule(app(128, { maxCores: 8 }), spreadOut);
    const cores2 = schedule(app(128, { maxCores: 16 }), spreadOut);
    assert.deepEqual(cores1, spreadOut ? [3, 3, 2] : [8, 0, 0]);
    assert.deepEqual(cores2, spreadOut ? [6, 5, 5] : [10, 6, 0]);
  });

  test(`MasterSuite "scheduling with cores per executor - ${mode}"`, () => {
    // 4 × 2 cores: memory (512 / 128) caps each worker at four executors.
    assert.deepEqual(schedule(app(128, { coresPerExecutor: 2 }), spreadOut), [8, 8, 8]);
    // 5 × 2 cores.
    assert.deepEqual(schedule(app(32, { coresPerExecutor: 2 }), spreadOut), [10, 10, 10]);
    // 3 × 3 cores; the tenth core of each worker stays unused.
    assert.deepEqual(schedule(app(32, { coresPerExecutor: 3 }), spreadOut), [9, 9, 9]);
  });

  test(`MasterSuite "scheduling with cores per executor AND max cores - ${mode}"`, () => {
    const cores1 = schedule(app(32, { coresPerExecutor: 2, maxCores: 4 }), spreadOut);
    const cores2 = schedule(app(32, { coresPerExecutor: 2, maxCores: 20 }), spreadOut);
    const cores3 = schedule(app(32, { coresPerExecutor: 3, maxCores: 20 }), spreadOut);
    assert.deepEqual(cores1, spreadOut ? [2, 2, 0] : [4, 0, 0]);
    assert.deepEqual(cores2, spreadOut ? [8, 6, 6] : [10, 10, 0]);
    // 20 cores in 3-core executors: only 18 can be used.
    assert.deepEqual(cores3, spreadOut ? [6, 6, 6] : [9, 9, 0]);
  });

  test(`MasterSuite "scheduling with executor limit - ${mode}"`, () => {
    // Without coresPerExecutor the limit only gates new executors; placed ones keep absorbing cores.
    assert.deepEqual(withLimits(app(32), spreadOut), [
      [0, 0, 0],
      [10, 10, 0],
      [10, 10, 10],
    ]);
  });

  test(`MasterSuite "scheduling with executor limit AND max cores - ${mode}"`, () => {
    const [cores1, cores2, cores3] = withLimits(app(32, { maxCores: 16 }), spreadOut);
    assert.deepEqual(cores1, [0, 0, 0]);
    assert.deepEqual(cores2, spreadOut ? [8, 8, 0] : [10, 6, 0]);
    assert.deepEqual(cores3, spreadOut ? [6, 5, 5] : [10, 6, 0]);
  });

  test(`MasterSuite "scheduling with executor limit AND cores per executor - ${mode}"`, () => {
    const [cores1, cores2, cores3] = withLimits(app(32, { coresPerExecutor: 4 }), spreadOut);
    assert.deepEqual(cores1, [0, 0, 0]);
    assert.deepEqual(cores2, spreadOut ? [4, 4, 0] : [8, 0, 0]);
    assert.deepEqual(cores3, [8, 8, 4]);
  });

  test(`MasterSuite "scheduling with executor limit AND cores per executor AND max cores - ${mode}"`, () => {
    const [cores1, cores2, cores3] = withLimits(app(32, { coresPerExecutor: 4, maxCores: 18 }), spreadOut);
    assert.deepEqual(cores1, [0, 0, 0]);
    assert.deepEqual(cores2, spreadOut ? [4, 4, 0] : [8, 0, 0]);
    assert.deepEqual(cores3, spreadOut ? [8, 4, 4] : [8, 8, 0]);
  });
}

test('SPARK-8881: cores are handed out a whole executor at a time', () => {
  // The example from Spark's comment: 4 workers × 16 cores, maxCores 48, 16-core executors. Granting one core
  // at a time would leave 12 cores on each worker and launch nothing.
  const workers = [0, 1, 2, 3].map(() => ({ coresFree: 16, memoryFreeMb: 1024 }));
  const request = { coresLeft: 48, coresPerExecutor: 16, memoryMbPerExecutor: 256, existingExecutors: 0 };
  assert.deepEqual(scheduleExecutorsOnWorkers(request, workers, true), [16, 16, 16, 0]);
});

test('existing executors count against the executor limit', () => {
  const request = { ...app(32, { coresPerExecutor: 2 }), executorLimit: 3, existingExecutors: 2 };
  assert.deepEqual(scheduleExecutorsOnWorkers(request, workerInfos, true), [2, 0, 0]);
  assert.deepEqual(scheduleExecutorsOnWorkers({ ...request, existingExecutors: 3 }, workerInfos, true), [0, 0, 0]);
});

test('one executor per worker: memory is checked once, then the executor grows on cores alone', () => {
  // 200 MB fits one 128 MB executor but not two; without coresPerExecutor that one executor takes all 10 cores.
  const workers = [{ coresFree: 10, memoryFreeMb: 200 }, { coresFree: 4, memoryFreeMb: 100 }];
  assert.deepEqual(scheduleExecutorsOnWorkers(app(128), workers, true), [10, 0]);
  // With coresPerExecutor the same worker holds only one 2-core executor.
  assert.deepEqual(scheduleExecutorsOnWorkers(app(128, { coresPerExecutor: 2 }), workers, true), [2, 0]);
});

test('an application that cannot afford one executor gets nothing', () => {
  assert.deepEqual(schedule(app(32, { coresPerExecutor: 4, maxCores: 3 }), true), [0, 0, 0]);
  assert.deepEqual(schedule(app(32, { maxCores: 0 }), false), [0, 0, 0]);
});

test('no usable workers gives an empty result', () => {
  assert.deepEqual(scheduleExecutorsOnWorkers(app(128), [], true), []);
});

test('inputs are not mutated (frozen inputs, equal afterwards)', () => {
  const workers = Object.freeze(workerInfos.map((w) => Object.freeze({ ...w })));
  const request = Object.freeze(app(32, { coresPerExecutor: 2, maxCores: 20, executorLimit: 7 }));
  const before = structuredClone({ workers, request });
  const first = scheduleExecutorsOnWorkers(request, workers, true);
  assert.deepEqual({ workers, request }, before);
  // Same input, same answer: nothing carried over between calls.
  assert.deepEqual(scheduleExecutorsOnWorkers(request, workers, true), first);
});

test('a non-positive or fractional coresPerExecutor is a bug, not a hang', () => {
  for (const coresPerExecutor of [0, -1, 1.5]) {
    assert.throws(() => schedule(app(32, { coresPerExecutor }), true), RangeError);
  }
});
