// Requests the worker must refuse or ignore, and what it tells the operator when it does (Spark's Worker.scala
// receive: LaunchExecutor from an invalid master, a second LaunchDriver, a stray process exit, a message before
// the worker knows its master; reference §6.3–§6.7). Found by mutation testing (docs/testing.md).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Harness, MASTER_A, MASTER_B, driverDesc, launchExecutor, ofType, testConfig } from './harness.ts';
import type { WorkerEffect } from '../../../src/worker/index.ts';

const logLines = (effects: readonly WorkerEffect[]): string[] => ofType(effects, 'Log').map((l) => `${l.level} ${l.msg}`);

test('Worker.scala: a LaunchExecutor from the active master that names another master is refused', () => {
  const h = new Harness();
  h.register();
  const effects = h.fromMaster(launchExecutor('app-1', 0, { masterUrl: MASTER_B }), MASTER_A);
  assert.deepEqual(logLines(effects), [`warn Invalid Master (${MASTER_B}) attempted to launch executor.`]);
  assert.equal(effects.length, 1, 'nothing launched, nothing sent');
  assert.deepEqual(h.machine.snapshot().executors, []);
});

test('a second LaunchDriver for a driver the worker runs is ignored: one process, resources booked once', () => {
  const h = new Harness();
  h.register();
  h.fromMaster({ type: 'LaunchDriver', driverId: 'driver-1', driverDesc: driverDesc() });
  const again = h.fromMaster({ type: 'LaunchDriver', driverId: 'driver-1', driverDesc: driverDesc() });
  assert.deepEqual(logLines(again), ['warn Asked to launch driver driver-1, which is already running. Ignoring.']);
  assert.equal(again.length, 1);
  const snap = h.machine.snapshot();
  assert.equal(snap.drivers.length, 1);
  assert.equal(snap.coresUsed, driverDesc().cores);
  assert.equal(snap.memoryUsedMb, driverDesc().memoryMb);
});

test('the exit of an executor the worker does not run changes nothing and reports nothing', () => {
  const h = new Harness();
  h.register();
  h.fromMaster(launchExecutor('app-1', 0));
  const before = h.machine.snapshot();
  const effects = h.handle({ kind: 'ExecutorProcessExited', appId: 'app-1', execId: 9, exitCode: 1, signal: null, killedByWorker: false });
  assert.deepEqual(logLines(effects), ['debug Ignoring the exit of unknown executor app-1/9']);
  assert.deepEqual(h.machine.snapshot(), before);
});

test('a decommission signal before any master is known is kept, and the message to the master is dropped', () => {
  const h = new Harness(testConfig({ decommissionEnabled: true }));
  h.start();
  const effects = h.handle({ kind: 'DecommissionSignal' });
  assert.equal(ofType(effects, 'Send').length, 0);
  assert.deepEqual(logLines(effects), [
    'info Decommission worker worker-20240102030405-wh1-7078.',
    'warn Dropping WorkerDecommissioning because the connection to master has not yet been established',
  ]);
  assert.equal(h.machine.snapshot().decommissioned, true);
});
