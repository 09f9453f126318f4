// Frame batching (src/shuffle/spill-file.ts FrameBatcher): whatever mix of records comes, the frames it cuts
// decode to the same records in the same order, number pairs kept as columns included (-0, NaN, fractions,
// numbers past int32), and a batch of number pairs that meets a record of another shape turns back into
// records. The pairs' columns encode to the bytes the records themselves would.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { FrameBatcher } from '../../../src/shuffle/spill-file.ts';
import { decodeFrameBody } from '../../../src/shuffle/frames.ts';
import { encodeColumnarBody, encodeNumberPairBody } from '../../../src/shuffle/columnar-frame.ts';
import './arbitraries.ts';

const number = fc.oneof(fc.integer(), fc.constantFrom(0, -0, NaN, Infinity, -Infinity, 2 ** 31, -(2 ** 31), 2 ** 53, 0.5, -1.25));
const numberPair = fc.tuple(number, number);
const otherRecord = fc.oneof(
  fc.tuple(fc.string({ maxLength: 3 }), number),
  fc.tuple(number, fc.string({ maxLength: 3 })),
  fc.tuple(number, number, number),
  fc.constantFrom<unknown>('x', 7, null, [1], [1, undefined], { a: 1 }),
);

/** Every record through a batcher (of frames of at most `limit`'s default), flushed at the end, decoded. */
function roundTrip(records: readonly unknown[], targetBytes?: number): unknown[] {
  const batcher = new FrameBatcher(targetBytes);
  const out: unknown[] = [];
  for (const record of records) {
    const body = batcher.add(record);
    if (body !== undefined) out.push(...decodeFrameBody(body));
  }
  assert.equal(batcher.size, records.length - out.length);
  const rest = batcher.flush();
  if (rest !== undefined) out.push(...decodeFrameBody(rest));
  assert.equal(batcher.size, 0);
  return out;
}

test('the frames decode to the records, in order, for any mix of number pairs and other records (property)', () => {
  fc.assert(
    fc.property(fc.array(fc.oneof({ weight: 4, arbitrary: numberPair }, { weight: 1, arbitrary: otherRecord }), { maxLength: 3000, size: 'max' }), (records) => {
      assert.deepStrictEqual(roundTrip(records), records);
      assert.deepStrictEqual(roundTrip(records, 64), records, 'small frames');
    }),
    { numRuns: 25 },
  );
});

test('a batch of number pairs interrupted by another record keeps every record and their order', () => {
  const records: unknown[] = [[1, 2], [-0, 0.5], ['word', 3], [4, NaN], [2 ** 40, 5]];
  assert.deepStrictEqual(roundTrip(records), records);
  const pairsThen = [...Array.from({ length: 1500 }, (_, i) => [i, -i]), [{ a: 1 }, 1]];
  assert.deepStrictEqual(roundTrip(pairsThen), pairsThen);
});

test('number pairs held as columns encode to the bytes of the same records (property)', () => {
  fc.assert(
    fc.property(fc.array(numberPair, { minLength: 1, maxLength: 200 }), (pairs) => {
      const keys = Float64Array.from(pairs, ([k]) => k);
      const values = Float64Array.from(pairs, ([, v]) => v);
      const expected = Buffer.from(encodeColumnarBody(pairs) as Uint8Array);
      assert.deepEqual(Buffer.from(encodeNumberPairBody(keys, values, pairs.length)), expected);
      // Columns longer than the pairs held (FrameBatcher's), and a body at an odd offset (written number by
      // number through a DataView instead of by a typed array copy): the same bytes.
      const longer = (column: Float64Array): Float64Array => Float64Array.from([...column, 7.5, -1]);
      assert.deepEqual(Buffer.from(encodeNumberPairBody(longer(keys), longer(values), pairs.length)), expected);
      const unaligned = (bytes: number): Buffer => Buffer.alloc(bytes + 1).subarray(1);
      assert.deepEqual(Buffer.from(encodeNumberPairBody(keys, values, pairs.length, unaligned)), expected);
    }),
  );
});
