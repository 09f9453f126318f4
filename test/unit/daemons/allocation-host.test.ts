// AllocationHost: the policy's decisions carried out in order through the app client, on mocked interval timers
// and an injected clock — the initial target first, RequestExecutors before any release, a released executor
// drained before KillExecutors, only those that left the scheduler killed, and nothing asked after stop().
import { describe, mock, test, type TestContext } from 'node:test';
import { AllocationHost } from '../../../src/daemons/allocation-host.ts';
import { ALLOCATION_DEFAULTS, ALLOCATION_INTERVAL_MS, type AllocationConfig, type TaskSchedulerSnapshot } from '../../../src/driver/index.ts';
import { silentLogger } from '../../../src/util/logger.ts';

interface Exec {
  id: string;
  running: number;
}

function fakeTarget(calls: string[], state: { pending: number; executors: Exec[]; busyOnDrain: Set<string>; masterAnswers?: boolean[] }) {
  return {
    snapshot: (): TaskSchedulerSnapshot =>
      ({
        stopped: false,
        executors: state.executors.map((e) => ({ executorId: e.id, runningTasks: Array.from({ length: e.running }, (_, i) => i) })),
        freeCores: 0,
        jobs: [{ pending: state.pending, running: state.executors.reduce((s, e) => s + e.running, 0) }],
        tasks: [],
        jobsSucceeded: 0,
        jobsFailed: 0,
      }) as unknown as TaskSchedulerSnapshot,
    executorsWithCachedData: () => new Set<string>(),
    requestTotalExecutors: (total: number) => {
      calls.push(`request ${total}`);
      return Promise.resolve(state.masterAnswers?.shift() ?? true);
    },
    drain: (id: string) => {
      calls.push(`drain ${id}`);
      // An idle executor leaves the scheduler at once; one a task reached meanwhile stays until it drains.
      if (!state.busyOnDrain.has(id)) state.executors = state.executors.filter((e) => e.id !== id);
      return Promise.resolve();
    },
    hasExecutor: (id: string) => state.executors.some((e) => e.id === id),
    killExecutors: (ids: string[]) => {
      calls.push(`kill ${ids.join(',')}`);
      return Promise.resolve(true);
    },
  };
}

const settle = () => new Promise<void>((resolve) => setImmediate(resolve));

/** A host over the fake target, on mocked interval timers; `tick(ms)` advances its clock and its timers together. */
function harness(t: TestContext, config: AllocationConfig, state: Parameters<typeof fakeTarget>[1]) {
  mock.timers.enable({ apis: ['setInterval'] });
  t.after(() => mock.timers.reset());
  let now = 0;
  const calls: string[] = [];
  const host = new AllocationHost(config, fakeTarget(calls, state), silentLogger, () => now);
  const tick = async (ms: number) => {
    for (let elapsed = 0; elapsed < ms; elapsed += ALLOCATION_INTERVAL_MS) {
      now += ALLOCATION_INTERVAL_MS;
      mock.timers.tick(ALLOCATION_INTERVAL_MS);
      await settle();
    }
  };
  return { host, calls, tick };
}

describe('AllocationHost', () => {
  test('initial target, ramp while tasks wait, then drain and kill the idle ones that left; nothing after stop', async (t: TestContext) => {
    t.plan(3);
    const state = { pending: 10, executors: [{ id: '1', running: 1 }], busyOnDrain: new Set(['3']) };
    const config = { ...ALLOCATION_DEFAULTS, enabled: true, minExecutors: 1, initialExecutors: 1, maxExecutors: 4, executorIdleTimeoutMs: 1000 };
    const { host, calls, tick } = harness(t, config, state);
    host.start();
    await tick(2100); // the first round sees the backlog; 1 s later the target is 2, then 4 a second after
    t.assert.deepStrictEqual(calls.splice(0), ['request 1', 'request 2', 'request 4']);
    state.pending = 0;
    state.executors = [{ id: '1', running: 0 }, { id: '2', running: 0 }, { id: '3', running: 0 }, { id: '4', running: 0 }];
    await tick(1200);
    t.assert.deepStrictEqual(calls.splice(0), ['request 1', 'drain 1', 'drain 2', 'drain 3', 'kill 1,2'], 'three go (one stays: minExecutors); 3 got a task meanwhile: it drains, unkilled');
    host.stop();
    state.pending = 50;
    await tick(3000);
    t.assert.deepStrictEqual(calls, []);
  });

  test('a target the master did not take is asked again a second later, until it is taken', async (t: TestContext) => {
    t.plan(2);
    const state = { pending: 0, executors: [], busyOnDrain: new Set<string>(), masterAnswers: [false, false, true] };
    const { host, calls, tick } = harness(t, { ...ALLOCATION_DEFAULTS, enabled: true, minExecutors: 2, initialExecutors: 2 }, state);
    host.start();
    await settle();
    await tick(900);
    t.assert.deepStrictEqual(calls.splice(0), ['request 2'], 'refused: not asked again before a second has passed');
    await tick(3000);
    t.assert.deepStrictEqual(calls, ['request 2', 'request 2'], 'refused once more, then taken: no further ask');
    host.stop();
  });
});
