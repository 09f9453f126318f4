// Heartbeat expiry, CancelJob and Stop. Spark: HeartbeatReceiver.expireDeadHosts (spark.network.timeout, checked
// every spark.network.timeoutInterval; the loss is ExecutorProcessLost, which counts against the tasks),
// DAGScheduler.cancelJob, SparkContext.stop (jobs cancelled, then executors stopped).
import { describe, test, type TestContext } from 'node:test';
import { address, launches, ofKind, quiet, sent, shape, TestDriver, unanswered, type Launch } from './harness.ts';

describe('heartbeats', () => {
  test('the expiry check is armed with the first executor, once', (t: TestContext) => {
    t.plan(2);
    const d = new TestDriver({ heartbeatCheckIntervalMs: 5_000 });
    t.assert.deepStrictEqual(ofKind(d.addExecutor('1'), 'StartTimer'), [
      { kind: 'StartTimer', key: 'ExpireDeadExecutors', generation: 1, timer: 'ExpireDeadExecutors', delayMs: 5_000 },
    ]);
    t.assert.deepStrictEqual(ofKind(d.addExecutor('2'), 'StartTimer'), []);
  });

  test('an executor silent for longer than flint.network.timeout is killed and treated as lost', (t: TestContext) => {
    t.plan(7);
    const d = new TestDriver({ executorTimeoutMs: 120_000, maxFailures: 4 });
    d.addExecutor('1', 1);
    d.addExecutor('2', 1);
    const [a] = launches(d.submit(0, 2)) as [Launch, Launch];
    d.advance(60_000);
    d.heartbeat('2');
    d.advance(60_000);
    const atLimit = d.fireTimer('ExpireDeadExecutors');
    t.assert.deepStrictEqual(ofKind(atLimit, 'KillExecutor'), [], 'exactly the timeout is not yet too old');
    d.advance(1);
    const expired = d.fireTimer('ExpireDeadExecutors');
    t.assert.deepStrictEqual(ofKind(expired, 'KillExecutor'), [
      { kind: 'KillExecutor', executorId: '1', reason: 'Executor heartbeat timed out after 120001 ms' },
    ]);
    t.assert.strictEqual(d.machine.hasExecutor('1'), false);
    t.assert.strictEqual(d.machine.hasExecutor('2'), true);
    // Like Spark's ExecutorProcessLost, the timeout counts against the task that was running there.
    t.assert.deepStrictEqual(d.machine.snapshot().jobs[0]?.failures, [1, 0]);
    t.assert.deepStrictEqual(d.machine.snapshot().jobs[0]?.states, ['pending', 'running']);
    // The master's later report of the same executor is a no-op; a new executor picks the task up.
    d.lose('1');
    const moved = launches(d.addExecutor('3'));
    t.assert.deepStrictEqual(
      moved.map((l) => [l.executorId, l.partition, l.attempt, l.taskId !== a.taskId]),
      [['3', 0, 1, true]],
    );
  });

  test('a heartbeat is answered: a known executor is marked seen, an unknown one is told to re-register', (t: TestContext) => {
    t.plan(3);
    const d = new TestDriver({ executorTimeoutMs: 1_000 });
    d.addExecutor('1', 1);
    d.advance(900);
    t.assert.deepStrictEqual(unanswered(d.heartbeat('1')), [], 'a heartbeat changes nothing but the time last seen');
    t.assert.deepStrictEqual(ofKind(d.heartbeat('ghost'), 'Reply').map((r) => r.message), [{ type: 'HeartbeatResponse', reregister: true }]);
    d.advance(900);
    t.assert.deepStrictEqual(ofKind(d.fireTimer('ExpireDeadExecutors'), 'KillExecutor'), [], 'seen 900 ms ago: alive');
  });

  test('HeartbeatResponse: reregister is false for a registered executor, answered with the ask\'s token', (t: TestContext) => {
    t.plan(1);
    const d = new TestDriver();
    d.addExecutor('1', 1);
    const token = d.token();
    const effects = d.handle({ kind: 'ExecutorHeartbeat', token, message: { type: 'ExecutorHeartbeat', executorId: '1', running: [] } });
    t.assert.deepStrictEqual(quiet(effects), [{ kind: 'Reply', token, message: { type: 'HeartbeatResponse', reregister: false } }]);
  });
});

describe('RegisterExecutor (CoarseGrainedSchedulerBackend.DriverEndpoint)', () => {
  const register = (d: TestDriver, executorId: string, token = d.token()) =>
    d.handle({ kind: 'RegisterExecutor', token, executorId, executorAddress: address(executorId), hostname: `host-${executorId}`, cores: 2 });

  test('is answered true before the expiry check is armed; its cores wait for LaunchedExecutor', (t: TestContext) => {
    t.plan(2);
    const d = new TestDriver();
    const token = d.token();
    t.assert.deepStrictEqual(shape(register(d, '1', token)), ['Reply', 'StartTimer']);
    t.assert.deepStrictEqual(ofKind(d.log, 'Reply')[0], { kind: 'Reply', token, message: { type: 'BooleanResponse', value: true } });
  });

  test('a known id is refused with "Duplicate executor ID", and the first registration stands', (t: TestContext) => {
    t.plan(3);
    const d = new TestDriver();
    d.addExecutor('1', 1);
    const token = d.token();
    const effects = register(d, '1', token);
    t.assert.deepStrictEqual(ofKind(effects, 'ReplyFailure'), [{ kind: 'ReplyFailure', token, error: 'Duplicate executor ID: 1' }]);
    t.assert.deepStrictEqual(shape(effects), ['ReplyFailure']);
    t.assert.deepStrictEqual(d.machine.snapshot().executors.map((e) => [e.executorId, e.cores]), [['1', 1]]);
  });
});

describe('CancelJob', () => {
  test('kills running tasks, drops pending ones, fails the job; the next job gets the cores', (t: TestContext) => {
    t.plan(6);
    const d = new TestDriver();
    d.addExecutor('1', 1);
    d.addExecutor('2', 1);
    const [a, b] = launches(d.submit(0, 3)) as [Launch, Launch];
    d.submit(1, 1);
    const effects = d.handle({ kind: 'CancelJob', jobId: 0, reason: 'user pressed Ctrl-C' });
    t.assert.deepStrictEqual(shape(effects), ['KillTask', 'KillTask', 'JobFailed']);
    t.assert.deepStrictEqual(
      sent(effects, 'KillTask').map((k) => [k.to, k.message]),
      [
        [address('1'), { type: 'KillTask', taskId: a.taskId, reason: 'job 0 cancelled: user pressed Ctrl-C' }],
        [address('2'), { type: 'KillTask', taskId: b.taskId, reason: 'job 0 cancelled: user pressed Ctrl-C' }],
      ],
    );
    t.assert.deepStrictEqual(ofKind(effects, 'JobFailed')[0]?.error, {
      name: 'JobCancelled',
      message: 'Job 0 cancelled: user pressed Ctrl-C',
      stack: 'JobCancelled: Job 0 cancelled: user pressed Ctrl-C',
    });
    // The killed task holds its core until the executor says it is gone; then job 1 (not job 0) runs.
    const killed = d.status(a, 'KILLED');
    t.assert.deepStrictEqual(launches(killed).map((l) => [l.executorId, l.jobId, l.partition]), [['1', 1, 0]]);
    t.assert.deepStrictEqual(ofKind(d.handle({ kind: 'CancelJob', jobId: 0, reason: 'again' }), 'JobFailed'), []);
    t.assert.deepStrictEqual(d.machine.snapshot().jobsFailed, 1);
  });
});

describe('Stop', () => {
  test('fails unfinished jobs, then stops every executor, then cancels the timer', (t: TestContext) => {
    t.plan(3);
    const d = new TestDriver();
    d.addExecutor('1', 1);
    d.addExecutor('2', 1, false);
    d.submit(0, 2);
    d.submit(1, 1);
    const effects = d.handle({ kind: 'Stop' });
    const order = quiet(effects).map((e) => {
      if (e.kind === 'Send') return `${e.message.type}:${e.executorId}`;
      return e.kind === 'JobFailed' ? `JobFailed:${e.jobId}` : e.kind;
    });
    t.assert.deepStrictEqual(order, ['JobFailed:0', 'JobFailed:1', 'StopExecutor:1', 'StopExecutor:2', 'CancelTimer']);
    const message = ofKind(effects, 'JobFailed')[0]?.error.message;
    t.assert.strictEqual(message, 'Job 0 cancelled because the scheduler was stopped');
    const snap = d.machine.snapshot();
    t.assert.deepStrictEqual([snap.stopped, snap.executors, snap.jobs, snap.tasks], [true, [], [], []]);
  });

  test('after Stop, jobs fail at once, new executors are refused, heartbeats told to re-register, other inputs do nothing', (t: TestContext) => {
    t.plan(5);
    const d = new TestDriver();
    d.addExecutor('1', 1);
    const [a] = launches(d.submit(0, 1)) as [Launch];
    d.handle({ kind: 'Stop' });
    t.assert.strictEqual(ofKind(d.submit(1, 2), 'JobFailed')[0]?.error.name, 'SchedulerStopped');
    t.assert.deepStrictEqual(quiet(d.addExecutor('3', 2)).map((e) => (e.kind === 'ReplyFailure' ? e.error : e.kind)), ['the driver is stopping']);
    t.assert.deepStrictEqual(quiet(d.heartbeat('1')).map((e) => (e.kind === 'Reply' ? e.message : e.kind)), [{ type: 'HeartbeatResponse', reregister: true }]);
    t.assert.deepStrictEqual([...d.finish(a), ...d.fireTimer('ExpireDeadExecutors')], []);
    t.assert.deepStrictEqual(d.handle({ kind: 'Stop' }), []);
  });
});
