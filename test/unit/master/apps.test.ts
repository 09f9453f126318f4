// Applications: registration, executor state changes and the failure limit, dynamic allocation, removal and
// retention (reference §4.4, §4.5, §15 items 1, 4, 8, 11).
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  STAMP,
  T0,
  TestMaster,
  aliveMaster,
  appAddress,
  indexOf,
  isSendOf,
  logs,
  ofKind,
  persistedApp,
  sent,
  sentTypes,
  workerSpec,
} from './harness.ts';

describe('RegisterApplication', () => {
  test('in STANDBY there is no reply at all (clients find the active master by that silence)', () => {
    const m = new TestMaster();
    const effects = m.send({
      type: 'RegisterApplication',
      appDescription: { name: 'x', memoryMbPerExecutor: 1, command: { mainModule: 'a', arguments: [], environment: {}, nodeOptions: [] }, appUiUrl: '', user: 'u' },
      driverAddress: appAddress('a'),
    });
    assert.deepEqual(effects, []);
    assert.equal(m.state.apps.size, 0);
  });

  test('ids are app-<yyyyMMddHHmmss>-NNNN; persisted before RegisteredApplication; then scheduled', () => {
    const m = aliveMaster();
    m.registerWorker('w1', { cores: 4 });
    const { appId, effects } = m.registerApp('a');
    assert.equal(appId, `app-${STAMP}-0000`);
    assert.equal(m.registerApp('b').appId, `app-${STAMP}-0001`);
    const persist = indexOf(effects, (e) => e.kind === 'Persist' && e.key === `app_${appId}`, 'persist');
    const ack = indexOf(effects, isSendOf('RegisteredApplication'), 'ack');
    const added = indexOf(effects, isSendOf('ExecutorAdded'), 'ExecutorAdded');
    const launch = indexOf(effects, isSendOf('LaunchExecutor'), 'LaunchExecutor');
    assert.ok(persist < ack && ack < added && added < launch, 'persist < ack < ExecutorAdded < LaunchExecutor');
    assert.deepEqual(sent(effects, 'RegisteredApplication')[0], {
      to: appAddress('a'),
      message: { type: 'RegisteredApplication', appId, masterAddress: 'flint://Master@master:7077' },
    });
    assert.deepEqual(sent(effects, 'ExecutorAdded')[0], {
      to: appAddress('a'),
      message: { type: 'ExecutorAdded', id: 0, workerId: 'w1', hostPort: '10.0.0.1:7001', cores: 4, memoryMb: 1024 },
    });
    const launchMsg = sent(effects, 'LaunchExecutor')[0];
    assert.equal(launchMsg?.to, workerSpec('w1').address);
    assert.deepEqual({ ...launchMsg?.message, appDesc: undefined }, {
      type: 'LaunchExecutor',
      masterUrl: 'flint://master:7077',
      appId,
      execId: 0,
      appDesc: undefined,
      cores: 4,
      memoryMb: 1024,
    });
    const app = m.app(appId);
    assert.equal(app.state, 'RUNNING', 'RUNNING as soon as an executor is allocated');
    assert.equal(app.startTimeMs, T0);
  });

  test('accepted while RECOVERING (only STANDBY refuses), but nothing is scheduled until ALIVE', () => {
    const m = new TestMaster();
    m.elect({ apps: [persistedApp('app-old', 'old')], drivers: [], workers: [] });
    assert.equal(m.state.recoveryState, 'RECOVERING');
    const { appId, effects } = m.registerApp('new');
    assert.equal(m.app(appId).state, 'WAITING');
    assert.deepEqual(sent(effects, 'LaunchExecutor'), []);
  });

  test('a repeated registration from the same driver is persisted and acknowledged but not indexed (Spark TODO)', () => {
    const m = aliveMaster();
    const first = m.registerApp('a');
    const second = m.registerApp('a');
    assert.notEqual(second.appId, first.appId);
    assert.equal(ofKind(second.effects, 'Persist').length, 1);
    assert.equal(m.state.apps.size, 1);
    assert.equal(m.state.idToApp.has(second.appId), false);
  });
});

describe('removing an application', () => {
  test('UnregisterApplication: executors killed, no ApplicationRemoved, ApplicationFinished to every worker, DEAD ones too', () => {
    const m = aliveMaster();
    m.registerWorker('w1', { cores: 2 });
    m.registerWorker('w2', { cores: 2 });
    m.registerWorker('w3', { cores: 2 });
    m.disconnect(workerSpec('w3').envId);
    const { appId } = m.registerApp('a');
    assert.equal(m.app(appId).executors.size, 2);
    m.advance(5_000);
    const effects = m.send({ type: 'UnregisterApplication', appId });
    assert.deepEqual(
      sent(effects, 'KillExecutor').map((s) => [s.to, s.message.execId]).sort(),
      [
        [workerSpec('w1').address, 1],
        [workerSpec('w2').address, 0],
      ],
    );
    assert.deepEqual(sent(effects, 'ApplicationRemoved'), []);
    assert.deepEqual(
      sent(effects, 'ApplicationFinished').map((s) => s.to),
      ['w1', 'w2', 'w3'].map((id) => workerSpec(id).address),
    );
    assert.deepEqual(
      ofKind(effects, 'Unpersist').map((e) => e.key),
      [`app_${appId}`],
    );
    const done = m.state.completedApps[0];
    assert.equal(done?.id, appId);
    assert.equal(done?.state, 'FINISHED');
    assert.equal(done?.endTimeMs, T0 + 5_000);
    assert.equal(done?.executors.size, 2, 'a finished app keeps its executors for the UI');
    assert.ok([...(done?.executors.values() ?? [])].every((e) => e.state === 'KILLED'));
    // The executor being killed holds its core until its worker reports it ended (docs/differences-from-spark.md).
    assert.equal(m.worker('w1').coresUsed, 2);
    assert.deepEqual([...m.worker('w1').orphans.keys()], [`${appId}/1`]);
    m.ask({ type: 'ExecutorStateChanged', appId, execId: 1, state: 'KILLED' }, workerSpec('w1').envId);
    assert.equal(m.worker('w1').coresUsed, 0);
    assert.equal(m.worker('w1').orphans.size, 0);
    assert.deepEqual(m.state.waitingApps, []);
  });

  test('an unknown app id is ignored', () => {
    const m = aliveMaster();
    const effects = m.send({ type: 'UnregisterApplication', appId: 'app-nope' });
    assert.deepEqual(sent(effects), []);
  });

  test('the UI kill (KillApplication) ends the app KILLED and tells its driver ApplicationRemoved("KILLED")', () => {
    const m = aliveMaster();
    const { appId } = m.registerApp('a');
    const effects = m.machine.handle({ kind: 'KillApplication', appId }, m.now);
    assert.deepEqual(sent(effects, 'ApplicationRemoved'), [
      { to: appAddress('a'), message: { type: 'ApplicationRemoved', message: 'KILLED' } },
    ]);
    assert.equal(m.state.completedApps[0]?.state, 'KILLED');
  });

  test('completed apps are trimmed before appending: the 201st completion keeps 181 (retained 200)', () => {
    const m = aliveMaster();
    for (let i = 0; i < 200; i += 1) m.send({ type: 'UnregisterApplication', appId: m.registerApp(`c${i}`).appId });
    assert.equal(m.state.completedApps.length, 200);
    const last = m.registerApp('last').appId;
    m.send({ type: 'UnregisterApplication', appId: last });
    assert.equal(m.state.completedApps.length, 181);
    assert.equal(m.state.completedApps[0]?.id, `app-${STAMP}-0020`, 'the 20 oldest went');
    assert.equal(m.state.completedApps.at(-1)?.id, last);
  });

  test('with a small retention at least one is dropped (max(retained / 10, 1))', () => {
    const m = aliveMaster({ retainedApplications: 5 });
    for (let i = 0; i < 6; i += 1) m.send({ type: 'UnregisterApplication', appId: m.registerApp(`c${i}`).appId });
    assert.equal(m.state.completedApps.length, 5);
    assert.equal(m.state.completedApps[0]?.id, `app-${STAMP}-0001`);
  });
});

describe('ExecutorStateChanged', () => {
  function oneExecutorApp(config = {}) {
    const m = aliveMaster(config);
    m.registerWorker('w1', { cores: 4 });
    const { appId } = m.registerApp('a');
    return { m, appId };
  }

  test('RUNNING after LAUNCHING: forwarded to the driver, uptime starts, retry count kept, replied true last', () => {
    const { m, appId } = oneExecutorApp();
    m.app(appId).retryCount = 3;
    const { effects, reply } = m.executorStateChanged(appId, 0, 'RUNNING');
    assert.deepEqual(reply, { type: 'BooleanResponse', value: true });
    assert.deepEqual(sent(effects, 'ExecutorUpdated'), [
      { to: appAddress('a'), message: { type: 'ExecutorUpdated', id: 0, state: 'RUNNING' } },
    ]);
    // Spark resets the count here; Flint waits for flint.deploy.executorMinUptime (relaunch-backoff.test.ts).
    assert.equal(m.app(appId).retryCount, 3);
    assert.equal(m.app(appId).executors.get(0)?.runningSinceMs, m.now);
    assert.equal(effects.at(-1)?.kind, 'Reply');
  });

  test('RUNNING for an executor that was not LAUNCHING fails the ask (Spark asserts)', () => {
    const { m, appId } = oneExecutorApp();
    m.executorStateChanged(appId, 0, 'RUNNING');
    const { effects, failure } = m.executorStateChanged(appId, 0, 'RUNNING');
    assert.match(failure ?? '', /state transfer from RUNNING to RUNNING is illegal/);
    assert.deepEqual(sent(effects), []);
  });

  test('an unknown executor is logged and still answered true, with nothing scheduled', () => {
    const { m, appId } = oneExecutorApp();
    const { effects, reply } = m.executorStateChanged(appId, 42, 'FAILED');
    assert.deepEqual(reply, { type: 'BooleanResponse', value: true });
    assert.deepEqual(sent(effects), []);
    assert.match(logs(effects, 'warn')[0] ?? '', /unknown executor/);
  });

  test('a finished executor leaves app and worker; exit 0 is not a failure; schedule() replaces it', () => {
    const { m, appId } = oneExecutorApp();
    m.executorStateChanged(appId, 0, 'RUNNING');
    const { effects } = m.executorStateChanged(appId, 0, 'EXITED', 0);
    const app = m.app(appId);
    assert.equal(app.retryCount, 0);
    assert.equal(app.removedExecutors[0]?.id, 0);
    assert.deepEqual(
      sent(effects, 'LaunchExecutor').map((s) => s.message.execId),
      [1],
      'a new executor (id 1) takes the freed cores',
    );
    assert.equal(m.worker('w1').coresUsed, 4);
    assert.deepEqual([...app.executors.keys()], [1]);
  });

  test('no exit status counts as abnormal', () => {
    const { m, appId } = oneExecutorApp();
    m.executorStateChanged(appId, 0, 'FAILED');
    assert.equal(m.app(appId).retryCount, 1);
  });

  test('SPARK-27510: a worker failing every launch gets exactly maxExecutorRetries launches, then the app FAILS', () => {
    // Without the relaunch backoff each failure is replaced at once, as in Spark.
    const { m, appId } = oneExecutorApp({ executorRelaunchBackoffMs: 0 });
    let launches = 1;
    let execId = 0;
    for (let i = 0; i < 50 && m.state.idToApp.has(appId); i += 1) {
      const { effects } = m.executorStateChanged(appId, execId, 'FAILED');
      const next = sent(effects, 'LaunchExecutor');
      launches += next.length;
      execId = next[0]?.message.execId ?? -1;
      if (!m.state.idToApp.has(appId)) {
        assert.match(sent(effects, 'ApplicationRemoved')[0]?.message.message ?? '', /^FAILED: 10 executor failures/);
      }
    }
    assert.equal(launches, 10);
    assert.equal(m.state.completedApps[0]?.state, 'FAILED');
  });

  test('maxExecutorRetries = -1 never fails the app', () => {
    const { m, appId } = oneExecutorApp({ maxExecutorRetries: -1, executorRelaunchBackoffMs: 0 });
    for (let execId = 0; execId < 30; execId += 1) m.executorStateChanged(appId, execId, 'FAILED', 1);
    assert.equal(m.app(appId).retryCount, 30);
    assert.equal(m.app(appId).executors.size, 1);
  });

  test('an app with an executor RUNNING for the minimum uptime is not failed however many others fail', () => {
    const m = aliveMaster({ maxExecutorRetries: 2, executorRelaunchBackoffMs: 0 });
    m.registerWorker('w1', { cores: 2 });
    m.registerWorker('w2', { cores: 2 });
    const { appId } = m.registerApp('a', { coresPerExecutor: 2 });
    const [first, second] = [...m.app(appId).executors.keys()];
    m.executorStateChanged(appId, first ?? -1, 'RUNNING');
    m.advance(m.state.config.executorMinUptimeMs);
    let failing = second ?? -1;
    for (let i = 0; i < 5; i += 1) {
      const { effects } = m.executorStateChanged(appId, failing, 'FAILED', 1);
      failing = sent(effects, 'LaunchExecutor')[0]?.message.execId ?? -1;
    }
    assert.equal(m.app(appId).retryCount, 5);
    assert.equal(m.app(appId).state, 'RUNNING');
  });

  test('a loss after DECOMMISSIONED is expected and not counted', () => {
    const { m, appId } = oneExecutorApp();
    m.executorStateChanged(appId, 0, 'DECOMMISSIONED');
    m.executorStateChanged(appId, 0, 'EXITED', 1);
    assert.equal(m.app(appId).retryCount, 0);
  });
});

describe('RequestExecutors / KillExecutors', () => {
  test('an unknown app gets false', () => {
    const m = aliveMaster();
    assert.deepEqual(m.ask({ type: 'RequestExecutors', appId: 'x', requestedTotal: 1 }).reply, { type: 'BooleanResponse', value: false });
    assert.deepEqual(m.ask({ type: 'KillExecutors', appId: 'x', executorIds: ['0'] }).reply, { type: 'BooleanResponse', value: false });
  });

  test('raising the target launches executors; lowering it kills nothing', () => {
    const m = aliveMaster();
    for (const id of ['w1', 'w2', 'w3']) m.registerWorker(id, { cores: 2 });
    const { appId, effects } = m.registerApp('a', { initialExecutorLimit: 0 });
    assert.deepEqual(sent(effects, 'LaunchExecutor'), []);
    const raised = m.ask({ type: 'RequestExecutors', appId, requestedTotal: 2 });
    assert.deepEqual(raised.reply, { type: 'BooleanResponse', value: true });
    assert.equal(sent(raised.effects, 'LaunchExecutor').length, 2);
    const lowered = m.ask({ type: 'RequestExecutors', appId, requestedTotal: 0 });
    assert.deepEqual(sent(lowered.effects), []);
    assert.equal(m.app(appId).executors.size, 2);
  });

  test('KillExecutors after lowering the target: killed, freed, not replaced; bad and unknown ids are logged', () => {
    const m = aliveMaster();
    m.registerWorker('w1', { cores: 4 });
    const { appId } = m.registerApp('a');
    m.ask({ type: 'RequestExecutors', appId, requestedTotal: 0 });
    const { effects, reply } = m.ask({ type: 'KillExecutors', appId, executorIds: ['0', 'x1', '9'] });
    assert.deepEqual(reply, { type: 'BooleanResponse', value: true });
    assert.deepEqual(sent(effects).map((s) => s.message), [
      { type: 'KillExecutor', masterUrl: 'flint://master:7077', appId, execId: 0 },
    ]);
    assert.match(logs(effects, 'error')[0] ?? '', /non-integer ID: x1/);
    assert.match(logs(effects, 'warn')[0] ?? '', /non-existent executors: 9/);
    assert.equal(m.app(appId).executors.size, 0);
    // Held until the worker reports the process ended; then free.
    assert.equal(m.worker('w1').coresUsed, 4);
    m.ask({ type: 'ExecutorStateChanged', appId, execId: 0, state: 'KILLED' }, workerSpec('w1').envId);
    assert.equal(m.worker('w1').coresUsed, 0);
  });

  test('KillExecutors without lowering the target: schedule() replaces the executor once the worker reports it ended', () => {
    const m = aliveMaster();
    m.registerWorker('w1', { cores: 4 });
    const { appId } = m.registerApp('a');
    const { effects } = m.ask({ type: 'KillExecutors', appId, executorIds: ['0'] });
    assert.deepEqual(sentTypes(effects), ['KillExecutor'], 'its cores are still in use');
    const ended = m.ask({ type: 'ExecutorStateChanged', appId, execId: 0, state: 'KILLED' }, workerSpec('w1').envId);
    assert.deepEqual(sentTypes(ended.effects), ['ExecutorAdded', 'LaunchExecutor']);
  });

  test('a killed executor whose end was never reported is released by its worker\'s next full report', () => {
    const m = aliveMaster();
    m.registerWorker('w1', { cores: 4 });
    const { appId } = m.registerApp('a');
    m.ask({ type: 'RequestExecutors', appId, requestedTotal: 0 });
    m.ask({ type: 'KillExecutors', appId, executorIds: ['0'] });
    assert.equal(m.worker('w1').coresUsed, 4);
    m.send({ type: 'WorkerLatestState', id: 'w1', executors: [], driverIds: [] }, workerSpec('w1').envId);
    assert.equal(m.worker('w1').coresUsed, 0);
    assert.equal(m.worker('w1').orphans.size, 0);
  });
});

describe('an application speaks for itself only (docs/security.md)', () => {
  test('RegisterApplication naming a driver address that is not the connection it came on is refused', () => {
    const m = aliveMaster();
    m.registerWorker('w1', { cores: 4 });
    const effects = m.send(
      {
        type: 'RegisterApplication',
        appDescription: { name: 'x', memoryMbPerExecutor: 1, command: { mainModule: 'a', arguments: [], environment: {}, nodeOptions: [] }, appUiUrl: '', user: 'u' },
        driverAddress: appAddress('victim'),
      },
      'flint+client://intruder',
    );
    assert.equal(m.state.apps.size, 0, 'nothing registered');
    assert.deepEqual(sentTypes(effects), [], 'nothing sent, to the named driver least of all');
    assert.match(logs(effects, 'warn')[0] ?? '', /Refused to register app x: its driver address is not the connection it registered on/);
  });

  test("UnregisterApplication, RequestExecutors and KillExecutors from another env leave the app alone", () => {
    const m = aliveMaster();
    m.registerWorker('w1', { cores: 4 });
    const { appId } = m.registerApp('a');
    const other = 'flint+client://b';
    assert.match(logs(m.send({ type: 'UnregisterApplication', appId }, other), 'warn')[0] ?? '', /Ignored UnregisterApplication for app .* not its driver/);
    assert.equal(m.state.idToApp.get(appId)?.state, 'RUNNING');
    assert.deepEqual(m.ask({ type: 'RequestExecutors', appId, requestedTotal: 0 }, other).reply, { type: 'BooleanResponse', value: false });
    assert.equal(m.state.idToApp.get(appId)?.executorLimit, Number.POSITIVE_INFINITY);
    assert.deepEqual(m.ask({ type: 'KillExecutors', appId, executorIds: ['0'] }, other).reply, { type: 'BooleanResponse', value: false });
    assert.equal(m.state.idToApp.get(appId)?.executors.size, 1);
    // From its own driver, the same messages work.
    m.send({ type: 'UnregisterApplication', appId });
    assert.equal(m.state.idToApp.get(appId), undefined);
  });
});
