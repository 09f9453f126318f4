// The run requests and replies between an executor's main thread and its task threads
// (src/io/executor/thread-messages.ts): a task survives the trip through a real MessagePort whatever its source
// and extras, and a stage's parts are compared by value.
import assert from 'node:assert/strict';
import { MessageChannel, receiveMessageOnPort } from 'node:worker_threads';
import { after, describe, test } from 'node:test';
import type { LaunchTaskMessage } from '../../../../src/task/index.ts';
import {
  isCompletedReply,
  isRunRequest,
  replyTaskId,
  runRequestOf,
  samePlain,
  sameStage,
  stageOf,
  taskOf,
  type RunRequest,
  type StageParts,
  type TaskReply,
} from '../../../../src/io/executor/thread-messages.ts';

const BUNDLE = '/var/lib/flint/app-code/0123456789abcdef.mjs';

function launch(extra: Partial<LaunchTaskMessage> = {}): LaunchTaskMessage {
  return {
    type: 'LaunchTask',
    taskId: 12,
    jobId: 3,
    partition: 5,
    attempt: 1,
    source: { kind: 'range', start: 10, end: 20, step: 2 },
    ops: [{ op: 'map', fn: 'square' }, { op: 'sample', withReplacement: false, fraction: 0.5, seed: 7 }],
    action: { kind: 'fold', fn: 'add', zero: new Uint8Array([0]) },
    ...extra,
  };
}

const channel = new MessageChannel();
after(() => channel.port1.close());

/** `value` as the other end of a MessagePort receives it (V8's structured clone). */
function posted<T>(value: T): T {
  channel.port1.postMessage(value);
  const got = receiveMessageOnPort(channel.port2);
  if (got === undefined) throw new Error('nothing arrived');
  return got.message as T;
}

/** The task as a thread rebuilds it from the stage it was sent and the run request, both posted. */
function throughThread(task: LaunchTaskMessage): LaunchTaskMessage {
  const [stage, run] = posted([stageOf(task, BUNDLE), runRequestOf(task)] as const);
  assert.ok(isRunRequest(run));
  assert.equal(isRunRequest(stage as StageParts), false);
  return taskOf(run, stage);
}

describe('run requests', () => {
  const slice = new Uint8Array([0x93, 1, 2, 3]);
  const cases: Array<[string, LaunchTaskMessage]> = [
    ['a range partition', launch()],
    ['a parallelize slice', launch({ source: { kind: 'slice', data: slice } })],
    ['a text file split', launch({ source: { kind: 'textFile', path: '/data/a.txt', start: 0, length: 100, gzip: false, json: true } })],
    [
      'a shuffle read',
      launch({
        source: {
          kind: 'shuffle',
          reads: [{ shuffleId: 1, reduceId: 2, blocks: [{ mapId: 0, location: 0, size: 10 }] }],
          locations: [{ host: 'h', service: 'flint://Worker@h:1', dir: '/d' }],
          mode: { kind: 'aggregate', aggregator: { kind: 'reduce', fn: 'add' }, combined: true },
        },
      }),
    ],
    ['a cached partition', launch({ source: { kind: 'cache', id: 4, partition: 5, inner: { source: { kind: 'range', start: 0, end: 3, step: 1 }, ops: [] } } })],
    ['a range with broadcasts', launch({ broadcasts: [{ name: 'lookup', id: 2, data: new Uint8Array([0xc0]) }, { name: 'other', id: 3 }] })],
    ['a range with resources', launch({ resources: { gpu: ['0', '1'] } })],
    ['inline closures', launch({ closures: [{ name: 'app.ts:3#0', id: '0123456789abcdef', captures: new Uint8Array([0x90]) }] })],
    ['an empty range and negative steps', launch({ source: { kind: 'range', start: 5, end: -5, step: -3 } })],
  ];
  for (const [what, task] of cases) {
    test(`${what} arrives as the task that was sent`, () => {
      assert.deepEqual(throughThread(task), task);
    });
  }

  test('a range partition travels as six numbers; any other source, or extras, as the source and the extras', () => {
    assert.deepEqual(runRequestOf(launch()), [12, 5, 1, 10, 20, 2]);
    const withResources = runRequestOf(launch({ resources: { gpu: ['0'] } }));
    assert.deepEqual(withResources, [12, 5, 1, { kind: 'range', start: 10, end: 20, step: 2 }, { resources: { gpu: ['0'] } }]);
    const sliced = runRequestOf(launch({ source: { kind: 'slice', data: new Uint8Array([1]) } }));
    assert.equal(sliced[4], 0, 'no extras');
    assert.equal(runRequestOf(launch({ taskId: 2 ** 40 }))[0], 2 ** 40, 'task ids past 2^32 are kept');
  });
});

describe('stages', () => {
  test('the same parts in objects of their own, keys in another order, are the same stage', () => {
    const stage = posted(stageOf(launch(), BUNDLE));
    const reordered = launch({ ops: [{ fn: 'square', op: 'map' }, { seed: 7, fraction: 0.5, withReplacement: false, op: 'sample' }], action: { zero: new Uint8Array([0]), fn: 'add', kind: 'fold' } });
    assert.ok(sameStage(stage, launch({ taskId: 99, partition: 0, source: { kind: 'slice', data: new Uint8Array(2) } }), BUNDLE));
    assert.ok(sameStage(stage, reordered, BUNDLE));
    assert.ok(sameStage(stage, launch({ resources: { gpu: ['1'] }, broadcasts: [{ name: 'b', id: 1 }] }), BUNDLE), 'extras are not stage parts');
  });

  test('any difference in the job, an op, the action, a closure or the bundle is another stage', () => {
    const task = launch({ closures: [{ name: 'app.ts:3#0', id: '0123456789abcdef', captures: new Uint8Array([1, 2]) }] });
    const stage = stageOf(task, BUNDLE);
    assert.equal(sameStage(undefined, task, BUNDLE), false, 'a thread that has no stage yet');
    assert.ok(sameStage(stage, task, BUNDLE));
    const others: Array<[string, LaunchTaskMessage, string]> = [
      ['job', { ...task, jobId: 4 }, BUNDLE],
      ['bundle', task, `${BUNDLE}x`],
      ['op function', { ...task, ops: [{ op: 'map', fn: 'cube' }, task.ops[1] as LaunchTaskMessage['ops'][number]] }, BUNDLE],
      ['op count', { ...task, ops: task.ops.slice(0, 1) }, BUNDLE],
      ['op value', { ...task, ops: [task.ops[0] as LaunchTaskMessage['ops'][number], { op: 'sample', withReplacement: false, fraction: 0.25, seed: 7 }] }, BUNDLE],
      ['action kind', { ...task, action: { kind: 'reduce', fn: 'add' } }, BUNDLE],
      ['fold zero', { ...task, action: { kind: 'fold', fn: 'add', zero: new Uint8Array([1]) } }, BUNDLE],
      ['closure captures', { ...task, closures: [{ name: 'app.ts:3#0', id: '0123456789abcdef', captures: new Uint8Array([1, 3]) }] }, BUNDLE],
      ['no closures', launch(), BUNDLE],
    ];
    for (const [what, other, bundle] of others) assert.equal(sameStage(stage, other, bundle), false, what);
  });

  test('samePlain tells arrays, objects and bytes apart', () => {
    assert.ok(samePlain({ a: [1, 'x', true, null] }, { a: [1, 'x', true, null] }));
    assert.equal(samePlain([1, 2], { 0: 1, 1: 2 }), false);
    assert.equal(samePlain({ 0: 1, 1: 2 }, [1, 2]), false);
    assert.equal(samePlain(new Uint8Array([1, 2]), [1, 2]), false);
    assert.equal(samePlain([1, 2], new Uint8Array([1, 2])), false);
    assert.equal(samePlain(new Uint8Array([1, 2]), new Uint8Array([1, 2, 0])), false);
    assert.equal(samePlain({ a: 1 }, { b: 1 }), false);
    assert.equal(samePlain({ a: 1 }, { a: 1, b: 2 }), false);
    assert.equal(samePlain({ a: undefined }, { b: undefined }), false);
    assert.equal(samePlain(0, -0), true);
    assert.equal(samePlain(null, {}), false);
  });
});

describe('replies', () => {
  test('a completed task without accumulators is an array; the others keep their kind', () => {
    const result = new Uint8Array([0xcd, 0x4e, 0x20]);
    const completed = posted<TaskReply>([7, 20_000, 0.012, result]);
    assert.ok(isCompletedReply(completed));
    assert.equal(replyTaskId(completed), 7);
    assert.deepEqual(completed, [7, 20_000, 0.012, result]);
    const others: TaskReply[] = [
      { kind: 'completed', taskId: 8, result, records: 1, runTimeMs: 1, accumulators: { n: 2 } },
      { kind: 'errored', taskId: 9, failure: { name: 'Error', message: 'boom', stack: '' }, runTimeMs: 1 },
      { kind: 'skipped', taskId: 10 },
    ];
    for (const reply of others.map(posted)) {
      assert.equal(isCompletedReply(reply), false);
      assert.ok([8, 9, 10].includes(replyTaskId(reply)));
    }
  });

  test('a run request is told from the other requests', () => {
    const requests = posted<Array<RunRequest | { kind: string }>>([{ kind: 'cancel' }, [1, 0, 0, 0, 1, 1], { kind: 'load' }]);
    assert.deepEqual(requests.map(isRunRequest), [false, true, false]);
  });
});
