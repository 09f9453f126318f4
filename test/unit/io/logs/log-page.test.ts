// Spark's worker LogPage.getLog and Utils.offsetBytes over rolled files (LogPageSuite, UtilsSuite "offsetBytes
// for multiple files"), on real files: defaults, ranges across file boundaries, gzipped rolled files, the cap,
// and every way a request could reach outside the work dir.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { link, mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { text as streamText } from 'node:stream/consumers';
import { gzipSync } from 'node:zlib';
import { LogRequestError } from '../../../../src/errors.ts';
import { logFiles, type LogTarget } from '../../../../src/io/logs/log-files.ts';
import { MAX_LOG_BYTES, logReadStream, parseLogQuery, readLog, type LogQuery } from '../../../../src/io/logs/log-page.ts';

let root = '';
let workDir = '';
before(async () => {
  root = await mkdtemp(join(tmpdir(), 'flint-log-page-'));
  workDir = join(root, 'work');
  const exec = join(workDir, 'app-1', '0');
  await mkdir(exec, { recursive: true });
  await writeFile(join(exec, 'stdout--2026-12-02--10-00-01--0000'), 'AAAA');
  await writeFile(join(exec, 'stdout--2026-12-02--10-00-02--0000.gz'), gzipSync('BBBB'));
  await writeFile(join(exec, 'stdout'), 'CCCC');
  await writeFile(join(exec, 'stdout.txt'), 'not a log');
  await writeFile(join(exec, 'stderr'), 'err\n');
  await mkdir(join(workDir, 'driver-1'));
  await writeFile(join(workDir, 'driver-1', 'stdout'), 'x'.repeat(MAX_LOG_BYTES + 10));
  await mkdir(join(workDir, 'app-empty', '0'), { recursive: true });
  // Outside the work dir, and the ways to point at it from inside.
  await mkdir(join(root, 'outside'));
  await writeFile(join(root, 'outside', 'stdout'), 'SECRET');
  await symlink(join(root, 'outside'), join(workDir, 'app-link'));
  await mkdir(join(workDir, 'app-2', '0'), { recursive: true });
  await symlink(join(root, 'outside', 'stdout'), join(workDir, 'app-2', '0', 'stdout'));
  await symlink(join(root, 'outside', 'stdout'), join(workDir, 'app-2', '0', 'stdout--2026-12-02'));
  await mkdir(join(workDir, 'app-3', '0'), { recursive: true });
  await link(join(root, 'outside', 'stdout'), join(workDir, 'app-3', '0', 'stdout'));
});
after(async () => {
  await rm(root, { recursive: true, force: true });
});

const executor = (appId: string, executorId = '0', logType: 'stdout' | 'stderr' = 'stdout'): LogTarget => ({ kind: 'executor', appId, executorId, logType });
const read = (target: LogTarget, range: { offset?: number; byteLength?: number } = {}) => readLog({ workDir }, { target, ...range });

async function rejectsWith(promise: Promise<unknown>, code: string, message?: RegExp): Promise<void> {
  await assert.rejects(promise, (err: unknown) => {
    assert.ok(err instanceof LogRequestError, String(err));
    assert.equal(err.code, code);
    if (message !== undefined) assert.match(err.message, message);
    return true;
  });
}

test('by default the last 100 KB: here the whole log, rolled files in order, the .gz decompressed', async () => {
  assert.deepEqual(await read(executor('app-1')), { text: 'AAAABBBBCCCC', startByte: 0, endByte: 12, totalLength: 12 });
  assert.deepEqual(await read(executor('app-1', '0', 'stderr')), { text: 'err\n', startByte: 0, endByte: 4, totalLength: 4 });
});

test('without an offset the last byteLength bytes; with one, byteLength bytes from it, across file boundaries', async () => {
  assert.deepEqual(await read(executor('app-1'), { byteLength: 6 }), { text: 'BBCCCC', startByte: 6, endByte: 12, totalLength: 12 });
  assert.deepEqual(await read(executor('app-1'), { offset: 2, byteLength: 8 }), { text: 'AABBBBCC', startByte: 2, endByte: 10, totalLength: 12 });
  assert.deepEqual(await read(executor('app-1'), { offset: 5, byteLength: 2 }), { text: 'BB', startByte: 5, endByte: 7, totalLength: 12 }, 'inside the .gz');
  assert.deepEqual(await read(executor('app-1'), { offset: 10, byteLength: 100 }), { text: 'CC', startByte: 10, endByte: 12, totalLength: 12 });
  assert.deepEqual(await read(executor('app-1'), { offset: 50 }), { text: '', startByte: 12, endByte: 12, totalLength: 12 }, 'past the end: the end');
  assert.deepEqual(await read(executor('app-1'), { byteLength: 0 }), { text: '', startByte: 12, endByte: 12, totalLength: 12 });
});

test('a range deep inside a large .gz is cut from the decompressed stream', async () => {
  const dir = join(workDir, 'app-gz', '0');
  await mkdir(dir, { recursive: true });
  const big = Array.from({ length: 20_000 }, (_, i) => `${String(i).padStart(6, '0')}\n`).join(''); // 140 KB
  await writeFile(join(dir, 'stdout--2026-12-02.gz'), gzipSync(big));
  const slice = await read(executor('app-gz'), { offset: 7 * 12_345, byteLength: 14 });
  assert.equal(slice.text, '012345\n012346\n');
  assert.equal(slice.totalLength, big.length);
});

test('byteLength is capped at 1 MiB', async () => {
  const slice = await read({ kind: 'driver', driverId: 'driver-1', logType: 'stdout' }, { offset: 0, byteLength: 5_000_000 });
  assert.deepEqual([slice.startByte, slice.endByte, slice.totalLength, slice.text.length], [0, MAX_LOG_BYTES, MAX_LOG_BYTES + 10, MAX_LOG_BYTES]);
});

test('a directory without the log is an empty log; a missing directory is FLINT_LOG_NOT_FOUND', async () => {
  assert.deepEqual(await read(executor('app-empty')), { text: '', startByte: 0, endByte: 0, totalLength: 0 });
  await rejectsWith(read(executor('app-missing')), 'FLINT_LOG_NOT_FOUND', /app-missing/);
  await rejectsWith(readLog({ workDir: join(root, 'no-such-work') }, { target: executor('app-1') }), 'FLINT_LOG_NOT_FOUND', /work dir/);
});

test('a directory that is a symbolic link out of the work dir is refused', async () => {
  await rejectsWith(read(executor('app-link', '.')), 'FLINT_LOG_BAD_REQUEST');
  await mkdir(join(root, 'outside', '0'), { recursive: true });
  await writeFile(join(root, 'outside', '0', 'stdout'), 'SECRET');
  await rejectsWith(read(executor('app-link', '0')), 'FLINT_LOG_NOT_FOUND', /leads outside the work dir/);
});

test('log files that are symbolic links are never followed; a hard link is refused', async () => {
  const viaSymlinks = await read(executor('app-2'));
  assert.deepEqual(viaSymlinks, { text: '', startByte: 0, endByte: 0, totalLength: 0 });
  await rejectsWith(read(executor('app-3')), 'FLINT_LOG_NOT_FOUND', /not a plain file/);
});

test('a work dir reached through a symbolic link still works', async () => {
  await symlink(workDir, join(root, 'work-link'));
  const slice = await readLog({ workDir: join(root, 'work-link') }, { target: executor('app-1'), byteLength: 4 });
  assert.equal(slice.text, 'CCCC');
});

test('typed requests are checked too: ids, log type, offset and byteLength', async () => {
  for (const [target, what] of [
    [executor('../outside', '0'), /^appId="\.\.\/outside" is not a plain id \(letters, digits, '\.', '_', '-', not starting with '\.', '_' or '-'\)$/],
    [executor('app-1', '..'), /executorId/],
    [executor('/etc', 'passwd'), /appId/],
    [executor('app-1', '0/../../..'), /executorId/],
    [{ kind: 'driver', driverId: '..', logType: 'stdout' }, /driverId/],
    [{ kind: 'executor', appId: 'app-1', executorId: '0', logType: '../stdout' }, /logType="\.\.\/stdout" is not a log type; expected stdout or stderr/],
  ] as Array<[LogTarget, RegExp]>) {
    await rejectsWith(read(target), 'FLINT_LOG_BAD_REQUEST', what);
  }
  for (const range of [{ offset: -1 }, { offset: 1.5 }, { byteLength: -5 }, { byteLength: Number.NaN }, { offset: 2 ** 60 }]) {
    await rejectsWith(read(executor('app-1'), range), 'FLINT_LOG_BAD_REQUEST', /is not a byte count/);
  }
});

test('parseLogQuery: Spark\'s parameters, one target, plain ids, whole byte counts', () => {
  assert.deepEqual(parseLogQuery({ appId: 'app-1', executorId: '3', logType: 'stderr', offset: '10', byteLength: '20' }), {
    target: { kind: 'executor', appId: 'app-1', executorId: '3', logType: 'stderr' },
    offset: 10,
    byteLength: 20,
  });
  assert.deepEqual(parseLogQuery({ driverId: 'driver-20261202100000-0001', logType: 'stdout' }), {
    target: { kind: 'driver', driverId: 'driver-20261202100000-0001', logType: 'stdout' },
  });
  assert.deepEqual(parseLogQuery({ self: '', logType: 'out' }), { target: { kind: 'daemon' } });
  const bad: Array<[LogQuery, RegExp]> = [
    [{ appId: 'app-1', logType: 'stdout' }, /either appId and executorId, or driverId, or self/],
    [{ appId: 'app-1', executorId: '0', driverId: 'd', logType: 'stdout' }, /either/],
    [{ logType: 'stdout' }, /either/],
    [{ appId: 'app-1', executorId: '0' }, /logType="" is not a log type/],
    [{ appId: 'app-1', executorId: '0', logType: 'stdin' }, /logType="stdin"/],
    [{ appId: '..', executorId: '0', logType: 'stdout' }, /appId/],
    [{ appId: 'a%2F..', executorId: '0', logType: 'stdout' }, /appId/],
    [{ driverId: 'x'.repeat(300), logType: 'stdout' }, /driverId="x{64}…" is not a plain id/],
    [{ driverId: 'd', logType: 'stdout', offset: '-1' }, /offset="-1" is not a byte count/],
    [{ driverId: 'd', logType: 'stdout', offset: '1e3' }, /offset/],
    [{ driverId: 'd', logType: 'stdout', byteLength: '' }, /byteLength="" is not a byte count/],
    [{ driverId: 'd', logType: 'stdout', byteLength: '99999999999999999' }, /byteLength/],
    [{ self: '1', logType: 'stderr' }, /does not apply to the daemon's own log/],
  ];
  for (const [query, message] of bad) {
    assert.throws(
      () => parseLogQuery(query),
      (err: unknown) => err instanceof LogRequestError && err.code === 'FLINT_LOG_BAD_REQUEST' && message.test(err.message),
      JSON.stringify(query).slice(0, 100),
    );
  }
});

test('the daemon\'s own log: its file and its rolled siblings; none configured is FLINT_LOG_NOT_FOUND', async () => {
  const logs = join(root, 'logs');
  await mkdir(logs);
  await writeFile(join(logs, 'flint-worker.log--2026-12-01'), 'yesterday\n');
  await writeFile(join(logs, 'flint-worker.log'), 'today\n');
  const slice = await readLog({ workDir, daemonLogFile: join(logs, 'flint-worker.log') }, { target: { kind: 'daemon' } });
  assert.equal(slice.text, 'yesterday\ntoday\n');
  await rejectsWith(readLog({ workDir }, { target: { kind: 'daemon' } }), 'FLINT_LOG_NOT_FOUND', /writes no log file/);
});

test('logFiles lists the files in order with their lengths; logReadStream streams them all, decompressed', async () => {
  const files = await logFiles({ workDir }, executor('app-1'));
  assert.deepEqual(
    files.map((f) => [f.path.slice(f.path.lastIndexOf('/') + 1), f.compressed, f.length]),
    [
      ['stdout--2026-12-02--10-00-01--0000', false, 4],
      ['stdout--2026-12-02--10-00-02--0000.gz', true, 4],
      ['stdout', false, 4],
    ],
  );
  assert.equal(await streamText(await logReadStream({ workDir }, executor('app-1'))), 'AAAABBBBCCCC');
  await rejectsWith(logReadStream({ workDir }, executor('..')), 'FLINT_LOG_BAD_REQUEST');
});
