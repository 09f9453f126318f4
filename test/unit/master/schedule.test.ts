// schedule() as the Master applies it (reference §5): the placement numbers themselves are pinned down by
// test/unit/scheduling; these check what the Master feeds placement and how it applies the plans.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { TestMaster, aliveMaster, logs, persistedApp, persistedWorker, sent, sentTypes } from './harness.ts';

const launches = (effects: Parameters<typeof sent>[0]) =>
  sent(effects, 'LaunchExecutor').map((s) => [s.to.replace('flint://Worker@10.0.0.1:', ''), s.message.cores]);

describe('schedule()', () => {
  test('drivers take strict precedence over executors', () => {
    const m = aliveMaster();
    m.submitDriver({ cores: 1, memoryMb: 512 });
    m.registerApp('a');
    const effects = m.registerWorker('w1', { cores: 4 });
    assert.deepEqual(sentTypes(effects), ['RegisteredWorker', 'LaunchDriver', 'ExecutorAdded', 'LaunchExecutor']);
    assert.equal(sent(effects, 'LaunchExecutor')[0]?.message.cores, 3);
  });

  test('apps are served FIFO: the first takes what it wants, the next gets the rest', () => {
    const m = aliveMaster();
    const first = m.registerApp('a', { maxCores: 6 }).appId;
    const second = m.registerApp('b').appId;
    const effects = m.registerWorker('w1', { cores: 8 });
    assert.deepEqual(
      sent(effects, 'LaunchExecutor').map((s) => [s.message.appId, s.message.cores]),
      [
        [first, 6],
        [second, 2],
      ],
    );
  });

  test('scheduling with max cores - spread out (MasterSuite): 8 cores over three 10-core workers → 3, 3, 2', () => {
    const m = aliveMaster();
    for (const id of ['w1', 'w2', 'w3']) m.registerWorker(id);
    const { effects } = m.registerApp('a', { maxCores: 8, memoryMbPerExecutor: 128 });
    // CORES_FREE_DESC breaks ties towards the larger worker id.
    assert.deepEqual(launches(effects), [
      ['7003', 3],
      ['7002', 3],
      ['7001', 2],
    ]);
  });

  test('scheduling with max cores - no spread out (MasterSuite): 8 cores on one worker', () => {
    const m = aliveMaster({ spreadOutApps: false });
    for (const id of ['w1', 'w2', 'w3']) m.registerWorker(id);
    const { effects } = m.registerApp('a', { maxCores: 8, memoryMbPerExecutor: 128 });
    assert.deepEqual(launches(effects), [['7003', 8]]);
  });

  test('flint.deploy.defaultCores caps apps that set no maxCores', () => {
    const m = aliveMaster({ defaultCores: 4 });
    m.registerWorker('w1');
    const { appId, effects } = m.registerApp('a');
    assert.deepEqual(launches(effects), [['7001', 4]]);
    assert.equal(m.app(appId).coresGranted, 4);
  });

  test('scheduling with cores per executor (MasterSuite): memory bounds 2-core executors to 4 per worker', () => {
    const m = aliveMaster();
    m.registerWorker('w1', { cores: 10, memoryMb: 4096 });
    const { effects } = m.registerApp('a', { coresPerExecutor: 2, memoryMbPerExecutor: 1024 });
    assert.deepEqual(launches(effects), Array.from({ length: 4 }, () => ['7001', 2]));
    assert.deepEqual(
      sent(effects, 'LaunchExecutor').map((s) => s.message.execId),
      [0, 1, 2, 3],
    );
  });

  test('SPARK-8881: a leftover smaller than one executor stays unused', () => {
    const m = aliveMaster();
    m.registerWorker('w1', { cores: 10 });
    const { appId } = m.registerApp('a', { coresPerExecutor: 3, memoryMbPerExecutor: 128 });
    assert.equal(m.app(appId).coresGranted, 9);
    assert.equal(m.worker('w1').coresUsed, 9);
  });

  test('the executor limit (initialExecutorLimit) gates new executors', () => {
    const m = aliveMaster();
    for (const id of ['w1', 'w2', 'w3']) m.registerWorker(id);
    const { effects } = m.registerApp('a', { initialExecutorLimit: 2, memoryMbPerExecutor: 128 });
    assert.deepEqual(launches(effects), [
      ['7003', 10],
      ['7002', 10],
    ]);
  });

  test('a worker that frees cores later takes a second executor of the same app', () => {
    const m = aliveMaster();
    m.registerWorker('w1', { cores: 4 });
    const { driverId } = m.submitDriver({ cores: 2, memoryMb: 512 });
    const { appId } = m.registerApp('a');
    assert.equal(m.app(appId).coresGranted, 2);
    const effects = m.send({ type: 'DriverStateChanged', driverId, state: 'FINISHED' });
    assert.deepEqual(
      sent(effects, 'LaunchExecutor').map((s) => [s.message.execId, s.message.cores]),
      [[1, 2]],
    );
    assert.equal(m.worker('w1').executors.size, 2);
  });

  test('only ALIVE workers are used (not DEAD, not DECOMMISSIONED, not UNKNOWN)', () => {
    const m = aliveMaster();
    m.registerWorker('w1');
    m.registerWorker('w2');
    m.disconnect('flint://10.0.0.1:7001');
    m.send({ type: 'WorkerDecommissioning', id: 'w2', workerAddress: 'flint://Worker@10.0.0.1:7002' });
    const { effects } = m.registerApp('a');
    assert.deepEqual(launches(effects), []);
    assert.ok(logs(effects, 'warn').some((l) => /requires more resource than any of Workers could have/.test(l)));
  });

  test('the "requires more resource" warning only for a lone waiting app with no executors', () => {
    const m = aliveMaster();
    m.registerWorker('w1', { memoryMb: 512 });
    const lone = m.registerApp('a', { memoryMbPerExecutor: 1024 });
    assert.equal(logs(lone.effects, 'warn').length, 1);
    const second = m.registerApp('b', { memoryMbPerExecutor: 1024 });
    assert.deepEqual(logs(second.effects, 'warn'), []);
  });

  test('workerSelectionPolicy WORKER_ID fills the smallest id first', () => {
    const m = aliveMaster({ workerSelectionPolicy: 'WORKER_ID', spreadOutApps: false });
    for (const id of ['w2', 'w3', 'w1']) m.registerWorker(id, { cores: 4 });
    const { effects } = m.registerApp('a', { maxCores: 6 });
    assert.deepEqual(launches(effects), [
      ['7001', 4],
      ['7002', 2],
    ]);
  });

  test('one pass over several waiting apps: each app sees what the apps before it took (reference §5.3)', () => {
    const m = new TestMaster();
    const workers = ['w1', 'w2', 'w3'].map((id) => persistedWorker(id, { cores: 4 }));
    const apps = [
      persistedApp('app-1', 'a', { maxCores: 2, coresPerExecutor: 1 }),
      persistedApp('app-2', 'b', { maxCores: 6, coresPerExecutor: 2 }),
      persistedApp('app-3', 'c', { maxCores: 8 }),
    ];
    m.elect({ apps, drivers: [], workers });
    for (const app of apps) m.send({ type: 'MasterChangeAcknowledged', appId: app.id });
    m.send({ type: 'WorkerSchedulerStateResponse', id: 'w1', executors: [], driverIds: [] });
    m.send({ type: 'WorkerSchedulerStateResponse', id: 'w2', executors: [], driverIds: [] });
    // The last answer completes the recovery, and its schedule() places every app in one pass.
    const effects = m.send({ type: 'WorkerSchedulerStateResponse', id: 'w3', executors: [], driverIds: [] });
    assert.deepEqual(
      sent(effects, 'LaunchExecutor').map((s) => [s.message.appId, s.to.replace('flint://Worker@10.0.0.1:', ''), s.message.cores]),
      [
        // 2 one-core executors on the two workers with the most free cores (ties: larger id first).
        ['app-1', '7003', 1],
        ['app-1', '7002', 1],
        // 3 two-core executors: w1 now has the most free cores.
        ['app-2', '7001', 2],
        ['app-2', '7003', 2],
        ['app-2', '7002', 2],
        // One executor per worker, grown a core per round over the 4 cores left (2, 1, 1).
        ['app-3', '7001', 2],
        ['app-3', '7003', 1],
        ['app-3', '7002', 1],
      ],
    );
    assert.deepEqual(
      ['w1', 'w2', 'w3'].map((id) => m.worker(id).coresUsed),
      [4, 4, 4],
    );
  });

  test('nothing is scheduled while RECOVERING', () => {
    const m = new TestMaster();
    m.elect({ apps: [persistedApp('app-1', 'a')], drivers: [], workers: [persistedWorker('w1')] });
    const { effects } = m.registerApp('b');
    const driver = m.ask({ type: 'RequestSubmitDriver', driverDescription: { appResource: '', memoryMb: 1, cores: 1, supervise: false, command: { mainModule: 'm', arguments: [], environment: {}, nodeOptions: [] } } });
    assert.deepEqual(sent(effects, 'LaunchExecutor'), []);
    assert.deepEqual(sent(driver.effects, 'LaunchDriver'), []);
  });
});
