// The worker's configuration at its edges (reference §6.1): every numeric key accepts its least value and refuses
// the one below it with a ConfigError that names the key, as the operator wrote it; the master URL check; the
// keys workerConfigFromConf reads; and the registration jitter drawn from the injected Rng. Found by mutation
// testing (docs/testing.md).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FlintConf } from '../../../src/conf/flint-conf.ts';
import { ConfigError } from '../../../src/errors.ts';
import { registrationIntervals, workerConfig, workerConfigFromConf, type WorkerConfigInput } from '../../../src/worker/index.ts';
import { fixedRng } from './harness.ts';

const base: WorkerConfigInput = { host: 'h', port: 7078, cores: 4, memoryMb: 4096, workDir: '/var/flint/work', masterUrls: ['flint://m:7077'] };

const refusedWith = (key: string, message?: string) => (err: unknown) =>
  err instanceof ConfigError && err.key === key && (message === undefined || err.message.includes(message));

// [field, the ConfigError key, the least value accepted]
const MINIMA: ReadonlyArray<[keyof WorkerConfigInput, string, number]> = [
  ['port', 'port', 1],
  ['webUiPort', 'webUiPort', 0],
  ['cores', '--cores', 1],
  ['memoryMb', '--memory', 1],
  ['workerTimeoutMs', 'flint.worker.timeout', 4],
  ['initialRegistrationRetries', 'flint.worker.initialRegistrationRetries', 0],
  ['totalRegistrationRetries', 'flint.worker.maxRegistrationRetries', 0],
  ['initialRegistrationRetryIntervalMs', 'initialRegistrationRetryIntervalMs', 1],
  ['prolongedRegistrationRetryIntervalMs', 'prolongedRegistrationRetryIntervalMs', 1],
  ['retainedExecutors', 'flint.worker.ui.retainedExecutors', 0],
  ['retainedDrivers', 'flint.worker.ui.retainedDrivers', 0],
  ['executorStateSyncMaxAttempts', 'flint.worker.executorStateSync.maxAttempts', 1],
  ['askTimeoutMs', 'flint.rpc.askTimeout', 1],
];

test('each numeric key takes its least value and refuses the one below, naming the key and the bound', () => {
  for (const [field, key, min] of MINIMA) {
    assert.equal(workerConfig({ ...base, [field]: min })[field], min, `${field} = ${min} accepted`);
    assert.throws(
      () => workerConfig({ ...base, [field]: min - 1 }),
      refusedWith(key, `${key}=${min - 1} is invalid; expected a whole number of at least ${min}`),
      `${field} = ${min - 1}`,
    );
    assert.throws(() => workerConfig({ ...base, [field]: min + 0.5 }), refusedWith(key), `${field} = ${min + 0.5}`);
  }
});

test('the cleanup interval, data TTL and compile cache size are checked too, inside cleanup', () => {
  assert.deepEqual(workerConfig({ ...base, cleanup: { intervalMs: 1, appDataTtlMs: 0, compileCacheMaxBytes: 0 } }).cleanup, { enabled: true, intervalMs: 1, appDataTtlMs: 0, compileCacheMaxBytes: 0 });
  assert.throws(() => workerConfig({ ...base, cleanup: { compileCacheMaxBytes: -1 } }), refusedWith('flint.worker.cleanup.compileCacheMaxSize'));
  assert.throws(() => workerConfig({ ...base, cleanup: { intervalMs: 0 } }), refusedWith('flint.worker.cleanup.interval'));
  assert.throws(() => workerConfig({ ...base, cleanup: { appDataTtlMs: -1 } }), refusedWith('flint.worker.cleanup.appDataTtl'));
});

test('an empty host, a relative Flint home and a missing master are refused with their keys', () => {
  assert.throws(() => workerConfig({ ...base, host: '' }), refusedWith('host', 'the worker host must not be empty'));
  assert.throws(() => workerConfig({ ...base, flintHome: 'opt/flint' }), refusedWith('flintHome', 'the Flint home "opt/flint" must be an absolute path'));
  assert.equal(workerConfig({ ...base, flintHome: '/opt/flint' }).flintHome, '/opt/flint');
  assert.throws(() => workerConfig({ ...base, masterUrls: [] }), refusedWith('masters', 'a worker needs at least one master URL'));
});

test('master URLs: flint:// or spark://, host:port, an optional trailing slash, surrounding blanks ignored', () => {
  for (const url of ['flint://m:7077', 'spark://m:7077', 'flint://m:7077/', ' flint://10.0.0.1:1 ']) {
    assert.doesNotThrow(() => workerConfig({ ...base, masterUrls: [url] }), url);
  }
  for (const url of ['flint://Master@m:7077', 'flint://m', 'flint://m:123456', 'flint://m:7077/x', 'xflint://m:7077', 'flint://m:7077 x']) {
    assert.throws(
      () => workerConfig({ ...base, masterUrls: ['flint://ok:1', url] }),
      refusedWith('masters', `"${url}" is not a master URL; expected flint://host:port`),
      url,
    );
  }
});

test('the public address defaults to the host; a configured one is kept', () => {
  assert.equal(workerConfig(base).publicAddress, 'h');
  assert.equal(workerConfig({ ...base, publicAddress: 'worker.example' }).publicAddress, 'worker.example');
});

test('workerConfigFromConf: each key overrides base, an unset key keeps base, and the bounds hold', () => {
  const fromBase = workerConfigFromConf(new FlintConf(), {
    ...base,
    workerTimeoutMs: 8000,
    initialRegistrationRetries: 1,
    totalRegistrationRetries: 2,
    initialRegistrationRetryIntervalMs: 3000,
    preferConfiguredMasterAddress: true,
    cleanup: { enabled: false, intervalMs: 5000, appDataTtlMs: 6000, compileCacheMaxBytes: 4096 },
    retainedExecutors: 7,
    retainedDrivers: 8,
    executorStateSyncMaxAttempts: 9,
    askTimeoutMs: 10_000,
    decommissionEnabled: true,
  });
  assert.deepEqual(
    [
      fromBase.workerTimeoutMs,
      fromBase.initialRegistrationRetries,
      fromBase.totalRegistrationRetries,
      fromBase.initialRegistrationRetryIntervalMs,
      fromBase.preferConfiguredMasterAddress,
      fromBase.cleanup,
      fromBase.retainedExecutors,
      fromBase.retainedDrivers,
      fromBase.executorStateSyncMaxAttempts,
      fromBase.askTimeoutMs,
      fromBase.decommissionEnabled,
    ],
    [8000, 1, 2, 3000, true, { enabled: false, intervalMs: 5000, appDataTtlMs: 6000, compileCacheMaxBytes: 4096 }, 7, 8, 9, 10_000, true],
  );
  const conf = new FlintConf([
    ['flint.worker.registrationRetryInterval', '2'],
    ['flint.worker.ui.retainedDrivers', '0'],
    ['flint.worker.executorStateSync.maxAttempts', '3'],
    ['flint.rpc.askTimeout', '5s'],
    ['flint.network.timeout', '90s'],
  ]);
  const c = workerConfigFromConf(conf, base);
  assert.equal(c.initialRegistrationRetryIntervalMs, 2000, 'a bare number is seconds');
  assert.equal(c.retainedDrivers, 0);
  assert.equal(c.executorStateSyncMaxAttempts, 3);
  assert.equal(c.askTimeoutMs, 5000, 'flint.rpc.askTimeout wins over flint.network.timeout');
  for (const [key, value] of [
    ['flint.worker.initialRegistrationRetries', '-1'],
    ['flint.worker.maxRegistrationRetries', '-1'],
    ['flint.worker.ui.retainedExecutors', '-1'],
    ['flint.worker.ui.retainedDrivers', '-1'],
    ['flint.worker.executorStateSync.maxAttempts', '0'],
  ] as const) {
    assert.throws(() => workerConfigFromConf(new FlintConf([[key, value]]), base), ConfigError, `${key}=${value}`);
  }
});

test('registration intervals: one fuzz factor in [0.5, 1.5) scales both, rounded to ms and at least 1 ms', () => {
  const config = workerConfig({ ...base, initialRegistrationRetryIntervalMs: 10_000, prolongedRegistrationRetryIntervalMs: 60_000 });
  assert.deepEqual(registrationIntervals(config, fixedRng(0)), { fuzz: 0.5, initialMs: 5000, prolongedMs: 30_000 });
  assert.deepEqual(registrationIntervals(config, fixedRng(0.75)), { fuzz: 1.25, initialMs: 12_500, prolongedMs: 75_000 });
  const tiny = workerConfig({ ...base, initialRegistrationRetryIntervalMs: 1, prolongedRegistrationRetryIntervalMs: 1 });
  assert.deepEqual(registrationIntervals(tiny, fixedRng(0)), { fuzz: 0.5, initialMs: 1, prolongedMs: 1 });
  for (const draw of [-0.1, 1, Number.NaN]) {
    assert.throws(
      () => registrationIntervals(config, { next: () => draw, nextInt: () => 0 }),
      (err: unknown) => err instanceof RangeError && err.message === `Rng.next() returned ${draw}, outside [0, 1)`,
      String(draw),
    );
  }
});
