// TaskContext (Spark's org.apache.spark.TaskContext): a running task learns its partition, attempt, task and
// stage ids and the addresses it holds; CUDA_VISIBLE_DEVICES is its own gpus while it runs; outside a task,
// TaskContext.get() throws a clear error (Spark returns null).
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { after, describe, test, type TestContext } from 'node:test';
import { NotInTaskError, TaskContext } from '../../../src/api/index.ts';
import { runTask } from '../../../src/io/executor/task-thread.ts';
import { isCompletedReply } from '../../../src/io/executor/thread-messages.ts';
import { decodeRecord } from '../../../src/task/record-codec.ts';
import type { LaunchTaskMessage } from '../../../src/task/index.ts';
import { tempDir } from '../../helpers/temp-dir.ts';

const dir = tempDir('flint-task-context-');
after(() => rmSync(dir, { recursive: true, force: true }));

// A bundle as the executor imports it: its own copy of TaskContext would read the same global slot; this one
// imports the source module, which is enough to see what a task sees.
const bundlePath = join(dir, 'app.mjs');
writeFileSync(
  bundlePath,
  `import { TaskContext } from ${JSON.stringify(pathToFileURL(join(import.meta.dirname, '../../../src/api/task-context.ts')).href)};
export function whoAmI(records) {
  const c = TaskContext.get();
  return { partition: c.partitionId(), attempt: c.attemptNumber(), taskId: c.taskAttemptId(), stage: c.stageId(),
    resources: c.resources(), cuda: process.env.CUDA_VISIBLE_DEVICES ?? null, records: [...records].length };
}
export function boom() { TaskContext.get(); throw new Error('boom'); }
`,
);

const launch = (extra: Partial<LaunchTaskMessage>): LaunchTaskMessage => ({
  type: 'LaunchTask',
  taskId: 41,
  jobId: 7,
  partition: 3,
  attempt: 2,
  source: { kind: 'range', start: 0, end: 5, step: 1 },
  ops: [],
  action: { kind: 'runJob', fn: 'whoAmI' },
  ...extra,
});

describe('TaskContext', () => {
  test('outside a task, get() throws NotInTaskError (FLINT_NOT_IN_TASK) saying where it can be used', (t: TestContext) => {
    t.plan(1);
    t.assert.throws(() => TaskContext.get(), (err: unknown) => err instanceof NotInTaskError && err.code === 'FLINT_NOT_IN_TASK' && /outside a running task/.test(err.message));
  });

  test('a running task sees its ids, its addresses and its gpus in CUDA_VISIBLE_DEVICES; both are gone after it', async (t: TestContext) => {
    t.plan(4);
    const before = process.env['CUDA_VISIBLE_DEVICES']; // the executor's own, as the worker set it (here: the test's)
    const reply = await runTask(launch({ resources: { gpu: ['1', '3'], fpga: ['f0'] } }), bundlePath, { aborted: false });
    if (!isCompletedReply(reply)) throw new Error(`the task did not complete: ${JSON.stringify(reply)}`);
    t.assert.deepStrictEqual(decodeRecord(reply[3]), {
      partition: 3,
      attempt: 2,
      taskId: 41,
      stage: 7,
      resources: { gpu: { name: 'gpu', addresses: ['1', '3'] }, fpga: { name: 'fpga', addresses: ['f0'] } },
      cuda: '1,3',
      records: 5,
    });
    t.assert.throws(() => TaskContext.get(), NotInTaskError, 'the context ends with the task');
    t.assert.strictEqual(process.env['CUDA_VISIBLE_DEVICES'], before, "the executor's own value is back");
    const plain = await runTask(launch({ taskId: 42 }), bundlePath, { aborted: false });
    if (!isCompletedReply(plain)) throw new Error('the task did not complete');
    t.assert.deepStrictEqual((decodeRecord(plain[3]) as { resources: unknown }).resources, {}, 'a task that asked for nothing holds nothing');
  });

  test('a task that throws still leaves no context behind', async (t: TestContext) => {
    t.plan(2);
    const reply = await runTask(launch({ action: { kind: 'runJob', fn: 'boom' } }), bundlePath, { aborted: false });
    t.assert.strictEqual(!isCompletedReply(reply) && reply.kind === 'errored' ? reply.failure.message : '', 'boom');
    t.assert.throws(() => TaskContext.get(), NotInTaskError);
  });
});
