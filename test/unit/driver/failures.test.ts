// Retries and executor loss. Spark: TaskSetManager.handleFailedTask (spark.task.maxFailures counts failures of
// one task, not of the job; TaskKilled does not count; ExecutorLostFailure counts only when exitCausedByApp),
// TaskSchedulerImpl.executorLost (running tasks of a lost executor are resubmitted).
import { describe, test, type TestContext } from 'node:test';
import { launches, ofKind, quiet, remoteError, resultOf, sent, TestDriver, type Launch } from './harness.ts';

const only = (list: Launch[]): Launch => {
  if (list.length !== 1) throw new Error(`expected one launch, got ${JSON.stringify(list)}`);
  return list[0] as Launch;
};

describe('task failures', () => {
  test('a task is retried until it failed maxFailures times, then its remote error fails the job', (t: TestContext) => {
    t.plan(9);
    const d = new TestDriver({ maxFailures: 4 });
    d.addExecutor('1', 1);
    d.addExecutor('2', 1);
    const [p0, p1] = launches(d.submit(0, 3));
    if (p0 === undefined || p1 === undefined) throw new Error('expected two launches');
    let current = p0;
    const attempts: Array<[string, number, number]> = [];
    for (let n = 1; n < 4; n += 1) {
      const retry = only(launches(d.fail(current, remoteError(n))));
      attempts.push([retry.executorId, retry.partition, retry.attempt]);
      current = retry;
    }
    // The retried task goes first, ahead of partition 2 that never launched.
    t.assert.deepStrictEqual(attempts, [
      ['1', 0, 1],
      ['1', 0, 2],
      ['1', 0, 3],
    ]);
    t.assert.deepStrictEqual(d.machine.snapshot().jobs[0]?.failures, [3, 0, 0]);
    const effects = d.fail(current, remoteError(4));
    const failed = ofKind(effects, 'JobFailed');
    t.assert.strictEqual(failed.length, 1);
    t.assert.deepStrictEqual(failed[0]?.error, remoteError(4), 'the remote name, message and stack, untouched');
    t.assert.match(failed[0]?.summary ?? '', /task 0 \(partition 0\) failed 4 times \(flint\.task\.maxFailures = 4\)/);
    const kills = sent(effects, 'KillTask');
    t.assert.deepStrictEqual(kills.map((k) => [k.executorId, k.message.taskId]), [['2', p1.taskId]]);
    const killAt = effects.findIndex((e) => e.kind === 'Send' && e.message.type === 'KillTask');
    t.assert.ok(killAt >= 0 && killAt < effects.findIndex((e) => e.kind === 'JobFailed'), 'KillTask before JobFailed');
    // Partition 2 is dropped: the freed core of executor 1 launches nothing, and the killed task is not retried.
    const killed = d.status(p1, 'KILLED');
    t.assert.deepStrictEqual(launches([...effects, ...killed]), []);
    t.assert.deepStrictEqual(
      launches(d.log).filter((l) => l.partition === 2),
      [],
    );
  });

  test('a failure marked retryable: false fails the job after 1 attempt, not maxFailures', (t: TestContext) => {
    t.plan(6);
    const d = new TestDriver({ maxFailures: 4 });
    d.addExecutor('1', 2);
    const [p0, p1] = launches(d.submit(0, 2));
    if (p0 === undefined || p1 === undefined) throw new Error('expected two launches');
    const unencodable = {
      name: 'RecordEncodeError',
      message: 'records[0] is a function sq, which cannot be sent between the driver and executors. …',
      stack: 'RecordEncodeError: records[0] is a function sq …',
      retryable: false as const,
    };
    const effects = d.fail(p0, unencodable);
    t.assert.deepStrictEqual(launches(effects), [], 'no retry');
    const failed = ofKind(effects, 'JobFailed');
    t.assert.strictEqual(failed.length, 1);
    t.assert.deepStrictEqual(failed[0]?.error, unencodable);
    t.assert.match(failed[0]?.summary ?? '', /task 0 \(partition 0\) failed and will not be retried, Lost task 0\.0 .*RecordEncodeError: records\[0\] is a function sq/);
    t.assert.deepStrictEqual(sent(effects, 'KillTask').map((k) => k.message.taskId), [p1.taskId]);
    t.assert.deepStrictEqual(launches(d.log).filter((l) => l.partition === 0).map((l) => l.attempt), [0], 'one attempt in all');
  });

  test('failures of different tasks do not add up', (t: TestContext) => {
    t.plan(2);
    const d = new TestDriver({ maxFailures: 2 });
    d.addExecutor('1', 2);
    let [a, b] = launches(d.submit(0, 2));
    if (a === undefined || b === undefined) throw new Error('expected two launches');
    a = only(launches(d.fail(a)));
    b = only(launches(d.fail(b)));
    d.finish(a);
    const done = d.finish(b);
    t.assert.deepStrictEqual(ofKind(d.log, 'JobFailed'), []);
    t.assert.deepStrictEqual(ofKind(done, 'JobSucceeded')[0]?.results, [resultOf(0, 0), resultOf(0, 1)]);
  });

  test('KILLED and LOST statuses resubmit the task without counting a failure', (t: TestContext) => {
    t.plan(3);
    const d = new TestDriver({ maxFailures: 1 });
    d.addExecutor('1', 1);
    const first = only(launches(d.submit(0, 1)));
    const second = only(launches(d.status(first, 'KILLED')));
    const third = only(launches(d.status(second, 'LOST')));
    t.assert.deepStrictEqual([second.attempt, third.attempt], [1, 2]);
    t.assert.deepStrictEqual(d.machine.snapshot().jobs[0]?.failures, [0]);
    t.assert.strictEqual(ofKind(d.finish(third), 'JobSucceeded').length, 1);
  });

  test('a FAILED status without failure details still counts, with a driver-made error', (t: TestContext) => {
    t.plan(2);
    const d = new TestDriver({ maxFailures: 1 });
    d.addExecutor('1', 1);
    const first = only(launches(d.submit(0, 1)));
    const failed = ofKind(d.status(first, 'FAILED'), 'JobFailed')[0];
    t.assert.strictEqual(failed?.error.name, 'TaskFailed');
    t.assert.match(failed?.error.stack ?? '', /^TaskFailed: /);
  });
});

describe('executor loss', () => {
  test('running tasks of a lost executor are resubmitted elsewhere and do not count', (t: TestContext) => {
    t.plan(6);
    const d = new TestDriver({ maxFailures: 1 });
    d.addExecutor('1', 2);
    d.addExecutor('2', 1);
    const placed = launches(d.submit(0, 3));
    t.assert.deepStrictEqual(placed.map((l) => [l.executorId, l.partition]), [
      ['1', 0],
      ['2', 1],
      ['1', 2],
    ]);
    const lost = d.lose('1', false, 'Worker shut down');
    t.assert.deepStrictEqual(launches(lost), [], 'executor 2 is busy: the tasks wait');
    t.assert.strictEqual(d.machine.hasExecutor('1'), false);
    const moved = launches(d.addExecutor('3', 2));
    t.assert.deepStrictEqual(moved.map((l) => [l.executorId, l.partition, l.attempt]), [
      ['3', 0, 1],
      ['3', 2, 1],
    ]);
    // A late FINISHED from the lost executor's attempt is ignored: only the new attempt's result counts.
    const old = placed[0] as Launch;
    const late = d.finish(old, Uint8Array.of(0xee));
    t.assert.deepStrictEqual(quiet(late), []);
    d.finish(placed[1] as Launch);
    d.finish(moved[0] as Launch);
    const done = d.finish(moved[1] as Launch);
    const expected = [resultOf(0, 0), resultOf(0, 1), resultOf(0, 2)];
    t.assert.deepStrictEqual(ofKind(done, 'JobSucceeded')[0]?.results, expected);
  });

  test('an executor lost because of the app counts a failure for each of its running tasks', (t: TestContext) => {
    t.plan(5);
    const d = new TestDriver({ maxFailures: 2 });
    d.addExecutor('1', 2);
    d.addExecutor('2', 1);
    const placed = launches(d.submit(0, 2));
    t.assert.deepStrictEqual(placed.map((l) => l.executorId), ['1', '2']);
    d.lose('1', true, 'Command exited with code 137');
    t.assert.deepStrictEqual(d.machine.snapshot().jobs[0]?.failures, [1, 0]);
    const again = only(launches(d.addExecutor('3', 1)));
    t.assert.deepStrictEqual([again.partition, again.attempt], [0, 1]);
    const effects = d.lose('3', true, 'Command exited with code 1');
    const failed = ofKind(effects, 'JobFailed')[0];
    t.assert.deepStrictEqual(
      [failed?.error.name, failed?.error.message],
      [
        'ExecutorLostFailure',
        'Executor 3 exited caused by one of the running tasks. Reason: Command exited with code 1',
      ],
    );
    const kills = sent(effects, 'KillTask').map((k) => [k.executorId, k.message.taskId]);
    t.assert.deepStrictEqual(kills, [['2', placed[1]?.taskId]]);
  });

  test('losing an unknown or already-removed executor changes nothing', (t: TestContext) => {
    t.plan(2);
    const d = new TestDriver();
    d.addExecutor('1', 1);
    launches(d.submit(0, 1));
    d.lose('1');
    const again = d.lose('1');
    t.assert.deepStrictEqual(quiet(again), []);
    t.assert.deepStrictEqual(d.machine.snapshot().jobs[0]?.pending, 1);
  });
});
