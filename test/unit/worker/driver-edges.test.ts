// A driver's process reports arriving late, twice or for nobody, kills repeated or done by the worker itself, and
// what the worker logs and tells the master at each end (Spark's DriverRunner and Worker.handleDriverStateChanged;
// reference §6.5). Found by mutation testing (docs/testing.md).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Harness, driverDesc, ofType, sent } from './harness.ts';
import type { DriverDescription } from '../../../src/protocol/messages.ts';
import type { WorkerEffect } from '../../../src/worker/index.ts';

const SEC = 1000;

function withDriver(over: Partial<DriverDescription> = {}): Harness {
  const h = new Harness();
  h.register();
  h.fromMaster({ type: 'LaunchDriver', driverId: 'driver-1', driverDesc: driverDesc(over) });
  return h;
}

const exited = (h: Harness, exitCode: number | null, killedByWorker = false, signal: NodeJS.Signals | null = null) =>
  h.handle({ kind: 'DriverProcessExited', driverId: 'driver-1', exitCode, signal, killedByWorker });

const logLines = (effects: readonly WorkerEffect[]): string[] => ofType(effects, 'Log').map((l) => `${l.level} ${l.msg}`);

test('each final state is logged as Spark words it, and DriverStateChanged carries no exception', () => {
  const cases: Array<[number | null, Partial<DriverDescription>, boolean, string, string]> = [
    [0, {}, false, 'FINISHED', 'info Driver driver-1 exited successfully'],
    [3, { supervise: false }, false, 'FAILED', 'warn Driver driver-1 exited with failure'],
    [null, {}, true, 'KILLED', 'info Driver driver-1 was killed by user'],
  ];
  for (const [code, over, killed, state, line] of cases) {
    const h = withDriver(over);
    h.handle({ kind: 'DriverProcessStarted', driverId: 'driver-1' });
    if (killed) h.fromMaster({ type: 'KillDriver', driverId: 'driver-1' });
    const effects = exited(h, code, killed, code === null ? 'SIGTERM' : null);
    assert.deepEqual(logLines(effects), [line], state);
    assert.deepEqual(sent(effects, 'DriverStateChanged').map((s) => s.message), [{ type: 'DriverStateChanged', driverId: 'driver-1', state }]);
    const snap = h.machine.snapshot();
    assert.deepEqual([snap.drivers.length, snap.finishedDrivers.map((d) => d.state), snap.coresUsed, snap.memoryUsedMb], [0, [state], 0, 0]);
  }
});

test('a supervised driver relaunch is logged with its wait in seconds', () => {
  const h = withDriver();
  h.handle({ kind: 'DriverProcessStarted', driverId: 'driver-1' });
  const effects = exited(h, 1);
  assert.deepEqual(
    ofType(effects, 'Log').map((l) => [l.level, l.msg, l.fields]),
    [['info', 'Command exited with code 1, re-launching after 1 s.', { driverId: 'driver-1' }]],
  );
});

test('a supervised driver the worker killed ends KILLED, unrelaunched: on its own (shutdown) or after a KillDriver', () => {
  // The exit report says the worker killed it, or a KillDriver came first and the report does not say so.
  for (const [killDriverFirst, killedByWorker] of [[false, true], [true, false]] as const) {
    const h = withDriver();
    h.handle({ kind: 'DriverProcessStarted', driverId: 'driver-1' });
    if (killDriverFirst) h.fromMaster({ type: 'KillDriver', driverId: 'driver-1' });
    const effects = exited(h, null, killedByWorker, 'SIGTERM');
    assert.equal(ofType(effects, 'StartTimer').length, 0, 'no relaunch');
    assert.deepEqual(sent(effects, 'DriverStateChanged').map((s) => s.message.state), ['KILLED'], `KillDriver first: ${killDriverFirst}`);
  }
});

test('a second KillDriver kills the process once', () => {
  const h = withDriver();
  h.handle({ kind: 'DriverProcessStarted', driverId: 'driver-1' });
  const first = h.fromMaster({ type: 'KillDriver', driverId: 'driver-1' });
  const second = h.fromMaster({ type: 'KillDriver', driverId: 'driver-1' });
  assert.deepEqual(logLines(first), ['info Asked to kill driver driver-1']);
  assert.equal(ofType(first, 'KillDriver').length, 1);
  assert.deepEqual(second.map((e) => e.kind), ['Log'], 'only the log line: no second KillDriver');
});

test('reports about a driver the worker does not run, or no longer runs, change nothing', () => {
  const h = withDriver({ supervise: false });
  for (const input of [
    { kind: 'DriverProcessStarted', driverId: 'driver-9' },
    { kind: 'DriverProcessExited', driverId: 'driver-9', exitCode: 1, signal: null, killedByWorker: false },
    { kind: 'DriverLaunchFailed', driverId: 'driver-9', error: 'late' },
  ] as const) {
    assert.deepEqual(h.handle(input), [], input.kind);
  }
  h.handle({ kind: 'DriverProcessStarted', driverId: 'driver-1' });
  exited(h, 0);
  const before = h.machine.snapshot();
  assert.deepEqual(exited(h, 1), [], 'a second exit report of a finished driver');
  assert.deepEqual(h.handle({ kind: 'DriverLaunchFailed', driverId: 'driver-1', error: 'late' }), [], 'a launch failure after the end');
  assert.deepEqual(h.handle({ kind: 'DriverProcessStarted', driverId: 'driver-1' }), []);
  assert.deepEqual(h.machine.snapshot(), before);
});

test('an exit report that arrives during the back-off wait is ignored: the relaunch still comes', () => {
  const h = withDriver();
  h.handle({ kind: 'DriverProcessStarted', driverId: 'driver-1' });
  exited(h, 1);
  assert.deepEqual(exited(h, 1), [], 'a duplicate exit report while waiting');
  const relaunch = h.advance(1 * SEC);
  assert.equal(ofType(relaunch, 'LaunchDriver').length, 1);
  assert.equal(h.timers.has('DriverRelaunch:driver-1'), false);
});

test('a late second DriverProcessStarted does not restart the run clock: a long run still resets the back-off', () => {
  const h = withDriver();
  // A quick failure doubles the next wait to 2 s.
  h.handle({ kind: 'DriverProcessStarted', driverId: 'driver-1' });
  exited(h, 1);
  h.advance(1 * SEC);
  // The relaunched process runs for 6 s (more than the 5 s of a successful run); a stale Started comes at the end.
  h.handle({ kind: 'DriverProcessStarted', driverId: 'driver-1' });
  h.advance(6 * SEC);
  h.handle({ kind: 'DriverProcessStarted', driverId: 'driver-1' });
  exited(h, 1);
  const armed = h.timers.get('DriverRelaunch:driver-1');
  assert.equal(armed === undefined ? undefined : armed.dueAt - h.now, 1 * SEC, 'back to the first step');
});
