// Planning text splits on the driver (src/io/dataset-files/text-splits.ts): Hadoop's FileInputFormat.getSplits as
// Spark's textFile uses it: goalSize from minPartitions, SPLIT_SLOP 1.1, whole gzip files, hidden files skipped,
// "Input path does not exist" for nothing matched.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { SPLIT_SLOP, cutFile, expandInputPath, planTextSplits } from '../../../../src/io/dataset-files/index.ts';
import type { FileSplit } from '../../../../src/io/dataset-files/index.ts';
import { tempDir } from '../../../helpers/temp-dir.ts';

const root = tempDir('flint-splits-');
after(() => rmSync(root, { recursive: true, force: true }));

function tree(name: string, files: Record<string, string>): string {
  const dir = join(root, name);
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(join(dir, path, '..'), { recursive: true });
    writeFileSync(join(dir, path), text);
  }
  return dir;
}

const brief = (splits: FileSplit[]) => splits.map((s) => [s.path.slice(root.length), s.start, s.length, s.gzip]);

test('a file is cut by goalSize = total / minPartitions, the last split up to 10 % larger', () => {
  const dir = tree('cut', { 'a.txt': 'x'.repeat(105) });
  assert.deepEqual(brief(planTextSplits(join(dir, 'a.txt'), 1)), [['/cut/a.txt', 0, 105, false]]);
  // goalSize 52: 105/52 > 1.1, then 53/52 ≤ 1.1 → the last split takes 53.
  assert.deepEqual(brief(planTextSplits(join(dir, 'a.txt'), 2)), [
    ['/cut/a.txt', 0, 52, false],
    ['/cut/a.txt', 52, 53, false],
  ]);
  assert.deepEqual(
    planTextSplits(join(dir, 'a.txt'), 1, { maxSplitBytes: 50 }).map((s) => s.length),
    [50, 55],
  );
  assert.equal(planTextSplits(join(dir, 'a.txt'), 1000).length, 105, 'splitSize never drops below 1 byte');
});

test('cutFile covers the file exactly, in order, every split at most SPLIT_SLOP split sizes (property)', () => {
  fc.assert(
    fc.property(fc.integer({ min: 1, max: 5000 }), fc.integer({ min: 1, max: 700 }), (size, splitSize) => {
      const splits = cutFile('/f.txt', size, splitSize);
      let next = 0;
      for (const split of splits) {
        assert.equal(split.start, next);
        assert.ok(split.length > 0 && split.length <= Math.max(splitSize, Math.floor(splitSize * SPLIT_SLOP)));
        next += split.length;
      }
      assert.equal(next, size);
    }),
  );
});

test('a directory is its visible files in sorted order; _ and . files are skipped', () => {
  const dir = tree('dir', { 'b.txt': 'bb\n', 'a.txt': 'a\n', '_SUCCESS': '', '.a.txt.crc': 'c', '_temporary/x': 'x' });
  assert.deepEqual(brief(planTextSplits(dir, 1)), [
    ['/dir/a.txt', 0, 2, false],
    ['/dir/b.txt', 0, 3, false],
  ]);
});

test('globs: *, ?, […], {a,b}, a matched directory standing for its files; hidden matches skipped', () => {
  const dir = tree('glob', {
    'a1.txt': '1',
    'a2.txt': '2',
    'b1.log': '3',
    '_a3.txt': 'hidden',
    'sub/c.txt': '4',
    'sub/_d.txt': 'hidden',
  });
  const names = (pattern: string) => expandInputPath(join(dir, pattern)).map((p) => p.slice(dir.length + 1));
  assert.deepEqual(names('*.txt'), ['a1.txt', 'a2.txt']);
  assert.deepEqual(names('a?.txt'), ['a1.txt', 'a2.txt']);
  assert.deepEqual(names('[ab]1.*'), ['a1.txt', 'b1.log']);
  assert.deepEqual(names('{b1.log,a2.txt}'), ['a2.txt', 'b1.log']);
  assert.deepEqual(names('s*'), ['sub/c.txt']);
  assert.deepEqual(names('*/*.txt'), ['sub/c.txt']);
});

test('a relative path resolves against the working directory and gives absolute split paths', () => {
  const dir = tree('relative', { 'r.txt': 'r\n' });
  const cwd = process.cwd();
  process.chdir(dir);
  try {
    assert.deepEqual(planTextSplits('r.txt', 1), [{ path: join(dir, 'r.txt'), start: 0, length: 2, gzip: false }]);
  } finally {
    process.chdir(cwd);
  }
});

test('a .gz file is one split, whatever minPartitions and maxSplitBytes say', () => {
  const dir = tree('gz', { 'a.gz': 'z'.repeat(100), 'b.txt': 'y'.repeat(100) });
  const splits = planTextSplits(dir, 4, { maxSplitBytes: 10 });
  assert.deepEqual(splits[0], { path: join(dir, 'a.gz'), start: 0, length: 100, gzip: true });
  assert.equal(splits.length, 11);
  assert.ok(splits.slice(1).every((s) => !s.gzip && s.length === 10 && s.path.endsWith('b.txt')));
});

test('empty files give no split, but an all-empty input still gives one empty split', () => {
  const dir = tree('empty', { 'a.txt': '', 'b.txt': 'abc', 'c.txt': '' });
  assert.deepEqual(brief(planTextSplits(dir, 1)), [['/empty/b.txt', 0, 3, false]]);
  const allEmpty = tree('all-empty', { 'a.txt': '', 'b.txt': '' });
  assert.deepEqual(brief(planTextSplits(allEmpty, 3)), [['/all-empty/a.txt', 0, 0, false]]);
  const noFiles = tree('no-files', { _SUCCESS: '' });
  assert.deepEqual(brief(planTextSplits(noFiles, 2)), [['/no-files', 0, 0, false]]);
});

test('nothing matched: Hadoop\'s "Input path does not exist" / "matches 0 files", FLINT_INPUT_NOT_FOUND', () => {
  const missing = join(root, 'missing.txt');
  assert.throws(() => planTextSplits(missing, 1), {
    code: 'FLINT_INPUT_NOT_FOUND',
    message: new RegExp(`^Input path does not exist: ${missing}\\. Expected an existing file`),
  });
  const dir = tree('nomatch', { '_hidden.txt': 'x' });
  assert.throws(() => planTextSplits(join(dir, '*.txt'), 1), {
    code: 'FLINT_INPUT_NOT_FOUND',
    message: /Input Pattern .*\*\.txt matches 0 files/,
  });
});

test('bad arguments and subdirectories fail with FLINT_INPUT_INVALID, naming what is expected', () => {
  const dir = tree('bad', { 'a.txt': 'a', 'nested/b.txt': 'b' });
  for (const minPartitions of [0, -1, 1.5, Number.NaN]) {
    assert.throws(() => planTextSplits(join(dir, 'a.txt'), minPartitions), {
      code: 'FLINT_INPUT_INVALID',
      message: new RegExp(`^minPartitions must be a positive whole number .* got ${String(minPartitions)}`),
    });
  }
  assert.throws(() => planTextSplits(join(dir, 'a.txt'), 1, { maxSplitBytes: 0 }), { code: 'FLINT_INPUT_INVALID' });
  assert.throws(() => planTextSplits('', 1), { code: 'FLINT_INPUT_INVALID' });
  assert.throws(() => planTextSplits(dir, 1), { code: 'FLINT_INPUT_INVALID', message: /^Not a file: .*nested/ });
});
