// The reduce side of join (src/shuffle/hash-join.ts): for every kind of join and either build side, the records
// equal a naive nested-loop join of the two inputs as a multiset (keys matched by keyIdentity, as cogroup matches
// them), whether either side comes as records or as columns; the table reports when it passes its memory limit;
// a record that is not a pair is refused by name.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { inspect } from 'node:util';
import fc from 'fast-check';
import { HashJoinTable, type JoinHow, type StreamFrame } from '../../../src/shuffle/hash-join.ts';
import { keyIdentity } from '../../../src/shuffle/keys.ts';
import { pooledByteCount } from '../../../src/shuffle/column-pool.ts';
import { anyKey } from './arbitraries.ts';

type Pair = [unknown, number];

/** A joined record as a comparable string: the key's identity and the two values. */
const canonical = (id: unknown, v: unknown, w: unknown): string => inspect([id, v, w], { depth: 4 });

function naiveJoin(left: Pair[], right: Pair[], how: JoinHow): string[] {
  const out: string[] = [];
  const same = (a: unknown, b: unknown): boolean => Object.is(keyIdentity(a), keyIdentity(b));
  for (const [k, v] of left) {
    const matches = right.filter(([r]) => same(r, k));
    for (const [, w] of matches) out.push(canonical(keyIdentity(k), v, w));
    if (matches.length === 0 && (how === 'left' || how === 'full')) out.push(canonical(keyIdentity(k), v, undefined));
  }
  for (const [k, w] of right) {
    if (!left.some(([l]) => same(l, k)) && (how === 'right' || how === 'full')) out.push(canonical(keyIdentity(k), undefined, w));
  }
  return out.sort();
}

/**
 * Splits records into frames of 1–3 records, as blocks arrive: every other frame as its records, the others as
 * their keys and values in columns (as columnar frames of pairs are streamed).
 */
function* framesOf(records: Pair[]): Generator<StreamFrame> {
  let frame = 0;
  for (let at = 0; at < records.length; at += 1 + (at % 3)) {
    const slice = records.slice(at, at + 1 + (at % 3));
    yield frame++ % 2 === 0 ? slice : { keys: slice.map(([k]) => k), values: slice.map(([, v]) => v) };
  }
}

test('HashJoinTable equals a nested-loop join for every kind, with either side built (property)', () => {
  const side = fc.array(anyKey, { maxLength: 30 });
  fc.assert(
    fc.property(side, side, fc.constantFrom<JoinHow>('inner', 'left', 'right', 'full'), fc.boolean(), (leftKeys, rightKeys, how, buildIsLeft) => {
      // Values are positions (the right side's from 1000), so every output names the records it paired.
      const left: Pair[] = leftKeys.map((k, i) => [k, i]);
      const right: Pair[] = rightKeys.map((k, i) => [k, 1000 + i]);
      const table = new HashJoinTable(how, buildIsLeft, 1 << 30);
      // The build side as a shuffle read gives it, frame by frame (records and columns), or record by record.
      const build = buildIsLeft ? left : right;
      if (build.length % 2 === 0) for (const frame of framesOf(build)) assert.equal(table.addFrame(frame), true);
      else for (const record of build) assert.equal(table.add(record), true);
      // Each result is an object of its own: results kept while iterating still hold their records.
      const joined = table.probe(framesOf(buildIsLeft ? right : left));
      const kept: Array<IteratorResult<unknown>> = [];
      for (let result = joined.next(); result.done !== true; result = joined.next()) kept.push(result);
      const got = kept.map(({ value }) => {
        const [k, [v, w]] = value as [unknown, [unknown, unknown]];
        return canonical(keyIdentity(k), v, w);
      });
      assert.deepEqual(got.sort(), naiveJoin(left, right, how));
    }),
    { numRuns: 300 },
  );
});

test('int32 build keys (the open-addressing table, presized or grown) equal a nested-loop join; a later key of another kind moves them to a Map', () => {
  // Keys spread over int32, negative ones and the extremes included, with repeats; the right side is built.
  const keyOf = (i: number): number => [0, -1, 2 ** 31 - 1, -(2 ** 31)][i % 4 === 3 ? i % 16 >> 2 : 4] ?? Math.imul(i % 3001, 0x2545f491);
  const right: Pair[] = Array.from({ length: 1500 }, (_, i) => [keyOf(i), 1000 + i]);
  const left: Pair[] = Array.from({ length: 600 }, (_, i) => [keyOf(i * 7 + 1), i]);
  for (const how of ['inner', 'left', 'right', 'full'] as const) {
    for (const tail of [[], [['k', 99_999]], [[1.5, 99_998]], [[-0, 99_997]]] as Pair[][]) {
      const built = [...right, ...tail];
      // Sized for the build side's bytes (as shuffled) or grown from empty.
      const table = new HashJoinTable(how, false, 1 << 30, tail.length === 0 ? 12 * built.length : 0);
      for (const frame of framesOf(built)) assert.equal(table.addFrame(frame), true);
      const got = [...table.probe(framesOf([...left, [-0, 5000], ['k', 5001]]))].map((record) => {
        const [k, [v, w]] = record as [unknown, [unknown, unknown]];
        return canonical(keyIdentity(k), v, w);
      });
      assert.deepEqual(got.sort(), naiveJoin([...left, [-0, 5000], ['k', 5001]], built, how), `${how}, then ${inspect(tail)}`);
    }
  }
});

test('HashJoinTable: many values per key on both sides, streamed frame by frame; an early return() stops it', () => {
  const table = new HashJoinTable('inner', false, 1 << 30);
  for (let i = 0; i < 3000; i += 1) table.add([i % 100, `w${i}`]);
  const stream = function* (): Generator<Pair[]> {
    for (let f = 0; f < 10; f += 1) yield Array.from({ length: 50 }, (_, i): Pair => [(f * 50 + i) % 200, f * 50 + i]);
  };
  let count = 0;
  for (const record of table.probe(stream())) {
    const [k, [v, w]] = record as [number, [number, string]];
    assert.equal(k, v % 200);
    assert.equal(Number(w.slice(1)) % 100, k);
    count += 1;
  }
  // Of the 500 stream records (keys v % 200), the 300 with keys 0–99 match, each against 30 build values.
  assert.equal(count, 300 * 30);
  assert.throws(() => table.probe(stream()), /single use/);
  const again = new HashJoinTable('inner', false, 1 << 30);
  for (let i = 0; i < 3000; i += 1) again.add([i % 100, `w${i}`]);
  const early = again.probe(stream());
  assert.equal(early.next().done, false);
  assert.deepEqual(early.return?.(), { done: true, value: undefined });
  assert.equal(early.next().done, true);
});

test("a join's table gives its arrays back when its output ends, and the next join of its size reuses them emptied", () => {
  const n = 100_000;
  /** An inner join of n int32 keys from `offset` (build side) with `probe` (stream side); its output's keys. */
  const join = (offset: number, probe: number[], early = false): number[] => {
    const table = new HashJoinTable('inner', false, 1 << 30, n * 16);
    for (let i = 0; i < n; i += 1) table.add([offset + i, i]);
    const out = table.probe([probe.map((k): Pair => [k, -1])][Symbol.iterator]());
    if (early) {
      const first = out.next();
      out.return?.();
      return first.done === true ? [] : [(first.value as [number])[0]];
    }
    return [...out].map((record) => (record as [number])[0]);
  };
  const before = pooledByteCount();
  assert.deepEqual(join(0, [0, 7, n - 1, n]), [0, 7, n - 1]);
  const pooled = pooledByteCount();
  assert.ok(pooled - before >= 4 * 2 * n, `the keys' array went to the column pool (${before} → ${pooled} bytes)`);
  // Disjoint keys: nothing of the first join may match in the second, which took its arrays.
  assert.deepEqual(join(10 * n, [0, 7, n - 1]), []);
  assert.deepEqual(join(10 * n, [10 * n, 10 * n + 3]), [10 * n, 10 * n + 3]);
  assert.equal(pooledByteCount(), pooled, 'each table took the keys the one before gave back, and gave them back');
  // An output closed early gives them back too.
  assert.deepEqual(join(0, [5, 6], true), [5]);
  assert.equal(pooledByteCount(), pooled);
  assert.deepEqual(join(20 * n, [5, 6, 20 * n + 1]), [20 * n + 1]);
});

test('HashJoinTable: undefined values are values, on either side, in every kind of join', () => {
  const sorted = (records: unknown[]): string[] => records.map((r) => inspect(r)).sort();
  for (const buildIsLeft of [true, false]) {
    const full = new HashJoinTable('full', buildIsLeft, 1 << 20);
    const build: Array<[string, unknown]> = buildIsLeft ? [['a', undefined], ['b', undefined], ['b', 2]] : [['a', undefined], ['c', undefined]];
    for (const record of build) full.add(record);
    const stream: Array<[string, unknown]> = buildIsLeft ? [['a', undefined], ['c', undefined]] : [['a', undefined], ['b', undefined], ['b', 2]];
    const got = [...full.probe([stream][Symbol.iterator]())];
    assert.deepEqual(sorted(got), sorted([['a', [undefined, undefined]], ['b', [undefined, undefined]], ['b', [2, undefined]], ['c', [undefined, undefined]]]), `build is left: ${buildIsLeft}`);
  }
});

test('HashJoinTable.add and addFrame report the memory limit passed, and refuses a record that is not a pair', () => {
  const table = new HashJoinTable('inner', true, 64 * 1024);
  let added = 0;
  while (table.add([added, 'x'.repeat(100)]) && added < 100_000) added += 1;
  assert.ok(added > 100 && added < 2000, `${added} records fit in 64 KiB`);
  // A frame, as records or as columns, stops where the limit is passed.
  const frame = Array.from({ length: 100_000 }, (_, i): [number, string] => [i, 'x'.repeat(100)]);
  assert.equal(new HashJoinTable('inner', true, 64 * 1024).addFrame(frame), false);
  assert.equal(new HashJoinTable('inner', true, 64 * 1024).addFrame({ keys: frame.map(([k]) => k), values: frame.map(([, v]) => v) }), false);
  assert.equal(new HashJoinTable('inner', true, 1 << 30).addFrame(frame.slice(0, 1000)), true);
  assert.throws(() => new HashJoinTable('inner', true, 1 << 20).addFrame([[1, 2], 'x']), { code: 'FLINT_NOT_A_PAIR' });
  assert.throws(() => new HashJoinTable('left', false, 1 << 20).add({ key: 1 }), { code: 'FLINT_NOT_A_PAIR', message: /join needs key-value records/ });
  const probe = new HashJoinTable('left', true, 1 << 20).probe([[[1, 2, 3]]][Symbol.iterator]());
  assert.throws(() => probe.next(), { code: 'FLINT_NOT_A_PAIR' });
});
