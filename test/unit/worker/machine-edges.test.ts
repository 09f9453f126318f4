// The worker machine's front door (worker-machine.ts): inputs before Start, a second Start, who may command the
// worker (its active master, by its advertised or its dialed address; docs/security.md), log lines that quote a
// peer cut to 200 characters, stale timers, and the snapshot's optional fields. Found by mutation testing
// (docs/testing.md).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Harness, MASTER_A, MASTER_A_ADDRESS, MASTER_B, driverDesc, launchExecutor, ofType, testConfig } from './harness.ts';
import type { WorkerEffect } from '../../../src/worker/index.ts';

const logLines = (effects: readonly WorkerEffect[]): string[] => ofType(effects, 'Log').map((l) => `${l.level} ${l.msg}`);
const registered = { type: 'RegisteredWorker' as const, masterAddress: MASTER_A_ADDRESS, masterWebUiUrl: 'http://m:8080', masterUrl: MASTER_A, duplicate: false };

test('before Start every input but Shutdown is only warned about; a fresh worker is neither registered nor connected', () => {
  const h = new Harness();
  assert.deepEqual(h.fromMaster(registered), [{ kind: 'Log', level: 'warn', msg: 'Ignoring MasterMessage before the worker started' }]);
  const snap = h.machine.snapshot();
  assert.deepEqual([snap.phase, snap.registered, snap.connected, snap.activeMasterAddress], ['created', false, false, '']);
  const shutdown = h.handle({ kind: 'Shutdown', reason: 'SIGTERM' });
  assert.deepEqual(ofType(shutdown, 'Exit'), [{ kind: 'Exit', code: 0, reason: 'Worker shutting down: SIGTERM' }]);
});

test('Start logs the worker and its retry intervals once; a second Start is only warned about', () => {
  const h = new Harness();
  const started = h.start();
  assert.deepEqual(
    ofType(started, 'Log')[0],
    {
      kind: 'Log',
      level: 'info',
      msg: 'Starting Flint worker wh1:7078 with 8 cores, 8192 MB RAM',
      fields: { workerId: h.machine.workerId, initialRetryIntervalMs: 10_000, prolongedRetryIntervalMs: 60_000 },
    },
  );
  const snap = h.machine.snapshot();
  assert.deepEqual([snap.phase, snap.registered, snap.connected], ['running', false, false]);
  assert.deepEqual(h.start(), [{ kind: 'Log', level: 'warn', msg: 'Ignoring Start: the worker has started already' }]);
});

test('a failed connection attempt, a master in standby and a reconnect request are logged', () => {
  const h = new Harness();
  h.start();
  assert.deepEqual(h.handle({ kind: 'DialFailed', messageType: 'RegisterWorker', envUrl: MASTER_B, error: 'ECONNREFUSED' }), [
    { kind: 'Log', level: 'warn', msg: `Failed to connect to master ${MASTER_B}`, fields: { error: 'ECONNREFUSED' } },
  ]);
  assert.deepEqual(h.fromMaster({ type: 'MasterInStandby' }, MASTER_B), [
    { kind: 'Log', level: 'debug', msg: 'Master is in standby; waiting for the active master' },
  ]);
  h.fromMaster(registered);
  const reconnect = h.fromMaster({ type: 'ReconnectWorker', masterUrl: MASTER_A });
  assert.equal(logLines(reconnect)[0], `info Master with url ${MASTER_A} requested this worker to reconnect.`);
  assert.equal(ofType(reconnect, 'Dial').length, 2, 'registers with every configured master again');
});

test('commands come from the active master by the address it advertises or the one the worker dialed, no other', () => {
  const h = new Harness();
  h.start();
  // The master advertises another address than the URL the worker dialed (a NAT, a DNS name).
  h.fromMaster({ ...registered, masterAddress: 'flint://Master@m-public:7077' });
  const advertised = 'flint://m-public:7077';
  assert.equal(ofType(h.fromMaster(launchExecutor('app-1', 0, { masterUrl: advertised }), advertised), 'LaunchExecutor').length, 1);
  assert.equal(ofType(h.fromMaster(launchExecutor('app-1', 1, { masterUrl: advertised }), MASTER_A), 'LaunchExecutor').length, 1);
  const other = h.fromMaster({ type: 'KillExecutor', masterUrl: advertised, appId: 'app-1', execId: 0 }, MASTER_B);
  assert.deepEqual(logLines(other), [`warn Ignored KillExecutor from ${MASTER_B}: it is not the master this worker is registered with`]);
  assert.equal(ofType(other, 'KillExecutor').length, 0);
  assert.equal(h.machine.snapshot().executors.length, 2);
});

test('a peer quoted in a warning is cut to its first 200 characters', () => {
  const h = new Harness();
  h.register();
  const long = `flint://${'x'.repeat(300)}:1`;
  const cut = long.slice(0, 200);
  assert.deepEqual(logLines(h.fromMaster({ type: 'LaunchDriver', driverId: 'driver-1', driverDesc: driverDesc() }, long)), [
    `warn Ignored LaunchDriver from ${cut}: it is not the master this worker is registered with`,
  ]);
  assert.deepEqual(logLines(h.fromMaster({ type: 'MasterInStandby' }, long)), [`warn Ignored MasterInStandby from ${cut}: it is not one of this worker's masters`]);
  const address = `flint://Master@${'y'.repeat(300)}:7077`;
  assert.deepEqual(logLines(h.fromMaster({ type: 'MasterChanged', masterAddress: address, masterWebUiUrl: 'http://x' }, long)), [
    `warn Ignored MasterChanged naming ${address.slice(0, 200)} from another env, ${cut}`,
  ]);
});

test('a timer firing with a stale generation is ignored with a debug line', () => {
  const h = new Harness(testConfig());
  h.register();
  const armed = h.timers.get('SendHeartbeat');
  assert.ok(armed);
  assert.deepEqual(h.handle({ kind: 'TimerFired', key: 'SendHeartbeat', generation: armed.generation + 1 }), [
    { kind: 'Log', level: 'debug', msg: 'Ignoring a stale firing of timer SendHeartbeat' },
  ]);
});

test('the snapshot lists a finished executor\'s message and exit status, and a finished driver\'s exit status and exception', () => {
  const h = new Harness();
  h.register();
  h.fromMaster(launchExecutor('app-1', 0));
  h.handle({ kind: 'ExecutorProcessExited', appId: 'app-1', execId: 0, exitCode: 2, signal: null, killedByWorker: false });
  h.fromMaster(launchExecutor('app-1', 1));
  const [executor] = h.machine.snapshot().executors;
  assert.ok(executor);
  assert.equal('message' in executor || 'exitStatus' in executor, false, 'a running executor has neither');
  const [finished] = h.machine.snapshot().finishedExecutors;
  assert.deepEqual([finished?.message, finished?.exitStatus], ['Command exited with code 2', 2]);
  h.fromMaster({ type: 'LaunchDriver', driverId: 'driver-1', driverDesc: driverDesc({ supervise: false }) });
  h.fromMaster({ type: 'LaunchDriver', driverId: 'driver-2', driverDesc: driverDesc() });
  const [running] = h.machine.snapshot().drivers;
  assert.equal('exception' in (running ?? {}) || 'lastExitStatus' in (running ?? {}), false);
  h.handle({ kind: 'DriverProcessExited', driverId: 'driver-1', exitCode: 4, signal: null, killedByWorker: false });
  h.handle({ kind: 'DriverLaunchFailed', driverId: 'driver-2', error: 'no such file' });
  const byId = new Map(h.machine.snapshot().finishedDrivers.map((d) => [d.driverId, d]));
  assert.deepEqual([byId.get('driver-1')?.lastExitStatus, 'exception' in (byId.get('driver-1') ?? {})], [4, false]);
  assert.deepEqual([byId.get('driver-2')?.exception, 'lastExitStatus' in (byId.get('driver-2') ?? {})], ['no such file', false]);
  assert.equal(h.machine.snapshot().activeMasterAddress, MASTER_A_ADDRESS);
});
