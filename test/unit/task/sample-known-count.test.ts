// The sampling stage of a range partitioner over a partition whose size is known (evaluate-task.ts
// sampleKnownCount): a range or a slice followed only by maps computes just the sampled records, with the count
// of the whole partition; anything else is read whole, as before. And the index sampler itself (Floyd's).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { evaluateTask, recordCodec, type LaunchTaskMessage } from '../../../src/task/index.ts';
import { sampleIndices, type TaskIo } from '../../../src/task/evaluate-task.ts';
import { sampleKeys } from '../../../src/io/executor/shuffle-task.ts';
import type { TaskOp, TaskSource } from '../../../src/protocol/task-messages.ts';

const io = { sampleKeys } as unknown as TaskIo;

function sampling(source: TaskSource, ops: TaskOp[], size: number, partition = 3): LaunchTaskMessage {
  return { type: 'LaunchTask', taskId: 9, jobId: 1, partition, attempt: 0, source, ops, action: { kind: 'sampleKeys', size, seed: 77 } };
}

async function sketch(t: LaunchTaskMessage, exports: Record<string, unknown>): Promise<{ count: number; sample: unknown[]; records: number }> {
  const out = await evaluateTask(t, { resolve: (name) => exports[name], codec: recordCodec, io });
  const { count, sample } = recordCodec.decode(out.result) as { count: number; sample: unknown[] };
  return { count, sample, records: out.records };
}

test('a range then maps: only the sampled records are computed; the count is the whole partition', async () => {
  let calls = 0;
  const exports = {
    toPair: (i: number) => {
      calls += 1;
      return [(i * 7919) % 1000, i];
    },
    swap: ([k, v]: [number, number]) => [k, -v],
  };
  const t = sampling({ kind: 'range', start: 10, end: 100_010, step: 1 }, [{ op: 'map', fn: 'toPair' }, { op: 'map', fn: 'swap' }], 60);
  const first = await sketch(t, exports);
  assert.equal(calls, 60, 'toPair ran for the sampled records only');
  assert.equal(first.count, 100_000);
  assert.equal(first.records, 100_000);
  assert.equal(first.sample.length, 60);
  for (const key of first.sample) assert.ok(Number.isInteger(key) && (key as number) >= 0 && (key as number) < 1000, `key ${String(key)}`);
  assert.deepEqual((await sketch(t, exports)).sample, first.sample, 'the same seed samples the same records');
  // A descending range with a step: its count, and only its values.
  const seen: number[] = [];
  const down = await sketch(sampling({ kind: 'range', start: 50, end: -51, step: -5 }, [{ op: 'map', fn: 'keyed' }], 5), {
    keyed: (i: number) => {
      seen.push(i);
      return [i, null];
    },
  });
  assert.equal(down.count, 21);
  assert.equal(seen.length, 5);
  for (const i of seen) assert.ok(i <= 50 && i >= -50 && i % 5 === 0, `value ${i}`);
  assert.deepEqual(down.sample, seen, 'sampled in partition order');
});

test('a partition no larger than the sample gives every key in order; an empty one gives none', async () => {
  const pairs = [['b', 1], ['a', 2], ['c', 3]];
  assert.deepEqual(await sketch(sampling({ kind: 'slice', data: recordCodec.encode(pairs) }, [], 10), {}), { count: 3, sample: ['b', 'a', 'c'], records: 3 });
  assert.deepEqual(await sketch(sampling({ kind: 'range', start: 5, end: 5, step: 1 }, [{ op: 'map', fn: 'f' }], 10), { f: () => [1, 1] }), { count: 0, sample: [], records: 0 });
});

test('after a filter or a flatMap the partition is read whole, as Spark reads it', async () => {
  let calls = 0;
  const exports = {
    toPair: (i: number) => {
      calls += 1;
      return [i % 97, i];
    },
    even: ([k]: [number, number]) => k % 2 === 0,
  };
  const out = await sketch(sampling({ kind: 'range', start: 0, end: 10_000, step: 1 }, [{ op: 'map', fn: 'toPair' }, { op: 'filter', fn: 'even' }], 20), exports);
  assert.equal(calls, 10_000);
  assert.equal(out.count, Array.from({ length: 10_000 }, (_, i) => i % 97).filter((k) => k % 2 === 0).length);
  assert.equal(out.sample.length, 20);
});

test('a sampled record that is not a pair fails the task, and a bad range fails as it would read whole', async () => {
  await assert.rejects(sketch(sampling({ kind: 'range', start: 0, end: 1000, step: 1 }, [{ op: 'map', fn: 'f' }], 5), { f: (i: number) => i }), /FLINT_NOT_A_PAIR|\[key, value\]/);
  await assert.rejects(sketch(sampling({ kind: 'range', start: 0, end: 10, step: 0 }, [], 5), {}), /range step must not be 0/);
});

test('sampleIndices: k distinct indices in increasing order, all of them when n ≤ k, each index about equally likely', () => {
  assert.deepEqual(sampleIndices(4, 10, 1), [0, 1, 2, 3]);
  assert.deepEqual(sampleIndices(0, 3, 1), []);
  const counts = new Array<number>(10).fill(0);
  const rounds = 6000;
  for (let seed = 0; seed < rounds; seed += 1) {
    const picked = sampleIndices(10, 3, seed);
    assert.equal(picked.length, 3);
    assert.equal(new Set(picked).size, 3);
    assert.deepEqual(picked, [...picked].sort((a, b) => a - b));
    for (const i of picked) counts[i]! += 1;
  }
  // Each index is picked with probability 3/10: 1,800 of 6,000; ±200 is more than 5 standard deviations (35.5).
  for (const [i, c] of counts.entries()) assert.ok(Math.abs(c - 1800) < 200, `index ${i} picked ${c} times`);
});
