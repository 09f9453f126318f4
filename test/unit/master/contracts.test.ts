// Contracts around the machine: config defaults and checks, id formats, the input/effect unions, and that
// every message and record the machine emits passes its schema (the adapter and the store re-check them).
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Value } from '@sinclair/typebox/value';
import { ConfigError } from '../../../src/errors.ts';
import { mergeCatalogs } from '../../../src/protocol/catalog.ts';
import { MasterToApp, MasterToWorker, type MasterToApp as ToApp, type MasterToWorker as ToWorker } from '../../../src/protocol/messages.ts';
import {
  formatApplicationId,
  formatJavaDate,
  isMasterAsk,
  masterConfig,
  PersistedRecord,
  type MasterEffect,
} from '../../../src/master/index.ts';
import { envIdOf } from '../../../src/protocol/addresses.ts';
import { aliveMaster, persistedApp, persistedDriver, persistedWorker, TestMaster, workerSpec } from './harness.ts';

describe('masterConfig', () => {
  test('Spark defaults, URLs derived from host and port, recovery timeout = worker timeout', () => {
    const c = masterConfig({ host: 'm1', port: 7077, workerTimeoutMs: 30_000 });
    assert.equal(c.masterUrl, 'flint://m1:7077');
    assert.equal(c.masterAddress, 'flint://Master@m1:7077');
    assert.equal(c.masterWebUiUrl, 'http://m1:8080');
    assert.equal(c.recoveryTimeoutMs, 30_000);
    assert.equal(c.deadWorkerPersistence, 15);
    assert.equal(c.maxExecutorRetries, 10);
    assert.equal(c.retainedApplications, 200);
    assert.equal(c.retainedDrivers, 200);
    assert.equal(c.spreadOutApps, true);
    assert.equal(c.spreadOutDrivers, true);
    assert.equal(c.workerSelectionPolicy, 'CORES_FREE_DESC');
    assert.equal(c.defaultCores, undefined, 'unlimited');
    assert.equal(c.maxDrivers, undefined, 'unlimited');
    assert.equal(masterConfig({ host: '::1', port: 7077 }).masterUrl, 'flint://[::1]:7077');
    assert.equal(masterConfig({ host: 'm', port: 1, workerTimeoutMs: undefined }).workerTimeoutMs, 60_000);
  });

  test('bad values are refused with the key named', () => {
    assert.throws(() => masterConfig({ host: 'm', port: 1, defaultCores: 0 }), (e: unknown) => e instanceof ConfigError && e.key === 'flint.deploy.defaultCores');
    assert.throws(() => masterConfig({ host: 'm', port: 1, maxDrivers: -1 }), ConfigError);
    assert.throws(() => masterConfig({ host: 'm', port: 1, workerTimeoutMs: 0 }), ConfigError);
    assert.throws(() => masterConfig({ host: 'm', port: 1, maxExecutorRetries: 1.5 }), ConfigError);
    assert.equal(masterConfig({ host: 'm', port: 1, maxExecutorRetries: -1 }).maxExecutorRetries, -1);
  });
});

describe('ids and dates', () => {
  test('app ids pad to 4 digits and grow past 9999', () => {
    const t = Date.UTC(2015, 11, 31, 23, 59, 59);
    assert.equal(formatApplicationId(t, 7), 'app-20151231235959-0007');
    assert.equal(formatApplicationId(t, 12345), 'app-20151231235959-12345');
  });

  test('Java Date.toString, in UTC', () => {
    assert.equal(formatJavaDate(0), 'Thu Jan 01 00:00:00 UTC 1970');
    assert.equal(formatJavaDate(123_456_000), 'Fri Jan 02 10:17:36 UTC 1970');
    assert.equal(formatJavaDate(Date.UTC(2024, 1, 29, 12, 0, 0)), 'Thu Feb 29 12:00:00 UTC 2024');
  });
});

describe('inputs', () => {
  test('isMasterAsk splits asks from one-way messages', () => {
    assert.equal(isMasterAsk({ type: 'RequestReadyz' }), true);
    assert.equal(isMasterAsk({ type: 'ExecutorStateChanged', appId: 'a', execId: 0, state: 'RUNNING' }), true);
    assert.equal(isMasterAsk(workerSpec('w1').message), false);
    assert.equal(isMasterAsk({ type: 'UnregisterApplication', appId: 'a' }), false);
  });

  test('envIdOf maps an endpoint address to the env a disconnection names', () => {
    assert.equal(envIdOf('flint://Worker@10.0.0.1:7001'), 'flint://10.0.0.1:7001');
    assert.equal(envIdOf('spark://Worker@h:1'), 'flint://h:1');
    assert.equal(envIdOf('flint+client://AppClient@abc123'), 'flint+client://abc123');
    assert.equal(envIdOf('flint://h:1'), 'flint://h:1');
  });
});

describe('everything emitted passes its schema', () => {
  const outbound = mergeCatalogs<ToWorker | ToApp>('MasterOutbound', MasterToWorker, MasterToApp);

  function checkAll(effects: readonly MasterEffect[]): number {
    let checked = 0;
    for (const e of effects) {
      if (e.kind === 'Send') {
        const r = outbound.check(e.message);
        assert.equal(r.ok, true, r.ok ? '' : r.reason);
        checked += 1;
      } else if (e.kind === 'Persist') {
        assert.ok(Value.Check(PersistedRecord, e.record), `record ${e.key}`);
        assert.ok(e.key.endsWith(e.record.id));
        checked += 1;
      }
    }
    return checked;
  }

  test('a busy life: workers, apps, drivers, failures, loss, recovery', () => {
    let checked = 0;
    const m = aliveMaster({ workerTimeoutMs: 1_000, maxExecutorRetries: 2 });
    const run = (effects: readonly MasterEffect[]): void => {
      checked += checkAll(effects);
    };
    run(m.registerWorker('w1', { cores: 4 }));
    run(m.registerWorker('w2', { cores: 4 }));
    const d = m.submitDriver({ supervise: true });
    run(d.effects);
    const a = m.registerApp('a', { coresPerExecutor: 1 });
    run(a.effects);
    run(m.executorStateChanged(a.appId, 0, 'RUNNING').effects);
    run(m.executorStateChanged(a.appId, 1, 'FAILED', 1).effects);
    run(m.send({ type: 'WorkerLatestState', id: 'w1', executors: [{ appId: 'zz', execId: 1, cores: 1, memoryMb: 1, state: 'RUNNING' }], driverIds: ['zz'] }));
    m.advance(500);
    run(m.heartbeat('w2'));
    m.advance(600);
    run(m.timer('CheckForWorkerTimeOut'));
    run(m.heartbeat('w1'));
    run(m.ask({ type: 'KillExecutors', appId: a.appId, executorIds: ['2'] }).effects);
    run(m.ask({ type: 'RequestKillAllDrivers' }).effects);
    run(m.machine.handle({ kind: 'KillApplication', appId: a.appId }, m.now));
    const r = new TestMaster();
    run(r.elect({ apps: [persistedApp('app-1', 'x')], drivers: [persistedDriver('driver-1', { supervise: true })], workers: [persistedWorker('w5')] }));
    run(r.registerWorker('w6'));
    r.advance(60_000);
    run(r.timer('CompleteRecovery'));
    assert.ok(checked > 30, `checked ${checked} messages and records`);
  });
});
