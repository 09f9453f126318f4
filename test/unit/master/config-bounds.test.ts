// The master's configuration at its edges (reference §4.3): each key takes its least value and refuses the one
// below with a ConfigError naming the key, as the operator wrote it, and the value. Found by mutation testing
// (docs/testing.md).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ConfigError } from '../../../src/errors.ts';
import { masterConfig, type MasterConfigInput } from '../../../src/master/index.ts';

const base: MasterConfigInput = { host: 'm', port: 7077 };

const refusedWith = (key: string, message: string) => (err: unknown) => err instanceof ConfigError && err.key === key && err.message === message;

// [field, the ConfigError key, the least value accepted]
const POSITIVE: ReadonlyArray<[keyof MasterConfigInput, string]> = [
  ['workerTimeoutMs', 'flint.worker.timeout'],
  ['recoveryTimeoutMs', 'flint.deploy.recoveryTimeout'],
  ['defaultCores', 'flint.deploy.defaultCores'],
  ['maxDrivers', 'flint.deploy.maxDrivers'],
  ['retainedApplications', 'flint.deploy.retainedApplications'],
  ['retainedDrivers', 'flint.deploy.retainedDrivers'],
];
const NON_NEGATIVE: ReadonlyArray<[keyof MasterConfigInput, string]> = [
  ['deadWorkerPersistence', 'flint.dead.worker.persistence'],
  ['executorMinUptimeMs', 'flint.deploy.executorMinUptime'],
  ['executorRelaunchBackoffMs', 'flint.deploy.executorRelaunchBackoff'],
  ['executorRelaunchBackoffMaxMs', 'flint.deploy.executorRelaunchBackoffMax'],
];

test('positive keys take 1 and refuse 0 and fractions, naming the key and the value', () => {
  for (const [field, key] of POSITIVE) {
    assert.equal(masterConfig({ ...base, [field]: 1, executorRelaunchBackoffMs: 0 })[field], 1, `${field} = 1`);
    for (const bad of [0, 2.5]) {
      assert.throws(() => masterConfig({ ...base, [field]: bad }), refusedWith(key, `${key} must be a positive integer, got ${bad}`), `${field} = ${bad}`);
    }
  }
});

test('non-negative keys take 0 and refuse −1 and fractions, naming the key and the value', () => {
  for (const [field, key] of NON_NEGATIVE) {
    assert.equal(masterConfig({ ...base, executorRelaunchBackoffMs: 0, [field]: 0 })[field], 0, `${field} = 0`);
    for (const bad of [-1, 0.5]) {
      assert.throws(
        () => masterConfig({ ...base, executorRelaunchBackoffMs: 0, executorRelaunchBackoffMaxMs: 100, [field]: bad }),
        refusedWith(key, `${key} must be an integer ≥ 0, got ${bad}`),
        `${field} = ${bad}`,
      );
    }
  }
});

test('the relaunch backoff maximum may equal the first step, not be below it', () => {
  const c = masterConfig({ ...base, executorRelaunchBackoffMs: 500, executorRelaunchBackoffMaxMs: 500 });
  assert.deepEqual([c.executorRelaunchBackoffMs, c.executorRelaunchBackoffMaxMs], [500, 500]);
  assert.throws(
    () => masterConfig({ ...base, executorRelaunchBackoffMs: 500, executorRelaunchBackoffMaxMs: 499 }),
    refusedWith(
      'flint.deploy.executorRelaunchBackoffMax',
      'flint.deploy.executorRelaunchBackoffMax (499 ms) must be ≥ flint.deploy.executorRelaunchBackoff (500 ms)',
    ),
  );
});

test('maxExecutorRetries takes any integer (−1 disables the limit), not a fraction', () => {
  assert.equal(masterConfig({ ...base, maxExecutorRetries: 0 }).maxExecutorRetries, 0);
  assert.throws(
    () => masterConfig({ ...base, maxExecutorRetries: 0.5 }),
    refusedWith('flint.deploy.maxExecutorRetries', 'flint.deploy.maxExecutorRetries must be an integer (−1 disables), got 0.5'),
  );
});

test('an explicit recovery timeout wins over the worker timeout; URLs bracket an IPv6 host', () => {
  assert.equal(masterConfig({ ...base, workerTimeoutMs: 30_000, recoveryTimeoutMs: 5000 }).recoveryTimeoutMs, 5000);
  const c = masterConfig({ host: 'fe80::1', port: 7077, webUiPort: 8090 });
  assert.deepEqual([c.masterUrl, c.masterAddress, c.masterWebUiUrl], ['flint://[fe80::1]:7077', 'flint://Master@[fe80::1]:7077', 'http://[fe80::1]:8090']);
});
