// The map side (src/shuffle/shuffle-writer.ts, index-file.ts), after Spark's SortShuffleWriterSuite and
// IndexShuffleBlockResolverSuite: whatever the memory limit (and so however many spills), each reduce partition's
// block holds exactly its records (in insertion order without an aggregator; combined per key with one), the
// index offsets match the data file, commit is atomic (a second attempt keeps the first's output), and no
// temporary or spill file is left behind, after commit or abort.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { statSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { groupAggregator, reduceAggregator } from '../../../src/shuffle/aggregator.ts';
import type { Aggregator } from '../../../src/shuffle/aggregator.ts';
import { readFramesFromFile } from '../../../src/shuffle/frames.ts';
import { hashKey, keyIdentity } from '../../../src/shuffle/keys.ts';
import { partitionerOf } from '../../../src/shuffle/partitioners.ts';
import { ShuffleWriter, blockRange, readIndex, shuffleFileNames } from '../../../src/shuffle/shuffle-writer.ts';
import type { MapOutput, ShuffleWriteOptions } from '../../../src/shuffle/shuffle-writer.ts';
import { decodeRecord, encodeRecord } from '../../../src/task/record-codec.ts';
import { anyKey, filesIn, groupNaively, sameKey, withTempDir } from './arbitraries.ts';

function writer(dir: string, opts: Partial<ShuffleWriteOptions> = {}): ShuffleWriter {
  const numPartitions = opts.numPartitions ?? 3;
  return new ShuffleWriter({
    dir,
    shuffleId: 1,
    mapId: 2,
    attemptId: 0,
    numPartitions,
    partition: partitionerOf({ kind: 'hash', partitions: numPartitions }),
    memoryLimitBytes: 1 << 20,
    ...opts,
  });
}

function write(dir: string, records: unknown[], opts: Partial<ShuffleWriteOptions> = {}): MapOutput {
  const w = writer(dir, opts);
  for (const r of records) w.insert(r);
  return w.commit();
}

/** The records of reduce partition r, read back through the index (in small chunks, unless told). */
function block(output: MapOutput, r: number, chunkBytes = 100): unknown[] {
  const { offset, length } = blockRange(output.indexPath, r);
  return [...readFramesFromFile(output.dataPath, offset, length, chunkBytes)].flat();
}

/** Merges a block's [key, combiner] records (a key appears once per spill) with mergeCombiners. */
function mergeBlock(agg: Aggregator, records: unknown[]): Array<[unknown, unknown]> {
  const merged: Array<[unknown, unknown]> = [];
  for (const [k, c] of records as Array<[unknown, unknown]>) {
    const entry = merged.find(([g]) => sameKey(g, k));
    if (entry === undefined) merged.push([k, c]);
    else entry[1] = agg.mergeCombiners(entry[1], c);
  }
  return merged;
}

function checkIndex(output: MapOutput, partitions: number): void {
  const offsets = readIndex(output.indexPath);
  assert.equal(offsets.length, partitions + 1);
  assert.equal(offsets[0], 0);
  for (let r = 0; r < partitions; r += 1) assert.equal((offsets[r + 1] as number) - (offsets[r] as number), output.sizes[r]);
  assert.equal(offsets[partitions], statSync(output.dataPath).size);
}

const records = fc.array(fc.tuple(anyKey, fc.integer({ min: -5, max: 5 })), { maxLength: 250 });
const memoryLimit = fc.constantFrom(1, 200, 4000, 1 << 20);

test('without an aggregator: every partition holds its records in insertion order, any spills (property)', () => {
  fc.assert(
    fc.property(records, fc.integer({ min: 1, max: 5 }), memoryLimit, (input, partitions, limit) => {
      withTempDir((dir) => {
        const output = write(dir, input, { numPartitions: partitions, memoryLimitBytes: limit });
        const expected = decodeRecord(encodeRecord(input)) as Array<[unknown, unknown]>;
        for (let r = 0; r < partitions; r += 1) {
          assert.deepStrictEqual(block(output, r), expected.filter(([k]) => hashKey(k) % partitions === r));
        }
        checkIndex(output, partitions);
        assert.equal(output.records, input.length);
        assert.equal(output.reusedExisting, false);
        if (limit === 1 && input.length >= 64) assert.ok(output.spills >= 2, `${output.spills} spills`);
        assert.deepEqual(filesIn(dir), ['shuffle_1_2_0.data', 'shuffle_1_2_0.index']);
      });
    }),
    { numRuns: 100 },
  );
});

test('with an aggregator: each partition combines to the naive grouping, any spills (property)', () => {
  fc.assert(
    fc.property(records, fc.integer({ min: 1, max: 4 }), memoryLimit, fc.boolean(), (input, partitions, limit, group) => {
      withTempDir((dir) => {
        const aggregator = group ? groupAggregator : reduceAggregator((a: number, b: number) => a + b);
        const output = write(dir, input, { numPartitions: partitions, memoryLimitBytes: limit, aggregator });
        const expected = groupNaively(decodeRecord(encodeRecord(input)) as Array<[unknown, unknown]>);
        let written = 0;
        for (let r = 0; r < partitions; r += 1) {
          const blockRecords = block(output, r);
          written += blockRecords.length;
          const want = expected
            .filter(([k]) => hashKey(k) % partitions === r)
            .map(([k, vs]) => [k, group ? vs : (vs as number[]).reduce((a, b) => a + b)]);
          assert.deepStrictEqual(mergeBlock(aggregator, blockRecords), want);
        }
        assert.equal(output.records, written);
        if (limit === 1 << 20) assert.equal(written, expected.length, 'without spills, one record per key');
        checkIndex(output, partitions);
        assert.deepEqual(filesIn(dir), ['shuffle_1_2_0.data', 'shuffle_1_2_0.index']);
      });
    }),
    { numRuns: 100 },
  );
});

test("with an aggregator: a string key that spells another key's identity stays its own key", () => {
  withTempDir((dir) => {
    // keys.ts: [1]'s identity is a string starting with NUL; string keys are combined in a table of their own.
    const spelled = keyIdentity([1]) as string;
    const escaped = keyIdentity('\u0000e') as string;
    const input: Array<[unknown, number]> = [[[1], 1], [spelled, 10], [[1], 2], [spelled, 20], ['\u0000e', 100], [escaped, 1000], ['\u0000e', 200]];
    const output = write(dir, input, { numPartitions: 1, aggregator: reduceAggregator((a: number, b: number) => a + b) });
    assert.deepStrictEqual(block(output, 0), [[[1], 3], [spelled, 30], ['\u0000e', 300], [escaped, 1000]]);
  });
});

test('memory stays bounded: 200k records under a 64 KiB limit spill many times', () => {
  withTempDir((dir) => {
    const input = Array.from({ length: 200_000 }, (_, i) => [`key${i % 5000}`, i]);
    const plain = write(dir, input, { numPartitions: 8, memoryLimitBytes: 64 * 1024 });
    assert.ok(plain.spills >= 20, `${plain.spills} spills`);
    assert.equal(plain.records, 200_000);
    assert.equal(plain.sizes.reduce((a, b) => a + b), statSync(plain.dataPath).size);
    assert.equal([0, 1, 2, 3, 4, 5, 6, 7].reduce((n, r) => n + block(plain, r, 1 << 20).length, 0), 200_000);
  });
  withTempDir((dir) => {
    const input = Array.from({ length: 200_000 }, (_, i) => [`key${i}`, 1]);
    const combined = write(dir, input, { numPartitions: 8, memoryLimitBytes: 64 * 1024, aggregator: reduceAggregator((a: number, b: number) => a + b) });
    assert.ok(combined.spills >= 20, `${combined.spills} spills`);
    assert.equal(combined.records, 200_000);
  });
});

test('commit is atomic: a second attempt keeps the first output; a broken one is replaced', () => {
  withTempDir((dir) => {
    const first = write(dir, [['a', 1], ['b', 2]], { attemptId: 1 });
    const firstBytes = statSync(first.dataPath).size;
    const second = write(dir, [['a', 1], ['b', 2], ['c', 3]], { attemptId: 2, memoryLimitBytes: 1 });
    assert.equal(second.reusedExisting, true);
    assert.deepEqual(second.sizes, first.sizes);
    assert.equal(statSync(second.dataPath).size, firstBytes);
    assert.deepEqual(filesIn(dir), ['shuffle_1_2_0.data', 'shuffle_1_2_0.index']);
    // A data file that does not match its index (a crash, a full disk) is not reused.
    truncateSync(first.dataPath, 3);
    const third = write(dir, [['z', 9]], { attemptId: 3 });
    assert.equal(third.reusedExisting, false);
    assert.deepEqual([0, 1, 2].flatMap((r) => block(third, r)), [['z', 9]]);
    assert.deepEqual(filesIn(dir), ['shuffle_1_2_0.data', 'shuffle_1_2_0.index']);
  });
});

test("file names are Spark's; blockRange reads one partition's offsets", () => {
  assert.deepEqual(shuffleFileNames(3, 7), { data: 'shuffle_3_7_0.data', index: 'shuffle_3_7_0.index' });
  withTempDir((dir) => {
    const output = write(dir, [], { numPartitions: 4 });
    assert.deepEqual(output.sizes, [0, 0, 0, 0]);
    assert.deepEqual(readIndex(output.indexPath), [0, 0, 0, 0, 0]);
    assert.deepEqual(blockRange(output.indexPath, 3), { offset: 0, length: 0 });
    assert.throws(() => blockRange(output.indexPath, 4), /indexes 4 reduce partitions; there is no partition 4/);
    writeFileSync(join(dir, 'bad.index'), new Uint8Array(12));
    assert.throws(() => readIndex(join(dir, 'bad.index')), { code: 'FLINT_SHUFFLE_CORRUPT', message: /has 12 bytes/ });
  });
});

test('abort deletes spills and leaves nothing; the writer refuses use after commit or abort', () => {
  withTempDir((dir) => {
    const w = writer(dir, { memoryLimitBytes: 1 });
    for (let i = 0; i < 500; i += 1) w.insert([i, i]);
    assert.ok(filesIn(dir).length > 0, 'it spilled');
    w.abort();
    w.abort();
    assert.deepEqual(filesIn(dir), []);
    assert.throws(() => w.insert([1, 1]), /insert after abort of the shuffle writer of shuffle 1 map 2 attempt 0/);
    assert.throws(() => w.commit(), /commit after abort/);
    const c = writer(dir);
    c.commit();
    assert.throws(() => c.commit(), /commit after commit/);
  });
});

test('a record that is not a [key, value] pair fails with FLINT_NOT_A_PAIR naming what it got', () => {
  withTempDir((dir) => {
    const w = writer(dir);
    assert.throws(() => w.insert('word'), { code: 'FLINT_NOT_A_PAIR', message: /needs key-value records, \[key, value\] arrays of length 2, but got the string "word"/ });
    assert.throws(() => w.insert([1, 2, 3]), { code: 'FLINT_NOT_A_PAIR', message: /got an array of length 3/ });
    assert.throws(() => w.insert({ key: 1 }), { code: 'FLINT_NOT_A_PAIR', message: /got an object/ });
    const bad = writer(dir, { partition: () => 3 });
    assert.throws(() => bad.insert(['k', 1]), /put key the string "k" in partition 3; expected an integer in \[0, 3\)/);
    w.abort();
    bad.abort();
  });
});
