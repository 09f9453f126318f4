// flint.executor.logs.rolling.* (Spark's FileAppender.apply, RollingPolicy.scala; docs/configuration.md "Worker"):
// off by default, Spark's interval names and suffix patterns, and a ConfigError naming the key for anything
// Spark would have ignored with a warning.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { FlintConf } from '../../../src/conf/flint-conf.ts';
import { ConfigError } from '../../../src/errors.ts';
import { formatRolledSuffix, logRollingFromConf } from '../../../src/worker/index.ts';

const conf = (entries: Record<string, string>): FlintConf => new FlintConf(Object.entries(entries));
const rolling = (entries: Record<string, string>) => logRollingFromConf(conf(entries));

test('rolling is off unless a strategy is set; the other keys are then not even read', () => {
  assert.equal(rolling({}), undefined);
  assert.equal(rolling({ 'flint.executor.logs.rolling.strategy': '' }), undefined);
  assert.equal(rolling({ 'flint.executor.logs.rolling.strategy': '', 'flint.executor.logs.rolling.maxSize': 'huge' }), undefined);
});

test('size: Spark defaults (1 MiB, keep all, no compression), bytes or units, spark.* spelling read', () => {
  assert.deepEqual(rolling({ 'flint.executor.logs.rolling.strategy': 'size' }), {
    strategy: 'size',
    maxSizeBytes: 1_048_576,
    maxRetainedFiles: 0,
    enableCompression: false,
  });
  assert.deepEqual(
    rolling({
      'spark.executor.logs.rolling.strategy': 'size',
      'spark.executor.logs.rolling.maxSize': '81920',
      'flint.executor.logs.rolling.maxRetainedFiles': '3',
      'flint.executor.logs.rolling.enableCompression': 'true',
    }),
    { strategy: 'size', maxSizeBytes: 81_920, maxRetainedFiles: 3, enableCompression: true },
  );
  const tenMb = rolling({ 'flint.executor.logs.rolling.strategy': 'size', 'flint.executor.logs.rolling.maxSize': '10m' });
  assert.equal(tenMb?.strategy === 'size' && tenMb.maxSizeBytes, 10 * 1_048_576);
  const sparkDefault = rolling({ 'flint.executor.logs.rolling.strategy': 'size', 'spark.executor.logs.rolling.maxRetainedFiles': '-1' });
  assert.equal(sparkDefault?.maxRetainedFiles, 0, "Spark's -1 keeps every file, as 0 does");
});

test('time: daily (default), hourly, minutely or seconds, each with Spark\'s suffix pattern', () => {
  const time = (interval?: string) =>
    rolling({ 'flint.executor.logs.rolling.strategy': 'time', ...(interval === undefined ? {} : { 'flint.executor.logs.rolling.time.interval': interval }) });
  assert.deepEqual(time(), { strategy: 'time', intervalMs: 86_400_000, suffixPattern: '--yyyy-MM-dd', maxRetainedFiles: 0, enableCompression: false });
  assert.deepEqual(
    ['hourly', 'minutely', '90', ' 60 '].map((i) => {
      const c = time(i);
      return c?.strategy === 'time' ? [c.intervalMs, c.suffixPattern] : c;
    }),
    [
      [3_600_000, '--yyyy-MM-dd--HH'],
      [60_000, '--yyyy-MM-dd--HH-mm'],
      [90_000, '--yyyy-MM-dd--HH-mm-ss'],
      [60_000, '--yyyy-MM-dd--HH-mm-ss'],
    ],
  );
});

test('a value Spark would ignore or raise is a ConfigError naming the key and what is expected', () => {
  const cases: Array<[Record<string, string>, string, RegExp]> = [
    [{ 'flint.executor.logs.rolling.strategy': 'weekly' }, 'flint.executor.logs.rolling.strategy', /expected time, size or empty/],
    [{ 'flint.executor.logs.rolling.strategy': 'time', 'flint.executor.logs.rolling.time.interval': 'weekly' }, 'flint.executor.logs.rolling.time.interval', /expected daily, hourly, minutely or a whole number of seconds from 60/],
    [{ 'flint.executor.logs.rolling.strategy': 'time', 'flint.executor.logs.rolling.time.interval': '59' }, 'flint.executor.logs.rolling.time.interval', /out of range/],
    [{ 'flint.executor.logs.rolling.strategy': 'time', 'flint.executor.logs.rolling.time.interval': '1.5' }, 'flint.executor.logs.rolling.time.interval', /not an interval/],
    [{ 'flint.executor.logs.rolling.strategy': 'size', 'flint.executor.logs.rolling.maxSize': '81919' }, 'flint.executor.logs.rolling.maxSize', /too small; expected at least 81920 bytes/],
    [{ 'flint.executor.logs.rolling.strategy': 'size', 'flint.executor.logs.rolling.maxSize': 'lots' }, 'flint.executor.logs.rolling.maxSize', /maxSize/],
    [{ 'flint.executor.logs.rolling.strategy': 'size', 'flint.executor.logs.rolling.maxRetainedFiles': '-2' }, 'flint.executor.logs.rolling.maxRetainedFiles', /too small/],
    [{ 'flint.executor.logs.rolling.strategy': 'size', 'flint.executor.logs.rolling.enableCompression': 'yes' }, 'flint.executor.logs.rolling.enableCompression', /true or false/],
  ];
  for (const [entries, key, message] of cases) {
    assert.throws(
      () => rolling(entries),
      (err: unknown) => err instanceof ConfigError && err.key === key && message.test(err.message),
      JSON.stringify(entries),
    );
  }
});

test('rolled suffixes use Spark\'s SimpleDateFormat patterns, in UTC, with SSSS as zero-padded milliseconds', () => {
  const at = Date.UTC(2026, 11, 2, 3, 4, 5, 67);
  assert.equal(formatRolledSuffix('--yyyy-MM-dd', at), '--2026-12-02');
  assert.equal(formatRolledSuffix('--yyyy-MM-dd--HH', at), '--2026-12-02--03');
  assert.equal(formatRolledSuffix('--yyyy-MM-dd--HH-mm', at), '--2026-12-02--03-04');
  assert.equal(formatRolledSuffix('--yyyy-MM-dd--HH-mm-ss', at), '--2026-12-02--03-04-05');
  assert.equal(formatRolledSuffix('--yyyy-MM-dd--HH-mm-ss--SSSS', at), '--2026-12-02--03-04-05--0067');
});
