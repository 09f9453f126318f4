// Leadership and recovery (reference §3.1, §4.4, §8.5, §14, §15 item 9), after MasterSuite and RecoverySuite.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  T0,
  TestMaster,
  aliveMaster,
  appAddress,
  indexOf,
  isSendOf,
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
    assert.deepEqual(ofKind(effects, 'StartTimer').map(({ key, delayMs }) => [key, delayMs]), [['CompleteRecovery', 30_000]]);
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

  test('a failed write to the recovery store stops the master, last, and it acts no more', () => {
    const m = aliveMaster();
    m.registerWorker('w1');
    const effects = m.machine.handle({ kind: 'PersistFailed', key: 'worker_w1', error: 'EIO' }, m.now);
    assert.deepEqual(logs(effects, 'error'), ['Could not write worker_w1 to the recovery store (EIO) -- master shutting down.']);
    assert.deepEqual(effects.map((e) => e.kind), ['Log', 'StepDown']);
    assert.equal(m.state.recoveryState, 'STANDBY');
    // A worker that registers now is told the master is in standby: nothing is persisted or registered.
    const after = m.send(workerSpec('w2').message);
    assert.deepEqual(ofKind(after, 'Persist'), []);
    assert.deepEqual(sent(after, 'MasterInStandby').length, 1);
    assert.equal(m.state.idToWorker.has('w2'), false);
  });

  test('a leader tells an app client it does not know that its app is gone; a standby says nothing', () => {
    const m = aliveMaster();
    const effects = m.send({ type: 'MasterChangeAcknowledged', appId: 'app-gone' }, 'flint+client://d9');
    assert.deepEqual(sent(effects, 'ApplicationRemoved'), [
      { to: 'flint+client://AppClient@d9', message: { type: 'ApplicationRemoved', message: 'UNKNOWN: the master does not know application app-gone' } },
    ]);
    const standby = new TestMaster();
    assert.deepEqual(standby.send({ type: 'MasterChangeAcknowledged', appId: 'app-gone' }, 'flint+client://d9').filter((e) => e.kind === 'Send'), []);
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
    assert.deepEqual(ofKind(effects, 'CancelTimer'), [{ kind: 'CancelTimer', key: 'CompleteRecovery' }]);
    assert.equal(m.app('app-1').nextExecutorId, 1, 'new executor ids continue after the recovered ones');
  });

  test('a reported executor that would take its app over maxCores is killed, and holds its cores until it ends', () => {
    const m = new TestMaster();
    m.elect({
      apps: [persistedApp('app-1', 'a', { maxCores: 4 })],
      drivers: [],
      workers: [persistedWorker('w1', { cores: 8 }), persistedWorker('w2', { cores: 8 })],
    });
    m.send({ type: 'MasterChangeAcknowledged', appId: 'app-1' });
    m.send({ type: 'WorkerSchedulerStateResponse', id: 'w1', executors: [{ appId: 'app-1', execId: 1, cores: 4, memoryMb: 512, state: 'RUNNING' }], driverIds: [] });
    // w2 still runs executor 0, which the previous leader had replaced by executor 1 when it lost w2.
    const effects = m.send({ type: 'WorkerSchedulerStateResponse', id: 'w2', executors: [{ appId: 'app-1', execId: 0, cores: 4, memoryMb: 512, state: 'RUNNING' }], driverIds: [] });
    assert.deepEqual(sent(effects, 'KillExecutor').map((s) => [s.to, s.message.execId]), [[workerSpec('w2').address, 0]]);
    assert.match(logs(effects, 'warn')[0] ?? '', /Executor app-1\/0 on w2 would take app app-1 over its 4 cores: killing it/);
    assert.equal(m.app('app-1').coresGranted, 4);
    assert.deepEqual([...m.app('app-1').executors.keys()], [1]);
    assert.equal(m.worker('w2').coresUsed, 4, 'held until w2 reports it ended');
    m.ask({ type: 'ExecutorStateChanged', appId: 'app-1', execId: 0, state: 'KILLED' }, workerSpec('w2').envId);
    assert.equal(m.worker('w2').coresUsed, 0);
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

describe('a revoked leader stops acting at once', () => {
  test('back to STANDBY: no registration, no reply to apps, nothing scheduled', () => {
    const m = aliveMaster();
    m.registerWorker('w1', { cores: 4 });
    m.machine.handle({ kind: 'RevokedLeadership' }, m.now);
    assert.equal(m.state.recoveryState, 'STANDBY');
    assert.deepEqual(sent(m.registerWorker('w2')), [{ to: workerSpec('w2').address, message: { type: 'MasterInStandby' } }]);
    const app = m.send({ type: 'RegisterApplication', appDescription: { name: 'x', memoryMbPerExecutor: 256, command: { mainModule: 'a.js', arguments: [], environment: {}, nodeOptions: [] }, appUiUrl: '', user: 'u' }, driverAddress: appAddress('late') }, 'flint+client://late');
    assert.deepEqual(app.filter((e) => e.kind !== 'Log'), [], 'no reply, no persist, no launch');
    const submit = m.ask({ type: 'RequestSubmitDriver', driverDescription: { appResource: 'file:///a.js', memoryMb: 256, cores: 1, supervise: false, command: { mainModule: 'a.js', arguments: [], environment: {}, nodeOptions: [] } } });
    assert.ok(submit.reply?.type === 'SubmitDriverResponse' && !submit.reply.success);
  });

  test('revoked while RECOVERING: the recovery timer firing later completes nothing', () => {
    const m = new TestMaster();
    m.elect({ apps: [persistedApp('app-1', 'a')], drivers: [persistedDriver('driver-1', { supervise: true })], workers: [persistedWorker('w1')] });
    m.machine.handle({ kind: 'RevokedLeadership' }, m.now);
    m.advance(60_000);
    const effects = m.timer('CompleteRecovery');
    assert.equal(m.state.recoveryState, 'STANDBY');
    assert.deepEqual(effects.filter((e) => e.kind !== 'Log'), [], 'no removal, relaunch or persist');
  });
});

describe('recovery paths, on a fake clock', () => {
  test('persist before acknowledging: a new worker and a new app registering during RECOVERING', () => {
    const m = new TestMaster();
    m.elect({ apps: [persistedApp('app-1', 'a')], drivers: [], workers: [persistedWorker('w1')] });
    const worker = m.registerWorker('w2');
    assert.ok(indexOf(worker, (e) => e.kind === 'Persist' && e.key === 'worker_w2', 'persist w2') < indexOf(worker, isSendOf('RegisteredWorker'), 'RegisteredWorker'));
    const { effects: app } = m.registerApp('b');
    assert.ok(indexOf(app, (e) => e.kind === 'Persist' && e.key.startsWith('app_'), 'persist app') < indexOf(app, isSendOf('RegisteredApplication'), 'RegisteredApplication'));
    assert.deepEqual(sent(app, 'LaunchExecutor'), [], 'nothing launched while RECOVERING');
    assert.equal(m.state.recoveryState, 'RECOVERING');
  });

  test('the recovery timer fires after flint.deploy.recoveryTimeout, not before, and reports how long it took', () => {
    const m = new TestMaster({ recoveryTimeoutMs: 5_000 });
    const elected = m.elect({ apps: [], drivers: [], workers: [persistedWorker('w1')] });
    assert.deepEqual(ofKind(elected, 'StartTimer').map(({ key, delayMs }) => [key, delayMs]), [['CompleteRecovery', 5_000]]);
    m.advance(5_000);
    const effects = m.timer('CompleteRecovery');
    assert.equal(m.state.recoveryState, 'ALIVE');
    assert.ok(logs(effects).includes('Recovery complete in 5000 ms - resuming operations!'));
    assert.equal([...m.state.workers].find((w) => w.id === 'w1')?.state, 'DEAD');
  });

  test('an UNKNOWN worker whose connection drops is removed, and recovery completes without waiting', () => {
    const m = new TestMaster();
    m.elect({ apps: [], drivers: [], workers: [persistedWorker('w1'), persistedWorker('w2')] });
    m.send({ type: 'WorkerSchedulerStateResponse', id: 'w2', executors: [], driverIds: [] });
    const effects = m.disconnect('flint://10.0.0.1:7001');
    assert.equal(m.state.recoveryState, 'ALIVE');
    assert.equal([...m.state.workers].find((w) => w.id === 'w1')?.state, 'DEAD');
    assert.ok(ofKind(effects, 'Unpersist').some((e) => e.key === 'worker_w1'), 'the removed worker is unpersisted');
    assert.deepEqual(ofKind(effects, 'CancelTimer'), [{ kind: 'CancelTimer', key: 'CompleteRecovery' }]);
  });

  test('drivers: one claimed by its worker keeps running; an unclaimed supervised one is relaunched on a live worker; an unclaimed plain one ends ERROR', () => {
    const m = new TestMaster();
    m.elect({
      apps: [],
      drivers: [persistedDriver('driver-kept'), persistedDriver('driver-super', { supervise: true }), persistedDriver('driver-plain')],
      workers: [persistedWorker('w1', { cores: 8, memoryMb: 8192 })],
    });
    const effects = m.send({ type: 'WorkerSchedulerStateResponse', id: 'w1', executors: [], driverIds: ['driver-kept'] });
    assert.equal(m.state.recoveryState, 'ALIVE');
    assert.equal(m.driver('driver-kept')?.state, 'RUNNING');
    assert.equal(m.driver('driver-plain')?.state, 'ERROR');
    assert.equal(m.driver('driver-super')?.state, 'RELAUNCHING');
    const launched = sent(effects, 'LaunchDriver');
    assert.equal(launched.length, 1, 'the relaunched driver is scheduled at once');
    const newId = launched[0]?.message.driverId as string;
    assert.notEqual(newId, 'driver-super');
    assert.ok(indexOf(effects, (e) => e.kind === 'Persist' && e.key === `driver_${newId}`, 'persist') < indexOf(effects, isSendOf('LaunchDriver'), 'launch'));
    assert.ok(ofKind(effects, 'Unpersist').some((e) => e.key === 'driver_driver-plain'));
    assert.equal(m.worker('w1').coresUsed, 2, 'the kept driver and the relaunched one hold a core each');
  });

  test('an app acknowledged before its worker answers gets its recovered executors back, and no more than it asked', () => {
    const m = new TestMaster();
    m.elect({ apps: [persistedApp('app-1', 'a', { maxCores: 2 })], drivers: [], workers: [persistedWorker('w1', { cores: 4 })] });
    m.send({ type: 'MasterChangeAcknowledged', appId: 'app-1' });
    const effects = m.send({
      type: 'WorkerSchedulerStateResponse',
      id: 'w1',
      executors: [{ appId: 'app-1', execId: 4, cores: 2, memoryMb: 1024, state: 'RUNNING' }],
      driverIds: [],
    });
    assert.equal(m.state.recoveryState, 'ALIVE');
    assert.equal(m.app('app-1').state, 'RUNNING');
    assert.equal(m.app('app-1').coresGranted, 2);
    assert.deepEqual(sent(effects, 'LaunchExecutor'), [], 'the app already has the cores it asked for');
  });

  test('a worker that answers after recovery timed out is unknown: warned, and told nothing', () => {
    const m = new TestMaster({ recoveryTimeoutMs: 1_000 });
    m.elect({ apps: [], drivers: [], workers: [persistedWorker('w1')] });
    m.advance(1_000);
    m.timer('CompleteRecovery');
    const effects = m.send({ type: 'WorkerSchedulerStateResponse', id: 'w1', executors: [], driverIds: [] });
    assert.deepEqual(logs(effects, 'warn'), ['Scheduler state from unknown worker: w1']);
    assert.deepEqual(sent(effects), []);
  });

  test('/json-visible status goes STANDBY → RECOVERING → ALIVE', () => {
    const m = new TestMaster();
    assert.equal(m.state.recoveryState, 'STANDBY');
    m.elect({ apps: [persistedApp('app-1', 'a')], drivers: [], workers: [] });
    assert.equal(m.state.recoveryState, 'RECOVERING');
    m.send({ type: 'MasterChangeAcknowledged', appId: 'app-1' });
    assert.equal(m.state.recoveryState, 'ALIVE');
  });
});

describe('what the simulator found (src/sim)', () => {
  test('an app that did not answer the recovery is removed and told why (seed 19)', () => {
    const m = new TestMaster({ recoveryTimeoutMs: 5_000 });
    m.elect({ apps: [persistedApp('app-1', 'a')], drivers: [], workers: [persistedWorker('w1')] });
    m.advance(5_000);
    const effects = m.timer('CompleteRecovery');
    assert.equal(m.state.idToApp.has('app-1'), false);
    assert.deepEqual(
      sent(effects, 'ApplicationRemoved').map((s) => [s.to, s.message.message.split(':')[0]]),
      [[appAddress('a'), 'FINISHED']],
    );
  });

  test('a worker state that arrives after the recovery is over re-adds nothing (seed 15)', () => {
    const m = new TestMaster({ recoveryTimeoutMs: 5_000 });
    m.elect({ apps: [persistedApp('app-1', 'a')], drivers: [], workers: [persistedWorker('w1'), persistedWorker('w2')] });
    m.send({ type: 'MasterChangeAcknowledged', appId: 'app-1' });
    m.send({ type: 'WorkerSchedulerStateResponse', id: 'w1', executors: [], driverIds: [] });
    m.advance(5_000);
    m.timer('CompleteRecovery'); // w2 did not answer in time: removed
    assert.equal(m.state.recoveryState, 'ALIVE');
    const usedBefore = m.worker('w1').coresUsed;
    const late = m.send({
      type: 'WorkerSchedulerStateResponse',
      id: 'w1',
      executors: [{ appId: 'app-1', execId: 0, cores: 2, memoryMb: 512, state: 'RUNNING' }],
      driverIds: [],
    });
    assert.equal(m.worker('w1').coresUsed, usedBefore, 'nothing re-added');
    assert.ok(logs(late, 'warn').some((l) => l.includes('the recovery is over')));
  });

  test('a status update about an executor from a worker that does not run it is ignored (seed 11)', () => {
    const m = aliveMaster();
    m.registerWorker('w1', { cores: 2, memoryMb: 4096 });
    m.registerWorker('w2', { cores: 2, memoryMb: 4096 });
    const { appId } = m.registerApp('a', { coresPerExecutor: 1, memoryMbPerExecutor: 512, maxCores: 1 });
    const exec = m.app(appId).executors.get(0);
    assert.ok(exec !== undefined);
    const other = exec.worker.id === 'w1' ? 'w2' : 'w1';
    const { effects } = m.ask({ type: 'ExecutorStateChanged', appId, execId: 0, state: 'EXITED' }, workerSpec(other).envId);
    assert.equal(m.app(appId).executors.get(0)?.state, exec.state, 'the executor is untouched');
    assert.ok(logs(effects, 'warn').some((l) => l.includes(`it runs on ${exec.worker.id}`)));
  });

  test('executor ids are reserved on disk in blocks: a recovered app never gives an id again (seeds 70, 74)', () => {
    const m = aliveMaster();
    m.registerWorker('w1', { cores: 2, memoryMb: 4096 });
    const { appId, effects } = m.registerApp('a', { coresPerExecutor: 1, memoryMbPerExecutor: 512 });
    const persisted = ofKind(effects, 'Persist').filter((p) => p.key === `app_${appId}`);
    const last = persisted.at(-1)?.record;
    assert.ok(last?.kind === 'app');
    assert.equal(last.executorIdsBelow, 64, 'the first launch reserves ids 0 to 63 before it is sent');
    const reserved = indexOf(effects, (e) => e.kind === 'Persist' && e.record.kind === 'app' && e.record.executorIdsBelow === 64, 'the reservation');
    assert.ok(reserved < indexOf(effects, isSendOf('LaunchExecutor'), 'the first launch'));
    // A new master recovers the app from that record: its ids go on from 64.
    const next = new TestMaster();
    next.elect({ apps: [last], drivers: [], workers: [] });
    assert.equal(next.app(appId).nextExecutorId, 64);
  });
});
