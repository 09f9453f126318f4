// Running tasks on the executor: at most `cores` at once with the rest queued, inline and fetched results,
// failures, kills (reference §2.8, §7.3; Spark's Executor.TaskRunner and CoarseGrainedExecutorBackend).
import { test } from 'node:test';
import { replyToken } from '../../../src/kit/replies.ts';
import assert from 'node:assert/strict';
import { Harness, exitOf, launchArgs, ofType, runTaskIds, states, statusUpdates } from './harness.ts';
import { MAX_FAILURE_TEXT } from '../../../src/task/task-errors.ts';

function running(cores = 2, conf: Record<string, string> = {}): Harness {
  const h = new Harness(launchArgs({ cores }));
  h.run(conf);
  return h;
}

const bytes = (n: number): Uint8Array => Uint8Array.from({ length: n }, (_, i) => i % 251);

test('a launched task runs at once; no RUNNING update is sent (the driver marks it running at launch)', () => {
  const h = running();
  const effects = h.launch(7, { partition: 3, attempt: 1, jobId: 2 });
  assert.deepEqual(
    effects.filter((e) => e.kind === 'RunTask' || e.kind === 'Send').map((e) => e.kind),
    ['RunTask'],
  );
  assert.equal(ofType(effects, 'RunTask')[0]?.task.partition, 3);
  assert.deepEqual(statusUpdates(effects), []);
  assert.ok(ofType(effects, 'Log').some((l) => l.msg === 'Running task 3.1 in job 2 (TID 7)'));
});

test('at most `cores` tasks run at once; the rest wait in order and start as cores free up', () => {
  const h = running(2);
  const launched = [1, 2, 3, 4].flatMap((id) => h.launch(id));
  assert.deepEqual(runTaskIds(launched), [1, 2]);
  assert.deepEqual(states(launched), [], 'no RUNNING updates');
  assert.deepEqual(h.machine.snapshot().queued, [3, 4]);

  const afterTwo = h.complete(2);
  assert.deepEqual(states(afterTwo), [[2, 'FINISHED']]);
  assert.deepEqual(runTaskIds(afterTwo), [3]);
  const afterOne = h.handle({ kind: 'TaskErrored', taskId: 1, error: { name: 'Error', message: 'x', stack: '' } });
  assert.deepEqual(runTaskIds(afterOne), [4]);
  assert.deepEqual(runTaskIds(h.complete(3)), []);
  assert.deepEqual(h.machine.snapshot().running.map((r) => r.taskId), [4]);
});

test('tasksPerCore: the pool is handed up to cores × tasksPerCore tasks; a killed one still ends once, KILLED', () => {
  const h = new Harness(launchArgs({ cores: 2 }), undefined, 3);
  h.run();
  const launched = [1, 2, 3, 4, 5, 6, 7, 8].flatMap((id) => h.launch(id));
  assert.deepEqual(runTaskIds(launched), [1, 2, 3, 4, 5, 6], 'cores × tasksPerCore = 6 handed to the pool');
  assert.deepEqual(h.machine.snapshot().queued, [7, 8]);
  assert.deepEqual(ofType(h.fromDriver({ type: 'KillTask', taskId: 5, reason: 'stage cancelled' }), 'CancelTask').map((c) => c.taskId), [5]);
  // The pool answers a task it had not started with TaskAborted (it never ran).
  const aborted = h.handle({ kind: 'TaskAborted', taskId: 5, runTimeMs: 0 });
  assert.deepEqual(states(aborted), [[5, 'KILLED']]);
  assert.deepEqual(runTaskIds(aborted), [7]);
  assert.deepEqual(states(h.complete(5)), [], 'a late answer for the killed task is ignored');
  assert.throws(() => new Harness(launchArgs(), undefined, 0), /tasksPerCore must be a positive integer/);
});

test('property: under any interleaving, never more than `cores` unanswered RunTasks, FIFO start, every task reported once', () => {
  let seed = 12345;
  const rand = (n: number): number => {
    seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
    return seed % n;
  };
  for (let round = 0; round < 50; round += 1) {
    const cores = 1 + rand(4);
    const h = running(cores);
    const unanswered = new Set<number>();
    const started: number[] = [];
    let nextId = 0;
    for (let step = 0; step < 60; step += 1) {
      let effects;
      if (unanswered.size > 0 && rand(2) === 0) {
        const ids = [...unanswered];
        const id = ids[rand(ids.length)] as number;
        unanswered.delete(id);
        effects = rand(3) === 0 ? h.handle({ kind: 'TaskAborted', taskId: id }) : h.complete(id);
      } else if (rand(5) === 0 && nextId > 0) {
        effects = h.fromDriver({ type: 'KillTask', taskId: rand(nextId), reason: 'stage cancelled' });
      } else {
        effects = h.launch(nextId++);
      }
      for (const id of runTaskIds(effects)) {
        unanswered.add(id);
        started.push(id);
      }
      assert.ok(unanswered.size <= cores, `round ${round}: ${unanswered.size} running on ${cores} cores`);
    }
    assert.deepEqual(started, [...started].sort((a, b) => a - b), 'tasks start in launch order');
    const finals = statusUpdates(h.log.map((r) => r.effect)).filter((u) => u.state !== 'RUNNING');
    const reported = finals.map((u) => u.taskId);
    assert.equal(new Set(reported).size, reported.length, 'no task is reported twice');
  }
});

test('a result up to flint.task.maxDirectResultSize travels inline with its metrics', () => {
  const h = running(2, { 'flint.task.maxDirectResultSize': '100b' });
  h.launch(1);
  h.launch(2);
  const inline = bytes(100);
  const [update] = statusUpdates(h.complete(1, inline, 17, 42));
  assert.deepEqual(update, {
    type: 'StatusUpdate',
    executorId: '3',
    taskId: 1,
    state: 'FINISHED',
    result: inline,
    metrics: { runTimeMs: 42, resultBytes: 100, records: 17 },
  });
  const [big] = statusUpdates(h.complete(2, bytes(101), 3, 1));
  assert.equal(big?.result, undefined, 'one byte over the limit is not inline');
  assert.deepEqual(big?.indirectResult, { bytes: 101, chunks: 1 });
});

test('the default direct limit is 1 MiB', () => {
  const h = running();
  h.launch(1);
  h.launch(2);
  assert.ok(statusUpdates(h.complete(1, bytes(1024 * 1024)))[0]?.result !== undefined);
  assert.deepEqual(statusUpdates(h.complete(2, bytes(1024 * 1024 + 1)))[0]?.indirectResult, { bytes: 1024 * 1024 + 1, chunks: 1 });
});

test('a larger result is kept, served in flint.task.resultChunkSize chunks, and dropped on release', () => {
  const h = running(1, { 'flint.task.maxDirectResultSize': '10b', 'flint.task.resultChunkSize': '4b' });
  h.launch(5);
  const result = bytes(11);
  const [update] = statusUpdates(h.complete(5, result, 2, 9));
  assert.deepEqual(update?.indirectResult, { bytes: 11, chunks: 3 });
  assert.deepEqual(update?.metrics, { runTimeMs: 9, resultBytes: 11, records: 2 });
  assert.deepEqual(h.machine.snapshot().keptResults, [{ taskId: 5, bytes: 11, chunks: 3 }]);

  const parts: Uint8Array[] = [];
  for (const index of [0, 1, 2]) {
    const token = replyToken(100 + index);
    const [reply] = ofType(h.fetch(5, index, token), 'Reply');
    assert.equal(reply?.token, token, 'the reply carries the ask token');
    assert.equal(reply?.message.index, index);
    parts.push(reply?.message.data ?? new Uint8Array());
  }
  assert.deepEqual(parts.map((p) => p.byteLength), [4, 4, 3]);
  assert.deepEqual(Buffer.concat(parts), Buffer.from(result));

  const [outOfRange] = ofType(h.fetch(5, 3), 'ReplyFailure');
  assert.match(outOfRange?.error ?? '', /has 3 chunks; there is no chunk 3/);

  h.fromDriver({ type: 'ReleaseTaskResult', taskId: 5 });
  assert.deepEqual(h.machine.snapshot().keptResults, []);
  const [gone] = ofType(h.fetch(5, 0, replyToken(7)), 'ReplyFailure');
  assert.equal(gone?.token, 7);
  assert.match(gone?.error ?? '', /Executor 3 keeps no result of task 5/);
});

test('Spark: a result over flint.driver.maxResultSize is dropped at once; the driver learns its size', () => {
  const h = running(1, { 'flint.task.maxDirectResultSize': '10b', 'flint.driver.maxResultSize': '20b' });
  h.launch(1);
  const effects = h.complete(1, bytes(21));
  assert.deepEqual(statusUpdates(effects)[0]?.indirectResult, { bytes: 21, chunks: 1 });
  assert.ok(ofType(effects, 'Log').some((l) => l.level === 'warn' && /larger than maxResultSize \(21 > 20/.test(l.msg)));
  assert.deepEqual(h.machine.snapshot().keptResults, []);
  assert.match(ofType(h.fetch(1, 0), 'ReplyFailure')[0]?.error ?? '', /flint\.driver\.maxResultSize/);
});

test('direct results and chunks are capped by flint.rpc.message.maxSize', () => {
  const h = running(1, { 'flint.rpc.message.maxSize': '1', 'flint.task.maxDirectResultSize': '8m', 'flint.task.resultChunkSize': '512k' });
  assert.equal(h.machine.snapshot().config.maxDirectResultSizeBytes, 1024 * 1024 - 64 * 1024);
  const bad = new Harness();
  const effects = bad.configure({ 'flint.rpc.message.maxSize': '1', 'flint.task.resultChunkSize': '4m' });
  assert.match(exitOf(effects)?.reason ?? '', /flint\.task\.resultChunkSize=4194304 does not fit in a frame/);
});

test('a failed task reports FAILED with the error name, message and stack', () => {
  const h = running();
  h.launch(1, { partition: 4, jobId: 6 });
  h.now += 250;
  const error = { name: 'TypeError', message: 'x.foo is not a function', stack: 'TypeError: x.foo is not a function\n    at square (app.ts:3:5)' };
  const effects = h.handle({ kind: 'TaskErrored', taskId: 1, error });
  assert.deepEqual(statusUpdates(effects), [
    {
      type: 'StatusUpdate',
      executorId: '3',
      taskId: 1,
      state: 'FAILED',
      failure: error,
      metrics: { runTimeMs: 250, resultBytes: 0, records: 0 },
    },
  ]);
  assert.ok(ofType(effects, 'Log').some((l) => l.level === 'error' && l.msg === 'Exception in task 4.0 in job 6 (TID 1)'));
  assert.equal(h.machine.snapshot().tasksFailed, 1);
});

test('a huge failure is clipped to what the wire schema allows', () => {
  const h = running();
  h.launch(1);
  const stack = 'at f\n'.repeat(40_000);
  const [update] = statusUpdates(h.handle({ kind: 'TaskErrored', taskId: 1, error: { name: 'E', message: 'm', stack }, runTimeMs: 3 }));
  assert.equal(update?.failure?.stack.length, MAX_FAILURE_TEXT);
  assert.match(update?.failure?.stack ?? '', /… \[truncated\]$/);
  assert.equal(update?.metrics?.runTimeMs, 3);
});

test('KillTask on a running task cancels it on the pool; the abort is reported KILLED with the reason', () => {
  const h = running(1);
  h.launch(1);
  h.launch(2);
  const kill = h.fromDriver({ type: 'KillTask', taskId: 1, reason: 'Stage cancelled' });
  assert.deepEqual(ofType(kill, 'CancelTask'), [{ kind: 'CancelTask', taskId: 1, reason: 'Stage cancelled' }]);
  assert.deepEqual(states(kill), [], 'nothing is reported until the pool answers');
  assert.deepEqual(ofType(h.fromDriver({ type: 'KillTask', taskId: 1, reason: 'again' }), 'CancelTask'), [], 'one cancel');
  h.now += 30;
  const aborted = h.handle({ kind: 'TaskAborted', taskId: 1 });
  assert.deepEqual(statusUpdates(aborted)[0], {
    type: 'StatusUpdate',
    executorId: '3',
    taskId: 1,
    state: 'KILLED',
    failure: { name: 'TaskKilled', message: 'Stage cancelled', stack: '' },
    metrics: { runTimeMs: 30, resultBytes: 0, records: 0 },
  });
  assert.deepEqual(runTaskIds(aborted), [2], 'the freed core takes the queued task');
});

test('Spark killTaskIfInterrupted: a task that completes or throws after KillTask is still KILLED', () => {
  const h = running(2);
  h.launch(1);
  h.launch(2);
  h.fromDriver({ type: 'KillTask', taskId: 1, reason: 'speculative copy won' });
  h.fromDriver({ type: 'KillTask', taskId: 2, reason: 'job cancelled' });
  const done = h.complete(1, bytes(10));
  assert.deepEqual(states(done), [[1, 'KILLED']]);
  assert.equal(statusUpdates(done)[0]?.result, undefined, 'the late result is not sent');
  const threw = h.handle({ kind: 'TaskErrored', taskId: 2, error: { name: 'TaskKilledError', message: 'Task 2 was killed', stack: '' } });
  assert.deepEqual(statusUpdates(threw)[0]?.failure?.message, 'job cancelled');
  assert.equal(h.machine.snapshot().tasksKilled, 2);
});

test('KillTask on a queued task reports KILLED at once and never runs it', () => {
  const h = running(1);
  h.launch(1);
  h.launch(2);
  const effects = h.fromDriver({ type: 'KillTask', taskId: 2, reason: 'stage cancelled' });
  assert.deepEqual(states(effects), [[2, 'KILLED']]);
  assert.deepEqual(ofType(effects, 'CancelTask'), []);
  assert.deepEqual(runTaskIds(h.complete(1)), []);
  assert.deepEqual(h.machine.snapshot().queued, []);
});

test('KillTask for an unknown task, and answers for unknown tasks, change nothing', () => {
  const h = running(1);
  assert.deepEqual(states(h.fromDriver({ type: 'KillTask', taskId: 9, reason: 'x' })), []);
  assert.deepEqual(ofType(h.fromDriver({ type: 'KillTask', taskId: 9, reason: 'x' }), 'CancelTask'), []);
  const late = h.complete(9);
  assert.deepEqual(states(late), []);
  assert.ok(ofType(late, 'Log').some((l) => l.level === 'warn'));
  h.launch(1);
  assert.deepEqual(runTaskIds(h.launch(2)), [], 'the stray answer did not free a core');
});

test('a duplicate LaunchTask is ignored', () => {
  const h = running(2);
  h.launch(1);
  const again = h.launch(1);
  assert.deepEqual(runTaskIds(again), []);
  assert.deepEqual(states(again), []);
  assert.equal(h.machine.snapshot().running.length, 1);
});

test('the driver\'s RemoveCache and RemoveShuffle become DropCache and DropShuffle, in any phase, and an accumulator update rides with its result', () => {
  const before = new Harness(launchArgs());
  before.start();
  assert.deepEqual(before.fromDriver({ type: 'RemoveCache', id: 3 }), [{ kind: 'DropCache', id: 3 }], 'nothing cached yet, nothing to fear');
  const h = running();
  assert.deepEqual(h.fromDriver({ type: 'RemoveShuffle', shuffleId: 5 }), [{ kind: 'DropShuffle', shuffleId: 5 }]);
  h.launch(1);
  const done = h.handle({ kind: 'TaskCompleted', taskId: 1, result: new Uint8Array([0x90]), records: 2, runTimeMs: 3, accumulators: { seen: 2 } });
  assert.deepEqual(statusUpdates(done)[0]?.metrics?.accumulators, { seen: 2 });
});
