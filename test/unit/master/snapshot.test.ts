// RequestMasterState and BoundPortsRequest in detail (reference §2.7): the optional fields are there exactly when
// the master has a value for them, and every summary says what the state holds. Found by mutation testing
// (docs/testing.md).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { MasterReplyMessage } from '../../../src/master/index.ts';
import { T0, TestMaster, aliveMaster, logs } from './harness.ts';

function masterState(m: TestMaster): Extract<MasterReplyMessage, { type: 'MasterStateResponse' }> {
  const { reply } = m.ask({ type: 'RequestMasterState' });
  assert.ok(reply?.type === 'MasterStateResponse');
  return reply;
}

test('RequestMasterState: workers with what they hold, apps with their limit only when set, drivers with their worker', () => {
  const m = aliveMaster({ restPort: 6066 });
  m.registerWorker('w1', { cores: 8, memoryMb: 4096 });
  const { driverId } = m.submitDriver({ cores: 1, memoryMb: 512 });
  const limited = m.registerApp('a', { maxCores: 2, memoryMbPerExecutor: 256 }).appId;
  const unlimited = m.registerApp('b', { maxCores: 1, memoryMbPerExecutor: 256 }).appId;
  m.ask({ type: 'RequestExecutors', appId: limited, requestedTotal: 3 });
  const s = masterState(m);
  assert.equal(s.restPort, 6066);
  assert.deepEqual([s.host, s.port, s.status], ['master', 7077, 'ALIVE']);
  const [w1] = s.workers;
  assert.ok(w1);
  assert.deepEqual(
    { ...w1, executorIds: [...w1.executorIds].sort() },
    {
      id: 'w1',
      host: '10.0.0.1',
      port: 7001,
      workerAddress: 'flint://Worker@10.0.0.1:7001',
      webUiUrl: 'http://10.0.0.1:8081',
      cores: 8,
      coresUsed: 1 + 2 + 1,
      memoryMb: 4096,
      memoryUsedMb: 512 + 256 + 256,
      state: 'ALIVE',
      lastHeartbeatMs: T0,
      executorIds: [`${limited}/0`, `${unlimited}/0`].sort(),
      driverIds: [driverId],
    },
  );
  const apps = new Map(s.activeApps.map((a) => [a.id, a]));
  assert.equal(apps.get(limited)?.executorLimit, 3);
  assert.equal('executorLimit' in (apps.get(unlimited) ?? {}), false, 'no limit: no field');
  assert.equal('endTimeMs' in (apps.get(limited) ?? {}), false, 'still running: no end time');
  assert.deepEqual(apps.get(limited)?.executors, [{ appId: limited, execId: 0, workerId: 'w1', cores: 2, memoryMb: 256, state: 'LAUNCHING' }]);
  assert.deepEqual(
    s.activeDrivers.map((d) => [d.id, d.state, d.workerId, d.workerHostPort, 'exception' in d]),
    [[driverId, 'RUNNING', 'w1', '10.0.0.1:7001', false]],
  );
});

test('RequestMasterState: a driver that failed shows its exception; one never placed has no worker fields', () => {
  const m = aliveMaster();
  const waiting = m.submitDriver({ cores: 100 }).driverId;
  m.registerWorker('w1');
  const failed = m.submitDriver().driverId;
  m.send({ type: 'DriverStateChanged', driverId: failed, state: 'FAILED', exception: 'boom' }, 'flint://10.0.0.1:7001');
  const s = masterState(m);
  assert.deepEqual(
    s.completedDrivers.map((d) => [d.id, d.state, d.exception]),
    [[failed, 'FAILED', 'boom']],
  );
  const [w] = s.activeDrivers;
  assert.equal(w?.id, waiting);
  assert.equal(w?.state, 'SUBMITTED');
  assert.deepEqual(['workerId' in (w ?? {}), 'workerHostPort' in (w ?? {}), 'exception' in (w ?? {})], [false, false, false]);
  assert.equal('restPort' in s, false, 'no REST server: no restPort');
});

test('BoundPortsRequest without a REST server has no restPort', () => {
  const { reply } = new TestMaster({ webUiPort: 8181 }).ask({ type: 'BoundPortsRequest' });
  assert.deepEqual(reply, { type: 'BoundPortsResponse', rpcPort: 7077, webUiPort: 8181 });
});

test('the UI kill of an application the master does not know only warns', () => {
  const m = aliveMaster();
  m.registerWorker('w1');
  const { appId } = m.registerApp('a');
  const before = masterState(m);
  const effects = m.machine.handle({ kind: 'KillApplication', appId: 'app-unknown' }, m.now);
  assert.deepEqual(effects, [{ kind: 'Log', level: 'warn', msg: 'Asked to kill unknown application app-unknown', fields: { appId: 'app-unknown' } }]);
  assert.deepEqual(masterState(m), before);
  assert.equal(m.app(appId).state, 'RUNNING');
  assert.deepEqual(logs(effects, 'error'), []);
});
