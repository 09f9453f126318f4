// Atomic output (src/io/dataset-files/output-commit.ts), Hadoop's FileOutputCommitter algorithm 1: task attempts
// write under _temporary, a commit renames, the job commit publishes every part and _SUCCESS last; an aborted
// attempt or job leaves no part file; an existing non-empty output directory is refused.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  PartWriter,
  WRITE_BUFFER_CHARS,
  abortJob,
  checkOutputDir,
  commitJob,
  partFileName,
  planTextSplits,
  setupJob,
  readSplitLines,
} from '../../../../src/io/dataset-files/index.ts';
import { tempDir } from '../../../helpers/temp-dir.ts';

const root = tempDir('flint-commit-');
after(() => rmSync(root, { recursive: true, force: true }));
let dirs = 0;
const freshDir = () => join(root, `out-${dirs++}`);
/** A fresh output directory set up for a job's tasks, as the driver does before it runs them. */
const jobDir = (): string => {
  const dir = freshDir();
  setupJob(dir);
  return dir;
};

function writePart(dir: string, partition: number, attemptId: number, lines: string[], ext?: string): PartWriter {
  const writer = new PartWriter(dir, partition, attemptId, ext);
  for (const line of lines) writer.writeLine(line);
  return writer;
}

test('partFileName: five digits at least, then the extension', () => {
  assert.equal(partFileName(0), 'part-00000');
  assert.equal(partFileName(42, '.json'), 'part-00042.json');
  assert.equal(partFileName(123456), 'part-123456');
  assert.throws(() => partFileName(-1), RangeError);
});

test('two attempts of a partition, one aborted and one committed: one part file, _SUCCESS, no _temporary', () => {
  const dir = freshDir();
  checkOutputDir(dir);
  setupJob(dir);
  const failed = writePart(dir, 0, 1, ['half']);
  const good0 = writePart(dir, 0, 2, ['a', 'é😀']);
  const good1 = writePart(dir, 1, 3, ['b']);
  failed.abort();
  assert.equal(existsSync(join(dir, '_temporary', 'attempt-1')), false);
  assert.deepEqual(good0.commit(), { path: join(dir, '_temporary', 'committed', 'part-00000'), bytes: 9, lines: 2 });
  good1.commit();
  const leftover = writePart(dir, 1, 4, ['from an executor that was killed']);
  assert.deepEqual(commitJob(dir, 2), { files: 2, bytes: 11 });
  assert.deepEqual(readdirSync(dir).sort(), ['_SUCCESS', 'part-00000', 'part-00001']);
  assert.equal(readFileSync(join(dir, 'part-00000'), 'utf8'), 'a\né😀\n');
  assert.equal(readFileSync(join(dir, '_SUCCESS'), 'utf8'), '');
  assert.deepEqual([...readSplitLines(planTextSplits(dir, 1)[0]!)], ['a', 'é😀']);
  leftover.abort(); // its directory went with _temporary: nothing to do, no error
});

test('a second committed attempt replaces the first (a retried or speculative task)', () => {
  const dir = jobDir();
  writePart(dir, 0, 1, ['same'], '.json').commit();
  writePart(dir, 0, 2, ['same'], '.json').commit();
  commitJob(dir, 1, '.json');
  assert.deepEqual(readdirSync(dir).sort(), ['_SUCCESS', 'part-00000.json']);
  assert.equal(readFileSync(join(dir, 'part-00000.json'), 'utf8'), 'same\n');
});

test('commitJob refuses a missing partition, naming it, and moves nothing', () => {
  const dir = jobDir();
  writePart(dir, 0, 1, ['zero']).commit();
  writePart(dir, 2, 3, ['two']).commit();
  assert.throws(() => commitJob(dir, 3), {
    code: 'FLINT_OUTPUT_COMMIT_FAILED',
    message: /partition 1 has no committed part file \(expected .*part-00001\)/,
  });
  assert.deepEqual(readdirSync(dir), ['_temporary']);
});

test('abortJob leaves no part file and removes the directory it left empty', () => {
  const dir = jobDir();
  writePart(dir, 0, 1, ['committed']).commit();
  writePart(dir, 1, 2, ['still writing']);
  abortJob(dir);
  assert.equal(existsSync(dir), false);
  abortJob(dir); // nothing there: no error
  // A commit that failed half-way (part files already moved) is cleaned too; other files stay.
  const half = freshDir();
  mkdirSync(half);
  writeFileSync(join(half, 'part-00000'), 'moved');
  writeFileSync(join(half, 'notes.txt'), 'not ours');
  abortJob(half);
  assert.deepEqual(readdirSync(half), ['notes.txt']);
});

test('a task that commits after its job was aborted fails and recreates nothing', () => {
  const dir = jobDir();
  const straggler = writePart(dir, 0, 1, ['late']);
  abortJob(dir);
  assert.throws(() => straggler.commit(), { code: 'FLINT_OUTPUT_COMMIT_FAILED', message: /Was the job aborted/ });
  assert.equal(existsSync(dir), false);
  assert.throws(() => straggler.writeLine('x'), /closed/);
});

test('a task that starts after its job was aborted fails and recreates nothing', () => {
  const dir = jobDir();
  abortJob(dir);
  assert.throws(() => new PartWriter(dir, 0, 1), { code: 'FLINT_OUTPUT_COMMIT_FAILED', message: /does not exist\. Was the job aborted/ });
  assert.equal(existsSync(dir), false);
});

test('checkOutputDir refuses a non-empty directory or a file, accepts a missing or empty one', () => {
  const dir = freshDir();
  checkOutputDir(dir);
  mkdirSync(dir);
  checkOutputDir(dir);
  writeFileSync(join(dir, 'part-00000'), 'old');
  assert.throws(() => checkOutputDir(dir), {
    code: 'FLINT_OUTPUT_EXISTS',
    message: new RegExp(`^Output directory ${dir} already exists\\. Expected a path that does not exist yet`),
  });
  assert.throws(() => checkOutputDir(join(dir, 'part-00000')), { code: 'FLINT_OUTPUT_EXISTS', message: /is not a directory/ });
});

test('large output is written in buffered pieces and counted exactly', () => {
  const dir = jobDir();
  const line = 'x'.repeat(999) + 'é';
  const count = Math.ceil((3 * WRITE_BUFFER_CHARS) / line.length);
  const result = writePart(dir, 0, 7, Array.from({ length: count }, () => line)).commit();
  assert.deepEqual(result.lines, count);
  assert.equal(result.bytes, count * (Buffer.byteLength(line) + 1));
  assert.deepEqual(commitJob(dir, 1), { files: 1, bytes: result.bytes });
  assert.equal(readFileSync(join(dir, 'part-00000'), 'utf8'), (line + '\n').repeat(count));
});

test('a job with no partitions publishes just _SUCCESS', () => {
  const dir = freshDir();
  assert.deepEqual(commitJob(dir, 0), { files: 0, bytes: 0 });
  assert.deepEqual(readdirSync(dir), ['_SUCCESS']);
});
