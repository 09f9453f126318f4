// Executors: launch, kill, exit-state mapping, accounting, state sync with retry (reference §6.3, §6.4; Spark's
// Worker.scala LaunchExecutor/KillExecutor/handleExecutorStateChanged, ExecutorRunner.scala, WorkerSuite.scala).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Harness, MASTER_A_ADDRESS, MASTER_B, appDesc, launchExecutor, ofType, testConfig } from './harness.ts';
import type { ProcessExit, WorkerEffect } from '../../../src/worker/index.ts';

function registered(over: Parameters<typeof testConfig>[0] = {}): Harness {
  const h = new Harness(testConfig(over));
  h.register();
  return h;
}

function asks(effects: readonly WorkerEffect[]) {
  return ofType(effects, 'Ask').map((a) => a.message);
}

test('Worker.scala: LaunchExecutor from a master other than the active one is ignored', () => {
  const h = registered();
  const effects = h.fromMaster(launchExecutor('app-1', 0, { masterUrl: MASTER_B }), MASTER_B);
  assert.equal(ofType(effects, 'LaunchExecutor').length, 0);
  assert.match(ofType(effects, 'Log')[0]?.msg ?? '', /Ignored LaunchExecutor from flint:\/\/10\.0\.0\.2:7077: it is not the master/);
  assert.equal(h.machine.snapshot().coresUsed, 0);
});

test('LaunchExecutor naming the active master but sent from another env is ignored (the sender counts, not the message)', () => {
  const h = registered();
  const effects = h.fromMaster(launchExecutor('app-1', 0), MASTER_B);
  assert.equal(ofType(effects, 'LaunchExecutor').length, 0);
  assert.match(ofType(effects, 'Log')[0]?.msg ?? '', /Ignored LaunchExecutor from flint:\/\/10\.0\.0\.2:7077/);
  assert.equal(h.machine.snapshot().coresUsed, 0);
});

test('LaunchExecutor before any registration is ignored (no active master)', () => {
  const h = new Harness();
  h.start();
  assert.equal(ofType(h.fromMaster(launchExecutor('app-1', 0)), 'LaunchExecutor').length, 0);
  assert.equal(h.machine.snapshot().executors.length, 0);
});

test('ExecutorRunner: the launch spec substitutes whole-argument placeholders and builds dirs and logs', () => {
  const h = registered();
  const desc = appDesc();
  const msg = launchExecutor('app-20240102030405-0001', 3, {
    appDesc: { ...desc, command: { ...desc.command, arguments: [...desc.command.arguments, 'id={{EXECUTOR_ID}}', '{{UNKNOWN}}'] } },
  });
  const spec = ofType(h.fromMaster(msg), 'LaunchExecutor')[0]?.spec;
  assert.ok(spec);
  assert.deepEqual(spec.argv, [
    'node',
    // --executor-memory (1024 MiB) is the heap's limit, before the app's own Node flags (which win).
    '--max-old-space-size=1024',
    '--title=exec-app-20240102030405-0001-3',
    'flint/executor-backend.js',
    '--driver-url',
    'flint+client://CoarseGrainedScheduler@abc',
    '--executor-id',
    '3',
    '--hostname',
    'wh1',
    '--cores',
    '2',
    '--app-id',
    'app-20240102030405-0001',
    '--worker-url',
    'flint://Worker@wh1:7078',
    '--resourceProfileId',
    '0',
    'id={{EXECUTOR_ID}}',
    '{{UNKNOWN}}',
  ]);
  assert.equal(spec.processKey, 'executor:app-20240102030405-0001/3');
  assert.equal(spec.cwd, 'work/app-20240102030405-0001/3/');
  assert.equal(spec.cwdMustBeNew, true);
  assert.equal(spec.stdoutPath, 'work/app-20240102030405-0001/3/stdout');
  assert.equal(spec.stderrPath, 'work/app-20240102030405-0001/3/stderr');
  assert.equal(spec.env['FLINT_EXECUTOR_OPTS'], 'x');
  assert.equal(
    spec.env['FLINT_LOG_URL_STDERR'],
    'http://wh1:8081/logPage/?appId=app-20240102030405-0001&executorId=3&logType=stderr',
  );
  assert.ok(spec.stderrHeader.startsWith('Flint Executor Command: "node" "--max-old-space-size=1024" "--title=exec-app-20240102030405-0001-3"'));
  assert.ok(spec.stderrHeader.endsWith(`\n${'='.repeat(40)}\n\n`));
  assert.deepEqual([spec.cores, spec.memoryMb], [2, 1024]);
  const snap = h.machine.snapshot();
  assert.deepEqual([snap.coresUsed, snap.memoryUsedMb, snap.coresFree, snap.memoryFreeMb], [2, 1024, 6, 7168]);
  assert.equal(snap.executors[0]?.state, 'LAUNCHING');
});

test("executors share the worker's bundle directory, which an app's environment cannot move", () => {
  const h = registered();
  const desc = appDesc();
  const msg = launchExecutor('app-1', 0, {
    appDesc: { ...desc, command: { ...desc.command, environment: { FLINT_APP_CODE_DIR: '/elsewhere', FLINT_X: 'y' } } },
  });
  const spec = ofType(h.fromMaster(msg), 'LaunchExecutor')[0]?.spec;
  assert.equal(spec?.env['FLINT_APP_CODE_DIR'], 'work/.app-code');
  assert.equal(spec?.env['FLINT_X'], 'y');
});

test('the nodeExecutable from the config is argv[0]', () => {
  const h = registered({ nodeExecutable: '/opt/flint/node/bin/node' });
  const spec = ofType(h.fromMaster(launchExecutor('app-1', 0)), 'LaunchExecutor')[0]?.spec;
  assert.equal(spec?.argv[0], '/opt/flint/node/bin/node');
});

test('a second LaunchExecutor for a running executor is ignored (each executor is launched at most once)', () => {
  const h = registered();
  h.fromMaster(launchExecutor('app-1', 0));
  assert.equal(ofType(h.fromMaster(launchExecutor('app-1', 0)), 'LaunchExecutor').length, 0);
  assert.equal(h.machine.snapshot().coresUsed, 2);
});

test('ExecutorRunner: the process started → RUNNING, synced with an ask (SPARK-34245)', () => {
  const h = registered({ askTimeoutMs: 30_000 });
  h.fromMaster(launchExecutor('app-1', 0));
  const effects = h.handle({ kind: 'ExecutorProcessStarted', appId: 'app-1', execId: 0 });
  assert.deepEqual(ofType(effects, 'Ask'), [
    {
      kind: 'Ask',
      to: MASTER_A_ADDRESS,
      message: { type: 'ExecutorStateChanged', appId: 'app-1', execId: 0, state: 'RUNNING' },
      context: { type: 'ExecutorStateChanged', appId: 'app-1', execId: 0, state: 'RUNNING' },
      timeoutMs: 30_000,
    },
  ]);
  assert.equal(ofType(effects, 'Send').length, 0, 'state changes are asks, not sends');
  assert.equal(h.machine.snapshot().executors[0]?.state, 'RUNNING');
});

interface ExitCase {
  name: string;
  exit: ProcessExit;
  kill: boolean;
  state: string;
  status?: number;
  message: string;
}
const exited = (exitCode: number | null, signal: string | null, killedByWorker = false): ProcessExit => ({
  exitCode,
  signal,
  killedByWorker,
});
const interrupted = 'Runner thread for executor app-1/0 interrupted';
const exits: ExitCase[] = [
  { name: 'exit 0', exit: exited(0, null), kill: false, state: 'EXITED', status: 0, message: 'Command exited with code 0' },
  { name: 'exit 1', exit: exited(1, null), kill: false, state: 'EXITED', status: 1, message: 'Command exited with code 1' },
  {
    name: 'SIGKILL from outside',
    exit: exited(null, 'SIGKILL'),
    kill: false,
    state: 'EXITED',
    status: 137,
    message: 'Command exited with signal SIGKILL (137)',
  },
  { name: 'KillExecutor', exit: exited(null, 'SIGTERM', true), kill: true, state: 'KILLED', status: 143, message: interrupted },
  { name: 'KillExecutor, exit code', exit: exited(143, null, true), kill: true, state: 'KILLED', status: 143, message: interrupted },
];

for (const c of exits) {
  test(`reference §6.4 exit mapping: ${c.name} → ${c.state} with exitStatus ${c.status}`, () => {
    const h = registered();
    h.fromMaster(launchExecutor('app-1', 0));
    h.handle({ kind: 'ExecutorProcessStarted', appId: 'app-1', execId: 0 });
    if (c.kill) h.fromMaster({ type: 'KillExecutor', masterUrl: 'flint://10.0.0.1:7077', appId: 'app-1', execId: 0 });
    const effects = h.handle({ kind: 'ExecutorProcessExited', appId: 'app-1', execId: 0, ...c.exit });
    assert.deepEqual(asks(effects), [
      { type: 'ExecutorStateChanged', appId: 'app-1', execId: 0, state: c.state, message: c.message, exitStatus: c.status },
    ]);
    const snap = h.machine.snapshot();
    assert.deepEqual([snap.executors.length, snap.finishedExecutors.length], [0, 1]);
    assert.deepEqual([snap.coresUsed, snap.memoryUsedMb], [0, 0], 'cores and memory are released');
    assert.equal(snap.finishedExecutors[0]?.state, c.state);
    assert.equal(snap.finishedExecutors[0]?.exitStatus, c.status);
  });
}

test('ExecutorRunner.kill(): an executor the worker was killing ends KILLED even if it exited on its own', () => {
  const h = registered();
  h.fromMaster(launchExecutor('app-1', 0));
  h.handle({ kind: 'ExecutorProcessStarted', appId: 'app-1', execId: 0 });
  h.fromMaster({ type: 'KillExecutor', masterUrl: 'flint://10.0.0.1:7077', appId: 'app-1', execId: 0 });
  const effects = h.handle({ kind: 'ExecutorProcessExited', appId: 'app-1', execId: 0, exitCode: 0, signal: null, killedByWorker: false });
  assert.equal(asks(effects)[0]?.state, 'KILLED');
  assert.equal(asks(effects)[0]?.exitStatus, 0);
});

test('ExecutorRunner: a failed launch → FAILED with the error and no exit status', () => {
  const h = registered();
  h.fromMaster(launchExecutor('app-1', 0));
  const effects = h.handle({ kind: 'ExecutorLaunchFailed', appId: 'app-1', execId: 0, error: 'IOException: Failed to create directory work/app-1/0' });
  assert.deepEqual(asks(effects), [
    { type: 'ExecutorStateChanged', appId: 'app-1', execId: 0, state: 'FAILED', message: 'IOException: Failed to create directory work/app-1/0' },
  ]);
  assert.deepEqual([h.machine.snapshot().coresUsed, h.machine.snapshot().finishedExecutors[0]?.state], [0, 'FAILED']);
});

test('KillExecutor: kills by process key, marks KILLED at once, and only once', () => {
  const h = registered();
  h.fromMaster(launchExecutor('app-1', 0));
  const kill = { type: 'KillExecutor', masterUrl: 'flint://10.0.0.1:7077', appId: 'app-1', execId: 0 } as const;
  const effects = h.fromMaster(kill);
  assert.deepEqual(ofType(effects, 'KillExecutor'), [
    { kind: 'KillExecutor', processKey: 'executor:app-1/0', appId: 'app-1', execId: 0, reason: 'Killed by the master' },
  ]);
  assert.equal(h.machine.snapshot().executors[0]?.state, 'KILLED');
  assert.equal(h.machine.snapshot().coresUsed, 2, 'resources are held until the process is gone');
  assert.equal(ofType(h.fromMaster(kill), 'KillExecutor').length, 0);
  const started = h.handle({ kind: 'ExecutorProcessStarted', appId: 'app-1', execId: 0 });
  assert.equal(asks(started).length, 0, 'a killed executor is not reported RUNNING');
});

test('KillExecutor from another master, or for an unknown executor, only logs', () => {
  const h = registered();
  h.fromMaster(launchExecutor('app-1', 0));
  const wrong = h.fromMaster({ type: 'KillExecutor', masterUrl: MASTER_B, appId: 'app-1', execId: 0 });
  assert.deepEqual(wrong.map((e) => e.kind), ['Log']);
  assert.match(ofType(wrong, 'Log')[0]?.msg ?? '', /Invalid Master .* attempted to kill executor 0/);
  const unknown = h.fromMaster({ type: 'KillExecutor', masterUrl: 'flint://10.0.0.1:7077', appId: 'app-1', execId: 9 });
  assert.deepEqual(unknown.map((e) => e.kind), ['Log']);
  assert.equal(ofType(unknown, 'Log')[0]?.msg, 'Asked to kill unknown executor app-1/9');
});

test('SPARK-34245: a failed state sync is retried after the ask timeout; a timed-out one at once', () => {
  const h = registered({ askTimeoutMs: 20_000 });
  h.fromMaster(launchExecutor('app-1', 0));
  const [running] = asks(h.handle({ kind: 'ExecutorProcessStarted', appId: 'app-1', execId: 0 }));
  assert.ok(running);
  const failed = h.handle({ kind: 'AskFailed', context: running, error: 'connection reset', timedOut: false });
  assert.equal(asks(failed).length, 0);
  const timer = ofType(failed, 'StartTimer')[0];
  assert.deepEqual([timer?.key, timer?.delayMs], ['ExecutorStateSyncRetry:app-1/0:RUNNING', 20_000]);
  const retried = h.advance(20_000);
  assert.deepEqual(asks(retried), [running]);
  const timedOut = h.handle({ kind: 'AskFailed', context: running, error: 'RpcTimeoutError', timedOut: true });
  assert.deepEqual(asks(timedOut), [running], 're-asked without waiting');
});

test('SPARK-34245: 5 consecutive failed syncs for one executor make the worker exit(1); a success resets the count', () => {
  const h = registered();
  h.fromMaster(launchExecutor('app-1', 0));
  const [running] = asks(h.handle({ kind: 'ExecutorProcessStarted', appId: 'app-1', execId: 0 }));
  assert.ok(running);
  const fail = () => h.handle({ kind: 'AskFailed', context: running, error: 'timeout', timedOut: true });
  for (let i = 0; i < 4; i += 1) assert.equal(ofType(fail(), 'Exit').length, 0);
  h.handle({ kind: 'Answered', context: running, reply: { type: 'BooleanResponse', value: true } });
  for (let i = 0; i < 4; i += 1) assert.equal(ofType(fail(), 'Exit').length, 0, `after reset, failure ${i + 1}`);
  const last = fail();
  assert.equal(last.at(-1)?.kind, 'Exit');
  const exit = ofType(last, 'Exit')[0];
  assert.equal(exit?.code, 1);
  assert.match(exit?.reason ?? '', /Failed to send ExecutorStateChanged\(app-1\/0 RUNNING\) to Master .* for 5 times\. Giving up\./);
  assert.deepEqual(ofType(last, 'KillExecutor').map((k) => k.processKey), ['executor:app-1/0'], 'executors are killed before exit');
});

function retentionRun(retained: number, count: number): number[] {
  const h = new Harness(testConfig({ retainedExecutors: retained, cores: 64, memoryMb: 1 << 20 }));
  h.register();
  for (let i = 0; i < count; i += 1) h.fromMaster(launchExecutor('app1', i, { cores: 1, memoryMb: 1 }));
  const sizes: number[] = [];
  for (let i = 0; i < count; i += 1) {
    h.handle({ kind: 'ExecutorProcessExited', appId: 'app1', execId: i, exitCode: 0, signal: null, killedByWorker: false });
    const snap = h.machine.snapshot();
    assert.equal(snap.executors.length, count - 1 - i);
    sizes.push(snap.finishedExecutors.length);
    if (retained === 2 && i > 1) assert.ok(!snap.finishedExecutors.some((e) => e.execId === i - 2));
  }
  return sizes;
}

test('WorkerSuite "test clearing of finishedExecutors (small number of executors)": retained 2 stays at 2', () => {
  assert.deepEqual(retentionRun(2, 5), [1, 2, 2, 2, 2]);
});

test('WorkerSuite "test clearing of finishedExecutors (more executors)": 30 → 31 drops 3 → 28, then grows again', () => {
  const sizes = retentionRun(30, 50);
  const expected: number[] = [];
  let size = 0;
  for (let i = 0; i < 50; i += 1) {
    size = size < 30 ? size + 1 : 28;
    expected.push(size);
  }
  assert.deepEqual(sizes, expected);
  assert.equal(Math.max(...sizes), 30);
});
