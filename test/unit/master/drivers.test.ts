// Driver submission, kill, status, final reports, supervision (reference §2.5, §4.4, §4.5, §15 items 1, 7).
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  STAMP,
  TestMaster,
  aliveMaster,
  indexOf,
  logs,
  ofKind,
  persistedApp,
  sent,
  sentTypes,
  driverDesc,
  seededRng,
  workerSpec,
} from './harness.ts';

describe('RequestSubmitDriver', () => {
  test('refused outside ALIVE with the BACKUP_STANDALONE_MASTER_PREFIX message', () => {
    const m = new TestMaster();
    const standby = m.ask({ type: 'RequestSubmitDriver', driverDescription: driverDesc() });
    assert.deepEqual(standby.reply, {
      type: 'SubmitDriverResponse',
      masterUrl: 'flint://master:7077',
      success: false,
      message: 'Current state is not alive: STANDBY. Can only accept driver submissions in ALIVE state.',
    });
    m.elect({ apps: [persistedApp('app-old', 'old')], drivers: [], workers: [] });
    const recovering = m.ask({ type: 'RequestSubmitDriver', driverDescription: driverDesc() });
    assert.ok(recovering.reply?.type === 'SubmitDriverResponse');
    assert.match(recovering.reply.message, /^Current state is not alive: RECOVERING\./);
    assert.equal(m.state.drivers.size, 0);
  });

  test('accepted: persisted, queued, then answered with the new id (driver-<yyyyMMddHHmmss>-NNNN)', () => {
    const m = aliveMaster();
    const { reply, effects } = m.ask({ type: 'RequestSubmitDriver', driverDescription: driverDesc() });
    const id = `driver-${STAMP}-0000`;
    assert.deepEqual(reply, {
      type: 'SubmitDriverResponse',
      masterUrl: 'flint://master:7077',
      success: true,
      driverId: id,
      message: `Driver successfully submitted as ${id}`,
    });
    const persist = indexOf(effects, (e) => e.kind === 'Persist' && e.key === `driver_${id}`, 'persist');
    assert.ok(persist < effects.findIndex((e) => e.kind === 'Reply'));
    assert.deepEqual(m.state.waitingDrivers.map((d) => d.id), [id]);
    assert.equal(m.submitDriver().driverId, `driver-${STAMP}-0001`);
  });

  test('a worker that fits gets LaunchDriver and the driver is RUNNING there', () => {
    const m = aliveMaster();
    m.registerWorker('w1');
    const { driverId, effects } = m.submitDriver({ cores: 2, memoryMb: 1024 });
    assert.deepEqual(sent(effects, 'LaunchDriver'), [
      { to: workerSpec('w1').address, message: { type: 'LaunchDriver', driverId, driverDesc: driverDesc({ cores: 2, memoryMb: 1024 }) } },
    ]);
    const w1 = m.worker('w1');
    assert.equal(w1.coresUsed, 2);
    assert.equal(w1.memoryUsedMb, 1024);
    assert.deepEqual(m.state.waitingDrivers, []);
  });
});

describe('RequestDriverStatus', () => {
  test('found while submitted, running and completed; not found otherwise', () => {
    const m = aliveMaster();
    const { driverId } = m.submitDriver();
    assert.deepEqual(m.ask({ type: 'RequestDriverStatus', driverId }).reply, {
      type: 'DriverStatusResponse',
      found: true,
      state: 'SUBMITTED',
    });
    m.registerWorker('w1');
    assert.deepEqual(m.ask({ type: 'RequestDriverStatus', driverId }).reply, {
      type: 'DriverStatusResponse',
      found: true,
      state: 'RUNNING',
      workerId: 'w1',
      workerHostPort: '10.0.0.1:7001',
    });
    m.send({ type: 'DriverStateChanged', driverId, state: 'FAILED', exception: 'boom' });
    assert.deepEqual(m.ask({ type: 'RequestDriverStatus', driverId }).reply, {
      type: 'DriverStatusResponse',
      found: true,
      state: 'FAILED',
      workerId: 'w1',
      workerHostPort: '10.0.0.1:7001',
      exception: 'boom',
    });
    assert.deepEqual(m.ask({ type: 'RequestDriverStatus', driverId: 'driver-nope' }).reply, {
      type: 'DriverStatusResponse',
      found: false,
    });
  });

  test('outside ALIVE: not found, with the not-alive message as the exception', () => {
    const m = new TestMaster();
    assert.deepEqual(m.ask({ type: 'RequestDriverStatus', driverId: 'd' }).reply, {
      type: 'DriverStatusResponse',
      found: false,
      exception: 'Current state is not alive: STANDBY. Can only request driver status in ALIVE state.',
    });
  });
});

describe('RequestKillDriver / RequestKillAllDrivers', () => {
  test('a waiting driver is dequeued and KILLED right after the reply; no worker is involved', () => {
    const m = aliveMaster();
    const { driverId } = m.submitDriver();
    const { reply, effects } = m.ask({ type: 'RequestKillDriver', driverId });
    assert.deepEqual(reply, {
      type: 'KillDriverResponse',
      masterUrl: 'flint://master:7077',
      driverId,
      success: true,
      message: `Kill request for ${driverId} submitted`,
    });
    const replyAt = effects.findIndex((e) => e.kind === 'Reply');
    const unpersistAt = indexOf(effects, (e) => e.kind === 'Unpersist' && e.key === `driver_${driverId}`, 'unpersist');
    assert.ok(replyAt < unpersistAt, 'the bookkeeping follows the reply, as Spark self-sends DriverStateChanged');
    assert.deepEqual(sent(effects), []);
    assert.equal(m.driver(driverId)?.state, 'KILLED');
    assert.equal(m.state.drivers.size, 0);
  });

  test('a running driver is killed by its worker; the worker’s KILLED report does the bookkeeping', () => {
    const m = aliveMaster();
    m.registerWorker('w1');
    const { driverId } = m.submitDriver();
    const { effects } = m.ask({ type: 'RequestKillDriver', driverId });
    assert.deepEqual(sent(effects), [{ to: workerSpec('w1').address, message: { type: 'KillDriver', driverId } }]);
    assert.equal(m.driver(driverId)?.state, 'RUNNING');
    m.send({ type: 'DriverStateChanged', driverId, state: 'KILLED' });
    assert.equal(m.driver(driverId)?.state, 'KILLED');
    assert.equal(m.worker('w1').coresUsed, 0);
    assert.equal(m.worker('w1').drivers.size, 0);
  });

  test('an unknown driver, and any kill outside ALIVE, is refused', () => {
    const m = new TestMaster();
    const standby = m.ask({ type: 'RequestKillDriver', driverId: 'd' });
    assert.ok(standby.reply?.type === 'KillDriverResponse' && !standby.reply.success);
    assert.equal(standby.reply.message, 'Current state is not alive: STANDBY. Can only kill drivers in ALIVE state.');
    const all = m.ask({ type: 'RequestKillAllDrivers' });
    assert.ok(all.reply?.type === 'KillAllDriversResponse' && !all.reply.success);
    m.elect();
    const unknown = m.ask({ type: 'RequestKillDriver', driverId: 'd' });
    assert.ok(unknown.reply?.type === 'KillDriverResponse');
    assert.equal(unknown.reply.success, false);
    assert.equal(unknown.reply.message, 'Driver d has already finished or does not exist');
  });

  test('kill-all: running drivers get KillDriver; waiting ones end KILLED and none is launched meanwhile', () => {
    const m = aliveMaster();
    m.registerWorker('w1', { cores: 1 });
    const running = m.submitDriver().driverId;
    const waiting = [m.submitDriver().driverId, m.submitDriver().driverId];
    const { reply, effects } = m.ask({ type: 'RequestKillAllDrivers' });
    assert.deepEqual(reply, {
      type: 'KillAllDriversResponse',
      masterUrl: 'flint://master:7077',
      success: true,
      message: 'Kill request for all drivers submitted',
    });
    assert.deepEqual(sentTypes(effects), ['KillDriver']);
    assert.equal(sent(effects, 'KillDriver')[0]?.message.driverId, running);
    assert.deepEqual(waiting.map((id) => m.driver(id)?.state), ['KILLED', 'KILLED']);
    assert.equal(m.driver(running)?.state, 'RUNNING');
  });
});

describe('DriverStateChanged', () => {
  test('a final state removes the driver, frees its worker and schedules the next one', () => {
    const m = aliveMaster();
    m.registerWorker('w1', { cores: 1 });
    const first = m.submitDriver().driverId;
    const second = m.submitDriver().driverId;
    assert.equal(m.driver(second)?.state, 'SUBMITTED');
    const effects = m.send({ type: 'DriverStateChanged', driverId: first, state: 'FINISHED' });
    assert.equal(m.driver(first)?.state, 'FINISHED');
    assert.deepEqual(sent(effects, 'LaunchDriver').map((s) => s.message.driverId), [second]);
    assert.deepEqual(
      ofKind(effects, 'Unpersist').map((e) => e.key),
      [`driver_${first}`],
    );
  });

  test('a non-final state is an error that changes nothing (Spark throws)', () => {
    const m = aliveMaster();
    m.registerWorker('w1');
    const { driverId } = m.submitDriver();
    const effects = m.send({ type: 'DriverStateChanged', driverId, state: 'RUNNING' });
    assert.match(logs(effects, 'error')[0] ?? '', /unexpected state update/);
    assert.equal(m.state.drivers.size, 1);
  });

  test('an unknown driver only logs "Asked to remove unknown driver"', () => {
    const m = aliveMaster();
    const effects = m.send({ type: 'DriverStateChanged', driverId: 'driver-x', state: 'KILLED' });
    assert.deepEqual(logs(effects, 'warn'), ['Asked to remove unknown driver: driver-x']);
  });

  test('completed drivers are trimmed like completed apps (retained 5 → drop 1 before the 6th)', () => {
    const m = aliveMaster({ retainedDrivers: 5 });
    const ids = Array.from({ length: 6 }, () => m.submitDriver().driverId);
    for (const driverId of ids) m.ask({ type: 'RequestKillDriver', driverId });
    assert.deepEqual(
      m.state.completedDrivers.map((d) => d.id),
      ids.slice(1),
    );
  });
});

describe('supervision and placement', () => {
  test('SPARK-19900: there should be a corresponding driver for the app after relaunching driver', () => {
    const m = aliveMaster({ workerTimeoutMs: 1_000 });
    m.registerWorker('w1');
    const oldId = m.submitDriver({ supervise: true }).driverId;
    m.advance(1_001);
    m.timer('CheckForWorkerTimeOut');
    assert.equal(m.driver(oldId)?.state, 'RELAUNCHING');
    m.registerWorker('w2');
    const newId = [...m.state.drivers][0]?.id ?? '';
    assert.notEqual(newId, oldId);
    assert.equal(m.driver(newId)?.worker?.id, 'w2');
    // The partitioned worker comes back, still running the old instance: it is told to kill it ...
    m.registerWorker('w1');
    const latest = m.send({ type: 'WorkerLatestState', id: 'w1', executors: [], driverIds: [oldId] });
    assert.deepEqual(sent(latest).map((s) => [s.to, s.message]), [
      [workerSpec('w1').address, { type: 'KillDriver', driverId: oldId }],
    ]);
    // ... and the stale instance's KILLED report cannot touch the relaunched driver.
    const report = m.send({ type: 'DriverStateChanged', driverId: oldId, state: 'KILLED' });
    assert.deepEqual(logs(report, 'warn'), [`Asked to remove unknown driver: ${oldId}`]);
    assert.deepEqual([...m.state.drivers].map((d) => [d.id, d.state, d.worker?.id]), [[newId, 'RUNNING', 'w2']]);
    assert.equal(m.worker('w1').drivers.size, 0);
  });

  test('SPARK-45174: with maxDrivers = 1 the second driver waits until the first finishes', () => {
    const m = aliveMaster({ maxDrivers: 1 });
    m.registerWorker('w1');
    m.registerWorker('w2');
    const first = m.submitDriver().driverId;
    const second = m.submitDriver();
    assert.deepEqual(sent(second.effects, 'LaunchDriver'), []);
    const effects = m.send({ type: 'DriverStateChanged', driverId: first, state: 'FINISHED' });
    assert.deepEqual(sent(effects, 'LaunchDriver').map((s) => s.message.driverId), [second.driverId]);
  });

  test('SPARK-46800: spreadOutDrivers = false packs drivers onto the first worker by id', () => {
    const m = aliveMaster({ spreadOutDrivers: false });
    for (const id of ['w3', 'w1', 'w2']) m.registerWorker(id);
    for (let i = 0; i < 3; i += 1) m.submitDriver();
    assert.deepEqual(['w1', 'w2', 'w3'].map((id) => m.worker(id).drivers.size), [3, 0, 0]);
  });

  test('spread-out driver placement draws from the injected Rng and replays from its seed', () => {
    const place = (seed: number): { placed: Array<string | undefined>; draws: number } => {
      const rng = seededRng(seed);
      let draws = 0;
      const m = new TestMaster({}, { next: () => rng.next(), nextInt: (n) => ((draws += 1), rng.nextInt(n)) });
      m.elect();
      for (const id of ['w1', 'w2', 'w3', 'w4']) m.registerWorker(id);
      const ids = Array.from({ length: 6 }, () => m.submitDriver().driverId);
      return { placed: ids.map((id) => m.driver(id)?.worker?.id), draws };
    };
    const once = place(3);
    assert.deepEqual(place(3), once);
    assert.ok(once.draws > 0);
    assert.ok(once.placed.every((w) => w !== undefined));
    const layouts = new Set([1, 2, 3, 4, 5, 6, 7, 8].map((seed) => place(seed).placed.join()));
    assert.ok(layouts.size > 1, 'different seeds give different layouts');
  });

  test('a driver no worker can ever hold is warned about', () => {
    const m = aliveMaster();
    m.registerWorker('w1', { cores: 2 });
    const { effects } = m.submitDriver({ cores: 8 });
    assert.ok(logs(effects, 'warn').some((l) => /requires more resource than any of Workers could have/.test(l)));
  });

  test('RequestClearCompletedDriversAndApps empties both completed lists (any state)', () => {
    const m = aliveMaster();
    m.ask({ type: 'RequestKillDriver', driverId: m.submitDriver().driverId });
    m.send({ type: 'UnregisterApplication', appId: m.registerApp('a').appId });
    assert.equal(m.state.completedDrivers.length + m.state.completedApps.length, 2);
    assert.deepEqual(m.ask({ type: 'RequestClearCompletedDriversAndApps' }).reply, { type: 'BooleanResponse', value: true });
    assert.equal(m.state.completedDrivers.length + m.state.completedApps.length, 0);
  });
});
