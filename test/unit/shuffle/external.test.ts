// The reduce side (src/shuffle/external-aggregator.ts, external-sorter.ts), after Spark's
// ExternalAppendOnlyMapSuite and ExternalSorterSuite: under tiny memory limits (many spills) the results equal
// plain evaluation, the sort is stable, memory stays bounded, and spill files are gone afterwards.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { groupAggregator, reduceAggregator } from '../../../src/shuffle/aggregator.ts';
import { ExternalAggregator } from '../../../src/shuffle/external-aggregator.ts';
import { ExternalSorter } from '../../../src/shuffle/external-sorter.ts';
import { compareKeys } from '../../../src/shuffle/keys.ts';
import { decodeRecord, encodeRecord } from '../../../src/task/record-codec.ts';
import { anyKey, filesIn, groupNaively, sameKey, withTempDir } from './arbitraries.ts';

type Pair = [unknown, unknown];

const roundTrip = <T>(value: T): T => decodeRecord(encodeRecord(value)) as T;
const memoryLimit = fc.constantFrom(1, 300, 5000, 1 << 20);
const pairs = fc.array(fc.tuple(anyKey, fc.integer({ min: -5, max: 5 })), { maxLength: 300 });

/** Puts `entries` in the naive grouping's key order, checking each key comes once. */
function byGroupOrder(entries: Pair[], groups: Array<[unknown, unknown[]]>): Pair[] {
  assert.equal(entries.length, groups.length, 'each key exactly once');
  return groups.map(([k]) => {
    const found = entries.filter(([e]) => sameKey(e, k));
    assert.equal(found.length, 1);
    return found[0] as Pair;
  });
}

test('ExternalAggregator equals plain grouping and reduction under any memory limit (property)', () => {
  fc.assert(
    fc.property(pairs, memoryLimit, fc.boolean(), (input, limit, group) => {
      withTempDir((dir) => {
        const aggregator = group ? groupAggregator : reduceAggregator((a: number, b: number) => a + b);
        const agg = new ExternalAggregator({ aggregator, inputIsCombiners: false, spillDir: dir, memoryLimitBytes: limit });
        for (const record of roundTrip(input)) agg.insert(record);
        if (limit === 1 && input.length >= 64) assert.ok(agg.spills >= 2);
        const groups = groupNaively(roundTrip(input));
        const want = groups.map(([k, vs]) => [k, group ? vs : (vs as number[]).reduce((a, b) => a + b)]);
        const got = byGroupOrder([...agg.entries()], groups);
        // Grouped values come back in insertion order: spills are merged oldest first.
        assert.deepStrictEqual(got, want);
        assert.deepEqual(filesIn(dir), []);
      });
    }),
    { numRuns: 120 },
  );
});

test('ExternalAggregator with combiners as input merges them (the reduce side of a map-side combine)', () => {
  withTempDir((dir) => {
    const agg = new ExternalAggregator({ aggregator: groupAggregator, inputIsCombiners: true, spillDir: dir, memoryLimitBytes: 1 });
    for (let i = 0; i < 3000; i += 1) agg.insert([i % 100, [i]]);
    assert.ok(agg.spills > 10);
    const entries = new Map([...agg.entries()]);
    assert.equal(entries.size, 100);
    assert.deepEqual(entries.get(7), Array.from({ length: 30 }, (_, j) => 7 + 100 * j));
    assert.deepEqual(filesIn(dir), []);
  });
});

test('ExternalAggregator bounds memory: 200k records with a 64 KiB limit spill many times', () => {
  withTempDir((dir) => {
    const agg = new ExternalAggregator({ aggregator: reduceAggregator((a: number, b: number) => a + b), inputIsCombiners: false, spillDir: dir, memoryLimitBytes: 64 * 1024 });
    for (let i = 0; i < 200_000; i += 1) agg.insert([`w${i % 50_000}`, 1]);
    assert.ok(agg.spills >= 20, `${agg.spills} spills`);
    assert.ok(agg.spilledBytes > 0);
    let keys = 0;
    for (const [, count] of agg.entries()) {
      assert.equal(count, 4);
      keys += 1;
    }
    assert.equal(keys, 50_000);
    assert.deepEqual(filesIn(dir), []);
  });
});

test('ExternalAggregator: abandoning entries() or calling cleanup() deletes the spills', () => {
  withTempDir((dir) => {
    const agg = new ExternalAggregator({ aggregator: groupAggregator, inputIsCombiners: false, spillDir: dir, memoryLimitBytes: 1 });
    for (let i = 0; i < 500; i += 1) agg.insert([i, i]);
    const it = agg.entries();
    it.next();
    it.return(undefined);
    assert.deepEqual(filesIn(dir), []);
    assert.throws(() => agg.insert([1, 1]), /after entries\(\) or cleanup\(\)/);
    const other = new ExternalAggregator({ aggregator: groupAggregator, inputIsCombiners: false, spillDir: dir, memoryLimitBytes: 1 });
    for (let i = 0; i < 500; i += 1) other.insert([i, i]);
    other.cleanup();
    assert.deepEqual(filesIn(dir), []);
    assert.throws(() => other.insert(['x'] as unknown as Pair), { code: 'FLINT_NOT_A_PAIR' });
  });
});

/** `records` sorted by key with compareKeys, equal keys in their order (Array.prototype.sort is stable). */
const stableSortedByKey = (records: Pair[], ascending: boolean): Pair[] =>
  [...records].sort((a, b) => (ascending ? compareKeys(a[0], b[0]) : compareKeys(b[0], a[0])));

test('ExternalSorter: a stable sort by key under any memory limit, either direction (property)', () => {
  fc.assert(
    fc.property(pairs, memoryLimit, fc.boolean(), (input, limit, ascending) => {
      withTempDir((dir) => {
        const sorter = new ExternalSorter({ compare: compareKeys, ascending, spillDir: dir, memoryLimitBytes: limit });
        // Values are insertion positions, so stability is visible.
        const records = roundTrip(input).map(([k], i) => [k, i] as Pair);
        for (const record of records) sorter.insert(record);
        assert.deepStrictEqual([...sorter.sorted()], stableSortedByKey(records, ascending));
        assert.deepEqual(filesIn(dir), []);
      });
    }),
    { numRuns: 120 },
  );
});

test('ExternalSorter: number pairs inserted as columns (overwritten after), mixed with records, equal the stable sort (property)', () => {
  const numberKey = fc.oneof(fc.integer({ min: -50, max: 50 }), fc.double({ noNaN: false }), fc.constantFrom(0, -0, 2 ** 31, -(2 ** 31) - 1));
  const batch = fc.record({ keys: fc.array(numberKey, { maxLength: 80 }), asColumns: fc.boolean(), int32Values: fc.boolean() });
  fc.assert(
    fc.property(fc.array(batch, { maxLength: 8 }), fc.constantFrom(1, 5000, 1 << 20), fc.boolean(), fc.constantFrom(undefined, 0, 96, 1 << 20), (batches, limit, ascending, expectedBytes) => {
      withTempDir((dir) => {
        // expectedBytes reserves the number columns up front (within the limit): any value, right or wrong.
        const sorter = new ExternalSorter({ compare: compareKeys, ascending, spillDir: dir, memoryLimitBytes: limit, ...(expectedBytes === undefined ? {} : { expectedBytes }) });
        const records: Pair[] = [];
        for (const { keys, asColumns, int32Values } of batches) {
          // Values are insertion positions, so stability is visible.
          const values = keys.map((_, i) => records.length + i);
          keys.forEach((k, i) => records.push([k, values[i]]));
          if (!asColumns) for (let i = 0; i < keys.length; i += 1) sorter.insert([keys[i], values[i]]);
          else {
            const keyColumn = Float64Array.from(keys);
            const valueColumn = int32Values ? Int32Array.from(values) : values;
            sorter.insertNumberPairs(keyColumn, valueColumn);
            // The columns may be views of a read buffer that is reused for the next frame: overwritten here.
            keyColumn.fill(7);
            valueColumn.fill(7);
          }
        }
        // Each result is an object of its own: results kept while iterating still hold their records.
        const sorted = sorter.sorted();
        const kept: Array<IteratorResult<Pair>> = [];
        for (let result = sorted.next(); result.done !== true; result = sorted.next()) kept.push(result);
        assert.deepStrictEqual(
          kept.map((result) => result.value),
          stableSortedByKey(records, ascending),
        );
        assert.deepEqual(filesIn(dir), []);
      });
    }),
    { numRuns: 150 },
  );
});

test('ExternalSorter: 300k number pairs as columns under a 64 KiB limit spill many times and merge in order', () => {
  withTempDir((dir) => {
    const sorter = new ExternalSorter({ compare: compareKeys, ascending: false, spillDir: dir, memoryLimitBytes: 64 * 1024 });
    const n = 300_000;
    for (let at = 0; at < n; at += 10_000) {
      const keys = Float64Array.from({ length: 10_000 }, (_, i) => ((at + i) * 48271) % 1000);
      const values = Int32Array.from({ length: 10_000 }, (_, i) => at + i);
      sorter.insertNumberPairs(keys, values);
    }
    assert.ok(sorter.spills >= 20, `${sorter.spills} runs`);
    let previous: Pair = [Infinity, -1];
    let count = 0;
    for (const record of sorter.sorted()) {
      assert.ok((record[0] as number) < (previous[0] as number) || (record[0] === previous[0] && (record[1] as number) > (previous[1] as number)), 'sorted and stable');
      previous = record;
      count += 1;
    }
    assert.equal(count, n);
    assert.deepEqual(filesIn(dir), []);
  });
});

test('ExternalSorter: number and string keys (fast comparators), custom comparators, many runs', () => {
  withTempDir((dir) => {
    const n = 20_000;
    const numbers = new ExternalSorter({ compare: compareKeys, ascending: true, spillDir: dir, memoryLimitBytes: 16 * 1024 });
    for (let i = 0; i < n; i += 1) numbers.insert([(i * 7919) % 1000, i]);
    assert.ok(numbers.spills >= 10, `${numbers.spills} runs`);
    let previous: Pair = [-1, -1];
    let count = 0;
    for (const record of numbers.sorted()) {
      assert.ok((record[0] as number) > (previous[0] as number) || (record[0] === previous[0] && (record[1] as number) > (previous[1] as number)), 'sorted and stable');
      previous = record;
      count += 1;
    }
    assert.equal(count, n);
    const byLength = new ExternalSorter({ compare: (a, b) => (a as string).length - (b as string).length, ascending: false, spillDir: dir, memoryLimitBytes: 1 });
    for (const w of ['a', 'ccc', 'bb', 'dd', 'e']) byLength.insert([w, null]);
    assert.deepEqual([...byLength.sorted()].map(([k]) => k), ['ccc', 'bb', 'dd', 'a', 'e']);
    const strings = new ExternalSorter({ compare: compareKeys, ascending: false, spillDir: dir, memoryLimitBytes: 1 << 20 });
    for (const w of ['b', 'a', 'c', 'b']) strings.insert([w, 0]);
    assert.deepEqual([...strings.sorted()].map(([k]) => k), ['c', 'b', 'b', 'a']);
    const nan = new ExternalSorter({ compare: compareKeys, ascending: true, spillDir: dir, memoryLimitBytes: 1 << 20 });
    for (const k of [3, NaN, 1, -0]) nan.insert([k, 0]);
    assert.deepEqual([...nan.sorted()].map(([k]) => k), [-0, 1, 3, NaN]);
    assert.deepEqual(filesIn(dir), []);
  });
});

test('ExternalSorter bounds memory: 200k records with a 64 KiB limit spill many times', () => {
  withTempDir((dir) => {
    const sorter = new ExternalSorter({ compare: compareKeys, ascending: true, spillDir: dir, memoryLimitBytes: 64 * 1024 });
    for (let i = 0; i < 200_000; i += 1) sorter.insert([`k${(i * 48271) % 200_000}`, i]);
    assert.ok(sorter.spills >= 20, `${sorter.spills} runs`);
    let previous = '';
    let count = 0;
    for (const [k] of sorter.sorted()) {
      assert.ok((k as string) >= previous);
      previous = k as string;
      count += 1;
    }
    assert.equal(count, 200_000);
    assert.deepEqual(filesIn(dir), []);
  });
});
