// Offers: round-robin in executor id order, nothing before LaunchedExecutor, FIFO across jobs, progress.
// Spark: TaskSchedulerImpl.resourceOffers ("fill each node with tasks in a round-robin manner"), reference §7.3
// step 4 (cores are free only after LaunchedExecutor).
import { describe, test, type TestContext } from 'node:test';
import { DRIVER_CONFIG_DEFAULTS } from '../../../src/driver/config.ts';
import { prefetchDepth } from '../../../src/driver/offers.ts';
import { address, launches, ofKind, resultOf, sent, shape, task, TestDriver } from './harness.ts';

describe('offers', () => {
  test('RemoveCache and RemoveShuffle go to every registered executor; a broadcast value goes to each executor once', (t: TestContext) => {
    const d = new TestDriver({ prefetchPerCore: 0 });
    d.addExecutor('1', 1);
    d.addExecutor('2', 1);
    const sends = (effects: ReturnType<TestDriver['handle']>) => ofKind(effects, 'Send').map((s) => [s.executorId, s.message.type]);
    t.assert.deepStrictEqual(sends(d.handle({ kind: 'RemoveShuffle', shuffleId: 4 })), [['1', 'RemoveShuffle'], ['2', 'RemoveShuffle']]);
    t.assert.deepStrictEqual(sends(d.handle({ kind: 'RemoveCache', id: 2 })), [['1', 'RemoveCache'], ['2', 'RemoveCache']]);
    const data = new Uint8Array([1, 2, 3]);
    const withBroadcast = (p: number) => ({ ...task(p), broadcasts: [{ name: 'table', id: 9, data }] });
    const broadcastsOf = (effects: ReturnType<TestDriver['handle']>) => sent(effects, 'LaunchTask').map((s) => [s.executorId, s.message.broadcasts]);
    const submitted = d.handle({ kind: 'SubmitJob', jobId: 0, tasks: [withBroadcast(0), withBroadcast(1), withBroadcast(2)] });
    t.assert.deepStrictEqual(broadcastsOf(submitted), [['1', [{ name: 'table', id: 9, data }]], ['2', [{ name: 'table', id: 9, data }]]]);
    const [on1] = launches(submitted);
    if (on1 === undefined) throw new Error('expected a launch');
    t.assert.deepStrictEqual(broadcastsOf(d.finish(on1)), [['1', [{ name: 'table', id: 9 }]]], 'named only: executor 1 has it');
  });

  test('a task that prefers an executor (its cached partition is there) waits for it while it is registered', (t: TestContext) => {
    const d = new TestDriver({ prefetchPerCore: 0 });
    d.addExecutor('1', 1);
    d.addExecutor('2', 1);
    const prefer = (p: number, executor: string) => ({ ...task(p), preferredExecutor: executor });
    const submitted = d.handle({ kind: 'SubmitJob', jobId: 0, tasks: [prefer(0, '2'), prefer(1, '2'), prefer(2, '2'), prefer(3, '1')] });
    // Executor 1 takes its own task 3 first; executor 2 takes task 0. Tasks 1 and 2 wait for executor 2.
    t.assert.deepStrictEqual(launches(submitted).map((l) => [l.executorId, l.partition]), [['1', 3], ['2', 0]]);
    const [on1, on2] = launches(submitted);
    if (on1 === undefined || on2 === undefined) throw new Error('expected two launches');
    t.assert.deepStrictEqual(launches(d.finish(on1)), [], 'executor 1 is free, but the rest prefer executor 2');
    const next = launches(d.finish(on2));
    t.assert.deepStrictEqual(next.map((l) => [l.executorId, l.partition]), [['2', 1]], 'executor 2 takes its next one');
    // Executor 2 is lost: what waited for it goes to executor 1.
    const lost = d.handle({ kind: 'ExecutorLost', executorId: '2', reason: 'gone', causedByApp: false });
    t.assert.deepStrictEqual(launches(lost).map((l) => [l.executorId, l.partition]), [['1', 1]]);
    const [resubmitted] = launches(lost);
    if (resubmitted === undefined) throw new Error('expected a launch');
    const after = launches(d.finish(resubmitted));
    t.assert.deepStrictEqual(after.map((l) => [l.executorId, l.partition]), [['1', 2]]);
  });

  test('tasks spread round-robin over launched executors, in numeric executor id order', (t: TestContext) => {
    t.plan(4);
    const d = new TestDriver();
    d.addExecutor('10', 2);
    d.addExecutor('2', 2);
    d.addExecutor('1', 1);
    const effects = d.submit(0, 4);
    const placed = launches(effects).map((l) => [l.executorId, l.partition, l.taskId, l.attempt]);
    // Pass 1 gives one task to each executor (1, 2, 10); pass 2 skips full executor 1.
    t.assert.deepStrictEqual(placed, [
      ['1', 0, 0, 0],
      ['2', 1, 1, 0],
      ['10', 2, 2, 0],
      ['2', 3, 3, 0],
    ]);
    const first = ofKind(effects, 'Send')[0];
    t.assert.deepStrictEqual(first, {
      kind: 'Send',
      executorId: '1',
      to: address('1'),
      message: { type: 'LaunchTask', taskId: 0, jobId: 0, attempt: 0, ...task(0) },
    });
    const snap = d.machine.snapshot();
    t.assert.deepStrictEqual(
      snap.executors.map((e) => [e.executorId, e.freeCores, e.runningTasks]),
      [
        ['1', 0, [0]],
        ['2', 0, [1, 3]],
        ['10', 1, [2]],
      ],
    );
    t.assert.strictEqual(snap.freeCores, 1);
  });

  test('an executor gets no task before ExecutorLaunched, and all it can take after', (t: TestContext) => {
    t.plan(5);
    const d = new TestDriver();
    const registered = d.addExecutor('1', 4, false);
    const submitted = d.submit(0, 3);
    t.assert.deepStrictEqual(launches([...registered, ...submitted]), []);
    t.assert.deepStrictEqual(d.machine.snapshot().executors[0]?.freeCores, 0);
    const stray = d.handle({ kind: 'ExecutorLaunched', executorId: 'nope' });
    t.assert.deepStrictEqual(launches(stray), []);
    const launched = d.handle({ kind: 'ExecutorLaunched', executorId: '1' });
    t.assert.deepStrictEqual(
      launches(launched).map((l) => [l.executorId, l.partition]),
      [
        ['1', 0],
        ['1', 1],
        ['1', 2],
      ],
    );
    t.assert.strictEqual(d.machine.snapshot().executors[0]?.freeCores, 1);
  });

  test('executors that launch later pick up pending tasks', (t: TestContext) => {
    t.plan(2);
    const d = new TestDriver();
    d.addExecutor('1', 1);
    t.assert.strictEqual(launches(d.submit(0, 3)).length, 1);
    const later = d.addExecutor('2', 2);
    t.assert.deepStrictEqual(
      launches(later).map((l) => [l.executorId, l.partition]),
      [
        ['2', 1],
        ['2', 2],
      ],
    );
  });
});

describe('jobs', () => {
  test('FIFO: a later job gets a core only once the earlier job has nothing pending', (t: TestContext) => {
    t.plan(5);
    const d = new TestDriver();
    d.addExecutor('1', 1);
    const [a0] = launches(d.submit(0, 2));
    t.assert.deepStrictEqual(launches(d.submit(1, 1)), [], 'job 1 waits: job 0 holds the only core');
    if (a0 === undefined) throw new Error('job 0 launched nothing');
    const [a1] = launches(d.finish(a0));
    t.assert.deepStrictEqual([a1?.jobId, a1?.partition], [0, 1], 'job 0 keeps the core for its pending task');
    if (a1 === undefined) throw new Error('job 0 launched nothing more');
    const effects = d.finish(a1);
    t.assert.deepStrictEqual(shape(effects), ['Progress', 'JobSucceeded', 'LaunchTask', 'Progress']);
    t.assert.deepStrictEqual(launches(effects).map((l) => [l.jobId, l.partition]), [[1, 0]]);
    t.assert.deepStrictEqual(d.machine.snapshot().jobs.map((j) => j.jobId), [1]);
  });

  test('results come back in task order, with Progress only when a count changes', (t: TestContext) => {
    t.plan(3);
    const d = new TestDriver();
    d.addExecutor('1', 2);
    const submitted = d.handle({ kind: 'SubmitJob', jobId: 7, tasks: [task(5), task(3)] });
    const [p5, p3] = launches(submitted);
    if (p5 === undefined || p3 === undefined) throw new Error('expected two launches');
    const running = d.status(p5, 'RUNNING');
    const first = d.finish(p3);
    const last = d.finish(p5);
    const all = [...submitted, ...running, ...first, ...last];
    const progress = ofKind(all, 'Progress').map((p) => [p.done, p.running, p.total]);
    t.assert.deepStrictEqual(progress, [
      [0, 2, 2],
      [1, 1, 2],
      [2, 0, 2],
    ]);
    t.assert.deepStrictEqual(ofKind(last, 'JobSucceeded'), [
      { kind: 'JobSucceeded', jobId: 7, results: [resultOf(7, 5), resultOf(7, 3)], executors: ['1', '1'], accumulators: [undefined, undefined] },
    ]);
    t.assert.deepStrictEqual(d.machine.snapshot().jobs, []);
  });

  test('a job with no tasks succeeds at once', (t: TestContext) => {
    t.plan(2);
    const d = new TestDriver();
    const effects = d.handle({ kind: 'SubmitJob', jobId: 3, tasks: [] });
    t.assert.deepStrictEqual(ofKind(effects, 'JobSucceeded'), [{ kind: 'JobSucceeded', jobId: 3, results: [], executors: [], accumulators: [] }]);
    t.assert.strictEqual(d.machine.snapshot().jobsSucceeded, 1);
  });

  test('submitting the id of a running job is a caller bug and throws', (t: TestContext) => {
    t.plan(1);
    const d = new TestDriver();
    d.submit(1, 2);
    t.assert.throws(() => d.submit(1, 1), /job 1 is still running/);
  });
});

describe('prefetch (flint.task.prefetch)', () => {
  const finishWith = (d: TestDriver, l: { taskId: number; jobId: number; partition: number }, runTimeMs: number) =>
    d.handle({
      kind: 'StatusUpdate',
      message: {
        type: 'StatusUpdate',
        executorId: d.machine.snapshot().tasks.find((x) => x.taskId === l.taskId)?.executorId ?? '?',
        taskId: l.taskId,
        state: 'FINISHED',
        result: resultOf(l.jobId, l.partition),
        metrics: { runTimeMs, resultBytes: 1, records: 1 },
      },
    });

  test('short tasks: once one finished, each executor is sent prefetch × cores tasks beyond its free cores', (t: TestContext) => {
    t.plan(3);
    const d = new TestDriver({ prefetchPerCore: 2, prefetchQueueTimeMs: 100 });
    d.addExecutor('1', 1);
    d.addExecutor('2', 1);
    const first = launches(d.submit(0, 20));
    t.assert.strictEqual(first.length, 2, 'no prefetch before any task has finished: one task per free core');
    const more = launches(finishWith(d, first[0] as never, 1));
    // Executor 1 has its core free again plus 2 prefetch slots; executor 2 has 2 prefetch slots.
    t.assert.deepStrictEqual(more.map((l) => l.executorId), ['1', '1', '2', '1', '2']);
    t.assert.deepStrictEqual(
      d.machine.snapshot().executors.map((e) => [e.executorId, e.freeCores, e.runningTasks.length]),
      [
        ['1', 0, 3],
        ['2', 0, 3],
      ],
    );
  });

  test('the depth follows the queue time over the mean run time, capped by flint.task.prefetch', (t: TestContext) => {
    t.plan(5);
    const config = (prefetchPerCore: number, prefetchQueueTimeMs: number) => ({ config: { ...DRIVER_CONFIG_DEFAULTS, prefetchPerCore, prefetchQueueTimeMs } });
    t.assert.strictEqual(prefetchDepth(config(32, 5), { runTimeMsSum: 0, runTimeCount: 0 }), 0, 'nothing finished yet');
    t.assert.strictEqual(prefetchDepth(config(32, 5), { runTimeMsSum: 10, runTimeCount: 10 }), 5, '1 ms tasks: 5 per core');
    t.assert.strictEqual(prefetchDepth(config(32, 5), { runTimeMsSum: 0.5, runTimeCount: 100 }), 32, 'tiny tasks: the cap');
    t.assert.strictEqual(prefetchDepth(config(32, 5), { runTimeMsSum: 60, runTimeCount: 10 }), 0, '6 ms tasks: none');
    t.assert.strictEqual(prefetchDepth(config(0, 5), { runTimeMsSum: 1, runTimeCount: 10 }), 0, 'prefetch 0: Spark');
  });

  test('long tasks (mean run time ≥ the queue time) and prefetch 0 launch only for free cores, as Spark', (t: TestContext) => {
    t.plan(2);
    for (const [config, runTimeMs] of [
      [{ prefetchPerCore: 4, prefetchQueueTimeMs: 20 }, 25],
      [{ prefetchPerCore: 0, prefetchQueueTimeMs: 20 }, 1],
    ] as const) {
      const d = new TestDriver(config);
      d.addExecutor('1', 1);
      const [l] = launches(d.submit(0, 10));
      t.assert.strictEqual(launches(finishWith(d, l as never, runTimeMs)).length, 1);
    }
  });

  test('a lost executor resubmits its prefetched tasks too', (t: TestContext) => {
    t.plan(4);
    const d = new TestDriver({ prefetchPerCore: 3, prefetchQueueTimeMs: 100 });
    d.addExecutor('1', 1);
    d.addExecutor('2', 1);
    const first = launches(d.submit(0, 8));
    finishWith(d, first[0] as never, 1);
    // 7 left: executor 1 takes its free core's task, then prefetch passes alternate 1, 2, 1, 2, 1.
    const held = d.machine.snapshot().executors.map((e) => [e.executorId, e.runningTasks.length]);
    t.assert.deepStrictEqual(held, [
      ['1', 4],
      ['2', 3],
    ]);
    const relaunched = launches(d.lose('2'));
    t.assert.strictEqual(relaunched.length, 0, 'executor 1 is full: 1 core + 3 prefetched');
    t.assert.strictEqual(d.machine.snapshot().jobs[0]?.pending, 3, "executor 2's running and prefetched tasks are pending again");
    const running = d.running().filter((l) => l.executorId === '1');
    t.assert.ok(launches(finishWith(d, running[0] as never, 1)).length === 1, 'a freed slot on executor 1 takes one of them');
  });
});
