// The executor's config (keys, defaults, Spark's units and checks) and how thrown values become TaskFailures.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FlintConf } from '../../../src/conf/flint-conf.ts';
import { ConfigError } from '../../../src/errors.ts';
import { executorConfigFromConf } from '../../../src/executor/index.ts';
import { taskFailureOf } from '../../../src/task/index.ts';
import { launchArgs } from './harness.ts';

const fromConf = (entries: Record<string, string>) => executorConfigFromConf(new FlintConf(Object.entries(entries)), launchArgs());

test('defaults: 10 s heartbeats, 60 failures, 1 MiB direct results, 4 MiB chunks, 1 GiB max result', () => {
  const config = fromConf({});
  assert.equal(config.heartbeatIntervalMs, 10_000);
  assert.equal(config.heartbeatMaxFailures, 60);
  assert.equal(config.maxDirectResultSizeBytes, 1024 * 1024);
  assert.equal(config.resultChunkBytes, 4 * 1024 * 1024);
  assert.equal(config.maxResultSizeBytes, 1024 ** 3);
  assert.equal(config.cores, 2);
  assert.equal(config.executorId, '3');
});

test("keys are read with Spark's units and spellings: bare heartbeat interval in ms, bare sizes in bytes", () => {
  const config = fromConf({
    'spark.executor.heartbeatInterval': '500',
    'flint.executor.heartbeat.maxFailures': '7',
    'spark.task.maxDirectResultSize': '2048',
    'flint.task.resultChunkSize': '1m',
    'flint.driver.maxResultSize': '0',
  });
  assert.equal(config.heartbeatIntervalMs, 500);
  assert.equal(config.heartbeatMaxFailures, 7);
  assert.equal(config.maxDirectResultSizeBytes, 2048);
  assert.equal(config.resultChunkBytes, 1024 * 1024);
  assert.equal(config.maxResultSizeBytes, 0, '0 means unlimited');
});

test('SparkConf: flint.network.timeout must exceed the heartbeat interval', () => {
  assert.throws(
    () => fromConf({ 'flint.network.timeout': '10s' }),
    (err: unknown) =>
      err instanceof ConfigError &&
      err.key === 'flint.network.timeout' &&
      /flint\.network\.timeout=10000ms must be greater than the value of flint\.executor\.heartbeatInterval=10000ms/.test(err.message),
  );
});

test('bad values are ConfigErrors naming the key', () => {
  for (const [key, value] of [
    ['flint.executor.heartbeat.maxFailures', '0'],
    ['flint.executor.heartbeatInterval', 'often'],
    ['flint.task.maxDirectResultSize', 'big'],
    ['flint.task.resultChunkSize', '0'],
  ] as const) {
    assert.throws(() => fromConf({ [key]: value }), (err: unknown) => err instanceof ConfigError && err.key === key, key);
  }
});

test('taskFailureOf keeps an Error’s name, message and stack', () => {
  const err = new RangeError('too far');
  assert.deepEqual(taskFailureOf(err), { name: 'RangeError', message: 'too far', stack: err.stack });
});

test('taskFailureOf describes thrown non-Errors', () => {
  assert.deepEqual(taskFailureOf('plain'), { name: 'NonErrorThrown', message: 'The task threw a non-Error value: plain', stack: '' });
  assert.deepEqual(taskFailureOf({ code: 7 }), { name: 'NonErrorThrown', message: 'The task threw a non-Error value: {"code":7}', stack: '' });
  assert.deepEqual(taskFailureOf({ name: 'Custom', message: 'like an error' }), { name: 'Custom', message: 'like an error', stack: '' });
  const cyclic: Record<string, unknown> = {};
  cyclic['self'] = cyclic;
  assert.equal(taskFailureOf(cyclic).message, 'The task threw a non-Error value: [object Object]');
  assert.equal(taskFailureOf(undefined).message, 'The task threw a non-Error value: undefined');
});
