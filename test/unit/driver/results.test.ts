// Results: inline and indirect (fetched, then released), flint.driver.maxResultSize, duplicates and zombies.
// Spark: TaskResultGetter (IndirectTaskResult fetched, then the block removed), TaskSetManager.canFetchMoreResults
// (spark.driver.maxResultSize, 0 = unlimited), SPARK-37300 (a second success for a finished task is ignored).
import { describe, test, type TestContext } from 'node:test';
import { address, launches, ofKind, quiet, resultOf, sent, shape, TestDriver, type Launch } from './harness.ts';

const start = (d: TestDriver, jobId: number, n: number): Launch[] => {
  const list = launches(d.submit(jobId, n));
  if (list.length !== n) throw new Error(`expected ${n} launches, got ${list.length}`);
  return list;
};

const indirect = (bytes: number, chunks = 1) => ({ indirectResult: { bytes, chunks } });

describe('indirect results', () => {
  test('are fetched, stored, then released on the executor', (t: TestContext) => {
    t.plan(5);
    const d = new TestDriver();
    d.addExecutor('1', 1);
    const [a] = start(d, 0, 1) as [Launch];
    const finished = d.status(a, 'FINISHED', indirect(5000, 3));
    t.assert.deepStrictEqual(ofKind(finished, 'FetchResult'), [
      { kind: 'FetchResult', executorId: '1', to: address('1'), taskId: a.taskId, chunks: 3, bytes: 5000 },
    ]);
    t.assert.deepStrictEqual(ofKind(finished, 'JobSucceeded'), []);
    const snap = d.machine.snapshot();
    const view = [snap.tasks[0]?.phase, snap.executors[0]?.freeCores];
    t.assert.deepStrictEqual(view, ['fetching', 1], 'the core is free while fetching');
    const bytes = new Uint8Array(5000).fill(3);
    const fetched = d.handle({ kind: 'ResultFetched', taskId: a.taskId, bytes });
    t.assert.deepStrictEqual(shape(fetched), ['ReleaseTaskResult', 'Progress', 'JobSucceeded']);
    t.assert.deepStrictEqual(ofKind(fetched, 'JobSucceeded')[0]?.results, [bytes]);
  });

  test('a failed fetch counts as a failure and resubmits while the executor lives', (t: TestContext) => {
    t.plan(4);
    const d = new TestDriver({ maxFailures: 2 });
    d.addExecutor('1', 1);
    const [a] = start(d, 0, 1) as [Launch];
    d.status(a, 'FINISHED', indirect(10));
    const failedFetch = d.handle({ kind: 'ResultFetchFailed', taskId: a.taskId, error: 'RpcTimeoutError' });
    t.assert.deepStrictEqual(sent(failedFetch, 'ReleaseTaskResult').map((s) => s.message.taskId), [a.taskId]);
    const [retry] = launches(failedFetch);
    t.assert.deepStrictEqual([retry?.partition, retry?.attempt], [0, 1]);
    t.assert.deepStrictEqual(d.machine.snapshot().jobs[0]?.failures, [1]);
    d.status(retry as Launch, 'FINISHED', indirect(10));
    const last = d.handle({ kind: 'ResultFetchFailed', taskId: retry?.taskId ?? -1, error: 'connection reset' });
    t.assert.strictEqual(ofKind(last, 'JobFailed')[0]?.error.name, 'TaskResultLost');
  });

  test('a failed fetch from an executor that is gone resubmits without counting', (t: TestContext) => {
    t.plan(3);
    const d = new TestDriver({ maxFailures: 1 });
    d.addExecutor('1', 1);
    d.addExecutor('2', 1);
    const [a, b] = start(d, 0, 2) as [Launch, Launch];
    d.status(a, 'FINISHED', indirect(10));
    t.assert.deepStrictEqual(launches(d.lose('1')), [], 'a result being fetched is not resubmitted on loss');
    d.finish(b);
    const failedFetch = d.handle({ kind: 'ResultFetchFailed', taskId: a.taskId, error: 'connection closed' });
    t.assert.deepStrictEqual(sent(failedFetch, 'ReleaseTaskResult'), []);
    t.assert.deepStrictEqual(launches(failedFetch).map((l) => [l.executorId, l.partition, l.attempt]), [['2', 0, 1]]);
  });
});

describe('flint.driver.maxResultSize', () => {
  test('results summed over a job beyond the limit fail it, naming the key', (t: TestContext) => {
    t.plan(4);
    const d = new TestDriver({ maxResultSizeBytes: 10 });
    d.addExecutor('1', 3);
    const [a, b, c] = start(d, 0, 3) as [Launch, Launch, Launch];
    t.assert.deepStrictEqual(ofKind(d.finish(a, new Uint8Array(6)), 'JobFailed'), []);
    const effects = d.finish(b, new Uint8Array(6));
    const failed = ofKind(effects, 'JobFailed')[0];
    t.assert.strictEqual(failed?.error.name, 'ResultSizeExceeded');
    t.assert.strictEqual(
      failed?.error.message,
      'Total size of serialized results of 2 tasks (12 B) is bigger than flint.driver.maxResultSize (10 B)',
    );
    t.assert.deepStrictEqual(sent(effects, 'KillTask').map((k) => k.message.taskId), [c.taskId]);
  });

  test('an indirect result over the limit is never fetched, only released', (t: TestContext) => {
    t.plan(3);
    const d = new TestDriver({ maxResultSizeBytes: 1024 ** 2 });
    d.addExecutor('1', 1);
    const [a] = start(d, 0, 1) as [Launch];
    const effects = d.status(a, 'FINISHED', indirect(2 * 1024 ** 2, 2));
    t.assert.deepStrictEqual(ofKind(effects, 'FetchResult'), []);
    t.assert.deepStrictEqual(sent(effects, 'ReleaseTaskResult').map((s) => s.message.taskId), [a.taskId]);
    const message = ofKind(effects, 'JobFailed')[0]?.error.message ?? '';
    t.assert.match(message, /\(2\.0 MiB\) is bigger than flint\.driver\.maxResultSize \(1\.0 MiB\)/);
  });

  test('0 means unlimited', (t: TestContext) => {
    t.plan(2);
    const d = new TestDriver({ maxResultSizeBytes: 0 });
    d.addExecutor('1', 1);
    const [a] = start(d, 0, 1) as [Launch];
    const effects = d.status(a, 'FINISHED', indirect(2 ** 40, 4096));
    t.assert.strictEqual(ofKind(effects, 'FetchResult').length, 1);
    t.assert.deepStrictEqual(ofKind(effects, 'JobFailed'), []);
  });
});

describe('duplicates and zombies', () => {
  test('a duplicate FINISHED for a finished task is ignored', (t: TestContext) => {
    t.plan(4);
    const d = new TestDriver();
    d.addExecutor('1', 2);
    const [a, b] = start(d, 0, 2) as [Launch, Launch];
    d.finish(a);
    const dup = d.finish(a, Uint8Array.of(0xee));
    t.assert.deepStrictEqual(quiet(dup), []);
    t.assert.strictEqual(d.machine.snapshot().jobs[0]?.done, 1);
    const done = d.finish(b);
    t.assert.deepStrictEqual(ofKind(done, 'JobSucceeded')[0]?.results, [resultOf(0, 0), resultOf(0, 1)]);
    t.assert.deepStrictEqual(quiet(d.finish(b)), [], 'nothing after the job is over');
  });

  test('a duplicate FINISHED while the result is being fetched starts no second fetch', (t: TestContext) => {
    t.plan(2);
    const d = new TestDriver();
    d.addExecutor('1', 1);
    const [a] = start(d, 0, 1) as [Launch];
    d.status(a, 'FINISHED', indirect(10));
    t.assert.deepStrictEqual(quiet(d.status(a, 'FINISHED', indirect(10))), []);
    t.assert.deepStrictEqual(quiet(d.status(a, 'FAILED')), []);
  });

  test("a cancelled job's late results are dropped, and kept ones released", (t: TestContext) => {
    t.plan(4);
    const d = new TestDriver();
    d.addExecutor('1', 2);
    const [a, b] = start(d, 0, 2) as [Launch, Launch];
    d.status(a, 'FINISHED', indirect(10));
    const cancel = d.handle({ kind: 'CancelJob', jobId: 0, reason: 'stop it' });
    const killed = sent(cancel, 'KillTask').map((k) => k.message.taskId);
    t.assert.deepStrictEqual(killed, [b.taskId], 'only the running one is killed');
    const fetched = d.handle({ kind: 'ResultFetched', taskId: a.taskId, bytes: new Uint8Array(10) });
    t.assert.deepStrictEqual(shape(fetched), ['ReleaseTaskResult']);
    const late = d.status(b, 'FINISHED', indirect(10));
    t.assert.deepStrictEqual(shape(late), ['ReleaseTaskResult']);
    t.assert.deepStrictEqual(ofKind(d.log, 'JobSucceeded'), []);
  });
});
