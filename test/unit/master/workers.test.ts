// Worker registration, liveness, reconciliation, timeout and removal (reference §4.4, §4.5, §15 items 2–3).
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
  persistedWorker,
  sent,
  sentTypes,
  workerSpec,
} from './harness.ts';
import { hostPort, type MasterState } from '../../../src/master/state.ts';

/** The DEAD index, as sorted [key, ids] pairs, and what it must be: the DEAD members of `workers` by host:port. */
function deadIndex(state: MasterState): { index: Array<[string, string[]]>; expected: Array<[string, string[]]> } {
  const expected = new Map<string, string[]>();
  for (const w of state.workers) if (w.state === 'DEAD') expected.set(hostPort(w), [...(expected.get(hostPort(w)) ?? []), w.id]);
  const sorted = (m: Iterable<[string, string[]]>) => [...m].map(([k, ids]): [string, string[]] => [k, [...ids].sort()]).sort(([a], [b]) => a.localeCompare(b));
  return { index: sorted([...state.deadWorkers].map(([k, set]): [string, string[]] => [k, [...set].map((w) => w.id)])), expected: sorted(expected) };
}

describe('RegisterWorker', () => {
  test('SPARK-46353: in STANDBY the worker only gets MasterInStandby and nothing is registered', () => {
    const m = new TestMaster();
    const effects = m.registerWorker('w1');
    assert.deepEqual(sent(effects), [{ to: workerSpec('w1').address, message: { type: 'MasterInStandby' } }]);
    assert.equal(ofKind(effects, 'Persist').length, 0);
    assert.equal(m.state.workers.size, 0);
  });

  test('a new worker is persisted, then acknowledged (duplicate=false), then scheduled', () => {
    const m = aliveMaster();
    const { driverId } = m.submitDriver();
    const effects = m.registerWorker('w1');
    const persist = indexOf(effects, (e) => e.kind === 'Persist' && e.key === 'worker_w1', 'persist worker_w1');
    const ack = indexOf(effects, isSendOf('RegisteredWorker'), 'RegisteredWorker');
    const launch = indexOf(effects, isSendOf('LaunchDriver'), 'LaunchDriver from schedule()');
    assert.ok(persist < ack && ack < launch, `order persist ${persist} < ack ${ack} < launch ${launch}`);
    assert.deepEqual(ofKind(effects, 'Persist')[0]?.record, {
      kind: 'worker',
      id: 'w1',
      host: '10.0.0.1',
      port: 7001,
      workerAddress: 'flint://Worker@10.0.0.1:7001',
      cores: 10,
      memoryMb: 4096,
      webUiUrl: 'http://10.0.0.1:8081',
    });
    assert.deepEqual(sent(effects, 'RegisteredWorker')[0], {
      to: 'flint://Worker@10.0.0.1:7001',
      message: {
        type: 'RegisteredWorker',
        masterAddress: 'flint://Master@master:7077',
        masterWebUiUrl: 'http://master:8080',
        masterUrl: 'flint://master:7077',
        duplicate: false,
      },
    });
    assert.equal(m.driver(driverId)?.state, 'RUNNING');
    const w = m.worker('w1');
    assert.equal(w.state, 'ALIVE');
    assert.equal(w.lastHeartbeatMs, T0);
  });

  test('SPARK-20529: RegisteredWorker echoes the master address the worker used', () => {
    const m = aliveMaster();
    const effects = m.registerWorker('w1', { masterAddress: 'flint://localhost2:10000' });
    assert.equal(sent(effects, 'RegisteredWorker')[0]?.message.masterUrl, 'flint://localhost2:10000');
  });

  test('SPARK-23191: a duplicate worker id is acknowledged with duplicate=true and changes nothing', () => {
    const m = aliveMaster();
    m.registerWorker('w1');
    const effects = m.registerWorker('w1', { port: 9999 });
    const acks = sent(effects, 'RegisteredWorker');
    assert.equal(acks.length, 1);
    assert.equal(acks[0]?.to, 'flint://Worker@10.0.0.1:9999');
    assert.equal(acks[0]?.message.duplicate, true);
    assert.equal(ofKind(effects, 'Persist').length, 0);
    assert.equal(m.worker('w1').address, 'flint://Worker@10.0.0.1:7001', 'the stored endpoint is kept');
    assert.equal(m.state.workers.size, 1);
  });

  test('a second worker on the address of a live one is refused with RegisterWorkerFailed', () => {
    const m = aliveMaster();
    m.registerWorker('w1', { port: 7001 });
    const effects = m.registerWorker('w2', { port: 7001 });
    assert.deepEqual(sent(effects, 'RegisterWorkerFailed'), [
      {
        to: 'flint://Worker@10.0.0.1:7001',
        message: {
          type: 'RegisterWorkerFailed',
          message: 'Attempted to re-register worker at same address: flint://10.0.0.1:7001',
        },
      },
    ]);
    assert.equal(m.state.idToWorker.has('w2'), false);
    assert.equal(ofKind(effects, 'Persist').length, 0);
  });

  test('an UNKNOWN worker (recovering) on the same address is replaced by the new one', () => {
    const m = new TestMaster();
    m.elect({ apps: [], drivers: [], workers: [persistedWorker('old', { port: 7001 })] });
    assert.equal(m.state.recoveryState, 'RECOVERING');
    const effects = m.registerWorker('new', { port: 7001 });
    const oldInfo = [...m.state.workers].find((w) => w.id === 'old');
    assert.equal(oldInfo?.state, 'DEAD');
    assert.deepEqual(
      ofKind(effects, 'Unpersist').map((e) => e.key),
      ['worker_old'],
    );
    assert.equal(sent(effects, 'RegisteredWorker')[0]?.message.duplicate, false);
    assert.equal(m.worker('new').state, 'ALIVE');
    assert.equal(m.state.recoveryState, 'RECOVERING', 'RegisterWorker does not complete recovery by itself');
  });

  test('DEAD entries on the same host:port are dropped; other DEAD entries stay listed', () => {
    const m = aliveMaster();
    m.registerWorker('w1', { port: 7001 });
    m.registerWorker('w2', { port: 7002 });
    m.disconnect('flint://10.0.0.1:7001');
    m.disconnect('flint://10.0.0.1:7002');
    assert.deepEqual([...m.state.workers].map((w) => [w.id, w.state]), [
      ['w1', 'DEAD'],
      ['w2', 'DEAD'],
    ]);
    m.registerWorker('w3', { port: 7001 });
    assert.deepEqual([...m.state.workers].map((w) => [w.id, w.state]), [
      ['w2', 'DEAD'],
      ['w3', 'ALIVE'],
    ]);
  });

  test('a lone DEAD entry on the same host:port is dropped, among ALIVE workers and a live one with its id', () => {
    const m = aliveMaster();
    for (const id of ['w1', 'w2', 'w3']) m.registerWorker(id);
    m.disconnect('flint://10.0.0.1:7001');
    // w1 comes back from another port: its id is free again, so `workers` now holds two w1 (one DEAD).
    m.registerWorker('w1', { port: 7009 });
    assert.equal(m.state.deadWorkers.size, 1);
    m.registerWorker('w4', { port: 7001 });
    assert.deepEqual(
      [...m.state.workers].map((w) => [w.id, w.port, w.state]),
      [
        ['w2', 7002, 'ALIVE'],
        ['w3', 7003, 'ALIVE'],
        ['w1', 7009, 'ALIVE'],
        ['w4', 7001, 'ALIVE'],
      ],
    );
    assert.equal(m.state.deadWorkers.size, 0);
  });

  test('the DEAD index tracks the DEAD entries through removal, replacement, re-registration and culling', () => {
    const m = aliveMaster({ workerTimeoutMs: 60_000, deadWorkerPersistence: 1 });
    const check = (step: string): void => {
      const { index, expected } = deadIndex(m.state);
      assert.deepEqual(index, expected, step);
    };
    check('empty');
    for (const id of ['w1', 'w2']) m.registerWorker(id);
    check('registered');
    m.disconnect('flint://10.0.0.1:7001');
    check('w1 removed');
    m.registerWorker('w1', { port: 7009 });
    check('w1 back on another port');
    m.advance(61_000);
    m.heartbeat('w1', { port: 7009 });
    m.timer('CheckForWorkerTimeOut');
    check('w2 timed out');
    m.advance(200_000);
    m.heartbeat('w1', { port: 7009 });
    m.timer('CheckForWorkerTimeOut');
    check('DEAD entries culled');
    assert.deepEqual([...m.state.workers].map((w) => [w.id, w.state]), [['w1', 'ALIVE']]);
  });
});

describe('Heartbeat', () => {
  test('a known worker: only lastHeartbeat moves', () => {
    const m = aliveMaster();
    m.registerWorker('w1');
    m.advance(5_000);
    assert.deepEqual(m.heartbeat('w1'), []);
    assert.equal(m.worker('w1').lastHeartbeatMs, T0 + 5_000);
  });

  test('a DEAD worker still listed is told to reconnect (ReconnectWorker with the master URL)', () => {
    const m = aliveMaster();
    m.registerWorker('w1');
    m.disconnect('flint://10.0.0.1:7001');
    const effects = m.heartbeat('w1');
    assert.deepEqual(sent(effects), [
      { to: 'flint://Worker@10.0.0.1:7001', message: { type: 'ReconnectWorker', masterUrl: 'flint://master:7077' } },
    ]);
  });

  test('a worker never registered is ignored (logged only)', () => {
    const m = aliveMaster();
    const effects = m.heartbeat('stranger');
    assert.deepEqual(sent(effects), []);
    assert.match(logs(effects, 'warn')[0] ?? '', /never registered/);
  });
});

describe('WorkerLatestState', () => {
  test('SPARK-13604: the master asks the worker to kill executors and drivers it does not know', () => {
    const m = aliveMaster();
    m.registerWorker('1');
    const effects = m.send({
      type: 'WorkerLatestState',
      id: '1',
      executors: [0, 1, 2].map((i) => ({ appId: String(i), execId: i, cores: 2, memoryMb: 512, state: 'RUNNING' as const })),
      driverIds: ['0', '1', '2'],
    });
    const killedExecutors = sent(effects, 'KillExecutor').map((s) => [s.message.appId, s.message.execId]);
    assert.deepEqual(killedExecutors, [
      ['0', 0],
      ['1', 1],
      ['2', 2],
    ]);
    assert.deepEqual(
      sent(effects, 'KillDriver').map((s) => s.message.driverId),
      ['0', '1', '2'],
    );
    assert.ok(sent(effects).every((s) => s.to === workerSpec('1').address));
    assert.equal(sent(effects, 'KillExecutor')[0]?.message.masterUrl, 'flint://master:7077');
  });

  test('what the master booked on that worker is kept; only the strangers are killed', () => {
    const m = aliveMaster();
    m.registerWorker('w1', { cores: 4, memoryMb: 4096 });
    const { driverId } = m.submitDriver({ cores: 1 });
    const { appId } = m.registerApp('a');
    const effects = m.send({
      type: 'WorkerLatestState',
      id: 'w1',
      executors: [
        { appId, execId: 0, cores: 3, memoryMb: 1024, state: 'RUNNING' },
        { appId, execId: 7, cores: 1, memoryMb: 1024, state: 'RUNNING' },
      ],
      driverIds: [driverId, 'driver-old'],
    });
    assert.deepEqual(
      sent(effects).map((s) => s.message),
      [
        { type: 'KillExecutor', masterUrl: 'flint://master:7077', appId, execId: 7 },
        { type: 'KillDriver', driverId: 'driver-old' },
      ],
    );
  });

  test('a new worker is offered nothing before its WorkerLatestState, which may hold executors the master does not know (src/sim)', () => {
    const m = aliveMaster();
    const { appId } = m.registerApp('a', { coresPerExecutor: 1, memoryMbPerExecutor: 512 });
    // RegisterWorker alone: the worker may still run executors of an earlier registration.
    const registered = m.send(workerSpec('w1', { cores: 4, memoryMb: 4096 }).message);
    assert.deepEqual(sent(registered, 'LaunchExecutor'), [], 'nothing placed before the worker says what it holds');
    // Its report holds an executor this master never launched: killed, and its core held until it ends.
    const latest = m.send({
      type: 'WorkerLatestState',
      id: 'w1',
      executors: [{ appId: 'app-old', execId: 3, cores: 1, memoryMb: 512, state: 'RUNNING' }],
      driverIds: [],
    });
    assert.deepEqual(sent(latest, 'KillExecutor').map((k) => `${k.message.appId}/${k.message.execId}`), ['app-old/3']);
    assert.equal(sent(latest, 'LaunchExecutor').length, 3, 'three of the four cores are free');
    assert.equal(m.worker('w1').coresUsed, 4);
    assert.deepEqual([...m.worker('w1').orphans.keys()], ['app-old/3']);
    // The worker reports it killed: its core is free again, and the app gets it.
    const { effects } = m.ask({ type: 'ExecutorStateChanged', appId: 'app-old', execId: 3, state: 'KILLED' }, workerSpec('w1').envId);
    assert.deepEqual([...m.worker('w1').orphans.keys()], []);
    assert.deepEqual(sent(effects, 'LaunchExecutor').map((l) => l.message.appId), [appId]);
    assert.equal(m.worker('w1').coresUsed, 4);
  });

  test('an executor the worker reports was given by an earlier master: its id is never given again (src/sim seed 74)', () => {
    const m = aliveMaster();
    const { appId } = m.registerApp('a', { coresPerExecutor: 1, memoryMbPerExecutor: 512, maxCores: 1 });
    m.send(workerSpec('w1', { cores: 2, memoryMb: 4096 }).message);
    const latest = m.send({ type: 'WorkerLatestState', id: 'w1', executors: [{ appId, execId: 5, cores: 1, memoryMb: 512, state: 'RUNNING' }], driverIds: [] });
    assert.deepEqual(sent(latest, 'LaunchExecutor').map((l) => l.message.execId), [6], 'ids go on past 5');
  });

  test('from an unknown worker it is only logged', () => {
    const m = aliveMaster();
    const effects = m.send({ type: 'WorkerLatestState', id: 'nobody', executors: [], driverIds: ['d'] });
    assert.deepEqual(sent(effects), []);
    assert.match(logs(effects, 'warn')[0] ?? '', /unknown worker: nobody/);
  });
});

describe('CheckForWorkerTimeOut', () => {
  test('Start schedules the sweep at once and then every worker timeout', () => {
    const m = new TestMaster({ workerTimeoutMs: 30_000 });
    const effects = m.machine.handle({ kind: 'Start' }, T0);
    assert.deepEqual(
      ofKind(effects, 'StartTimer').map(({ key, delayMs }) => [key, delayMs]),
      [['CheckForWorkerTimeOut', 0]],
    );
    // Each firing arms the next one a worker timeout later, before it sweeps.
    const fired = m.timer('CheckForWorkerTimeOut');
    assert.deepEqual(
      ofKind(fired, 'StartTimer').map(({ key, delayMs }) => [key, delayMs]),
      [['CheckForWorkerTimeOut', 30_000]],
    );
    assert.deepEqual(
      ofKind(m.timer('CheckForWorkerTimeOut'), 'StartTimer').map(({ key, delayMs }) => [key, delayMs]),
      [['CheckForWorkerTimeOut', 30_000]],
    );
  });

  test('a worker silent for longer than the timeout is removed; exactly the timeout is not enough', () => {
    const m = aliveMaster();
    m.registerWorker('w1');
    m.advance(60_000);
    m.timer('CheckForWorkerTimeOut');
    assert.equal(m.worker('w1').state, 'ALIVE');
    m.advance(1);
    const effects = m.timer('CheckForWorkerTimeOut');
    const w1 = [...m.state.workers][0];
    assert.equal(w1?.state, 'DEAD');
    assert.equal(m.state.idToWorker.has('w1'), false);
    assert.equal(m.state.addressToWorker.size, 0);
    assert.deepEqual(
      ofKind(effects, 'Unpersist').map((e) => e.key),
      ['worker_w1'],
    );
  });

  test('its executors are LOST to their drivers (no failure counted) and every app hears WorkerRemoved', () => {
    const m = aliveMaster();
    m.registerWorker('w1', { cores: 4 });
    const { appId } = m.registerApp('a');
    const { appId: other } = m.registerApp('b');
    assert.equal(m.app(appId).executors.size, 1);
    m.advance(60_001);
    const effects = m.timer('CheckForWorkerTimeOut');
    const reason = 'Not receiving heartbeat for 60 seconds';
    assert.deepEqual(sent(effects, 'ExecutorUpdated'), [
      {
        to: appAddress('a'),
        message: { type: 'ExecutorUpdated', id: 0, state: 'LOST', message: `worker lost: ${reason}`, workerHost: '10.0.0.1' },
      },
    ]);
    assert.deepEqual(
      sent(effects, 'WorkerRemoved').map((s) => [s.to, s.message]),
      [
        [appAddress('a'), { type: 'WorkerRemoved', id: 'w1', host: '10.0.0.1', message: reason }],
        [appAddress('b'), { type: 'WorkerRemoved', id: 'w1', host: '10.0.0.1', message: reason }],
      ],
    );
    const app = m.app(appId);
    assert.equal(app.executors.size, 0);
    assert.equal(app.coresGranted, 0);
    assert.equal(app.retryCount, 0);
    assert.equal(app.removedExecutors[0]?.state, 'LOST');
    assert.ok(m.state.idToApp.has(other));
  });

  test('SPARK-19900: a supervised driver on a lost worker is relaunched under a NEW id', () => {
    const m = aliveMaster();
    m.registerWorker('w1');
    const { driverId } = m.submitDriver({ supervise: true });
    assert.equal(m.driver(driverId)?.worker?.id, 'w1');
    m.advance(50_000);
    m.registerWorker('w2');
    m.advance(10_001);
    const effects = m.timer('CheckForWorkerTimeOut');
    const relaunchedId = 'driver-20240102030505-0001';
    assert.equal(m.driver(driverId)?.state, 'RELAUNCHING');
    assert.ok(m.state.completedDrivers.some((d) => d.id === driverId));
    assert.deepEqual(sent(effects, 'LaunchDriver').map((s) => [s.to, s.message.driverId]), [
      [workerSpec('w2').address, relaunchedId],
    ]);
    assert.equal(m.driver(relaunchedId)?.state, 'RUNNING');
    const unpersistOld = indexOf(effects, (e) => e.kind === 'Unpersist' && e.key === `driver_${driverId}`, 'old');
    const persistNew = indexOf(effects, (e) => e.kind === 'Persist' && e.key === `driver_${relaunchedId}`, 'new');
    const launch = indexOf(effects, isSendOf('LaunchDriver'), 'launch');
    assert.ok(unpersistOld < persistNew && persistNew < launch);
  });

  test('a driver that is not supervised ends in ERROR and is not relaunched', () => {
    const m = aliveMaster();
    m.registerWorker('w1');
    const { driverId } = m.submitDriver({ supervise: false });
    m.advance(60_001);
    const effects = m.timer('CheckForWorkerTimeOut');
    assert.equal(m.driver(driverId)?.state, 'ERROR');
    assert.equal(m.state.drivers.size, 0);
    assert.equal(ofKind(effects, 'Persist').length, 0);
  });

  test('a DEAD worker is culled after (deadWorkerPersistence + 1) × timeout of silence', () => {
    const m = aliveMaster({ workerTimeoutMs: 1_000, deadWorkerPersistence: 15 });
    m.registerWorker('w1');
    m.advance(1_001);
    m.timer('CheckForWorkerTimeOut');
    assert.equal([...m.state.workers][0]?.state, 'DEAD');
    m.now = T0 + 16_000;
    m.timer('CheckForWorkerTimeOut');
    assert.equal(m.state.workers.size, 1, 'still listed at exactly 16 × timeout');
    m.now = T0 + 16_001;
    const effects = m.timer('CheckForWorkerTimeOut');
    assert.equal(m.state.workers.size, 0);
    assert.deepEqual(sent(effects), [], 'culling tells nobody');
  });
});

describe('Disconnected', () => {
  test('a worker connection lost removes that worker', () => {
    const m = aliveMaster();
    m.registerWorker('w1');
    m.registerWorker('w2');
    const effects = m.disconnect('flint://10.0.0.1:7002');
    assert.equal(m.state.idToWorker.has('w2'), false);
    assert.equal(m.worker('w1').state, 'ALIVE');
    assert.ok(logs(effects).some((l) => l.includes('flint://10.0.0.1:7002 got disassociated')));
  });

  test('an app client connection lost finishes that app (FINISHED: no ApplicationRemoved)', () => {
    const m = aliveMaster();
    m.registerWorker('w1');
    const { appId } = m.registerApp('a');
    const effects = m.disconnect('flint+client://a');
    assert.equal(m.state.idToApp.has(appId), false);
    assert.equal(m.state.completedApps[0]?.state, 'FINISHED');
    assert.deepEqual(sent(effects, 'ApplicationRemoved'), []);
    assert.deepEqual(sentTypes(effects).filter((t) => t === 'ApplicationFinished'), ['ApplicationFinished']);
  });

  test('an unknown env changes nothing', () => {
    const m = aliveMaster();
    m.registerWorker('w1');
    const effects = m.disconnect('flint://elsewhere:1');
    assert.deepEqual(sent(effects), []);
    assert.equal(m.worker('w1').state, 'ALIVE');
  });
});

describe('WorkerDecommissioning', () => {
  test('in STANDBY the worker gets MasterInStandby', () => {
    const m = new TestMaster();
    const effects = m.send({ type: 'WorkerDecommissioning', id: 'w1', workerAddress: workerSpec('w1').address });
    assert.deepEqual(sentTypes(effects), ['MasterInStandby']);
  });

  test('executors are reported DECOMMISSIONED and leave their app, yet stay booked; the worker is never chosen again', () => {
    const m = aliveMaster();
    m.registerWorker('w1', { cores: 4 });
    const { appId } = m.registerApp('a');
    const effects = m.send({ type: 'WorkerDecommissioning', id: 'w1', workerAddress: workerSpec('w1').address });
    assert.deepEqual(sent(effects, 'ExecutorUpdated')[0]?.message, {
      type: 'ExecutorUpdated',
      id: 0,
      state: 'DECOMMISSIONED',
      message: 'worker decommissioned',
      workerHost: '10.0.0.1',
    });
    const w1 = m.worker('w1');
    assert.equal(w1.state, 'DECOMMISSIONED');
    assert.equal(w1.coresUsed, 4, 'the executor stays booked on the worker');
    assert.equal(m.app(appId).executors.size, 0);
    assert.deepEqual(
      ofKind(effects, 'Unpersist').map((e) => e.key),
      ['worker_w1'],
    );
    const again = m.send({ type: 'WorkerDecommissioning', id: 'w1', workerAddress: workerSpec('w1').address });
    assert.match(logs(again, 'warn')[0] ?? '', /already decommissioned/);
    // A new app finds no usable worker.
    const { effects: second } = m.registerApp('b');
    assert.deepEqual(sent(second, 'LaunchExecutor'), []);
  });
});
