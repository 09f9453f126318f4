// Aggregators (src/shuffle/aggregator.ts) and size estimates (src/shuffle/size-estimate.ts): Spark's combiner
// semantics for groupByKey/reduceByKey/foldByKey/aggregateByKey/combineByKey, a fresh zero per key, and
// FLINT_ASYNC_COMBINER for a function that returns a promise.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  aggregateAggregator,
  combineAggregator,
  foldAggregator,
  groupAggregator,
  reduceAggregator,
} from '../../../src/shuffle/aggregator.ts';
import type { Aggregator } from '../../../src/shuffle/aggregator.ts';
import { SizeTracker, estimateSize } from '../../../src/shuffle/size-estimate.ts';

/** Combines `values` split into two map-side combiners, merged as the reduce side does. */
function combine(agg: Aggregator, values: unknown[]): unknown {
  const half = Math.ceil(values.length / 2);
  const side = (vs: unknown[]): unknown => vs.slice(1).reduce((c, v) => agg.mergeValue(c, v), agg.createCombiner(vs[0]));
  return values.length <= half ? side(values) : agg.mergeCombiners(side(values.slice(0, half)), side(values.slice(half)));
}

test('the built-ins combine as Spark does', () => {
  assert.deepEqual(combine(groupAggregator, [1, 2, 3, 4, 5]), [1, 2, 3, 4, 5]);
  assert.equal(combine(reduceAggregator((a: number, b: number) => a + b), [1, 2, 3, 4]), 10);
  assert.equal(combine(foldAggregator(100, (a: number, b: number) => a + b), [1, 2, 3, 4]), 210, 'zero once per combiner');
  const avg = aggregateAggregator<[number, number], number>([0, 0], ([s, n], v) => [s + v, n + 1], ([s1, n1], [s2, n2]) => [s1 + s2, n1 + n2]);
  assert.deepEqual(combine(avg, [2, 4, 6]), [12, 3]);
  const sets = combineAggregator(
    (v: string) => new Set([v]),
    (c: Set<string>, v: string) => c.add(v),
    (a: Set<string>, b: Set<string>) => new Set([...a, ...b]),
  );
  assert.deepEqual(combine(sets, ['a', 'b', 'a']), new Set(['a', 'b']));
});

test('a mutable zero is copied for each key, so keys never share an accumulator', () => {
  const agg = foldAggregator<number[]>([], (acc, v) => {
    acc.push(...v);
    return acc;
  });
  const a = agg.createCombiner([1]);
  const b = agg.createCombiner([2]);
  assert.deepEqual([a, b], [[1], [2]]);
  const counts = aggregateAggregator<Map<string, number>, string>(
    new Map(),
    (m, w) => m.set(w, (m.get(w) ?? 0) + 1),
    (x, y) => new Map([...x, ...y]),
  );
  assert.deepEqual(counts.createCombiner('x'), new Map([['x', 1]]));
  assert.deepEqual(counts.createCombiner('y'), new Map([['y', 1]]));
});

/** An async function passed where TypeScript would refuse it, as plain JavaScript apps can. */
const untyped = (fn: unknown): never => fn as never;

test('a combiner function that returns a promise fails with FLINT_ASYNC_COMBINER', async () => {
  const expected = { code: 'FLINT_ASYNC_COMBINER', message: /the reduce function of reduceByKey returned a promise.*must be synchronous/ };
  assert.throws(() => reduceAggregator(untyped(async (a: number, b: number) => a + b)).mergeValue(1, 2), expected);
  assert.throws(() => foldAggregator(0, untyped(() => Promise.reject(new Error('x')))).createCombiner(1), { code: 'FLINT_ASYNC_COMBINER', message: /fold function of foldByKey/ });
  assert.throws(() => aggregateAggregator(0, (a: number) => a, untyped(async (a: number) => a)).mergeCombiners(1, 2), { message: /combOp function of aggregateByKey/ });
  assert.throws(() => combineAggregator(untyped(async (v: number) => v), (c: number) => c, (a: number) => a).createCombiner(1), { message: /createCombiner function of combineByKey/ });
  // The abandoned promise's rejection is handled (no unhandledRejection).
  await new Promise((resolve) => setImmediate(resolve));
});

test('estimateSize: cheap, roughly proportional, bounded on deep or huge values', () => {
  assert.equal(estimateSize(1), 8);
  assert.equal(estimateSize('abcd'), 24);
  assert.ok(estimateSize('x'.repeat(1000)) > 2000);
  assert.ok(estimateSize(['a', 1]) > estimateSize(['a']));
  assert.ok(estimateSize({ a: 'xx', b: [1, 2] }) > 40);
  assert.ok(estimateSize(new Map([[1, 'a']])) > 48);
  const huge = Array.from({ length: 1_000_000 }, (_, i) => i);
  const started = performance.now();
  for (let i = 0; i < 1000; i += 1) estimateSize(huge);
  assert.ok(performance.now() - started < 500, 'a large array is sampled, not walked');
  assert.ok(Math.abs(estimateSize(huge) - 16_000_016) < 1000);
  let deep: unknown = 1;
  for (let i = 0; i < 10_000; i += 1) deep = [deep];
  assert.ok(estimateSize(deep) < 1000);
});

test('SizeTracker measures one insert in 64 and follows growing items', () => {
  const tracker = new SizeTracker(16);
  assert.equal(tracker.observe('abcd'), 40);
  for (let i = 1; i < 64; i += 1) assert.equal(tracker.observe('x'.repeat(1000)), 40, 'not measured between samples');
  assert.ok(tracker.observe('x'.repeat(1000)) > 40);
});
