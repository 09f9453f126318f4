// Decommissioned executors (Spark 3.1+: TaskSchedulerImpl.executorDecommission, CoarseGrainedSchedulerBackend
// .decommissionExecutors, spark.executor.decommission.forceKillTimeout): offered nothing, stopped once drained,
// and their departure counts no failure.
import { describe, test, type TestContext } from 'node:test';
import { launches, ofKind, sent, TestDriver } from './harness.ts';

describe('decommissioned executors', () => {
  test('get no new task, finish what they run, then get StopExecutor; nothing counts as a failure', (t: TestContext) => {
    t.plan(7);
    const d = new TestDriver();
    d.addExecutor('1', 1);
    d.addExecutor('2', 1);
    const [a, b] = launches(d.submit(0, 4));
    if (a === undefined || b === undefined) throw new Error('expected two launches');
    t.assert.deepStrictEqual(sent(d.handle({ kind: 'DecommissionExecutor', executorId: '1', reason: 'worker decommissioned' }), 'StopExecutor'), [], 'busy: not stopped yet');
    // Executor 2's freed core takes the next task; executor 1's freed core takes none and it is stopped.
    const next = launches(d.finish(b));
    t.assert.deepStrictEqual(next.map((l) => [l.executorId, l.partition]), [['2', 2]]);
    const afterA = d.finish(a);
    t.assert.deepStrictEqual(launches(afterA).map((l) => l.executorId), [], 'nothing more to executor 1');
    t.assert.deepStrictEqual(sent(afterA, 'StopExecutor').map((s) => s.executorId), ['1']);
    t.assert.strictEqual(d.machine.hasExecutor('1'), false, 'it left the scheduler: its disconnect is no loss');
    const [c] = next;
    if (c === undefined) throw new Error('expected a launch');
    const last = launches(d.finish(c));
    const done = d.finish(last[0] as NonNullable<(typeof last)[0]>);
    t.assert.strictEqual(ofKind(done, 'JobSucceeded').length, 1);
    t.assert.deepStrictEqual(d.machine.snapshot().jobs, [], 'the job ended with no failure');
  });

  test('an idle executor is stopped at once; a repeated or unknown decommission is ignored', (t: TestContext) => {
    t.plan(3);
    const d = new TestDriver();
    d.addExecutor('1', 2);
    t.assert.deepStrictEqual(sent(d.handle({ kind: 'DecommissionExecutor', executorId: '1', reason: 'r' }), 'StopExecutor').map((s) => s.executorId), ['1']);
    t.assert.deepStrictEqual(d.handle({ kind: 'DecommissionExecutor', executorId: '1', reason: 'r' }).filter((e) => e.kind === 'Send'), []);
    t.assert.deepStrictEqual(d.handle({ kind: 'DecommissionExecutor', executorId: '9', reason: 'r' }).filter((e) => e.kind === 'Send'), []);
  });

  test('the UI records the removal as decommissioned, or as the removedAs given (dynamic allocation releasing it)', (t: TestContext) => {
    t.plan(1);
    const d = new TestDriver();
    d.addExecutor('1', 1);
    d.addExecutor('2', 1);
    d.handle({ kind: 'DecommissionExecutor', executorId: '1', reason: 'worker decommissioned' });
    d.handle({ kind: 'DecommissionExecutor', executorId: '2', reason: 'idle', removedAs: 'released (idle)' });
    t.assert.deepStrictEqual(
      d.machine.historySnapshot().executors.map((e) => [e.executorId, e.removedReason]),
      [['1', 'decommissioned'], ['2', 'released (idle)']],
    );
  });

  test('the loss of a decommissioning executor resubmits its tasks without counting, even when said to be caused by the app', (t: TestContext) => {
    t.plan(2);
    const d = new TestDriver({ maxFailures: 1 });
    d.addExecutor('1', 1);
    const [a] = launches(d.submit(0, 1));
    if (a === undefined) throw new Error('expected a launch');
    d.handle({ kind: 'DecommissionExecutor', executorId: '1', reason: 'r' });
    t.assert.deepStrictEqual(ofKind(d.lose('1', true), 'JobFailed'), [], 'maxFailures = 1, yet the job goes on');
    const relaunched = launches(d.addExecutor('2', 1));
    t.assert.deepStrictEqual(relaunched.map((l) => [l.executorId, l.partition]), [['2', 0]]);
  });

  test('forceKillTimeout: a busy executor is stopped when it fires, and its task runs again elsewhere, uncounted', (t: TestContext) => {
    t.plan(5);
    const d = new TestDriver({ maxFailures: 1, decommissionForceKillTimeoutMs: 5_000 });
    d.addExecutor('1', 1);
    const [a] = launches(d.submit(0, 1));
    if (a === undefined) throw new Error('expected a launch');
    const effects = d.handle({ kind: 'DecommissionExecutor', executorId: '1', reason: 'r' });
    t.assert.deepStrictEqual(ofKind(effects, 'StartTimer').map((s) => [s.key, s.delayMs]), [['ForceKillExecutor:1', 5_000]]);
    d.addExecutor('2', 1);
    t.assert.deepStrictEqual(launches(d.log).filter((l) => l.executorId === '2'), [], 'the task is not duplicated before the timeout');
    d.advance(5_000);
    const fired = d.fireTimer({ kind: 'ForceKillExecutor', executorId: '1' });
    t.assert.deepStrictEqual(sent(fired, 'StopExecutor').map((s) => s.executorId), ['1']);
    t.assert.deepStrictEqual(launches(fired).map((l) => [l.executorId, l.partition]), [['2', 0]]);
    t.assert.deepStrictEqual(ofKind(fired, 'JobFailed'), []);
  });

  test('a drained executor cancels its force-kill timer', (t: TestContext) => {
    t.plan(1);
    const d = new TestDriver({ decommissionForceKillTimeoutMs: 5_000 });
    d.addExecutor('1', 1);
    const [a] = launches(d.submit(0, 1));
    if (a === undefined) throw new Error('expected a launch');
    d.handle({ kind: 'DecommissionExecutor', executorId: '1', reason: 'r' });
    t.assert.deepStrictEqual(ofKind(d.finish(a), 'CancelTimer').map((c) => c.key), ['ForceKillExecutor:1']);
  });
});
