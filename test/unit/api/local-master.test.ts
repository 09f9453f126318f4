// Local mode's master URLs (src/api/local-master.ts), read as Spark's SparkContext.createTaskScheduler reads them.
import assert from 'node:assert/strict';
import { availableParallelism } from 'node:os';
import { test } from 'node:test';
import { isLocalMaster, parseLocalMaster } from '../../../src/api/local-master.ts';

test('local, local[N], local[*] and local[N,F]: threads, and one attempt per task unless F says more', () => {
  assert.deepEqual(parseLocalMaster('local'), { threads: 1, maxFailures: 1 });
  assert.deepEqual(parseLocalMaster('local[3]'), { threads: 3, maxFailures: 1 });
  assert.deepEqual(parseLocalMaster('local[*]'), { threads: availableParallelism(), maxFailures: 1 });
  assert.deepEqual(parseLocalMaster('local[2,4]'), { threads: 2, maxFailures: 4 });
  assert.deepEqual(parseLocalMaster(' local[ * , 3 ] '), { threads: availableParallelism(), maxFailures: 3 });
});

test('a malformed local URL names itself and the forms expected', () => {
  for (const [master, what] of [
    ['local[0]', 'asks for 0 threads:'],
    ['local[2,0]', 'allows 0 task attempts:'],
    ['local[1048577]', 'asks for 1048577 threads:'],
    ['local[x]', 'is not a local master URL:'],
    ['local[]', 'is not a local master URL:'],
    ['local[2', 'is not a local master URL:'],
    ['local[2]x', 'is not a local master URL:'],
  ] as const) {
    assert.throws(
      () => parseLocalMaster(master),
      (err: Error & { code?: string }) => {
        assert.equal(err.code, 'FLINT_CONFIG_INVALID');
        assert.ok(err.message.startsWith(`${JSON.stringify(master)} ${what}`), err.message);
        assert.match(err.message, /expected local, local\[N\], local\[\*\], local\[N,F\] or local\[\*,F\]/);
        return true;
      },
    );
  }
});

test('only URLs that start with local take local mode', () => {
  for (const master of ['local', 'local[2]', 'local[x]', ' local[*]']) assert.equal(isLocalMaster(master), true, master);
  for (const master of ['flint://localhost:7077', 'localhost:7077', 'locale', 'rest://local:6066']) assert.equal(isLocalMaster(master), false, master);
});
