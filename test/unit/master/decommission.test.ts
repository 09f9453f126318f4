// Operators' decommission requests (Spark 3.1+ MasterSuite "decommission": DecommissionWorkersOnHosts matches
// hosts case-insensitively, counts already-decommissioned workers, answers 0 in STANDBY, and the matched workers
// get DecommissionWorker), Flint's by-id twin, the end of a drained executor, `flint kill <appId>`, and the
// supervised drivers of a decommissioned worker that leaves.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { aliveMaster, sent, TestMaster, workerSpec } from './harness.ts';

describe('DecommissionWorkersOnHosts / DecommissionWorkers', () => {
  test('hosts match case-insensitively; the count includes workers already decommissioned; each gets DecommissionWorker', () => {
    const m = aliveMaster();
    m.registerWorker('w1', { host: 'localhost' });
    m.registerWorker('w2', { host: 'localhost' });
    m.registerWorker('w3', { host: 'other' });
    const first = m.ask({ type: 'DecommissionWorkersOnHosts', hostnames: ['LoCalHost', 'localHOST'] });
    assert.deepEqual(first.reply, { type: 'DecommissionWorkersResponse', count: 2 });
    assert.deepEqual(sent(first.effects, 'DecommissionWorker').map((s) => s.to).sort(), [workerSpec('w1', { host: 'localhost' }).address, workerSpec('w2', { host: 'localhost' }).address]);
    assert.equal(m.worker('w1').state, 'DECOMMISSIONED');
    assert.equal(m.worker('w3').state, 'ALIVE');
    assert.deepEqual(m.ask({ type: 'DecommissionWorkersOnHosts', hostnames: ['localhost'] }).reply, { type: 'DecommissionWorkersResponse', count: 2 });
    assert.deepEqual(m.ask({ type: 'DecommissionWorkersOnHosts', hostnames: ['nowhere'] }).reply, { type: 'DecommissionWorkersResponse', count: 0 });
  });

  test('by id: unknown ids do not count; STANDBY answers 0 and changes nothing', () => {
    const m = aliveMaster();
    m.registerWorker('w1');
    assert.deepEqual(m.ask({ type: 'DecommissionWorkers', ids: ['w1', 'w1', 'nope'] }).reply, { type: 'DecommissionWorkersResponse', count: 1 });
    assert.equal(m.worker('w1').state, 'DECOMMISSIONED');
    const standby = new TestMaster();
    assert.deepEqual(standby.ask({ type: 'DecommissionWorkers', ids: ['w1'] }).reply, { type: 'DecommissionWorkersResponse', count: 0 });
  });

  test('a drained executor that exits frees its booking on the worker, and counts no executor failure', () => {
    const m = aliveMaster();
    m.registerWorker('w1', { cores: 4 });
    const { appId } = m.registerApp('a');
    m.ask({ type: 'DecommissionWorkers', ids: ['w1'] });
    assert.equal(m.worker('w1').coresUsed, 4);
    const exited = m.ask({ type: 'ExecutorStateChanged', appId, execId: 0, state: 'EXITED', exitStatus: 0 }, workerSpec('w1').envId);
    assert.deepEqual(exited.reply, { type: 'BooleanResponse', value: true });
    assert.equal(m.worker('w1').coresUsed, 0);
    assert.equal(m.app(appId).retryCount, 0);
    assert.deepEqual(sent(exited.effects, 'ExecutorUpdated'), [], 'the driver already let it go');
  });

  test('the app gets a new executor elsewhere, never on the decommissioned worker', () => {
    const m = aliveMaster();
    m.registerWorker('w1', { cores: 4 });
    const { appId } = m.registerApp('a', { maxCores: 4 });
    m.registerWorker('w2', { cores: 4 });
    const { effects } = m.ask({ type: 'DecommissionWorkers', ids: ['w1'] });
    assert.deepEqual(sent(effects, 'LaunchExecutor').map((s) => s.to), [workerSpec('w2').address]);
    assert.equal(m.app(appId).coresGranted, 4);
  });

  test('supervised drivers of a decommissioned worker are relaunched elsewhere when it leaves', () => {
    const m = aliveMaster();
    m.registerWorker('w1', { cores: 4 });
    const { driverId } = m.submitDriver({ supervise: true });
    assert.equal(m.driver(driverId)?.worker?.id, 'w1', 'placed on w1');
    m.ask({ type: 'DecommissionWorkers', ids: ['w1'] });
    m.registerWorker('w2', { cores: 4 });
    const effects = m.disconnect(workerSpec('w1').envId);
    assert.deepEqual(sent(effects, 'LaunchDriver').map((s) => s.to), [workerSpec('w2').address]);
  });
});

describe('RequestKillApplication', () => {
  test('kills a running app, answers for an unknown one, refuses in STANDBY', () => {
    const m = aliveMaster();
    m.registerWorker('w1');
    const { appId } = m.registerApp('a');
    assert.deepEqual(m.ask({ type: 'RequestKillApplication', appId }).reply, { type: 'KillApplicationResponse', appId, success: true, message: `Application ${appId} killed` });
    assert.equal(m.machine.state.completedApps.find((a) => a.id === appId)?.state, 'KILLED');
    assert.deepEqual(m.ask({ type: 'RequestKillApplication', appId }).reply, {
      type: 'KillApplicationResponse',
      appId,
      success: false,
      message: `Application ${appId} is not running or does not exist`,
    });
    const standby = new TestMaster().ask({ type: 'RequestKillApplication', appId: 'app-1' }).reply;
    assert.equal(standby?.type === 'KillApplicationResponse' && standby.success, false);
  });
});
