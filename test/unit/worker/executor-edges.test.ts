// What the worker says about its executors (Spark's Worker.scala and ExecutorRunner log lines, which operators
// grep for) and the reports it ignores: a kill from an invalid master, a repeated or stray start, a launch failure
// for nobody, the exit status in the final report, the state-sync retry log. Found by mutation testing
// (docs/testing.md).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Harness, MASTER_A, MASTER_B, launchExecutor, ofType } from './harness.ts';
import type { WorkerEffect } from '../../../src/worker/index.ts';

function withExecutor(): Harness {
  const h = new Harness();
  h.register();
  h.fromMaster(launchExecutor('app-1', 0));
  return h;
}

const logLines = (effects: readonly WorkerEffect[]): string[] => ofType(effects, 'Log').map((l) => `${l.level} ${l.msg}`);
const kill = (masterUrl = MASTER_A) => ({ type: 'KillExecutor' as const, masterUrl, appId: 'app-1', execId: 0 });

test('LaunchExecutor is logged with the executor and the application', () => {
  const h = new Harness();
  h.register();
  assert.deepEqual(logLines(h.fromMaster(launchExecutor('app-1', 0))), ['info Asked to launch executor app-1/0 for pi']);
});

test('KillExecutor naming another master only warns; an unknown executor is only logged; a known one once', () => {
  const h = withExecutor();
  const invalid = h.fromMaster(kill(MASTER_B));
  assert.deepEqual(logLines(invalid), [`warn Invalid Master (${MASTER_B}) attempted to kill executor 0`]);
  assert.equal(invalid.length, 1);
  const unknown = h.fromMaster({ ...kill(), execId: 7 });
  assert.deepEqual(unknown, [{ kind: 'Log', level: 'info', msg: 'Asked to kill unknown executor app-1/7' }]);
  const first = h.fromMaster(kill());
  assert.deepEqual(logLines(first), ['info Asked to kill executor app-1/0']);
  assert.equal(ofType(first, 'KillExecutor').length, 1);
  assert.deepEqual(h.fromMaster(kill()), [{ kind: 'Log', level: 'info', msg: 'Asked to kill executor app-1/0' }]);
});

test('a start reported twice, or for an executor the worker does not run, is ignored with a debug line', () => {
  const h = withExecutor();
  h.handle({ kind: 'ExecutorProcessStarted', appId: 'app-1', execId: 0 });
  assert.deepEqual(h.handle({ kind: 'ExecutorProcessStarted', appId: 'app-1', execId: 0 }), [
    { kind: 'Log', level: 'debug', msg: 'Ignoring a start of executor app-1/0 in state RUNNING' },
  ]);
  assert.deepEqual(h.handle({ kind: 'ExecutorProcessStarted', appId: 'app-1', execId: 5 }), [
    { kind: 'Log', level: 'debug', msg: 'Ignoring a start of executor app-1/5 in state unknown' },
  ]);
  assert.equal(h.machine.snapshot().executors[0]?.state, 'RUNNING');
});

test('a launch failure is logged with its error; one for an executor the worker does not run changes nothing', () => {
  const h = withExecutor();
  assert.deepEqual(h.handle({ kind: 'ExecutorLaunchFailed', appId: 'app-1', execId: 5, error: 'spawn ENOENT' }), []);
  const failed = h.handle({ kind: 'ExecutorLaunchFailed', appId: 'app-1', execId: 0, error: 'spawn ENOENT' });
  assert.deepEqual(
    ofType(failed, 'Log').map((l) => [l.level, l.msg, l.fields]),
    [
      ['error', 'Failed to launch executor app-1/0 for pi.', { error: 'spawn ENOENT' }],
      ['info', 'Executor app-1/0 finished with state FAILED message spawn ENOENT', undefined],
    ],
  );
});

test('the final line and report carry the exit status when there is one, and nothing when the signal is unknown', () => {
  const h = withExecutor();
  h.fromMaster(launchExecutor('app-1', 1));
  const coded = h.handle({ kind: 'ExecutorProcessExited', appId: 'app-1', execId: 0, exitCode: 3, signal: null, killedByWorker: false });
  assert.deepEqual(logLines(coded), ['info Executor app-1/0 finished with state EXITED message Command exited with code 3 exitStatus 3']);
  const unknownSignal = h.handle({
    kind: 'ExecutorProcessExited',
    appId: 'app-1',
    execId: 1,
    exitCode: null,
    signal: 'SIGSTKFLT' as NodeJS.Signals,
    killedByWorker: false,
  });
  assert.deepEqual(logLines(unknownSignal), ['info Executor app-1/1 finished with state EXITED message Command exited with signal SIGSTKFLT']);
  assert.deepEqual(ofType(unknownSignal, 'Ask').map((a) => a.message), [
    { type: 'ExecutorStateChanged', appId: 'app-1', execId: 1, state: 'EXITED', message: 'Command exited with signal SIGSTKFLT' },
  ]);
  const finished = new Map(h.machine.snapshot().finishedExecutors.map((e) => [e.execId, e]));
  assert.equal(finished.get(0)?.exitStatus, 3);
  assert.equal(finished.get(1)?.exitStatus, undefined);
});

test('an executor the worker killed without saying why ends KILLED with the worker named as the killer', () => {
  const h = withExecutor();
  const effects = h.handle({ kind: 'ExecutorProcessExited', appId: 'app-1', execId: 0, exitCode: null, signal: 'SIGKILL', killedByWorker: true });
  assert.deepEqual(ofType(effects, 'Ask').map((a) => a.message), [
    { type: 'ExecutorStateChanged', appId: 'app-1', execId: 0, state: 'KILLED', message: 'Executor app-1/0 killed by the worker', exitStatus: 137 },
  ]);
});

test('a failed state sync is logged with the attempt count, the error and whether it timed out', () => {
  const h = withExecutor();
  const [running] = ofType(h.handle({ kind: 'ExecutorProcessStarted', appId: 'app-1', execId: 0 }), 'Ask').map((a) => a.message);
  assert.ok(running);
  const failed = h.handle({ kind: 'AskFailed', context: running, error: 'connection reset', timedOut: false });
  assert.deepEqual(
    ofType(failed, 'Log').map((l) => [l.level, l.msg, l.fields]),
    [['error', 'Failed to send ExecutorStateChanged(app-1/0 RUNNING) to Master, will retry (1/5).', { error: 'connection reset', timedOut: false }]],
  );
});
