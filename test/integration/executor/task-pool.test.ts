// The executor's thread pool (src/io/executor/task-pool.ts) with real threads and the fixture app's bundle:
// each thread's own queue of tasks, one outcome per task, kills of queued and of stuck tasks, a thread that
// dies, and never more tasks running at once than threads.

import assert from 'node:assert/strict';
import { existsSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { decode } from '@msgpack/msgpack';
import type { LaunchTaskMessage } from '../../../src/executor/index.ts';
import { TaskPool, startWarmThread, type TaskOutcome, type WarmThread } from '../../../src/io/executor/task-pool.ts';
import { fixtureBundle, slice } from './helpers.ts';
import { tempDir } from '../../helpers/temp-dir.ts';

function task(taskId: number, fn: string, records: unknown[] = [taskId], action: LaunchTaskMessage['action'] = { kind: 'collect' }): LaunchTaskMessage {
  return { type: 'LaunchTask', taskId, jobId: 0, partition: taskId, attempt: 0, source: { kind: 'slice', data: slice(records) }, ops: [{ op: 'map', fn }], action };
}

/** A task that creates `marker` as its first record is read, then applies `fn` to `values`. */
function markedTask(taskId: number, fn: string, values: number[], marker: string): LaunchTaskMessage {
  const records = values.map((n) => ({ marker, n }));
  return { ...task(taskId, fn, records), ops: [{ op: 'map', fn: 'markStarted' }, { op: 'map', fn }] };
}

/** Waits (bounded) until `marker` exists: the task that creates it has started on a thread. */
async function started(marker: string, timeoutMs = 10_000): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!existsSync(marker)) {
    if (performance.now() > deadline) throw new Error(`the task did not start within ${timeoutMs} ms (no ${marker})`);
    await new Promise((done) => setTimeout(done, 5));
  }
}

/** A pool whose outcomes are recorded in arrival order, with a bounded wait for a task's outcome. */
class Recorded {
  readonly outcomes: TaskOutcome[] = [];
  readonly pool: TaskPool;
  readonly #waiters = new Set<() => void>();

  constructor(threads: number, warm?: WarmThread) {
    this.pool = new TaskPool(
      threads,
      (outcome) => {
        this.outcomes.push(outcome);
        for (const wake of [...this.#waiters]) wake();
      },
      undefined,
      warm,
    );
  }

  outcome(taskId: number, timeoutMs = 10_000): Promise<TaskOutcome> {
    return new Promise((resolve, reject) => {
      const check = (): void => {
        const found = this.outcomes.find((o) => o.taskId === taskId);
        if (found === undefined) return;
        this.#waiters.delete(check);
        clearTimeout(timer);
        resolve(found);
      };
      const timer = setTimeout(() => {
        this.#waiters.delete(check);
        reject(new Error(`no outcome for task ${taskId} within ${timeoutMs} ms: ${JSON.stringify(this.outcomes.map((o) => [o.taskId, o.kind]))}`));
      }, timeoutMs);
      this.#waiters.add(check);
      check();
    });
  }

  countOf(taskId: number): number {
    return this.outcomes.filter((o) => o.taskId === taskId).length;
  }
}

function valueOf(outcome: TaskOutcome): unknown {
  assert.equal(outcome.kind, 'TaskCompleted', JSON.stringify(outcome));
  return decode((outcome as Extract<TaskOutcome, { kind: 'TaskCompleted' }>).result);
}

describe('the task pool', { timeout: 60_000 }, () => {
  let dir: string;
  let bundlePath: string;
  const pools: TaskPool[] = [];
  const recorded = (threads: number, warm?: WarmThread): Recorded => {
    const r = new Recorded(threads, warm);
    pools.push(r.pool);
    return r;
  };

  before(async () => {
    const bundle = await fixtureBundle();
    dir = tempDir('flint-pool-');
    bundlePath = join(dir, `${bundle.hash}.mjs`);
    writeFileSync(bundlePath, bundle.code);
  });

  after(async () => {
    await Promise.all(pools.map((pool) => pool.destroy()));
    rmSync(dir, { recursive: true, force: true });
  });

  test("a warm thread (a standby's) becomes the pool's first, with the environment the executor has by then", async () => {
    process.env['FLINT_TEST_WARM'] = 'the standby’s';
    process.env['FLINT_TEST_GONE'] = 'set before adoption';
    const warm = startWarmThread();
    try {
      const deadline = performance.now() + 10_000;
      while (!warm.online && performance.now() < deadline) await new Promise((done) => setTimeout(done, 5));
      assert.ok(warm.online, 'the warm thread came online');
      // Adoption: the worker gives the executor its own environment (src/entry/executor.ts).
      process.env['FLINT_TEST_WARM'] = 'the executor’s';
      delete process.env['FLINT_TEST_GONE'];
      const r = recorded(2, warm);
      r.pool.run(task(1, 'envOf', ['FLINT_TEST_WARM']), bundlePath);
      r.pool.run(task(2, 'envOf', ['FLINT_TEST_GONE']), bundlePath);
      const results = await Promise.all([r.outcome(1), r.outcome(2)]);
      const [first, second] = results.map((o) => (o.kind === 'TaskCompleted' ? (decode(o.result) as Array<[string | null, number]>)[0] : assert.fail(JSON.stringify(o))));
      assert.deepEqual(first, ['the executor’s', warm.worker.threadId], 'the first task ran on the warm thread, which sees the executor’s environment');
      assert.notEqual(second?.[1], warm.worker.threadId, 'the second thread is a new one');
      assert.equal(second?.[0], null, 'a variable the executor no longer has is gone from the warm thread too');
    } finally {
      delete process.env['FLINT_TEST_WARM'];
      delete process.env['FLINT_TEST_GONE'];
    }
  });

  test('a warm thread that exited before adoption is left out: the pool starts its own', async () => {
    const warm = startWarmThread();
    await warm.worker.terminate();
    assert.equal(warm.exited, true);
    const r = recorded(1, warm);
    r.pool.run(task(1, 'square', [7]), bundlePath);
    const outcome = await r.outcome(1);
    assert.equal(outcome.kind, 'TaskCompleted', JSON.stringify(outcome));
  });

  test('preload has every thread import the bundle before any task', async () => {
    const marker = join(dir, 'imported');
    process.env['FLINT_TEST_IMPORT_MARKER'] = marker; // the threads copy the environment when they start
    const r = recorded(2);
    delete process.env['FLINT_TEST_IMPORT_MARKER'];
    r.pool.preload(bundlePath);
    const imported = (): string[] => readdirSync(dir).filter((f) => f.startsWith('imported-'));
    const deadline = performance.now() + 10_000;
    while (imported().length < 2 && performance.now() < deadline) await new Promise((done) => setTimeout(done, 5));
    assert.equal(imported().length, 2, `each thread imported the bundle: ${imported().join(' ')}`);
    assert.deepEqual(r.outcomes, [], 'no task ran');
    r.pool.run(task(1, 'square', [3]), bundlePath);
    assert.equal((await r.outcome(1)).kind, 'TaskCompleted');
    assert.equal(imported().length, 2, 'the task used the bundle imported ahead: no second import');
  });

  test('a thread runs the tasks queued on it in order, each answered exactly once', async () => {
    const r = recorded(1);
    for (let id = 1; id <= 50; id++) r.pool.run(task(id, 'square'), bundlePath);
    await r.outcome(50);
    assert.deepEqual(r.outcomes.map((o) => o.taskId), Array.from({ length: 50 }, (_, i) => i + 1));
    assert.deepEqual(r.outcomes.map(valueOf), Array.from({ length: 50 }, (_, i) => [(i + 1) ** 2]));
    assert.equal(r.pool.taskCount, 0);
  });

  test('tasks of different stages, interleaved on one thread, each run with their own ops, action and source', async () => {
    // The pool sends a thread a stage's shared parts only when they change (thread-messages.ts): every switch
    // between these stages must reach the thread before the task it is for.
    const r = recorded(1);
    const range = (taskId: number, jobId: number, ops: LaunchTaskMessage['ops'], action: LaunchTaskMessage['action']): LaunchTaskMessage => ({
      type: 'LaunchTask', taskId, jobId, partition: 0, attempt: 0, source: { kind: 'range', start: taskId, end: taskId + 3, step: 1 }, ops, action,
    });
    const tasks: Array<[LaunchTaskMessage, unknown]> = [
      [task(1, 'square', [2, 3]), [4, 9]],
      [task(2, 'square', [4]), [16]],
      [task(3, 'isEven', [4, 5]), [true, false]],
      [range(4, 1, [{ op: 'map', fn: 'square' }], { kind: 'collect' }), [16, 25, 36]],
      [range(5, 1, [{ op: 'map', fn: 'square' }], { kind: 'count' }), 3],
      [range(6, 2, [{ op: 'map', fn: 'square' }], { kind: 'collect' }), [36, 49, 64]],
      [task(7, 'square', [5]), [25]],
      [range(8, 2, [{ op: 'filter', fn: 'isEven' }], { kind: 'collect' }), [8, 10]],
      [range(9, 2, [{ op: 'filter', fn: 'isEven' }], { kind: 'collect' }), [10]],
    ];
    for (const [t] of tasks) r.pool.run(t, bundlePath);
    await r.outcome(9);
    assert.deepEqual(r.outcomes.map((o) => o.taskId), tasks.map(([t]) => t.taskId));
    assert.deepEqual(r.outcomes.map(valueOf), tasks.map(([, expected]) => expected));
  });

  test('a killed task queued behind a stuck one ends at once without running; the stuck one is ended and its thread replaced', async () => {
    const r = recorded(1);
    const marker = join(dir, 'spin-started');
    r.pool.run(markedTask(1, 'spin', [1], marker), bundlePath);
    r.pool.run(task(2, 'square'), bundlePath);
    r.pool.run(task(3, 'square'), bundlePath);
    await started(marker); // task 1 is spinning
    r.pool.cancel(2, 60_000);
    assert.deepEqual(await r.outcome(2), { kind: 'TaskAborted', taskId: 2, runTimeMs: 0 });
    assert.equal(r.outcomes.length, 1, 'nothing else has answered: the thread is still stuck in task 1');
    r.pool.cancel(1, 300);
    const stuck = await r.outcome(1);
    assert.equal(stuck.kind, 'TaskAborted');
    assert.deepEqual(valueOf(await r.outcome(3)), [9], 'the task queued behind moved to the new thread');
    for (const id of [1, 2, 3]) assert.equal(r.countOf(id), 1, `task ${id} answered once`);
    r.pool.run(task(4, 'square'), bundlePath);
    assert.deepEqual(valueOf(await r.outcome(4)), [16]);
  });

  test('a task reported as cancelled before it started never runs, whenever the cancel lands', async () => {
    // Cancels race the thread taking tasks off its queue. Whatever the timing, an outcome that says the task
    // did not run (TaskAborted with runTimeMs 0) must mean its first record never ran (no marker file).
    const r = recorded(2);
    const ids = Array.from({ length: 400 }, (_, i) => 1_000 + i);
    const markerOf = (id: number) => join(dir, `race-${id}`);
    for (const [i, id] of ids.entries()) {
      r.pool.run(markedTask(id, 'square', [1], markerOf(id)), bundlePath);
      if (i % 4 === 3) {
        // Cancel a few of the tasks just posted, some at once and some a moment later.
        if (i % 8 === 3) r.pool.cancel(id - 1, 60_000);
        else await new Promise((done) => setImmediate(done));
        r.pool.cancel(id, 60_000);
        r.pool.cancel(id - 2, 60_000);
      }
    }
    await Promise.all(ids.map((id) => r.outcome(id)));
    let skipped = 0;
    for (const id of ids) {
      const outcome = r.outcomes.find((o) => o.taskId === id) as TaskOutcome;
      assert.equal(r.countOf(id), 1, `task ${id} answered once`);
      if (outcome.kind === 'TaskAborted' && outcome.runTimeMs === 0) {
        skipped++;
        assert.equal(existsSync(markerOf(id)), false, `task ${id} was reported as not started, but it ran`);
      }
    }
    assert.ok(skipped > 0, 'some cancels landed before their task started');
  });

  test('a killed task that yields sees its abort flag before the grace time, task 0 and ids past 2^31 too', async () => {
    // Task ids start at 0 (an app's first task), and an Int32 slot holds ids past 2^31 only modulo 2^32.
    for (const id of [1, 0, 2 ** 31 + 5]) {
      const r = recorded(1);
      const marker = join(dir, `sleepy-started-${id}`);
      r.pool.run(markedTask(id, 'sleepy', Array.from({ length: 500 }, (_, i) => i), marker), bundlePath);
      await started(marker);
      r.pool.cancel(id, 60_000);
      const killed = await r.outcome(id, 5_000);
      assert.equal(killed.kind, 'TaskErrored', `task ${id}`);
      assert.equal((killed as Extract<TaskOutcome, { kind: 'TaskErrored' }>).error.name, 'TaskKilledError', `task ${id}`);
    }
  });

  test('a thread that dies fails its task as ExecutorThreadLost; the tasks queued behind run on a new thread', async () => {
    const r = recorded(1);
    r.pool.run(task(1, 'square', [], { kind: 'runJob', fn: 'crashThread' }), bundlePath);
    r.pool.run(task(2, 'square'), bundlePath);
    const lost = await r.outcome(1);
    assert.equal(lost.kind, 'TaskErrored');
    assert.equal((lost as Extract<TaskOutcome, { kind: 'TaskErrored' }>).error.name, 'ExecutorThreadLost');
    assert.deepEqual(valueOf(await r.outcome(2)), [4]);
    assert.equal(r.countOf(1) + r.countOf(2), 2);
  });

  test('never more tasks run at once than threads, and tasks spread over the threads', async () => {
    const r = recorded(2);
    for (let id = 1; id <= 6; id++) r.pool.run(task(id, 'sleepySpan', [1, 2, 3, 4, 5]), bundlePath);
    type Span = { x: number; thread: number; start: number; end: number };
    const tasks = await Promise.all([1, 2, 3, 4, 5, 6].map(async (id) => valueOf(await r.outcome(id)) as Span[]));
    // Each task ran its records in order, on one thread.
    const spans = tasks.map((records, i) => {
      assert.deepEqual(records.map((s) => s.x), [1, 2, 3, 4, 5], `task ${i + 1}'s records`);
      assert.equal(new Set(records.map((s) => s.thread)).size, 1, `task ${i + 1} ran on one thread`);
      return { thread: records[0]!.thread, start: records[0]!.start, end: records.at(-1)!.end };
    });
    assert.equal(new Set(spans.map((s) => s.thread)).size, 2, 'both threads ran tasks');
    // At any instant at most 2 tasks were between their first record's start and their last record's end
    // (a sweep over the span edges, ends before starts at equal times), and never 2 on one thread.
    const edges = spans.flatMap((s) => [{ at: s.start, d: 1 }, { at: s.end, d: -1 }]).sort((a, b) => a.at - b.at || a.d - b.d);
    let running = 0;
    let most = 0;
    for (const e of edges) most = Math.max(most, (running += e.d));
    assert.ok(most <= 2, `${most} tasks ran at once on 2 threads: ${JSON.stringify(spans)}`);
    for (const s of spans) {
      const sameThread = spans.filter((o) => o !== s && o.thread === s.thread && o.start < s.end && s.start < o.end);
      assert.deepEqual(sameThread, [], `two tasks at once on thread ${s.thread}`);
    }
  });
});
