// Which result bytes a task thread moves to the pool instead of copying them (task-thread.ts `transferable`).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { TRANSFER_MIN_BYTES, transferable } from '../../../../src/io/executor/task-thread.ts';
import { encodeRecord } from '../../../../src/task/record-codec.ts';

const completed = (result: Uint8Array) => [1, 1, 0, result] as const;
const withAccumulators = (result: Uint8Array) => ({ kind: 'completed' as const, taskId: 1, result, records: 1, runTimeMs: 0, accumulators: { n: 1 } });

test('a large result that holds its buffer alone is moved; a view into a shared buffer is copied', () => {
  const owned = new Uint8Array(TRANSFER_MIN_BYTES);
  assert.deepEqual(transferable(completed(owned)), [owned.buffer]);
  const shared = new Uint8Array(TRANSFER_MIN_BYTES * 4).subarray(TRANSFER_MIN_BYTES, TRANSFER_MIN_BYTES * 3);
  assert.deepEqual(transferable(completed(shared)), []);
  const encoded = encodeRecord(Array.from({ length: 1_000 }, (_, i) => i * 1.5));
  assert.ok(encoded.byteLength >= TRANSFER_MIN_BYTES);
  assert.deepEqual(transferable(completed(encoded)), [encoded.buffer]);
  const alone = new Uint8Array(TRANSFER_MIN_BYTES);
  assert.deepEqual(transferable(withAccumulators(alone)), [alone.buffer], 'a reply with accumulator updates too');
});

test('a small result is copied with the reply, and so are failures', () => {
  assert.deepEqual(transferable(completed(encodeRecord(42))), []);
  assert.deepEqual(transferable(completed(new Uint8Array(TRANSFER_MIN_BYTES - 1))), []);
  assert.deepEqual(transferable({ kind: 'skipped', taskId: 2 }), []);
});
