// Applications at their edges (reference §4.4, §4.5; Spark's Master.receive for RegisterApplication,
// UnregisterApplication, ExecutorStateChanged and KillExecutors): what a removal frees and re-opens, what is
// persisted only when set, the exact updates a driver hears, the failure limit at 0, and which executor ids a
// KillExecutors takes. Found by mutation testing (docs/testing.md).
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { aliveMaster, appAddress, appEnvId, logs, ofKind, sent, workerSpec } from './harness.ts';

describe('removing an application', () => {
  test('it leaves the active apps, and its cores go to the next waiting app once its executor has ended', () => {
    const m = aliveMaster();
    m.registerWorker('w1', { cores: 4 });
    const first = m.registerApp('a').appId;
    const second = m.registerApp('b').appId;
    assert.equal(m.app(second).executors.size, 0, 'the first took every core');
    const effects = m.send({ type: 'UnregisterApplication', appId: first });
    assert.equal(m.state.idToApp.has(first), false);
    assert.deepEqual([...m.state.apps].map((a) => a.id), [second]);
    assert.deepEqual(m.state.completedApps.map((a) => [a.id, a.state]), [[first, 'FINISHED']]);
    assert.deepEqual(sent(effects, 'LaunchExecutor'), [], 'the killed executor still holds the cores');
    const ended = m.ask({ type: 'ExecutorStateChanged', appId: first, execId: 0, state: 'KILLED' }, workerSpec('w1').envId);
    assert.deepEqual(sent(ended.effects, 'LaunchExecutor').map((l) => [l.message.appId, l.message.cores]), [[second, 4]]);
  });

  test('a driver whose application ended may register a new one on the same connection', () => {
    const m = aliveMaster();
    m.registerWorker('w1', { cores: 4 });
    const first = m.registerApp('a').appId;
    m.send({ type: 'UnregisterApplication', appId: first });
    const second = m.registerApp('a').appId;
    assert.notEqual(second, first);
    assert.equal(m.state.addressToApp.get(appEnvId('a'))?.id, second, 'indexed by its driver connection');
    assert.equal(m.app(second).executors.size, 0, 'the first app\'s executor still holds the cores');
    m.ask({ type: 'ExecutorStateChanged', appId: first, execId: 0, state: 'KILLED' }, workerSpec('w1').envId);
    assert.equal(m.app(second).executors.size, 1);
    const gone = m.disconnect(appEnvId('a'));
    assert.deepEqual(m.state.completedApps.map((a) => a.id), [first, second], 'its disconnection ends it');
    assert.equal(ofKind(gone, 'Unpersist').length, 1);
  });
});

test('an app record persists defaultCores and reserved executor ids only when there are some', () => {
  const plain = aliveMaster();
  const record = ofKind(plain.registerApp('a').effects, 'Persist')[0]?.record;
  assert.ok(record?.kind === 'app');
  assert.equal('defaultCores' in record || 'executorIdsBelow' in record, false);
  const capped = aliveMaster({ defaultCores: 2 });
  const cappedRecord = ofKind(capped.registerApp('a').effects, 'Persist')[0]?.record;
  assert.ok(cappedRecord?.kind === 'app');
  assert.equal(cappedRecord.defaultCores, 2);
});

describe('ExecutorStateChanged', () => {
  test('the driver hears exactly the update: a message and an exit status only when the worker gave them', () => {
    const m = aliveMaster();
    m.registerWorker('w1', { cores: 2 });
    const { appId } = m.registerApp('a', { maxCores: 2 });
    const running = m.executorStateChanged(appId, 0, 'RUNNING');
    assert.deepEqual(sent(running.effects, 'ExecutorUpdated').map((s) => s.message), [{ type: 'ExecutorUpdated', id: 0, state: 'RUNNING' }]);
    const { effects } = m.ask({ type: 'ExecutorStateChanged', appId, execId: 0, state: 'EXITED', message: 'Command exited with code 0', exitStatus: 0 });
    assert.deepEqual(sent(effects, 'ExecutorUpdated'), [
      { to: appAddress('a'), message: { type: 'ExecutorUpdated', id: 0, state: 'EXITED', message: 'Command exited with code 0', exitStatus: 0 } },
    ]);
  });

  test('a report about an executor id the master never gave reserves that id', () => {
    const m = aliveMaster();
    const { appId } = m.registerApp('a');
    m.executorStateChanged(appId, 5, 'EXITED', 1);
    const launched = m.registerWorker('w1', { cores: 1 });
    assert.deepEqual(sent(launched, 'LaunchExecutor').map((l) => l.message.execId), [6]);
  });

  test('maxExecutorRetries = 0: the first failure fails the app', () => {
    const m = aliveMaster({ maxExecutorRetries: 0 });
    m.registerWorker('w1', { cores: 2 });
    const { appId } = m.registerApp('a');
    const { effects } = m.executorStateChanged(appId, 0, 'FAILED', 1);
    assert.equal(m.state.completedApps[0]?.id, appId);
    assert.equal(m.state.completedApps[0]?.state, 'FAILED');
    assert.equal(ofKind(effects, 'Log').find((l) => l.level === 'error')?.fields?.appId, appId);
  });
});

describe('KillExecutors', () => {
  test('ids are decimal integers of at most 10 digits with an optional sign; anything else is logged and skipped', () => {
    const m = aliveMaster();
    m.registerWorker('w1', { cores: 4 });
    const { appId } = m.registerApp('a', { maxCores: 1 });
    m.ask({ type: 'RequestExecutors', appId, requestedTotal: 0 });
    const raw = ['+0', '-3', '12', '1x', 'x1', '12345678901', '9999999999'];
    const { effects } = m.ask({ type: 'KillExecutors', appId, executorIds: raw });
    assert.deepEqual(logs(effects, 'error'), ['1x', 'x1', '12345678901'].map((r) => `Encountered executor with a non-integer ID: ${r}. Ignoring`));
    assert.deepEqual(ofKind(effects, 'Log').filter((l) => l.level === 'error').map((l) => l.fields), [{ appId }, { appId }, { appId }]);
    assert.deepEqual(logs(effects, 'info'), [`Application ${appId} requests to kill executors: 0, -3, 12, 9999999999`]);
    assert.deepEqual(logs(effects, 'warn'), [`Application ${appId} attempted to kill non-existent executors: -3, 12, 9999999999`]);
    assert.deepEqual(sent(effects, 'KillExecutor').map((k) => k.message.execId), [0]);
  });

  test('killing only known executors warns about nothing', () => {
    const m = aliveMaster();
    m.registerWorker('w1', { cores: 4 });
    const { appId } = m.registerApp('a', { maxCores: 1 });
    const { effects } = m.ask({ type: 'KillExecutors', appId, executorIds: ['0'] });
    assert.deepEqual(logs(effects, 'warn'), []);
  });
});
