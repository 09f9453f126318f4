// The map-side combine keeps its own copy of each long string key (src/shuffle/shuffle-writer.ts ownString): a key
// that `split` cut from a large string is a V8 slice that would otherwise keep the whole string alive for as long
// as the writer holds the key. Measured with full garbage collections, in a file of its own.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { reduceAggregator } from '../../../src/shuffle/aggregator.ts';
import { partitionerOf } from '../../../src/shuffle/partitioners.ts';
import { ShuffleWriter } from '../../../src/shuffle/shuffle-writer.ts';
import { withTempDir } from './arbitraries.ts';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

function heapUsed(): number {
  gc();
  gc();
  return process.memoryUsage().heapUsed;
}

test('200 long keys cut from 60 KB lines keep none of the lines alive while the writer holds them', () => {
  withTempDir((dir) => {
    const writer = new ShuffleWriter({
      dir,
      shuffleId: 1,
      mapId: 1,
      attemptId: 0,
      numPartitions: 2,
      partition: partitionerOf({ kind: 'hash', partitions: 2 }),
      aggregator: reduceAggregator((a: number, b: number) => a + b),
      memoryLimitBytes: 64 << 20,
    });
    const before = heapUsed();
    for (let i = 0; i < 200; i++) {
      // Decoded from bytes, as the line reader decodes a file's text: one flat string, lines and words cut from it.
      const text = Buffer.from(`${'q'.repeat(60_000)} key-number-${String(i).padStart(5, '0')} tail\n`, 'latin1').toString('latin1');
      for (const word of (text.split('\n')[0] as string).split(' ').slice(1)) writer.insert([word, 1]);
    }
    const held = heapUsed() - before;
    // Without the copies the writer would hold 200 × 60 KB = 12 MB of text.
    assert.ok(held < 3_000_000, `the writer holds ${(held / 1e6).toFixed(1)} MB`);
    const output = writer.commit();
    assert.equal(output.records, 201, '200 keys and "tail"');
  });
});
