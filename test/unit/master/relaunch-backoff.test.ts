// Crash loops end (src/master/relaunch-backoff.ts, docs/differences-from-spark.md): an executor that fails
// within flint.deploy.executorMinUptime of reporting RUNNING counts toward flint.deploy.maxExecutorRetries
// (Spark's Master resets the count on any RUNNING), and relaunches on the worker where it failed back off.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ConfigError } from '../../../src/errors.ts';
import { masterConfig, type MasterConfigInput, type MasterEffect } from '../../../src/master/index.ts';
import { FlintConf } from '../../../src/conf/flint-conf.ts';
import { masterConfigFromConf } from '../../../src/daemons/master-conf.ts';
import { aliveMaster, appAddress, logs, ofKind, sent, type TestMaster } from './harness.ts';

/** One 4-core worker per id, and an app whose single executor takes a whole worker. */
function crashLoopApp(config: Partial<MasterConfigInput> = {}, workers = ['w1']) {
  const m = aliveMaster(config);
  for (const id of workers) m.registerWorker(id, { cores: 4 });
  const { appId } = m.registerApp('a', { coresPerExecutor: 4, maxCores: 4 });
  return { m, appId };
}

/** The executor reports RUNNING, runs `uptimeMs` by the master's clock, then exits with code 1. */
function runThenCrash(m: TestMaster, appId: string, execId: number, uptimeMs: number): MasterEffect[] {
  m.executorStateChanged(appId, execId, 'RUNNING');
  m.advance(uptimeMs);
  return m.executorStateChanged(appId, execId, 'EXITED', 1).effects;
}

const launches = (effects: readonly MasterEffect[]) => sent(effects, 'LaunchExecutor').map((s) => ({ to: s.to, execId: s.message.execId }));
const relaunchTimers = (effects: readonly MasterEffect[]) =>
  ofKind(effects, 'StartTimer').filter((e) => e.timer === 'ExecutorRelaunchBackoff').map((e) => e.delayMs);

/** Fires the relaunch timer after its delay; returns the id of the executor launched then (or -1). */
function waitOutBackoff(m: TestMaster, delayMs: number): number {
  m.advance(delayMs);
  return launches(m.timer('ExecutorRelaunchBackoff'))[0]?.execId ?? -1;
}

describe('executor minimum uptime', () => {
  test('an executor that reports RUNNING and fails within the minimum uptime is counted', () => {
    const { m, appId } = crashLoopApp();
    runThenCrash(m, appId, 0, 500);
    assert.equal(m.app(appId).retryCount, 1);
    const next = waitOutBackoff(m, 1_000);
    runThenCrash(m, appId, next, 9_999);
    assert.equal(m.app(appId).retryCount, 2, 'its RUNNING did not clear the first failure (Spark would say 1)');
  });

  test('a crash loop (RUNNING, then exit 1 after 200 ms) ends FAILED after maxExecutorRetries launches', () => {
    const { m, appId } = crashLoopApp({ maxExecutorRetries: 4 });
    let execId = 0;
    let launched = 1;
    let last: MasterEffect[] = [];
    for (let i = 0; i < 20 && m.state.idToApp.has(appId); i += 1) {
      last = runThenCrash(m, appId, execId, 200);
      const delay = relaunchTimers(last)[0];
      if (delay === undefined) break;
      execId = waitOutBackoff(m, delay);
      if (execId >= 0) launched += 1;
    }
    assert.equal(launched, 4, 'exactly maxExecutorRetries launches');
    assert.equal(m.state.completedApps[0]?.state, 'FAILED');
    const removed = sent(last, 'ApplicationRemoved');
    assert.equal(removed.length, 1);
    assert.equal(removed[0]?.to, appAddress('a'));
    const text = removed[0]?.message.message ?? '';
    assert.match(text, /^FAILED: 4 executor failures/);
    assert.match(text, /flint\.deploy\.maxExecutorRetries=4/);
    assert.match(text, /flint\.deploy\.executorMinUptime \(10000 ms\)/);
    assert.equal(logs(last, 'error').filter((l) => /failed: 4 executor failures/.test(l)).length, 1, 'logged once');
  });

  test('without the rule (Spark) the same loop would never end: RUNNING alone no longer clears the count', () => {
    const { m, appId } = crashLoopApp({ maxExecutorRetries: 3, executorRelaunchBackoffMs: 0 });
    let execId = 0;
    for (let i = 0; i < 3; i += 1) {
      const effects = runThenCrash(m, appId, execId, 100);
      execId = launches(effects)[0]?.execId ?? -1;
    }
    assert.equal(m.state.idToApp.has(appId), false, 'removed after 3 quick crashes');
  });

  test('an executor that ran for the minimum uptime clears the count, even when it then fails', () => {
    const { m, appId } = crashLoopApp({ executorRelaunchBackoffMs: 0 });
    let execId = 0;
    for (let i = 0; i < 3; i += 1) execId = launches(runThenCrash(m, appId, execId, 100))[0]?.execId ?? -1;
    assert.equal(m.app(appId).retryCount, 3);
    runThenCrash(m, appId, execId, 10_000);
    assert.equal(m.app(appId).retryCount, 1, 'the earlier 3 are cleared; this failure is the first since');
  });

  test('a long-running executor clears the count when another executor fails after its proof', () => {
    const m = aliveMaster({ executorRelaunchBackoffMs: 0, maxExecutorRetries: 3 });
    m.registerWorker('w1', { cores: 4 });
    m.registerWorker('w2', { cores: 4 });
    const appId = m.registerApp('b', { coresPerExecutor: 4 }).appId; // one executor on each worker
    const [healthy, flaky] = [...m.app(appId).executors.keys()] as [number, number];
    let failing = launches(runThenCrash(m, appId, flaky, 100))[0]?.execId ?? -1;
    failing = launches(runThenCrash(m, appId, failing, 100))[0]?.execId ?? -1;
    assert.equal(m.app(appId).retryCount, 2);
    m.executorStateChanged(appId, healthy, 'RUNNING');
    m.advance(10_000);
    runThenCrash(m, appId, failing, 100);
    assert.equal(m.app(appId).retryCount, 1, 'the healthy executor proved itself before this failure');
    assert.equal(m.app(appId).state, 'RUNNING');
  });

  test('a proven executor that leaves without failing (killed by the app, or its worker lost) still clears the count', () => {
    for (const leave of ['KillExecutors', 'worker lost'] as const) {
      const m = aliveMaster({ executorRelaunchBackoffMs: 0 });
      m.registerWorker('w1', { cores: 4 });
      m.registerWorker('w2', { cores: 4 });
      const appId = m.registerApp('b', { coresPerExecutor: 4 }).appId;
      const [healthy, flaky] = [...m.app(appId).executors.keys()] as [number, number];
      m.executorStateChanged(appId, healthy, 'RUNNING');
      runThenCrash(m, appId, flaky, 100);
      m.advance(10_000);
      assert.equal(m.app(appId).retryCount, 1, leave);
      if (leave === 'KillExecutors') m.ask({ type: 'KillExecutors', appId, executorIds: [String(healthy)] });
      else m.disconnect(`flint://10.0.0.1:${7000 + Number(m.app(appId).executors.get(healthy)?.worker.id.slice(1))}`);
      assert.equal(m.app(appId).retryCount, 0, `${leave}: its proof came after the failure`);
    }
  });

  test('an exit 0 or a loss after DECOMMISSIONED is not counted and starts no backoff', () => {
    const { m, appId } = crashLoopApp();
    m.executorStateChanged(appId, 0, 'RUNNING');
    const effects = m.executorStateChanged(appId, 0, 'EXITED', 0).effects;
    assert.equal(m.app(appId).retryCount, 0);
    assert.deepEqual(relaunchTimers(effects), []);
    assert.equal(launches(effects).length, 1, 'replaced at once');
  });
});

describe('relaunch backoff on one worker', () => {
  test('the next executor on the worker waits 1 s, 2 s, 4 s … capped at the maximum', () => {
    const { m, appId } = crashLoopApp({ maxExecutorRetries: -1, executorRelaunchBackoffMaxMs: 5_000 });
    const delays: number[] = [];
    let execId = 0;
    for (let i = 0; i < 5; i += 1) {
      const effects = runThenCrash(m, appId, execId, 50);
      assert.deepEqual(launches(effects), [], 'no relaunch on the same worker at once');
      const delay = relaunchTimers(effects)[0] ?? -1;
      delays.push(delay);
      m.advance(delay - 1);
      assert.deepEqual(launches(m.timer('ExecutorRelaunchBackoff')), [], 'an early firing launches nothing');
      execId = waitOutBackoff(m, 1);
      assert.ok(execId > 0, 'launched when the backoff ends');
    }
    assert.deepEqual(delays, [1_000, 2_000, 4_000, 5_000, 5_000]);
  });

  test('an early firing re-arms the timer for the rest of the backoff', () => {
    const { m, appId } = crashLoopApp();
    runThenCrash(m, appId, 0, 50);
    m.advance(400);
    assert.deepEqual(relaunchTimers(m.timer('ExecutorRelaunchBackoff')), [600]);
  });

  test('another worker takes the replacement at once', () => {
    const { m, appId } = crashLoopApp({}, ['w1', 'w2']);
    const first = m.app(appId).executors.get(0);
    assert.ok(first);
    const failedOn = first.worker.id;
    const effects = runThenCrash(m, appId, 0, 50);
    const relaunched = launches(effects);
    assert.equal(relaunched.length, 1);
    assert.notEqual(m.app(appId).executors.get(relaunched[0]?.execId ?? -1)?.worker.id, failedOn);
  });

  test('the backoff is per app: another app may use the worker', () => {
    const { m, appId } = crashLoopApp();
    runThenCrash(m, appId, 0, 50);
    const other = m.registerApp('b', { coresPerExecutor: 4, maxCores: 4 });
    assert.deepEqual(launches(other.effects), [{ to: 'flint://Worker@10.0.0.1:7001', execId: 0 }]);
  });

  test('a healthy run on the worker resets its backoff to the first step', () => {
    const { m, appId } = crashLoopApp({ maxExecutorRetries: -1 });
    runThenCrash(m, appId, 0, 50);
    const next = waitOutBackoff(m, 1_000);
    const effects = runThenCrash(m, appId, next, 10_000);
    assert.deepEqual(relaunchTimers(effects), [1_000], 'not 2 s: the run in between proved the worker');
  });

  test('no "requires more resource" warning while the only worker is in backoff', () => {
    const { m, appId } = crashLoopApp();
    const effects = runThenCrash(m, appId, 0, 50);
    assert.deepEqual(logs(effects, 'warn').filter((l) => /requires more resource/.test(l)), []);
  });

  test('the timer is cancelled when no backoff is left ahead', () => {
    const { m, appId } = crashLoopApp({}, ['w1', 'w2']);
    runThenCrash(m, appId, 0, 50);
    const kill = m.ask({ type: 'KillExecutors', appId, executorIds: [...m.app(appId).executors.keys()].map(String) });
    assert.equal(kill.failure, undefined);
    m.send({ type: 'UnregisterApplication', appId });
    m.advance(1_000);
    const fired = m.timer('ExecutorRelaunchBackoff');
    assert.deepEqual(ofKind(fired, 'StartTimer'), [], 'nothing to re-arm');
  });
});

describe('configuration', () => {
  test('defaults: 10 s minimum uptime, 1 s backoff doubling up to 60 s', () => {
    const c = masterConfig({ host: 'm', port: 1 });
    assert.equal(c.executorMinUptimeMs, 10_000);
    assert.equal(c.executorRelaunchBackoffMs, 1_000);
    assert.equal(c.executorRelaunchBackoffMaxMs, 60_000);
  });

  test('bad values name their key', () => {
    const refuses = (over: Partial<MasterConfigInput>, key: string) =>
      assert.throws(() => masterConfig({ host: 'm', port: 1, ...over }), (e: unknown) => e instanceof ConfigError && e.key === key);
    refuses({ executorMinUptimeMs: -1 }, 'flint.deploy.executorMinUptime');
    refuses({ executorRelaunchBackoffMs: 0.5 }, 'flint.deploy.executorRelaunchBackoff');
    refuses({ executorRelaunchBackoffMs: 5_000, executorRelaunchBackoffMaxMs: 1_000 }, 'flint.deploy.executorRelaunchBackoffMax');
  });

  test('the daemon reads the keys as durations (a bare number in seconds)', () => {
    const conf = new FlintConf([
      ['flint.deploy.executorMinUptime', '3'],
      ['flint.deploy.executorRelaunchBackoff', '250ms'],
      ['flint.deploy.executorRelaunchBackoffMax', '2s'],
    ]);
    const c = masterConfigFromConf(conf, { host: 'h', publicHost: 'h', port: 7077, webUiPort: 8080 });
    assert.equal(c.executorMinUptimeMs, 3_000);
    assert.equal(c.executorRelaunchBackoffMs, 250);
    assert.equal(c.executorRelaunchBackoffMaxMs, 2_000);
  });
});
