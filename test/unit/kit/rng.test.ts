// The kit's seeded randomness (src/kit/rng.ts): the same seed and stream name give the same numbers, streams do
// not disturb each other, and the draws stay in range and spread evenly.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Alea, RngStreams, rngFrom } from '../../../src/kit/rng.ts';

const draws = (rng: { next(): number }, n: number): number[] => Array.from({ length: n }, () => rng.next());

test('one seed and one stream name give the same sequence in every process', () => {
  assert.deepEqual(draws(new RngStreams(42).stream('master.shuffle'), 50), draws(new RngStreams('42').stream('master.shuffle'), 50));
  assert.notDeepEqual(draws(new RngStreams(42).stream('master.shuffle'), 50), draws(new RngStreams(43).stream('master.shuffle'), 50));
  assert.notDeepEqual(draws(new RngStreams(42).stream('master.shuffle'), 50), draws(new RngStreams(42).stream('worker.registration'), 50));
});

test('a draw from one stream does not shift another', () => {
  const quiet = new RngStreams('s');
  const busy = new RngStreams('s');
  for (let i = 0; i < 1000; i++) busy.stream('sim.faults').next();
  assert.deepEqual(draws(busy.stream('sim.network'), 20), draws(quiet.stream('sim.network'), 20));
  // Asking for a stream again carries on where it was.
  const again = new RngStreams('s');
  const first = again.stream('test.a').next();
  assert.notEqual(again.stream('test.a').next(), first);
  assert.equal(again.stream('test.a'), again.stream('test.a'));
});

test('next() is in [0, 1) and nextInt(n) in [0, n), spread evenly', () => {
  const rng = new Alea('spread');
  const buckets = new Array<number>(10).fill(0);
  const n = 100_000;
  for (let i = 0; i < n; i++) {
    const x = rng.next();
    assert.ok(x >= 0 && x < 1, `next() gave ${x}`);
    const k = rng.nextInt(10);
    assert.ok(Number.isInteger(k) && k >= 0 && k < 10, `nextInt(10) gave ${k}`);
    buckets[k]! += 1;
  }
  // Chi-square with 9 degrees of freedom: 27.9 is the 0.1 % tail.
  const expected = n / 10;
  const chi2 = buckets.reduce((sum, b) => sum + (b - expected) ** 2 / expected, 0);
  assert.ok(chi2 < 27.9, `chi-square ${chi2.toFixed(1)} over ${JSON.stringify(buckets)}`);
  assert.equal(rng.nextInt(1), 0);
});

test('nextInt refuses a bound that is not a positive safe integer', () => {
  const rng = new Alea('bounds');
  for (const bad of [0, -1, 1.5, Number.NaN, Infinity, 2 ** 53]) assert.throws(() => rng.nextInt(bad), RangeError, String(bad));
});

test('rngFrom scales a scripted next() for nextInt', () => {
  const script = [0, 0.5, 0.999];
  const rng = rngFrom(() => script.shift() ?? 0);
  assert.deepEqual([rng.nextInt(4), rng.nextInt(4), rng.nextInt(4)], [0, 2, 3]);
});
