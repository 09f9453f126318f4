// Recovery and leadership as the operator reads them (Spark's Master.beginRecovery, completeRecovery and their
// log lines, with the ids as fields), and the details of a recovered worker's report: which executors count as
// running since when, which drivers it claims, and an app acknowledging twice. Found by mutation testing
// (docs/testing.md).
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { MasterEffect } from '../../../src/master/index.ts';
import { TestMaster, aliveMaster, appEnvId, persistedApp, persistedDriver, persistedWorker, sent, workerSpec } from './harness.ts';

const logged = (effects: readonly MasterEffect[]) =>
  effects.flatMap((e) => (e.kind === 'Log' ? [[e.level, e.msg, e.fields] as const] : []));

function recovering(): TestMaster {
  const m = new TestMaster();
  m.elect({
    apps: [persistedApp('app-1', 'a')],
    drivers: [persistedDriver('driver-1'), persistedDriver('driver-2')],
    workers: [persistedWorker('w1')],
  });
  return m;
}

describe('recovery in the log', () => {
  test('election, what is recovered, acknowledgements, strangers, and the end', () => {
    const m = new TestMaster();
    const elected = m.elect({ apps: [persistedApp('app-1', 'a')], drivers: [persistedDriver('driver-1')], workers: [persistedWorker('w1')] });
    assert.deepEqual(logged(elected), [
      ['info', 'I have been elected leader! New state: RECOVERING', { state: 'RECOVERING' }],
      ['info', 'Trying to recover app: app-1', { appId: 'app-1' }],
      ['info', 'Trying to recover worker: w1', { workerId: 'w1' }],
    ]);
    assert.deepEqual(logged(m.elect()), [['warn', 'Elected leader again while RECOVERING; ignoring', undefined]]);
    assert.deepEqual(logged(m.send({ type: 'MasterChangeAcknowledged', appId: 'app-9' })), [
      ['warn', 'Master change ack from unknown app: app-9', { appId: 'app-9' }],
    ]);
    assert.deepEqual(logged(m.send({ type: 'WorkerSchedulerStateResponse', id: 'w9', executors: [], driverIds: [] })), [
      ['warn', 'Scheduler state from unknown worker: w9', { workerId: 'w9' }],
    ]);
    assert.deepEqual(logged(m.send({ type: 'MasterChangeAcknowledged', appId: 'app-1' }, appEnvId('a'))), [
      ['info', 'Application has been re-registered: app-1', { appId: 'app-1' }],
    ]);
    const last = m.send({ type: 'WorkerSchedulerStateResponse', id: 'w1', executors: [], driverIds: [] }, workerSpec('w1').envId);
    assert.deepEqual(logged(last).slice(0, 3), [
      ['info', 'Worker has been re-registered: w1', { workerId: 'w1' }],
      ['warn', 'Driver driver-1 was not found after master recovery', { driverId: 'driver-1' }],
      ['warn', 'Did not re-launch driver-1 because it was not supervised', { driverId: 'driver-1' }],
    ]);
    assert.equal(m.state.recoveryState, 'ALIVE');
    assert.deepEqual(logged(m.send({ type: 'WorkerSchedulerStateResponse', id: 'w1', executors: [], driverIds: [] }, workerSpec('w1').envId)), [
      ['warn', 'Ignored scheduler state from worker w1: the recovery is over', { workerId: 'w1' }],
    ]);
  });

  test('a second acknowledgement from an app is not answered with another MasterChanged', () => {
    const m = recovering();
    const first = m.send({ type: 'MasterChangeAcknowledged', appId: 'app-1' }, appEnvId('a'));
    assert.equal(sent(first, 'MasterChanged').length, 1);
    const second = m.send({ type: 'MasterChangeAcknowledged', appId: 'app-1' }, appEnvId('a'));
    assert.deepEqual(sent(second, 'MasterChanged'), []);
  });
});

test('a recovered worker\'s report: RUNNING executors run since now, others not; it claims the drivers it names', () => {
  const m = recovering();
  m.send({ type: 'MasterChangeAcknowledged', appId: 'app-1' }, appEnvId('a'));
  m.advance(500);
  m.send(
    {
      type: 'WorkerSchedulerStateResponse',
      id: 'w1',
      executors: [
        { appId: 'app-1', execId: 0, cores: 1, memoryMb: 256, state: 'RUNNING' },
        { appId: 'app-1', execId: 1, cores: 1, memoryMb: 256, state: 'LAUNCHING' },
      ],
      driverIds: ['driver-2', 'driver-404'],
    },
    workerSpec('w1').envId,
  );
  const app = m.app('app-1');
  // (Recovery then completes, and schedule() gives the app a new executor, id 2.)
  assert.deepEqual([...app.executors.values()].slice(0, 2).map((e) => [e.id, e.state, e.runningSinceMs]), [
    [0, 'RUNNING', m.now],
    [1, 'LAUNCHING', undefined],
  ]);
  assert.equal(m.driver('driver-2')?.state, 'RUNNING');
  assert.equal(m.driver('driver-2')?.worker?.id, 'w1');
  assert.deepEqual([...m.worker('w1').drivers.keys()], ['driver-2']);
  assert.equal(m.driver('driver-1')?.state, 'ERROR', 'not claimed, not supervised');
});

describe('leadership and the machine\'s own lines', () => {
  test('Start logs the master URL; a revoked leader cancels every timer and steps down with its reason', () => {
    const m = new TestMaster();
    assert.deepEqual(logged(m.machine.handle({ kind: 'Start' }, m.now)), [['info', 'Starting Flint master at flint://master:7077', undefined]]);
    const alive = aliveMaster();
    alive.registerWorker('w1');
    const revoked = alive.machine.handle({ kind: 'RevokedLeadership' }, alive.now);
    assert.deepEqual(alive.state.timers.armed(), []);
    assert.deepEqual(revoked.filter((e) => e.kind === 'StepDown'), [{ kind: 'StepDown', reason: 'leadership revoked' }]);
  });

  test('clearing completed entries says how many; a message about another driver\'s app is quoted cut to 200 characters', () => {
    const m = aliveMaster();
    m.registerWorker('w1');
    const { appId } = m.registerApp('a');
    m.send({ type: 'UnregisterApplication', appId });
    assert.deepEqual(logged(m.ask({ type: 'RequestClearCompletedDriversAndApps' }).effects), [
      ['info', 'Asked to clear 0 completed drivers and 1 completed apps.', undefined],
    ]);
    const other = m.registerApp('b').appId;
    const long = `flint+client://${'z'.repeat(300)}`;
    assert.deepEqual(logged(m.send({ type: 'UnregisterApplication', appId: other }, long)), [
      ['warn', `Ignored UnregisterApplication for app ${other} from ${long.slice(0, 200)}: not its driver`, { appId: other }],
    ]);
  });

  test('kill-all with a running and a waiting driver removes only the waiting one, without warnings', () => {
    const m = aliveMaster();
    m.registerWorker('w1', { cores: 1 });
    const running = m.submitDriver({ cores: 1 }).driverId;
    const waiting = m.submitDriver({ cores: 1 }).driverId;
    const { effects } = m.ask({ type: 'RequestKillAllDrivers' });
    assert.deepEqual(logged(effects).filter(([level]) => level === 'warn'), []);
    assert.deepEqual(sent(effects, 'KillDriver').map((k) => k.message.driverId), [running]);
    assert.equal(m.driver(waiting)?.state, 'KILLED');
    assert.deepEqual(logged(effects).find(([, msg]) => msg.startsWith('Removing driver')), ['info', `Removing driver: ${waiting} (KILLED)`, { driverId: waiting, state: 'KILLED' }]);
  });
});
