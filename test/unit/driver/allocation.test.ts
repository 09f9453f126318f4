// ExecutorAllocationManager: Spark's ExecutorAllocationManagerSuite behaviours on an injected clock — the
// backlog timeouts, the exponential ramp (targets 1 → 2 → 4 → 8), the drop to what is needed, idle release
// after executorIdleTimeout, minExecutors / maxExecutors, and cachedExecutorIdleTimeout (infinite by default).
import { describe, test, type TestContext } from 'node:test';
import fc from 'fast-check';
import { FlintConf } from '../../../src/conf/flint-conf.ts';
import {
  ALLOCATION_DEFAULTS,
  ExecutorAllocationManager,
  allocationConfigFromConf,
  type AllocationConfig,
  type AllocationExecutor,
  type AllocationView,
} from '../../../src/driver/index.ts';
import { ConfigError } from '../../../src/errors.ts';

const config = (over: Partial<AllocationConfig> = {}): AllocationConfig => ({ ...ALLOCATION_DEFAULTS, enabled: true, ...over });
const idle = (n: number, from = 0): AllocationExecutor[] =>
  Array.from({ length: n }, (_, i) => ({ executorId: String(from + i), runningTasks: 0, hasCachedData: false }));
const busy = (n: number): AllocationExecutor[] =>
  Array.from({ length: n }, (_, i) => ({ executorId: String(i), runningTasks: 1, hasCachedData: false }));
const view = (pendingTasks: number, executors: AllocationExecutor[]): AllocationView => ({
  pendingTasks,
  runningTasks: executors.reduce((s, e) => s + e.runningTasks, 0),
  executors,
});

describe('ExecutorAllocationManager: adding', () => {
  test('nothing before schedulerBacklogTimeout, then targets 2, 4, 8 each sustained timeout (Spark ramp 1, 2, 4)', (t: TestContext) => {
    t.plan(8);
    const m = new ExecutorAllocationManager(config({ initialExecutors: 1, minExecutors: 1, schedulerBacklogTimeoutMs: 1000, sustainedSchedulerBacklogTimeoutMs: 500 }));
    t.assert.strictEqual(m.start(), 1);
    t.assert.deepStrictEqual(m.schedule(view(100, busy(1)), 0), { release: [] });
    t.assert.deepStrictEqual(m.schedule(view(100, busy(1)), 999), { release: [] });
    const targets: Array<number | undefined> = [];
    for (let now = 1000; now <= 2000; now += 100) {
      const d = m.schedule(view(100, busy(1)), now);
      if (d.requestTotal !== undefined) targets.push(d.requestTotal);
    }
    t.assert.deepStrictEqual(targets, [2, 4, 8]);
    t.assert.strictEqual(m.target, 8);
    // The backlog drains: the ramp starts again from one.
    t.assert.deepStrictEqual(m.schedule(view(0, busy(8)), 2100), { release: [] });
    t.assert.deepStrictEqual(m.schedule(view(50, busy(8)), 3100), { release: [] }); // a new backlog waits again
    t.assert.strictEqual(m.schedule(view(50, busy(8)), 4100).requestTotal, 9);
  });

  test('never above what the tasks need, nor maxExecutors', (t: TestContext) => {
    t.plan(3);
    const m = new ExecutorAllocationManager(config({ maxExecutors: 5, schedulerBacklogTimeoutMs: 1, sustainedSchedulerBacklogTimeoutMs: 1 }));
    const targets: number[] = [];
    for (let now = 0; now < 50; now++) {
      const d = m.schedule(view(3, []), now);
      if (d.requestTotal !== undefined) targets.push(d.requestTotal);
    }
    t.assert.deepStrictEqual(targets, [1, 3]); // 1, then 1+2 = 3 = the three tasks' need
    const m2 = new ExecutorAllocationManager(config({ maxExecutors: 5, schedulerBacklogTimeoutMs: 1, sustainedSchedulerBacklogTimeoutMs: 1 }));
    for (let now = 0; now < 50; now++) m2.schedule(view(1000, []), now);
    t.assert.strictEqual(m2.target, 5);
    t.assert.strictEqual(m2.maxNeeded(view(1000, [])), 1000);
  });

  test('tasks per executor divide the need (flint.executor.cores / flint.task.cpus)', (t: TestContext) => {
    t.plan(1);
    const m = new ExecutorAllocationManager(config({ tasksPerExecutor: 4 }));
    t.assert.strictEqual(m.maxNeeded(view(9, busy(1))), 3);
  });

  test('the target drops to the need, never below minExecutors', (t: TestContext) => {
    t.plan(2);
    const m = new ExecutorAllocationManager(config({ minExecutors: 2, initialExecutors: 6 }));
    t.assert.strictEqual(m.schedule(view(3, busy(1)), 0).requestTotal, 4);
    t.assert.strictEqual(m.schedule(view(0, idle(1)), 1).requestTotal, 2);
  });
});

describe('ExecutorAllocationManager: removing', () => {
  test('an executor idle for executorIdleTimeout is released once; a busy one never', (t: TestContext) => {
    t.plan(4);
    const m = new ExecutorAllocationManager(config({ executorIdleTimeoutMs: 2000 }));
    const execs = [...idle(1), { executorId: '1', runningTasks: 2, hasCachedData: false }];
    t.assert.deepStrictEqual(m.schedule(view(0, execs), 0).release, []);
    t.assert.deepStrictEqual(m.schedule(view(0, execs), 1999).release, []);
    t.assert.deepStrictEqual(m.schedule(view(0, execs), 2000).release, ['0']);
    t.assert.deepStrictEqual(m.schedule(view(0, execs), 5000).release, []); // pending removal: not again
  });

  test('a task resets the idle clock', (t: TestContext) => {
    t.plan(2);
    const m = new ExecutorAllocationManager(config({ executorIdleTimeoutMs: 2000 }));
    m.schedule(view(0, idle(1)), 0);
    m.schedule(view(0, busy(1)), 1500);
    m.schedule(view(0, idle(1)), 1600);
    t.assert.deepStrictEqual(m.schedule(view(0, idle(1)), 3599).release, []);
    t.assert.deepStrictEqual(m.schedule(view(0, idle(1)), 3600).release, ['0']);
  });

  test('keeps minExecutors', (t: TestContext) => {
    t.plan(1);
    const m = new ExecutorAllocationManager(config({ minExecutors: 2, initialExecutors: 2, executorIdleTimeoutMs: 10 }));
    m.schedule(view(0, idle(5)), 0);
    t.assert.deepStrictEqual(m.schedule(view(0, idle(5)), 10).release, ['0', '1', '2']);
  });

  test('cached data: cachedExecutorIdleTimeout, infinite by default', (t: TestContext) => {
    t.plan(2);
    const cached = [{ executorId: '0', runningTasks: 0, hasCachedData: true }];
    const m = new ExecutorAllocationManager(config({ executorIdleTimeoutMs: 10 }));
    m.schedule(view(0, cached), 0);
    t.assert.deepStrictEqual(m.schedule(view(0, cached), 1e9).release, []);
    const m2 = new ExecutorAllocationManager(config({ executorIdleTimeoutMs: 10, cachedExecutorIdleTimeoutMs: 100 }));
    m2.schedule(view(0, cached), 0);
    t.assert.deepStrictEqual(m2.schedule(view(0, cached), 100).release, ['0']);
  });
});

describe('ExecutorAllocationManager: properties', () => {
  test('the target stays within [min, max], released executors are idle and never leave fewer than min', (t: TestContext) => {
    t.plan(1);
    const step = fc.record({ dt: fc.integer({ min: 0, max: 3000 }), pending: fc.integer({ min: 0, max: 50 }), busy: fc.array(fc.boolean(), { maxLength: 12 }) });
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 4 }), fc.integer({ min: 0, max: 8 }), fc.array(step, { maxLength: 40 }), (min, extra, steps) => {
        const max = min + extra + 1;
        const m = new ExecutorAllocationManager(config({ minExecutors: min, initialExecutors: min, maxExecutors: max, executorIdleTimeoutMs: 1000 }));
        let now = 0;
        const gone = new Set<string>();
        for (const s of steps) {
          now += s.dt;
          const executors = s.busy.map((b, i) => ({ executorId: String(i), runningTasks: b ? 1 : 0, hasCachedData: false })).filter((e) => !gone.has(e.executorId));
          const d = m.schedule(view(s.pending, executors), now);
          if (m.target < min || m.target > max) return false;
          for (const id of d.release) {
            if (executors.find((e) => e.executorId === id)?.runningTasks !== 0) return false;
            gone.add(id);
          }
          if (d.release.length > 0 && executors.length - d.release.length < min) return false;
        }
        return true;
      }),
    );
    t.assert.ok(true);
  });
});

describe('allocationConfigFromConf', () => {
  const conf = (entries: Record<string, string>) => new FlintConf(Object.entries(entries));

  test('defaults as Spark: off, backlog 1s, idle 60s, cached infinite, sustained = backlog', (t: TestContext) => {
    t.plan(2);
    t.assert.deepStrictEqual(allocationConfigFromConf(conf({})), ALLOCATION_DEFAULTS);
    const c = allocationConfigFromConf(
      conf({ 'spark.dynamicAllocation.enabled': 'true', 'flint.dynamicAllocation.schedulerBacklogTimeout': '2s', 'flint.dynamicAllocation.maxExecutors': '4', 'flint.executor.cores': '2' }),
    );
    t.assert.deepStrictEqual(
      [c.enabled, c.schedulerBacklogTimeoutMs, c.sustainedSchedulerBacklogTimeoutMs, c.maxExecutors, c.tasksPerExecutor],
      [true, 2000, 2000, 4, 2],
    );
  });

  test('checks min ≤ initial ≤ max and positive timeouts, naming the key', (t: TestContext) => {
    t.plan(3);
    const on = { 'flint.dynamicAllocation.enabled': 'true' };
    t.assert.throws(() => allocationConfigFromConf(conf({ ...on, 'flint.dynamicAllocation.minExecutors': '3', 'flint.dynamicAllocation.maxExecutors': '2' })), (e: unknown) => e instanceof ConfigError && e.key === 'flint.dynamicAllocation.minExecutors');
    t.assert.throws(() => allocationConfigFromConf(conf({ ...on, 'flint.dynamicAllocation.initialExecutors': '5', 'flint.dynamicAllocation.maxExecutors': '2' })), (e: unknown) => e instanceof ConfigError && e.key === 'flint.dynamicAllocation.initialExecutors');
    t.assert.throws(() => allocationConfigFromConf(conf({ ...on, 'flint.dynamicAllocation.executorIdleTimeout': '0s' })), (e: unknown) => e instanceof ConfigError && e.key === 'flint.dynamicAllocation.executorIdleTimeout');
  });
});
