// The read-only views: `/json` (reference §11.3, Spark 4.0 JsonProtocol), RequestMasterState, readyz, ports.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { MasterQueryReplies, MasterReplies } from '../../../src/protocol/messages.ts';
import { clusterUtilizationJson, masterJson, masterJsonField } from '../../../src/master/index.ts';
import { T0, TestMaster, aliveMaster, persistedApp } from './harness.ts';

/** A cluster with an ALIVE worker, a DEAD one, a running app, a finished app and two drivers. */
function busyMaster(): TestMaster {
  const m = aliveMaster();
  m.registerWorker('w1', { cores: 8, memoryMb: 4096 });
  m.registerWorker('w2', { cores: 4, memoryMb: 2048 });
  m.disconnect('flint://10.0.0.1:7002');
  m.submitDriver({ cores: 1, memoryMb: 512 });
  m.submitDriver({ cores: 100 });
  m.registerApp('a', { maxCores: 3, memoryMbPerExecutor: 256 });
  const done = m.registerApp('b', { maxCores: 1 }).appId;
  m.advance(2_000);
  m.send({ type: 'UnregisterApplication', appId: done });
  // Its worker reports the killed executor ended, and the core it held is free again.
  for (const e of m.state.completedApps.at(-1)?.executors.values() ?? []) {
    m.ask({ type: 'ExecutorStateChanged', appId: done, execId: e.id, state: 'KILLED' }, e.worker.envId);
  }
  m.advance(3_000);
  return m;
}

describe('masterJson', () => {
  test('top-level fields in Spark order; sums over ALIVE workers only while `workers` lists DEAD ones too', () => {
    const m = busyMaster();
    const json = masterJson(m.state, m.now);
    assert.deepEqual(Object.keys(json), [
      'url',
      'workers',
      'aliveworkers',
      'cores',
      'coresused',
      'memory',
      'memoryused',
      'resources',
      'resourcesused',
      'activeapps',
      'completedapps',
      'activedrivers',
      'completeddrivers',
      'status',
    ]);
    assert.equal(json['url'], 'flint://master:7077');
    assert.equal((json['workers'] as unknown[]).length, 2);
    assert.equal(json['aliveworkers'], 1);
    assert.equal(json['cores'], 8);
    assert.equal(json['coresused'], 1 + 3);
    assert.equal(json['memory'], 4096);
    assert.equal(json['memoryused'], 512 + 256);
    assert.deepEqual(json['resources'], [{}]);
    assert.equal(json['status'], 'ALIVE');
  });

  test('worker objects', () => {
    const m = busyMaster();
    const [w1, w2] = masterJson(m.state, m.now)['workers'] as Array<Record<string, unknown>>;
    assert.deepEqual(w1, {
      id: 'w1',
      host: '10.0.0.1',
      port: 7001,
      webuiaddress: 'http://10.0.0.1:8081',
      cores: 8,
      coresused: 4,
      coresfree: 4,
      memory: 4096,
      memoryused: 768,
      memoryfree: 3328,
      resources: {},
      resourcesused: {},
      resourcesfree: {},
      state: 'ALIVE',
      lastheartbeat: T0,
    });
    assert.equal(w2?.['state'], 'DEAD');
  });

  test('app objects: cores = granted, legacy *perslave duplicates, Java submitdate, duration', () => {
    const m = busyMaster();
    const json = masterJson(m.state, m.now);
    const [active] = json['activeapps'] as Array<Record<string, unknown>>;
    assert.deepEqual(active, {
      id: 'app-20240102030405-0000',
      starttime: T0,
      name: 'test',
      cores: 3,
      user: 'tester',
      memoryperexecutor: 256,
      memoryperslave: 256,
      resourcesperexecutor: [],
      resourcesperslave: [],
      submitdate: 'Tue Jan 02 03:04:05 UTC 2024',
      state: 'RUNNING',
      duration: 5_000,
      // Flint's addition: each executor with its assigned custom-resource addresses.
      executors: [{ id: 0, worker: 'w1', cores: 3, state: 'LAUNCHING', resources: {} }],
    });
    const [completed] = json['completedapps'] as Array<Record<string, unknown>>;
    assert.equal(completed?.['state'], 'FINISHED');
    assert.equal(completed?.['duration'], 2_000, 'end − start once finished');
  });

  test('driver objects: starttime is a string, worker is "None" until placed', () => {
    const m = busyMaster();
    const drivers = masterJson(m.state, m.now)['activedrivers'] as Array<Record<string, unknown>>;
    assert.deepEqual(drivers[0], {
      id: 'driver-20240102030405-0000',
      starttime: String(T0),
      state: 'RUNNING',
      cores: 1,
      memory: 512,
      resources: {},
      submitdate: 'Tue Jan 02 03:04:05 UTC 2024',
      worker: 'w1',
      mainclass: 'main.js',
    });
    assert.equal(drivers[1]?.['worker'], 'None');
    assert.equal(drivers[1]?.['state'], 'SUBMITTED');
  });

  test('/json/<field> returns that field alone; an unknown field is ""', () => {
    const m = busyMaster();
    assert.deepEqual(masterJsonField(m.state, m.now, 'aliveworkers'), { aliveworkers: 1 });
    assert.deepEqual(masterJsonField(m.state, m.now, 'tomato'), { tomato: '' });
  });

  test('/json/clusterutilization: integer percents, 100 with no capacity, waiting drivers counted', () => {
    const m = busyMaster();
    assert.deepEqual(clusterUtilizationJson(m.state), {
      waitingDrivers: 1,
      cores: 8,
      coresused: 4,
      coresutilization: 50,
      memory: 4096,
      memoryused: 768,
      memoryutilization: 18,
    });
    const empty = aliveMaster();
    assert.equal(clusterUtilizationJson(empty.state)['coresutilization'], 100);
    assert.equal(clusterUtilizationJson(empty.state)['memoryutilization'], 100);
  });
});

describe('queries answered in every state', () => {
  test('RequestReadyz: false in STANDBY, true once ALIVE or RECOVERING', () => {
    const m = new TestMaster();
    assert.deepEqual(m.ask({ type: 'RequestReadyz' }).reply, { type: 'BooleanResponse', value: false });
    m.elect({ apps: [persistedApp('app-1', 'a')], drivers: [], workers: [] });
    assert.deepEqual(m.ask({ type: 'RequestReadyz' }).reply, { type: 'BooleanResponse', value: true });
  });

  test('RequestMasterState: a valid MasterStateResponse with DEAD workers and completed entries', () => {
    const m = busyMaster();
    const { reply } = m.ask({ type: 'RequestMasterState' });
    assert.ok(reply?.type === 'MasterStateResponse');
    const check = MasterQueryReplies.check(reply);
    assert.equal(check.ok, true, check.ok ? '' : check.reason);
    assert.equal(reply.status, 'ALIVE');
    assert.equal(reply.masterUrl, 'flint://master:7077');
    assert.deepEqual(reply.workers.map((w) => [w.id, w.state]), [
      ['w1', 'ALIVE'],
      ['w2', 'DEAD'],
    ]);
    assert.deepEqual(reply.workers[0]?.executorIds, ['app-20240102030405-0000/0']);
    assert.equal(reply.activeApps[0]?.coresGranted, 3);
    assert.equal(reply.activeApps[0]?.executors[0]?.workerId, 'w1');
    assert.equal(reply.completedApps[0]?.endTimeMs, T0 + 2_000);
    assert.deepEqual(reply.activeDrivers.map((d) => d.workerId), ['w1', undefined]);
    const standby = new TestMaster().ask({ type: 'RequestMasterState' }).reply;
    assert.ok(standby?.type === 'MasterStateResponse' && standby.status === 'STANDBY');
  });

  test('BoundPortsRequest answers from the config', () => {
    const m = new TestMaster({ webUiPort: 8181, restPort: 6066 });
    const { reply } = m.ask({ type: 'BoundPortsRequest' });
    assert.deepEqual(reply, { type: 'BoundPortsResponse', rpcPort: 7077, webUiPort: 8181, restPort: 6066 });
    assert.equal(MasterQueryReplies.check(reply).ok, true);
  });

  test('every reply the machine builds passes its wire schema', () => {
    const m = busyMaster();
    const replies = [
      m.ask({ type: 'RequestDriverStatus', driverId: 'driver-20240102030405-0000' }).reply,
      m.ask({ type: 'RequestKillDriver', driverId: 'driver-20240102030405-0001' }).reply,
      m.ask({ type: 'RequestKillAllDrivers' }).reply,
      m.ask({ type: 'RequestSubmitDriver', driverDescription: { appResource: 'x', memoryMb: 1, cores: 1, supervise: false, command: { mainModule: 'm', arguments: [], environment: {}, nodeOptions: [] } } }).reply,
      m.ask({ type: 'RequestExecutors', appId: 'none', requestedTotal: 1 }).reply,
    ];
    for (const reply of replies) {
      const check = MasterReplies.check(reply);
      assert.equal(check.ok, true, check.ok ? '' : check.reason);
    }
  });
});
