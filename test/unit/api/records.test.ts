// The driver's side of the record codec: parallelize and fold encode on the caller's stack, so a record that
// cannot be sent throws RecordEncodeError from that very call, with the path the user wrote (`data[4].when`),
// before any job runs. No cluster: the context is a stand-in that would fail the test if a job were submitted.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { FlintContext, RecordEncodeError } from '../../../src/api/index.ts';
import { Dataset } from '../../../src/api/dataset.ts';
import { decodeRecord } from '../../../src/task/record-codec.ts';

/** Calls the real parallelize with a context that has no cluster behind it. */
function parallelize<T>(data: readonly T[], numSlices: number): Dataset<T> {
  return FlintContext.prototype.parallelize.call({} as FlintContext, data, numSlices) as Dataset<T>;
}

test('parallelize keeps Maps, Sets, Dates, BigInts and typed arrays in its slices', () => {
  const data = [new Map([[1, 2n]]), new Set(['a']), new Date(7), -(2n ** 90n), new Int8Array([-1]), undefined];
  const ds = parallelize(data, 3);
  const slices = ds.plans.map((p) => (p.source.kind === 'slice' ? decodeRecord(p.source.data) : undefined));
  assert.deepStrictEqual(slices.flat(), data);
});

test('parallelize throws RecordEncodeError synchronously, naming the index in the whole data', () => {
  class Socket {}
  const data: unknown[] = [1, 2, 3, 4, { when: new Date(0), socket: new Socket() }, 6];
  assert.throws(
    () => parallelize(data, 3),
    (err: unknown) => {
      assert.ok(err instanceof RecordEncodeError);
      assert.equal(err.path, 'data[4].socket');
      assert.match(err.message, /^data\[4\]\.socket is a Socket instance, which cannot be sent .* Records may hold: /);
      return true;
    },
  );
});

test('fold throws RecordEncodeError synchronously for a zero that cannot be sent, before any job', () => {
  const context = {
    exportName: () => assert.fail('the zero is checked first'),
    submitTasks: () => assert.fail('no job may run'),
  } as unknown as FlintContext;
  const ds = new Dataset<unknown>(context, []);
  assert.throws(
    () => ds.fold({ seen: new WeakMap() }, (a) => a),
    (err: unknown) => err instanceof RecordEncodeError && err.path === 'zero.seen' && err.valueType === 'WeakMap instance',
  );
});
