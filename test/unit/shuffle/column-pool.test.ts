// The thread's pool of large typed arrays (src/shuffle/column-pool.ts): memory given back is handed out again,
// within its bounds; large buffers are sized for huge pages; and sorts that reuse one another's columns and
// scratch still sort exactly.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { HUGE_PAGE_BYTES, MALLOC_SLACK, MAX_POOLED_BYTES, giveBack, limitPool, pooledByteCount, takeBytes, takeFloat64, takeUint32 } from '../../../src/shuffle/column-pool.ts';
import { ExternalSorter } from '../../../src/shuffle/external-sorter.ts';
import { compareKeys } from '../../../src/shuffle/keys.ts';
import { withTempDir } from './arbitraries.ts';

test('a large array given back is handed out again, for the same or a somewhat larger size; a small one, or one more than twice as large as asked, is not', () => {
  const first = takeFloat64(50_000);
  const buffer = first.buffer;
  // Made with half as much again, in whole 64 KiB: 600,000 bytes rounded up.
  assert.equal(buffer.byteLength, 10 * 65_536);
  giveBack(first);
  giveBack(first); // twice is harmless: it is pooled once
  assert.equal(pooledByteCount(), 10 * 65_536);
  assert.notEqual(takeFloat64(10_000).buffer, buffer, 'a buffer more than twice as large as asked stays in the pool');
  const larger = takeFloat64(80_000); // 640,000 bytes: within the headroom
  assert.equal(larger.buffer, buffer);
  assert.equal(larger.length, 80_000);
  giveBack(larger);
  const again = takeUint32(100_000); // 400,000 bytes: the pooled 655,360 fit
  assert.equal(again.buffer, buffer);
  assert.equal(again.length, 100_000);
  assert.equal(pooledByteCount(), 0);
  const tooLarge = takeFloat64(82_000); // 656,000 bytes: more than the pooled buffer holds
  assert.notEqual(tooLarge.buffer, buffer);
  const small = takeFloat64(1000);
  giveBack(small);
  assert.equal(pooledByteCount(), 0, 'arrays under 256 KiB are not pooled');
  giveBack(again);
});

test('from 1 MiB with headroom on, a fresh buffer is a whole number of 2 MiB less MALLOC_SLACK (a mapping transparent huge pages can back)', () => {
  const cases: Array<[bytes: number, hugePages: number]> = [
    [700_000, 1], // 1,050,000 with headroom: one 2 MiB mapping
    [1024 * 1024, 1], // a frame arena's slab
    [1_400_000, 2], // 2,100,000 with headroom: just over 2 MiB, so two
    [10_000_000, 8], // a sort's column of 1.25 million pairs: 15,000,000 with headroom
  ];
  for (const [bytes, hugePages] of cases) {
    const array = takeBytes(bytes);
    assert.equal(array.length, bytes);
    assert.equal(array.buffer.byteLength, hugePages * HUGE_PAGE_BYTES - MALLOC_SLACK, `${bytes} bytes`);
    assert.equal(array.buffer.byteLength % 8, 0, 'float64 views fit it whole');
  }
});

test('the pool never holds more than MAX_POOLED_BYTES: the oldest buffers go first', () => {
  const arrays = Array.from({ length: 12 }, () => takeFloat64(1_500_000)); // 12 MB each, 18 with headroom
  for (const array of arrays) giveBack(array);
  assert.ok(pooledByteCount() <= MAX_POOLED_BYTES, `${pooledByteCount()} bytes pooled`);
  const each = (arrays[0] as Float64Array).buffer.byteLength; // 12 MB and half as much again
  assert.ok(pooledByteCount() >= MAX_POOLED_BYTES - each, `${pooledByteCount()} bytes pooled`);
  const held = pooledByteCount();
  giveBack(takeFloat64(17_000_000)); // 136 MB: more than the whole pool
  assert.equal(pooledByteCount(), held, 'a buffer larger than the pool is not kept, and evicts nothing');
  const taken = takeFloat64(1_500_000);
  assert.ok(!arrays.slice(0, 5).some((a) => a.buffer === taken.buffer), 'an evicted buffer was handed out');
});

test("limitPool: a thread keeps at most half its task's shuffle memory; buffers past it are dropped, oldest first", () => {
  const arrays = Array.from({ length: 4 }, () => takeFloat64(500_000)); // 4 MB each, 6 with headroom
  for (const array of arrays) giveBack(array);
  const held = pooledByteCount();
  assert.ok(held >= 4 * 6_000_000, `${held} bytes pooled`);
  limitPool(26_000_000); // keeps 13 MB: two of them
  assert.ok(pooledByteCount() <= 13_000_000, `${pooledByteCount()} bytes pooled after the limit`);
  giveBack(takeFloat64(1_200_000)); // 14.4 MB with headroom: more than the limit, not kept
  assert.ok(pooledByteCount() <= 13_000_000);
  limitPool(2 * MAX_POOLED_BYTES); // back to MAX_POOLED_BYTES for the tests after
  giveBack(takeFloat64(1_200_000));
  assert.ok(pooledByteCount() > 13_000_000, 'the full limit again');
});

test('sorts of number pairs one after another reuse columns and scratch, and each is exact', () => {
  withTempDir((dir) => {
    const n = 120_000; // 960 KB columns: pooled
    for (const [round, ascending] of [[0, true], [1, false], [2, true]] as const) {
      const sorter = new ExternalSorter({ compare: compareKeys, ascending, spillDir: dir, memoryLimitBytes: 1 << 30 });
      for (let at = 0; at < n; at += 10_000) {
        const keys = Float64Array.from({ length: 10_000 }, (_, i) => (((at + i) * 48271 + round) % 70_001) - 35_000);
        const values = Float64Array.from({ length: 10_000 }, (_, i) => at + i);
        sorter.insertNumberPairs(keys, values);
      }
      const sorted = [...sorter.sorted()];
      assert.equal(sorted.length, n);
      const want = Array.from({ length: n }, (_, i): [number, number] => [((i * 48271 + round) % 70_001) - 35_000, i]).sort(
        ascending ? (a, b) => a[0] - b[0] : (a, b) => b[0] - a[0],
      );
      sorted.forEach((pair, i) => assert.deepEqual(pair, want[i], `round ${round}, pair ${i}`));
      assert.ok(pooledByteCount() > 0, `round ${round}: the sort gave its arrays back to the pool`);
    }
  });
});
