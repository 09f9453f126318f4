// Spark's RollingFileAppender and RollingPolicy (RollingFileAppenderSuite: "rolling file appender - time-based
// rolling", "size-based rolling", "cleaning", "compression"), on real files in a temp dir with a stepped clock.
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { finished } from 'node:stream/promises';
import { gunzipSync } from 'node:zlib';
import { RollingFileAppender } from '../../../../src/io/logs/rolling-file.ts';
import { SizeBasedRollingPolicy, TimeBasedRollingPolicy } from '../../../../src/io/logs/rolling-policy.ts';
import type { LogRollingConfig } from '../../../../src/worker/index.ts';

const T0 = Date.UTC(2026, 11, 2, 10, 0, 0, 0);
const dirs: string[] = [];
after(async () => {
  for (const dir of dirs) await rm(dir, { recursive: true, force: true });
});
async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'flint-rolling-'));
  dirs.push(dir);
  return dir;
}

class SteppedClock {
  now = T0;
  readonly read = (): number => this.now;
}

const size = (maxSizeBytes: number, more: Partial<LogRollingConfig> = {}): LogRollingConfig =>
  ({ strategy: 'size', maxSizeBytes, maxRetainedFiles: 0, enableCompression: false, ...more }) as LogRollingConfig;

const MINUTELY: LogRollingConfig = { strategy: 'time', intervalMs: 60_000, suffixPattern: '--yyyy-MM-dd--HH-mm', maxRetainedFiles: 0, enableCompression: false };

function write(appender: RollingFileAppender, text: string): Promise<void> {
  return new Promise((resolve, reject) => appender.write(text, (err) => (err ? reject(err) : resolve())));
}

async function close(appender: RollingFileAppender): Promise<void> {
  appender.end();
  await finished(appender);
}

/** Writes `lines` to `<dir>/stdout`, stepping the clock by `stepMs` before each, then closes the appender. */
async function writeLines(dir: string, config: LogRollingConfig, lines: readonly string[], stepMs: number): Promise<void> {
  const clock = new SteppedClock();
  const appender = new RollingFileAppender(join(dir, 'stdout'), config, { now: clock.read });
  for (const line of lines) {
    clock.now += stepMs;
    await write(appender, line);
  }
  await close(appender);
}

async function contents(dir: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const name of (await readdir(dir)).sort()) {
    const bytes = await readFile(join(dir, name));
    out[name] = name.endsWith('.gz') ? gunzipSync(bytes).toString() : bytes.toString();
  }
  return out;
}

test('TimeBasedRollingPolicy rolls at the first write after the next multiple of the interval', () => {
  const policy = new TimeBasedRollingPolicy(60_000, '--yyyy-MM-dd--HH-mm', T0 + 1);
  assert.equal(policy.nextRolloverMs, T0 + 60_000);
  assert.equal(policy.shouldRollover(1, T0 + 60_000), false, 'not at the boundary itself (Spark: now > next)');
  assert.equal(policy.shouldRollover(1, T0 + 60_001), true);
  assert.equal(policy.rolledOverFileSuffix(T0 + 60_001), '--2026-12-02--10-01');
  policy.rolledOver(T0 + 60_001);
  assert.equal(policy.nextRolloverMs, T0 + 120_000);
  assert.equal(policy.shouldRollover(1, T0 + 119_999), false);
});

test('SizeBasedRollingPolicy rolls before a write that would pass the size, counting what the file held', () => {
  const policy = new SizeBasedRollingPolicy(10, 4);
  assert.equal(policy.shouldRollover(6), false);
  assert.equal(policy.shouldRollover(7), true);
  policy.bytesWritten(6);
  assert.equal(policy.shouldRollover(1), true);
  policy.rolledOver();
  assert.equal(policy.shouldRollover(10), false);
  assert.equal(policy.rolledOverFileSuffix(T0 + 7), '--2026-12-02--10-00-00--0007');
  assert.throws(() => new SizeBasedRollingPolicy(0), RangeError);
  assert.throws(() => new TimeBasedRollingPolicy(0, '--yyyy-MM-dd', T0), RangeError);
});

test('size-based rolling: no file passes the size, names carry the roll time, nothing is lost', async () => {
  const dir = await tempDir();
  await writeLines(dir, size(10), ['aaa\n', 'bbb\n', 'ccc\n', 'ddd\n', 'eee\n'], 1);
  assert.deepEqual(await contents(dir), {
    stdout: 'eee\n',
    'stdout--2026-12-02--10-00-00--0003': 'aaa\nbbb\n',
    'stdout--2026-12-02--10-00-00--0005': 'ccc\nddd\n',
  });
});

test('the stderr header already in the file is kept and counts toward the size; a taken name gets --0', async () => {
  const dir = await tempDir();
  await writeFile(join(dir, 'stderr'), 'HEADER\n');
  const clock = new SteppedClock(); // never moves: every roll wants the same name
  const appender = new RollingFileAppender(join(dir, 'stderr'), size(10), { now: clock.read });
  await write(appender, 'abcd\n'); // 7 + 5 > 10: the header alone is rolled
  await write(appender, 'efgh\n');
  await write(appender, 'ijkl\n');
  await close(appender);
  assert.deepEqual(await contents(dir), {
    stderr: 'ijkl\n',
    'stderr--2026-12-02--10-00-00--0000': 'HEADER\n',
    'stderr--2026-12-02--10-00-00--0000--0': 'abcd\nefgh\n',
  });
});

test('a write larger than 8 KiB is taken in 8 KiB slices, rolling between them (Spark reads 8 KiB at a time)', async () => {
  const dir = await tempDir();
  const clock = new SteppedClock();
  const appender = new RollingFileAppender(join(dir, 'stdout'), size(10_000), { now: () => (clock.now += 1) });
  await write(appender, 'x'.repeat(20_000));
  await close(appender);
  const sizes = Object.values(await contents(dir)).map((text) => text.length);
  assert.deepEqual(sizes.sort((a, b) => a - b), [3616, 8192, 8192]);
});

test('time-based rolling with a stepped clock: one file per interval, named by the roll time', async () => {
  const dir = await tempDir();
  const clock = new SteppedClock();
  clock.now = T0 + 1; // just after a boundary (on one, the next roll would be due at once, as in Spark)
  const appender = new RollingFileAppender(join(dir, 'stdout'), MINUTELY, { now: clock.read });
  await write(appender, 'first minute\n');
  clock.now = T0 + 30_000;
  await write(appender, 'still first\n');
  clock.now = T0 + 60_001;
  await write(appender, 'second minute\n');
  clock.now = T0 + 200_000;
  await write(appender, 'fourth minute\n');
  await close(appender);
  assert.deepEqual(await contents(dir), {
    stdout: 'fourth minute\n',
    'stdout--2026-12-02--10-01': 'first minute\nstill first\n',
    'stdout--2026-12-02--10-03': 'second minute\n',
  });
});

test('an active file still empty at the roll time is not rolled', async () => {
  const dir = await tempDir();
  const clock = new SteppedClock();
  const appender = new RollingFileAppender(join(dir, 'stdout'), MINUTELY, { now: clock.read });
  clock.now = T0 + 90_000;
  await write(appender, 'late\n');
  await close(appender);
  assert.deepEqual(await contents(dir), { stdout: 'late\n' });
});

test('maxRetainedFiles keeps the newest rolled files and never touches other files of the dir', async () => {
  const dir = await tempDir();
  await writeFile(join(dir, 'stdout.txt'), 'the app\'s own file');
  await writeFile(join(dir, 'stderr--2020-01-01'), 'another log');
  await writeLines(dir, size(4, { maxRetainedFiles: 2 }), ['111\n', '222\n', '333\n', '444\n', '555\n', '666\n'], 1000);
  assert.deepEqual(await contents(dir), {
    'stderr--2020-01-01': 'another log',
    stdout: '666\n',
    'stdout--2026-12-02--10-00-05--0000': '444\n', // rolled when 555 came, at 10:00:05
    'stdout--2026-12-02--10-00-06--0000': '555\n',
    'stdout.txt': 'the app\'s own file',
  });
});

test('enableCompression gzips rolled files to <name>.gz; retention counts them', async () => {
  const dir = await tempDir();
  await writeLines(dir, size(8, { enableCompression: true, maxRetainedFiles: 2 }), ['one\n', 'two\n', 'three\n', 'four\n', 'five\n'], 1000);
  assert.deepEqual(await contents(dir), {
    stdout: 'five\n',
    'stdout--2026-12-02--10-00-04--0000.gz': 'three\n',
    'stdout--2026-12-02--10-00-05--0000.gz': 'four\n',
  });
});

test('a failed roll and a failed write are reported; later output is dropped and the stream never errors', async () => {
  const dir = await tempDir();
  const errors: string[] = [];
  const active = join(dir, 'stdout');
  const appender = new RollingFileAppender(active, size(4), { now: () => T0, onError: (_err, what) => errors.push(what) });
  await write(appender, 'abc\n');
  await rm(dir, { recursive: true }); // the roll cannot move the file, nor open a new one
  await write(appender, 'def\n');
  await write(appender, 'ghi\n');
  await close(appender);
  assert.deepEqual(errors, [`rolling over ${active}`, `writing ${active} (later output is dropped)`]);
});
