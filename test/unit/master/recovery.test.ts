// Leadership and recovery (reference §3.1, §4.4, §8.5, §14, §15 item 9), after MasterSuite and RecoverySuite.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  T0,
  TestMaster,
  aliveMaster,
  appAddress,
  logs,
  ofKind,
  persistedApp,
  persistedDriver,
  persistedWorker,
  sent,
  workerSpec,
} from './harness.ts';

describe('ElectedLeader / RevokedLeadership', () => {
  test('nothing persisted → ALIVE at once, no recovery timer', () => {
    const m = new TestMaster();
    const effects = m.elect();
    assert.equal(m.state.recoveryState, 'ALIVE');
    assert.deepEqual(logs(effects), ['I have been elected leader! New state: ALIVE']);
    assert.deepEqual(ofKind(effects, 'StartTimer'), []);
  });

  test('persisted state → RECOVERING: everyone recovered hears MasterChanged, and the recovery timer starts', () => {
    const m = new TestMaster({ recoveryTimeoutMs: 30_000 });
    const effects = m.elect({
      apps: [persistedApp('app-1', 'a')],
      drivers: [persistedDriver('driver-1')],
      workers: [persistedWorker('w1')],
    });
    assert.equal(m.state.recoveryState, 'RECOVERING');
    const changed = { type: 'MasterChanged', masterAddress: 'flint://Master@master:7077', masterWebUiUrl: 'http://master:8080' };
    assert.deepEqual(sent(effects), [
      { to: appAddress('a'), message: changed },
      { to: workerSpec('w1').address, message: changed },
    ]);
    assert.deepEqual(ofKind(effects, 'StartTimer'), [{ kind: 'StartTimer', timer: 'CompleteRecovery', delayMs: 30_000 }]);
    assert.equal(m.app('app-1').state, 'UNKNOWN');
    assert.equal(m.worker('w1').state, 'UNKNOWN');
    assert.equal(m.worker('w1').lastHeartbeatMs, T0);
    assert.deepEqual([...m.state.drivers].map((d) => d.id), ['driver-1']);
    assert.deepEqual(m.state.waitingDrivers, [], 'recovered drivers are not queued');
    assert.equal(ofKind(effects, 'Persist').length, 0, 'nothing is re-persisted');
  });

  test('the recovery timeout defaults to the worker timeout', () => {
    const m = new TestMaster({ workerTimeoutMs: 45_000 });
    const effects = m.elect({ apps: [persistedApp('app-1', 'a')], drivers: [], workers: [] });
    assert.equal(ofKind(effects, 'StartTimer')[0]?.delayMs, 45_000);
  });

  test('RevokedLeadership logs and steps down, last', () => {
    const m = aliveMaster();
    const effects = m.machine.handle({ kind: 'RevokedLeadership' }, m.now);
    assert.deepEqual(logs(effects, 'error'), ['Leadership has been revoked -- master shutting down.']);
    assert.equal(effects.at(-1)?.kind, 'StepDown');
  });

  test('a second ElectedLeader is ignored', () => {
    const m = aliveMaster();
    m.registerWorker('w1');
    m.elect({ apps: [], drivers: [], workers: [persistedWorker('w9')] });
    assert.equal(m.state.recoveryState, 'ALIVE');
    assert.equal(m.state.idToWorker.has('w9'), false);
  });
});

describe('completing recovery', () => {
  test('master correctly recover the application (MasterSuite): 8+7 executor cores + 1 driver core = 16 used', () => {
    const m = new TestMaster();
    m.elect({
      apps: [persistedApp('app-1', 'a')],
      drivers: [persistedDriver('test_driver', { memoryMb: 1024, cores: 1 })],
      workers: [persistedWorker('w1', { cores: 16, memoryMb: 8192 })],
    });
    assert.equal(m.worker('w1').coresUsed, 0);
    m.send({ type: 'MasterChangeAcknowledged', appId: 'app-1' });
    assert.equal(m.app('app-1').state, 'WAITING');
    assert.equal(m.state.recoveryState, 'RECOVERING', 'the worker has not answered yet');
    const effects = m.send({
      type: 'WorkerSchedulerStateResponse',
      id: 'w1',
      executors: [
        { appId: 'app-1', execId: 0, cores: 8, memoryMb: 1024, state: 'RUNNING' },
        { appId: 'app-1', execId: 0, cores: 7, memoryMb: 1024, state: 'RUNNING' },
      ],
      driverIds: ['test_driver'],
    });
    assert.equal(m.state.recoveryState, 'ALIVE');
    const w1 = m.worker('w1');
    assert.equal(w1.state, 'ALIVE');
    assert.equal(w1.coresUsed, 16);
    assert.equal(w1.cores - w1.coresUsed, 0);
    assert.equal(m.app('app-1').state, 'RUNNING');
    assert.equal(m.driver('test_driver')?.state, 'RUNNING');
    assert.equal(m.driver('test_driver')?.worker, w1);
    assert.deepEqual(ofKind(effects, 'CancelTimer'), [{ kind: 'CancelTimer', timer: 'CompleteRecovery' }]);
    assert.equal(m.app('app-1').nextExecutorId, 1, 'new executor ids continue after the recovered ones');
  });

  test('SPARK-46664: a lone persisted driver means nothing to wait for: ALIVE at once, the driver ends ERROR', () => {
    const m = new TestMaster();
    const effects = m.elect({ apps: [], drivers: [persistedDriver('driver-1')], workers: [] });
    assert.equal(m.state.recoveryState, 'ALIVE');
    assert.deepEqual(ofKind(effects, 'StartTimer'), []);
    assert.equal(m.driver('driver-1')?.state, 'ERROR');
  });

  test('an unclaimed supervised driver is relaunched under a new id when recovery completes', () => {
    const m = new TestMaster();
    const effects = m.elect({ apps: [], drivers: [persistedDriver('driver-1', { supervise: true })], workers: [] });
    assert.equal(m.driver('driver-1')?.state, 'RELAUNCHING');
    const relaunched = [...m.state.drivers];
    assert.equal(relaunched.length, 1);
    assert.notEqual(relaunched[0]?.id, 'driver-1');
    assert.deepEqual(m.state.waitingDrivers, relaunched);
    assert.deepEqual(
      ofKind(effects, 'Persist').map((e) => e.key),
      [`driver_${relaunched[0]?.id}`],
    );
  });

  test('the CompleteRecovery timer removes whoever did not answer; answered WAITING apps become RUNNING', () => {
    const m = new TestMaster();
    m.elect({
      apps: [persistedApp('app-quiet', 'q'), persistedApp('app-ack', 'k')],
      drivers: [persistedDriver('driver-lost')],
      workers: [persistedWorker('w-quiet', { port: 7101 }), persistedWorker('w-ok', { port: 7102 })],
    });
    m.send({ type: 'MasterChangeAcknowledged', appId: 'app-ack' });
    m.send({ type: 'WorkerSchedulerStateResponse', id: 'w-ok', executors: [], driverIds: [] });
    assert.equal(m.state.recoveryState, 'RECOVERING');
    m.advance(60_000);
    const effects = m.timer('CompleteRecovery');
    assert.equal(m.state.recoveryState, 'ALIVE');
    assert.equal([...m.state.workers].find((w) => w.id === 'w-quiet')?.state, 'DEAD');
    assert.deepEqual(
      sent(effects, 'WorkerRemoved').map((s) => s.message.message),
      ['Not responding for recovery', 'Not responding for recovery'],
    );
    assert.equal(m.state.completedApps.find((a) => a.id === 'app-quiet')?.state, 'FINISHED');
    assert.equal(m.app('app-ack').state, 'RUNNING');
    assert.equal(m.driver('driver-lost')?.state, 'ERROR');
    assert.deepEqual(ofKind(effects, 'CancelTimer'), [], 'the timer that fired is not cancelled');
    assert.deepEqual(m.timer('CompleteRecovery').filter((e) => e.kind !== 'Log'), [], 'a late firing is a no-op');
  });

  test('the last UNKNOWN app disconnecting completes recovery', () => {
    const m = new TestMaster();
    m.elect({ apps: [persistedApp('app-1', 'a')], drivers: [], workers: [] });
    m.disconnect('flint+client://a');
    assert.equal(m.state.recoveryState, 'ALIVE');
    assert.equal(m.state.completedApps[0]?.state, 'FINISHED');
  });

  test('recovered executors of unknown apps are ignored, not killed', () => {
    const m = new TestMaster();
    m.elect({ apps: [], drivers: [], workers: [persistedWorker('w1')] });
    const effects = m.send({
      type: 'WorkerSchedulerStateResponse',
      id: 'w1',
      executors: [{ appId: 'app-gone', execId: 3, cores: 2, memoryMb: 512, state: 'RUNNING' }],
      driverIds: [],
    });
    assert.deepEqual(sent(effects, 'KillExecutor'), []);
    assert.equal(m.worker('w1').coresUsed, 0);
    assert.equal(m.state.recoveryState, 'ALIVE');
  });

  test('nothing is scheduled while RECOVERING, and everything waiting is scheduled once ALIVE', () => {
    const m = new TestMaster();
    m.elect({ apps: [persistedApp('app-1', 'a')], drivers: [], workers: [persistedWorker('w1', { cores: 4 })] });
    const acked = m.send({ type: 'MasterChangeAcknowledged', appId: 'app-1' });
    assert.deepEqual(sent(acked, 'LaunchExecutor'), []);
    const effects = m.send({ type: 'WorkerSchedulerStateResponse', id: 'w1', executors: [], driverIds: [] });
    assert.deepEqual(sent(effects, 'LaunchExecutor').map((s) => [s.message.appId, s.message.cores]), [['app-1', 4]]);
  });
});

describe('registration during recovery (SPARK-46353)', () => {
  test('RECOVERING with no workers: a new worker registers normally (duplicate=false)', () => {
    const m = new TestMaster();
    m.elect({ apps: [persistedApp('app-1', 'a')], drivers: [], workers: [] });
    const effects = m.registerWorker('w1');
    assert.equal(sent(effects, 'RegisteredWorker')[0]?.message.duplicate, false);
    assert.equal(m.worker('w1').state, 'ALIVE');
  });

  test('RECOVERING with that worker UNKNOWN: duplicate=true, the worker is ALIVE again, the master stays RECOVERING', () => {
    const m = new TestMaster();
    m.elect({ apps: [persistedApp('app-1', 'a')], drivers: [], workers: [persistedWorker('w1')] });
    const effects = m.registerWorker('w1');
    assert.equal(sent(effects, 'RegisteredWorker')[0]?.message.duplicate, true);
    assert.equal(m.worker('w1').state, 'ALIVE');
    assert.equal(m.state.recoveryState, 'RECOVERING');
  });

  test('MasterChangeAcknowledged from an unknown app is logged', () => {
    const m = aliveMaster();
    const effects = m.send({ type: 'MasterChangeAcknowledged', appId: 'app-x' });
    assert.deepEqual(logs(effects, 'warn'), ['Master change ack from unknown app: app-x']);
  });
});
