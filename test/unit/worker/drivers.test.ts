// Drivers: launch spec, final states, supervised relaunch with back-off (reference §6.5; ports of Spark's
// DriverRunnerTest.scala and WorkerSuite.scala "test clearing of finishedDrivers").
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Harness, MASTER_A, MASTER_A_ADDRESS, MASTER_B, MASTER_B_ADDRESS, driverDesc, ofType, sent, testConfig } from './harness.ts';
import type { DriverDescription } from '../../../src/protocol/messages.ts';

const SEC = 1000;

function withDriver(over: Partial<DriverDescription> = {}, id = 'driver-1'): Harness {
  const h = new Harness();
  h.register();
  h.fromMaster({ type: 'LaunchDriver', driverId: id, driverDesc: driverDesc(over) });
  return h;
}

/** Starts the driver's current process, lets it run `runMs`, then ends it with `exitCode`. */
function run(h: Harness, runMs: number, exitCode: number, id = 'driver-1') {
  h.handle({ kind: 'DriverProcessStarted', driverId: id });
  h.advance(runMs);
  return h.handle({ kind: 'DriverProcessExited', driverId: id, exitCode, signal: null, killedByWorker: false });
}

/** Waits out a back-off: returns the wait and the relaunch effects. */
function waitRelaunch(h: Harness, id = 'driver-1') {
  const armed = h.timers.get(`DriverRelaunch:${id}`);
  assert.ok(armed, 'a relaunch is scheduled');
  const waitMs = armed.dueAt - h.now;
  return { waitMs, effects: h.advance(waitMs) };
}

test('LaunchDriver: the spec substitutes {{WORKER_URL}} and {{USER_JAR}} and uses work/<driverId>/', () => {
  const h = new Harness();
  h.register();
  const effects = h.fromMaster({ type: 'LaunchDriver', driverId: 'driver-20240102030405-0000', driverDesc: driverDesc() });
  const launch = ofType(effects, 'LaunchDriver')[0];
  assert.ok(launch);
  assert.equal(launch.attempt, 1);
  const spec = launch.spec;
  const jar = 'work/driver-20240102030405-0000/etl.js';
  assert.deepEqual(spec.argv, ['node', 'flint/driver-wrapper.js', 'flint://Worker@wh1:7078', jar, 'main', '--day', '{{USER_JAR}}x']);
  assert.deepEqual(
    [spec.processKey, spec.cwd, spec.cwdMustBeNew, spec.localAppResourcePath, spec.appResource],
    ['driver:driver-20240102030405-0000', 'work/driver-20240102030405-0000/', false, jar, 'https://repo.example/jobs/etl.js?v=3'],
  );
  assert.equal(spec.stdoutPath, 'work/driver-20240102030405-0000/stdout');
  assert.equal(spec.env['FLINT_DRIVER_MEMORY'], '512');
  assert.equal(spec.env['FLINT_LOCAL_IP'], 'wh1', "the driver advertises the worker's host to its executors");
  assert.equal(
    spec.env['FLINT_DRIVER_LOG_URL_STDOUT'],
    'http://wh1:8081/logPage/?driverId=driver-20240102030405-0000&logType=stdout',
  );
  assert.ok(spec.stderrHeader.startsWith('Launch Command: "node" "flint/driver-wrapper.js"'));
  const snap = h.machine.snapshot();
  assert.deepEqual([snap.coresUsed, snap.memoryUsedMb], [1, 512]);
  assert.equal(snap.drivers[0]?.state, 'RUNNING');
});

test("LaunchDriver: the driver advertises the worker's --host (FLINT_LOCAL_IP), whatever the submitter's environment said", () => {
  const desc = driverDesc();
  const h = new Harness();
  h.register();
  const effects = h.fromMaster({ type: 'LaunchDriver', driverId: 'driver-2', driverDesc: { ...desc, command: { ...desc.command, environment: { FLINT_LOCAL_IP: 'submitter.example' } } } });
  assert.equal(ofType(effects, 'LaunchDriver')[0]?.spec.env['FLINT_LOCAL_IP'], 'wh1');
});

test('DriverRunnerTest "Process succeeds instantly": FINISHED, forwarded with a send, no relaunch', () => {
  const h = withDriver();
  const effects = run(h, 100, 0);
  assert.deepEqual(sent(effects, 'DriverStateChanged'), [
    { to: MASTER_A_ADDRESS, message: { type: 'DriverStateChanged', driverId: 'driver-1', state: 'FINISHED' } },
  ]);
  assert.equal(ofType(effects, 'Ask').length, 0, 'not the reliable path');
  assert.equal(ofType(effects, 'StartTimer').length, 0);
  const snap = h.machine.snapshot();
  assert.deepEqual([snap.drivers.length, snap.finishedDrivers[0]?.state, snap.coresUsed, snap.memoryUsedMb], [0, 'FINISHED', 0, 0]);
});

test('DriverRunnerTest "Process failing several times and then succeeding": waits 1, 2, 4 s', () => {
  const h = withDriver();
  const waits: number[] = [];
  const attempts: number[] = [];
  for (let i = 0; i < 3; i += 1) {
    const exited = run(h, 100, 255);
    assert.equal(sent(exited, 'DriverStateChanged').length, 0, 'nothing reported while supervising');
    const { waitMs, effects } = waitRelaunch(h);
    waits.push(waitMs);
    attempts.push(...ofType(effects, 'LaunchDriver').map((l) => l.attempt));
  }
  assert.deepEqual(waits, [1 * SEC, 2 * SEC, 4 * SEC]);
  assert.deepEqual(attempts, [2, 3, 4]);
  const done = run(h, 100, 0);
  assert.equal(sent(done, 'DriverStateChanged')[0]?.message.state, 'FINISHED');
  assert.equal(h.machine.snapshot().finishedDrivers[0]?.attempts, 4);
  assert.equal(h.machine.snapshot().coresUsed, 0);
});

test('DriverRunnerTest "Reset of backoff counter": runs of 1, 1, 8, 1 s wait 1, 2, 1, 2 s', () => {
  const h = withDriver();
  const waits: number[] = [];
  for (const runMs of [1 * SEC, 1 * SEC, 8 * SEC, 1 * SEC]) {
    run(h, runMs, 1);
    waits.push(waitRelaunch(h).waitMs);
  }
  assert.deepEqual(waits, [1 * SEC, 2 * SEC, 1 * SEC, 2 * SEC]);
  assert.equal(sent(run(h, 10 * SEC, 0), 'DriverStateChanged')[0]?.message.state, 'FINISHED');
});

test('a run of exactly 5 s does not reset the back-off (Spark: strictly longer than successfulRunDuration)', () => {
  const h = withDriver();
  run(h, 1 * SEC, 1);
  waitRelaunch(h);
  run(h, 5 * SEC, 1);
  assert.equal(waitRelaunch(h).waitMs, 2 * SEC);
});

test('DriverRunnerTest "Process doesn\'t restart if not supervised" / "Finalized with state FAILED"', () => {
  const h = withDriver({ supervise: false });
  const effects = run(h, 100, 255);
  assert.equal(ofType(effects, 'StartTimer').length, 0);
  assert.deepEqual(sent(effects, 'DriverStateChanged')[0]?.message, { type: 'DriverStateChanged', driverId: 'driver-1', state: 'FAILED' });
});

test('DriverRunnerTest "Process doesn\'t restart if killed" / "Kill process finalized with state KILLED"', () => {
  const h = withDriver();
  h.handle({ kind: 'DriverProcessStarted', driverId: 'driver-1' });
  const kill = h.fromMaster({ type: 'KillDriver', driverId: 'driver-1' });
  assert.deepEqual(ofType(kill, 'KillDriver'), [
    { kind: 'KillDriver', processKey: 'driver:driver-1', driverId: 'driver-1', reason: 'Killed by the master' },
  ]);
  const exited = h.handle({ kind: 'DriverProcessExited', driverId: 'driver-1', exitCode: null, signal: 'SIGTERM', killedByWorker: true });
  assert.equal(ofType(exited, 'StartTimer').length, 0, 'no relaunch');
  assert.equal(sent(exited, 'DriverStateChanged')[0]?.message.state, 'KILLED');
});

test('reference §6.5: exit code 0 gives FINISHED even when the driver was killed', () => {
  const h = withDriver();
  h.handle({ kind: 'DriverProcessStarted', driverId: 'driver-1' });
  h.fromMaster({ type: 'KillDriver', driverId: 'driver-1' });
  const exited = h.handle({ kind: 'DriverProcessExited', driverId: 'driver-1', exitCode: 0, signal: null, killedByWorker: true });
  assert.equal(sent(exited, 'DriverStateChanged')[0]?.message.state, 'FINISHED');
});

test('KillDriver during the back-off wait: stop waiting, KILLED at once, never relaunched', () => {
  const h = withDriver();
  run(h, 100, 1);
  const generation = h.timers.get('DriverRelaunch:driver-1')?.generation ?? -1;
  const kill = h.fromMaster({ type: 'KillDriver', driverId: 'driver-1' });
  assert.deepEqual(ofType(kill, 'CancelTimer').map((c) => c.key), ['DriverRelaunch:driver-1']);
  assert.equal(ofType(kill, 'KillDriver').length, 0, 'no process to kill');
  assert.equal(sent(kill, 'DriverStateChanged')[0]?.message.state, 'KILLED');
  const stale = h.handle({ kind: 'TimerFired', key: 'DriverRelaunch:driver-1', generation });
  assert.equal(ofType(stale, 'LaunchDriver').length, 0);
  assert.equal(h.machine.snapshot().coresUsed, 0);
});

test('DriverRunnerTest "Handle exception starting process": ERROR with the exception, also on a relaunch', () => {
  const h = withDriver();
  const failed = h.handle({ kind: 'DriverLaunchFailed', driverId: 'driver-1', error: 'Error: download failed: 404' });
  assert.deepEqual(sent(failed, 'DriverStateChanged')[0]?.message, {
    type: 'DriverStateChanged',
    driverId: 'driver-1',
    state: 'ERROR',
    exception: 'Error: download failed: 404',
  });
  assert.deepEqual(
    ofType(failed, 'Log').filter((l) => l.level === 'warn').map((l) => l.msg),
    ['Driver driver-1 failed with unrecoverable exception: Error: download failed: 404'],
  );
  const h2 = withDriver();
  run(h2, 100, 1);
  waitRelaunch(h2);
  const again = h2.handle({ kind: 'DriverLaunchFailed', driverId: 'driver-1', error: 'spawn ENOENT' });
  assert.equal(sent(again, 'DriverStateChanged')[0]?.message.state, 'ERROR');
});

test('KillDriver for an unknown driver logs an error', () => {
  const h = withDriver();
  const effects = h.fromMaster({ type: 'KillDriver', driverId: 'driver-404' });
  assert.deepEqual(effects.map((e) => e.kind), ['Log']);
  assert.deepEqual([ofType(effects, 'Log')[0]?.level, ofType(effects, 'Log')[0]?.msg], ['error', 'Asked to kill unknown driver driver-404']);
});

test('a driver process killed by an outside signal counts as a failure: 128 + signal, relaunched if supervised', () => {
  const h = withDriver();
  h.handle({ kind: 'DriverProcessStarted', driverId: 'driver-1' });
  const effects = h.handle({ kind: 'DriverProcessExited', driverId: 'driver-1', exitCode: null, signal: 'SIGKILL', killedByWorker: false });
  assert.equal(ofType(effects, 'StartTimer')[0]?.key, 'DriverRelaunch:driver-1');
  assert.equal(h.machine.snapshot().drivers[0]?.lastExitStatus, 137);
});

function driverRetention(retained: number, count: number): number[] {
  const h = new Harness(testConfig({ retainedDrivers: retained }));
  h.register();
  for (let i = 0; i < count; i += 1) {
    h.fromMaster({ type: 'LaunchDriver', driverId: `driverId-${i}`, driverDesc: driverDesc({ supervise: false }) });
  }
  const sizes: number[] = [];
  for (let i = 0; i < count; i += 1) {
    run(h, 0, 0, `driverId-${i}`);
    const snap = h.machine.snapshot();
    assert.equal(snap.drivers.length, count - 1 - i);
    if (retained === 2 && i > 1) assert.ok(!snap.finishedDrivers.some((d) => d.driverId === `driverId-${i - 2}`));
    sizes.push(snap.finishedDrivers.length);
  }
  return sizes;
}

test('WorkerSuite "test clearing of finishedDrivers (small number of drivers)"', () => {
  assert.deepEqual(driverRetention(2, 5), [1, 2, 2, 2, 2]);
});

test('WorkerSuite "test clearing of finishedDrivers (more drivers)"', () => {
  const sizes = driverRetention(30, 50);
  assert.deepEqual(sizes.slice(28, 34), [29, 30, 28, 29, 30, 28]);
});

test('LaunchDriver, KillDriver, ApplicationFinished and DecommissionWorker are taken only from the registered master', () => {
  const h = new Harness();
  h.start();
  const before = h.fromMaster({ type: 'LaunchDriver', driverId: 'driver-1', driverDesc: driverDesc() });
  assert.equal(ofType(before, 'LaunchDriver').length, 0, 'no master yet: nobody may launch');
  h.fromMaster(
    { type: 'RegisteredWorker', masterAddress: MASTER_A_ADDRESS, masterWebUiUrl: 'http://m:8080', masterUrl: MASTER_A, duplicate: false },
    MASTER_A,
  );
  for (const message of [
    { type: 'LaunchDriver', driverId: 'driver-2', driverDesc: driverDesc() },
    { type: 'KillDriver', driverId: 'driver-2' },
    { type: 'ApplicationFinished', id: 'app-1' },
    { type: 'DecommissionWorker' },
  ] as const) {
    const effects = h.fromMaster(message, MASTER_B);
    assert.deepEqual(
      effects.map((e) => e.kind),
      ['Log'],
      `${message.type} from another env only logs`,
    );
    assert.match(ofType(effects, 'Log')[0]?.msg ?? '', new RegExp(`Ignored ${message.type} from flint://10\\.0\\.0\\.2:7077`));
  }
  assert.equal(h.machine.snapshot().drivers.length, 0);
  assert.equal(ofType(h.fromMaster({ type: 'LaunchDriver', driverId: 'driver-3', driverDesc: driverDesc() }), 'LaunchDriver').length, 1);
});

test('MasterChanged is taken only from the master it names', () => {
  const h = new Harness();
  h.register();
  const forged = h.fromMaster({ type: 'MasterChanged', masterAddress: MASTER_B_ADDRESS, masterWebUiUrl: 'http://b:8080' }, 'flint://10.0.0.9:7077');
  assert.match(ofType(forged, 'Log')[0]?.msg ?? '', /Ignored MasterChanged naming flint:\/\/Master@10\.0\.0\.2:7077 from another env/);
  assert.equal(h.machine.snapshot().activeMasterUrl, MASTER_A);
  h.fromMaster({ type: 'MasterChanged', masterAddress: MASTER_B_ADDRESS, masterWebUiUrl: 'http://b:8080' }, MASTER_B);
  assert.equal(h.machine.snapshot().activeMasterUrl, MASTER_B);
});
