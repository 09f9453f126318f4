// Registration, retries, heartbeats, reconnects and master changes (reference §6.2, §6.3; Spark's Worker.scala
// `registerWithMaster`/`reregisterWithMaster`/`handleRegisterResponse`/`onDisconnected`; seeds 002 and 004).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  Harness,
  MASTER_A,
  MASTER_A_ADDRESS,
  MASTER_B,
  MASTER_B_ADDRESS,
  T0,
  fixedRng,
  launchExecutor,
  ofType,
  seededRng,
  sent,
  testConfig,
  driverDesc,
} from './harness.ts';

const SEC = 1000;

test('Start sends RegisterWorker to every configured master in parallel and arms the retry timer', () => {
  const h = new Harness();
  const effects = h.start();
  const registers = ofType(effects, 'Dial');
  assert.deepEqual(
    registers.map((r) => r.envUrl),
    [MASTER_A, MASTER_B],
  );
  assert.deepEqual(registers[0]?.message, {
    type: 'RegisterWorker',
    id: 'worker-20240102030405-wh1-7078',
    host: 'wh1',
    port: 7078,
    workerAddress: 'flint://Worker@wh1:7078',
    cores: 8,
    memoryMb: 8192,
    workerWebUiUrl: 'http://wh1:8081',
    masterAddress: MASTER_A,
  });
  assert.equal(registers[1]?.message.masterAddress, MASTER_B, 'SPARK-20529: each master gets the URL used to reach it');
  const timers = ofType(effects, 'StartTimer');
  assert.deepEqual(
    timers.map((t) => [t.key, t.delayMs]),
    [['ReregisterWithMaster', 10 * SEC]],
  );
  assert.equal(h.machine.snapshot().registered, false);
});

test('Spark "All masters are unresponsive": 6 retries at the initial interval, 10 at the prolonged one, then exit(1)', () => {
  const h = new Harness(testConfig(), { rng: fixedRng(0.5) }); // fuzz 1.0: 10 s and 60 s
  h.start();
  h.advance(2 * 3600 * SEC);
  const attemptTimes = [...new Set(h.recorded('Dial').map((r) => (r.at - T0) / SEC))];
  const expected = [0, 10, 20, 30, 40, 50, 60, 120, 180, 240, 300, 360, 420, 480, 540, 600, 660];
  assert.deepEqual(attemptTimes, expected, 'initial registration + 16 retries');
  assert.equal(h.recorded('Dial').length, 2 * expected.length, 'every retry goes to both masters');
  const exits = h.recorded('Exit');
  assert.equal(exits.length, 1);
  assert.equal(exits[0]?.at, T0 + 720 * SEC, 'the 17th firing gives up');
  assert.equal(exits[0]?.effect.code, 1);
  assert.match(exits[0]?.effect.reason ?? '', /All masters are unresponsive! Giving up\./);
  assert.match(exits[0]?.effect.reason ?? '', /16 registration retries/);
  assert.equal(h.log.at(-1)?.effect.kind, 'Exit', 'Exit is the last effect');
  assert.equal(h.machine.snapshot().phase, 'stopped');
  assert.deepEqual(h.handle({ kind: 'Start' }), [], 'nothing is handled after Exit');
});

test('configured retry counts: initialRegistrationRetries=2, maxRegistrationRetries=3', () => {
  const h = new Harness(testConfig({ initialRegistrationRetries: 2, totalRegistrationRetries: 3 }));
  h.start();
  h.advance(3600 * SEC);
  const times = [...new Set(h.recorded('Dial').map((r) => (r.at - T0) / SEC))];
  assert.deepEqual(times, [0, 10, 20, 80]);
  assert.equal(h.recorded('Exit')[0]?.at, T0 + 140 * SEC);
});

test('registration intervals are fuzzed once per worker from the injected Rng: 5-15 s and 30-90 s', () => {
  const seen = new Set<number>();
  for (let seed = 1; seed <= 20; seed += 1) {
    const h = new Harness(testConfig(), { rng: seededRng(seed) });
    const { fuzz, initialMs, prolongedMs } = h.machine.intervals;
    assert.ok(fuzz >= 0.5 && fuzz < 1.5, `seed ${seed}: fuzz ${fuzz}`);
    assert.ok(initialMs >= 5 * SEC && initialMs <= 15 * SEC, `seed ${seed}: initial ${initialMs}`);
    assert.ok(prolongedMs >= 30 * SEC && prolongedMs <= 90 * SEC, `seed ${seed}: prolonged ${prolongedMs}`);
    assert.equal(initialMs, Math.round(10 * SEC * fuzz));
    assert.equal(prolongedMs, Math.round(60 * SEC * fuzz), 'the same fuzz factor scales both intervals');
    const first = ofType(h.start(), 'StartTimer')[0];
    assert.equal(first?.delayMs, initialMs);
    seen.add(initialMs);
  }
  assert.ok(seen.size > 10, 'different seeds give different intervals');
  const again = new Harness(testConfig(), { rng: seededRng(7) }).machine.intervals;
  assert.deepEqual(again, new Harness(testConfig(), { rng: seededRng(7) }).machine.intervals, 'same seed, same intervals');
  assert.deepEqual(new Harness(testConfig(), { rng: fixedRng(0) }).machine.intervals, {
    fuzz: 0.5,
    initialMs: 5 * SEC,
    prolongedMs: 30 * SEC,
  });
  assert.throws(() => new Harness(testConfig(), { rng: fixedRng(1) }), RangeError);
});

test('MasterInStandby is ignored: no state change, and retries continue to every master', () => {
  const h = new Harness();
  h.start();
  const effects = h.fromMaster({ type: 'MasterInStandby' });
  assert.deepEqual(
    effects.map((e) => e.kind),
    ['Log'],
  );
  assert.equal(h.machine.snapshot().registered, false);
  assert.deepEqual(h.machine.snapshot().armedTimers, ['ReregisterWithMaster']);
  const retry = h.advance(10 * SEC);
  assert.deepEqual(
    ofType(retry, 'Dial').map((r) => r.envUrl),
    [MASTER_A, MASTER_B],
  );
});

test('RegisterWorkerFailed before registration exits with the reason; every timer is cancelled first', () => {
  const h = new Harness();
  h.start();
  const effects = h.fromMaster({ type: 'RegisterWorkerFailed', message: 'Duplicate worker ID' });
  assert.deepEqual(ofType(effects, 'CancelTimer').map((c) => c.key), ['ReregisterWithMaster']);
  const exit = effects.at(-1);
  assert.deepEqual(exit, { kind: 'Exit', code: 1, reason: 'Worker registration failed: Duplicate worker ID' });
  assert.deepEqual(h.fromMaster({ type: 'RegisterWorkerFailed', message: 'again' }), []);
});

test('RegisterWorkerFailed after a successful registration is ignored', () => {
  const h = new Harness();
  h.register();
  const effects = h.fromMaster({ type: 'RegisterWorkerFailed', message: 'Attempted to re-register worker at same address' });
  assert.equal(ofType(effects, 'Exit').length, 0);
  assert.equal(h.machine.snapshot().phase, 'running');
});

test('RegisteredWorker: switch master, cancel retries, heartbeat at once then every timeout/4, send WorkerLatestState', () => {
  const h = new Harness();
  h.start();
  const effects = h.fromMaster({
    type: 'RegisteredWorker',
    masterAddress: MASTER_A_ADDRESS,
    masterWebUiUrl: 'http://m:8080',
    masterUrl: MASTER_A,
    duplicate: false,
  });
  assert.deepEqual(
    effects.filter((e) => e.kind !== 'Log').map((e) => (e.kind === 'StartTimer' ? `${e.key}@${e.delayMs}` : e.kind)),
    ['CancelTimer', 'SendHeartbeat@0', 'WorkDirCleanup@1800000', 'Send'],
  );
  assert.deepEqual(sent(effects, 'WorkerLatestState'), [
    {
      to: MASTER_A_ADDRESS,
      message: { type: 'WorkerLatestState', id: 'worker-20240102030405-wh1-7078', executors: [], driverIds: [] },
    },
  ]);
  const snap = h.machine.snapshot();
  assert.equal(snap.registered, true);
  assert.equal(snap.connected, true);
  assert.equal(snap.activeMasterUrl, MASTER_A);
  assert.equal(snap.activeMasterWebUiUrl, 'http://m:8080');
  h.advance(60 * SEC);
  const beats = h.recorded('Send').filter((r) => r.effect.message.type === 'Heartbeat');
  assert.deepEqual(
    beats.map((b) => (b.at - T0) / SEC),
    [0, 15, 30, 45, 60],
    'spark.worker.timeout 60 s → every 15 s',
  );
  assert.deepEqual(beats[0]?.effect, {
    kind: 'Send',
    to: MASTER_A_ADDRESS,
    message: { type: 'Heartbeat', workerId: 'worker-20240102030405-wh1-7078', workerAddress: 'flint://Worker@wh1:7078' },
  });
  assert.equal(h.recorded('Dial').length, 2, 'no retry after registering');
});

test('SPARK-23191: RegisteredWorker with duplicate=true warns and registers all the same', () => {
  const h = new Harness();
  h.start();
  const effects = h.fromMaster({
    type: 'RegisteredWorker',
    masterAddress: MASTER_A_ADDRESS,
    masterWebUiUrl: '',
    masterUrl: MASTER_A,
    duplicate: true,
  });
  const warn = ofType(effects, 'Log').find((l) => l.level === 'warn');
  assert.equal(warn?.msg, `Duplicate registration at master ${MASTER_A}`);
  assert.equal(h.machine.snapshot().registered, true);
  assert.equal(sent(effects, 'WorkerLatestState').length, 1);
});

test('a second RegisteredWorker keeps one heartbeat timer (Spark stacks a new schedule each time)', () => {
  const h = new Harness();
  h.register();
  const replaced = h.timers.get('SendHeartbeat')?.generation ?? -1;
  h.fromMaster({ type: 'RegisteredWorker', masterAddress: MASTER_A_ADDRESS, masterWebUiUrl: '', masterUrl: MASTER_A, duplicate: false });
  const stale = h.handle({ kind: 'TimerFired', key: 'SendHeartbeat', generation: replaced });
  assert.equal(sent(stale, 'Heartbeat').length, 0, 'a firing of the replaced timer is ignored');
  assert.equal(ofType(stale, 'StartTimer').length, 0);
  h.fromMaster({ type: 'RegisteredWorker', masterAddress: MASTER_A_ADDRESS, masterWebUiUrl: '', masterUrl: MASTER_A, duplicate: false });
  h.advance(60 * SEC);
  const beats = h.recorded('Send').filter((r) => r.effect.message.type === 'Heartbeat');
  assert.equal(beats.length, 5);
});

test('WorkerLatestState lists the running executors and drivers after a re-registration', () => {
  const h = new Harness();
  h.register();
  h.fromMaster(launchExecutor('app-1', 0));
  h.handle({ kind: 'ExecutorProcessStarted', appId: 'app-1', execId: 0 });
  h.fromMaster({ type: 'LaunchDriver', driverId: 'driver-1', driverDesc: driverDesc() });
  h.handle({ kind: 'Disconnected', envId: MASTER_A });
  const effects = h.fromMaster({ type: 'RegisteredWorker', masterAddress: MASTER_A_ADDRESS, masterWebUiUrl: '', masterUrl: MASTER_A, duplicate: false });
  assert.deepEqual(sent(effects, 'WorkerLatestState')[0]?.message, {
    type: 'WorkerLatestState',
    id: 'worker-20240102030405-wh1-7078',
    executors: [{ appId: 'app-1', execId: 0, cores: 2, memoryMb: 1024, state: 'RUNNING' }],
    driverIds: ['driver-1'],
  });
});

test('SPARK-4592: after the active master disconnects, re-register with all masters, then retry only the active one', () => {
  const h = new Harness();
  h.register();
  h.advance(1);
  const lost = h.handle({ kind: 'Disconnected', envId: MASTER_A });
  assert.deepEqual(ofType(lost, 'Dial').map((r) => r.envUrl), [MASTER_A, MASTER_B]);
  const snap = h.machine.snapshot();
  assert.equal(snap.connected, false);
  assert.equal(snap.registered, false);
  assert.ok(snap.armedTimers.includes('ReregisterWithMaster'));
  const beatsBefore = h.recorded('Send').filter((r) => r.effect.message.type === 'Heartbeat').length;
  const retry = h.advance(10 * SEC);
  assert.deepEqual(ofType(retry, 'Dial').map((r) => r.envUrl), [MASTER_A]);
  h.advance(40 * SEC); // two heartbeat periods
  const beatsAfter = h.recorded('Send').filter((r) => r.effect.message.type === 'Heartbeat').length;
  assert.equal(beatsAfter, beatsBefore, 'no heartbeat while disconnected');
  assert.ok(h.machine.snapshot().armedTimers.includes('SendHeartbeat'), 'the heartbeat timer keeps running');
});

test('a burst of disconnects starts one registration cycle ("Not spawning another attempt")', () => {
  const h = new Harness();
  h.register();
  h.handle({ kind: 'Disconnected', envId: MASTER_A });
  const second = h.handle({ kind: 'Disconnected', envId: MASTER_A });
  assert.equal(ofType(second, 'Dial').length, 0);
  assert.match(ofType(second, 'Log').map((l) => l.msg).join('\n'), /Not spawning another attempt/);
});

test('a disconnect from an env that is not the active master is ignored', () => {
  const h = new Harness();
  h.register();
  assert.deepEqual(h.handle({ kind: 'Disconnected', envId: MASTER_B }), []);
  assert.deepEqual(h.handle({ kind: 'Disconnected', envId: 'flint+client://abc' }), []);
  assert.equal(h.machine.snapshot().connected, true);
});

test('reconnecting after a disconnect resumes heartbeats; a stale retry firing is ignored', () => {
  const h = new Harness();
  h.register();
  h.handle({ kind: 'Disconnected', envId: MASTER_A });
  const staleGeneration = h.timers.get('ReregisterWithMaster')?.generation ?? -1;
  h.fromMaster({ type: 'RegisteredWorker', masterAddress: MASTER_A_ADDRESS, masterWebUiUrl: '', masterUrl: MASTER_A, duplicate: false });
  assert.equal(h.machine.snapshot().connected, true);
  assert.ok(!h.machine.snapshot().armedTimers.includes('ReregisterWithMaster'));
  const stale = h.handle({ kind: 'TimerFired', key: 'ReregisterWithMaster', generation: staleGeneration });
  assert.equal(ofType(stale, 'Dial').length, 0);
  const beats = sent(h.advance(0), 'Heartbeat');
  assert.equal(beats.length, 1);
});

test('re-registration after a disconnect also gives up after the last retry', () => {
  const h = new Harness(testConfig({ initialRegistrationRetries: 1, totalRegistrationRetries: 2 }));
  h.register();
  h.handle({ kind: 'Disconnected', envId: MASTER_A });
  h.advance(3600 * SEC);
  const exit = h.recorded('Exit')[0]?.effect;
  assert.equal(exit?.code, 1);
  assert.match(exit?.reason ?? '', /All masters are unresponsive/);
});

test('spark.worker.preferConfiguredMasterAddress picks which address retries go to', () => {
  for (const prefer of [false, true]) {
    const h = new Harness(testConfig({ preferConfiguredMasterAddress: prefer }));
    h.start();
    // The master advertises an internal name; the worker reached it through its configured URL.
    h.fromMaster({
      type: 'RegisteredWorker',
      masterAddress: 'flint://Master@master-a.internal:7077',
      masterWebUiUrl: '',
      masterUrl: MASTER_A,
      duplicate: false,
    });
    h.handle({ kind: 'Disconnected', envId: MASTER_A }); // the configured address also counts as the master
    const retry = h.advance(10 * SEC);
    const expected = prefer ? MASTER_A : 'flint://master-a.internal:7077';
    assert.deepEqual(ofType(retry, 'Dial').map((r) => r.envUrl), [expected], `prefer=${prefer}`);
  }
});

test('MasterInStandby from the master it knew as active: the retries go to every master again (src/sim seed 222)', () => {
  const h = new Harness();
  h.register();
  h.handle({ kind: 'Disconnected', envId: MASTER_A });
  // Lost: the retries go to the known active master only (SPARK-4592)...
  assert.deepEqual(ofType(h.advance(10 * SEC), 'Dial').map((r) => r.envUrl), [MASTER_A]);
  // ...until it says it is in standby: it no longer leads, and the new leader may not know this worker.
  const effects = h.fromMaster({ type: 'MasterInStandby' }, MASTER_A);
  assert.match(ofType(effects, 'Log')[0]?.msg ?? '', /is in standby now; registering with every master/);
  assert.equal(h.machine.snapshot().activeMasterUrl, '');
  assert.deepEqual(ofType(h.advance(10 * SEC), 'Dial').map((r) => r.envUrl), [MASTER_A, MASTER_B]);
});

test('MasterInStandby from another master leaves the known active master alone', () => {
  const h = new Harness();
  h.register();
  h.handle({ kind: 'Disconnected', envId: MASTER_A });
  h.fromMaster({ type: 'MasterInStandby' }, MASTER_B);
  assert.equal(h.machine.snapshot().activeMasterUrl, MASTER_A);
  assert.deepEqual(ofType(h.advance(10 * SEC), 'Dial').map((r) => r.envUrl), [MASTER_A]);
});

test('ReconnectWorker restarts registration against every master', () => {
  const h = new Harness();
  h.register();
  const effects = h.fromMaster({ type: 'ReconnectWorker', masterUrl: MASTER_A });
  assert.deepEqual(ofType(effects, 'Dial').map((r) => r.envUrl), [MASTER_A, MASTER_B]);
  assert.equal(h.machine.snapshot().registered, false);
  assert.deepEqual(ofType(effects, 'StartTimer').map((t) => t.key), ['ReregisterWithMaster']);
});

test('a failed connection to one master is logged and the retry cycle goes on', () => {
  const h = new Harness();
  h.start();
  const effects = h.handle({ kind: 'DialFailed', messageType: 'RegisterWorker', envUrl: MASTER_B, error: 'ECONNREFUSED' });
  assert.deepEqual(effects.map((e) => e.kind), ['Log']);
  assert.equal(ofType(effects, 'Log')[0]?.level, 'warn');
  assert.equal(ofType(h.advance(10 * SEC), 'Dial').length, 2);
});

test('every master refusing for good before the first registration ends the worker at once, naming each cause; an unreachable one is retried', () => {
  const h = new Harness();
  h.start();
  const refuse = (envUrl: string, code: string, error: string) => h.handle({ kind: 'DialFailed', messageType: 'RegisterWorker', envUrl, error, code });
  assert.deepEqual(ofType(refuse(MASTER_A, 'FLINT_RPC_CONNECTION', 'ECONNREFUSED'), 'Exit'), [], 'unreachable: retried');
  assert.deepEqual(ofType(refuse(MASTER_A, 'FLINT_RPC_AUTH_FAILED', 'wrong secret'), 'Exit'), [], 'the other master may still answer');
  const exits = ofType(refuse(MASTER_B, 'FLINT_RPC_NOT_FLINT', 'answered in HTTP'), 'Exit');
  assert.equal(exits.length, 1);
  assert.equal(exits[0]?.code, 1);
  assert.equal(
    exits[0]?.reason,
    `Cannot register with any master, and retrying will not help: ${MASTER_A}: wrong secret. Fix: give the worker the cluster's secret (flint.authenticate.secret.file: docs/security.md); ${MASTER_B}: answered in HTTP`,
  );
  assert.equal(h.machine.snapshot().phase, 'stopped');
});

test('after a registration, a refusal is retried as any failure (the master may have been replaced)', () => {
  const h = new Harness();
  h.register();
  h.fromMaster({ type: 'ReconnectWorker', masterUrl: MASTER_A });
  for (const envUrl of [MASTER_A, MASTER_B]) {
    const effects = h.handle({ kind: 'DialFailed', messageType: 'RegisterWorker', envUrl, error: 'wrong secret', code: 'FLINT_RPC_AUTH_FAILED' });
    assert.deepEqual(ofType(effects, 'Exit'), []);
  }
  assert.notEqual(h.machine.snapshot().phase, 'stopped');
});

test('MasterChanged switches the active master and answers WorkerSchedulerStateResponse with full state', () => {
  const h = new Harness();
  h.register();
  h.fromMaster(launchExecutor('app-1', 3));
  h.fromMaster({ type: 'LaunchDriver', driverId: 'driver-7', driverDesc: driverDesc() });
  const effects = h.fromMaster({ type: 'MasterChanged', masterAddress: MASTER_B_ADDRESS, masterWebUiUrl: 'http://b:8080' }, MASTER_B);
  assert.deepEqual(sent(effects, 'WorkerSchedulerStateResponse'), [
    {
      to: MASTER_B_ADDRESS,
      message: {
        type: 'WorkerSchedulerStateResponse',
        id: 'worker-20240102030405-wh1-7078',
        executors: [{ appId: 'app-1', execId: 3, cores: 2, memoryMb: 1024, state: 'LAUNCHING' }],
        driverIds: ['driver-7'],
      },
    },
  ]);
  const snap = h.machine.snapshot();
  assert.equal(snap.activeMasterUrl, MASTER_B);
  assert.equal(snap.activeMasterWebUiUrl, 'http://b:8080');
  assert.equal(snap.registered, true, 'registered is not touched');
  assert.deepEqual(
    sent(h.advance(15 * SEC), 'Heartbeat').map((s) => s.to),
    [MASTER_B_ADDRESS, MASTER_B_ADDRESS],
    'the heartbeats due at 0 s and 15 s go to the new master',
  );
  assert.equal(ofType(h.fromMaster(launchExecutor('app-1', 4)), 'LaunchExecutor').length, 0, 'old master refused');
  const fromB = h.fromMaster(launchExecutor('app-1', 4, { masterUrl: 'spark://10.0.0.2:7077' }), MASTER_B);
  assert.equal(ofType(fromB, 'LaunchExecutor').length, 1, 'new master accepted (spark:// spelling too)');
});

test('RegisterWorkerFailed, RegisteredWorker and ReconnectWorker from an env that is none of its masters are ignored (found by npm run fuzz)', () => {
  const h = new Harness();
  h.start();
  const stranger = 'flint://10.0.0.66:7077';
  for (const message of [
    { type: 'RegisterWorkerFailed', message: 'go away' },
    { type: 'RegisteredWorker', masterAddress: 'flint://Master@10.0.0.66:7077', masterWebUiUrl: 'http://x', masterUrl: stranger, duplicate: false },
    { type: 'ReconnectWorker', masterUrl: stranger },
  ] as const) {
    const effects = h.fromMaster(message, stranger);
    assert.deepEqual(effects.map((e) => e.kind), ['Log'], `${message.type} only logs`);
    assert.match(ofType(effects, 'Log')[0]?.msg ?? '', new RegExp(`Ignored ${message.type} from flint://10\\.0\\.0\\.66:7077: it is not one of this worker's masters`));
  }
  assert.equal(h.machine.snapshot().activeMasterUrl, '', 'still unregistered, and still running');
});

test('MasterChanged before this worker ever registered is ignored: it keeps registering (src/sim seed 11)', () => {
  // A restarted master recovers an earlier worker at this address and announces itself here; this worker (a new
  // incarnation, never registered) must not adopt it, or its retries would stop and it would never heartbeat.
  const h = new Harness();
  h.start();
  const effects = h.fromMaster({ type: 'MasterChanged', masterAddress: MASTER_B_ADDRESS, masterWebUiUrl: 'http://b:8080' }, MASTER_B);
  assert.deepEqual(ofType(effects, 'Send').map((s) => s.message.type), [], 'no WorkerSchedulerStateResponse');
  assert.deepEqual(ofType(effects, 'CancelTimer'), [], 'the registration retry stays armed');
  assert.ok(h.timers.has('ReregisterWithMaster'));
  assert.equal(h.machine.snapshot().activeMasterUrl, '');
  // Once registered, a MasterChanged is taken as before.
  h.fromMaster({ type: 'RegisteredWorker', masterAddress: MASTER_A_ADDRESS, masterWebUiUrl: 'http://a:8080', masterUrl: MASTER_A, duplicate: false });
  const changed = h.fromMaster({ type: 'MasterChanged', masterAddress: MASTER_B_ADDRESS, masterWebUiUrl: 'http://b:8080' }, MASTER_B);
  assert.deepEqual(ofType(changed, 'Send').map((s) => s.message.type), ['WorkerSchedulerStateResponse']);
});
