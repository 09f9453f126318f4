// pruneCompileCache (src/io/compile-cache/prune.ts) on a real directory laid out as Node's compile cache, and
// flint submit's daily pruning (pruneCompileCacheIfDue).
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readdirSync, rmSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { PRUNE_EVERY_MS, PRUNED_STAMP, pruneCompileCache, pruneCompileCacheIfDue } from '../../../../src/io/compile-cache/prune.ts';
import { tempDir } from '../../../helpers/temp-dir.ts';

const root = tempDir('flint-compile-cache-');
after(() => rmSync(root, { recursive: true, force: true }));

/** A cache with `count` entries of 1,000 bytes in each of two version directories, entry i aged i minutes less. */
function cache(name: string, count: number): string {
  const dir = join(root, name);
  for (const version of ['v24.21.0-x64-aaaa-0', 'v24.21.0-x64-bbbb-0']) {
    mkdirSync(join(dir, version), { recursive: true });
    for (let i = 0; i < count; i++) {
      const path = join(dir, version, `${version.slice(-6)}-${i}`);
      writeFileSync(path, Buffer.alloc(1_000));
      const t = (Date.now() - (count - i) * 60_000) / 1000;
      utimesSync(path, t, t);
    }
  }
  return dir;
}

test('the oldest entries go first, until the cache fits; the newest stay', async () => {
  const dir = cache('fits', 10);
  const result = await pruneCompileCache(dir, 12_500);
  assert.deepEqual(result, { files: 20, bytes: 20_000, removedFiles: 8, removedBytes: 8_000 });
  const left = ['v24.21.0-x64-aaaa-0', 'v24.21.0-x64-bbbb-0'].flatMap((v) => readdirSync(join(dir, v)));
  assert.equal(left.length, 12);
  for (const i of [0, 1, 2, 3]) assert.ok(!left.includes(`aaaa-0-${i}`) && !left.includes(`bbbb-0-${i}`), `entry ${i} (among the oldest) is gone`);
  for (const i of [4, 9]) assert.ok(left.includes(`aaaa-0-${i}`) && left.includes(`bbbb-0-${i}`), `entry ${i} stays`);
  assert.deepEqual(await pruneCompileCache(dir, 12_500), { files: 12, bytes: 12_000, removedFiles: 0, removedBytes: 0 }, 'a cache that fits is left alone');
});

test('a missing cache is empty; links and files outside the layout are never touched', async () => {
  assert.deepEqual(await pruneCompileCache(join(root, 'none'), 0), { files: 0, bytes: 0, removedFiles: 0, removedBytes: 0 });
  const dir = cache('links', 2);
  const outside = join(root, 'precious');
  writeFileSync(outside, Buffer.alloc(5_000));
  symlinkSync(outside, join(dir, 'v24.21.0-x64-aaaa-0', 'a-link'));
  writeFileSync(join(dir, 'top-level-file'), Buffer.alloc(5_000));
  mkdirSync(join(dir, 'v24.21.0-x64-aaaa-0', 'nested'));
  writeFileSync(join(dir, 'v24.21.0-x64-aaaa-0', 'nested', 'deep'), Buffer.alloc(5_000));
  const result = await pruneCompileCache(dir, 0);
  assert.deepEqual(result, { files: 4, bytes: 4_000, removedFiles: 4, removedBytes: 4_000 });
  assert.ok(existsSync(outside) && existsSync(join(dir, 'v24.21.0-x64-aaaa-0', 'a-link')), 'the link and what it points to stay');
  assert.ok(existsSync(join(dir, 'top-level-file')) && existsSync(join(dir, 'v24.21.0-x64-aaaa-0', 'nested', 'deep')));
});

test("flint submit's pruning: done when none was for a day, stamped first, then skipped until a day has passed", async () => {
  const dir = cache('daily', 5);
  const day = PRUNE_EVERY_MS;
  const now = Date.now();
  assert.deepEqual(await pruneCompileCacheIfDue(dir, 6_000, now), { files: 10, bytes: 10_000, removedFiles: 4, removedBytes: 4_000 }, 'no stamp: due');
  assert.ok(existsSync(join(dir, PRUNED_STAMP)), 'stamped');
  assert.equal(await pruneCompileCacheIfDue(dir, 0, now + day - 60_000), undefined, 'within the day: not due');
  assert.equal(readdirSync(join(dir, 'v24.21.0-x64-aaaa-0')).length, 3, 'nothing removed when not due');
  assert.deepEqual(await pruneCompileCacheIfDue(dir, 0, now + day), { files: 6, bytes: 6_000, removedFiles: 6, removedBytes: 6_000 }, 'a day later: due');
  // A stamp from the future (a clock set back) does not stop pruning for good.
  const future = (now + 10 * day) / 1000;
  utimesSync(join(dir, PRUNED_STAMP), future, future);
  assert.notEqual(await pruneCompileCacheIfDue(dir, 0, now + day + 1), undefined);
  assert.deepEqual(await pruneCompileCacheIfDue(join(root, 'never-made'), 0, now), { files: 0, bytes: 0, removedFiles: 0, removedBytes: 0 }, 'a missing cache is pruned as empty');
});
