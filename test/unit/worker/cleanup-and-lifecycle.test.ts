// Work-dir cleanup, application cleanup, decommission and shutdown (reference §6.3, §6.6, §6.7; Spark's
// Worker.scala WorkDirCleanup/maybeCleanupApplication/decommissionSelf/onStop, WorkerSuite.scala).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Harness, driverDesc, launchExecutor, ofType, sent, testConfig } from './harness.ts';

const exit0 = { exitCode: 0, signal: null, killedByWorker: false } as const;

test('WorkDirCleanup is armed at registration (interval as initial delay) only when cleanup is enabled', () => {
  const on = new Harness(testConfig({ cleanup: { enabled: true, intervalMs: 120_000 } }));
  on.register();
  assert.equal(on.timers.get('WorkDirCleanup')?.dueAt, on.now + 120_000);
  const off = new Harness(testConfig({ cleanup: { enabled: false } }));
  off.register();
  assert.ok(!off.machine.snapshot().armedTimers.includes('WorkDirCleanup'));
});

test('WorkerSuite "WorkDirCleanup cleans app dirs": old dirs not used by a running app or driver, TTL from config', () => {
  const h = new Harness(testConfig({ cleanup: { enabled: true, intervalMs: 1_800_000, appDataTtlMs: 60_000 } }));
  h.register();
  h.fromMaster(launchExecutor('app-b', 0));
  h.fromMaster(launchExecutor('app-a', 0));
  h.fromMaster(launchExecutor('app-done', 0));
  h.handle({ kind: 'ExecutorProcessExited', appId: 'app-done', execId: 0, ...exit0 });
  h.fromMaster({ type: 'LaunchDriver', driverId: 'driver-1', driverDesc: driverDesc() });
  const effects = h.advance(1_800_000);
  const cleanups = ofType(effects, 'CleanupOldDirs');
  assert.deepEqual(cleanups, [
    {
      kind: 'CleanupOldDirs',
      workDir: 'work',
      olderThanMs: 60_000,
      modifiedBeforeMs: h.now - 60_000,
      keepNames: ['app-a', 'app-b', 'driver-1'],
    },
  ]);
  assert.equal(h.timers.get('WorkDirCleanup')?.dueAt, h.now + 1_800_000, 're-armed for the next sweep');
  assert.equal(ofType(h.advance(1_800_000), 'CleanupOldDirs').length, 1);
});

test('ApplicationFinished removes only the app\'s shuffle files: the executors\' logs stay until WorkDirCleanup finds the app dir old', () => {
  // Spark's maybeCleanupApplication removes only the app's local scratch dirs and its shuffle files (through
  // the shuffle service), never its work dir (the logs).
  const h = new Harness(testConfig({ cleanup: { enabled: true, intervalMs: 1_800_000, appDataTtlMs: 60_000 } }));
  h.register();
  h.fromMaster(launchExecutor('app-1', 0));
  h.fromMaster(launchExecutor('app-2', 0));
  assert.deepEqual(h.fromMaster({ type: 'ApplicationFinished', id: 'app-1' }), [{ kind: 'RemoveAppShuffle', appId: 'app-1' }], 'only the shuffle files go');
  const last = h.handle({ kind: 'ExecutorProcessExited', appId: 'app-1', execId: 0, ...exit0 });
  assert.deepEqual(
    last.map((e) => e.kind),
    ['Ask', 'Log'],
    'the final state is reported and logged; no directory is deleted',
  );
  assert.deepEqual(h.fromMaster({ type: 'ApplicationFinished', id: 'app-1' }), [{ kind: 'RemoveAppShuffle', appId: 'app-1' }]);
  // Every worker hears it (the master tells them all), even one that never ran the app: removing nothing is fine.
  assert.deepEqual(h.fromMaster({ type: 'ApplicationFinished', id: 'app-elsewhere' }), [{ kind: 'RemoveAppShuffle', appId: 'app-elsewhere' }]);
  const [sweep] = ofType(h.advance(1_800_000), 'CleanupOldDirs');
  assert.deepEqual(sweep?.keepNames, ['app-2'], 'the finished app is left to the TTL sweep');
});

test('Shutdown kills every executor and driver, cancels every timer, and exits 0 last', () => {
  const h = new Harness();
  h.register();
  h.fromMaster(launchExecutor('app-1', 0));
  h.fromMaster({ type: 'LaunchDriver', driverId: 'driver-1', driverDesc: driverDesc() });
  h.fromMaster({ type: 'LaunchDriver', driverId: 'driver-2', driverDesc: driverDesc() });
  h.handle({ kind: 'DriverProcessStarted', driverId: 'driver-2' });
  h.handle({ kind: 'DriverProcessExited', driverId: 'driver-2', exitCode: 1, signal: null, killedByWorker: false });
  const armedBefore = h.machine.snapshot().armedTimers;
  const effects = h.handle({ kind: 'Shutdown', reason: 'SIGTERM' });
  assert.deepEqual(ofType(effects, 'CancelTimer').map((c) => c.key).sort(), [...armedBefore]);
  assert.deepEqual(ofType(effects, 'KillExecutor').map((k) => k.processKey), ['executor:app-1/0']);
  assert.deepEqual(ofType(effects, 'KillDriver').map((k) => k.processKey), ['driver:driver-1'], 'driver-2 waits to relaunch');
  assert.deepEqual(effects.at(-1), { kind: 'Exit', code: 0, reason: 'Worker shutting down: SIGTERM' });
  assert.equal(sent(effects, 'ExecutorStateChanged').length + ofType(effects, 'Ask').length, 0);
  assert.deepEqual(h.handle({ kind: 'ExecutorProcessExited', appId: 'app-1', execId: 0, ...exit0 }), []);
  assert.equal(h.machine.snapshot().phase, 'stopped');
});

test('inputs before Start are ignored (Shutdown still works)', () => {
  const h = new Harness();
  const effects = h.fromMaster(launchExecutor('app-1', 0));
  assert.deepEqual(effects.map((e) => e.kind), ['Log']);
  assert.deepEqual(h.handle({ kind: 'Shutdown', reason: 'test' }).at(-1), { kind: 'Exit', code: 0, reason: 'Worker shutting down: test' });
});

test('Start twice registers once', () => {
  const h = new Harness();
  h.start();
  assert.equal(ofType(h.start(), 'Dial').length, 0);
});

test('DecommissionWorker (decommission enabled): later LaunchExecutor is refused', () => {
  const h = new Harness(testConfig({ decommissionEnabled: true }));
  h.register();
  h.fromMaster({ type: 'DecommissionWorker' });
  assert.equal(h.machine.snapshot().decommissioned, true);
  const effects = h.fromMaster(launchExecutor('app-1', 0));
  assert.equal(ofType(effects, 'LaunchExecutor').length, 0);
  assert.match(ofType(effects, 'Log')[0]?.msg ?? '', /while decommissioned/);
  assert.equal(ofType(h.fromMaster({ type: 'LaunchDriver', driverId: 'd', driverDesc: driverDesc() }), 'LaunchDriver').length, 1, 'drivers are not checked');
});

test('DecommissionWorker with decommission disabled only warns', () => {
  const h = new Harness();
  h.register();
  const effects = h.fromMaster({ type: 'DecommissionWorker' });
  assert.match(ofType(effects, 'Log')[0]?.msg ?? '', /decommission feature is disabled/);
  assert.equal(ofType(h.fromMaster(launchExecutor('app-1', 0)), 'LaunchExecutor').length, 1);
});

test('the decommission signal tells the master with WorkerDecommissioning (when enabled)', () => {
  const h = new Harness(testConfig({ decommissionEnabled: true }));
  h.register();
  const effects = h.handle({ kind: 'DecommissionSignal' });
  assert.deepEqual(sent(effects, 'WorkerDecommissioning').map((s) => s.message), [
    { type: 'WorkerDecommissioning', id: h.machine.workerId, workerAddress: 'flint://Worker@wh1:7078' },
  ]);
  assert.equal(sent(h.handle({ kind: 'DecommissionSignal' }), 'WorkerDecommissioning').length, 0, 'only once');
  const off = new Harness();
  off.register();
  assert.equal(sent(off.handle({ kind: 'DecommissionSignal' }), 'WorkerDecommissioning').length, 0);
});

test('SIGTERM with decommission enabled: decommission, then exit once the last executor ended', () => {
  const h = new Harness(testConfig({ decommissionEnabled: true }));
  h.register();
  h.fromMaster(launchExecutor('app-1', 0));
  h.handle({ kind: 'ExecutorProcessStarted', appId: 'app-1', execId: 0 });
  const signalled = h.handle({ kind: 'DecommissionSignal', exitWhenDrained: true });
  assert.equal(sent(signalled, 'WorkerDecommissioning').length, 1);
  assert.equal(ofType(signalled, 'Exit').length, 0, 'an executor still runs');
  assert.equal(ofType(h.handle({ kind: 'ExecutorProcessExited', appId: 'app-1', execId: 0, ...exit0 }), 'Exit').length, 1);
  // Without decommission enabled the signal changes nothing (the CLI sends SIGTERM to Shutdown then).
  const off = new Harness();
  off.register();
  assert.equal(ofType(off.handle({ kind: 'DecommissionSignal', exitWhenDrained: true }), 'Exit').length, 0);
});
