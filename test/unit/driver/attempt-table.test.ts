// The retained task attempts in columns (src/driver/attempt-table.ts): it answers as a Map of records would,
// whatever the order of adds, state changes and deletes, and its columns stay about twice what it holds.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { AttemptTable, type LaunchedAttempt } from '../../../src/driver/attempt-table.ts';
import type { TaskHistory, TaskRunState } from '../../../src/driver/history.ts';

function launched(taskId: number, executorId = `e${taskId % 3}`): LaunchedAttempt {
  return { taskId, jobId: Math.floor(taskId / 10), index: taskId % 10, partition: (taskId * 7) % 13, attempt: taskId % 2, executorId, launchedMs: taskId * 1.5 };
}

function record(a: LaunchedAttempt): TaskHistory {
  return { ...a, state: 'RUNNING', endedMs: undefined, error: undefined };
}

describe('AttemptTable', () => {
  test('an attempt is added RUNNING, changes state, ends with a time and an error, and is deleted', () => {
    const table = new AttemptTable();
    table.add(launched(5));
    assert.deepEqual(table.get(5), record(launched(5)));
    assert.equal(table.stateOf(5), 'RUNNING');
    table.setState(5, 'GET RESULT');
    table.setState(5, 'FAILED', 99.25, 'Error: boom');
    assert.deepEqual(table.get(5), { ...record(launched(5)), state: 'FAILED', endedMs: 99.25, error: 'Error: boom' });
    assert.deepEqual(table.launchOf(5), { jobId: 0, executorId: 'e2', launchedMs: 7.5 });
    const copy = table.get(5) as TaskHistory;
    copy.state = 'SUCCESS';
    assert.equal(table.stateOf(5), 'FAILED', 'a record handed out is a copy');
    assert.equal(table.delete(5), true);
    assert.equal(table.delete(5), false);
    assert.equal(table.get(5), undefined);
    assert.equal(table.stateOf(5), undefined);
    assert.equal(table.size, 0);
    assert.throws(() => {
      table.add(launched(6));
      table.add(launched(6));
    }, /task attempt 6 is already recorded/);
  });

  test('an attempt that runs while a million others pass is still there; the columns do not grow for it', () => {
    const table = new AttemptTable();
    table.add(launched(0, 'stuck'));
    for (let id = 1; id <= 1_000_000; id++) {
      table.add(launched(id));
      if (id > 100) table.delete(id - 100); // a hundred retained, as `flint.ui.retainedTasks` would keep
    }
    assert.equal(table.size, 101);
    assert.equal(table.stateOf(0), 'RUNNING');
    assert.deepEqual(table.get(0), record(launched(0, 'stuck')));
    table.setState(0, 'SUCCESS', 1e6);
    assert.equal(table.get(0)?.endedMs, 1e6);
    assert.deepEqual(table.get(999_950), record(launched(999_950)));
    assert.ok(table.capacity <= 1024, `columns of ${table.capacity} slots for about a hundred attempts`);
  });

  test('holding many at once doubles the columns as needed, and each attempt stays in place', () => {
    const table = new AttemptTable();
    for (let id = 0; id < 50_000; id++) table.add(launched(id));
    assert.equal(table.size, 50_000);
    assert.ok(table.capacity >= 50_000 && table.capacity <= 131_072, `capacity ${table.capacity}`);
    for (const id of [0, 1, 1023, 1024, 32_767, 49_999]) assert.deepEqual(table.get(id), record(launched(id)));
  });

  test('ids far apart and ids that come out of order are held too', () => {
    const table = new AttemptTable();
    table.add(launched(10));
    table.add(launched(2 ** 40));
    table.add(launched(3)); // below what came before: kept apart
    table.add(launched(2 ** 40 + 5));
    for (const id of [10, 3, 2 ** 40, 2 ** 40 + 5]) assert.deepEqual(table.get(id), record(launched(id)));
    assert.equal(table.get(11), undefined);
    assert.equal(table.get(2.5), undefined);
    assert.ok(table.capacity <= 2048);
  });

  test('any sequence of adds, state changes and deletes answers as a Map of records does', () => {
    const states: TaskRunState[] = ['RUNNING', 'GET RESULT', 'SUCCESS', 'FAILED', 'KILLED', 'LOST'];
    const op = fc.oneof(
      fc.record({ kind: fc.constant('add' as const), gap: fc.oneof(fc.integer({ min: 1, max: 3 }), fc.integer({ min: 1, max: 5_000 })) }),
      fc.record({ kind: fc.constant('addOld' as const), back: fc.integer({ min: 1, max: 3_000 }) }),
      fc.record({ kind: fc.constant('set' as const), pick: fc.nat(), state: fc.constantFrom(...states), ended: fc.option(fc.double({ min: 0, max: 1e6, noNaN: true }), { nil: undefined }), error: fc.option(fc.string(), { nil: undefined }) }),
      fc.record({ kind: fc.constant('delete' as const), pick: fc.nat() }),
      fc.record({ kind: fc.constant('deleteOldest' as const), count: fc.integer({ min: 1, max: 50 }) }),
    );
    fc.assert(
      fc.property(fc.array(op, { maxLength: 400 }), (ops) => {
        const table = new AttemptTable();
        const model = new Map<number, TaskHistory>();
        let next = 0;
        const held = (pick: number): number | undefined => [...model.keys()][pick % Math.max(1, model.size)];
        for (const o of ops) {
          if (o.kind === 'add') {
            next += o.gap;
            table.add(launched(next));
            model.set(next, record(launched(next)));
          } else if (o.kind === 'addOld') {
            const id = next - o.back;
            if (id < 0 || model.has(id)) continue;
            table.add(launched(id));
            model.set(id, record(launched(id)));
          } else if (o.kind === 'set') {
            const id = held(o.pick);
            if (id === undefined) continue;
            table.setState(id, o.state, o.ended, o.error);
            const m = model.get(id) as TaskHistory;
            m.state = o.state;
            if (o.ended !== undefined) m.endedMs = o.ended;
            if (o.error !== undefined) m.error = o.error;
          } else if (o.kind === 'delete') {
            const id = held(o.pick);
            if (id === undefined) continue;
            assert.equal(table.delete(id), model.delete(id));
          } else {
            for (const id of [...model.keys()].sort((a, b) => a - b).slice(0, o.count)) assert.equal(table.delete(id), model.delete(id));
          }
        }
        assert.equal(table.size, model.size);
        for (const [id, m] of model) {
          assert.deepEqual(table.get(id), m);
          assert.equal(table.stateOf(id), m.state);
        }
        for (let id = 0; id <= next; id += 97) if (!model.has(id)) assert.equal(table.get(id), undefined);
        assert.ok(table.capacity <= Math.max(1024, 4 * model.size + 4096), `capacity ${table.capacity} for ${model.size} held`);
      }),
      { numRuns: 300 },
    );
  });
});
