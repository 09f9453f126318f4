// The external sorter's radix sort of number keys (src/shuffle/sort-by-number-key.ts) against the stable
// comparator sort it replaces: the same records in the same order, both directions, int32 and double keys,
// -0 equal to 0, ±Infinity, ties kept in insertion order.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { sortByNumberKey } from '../../../src/shuffle/sort-by-number-key.ts';
import './arbitraries.ts';

type Pair = [unknown, unknown];

const reference = (records: Pair[], ascending: boolean): Pair[] =>
  [...records].sort(ascending ? (a, b) => (a[0] as number) - (b[0] as number) : (a, b) => (b[0] as number) - (a[0] as number));

const key = fc.oneof(
  fc.integer({ min: -3, max: 3 }),
  fc.integer(),
  fc.constantFrom(0, -0, Infinity, -Infinity, 2 ** 31, -(2 ** 31), 2 ** 31 - 1, 2 ** 53, -(2 ** 53), Number.MIN_VALUE, -Number.MIN_VALUE, Number.MAX_VALUE),
  fc.double({ noNaN: true }),
);

test('sortByNumberKey equals the stable comparator sort, up and down (property)', () => {
  fc.assert(
    fc.property(fc.array(key, { maxLength: 1500 }), fc.boolean(), fc.boolean(), (keys, ascending, int32Only) => {
      const records: Pair[] = keys.map((k, i) => [int32Only ? k | 0 : k, i]);
      const want = reference(records, ascending);
      const got = sortByNumberKey([...records], ascending);
      assert.equal(got.length, want.length);
      got.forEach((record, i) => assert.equal(record, want[i], `record ${i}`));
    }),
    { numRuns: 300 },
  );
});

test('sortByNumberKey: many records, few distinct keys (every radix pass, ties in insertion order)', () => {
  for (const [ascending, make] of [
    [true, (i: number) => (i * 7919) % 1000],
    [false, (i: number) => ((i * 7919) % 1000) - 500.5],
    [true, (i: number) => (i % 3 === 0 ? -0 : i % 3 === 1 ? 0 : -(2 ** 40))],
  ] as const) {
    const records: Pair[] = Array.from({ length: 100_000 }, (_, i) => [make(i), i]);
    const got = sortByNumberKey([...records], ascending);
    const want = reference(records, ascending);
    got.forEach((record, i) => assert.equal(record, want[i]));
  }
});
