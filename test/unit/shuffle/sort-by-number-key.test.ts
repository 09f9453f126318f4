// The external sorter's radix sort of number keys (src/shuffle/sort-by-number-key.ts) against the stable
// comparator sort it replaces: the same records in the same order, both directions, int32 and double keys,
// -0 equal to 0, ±Infinity, ties kept in insertion order; and sortNumberPairs, the same sort of keys and values
// held in columns (its int32 path rebuilds the keys: -0 must come back as -0).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { sortByNumberKey, sortNumberPairs } from '../../../src/shuffle/sort-by-number-key.ts';
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

test('sortNumberPairs equals the stable comparator sort of the pairs, int32 keys or not, -0 kept exactly (property)', () => {
  fc.assert(
    fc.property(fc.array(key, { minLength: 200, maxLength: 1500 }), fc.boolean(), fc.nat(3), (keys, ascending, mode) => {
      // mode 0: any keys; 1: int32 keys only (the int32 path); 2: int32 keys and one -0 (the general path); 3: few distinct int32
      const column = keys.map((k, i) => (mode === 0 ? k : mode === 3 ? ((k | 0) % 5) * 1_000_003 : i === 7 && mode === 2 ? -0 : k | 0));
      const pairs: Pair[] = column.map((k, i) => [k, i * 0.5]);
      const want = reference(pairs, ascending);
      const got = sortNumberPairs(Float64Array.from(column), Float64Array.from(pairs, (p) => p[1] as number), ascending);
      assert.equal(got.keys.length, want.length);
      want.forEach(([k, v], i) => {
        assert.ok(Object.is(got.keys[i], k), `key ${i}: ${got.keys[i]} for ${String(k)}`);
        assert.equal(got.values[i], v, `value ${i}`);
      });
    }),
    { numRuns: 300 },
  );
});
