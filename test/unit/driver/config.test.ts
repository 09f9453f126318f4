// driverConfigFromConf: Spark's keys, units and defaults (spark.task.maxFailures 4, spark.driver.maxResultSize 1g
// in bytes, spark.network.timeout 120s in seconds, spark.network.timeoutInterval 60s in ms).
import { describe, test, type TestContext } from 'node:test';
import { FlintConf } from '../../../src/conf/flint-conf.ts';
import { DRIVER_CONFIG_DEFAULTS, driverConfig, driverConfigFromConf } from '../../../src/driver/index.ts';
import { ConfigError } from '../../../src/errors.ts';

const conf = (entries: Record<string, string>) => new FlintConf(Object.entries(entries));

const configError = (key: string, message: RegExp) => (err: unknown) =>
  err instanceof ConfigError && err.key === key && message.test(err.message);

describe('driverConfigFromConf', () => {
  test('defaults', (t: TestContext) => {
    t.plan(2);
    t.assert.deepStrictEqual(driverConfigFromConf(conf({})), {
      maxFailures: 4,
      maxResultSizeBytes: 1024 ** 3,
      executorTimeoutMs: 120_000,
      heartbeatCheckIntervalMs: 60_000,
      prefetchPerCore: 128,
      prefetchQueueTimeMs: 5,
      retainedJobs: 1000,
      retainedTasks: 100_000,
      retainedDeadExecutors: 100,
      decommissionForceKillTimeoutMs: 0,
      taskCpus: 1,
      taskResourceReqs: [],
    });
    t.assert.deepStrictEqual(driverConfig(), DRIVER_CONFIG_DEFAULTS);
  });

  test('reads each key in its unit, flint.* or spark.*', (t: TestContext) => {
    t.plan(2);
    t.assert.deepStrictEqual(
      driverConfigFromConf(
        conf({
          'flint.task.maxFailures': '8',
          'flint.driver.maxResultSize': '512m',
          'spark.network.timeout': '30',
          'flint.network.timeoutInterval': '5s',
          'spark.task.prefetch': '0',
          'flint.task.prefetch.queueTime': '1s',
          'flint.ui.retainedJobs': '5',
          'spark.ui.retainedTasks': '50',
          'flint.ui.retainedDeadExecutors': '0',
          'spark.executor.decommission.forceKillTimeout': '90',
        }),
      ),
      {
        maxFailures: 8,
        maxResultSizeBytes: 512 * 1024 ** 2,
        executorTimeoutMs: 30_000,
        heartbeatCheckIntervalMs: 5_000,
        prefetchPerCore: 0,
        prefetchQueueTimeMs: 1_000,
        retainedJobs: 5,
        retainedTasks: 50,
        retainedDeadExecutors: 0,
        decommissionForceKillTimeoutMs: 90_000,
        taskCpus: 1,
        taskResourceReqs: [],
      },
    );
    t.assert.strictEqual(driverConfigFromConf(conf({ 'flint.driver.maxResultSize': '0' })).maxResultSizeBytes, 0);
  });

  test('bad values give ConfigErrors naming the key', (t: TestContext) => {
    t.plan(5);
    t.assert.throws(
      () => driverConfigFromConf(conf({ 'flint.task.maxFailures': '0' })),
      configError('flint.task.maxFailures', /flint\.task\.maxFailures=0 is too small/),
    );
    t.assert.throws(
      () => driverConfigFromConf(conf({ 'flint.driver.maxResultSize': 'lots' })),
      configError('flint.driver.maxResultSize', /flint\.driver\.maxResultSize: "lots" is not a size/),
    );
    t.assert.throws(
      () => driverConfigFromConf(conf({ 'flint.network.timeout': '0s' })),
      configError('flint.network.timeout', /flint\.network\.timeout must be a whole number ≥ 1, got 0/),
    );
    t.assert.throws(
      () => driverConfigFromConf(conf({ 'flint.network.timeoutInterval': 'soon' })),
      configError('flint.network.timeoutInterval', /not a duration/),
    );
    t.assert.throws(() => driverConfig({ maxFailures: 1.5 }), configError('flint.task.maxFailures', /got 1\.5/));
  });
});
