// What the application UI reads of the scheduler (history.ts, historySnapshot): jobs with their descriptions,
// times and outcomes; every attempt with its executor, duration and error; executors with their task counts and
// last heartbeat; and the bounds of Spark's spark.ui.retainedJobs / retainedTasks / retainedDeadExecutors.
import { describe, test, type TestContext } from 'node:test';
import { launches, remoteError, T0, tasks, TestDriver, type Launch } from './harness.ts';

describe('the scheduler history the UI shows', () => {
  test('a job, its attempts and its executors, with times, states and errors', (t: TestContext) => {
    t.plan(6);
    const d = new TestDriver({ maxFailures: 4 });
    d.addExecutor('1', 2, true);
    d.handle({ kind: 'SubmitJob', jobId: 0, tasks: tasks(2), description: 'collect <at> app.ts' });
    const [a, b] = launches(d.log) as [Launch, Launch];
    d.advance(100);
    d.heartbeat('1');
    d.fail(a);
    d.advance(50);
    d.finish(b);
    const running = d.machine.historySnapshot(0);
    t.assert.deepStrictEqual(
      running.tasks.map((x) => [x.taskId, x.partition, x.attempt, x.executorId, x.state, x.endedMs === undefined ? undefined : x.endedMs - x.launchedMs, x.error]),
      [
        [0, 0, 0, '1', 'FAILED', 100, 'RangeError: boom 1'],
        [1, 1, 0, '1', 'SUCCESS', 150, undefined],
        [2, 0, 1, '1', 'RUNNING', undefined, undefined],
      ],
    );
    const retry = d.running()[0] as Launch;
    d.advance(10);
    d.finish(retry);
    const done = d.machine.historySnapshot();
    t.assert.deepStrictEqual(done.jobs, [
      { jobId: 0, description: 'collect <at> app.ts', state: 'SUCCEEDED', submittedMs: T0, endedMs: T0 + 160, tasks: 2, tasksDone: 2, tasksRunning: 0, failedAttempts: 1, killedAttempts: 0, error: undefined },
    ]);
    t.assert.deepStrictEqual(done.tasks, [], 'no tasks copied unless a job is asked for');
    const [executor] = done.executors;
    t.assert.deepStrictEqual(
      executor && [executor.completedTasks, executor.failedTasks, executor.totalTaskTimeMs, executor.lastHeartbeatMs - T0, executor.activeTasks],
      [2, 1, 100 + 150 + 60, 100, 0], "the retry ran from the failure at +100 to +160",
    );
    d.lose('1', false, 'Worker shut down');
    const [gone] = d.machine.historySnapshot().executors;
    t.assert.deepStrictEqual(gone && [gone.removedMs, gone.removedReason], [T0 + 160, 'Worker shut down']);
    t.assert.strictEqual(d.machine.historySnapshot().jobs[0]?.description, 'collect <at> app.ts');
  });

  test('a cancelled job (a kill from the UI) fails with the reason, and its killed attempts say so', (t: TestContext) => {
    t.plan(3);
    const d = new TestDriver();
    d.addExecutor('1', 1);
    const [a] = launches(d.submit(3, 1)) as [Launch];
    d.handle({ kind: 'CancelJob', jobId: 3, reason: 'killed via the web UI' });
    const job = d.machine.historySnapshot().jobs[0];
    t.assert.deepStrictEqual([job?.state, job?.error], ['FAILED', 'Job 3 cancelled: killed via the web UI']);
    t.assert.strictEqual(d.machine.historySnapshot(3).tasks[0]?.state, 'RUNNING', 'a zombie runs until its executor reports it');
    d.status(a, 'KILLED', { failure: { name: 'TaskKilled', message: 'job 3 cancelled: killed via the web UI', stack: '' } });
    t.assert.deepStrictEqual(
      d.machine.historySnapshot(3).tasks.map((x) => [x.state, x.error]),
      [['KILLED', 'TaskKilled: job 3 cancelled: killed via the web UI']],
    );
  });

  test('ended jobs past flint.ui.retainedJobs are forgotten with their tasks; running ones never', (t: TestContext) => {
    t.plan(3);
    const d = new TestDriver({ retainedJobs: 2 });
    d.addExecutor('1', 1);
    d.addExecutor('2', 1);
    d.submit(0, 1); // job 0 keeps running on executor 1 throughout
    for (let jobId = 1; jobId <= 4; jobId++) {
      const [launch] = launches(d.submit(jobId, 1)) as [Launch];
      d.advance(1);
      d.finish(launch);
    }
    t.assert.deepStrictEqual(d.machine.historySnapshot().jobs.map((j) => [j.jobId, j.state]), [
      [0, 'RUNNING'],
      [3, 'SUCCEEDED'],
      [4, 'SUCCEEDED'],
    ]);
    t.assert.deepStrictEqual(d.machine.historySnapshot(1).tasks, [], "job 1's tasks went with it");
    t.assert.strictEqual(d.machine.historySnapshot().retainedTasks, 2, 'the ended attempts of jobs 3 and 4');
  });

  test('ended attempts past flint.ui.retainedTasks are dropped oldest first; removed executors past retainedDeadExecutors too', (t: TestContext) => {
    t.plan(3);
    const d = new TestDriver({ retainedTasks: 3, retainedDeadExecutors: 1, maxFailures: 100 });
    d.addExecutor('1', 1);
    d.submit(0, 1);
    for (let i = 0; i < 6; i++) d.fail(d.running()[0] as Launch, remoteError(i));
    const kept = d.machine.historySnapshot(0).tasks;
    t.assert.deepStrictEqual(kept.map((x) => [x.taskId, x.state]), [
      [3, 'FAILED'],
      [4, 'FAILED'],
      [5, 'FAILED'],
      [6, 'RUNNING'],
    ]);
    d.addExecutor('2', 1);
    d.lose('1');
    d.lose('2');
    t.assert.deepStrictEqual(d.machine.historySnapshot().executors.map((e) => e.executorId), ['2']);
    t.assert.strictEqual(d.machine.historySnapshot().retainedTasks, 3);
  });

  test('attempts that went with their job are skipped when the oldest are dropped', (t: TestContext) => {
    t.plan(2);
    const d = new TestDriver({ retainedJobs: 1, retainedTasks: 3 });
    d.addExecutor('1', 1);
    for (let jobId = 0; jobId < 6; jobId++) {
      const [launch] = launches(d.submit(jobId, 1)) as [Launch];
      d.finish(launch);
    }
    d.submit(6, 4);
    for (let i = 0; i < 4; i++) d.finish(d.running()[0] as Launch);
    t.assert.deepStrictEqual(d.machine.historySnapshot(6).tasks.map((x) => x.taskId), [7, 8, 9], 'the last three of job 6; job 6 ended last, so it alone is kept');
    t.assert.strictEqual(d.machine.historySnapshot().retainedTasks, 3);
  });
});
