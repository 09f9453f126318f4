// Partitioners (src/shuffle/partitioners.ts), after Spark's PartitionerSuite: hash partitions are hashKey mod n;
// a range partitioner puts sorted keys in non-decreasing partitions (non-increasing when descending), with
// partition i holding the keys up to bounds[i]; determineBounds balances weights; reservoir sampling is uniform
// in size and deterministic for a seed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { inspect } from 'node:util';
import fc from 'fast-check';
import { compareKeys, hashKey } from '../../../src/shuffle/keys.ts';
import { determineBounds, partitionerOf, rangeSampleSizePerPartition, reservoirSample } from '../../../src/shuffle/partitioners.ts';
import { anyKey } from './arbitraries.ts';

test('hash partitioner: hashKey mod partitions, equal keys together', () => {
  const p = partitionerOf({ kind: 'hash', partitions: 7 });
  for (const key of ['a', 1, -0, 0, [1, 2], null]) assert.equal(p(key), hashKey(key) % 7);
  assert.equal(p(-0), p(0));
  assert.equal(partitionerOf({ kind: 'hash', partitions: 1 })('x'), 0);
  assert.throws(() => partitionerOf({ kind: 'hash', partitions: 0 }), /positive integer number of partitions, got 0/);
});

test('range partitioner: partition i holds the keys in (bounds[i-1], bounds[i]]; descending flips', () => {
  const up = partitionerOf({ kind: 'range', partitions: 4, bounds: [10, 20, 30], ascending: true });
  assert.deepEqual([-5, 10, 11, 20, 25, 30, 31, NaN].map(up), [0, 0, 1, 1, 2, 2, 3, 3]);
  const down = partitionerOf({ kind: 'range', partitions: 4, bounds: [10, 20, 30], ascending: false });
  assert.deepEqual([-5, 10, 11, 20, 25, 30, 31].map(down), [3, 3, 2, 2, 1, 1, 0]);
  assert.equal(partitionerOf({ kind: 'range', partitions: 3, bounds: [], ascending: true })('x'), 0);
  assert.throws(() => partitionerOf({ kind: 'range', partitions: 2, bounds: [1, 2], ascending: true }), /at most 1 bounds, got 2/);
});

test('range partitioner: sorted keys land in non-decreasing partitions (property)', () => {
  fc.assert(
    fc.property(fc.array(anyKey, { maxLength: 40 }), fc.array(anyKey, { maxLength: 60 }), fc.integer({ min: 1, max: 8 }), fc.boolean(), (sample, keys, partitions, ascending) => {
      const bounds = determineBounds(sample.map((k) => [k, 1] as const), partitions);
      const p = partitionerOf({ kind: 'range', partitions, bounds, ascending });
      const sorted = keys.map((key) => ({ key })).sort((a, b) => compareKeys(a.key, b.key));
      let previous = ascending ? 0 : bounds.length;
      for (const { key } of sorted) {
        const part = p(key);
        assert.ok(part >= 0 && part <= bounds.length && part < partitions);
        assert.ok(ascending ? part >= previous : part <= previous, `partitions must follow key order`);
        previous = part;
      }
    }),
    { numRuns: 300 },
  );
});

test('range partitioner over number bounds places every key as compareKeys orders it, numbers or not (property)', () => {
  const number = fc.oneof(fc.integer({ min: -20, max: 20 }), fc.double(), fc.constantFrom(0, -0, NaN, Infinity, -Infinity, 2 ** 31));
  fc.assert(
    fc.property(fc.array(number, { maxLength: 12 }), fc.array(fc.oneof(number, anyKey), { maxLength: 40 }), fc.boolean(), (sample, keys, ascending) => {
      const bounds = determineBounds(sample.map((k) => [k, 1] as const), 8);
      const p = partitionerOf({ kind: 'range', partitions: 8, bounds, ascending });
      for (const key of keys) {
        // The reference: how many bounds the key is above, by compareKeys.
        const below = bounds.filter((b) => compareKeys(key, b) > 0).length;
        assert.equal(p(key), ascending ? below : bounds.length - below, `key ${inspect(key)} with bounds ${inspect(bounds)}`);
      }
    }),
    { numRuns: 300 },
  );
});

test('determineBounds: strictly increasing, at most partitions − 1, balancing weight', () => {
  const even = Array.from({ length: 1000 }, (_, i) => [i, 1] as const);
  assert.deepEqual(determineBounds(even, 4), [249, 499, 749]);
  // Spark's "RangePartitioner.determineBounds" example: weights shift the bounds.
  assert.deepEqual(
    determineBounds([[0.7, 2], [0.1, 1], [0.4, 1], [0.3, 1], [0.2, 1], [0.5, 1], [1.0, 3]], 3),
    [0.4, 0.7],
  );
  assert.deepEqual(determineBounds([['a', 1], ['a', 1], ['a', 1], ['b', 1]], 4), ['a', 'b']);
  assert.deepEqual(determineBounds([], 5), []);
  fc.assert(
    fc.property(fc.array(fc.tuple(fc.integer({ min: 0, max: 1000 }), fc.integer({ min: 1, max: 5 })), { maxLength: 300 }), fc.integer({ min: 1, max: 10 }), (candidates, partitions) => {
      const bounds = determineBounds(candidates, partitions);
      assert.ok(bounds.length <= partitions - 1);
      for (let i = 1; i < bounds.length; i += 1) assert.ok(compareKeys(bounds[i - 1], bounds[i]) < 0);
      // Balance: every partition but the last gets at most one step's weight plus the weight of one key.
      const total = candidates.reduce((s, [, w]) => s + w, 0);
      const p = partitionerOf({ kind: 'range', partitions, bounds, ascending: true });
      const weights = new Array<number>(partitions).fill(0);
      const perKey = new Map<number, number>();
      for (const [k, w] of candidates) {
        weights[p(k)] = (weights[p(k)] as number) + w;
        perKey.set(k, (perKey.get(k) ?? 0) + w);
      }
      const heaviestKey = Math.max(0, ...perKey.values());
      for (let i = 0; i < bounds.length; i += 1) assert.ok((weights[i] as number) <= total / partitions + heaviestKey + 1e-9);
    }),
    { numRuns: 300 },
  );
});

test('reservoirSample: k items (or all), the count, deterministic for a seed, roughly uniform', () => {
  const items = Array.from({ length: 1000 }, (_, i) => i);
  const a = reservoirSample(items, 10, 42);
  assert.equal(a.count, 1000);
  assert.equal(a.sample.length, 10);
  assert.deepEqual(reservoirSample(items, 10, 42), a);
  assert.notDeepEqual(reservoirSample(items, 10, 43).sample, a.sample);
  assert.equal(new Set(a.sample).size, 10);
  assert.deepEqual(reservoirSample([1, 2, 3], 10, 1), { sample: [1, 2, 3], count: 3 });
  assert.deepEqual(reservoirSample(new Set([1, 2]), 0, 1), { sample: [], count: 2 });
  // Each item is picked with probability k / n: over many seeds, the first and last tenth get similar shares.
  let low = 0;
  let high = 0;
  for (let seed = 0; seed < 300; seed += 1) {
    for (const x of reservoirSample(items, 20, seed).sample) {
      if (x < 100) low += 1;
      if (x >= 900) high += 1;
    }
  }
  assert.ok(low > 450 && low < 750 && high > 450 && high < 750, `low ${low}, high ${high} (600 expected each)`);
});

test('rangeSampleSizePerPartition: Spark sampleSize = min(20 × partitions, 1e6), 3× over the parents', () => {
  assert.equal(rangeSampleSizePerPartition(10, 4), 150);
  assert.equal(rangeSampleSizePerPartition(200, 1000), 12);
  assert.equal(rangeSampleSizePerPartition(100_000, 3), 1_000_000);
});
