// Bootstrap, registration, heartbeats and the ways an executor ends (reference §7.3, §7.4; Spark's
// CoarseGrainedExecutorBackend.scala and Executor.scala `reportHeartBeat`).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  REGISTERED,
  askFailed,
  heartbeatAnswered,
  CODE_HASH,
  DRIVER_URL,
  Harness,
  SEC,
  T0,
  exitOf,
  fixedRng,
  launchArgs,
  ofType,
  runTaskIds,
  states,
} from './harness.ts';
import { ConfigError } from '../../../src/errors.ts';
import { ExecutorMachine } from '../../../src/executor/index.ts';

test('Start asks the driver for the application config and nothing else', () => {
  const h = new Harness();
  const effects = h.start();
  assert.deepEqual(ofType(effects, 'Ask').map((a) => a.message), [{ type: 'RetrieveAppConfig', executorId: '3' }]);
  assert.deepEqual(
    effects.filter((e) => e.kind !== 'Log').map((e) => e.kind),
    ['Ask'],
  );
  assert.equal(h.machine.snapshot().phase, 'configuring');
});

test('the app config starts code loading and registration together', () => {
  const h = new Harness();
  const effects = h.configure();
  assert.deepEqual(ofType(effects, 'LoadCode'), [{ kind: 'LoadCode', hash: CODE_HASH, bytes: 12_345 }]);
  assert.deepEqual(ofType(effects, 'Ask').map((a) => a.message), [
    {
      type: 'RegisterExecutor',
      executorId: '3',
      executorAddress: 'flint+client://Executor@0123abcd',
      hostname: 'h1',
      cores: 2,
      logUrls: { stdout: 'http://h1:8081/logPage/?appId=app&executorId=3&logType=stdout' },
    },
  ]);
  assert.equal(h.machine.snapshot().phase, 'registering');
});

test("the executor's custom-resource addresses (its worker's FLINT_RESOURCES) go with RegisterExecutor", () => {
  const h = new Harness(launchArgs({ resources: { gpu: ['2', '3'] } }));
  const [ask] = ofType(h.configure(), 'Ask').map((a) => a.message);
  assert.deepEqual(ask?.type === 'RegisterExecutor' ? ask.resources : undefined, { gpu: ['2', '3'] });
});

for (const order of [
  ['Registered', 'CodeLoaded'],
  ['CodeLoaded', 'Registered'],
] as const) {
  test(`LaunchedExecutor goes out once both happened (${order.join(' then ')}), and heartbeats start`, () => {
    const h = new Harness(launchArgs(), fixedRng(0.25));
    h.configure();
    const input = (t: (typeof order)[number]) =>
      t === 'Registered' ? REGISTERED : ({ kind: 'CodeLoaded', hash: CODE_HASH } as const);
    const first = h.handle(input(order[0]));
    assert.equal(ofType(first, 'Send').length, 0, 'nothing is sent after only one of the two');
    assert.equal(h.machine.snapshot().phase, 'registering');
    const second = h.handle(input(order[1]));
    assert.deepEqual(ofType(second, 'Send').map((s) => s.message), [{ type: 'LaunchedExecutor', executorId: '3' }]);
    assert.deepEqual(
      ofType(second, 'StartTimer').map((t) => [t.key, t.delayMs]),
      [['Heartbeat', 10 * SEC + 2_500]],
      'Spark: the first heartbeat waits one interval plus a random fraction of one',
    );
    assert.equal(h.machine.snapshot().phase, 'running');
  });
}

test('CodeLoaded for another bundle does not count', () => {
  const h = new Harness();
  h.configure();
  h.handle(REGISTERED);
  const effects = h.handle({ kind: 'CodeLoaded', hash: 'cd'.repeat(32) });
  assert.equal(ofType(effects, 'Send').length, 0);
  assert.equal(h.machine.snapshot().codeLoaded, false);
});

test('CoarseGrainedExecutorBackend: a refused registration exits 1 without telling the driver', () => {
  const h = new Harness();
  h.configure();
  const effects = h.handle(askFailed('RegisterExecutor', 'Duplicate executor ID: 3'));
  assert.deepEqual(exitOf(effects), { code: 1, reason: `Cannot register with driver: ${DRIVER_URL}: Duplicate executor ID: 3` });
  assert.equal(ofType(effects, 'Send').length, 0);
  assert.deepEqual(h.handle(REGISTERED), [], 'nothing after Exit');
});

test('the executor judges the driver\'s answers: a registration answered false, or a reply of the wrong type, exits 1', () => {
  const refused = new Harness();
  refused.configure();
  assert.deepEqual(exitOf(refused.handle({ kind: 'Answered', context: 'RegisterExecutor', reply: { type: 'BooleanResponse', value: false } })), {
    code: 1,
    reason: `Cannot register with driver: ${DRIVER_URL}: the driver refused the registration`,
  });
  const confused = new Harness();
  confused.start();
  assert.deepEqual(exitOf(confused.handle({ kind: 'Answered', context: 'RetrieveAppConfig', reply: { type: 'HeartbeatResponse', reregister: false } })), {
    code: 1,
    reason: `Cannot get the application's config from ${DRIVER_URL}: the driver answered HeartbeatResponse`,
  });
  const beating = new Harness();
  beating.run();
  const wrong = beating.handle({ kind: 'Answered', context: 'ExecutorHeartbeat', reply: { type: 'BooleanResponse', value: true } });
  assert.equal(exitOf(wrong), undefined, 'one bad heartbeat answer counts as one failed heartbeat, not an exit');
  assert.ok(wrong.some((e) => e.kind === 'Log' && e.level === 'warn'), 'and is logged');
});

test('no app config, or code that cannot be loaded, exits 1 with the reason', () => {
  const a = new Harness();
  a.start();
  assert.deepEqual(exitOf(a.handle(askFailed('RetrieveAppConfig', 'connection refused'))), {
    code: 1,
    reason: `Cannot get the application's config from ${DRIVER_URL}: connection refused`,
  });
  const b = new Harness();
  b.configure();
  const effects = b.handle({ kind: 'CodeLoadFailed', hash: CODE_HASH, error: 'sha256 mismatch' });
  assert.equal(exitOf(effects)?.code, 1);
  assert.match(exitOf(effects)?.reason ?? '', /Cannot load the application's code (ab)+: sha256 mismatch/);
});

test('an unusable key in the app config exits 1 naming the key', () => {
  const h = new Harness();
  const effects = h.configure({ 'spark.executor.heartbeatInterval': 'soon' });
  assert.equal(exitOf(effects)?.code, 1);
  assert.match(exitOf(effects)?.reason ?? '', /flint\.executor\.heartbeatInterval/);
  assert.equal(ofType(effects, 'LoadCode').length, 0);
});

test('bad launch arguments are a ConfigError naming the flag', () => {
  assert.throws(() => new ExecutorMachine(launchArgs({ cores: 0 }), { rng: fixedRng(0) }), (err: unknown) => {
    assert.ok(err instanceof ConfigError);
    assert.equal(err.key, '--cores');
    return true;
  });
});

test('Spark exits(1) on LaunchTask while it has no executor; Flint does too, and says why', () => {
  const h = new Harness();
  h.configure();
  h.handle(REGISTERED); // code still loading: the driver has not had LaunchedExecutor
  const effects = h.launch(1);
  assert.equal(runTaskIds(effects).length, 0);
  assert.equal(exitOf(effects)?.code, 1);
  assert.match(exitOf(effects)?.reason ?? '', /Received LaunchTask command but executor was null \(the executor is registering\)/);
  const logged = ofType(effects, 'Log').find((l) => l.level === 'error');
  assert.match(logged?.msg ?? '', /Executor self-exiting due to : Received LaunchTask/);
});

test('a heartbeat answered "reregister" (the driver removed this executor as lost) ends the executor with exit 0', () => {
  const h = new Harness(launchArgs(), fixedRng(0));
  h.run();
  h.launch(1);
  const effects = h.handle(heartbeatAnswered(true));
  assert.equal(exitOf(effects)?.code, 0);
  assert.match(exitOf(effects)?.reason ?? '', /The driver no longer knows this executor/);
  assert.equal(ofType(effects, 'Log').find((l) => l.level === 'warn') !== undefined, true);
  assert.deepEqual(h.handle(heartbeatAnswered(true)), [], 'stopped: nothing more');
});

test('heartbeats every interval with the running tasks and their run times; the ask times out after one interval', () => {
  const h = new Harness(launchArgs(), fixedRng(0));
  h.run();
  h.launch(1);
  h.now += 4 * SEC;
  h.launch(2);
  const beats = h.advance(30 * SEC, (effects) => {
    if (ofType(effects, 'Ask').length > 0) h.handle(heartbeatAnswered(false));
  });
  const asks = ofType(beats, 'Ask');
  assert.equal(asks.length, 3, 'at 10 s, 20 s and 30 s');
  assert.deepEqual(asks[0], {
    kind: 'Ask',
    to: DRIVER_URL,
    message: { type: 'ExecutorHeartbeat', executorId: '3', running: [{ taskId: 1, runTimeMs: 10 * SEC }, { taskId: 2, runTimeMs: 6 * SEC }] },
    context: 'ExecutorHeartbeat',
    timeoutMs: 10 * SEC,
  });
  assert.equal(h.now, T0 + 34 * SEC);
});

test('the heartbeat interval and the failure limit come from the application config', () => {
  const h = new Harness(launchArgs(), fixedRng(0));
  const effects = h.run({ 'flint.executor.heartbeatInterval': '2s', 'spark.executor.heartbeat.maxFailures': '3' });
  assert.deepEqual(ofType(effects, 'StartTimer').map((t) => t.delayMs), [2 * SEC]);
  const out = h.advance(60 * SEC, (beat) => {
    if (ofType(beat, 'Ask').length > 0) h.handle(askFailed('ExecutorHeartbeat', 'timeout', true));
  });
  assert.equal(ofType(out, 'Ask').length, 3);
  assert.equal(h.now, T0 + 60 * SEC);
  assert.equal(exitOf(h.log.map((r) => r.effect))?.code, 56);
});

test('Spark: 60 consecutive heartbeat failures exit with code 56; a success resets the count', () => {
  const h = new Harness(launchArgs(), fixedRng(0));
  h.run();
  let answered = 0;
  const answer = (fail: boolean) => (effects: ReturnType<Harness['fire']>) => {
    if (ofType(effects, 'Ask').length === 0) return;
    answered += 1;
    h.handle(fail ? askFailed('ExecutorHeartbeat', 'RpcTimeoutError', true) : heartbeatAnswered(false));
  };
  h.advance(59 * 10 * SEC, answer(true));
  assert.equal(h.machine.snapshot().heartbeatFailures, 59);
  assert.equal(h.exited, false, '59 failures are not enough');
  h.advance(10 * SEC, answer(false));
  assert.equal(h.machine.snapshot().heartbeatFailures, 0);
  h.advance(59 * 10 * SEC, answer(true));
  assert.equal(h.exited, false);
  const last = h.advance(10 * SEC, answer(true));
  assert.equal(answered, 120);
  const exit = ofType(h.log.map((r) => r.effect), 'Exit');
  assert.deepEqual(exit, [
    { kind: 'Exit', code: 56, reason: 'Exit as unable to send heartbeats to driver more than 60 times' },
  ]);
  assert.equal(ofType(last, 'StartTimer').length, 1, 'the re-armed timer …');
  assert.equal(h.timers.size, 0, '… is cancelled by the exit');
});

test('a heartbeat still unanswered when the next is due is not doubled', () => {
  const h = new Harness(launchArgs(), fixedRng(0));
  h.run();
  const beats = h.advance(30 * SEC);
  assert.equal(ofType(beats, 'Ask').length, 1);
  assert.equal(ofType(beats, 'StartTimer').length, 3, 'the timer keeps ticking');
  h.handle(askFailed('ExecutorHeartbeat', 'timeout', true));
  assert.equal(ofType(h.advance(10 * SEC), 'Ask').length, 1);
});

test('a stale heartbeat firing is ignored', () => {
  const h = new Harness(launchArgs(), fixedRng(0));
  const effects = h.run();
  const armed = ofType(effects, 'StartTimer')[0];
  assert.ok(armed !== undefined);
  h.fire('Heartbeat');
  const stale = h.handle({ kind: 'TimerFired', key: 'Heartbeat', generation: armed.generation });
  assert.equal(ofType(stale, 'Ask').length, 0);
  assert.equal(ofType(stale, 'StartTimer').length, 0);
});

test('losing the driver exits 1 (Spark: "Driver … disassociated! Shutting down.")', () => {
  const h = new Harness();
  h.run();
  h.launch(1);
  const effects = h.handle({ kind: 'DriverDisconnected', reason: 'connection reset' });
  assert.deepEqual(exitOf(effects), { code: 1, reason: `Driver ${DRIVER_URL} disassociated (connection reset)! Shutting down.` });
  assert.deepEqual(ofType(effects, 'CancelTimer').map((c) => c.key), ['Heartbeat']);
  assert.deepEqual(h.complete(1), [], 'nothing after Exit');
});

test('losing the worker (stdin closed) exits 1, in any phase', () => {
  for (const setup of [(h: Harness) => h.start(), (h: Harness) => h.run()]) {
    const h = new Harness();
    setup(h);
    const effects = h.handle({ kind: 'ParentGone' });
    assert.deepEqual(exitOf(effects), { code: 1, reason: 'Lost connection to worker flint://Worker@h1:7078. Exiting.' });
  }
});

test('StopExecutor cancels running tasks and exits 0; before the executor runs it exits 1', () => {
  const h = new Harness(launchArgs({ cores: 1 }));
  h.run();
  h.launch(1);
  h.launch(2);
  const effects = h.fromDriver({ type: 'StopExecutor' });
  assert.deepEqual(ofType(effects, 'CancelTask').map((c) => c.taskId), [1], 'the queued task never started');
  assert.deepEqual(exitOf(effects), { code: 0, reason: 'Driver commanded a shutdown' });
  assert.deepEqual(states(effects), []);
  assert.equal(h.timers.size, 0);

  const early = new Harness();
  early.configure();
  assert.equal(exitOf(early.fromDriver({ type: 'StopExecutor' }))?.code, 1);
});

test('KillTask while there is no executor exits 1 too; ReleaseTaskResult is harmless', () => {
  const h = new Harness();
  h.start();
  assert.deepEqual(exitOf(h.fromDriver({ type: 'ReleaseTaskResult', taskId: 1 })), undefined);
  assert.equal(exitOf(h.fromDriver({ type: 'KillTask', taskId: 1, reason: 'x' }))?.code, 1);
  assert.deepEqual(runTaskIds(h.log.map((r) => r.effect)), []);
});
