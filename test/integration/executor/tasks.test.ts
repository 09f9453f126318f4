// The executor program (src/entry/executor.ts) as a real child process with 2 cores, against a driver played by
// this test through the real protocol (test/fixtures/fake-driver.ts) with flint.authenticate on. Covers
// reference §7.3 (bootstrap, RegisterExecutor, LaunchedExecutor, LaunchTask/KillTask/StopExecutor) and the
// Flint parts: code fetched once per worker and cached, large results kept and fetched in chunks.

import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { decodeRecord } from '../../../src/task/record-codec.ts';
import type { AppBundle } from '../../../src/io/bundle/bundle-app.ts';
import { FakeDriver, sliceTask, type StatusUpdateMessage } from '../../fixtures/fake-driver.ts';
import { ChildGroup, waitFor, type ChildHandle } from '../../helpers/process.ts';
import { fixtureBundle, slice, startExecutor } from './helpers.ts';
import { tempDir } from '../../helpers/temp-dir.ts';

const KILL_TIMEOUT_MS = 2_000;

function resultOf(update: StatusUpdateMessage): unknown {
  assert.equal(update.state, 'FINISHED', `task ${update.taskId}: ${JSON.stringify(update.failure)}`);
  assert.ok(update.result, `task ${update.taskId} has a direct result`);
  return decodeRecord(update.result);
}

describe('the executor process', { timeout: 90_000 }, () => {
  const children = new ChildGroup();
  const secret = randomBytes(16).toString('hex');
  let bundle: AppBundle;
  let driver: FakeDriver;
  let workRoot: string;
  let markerDir: string;
  let executor: ChildHandle;

  before(async () => {
    bundle = await fixtureBundle();
    driver = await FakeDriver.start({
      bundle,
      secret,
      conf: {
        'flint.task.maxDirectResultSize': '1k',
        'flint.task.resultChunkSize': '4k',
        'flint.task.killTimeout': `${KILL_TIMEOUT_MS}ms`,
        'flint.executor.heartbeatInterval': '500ms',
      },
    });
    workRoot = tempDir('flint-executor-');
    markerDir = tempDir('flint-markers-');
    executor = startExecutor(children, {
      driverUrl: driver.url,
      appId: driver.appId,
      executorId: '1',
      workRoot,
      secret,
      env: { FLINT_LOG_URL_STDERR: 'http://127.0.0.1:8081/logPage/?executorId=1&logType=stderr' },
    });
  });

  after(async () => {
    await children.killAll();
    await driver?.stop();
    rmSync(workRoot, { recursive: true, force: true });
    rmSync(markerDir, { recursive: true, force: true });
  });

  test('registers with the driver, then sends LaunchedExecutor and heartbeats', async () => {
    await driver.until(() => (driver.launched.includes('1') ? true : undefined), 'LaunchedExecutor from executor 1');
    assert.deepEqual(driver.configRequests, ['1'], 'the app config is asked for once, by the bootstrap');
    const registration = driver.registrations[0];
    assert.ok(registration);
    assert.equal(registration.executorId, '1');
    assert.equal(registration.hostname, '127.0.0.1');
    assert.equal(registration.cores, 2);
    assert.match(registration.executorAddress, /^flint\+client:\/\/Executor@/);
    assert.deepEqual(registration.logUrls, { stderr: 'http://127.0.0.1:8081/logPage/?executorId=1&logType=stderr' });
    assert.ok(driver.codeFetches.length >= 1, 'the code was fetched');
    await driver.until(() => (driver.heartbeats >= 1 ? true : undefined), 'a heartbeat');
  });

  test('map, filter, count, collect, async functions and runJob give the right results, more tasks than cores', async () => {
    driver.launch('1', sliceTask(1, slice([1, 2, 3, 4, 5]), [{ op: 'map', fn: 'square' }], { kind: 'collect' }));
    driver.launch('1', { ...sliceTask(2, slice([]), [{ op: 'filter', fn: 'isEven' }], { kind: 'count' }), source: { kind: 'range', start: 0, end: 10, step: 1 } });
    driver.launch('1', sliceTask(3, slice([1, 2, 3]), [{ op: 'map', fn: 'slowDouble' }], { kind: 'collect' }));
    driver.launch('1', sliceTask(4, slice([]), [], { kind: 'runJob', fn: 'importedAsExecutor' }));
    driver.launch('1', sliceTask(5, slice([]), [], { kind: 'runJob', fn: 'secretInEnv' }));
    const [t1, t2, t3, t4, t5] = await Promise.all([1, 2, 3, 4, 5].map((id) => driver.finalStatus(id)));
    assert.deepEqual(resultOf(t1 as StatusUpdateMessage), [1, 4, 9, 16, 25]);
    assert.equal(resultOf(t2 as StatusUpdateMessage), 5);
    assert.equal(t2?.metrics?.records, 5);
    assert.deepEqual(resultOf(t3 as StatusUpdateMessage), [2, 4, 6]);
    assert.equal(resultOf(t4 as StatusUpdateMessage), true, 'the bundle was imported with the executor flag set');
    assert.equal(resultOf(t5 as StatusUpdateMessage), null, 'FLINT_AUTH_SECRET is gone before app code runs');
    for (const id of [1, 2, 3, 4, 5]) {
      const states = driver.statusUpdates.filter((s) => s.taskId === id).map((s) => s.state);
      assert.deepEqual(states, ['FINISHED'], `task ${id}: one update, FINISHED (no RUNNING updates)`);
    }
  });

  test('a LaunchTasks batch runs each of its tasks, in order, each answered once', async () => {
    const ids = Array.from({ length: 16 }, (_, i) => 501 + i);
    driver.launchBatch('1', ids.map((id) => sliceTask(id, slice([id, 1]), [{ op: 'map', fn: 'square' }], { kind: 'collect' })));
    const finals = await Promise.all(ids.map((id) => driver.finalStatus(id)));
    finals.forEach((update, i) => assert.deepEqual(resultOf(update), [(ids[i] as number) ** 2, 1], `task ${ids[i]}`));
    for (const id of ids) assert.equal(driver.statusUpdates.filter((s) => s.taskId === id).length, 1, `task ${id}: one update`);
  });

  test('a thrown error comes back FAILED with its name, message and stack; so does a missing export', async () => {
    driver.launch('1', sliceTask(6, slice([1, 2, 3, 4]), [{ op: 'map', fn: 'explode' }], { kind: 'collect' }));
    driver.launch('1', sliceTask(7, slice([1]), [{ op: 'map', fn: 'nope' }], { kind: 'collect' }));
    const failed = await driver.finalStatus(6);
    assert.equal(failed.state, 'FAILED');
    assert.equal(failed.failure?.name, 'RangeError');
    assert.equal(failed.failure?.message, 'no threes, got 3');
    assert.match(failed.failure?.stack ?? '', /explode/);
    const missing = await driver.finalStatus(7);
    assert.equal(missing.state, 'FAILED');
    assert.equal(missing.failure?.name, 'TaskFunctionNotFoundError');
    assert.match(missing.failure?.message ?? '', /no export named "nope"/);
  });

  test('records keep their types both ways: Maps, Sets, Dates, BigInts, typed arrays, undefined, -0', async () => {
    const records = [0, 1, 2].map((i) => ({
      m: new Map([[`k${i}`, 2n ** 70n + BigInt(i)]]),
      s: new Set<unknown>([i, 'x', undefined, new Date(i)]),
      d: new Date(Date.UTC(2024, 1, 29, i)),
      b: -(2n ** 65n) - BigInt(i),
      i16: new Int16Array([-i, 300]),
      f64: new Float64Array([Math.PI, -0, Number.NaN]),
      u64: new BigUint64Array([2n ** 64n - 1n]),
      bytes: new Uint8Array([i, 255]),
      u: undefined,
      z: -0,
    }));
    driver.launch('1', sliceTask(17, slice(records), [{ op: 'map', fn: 'checkTyped' }], { kind: 'collect' }));
    assert.deepStrictEqual(resultOf(await driver.finalStatus(17)), records);
  });

  test('a result that cannot be encoded fails at once: named type, path, supported types, retryable false', async () => {
    driver.launch('1', sliceTask(18, slice([1, 2]), [{ op: 'map', fn: 'toFunction' }], { kind: 'collect' }));
    const failed = await driver.finalStatus(18);
    assert.equal(failed.state, 'FAILED');
    assert.equal(failed.failure?.name, 'RecordEncodeError');
    assert.equal(failed.failure?.retryable, false, 'the driver will not retry it');
    assert.match(failed.failure?.message ?? '', /^records\[0\] is a function sq, which cannot be sent .* Records may hold: .*Map, Set, Date/);
    const updates = driver.statusUpdates.filter((s) => s.taskId === 18).map((s) => s.state);
    assert.deepEqual(updates, ['FAILED'], 'one attempt, one update');
  });

  test('a result over flint.task.maxDirectResultSize is kept, fetched in chunks, then released', async () => {
    driver.launch('1', sliceTask(8, slice([5_000]), [{ op: 'map', fn: 'letters' }], { kind: 'collect' }));
    const done = await driver.finalStatus(8);
    assert.equal(done.state, 'FINISHED');
    assert.equal(done.result, undefined);
    const indirect = done.indirectResult;
    assert.ok(indirect && indirect.bytes > 4_096, JSON.stringify(done));
    assert.equal(indirect.chunks, Math.ceil(indirect.bytes / 4_096));
    const chunks: Uint8Array[] = [];
    for (let i = 0; i < indirect.chunks; i++) chunks.push(await driver.fetchChunk('1', 8, i));
    const whole = Buffer.concat(chunks);
    assert.equal(whole.byteLength, indirect.bytes);
    assert.deepEqual(decodeRecord(whole), ['abcdefghij'.repeat(500)]);
    await assert.rejects(driver.fetchChunk('1', 8, indirect.chunks), /there is no chunk/);
    driver.executor('1').send({ type: 'ReleaseTaskResult', taskId: 8 });
    await assert.rejects(driver.fetchChunk('1', 8, 0), /keeps no result of task 8/);
  });

  test('KillTask: a task stuck in a synchronous loop ends KILLED; the executor runs on', async () => {
    // The whole executor: the task has started (its marker exists), so KILLED comes only once its thread is
    // ended after flint.task.killTimeout, and the executor keeps running tasks on both threads.
    const marker = join(markerDir, 'task-9-started');
    driver.launch('1', sliceTask(9, slice([{ marker, n: 1 }]), [{ op: 'map', fn: 'markStarted' }, { op: 'map', fn: 'spin' }], { kind: 'collect' }));
    await waitFor(() => existsSync(marker), { timeoutMs: 15_000, intervalMs: 5, what: 'task 9 to start (its marker file)' });
    const killedAt = performance.now();
    driver.executor('1').send({ type: 'KillTask', taskId: 9, reason: 'stage cancelled' });
    const killed = await driver.finalStatus(9);
    assert.equal(killed.state, 'KILLED');
    // A synchronous loop never sees its abort flag: only ending its thread, after the grace time, stops it.
    assert.ok(performance.now() - killedAt >= KILL_TIMEOUT_MS - 50, `KILLED after ${Math.round(performance.now() - killedAt)} ms, before flint.task.killTimeout`);
    assert.equal(killed.failure?.message, 'stage cancelled');
    const later = [10, 11, 12, 13].map((id) => sliceTask(100 + id, slice([id]), [{ op: 'map', fn: 'square' }], { kind: 'collect' }));
    for (const task of later) driver.launch('1', task);
    for (const id of [10, 11, 12, 13]) assert.deepEqual(resultOf(await driver.finalStatus(100 + id)), [id * id]);
  });

  test('KillTask: a task that yields between records sees its abort flag and ends KILLED before the grace time', async () => {
    const marker = join(markerDir, 'task-12-started');
    const records = Array.from({ length: 5_000 }, (_, n) => ({ marker, n }));
    driver.launch('1', sliceTask(12, slice(records), [{ op: 'map', fn: 'markStarted' }, { op: 'map', fn: 'sleepy' }], { kind: 'count' }));
    await waitFor(() => existsSync(marker), { timeoutMs: 15_000, intervalMs: 5, what: 'task 12 to start (its marker file)' });
    const killedAt = performance.now();
    driver.executor('1').send({ type: 'KillTask', taskId: 12, reason: 'job cancelled' });
    const killed = await driver.finalStatus(12);
    assert.equal(killed.state, 'KILLED');
    assert.ok(performance.now() - killedAt < KILL_TIMEOUT_MS - 500, 'stopped by its flag, not by ending its thread');
  });

  test('an error that ends its thread fails the task (ExecutorThreadLost); a fresh thread takes its place', async () => {
    driver.launch('1', sliceTask(14, slice([]), [], { kind: 'runJob', fn: 'crashThread' }));
    const lost = await driver.finalStatus(14);
    assert.equal(lost.state, 'FAILED');
    assert.equal(lost.failure?.name, 'ExecutorThreadLost');
    assert.match(lost.failure?.message ?? '', /task 14 died: uncaught in a timer/);
    driver.launch('1', sliceTask(15, slice([5]), [{ op: 'map', fn: 'square' }], { kind: 'collect' }));
    driver.launch('1', sliceTask(16, slice([6]), [{ op: 'map', fn: 'slowDouble' }], { kind: 'collect' }));
    assert.deepEqual(resultOf(await driver.finalStatus(15)), [25]);
    assert.deepEqual(resultOf(await driver.finalStatus(16)), [12]);
  });

  test('the code is cached in <cwd>/../code; a second executor of the app uses it without FetchAppCode', async () => {
    const cached = join(workRoot, driver.appId, 'code', `${bundle.hash}.mjs`);
    assert.ok(existsSync(cached), `${cached} exists`);
    assert.equal(createHash('sha256').update(readFileSync(cached)).digest('hex'), bundle.hash);
    const fetchesBefore = driver.codeFetches.length;
    const second = startExecutor(children, { driverUrl: driver.url, appId: driver.appId, executorId: '2', workRoot, secret, cores: 1 });
    await driver.until(() => (driver.launched.includes('2') ? true : undefined), 'LaunchedExecutor from executor 2');
    assert.equal(driver.codeFetches.length, fetchesBefore, 'no FetchAppCode from the second executor');
    driver.launch('2', sliceTask(13, slice([6]), [{ op: 'map', fn: 'square' }], { kind: 'collect' }));
    assert.deepEqual(resultOf(await driver.finalStatus(13)), [36]);
    const stoppedAt = performance.now();
    driver.executor('2').send({ type: 'StopExecutor' });
    assert.deepEqual(await second.exited, { code: 0, signal: null }, 'StopExecutor ends it with code 0');
    const stopMs = performance.now() - stoppedAt;
    // What this guards: nothing (a timer, a socket, a task thread) keeps the process alive after StopExecutor. A
    // held handle keeps it for good; 10 s leaves room for a loaded machine (1.3 s seen with both CPUs busy).
    assert.ok(stopMs < 10_000, `StopExecutor ends it without waiting on anything (took ${Math.round(stopMs)} ms)`);
  });

  test('the secret appears in no log line', () => {
    assert.ok(executor.alive, 'executor 1 is still running');
    assert.ok(!executor.stderr().includes(secret));
  });
});
