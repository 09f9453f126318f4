// The app client as a machine: Spark's StandaloneAppClient (`registerWithMaster`, `tryRegisterAllMasters`,
// `markDead`, `ClientEndpoint.receive` for RegisteredApplication / ApplicationRemoved / ExecutorAdded /
// ExecutorUpdated / WorkerRemoved / MasterChanged, `requestTotalExecutors`, `killExecutors`, `stop`), plus the
// dial loop Flint runs while the master is unreachable (docs/differences-from-spark.md).
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { appClientConfig } from '../../../src/app/index.ts';
import {
  APP_ID,
  description,
  DRIVER_ADDRESS,
  logs,
  MASTER_A,
  MASTER_A_ADDRESS,
  MASTER_B,
  MASTER_B_ADDRESS,
  ofKind,
  quiet,
  shape,
  TestAppClient,
} from './harness.ts';

const masterChanged = (masterAddress: string) => ({ type: 'MasterChanged', masterAddress, masterWebUiUrl: 'http://m:8080' }) as const;
const REGISTER_BOTH = [`Dial:${MASTER_A}:RegisterApplication`, `Dial:${MASTER_B}:RegisterApplication`];

describe('registration', () => {
  test('Start registers with every master in parallel and arms the round timeout', () => {
    const c = new TestAppClient({ registrationTimeoutMs: 5_000 });
    const effects = c.start();
    assert.deepEqual(shape(effects), [...REGISTER_BOTH, 'StartTimer:RegistrationRetry']);
    assert.deepEqual(ofKind(effects, 'Dial')[0]?.message, { type: 'RegisterApplication', appDescription: description, driverAddress: DRIVER_ADDRESS });
    assert.equal(ofKind(effects, 'StartTimer')[0]?.delayMs, 5_000);
    assert.deepEqual(logs(effects), [
      ['info', `Connecting to master ${MASTER_A}...`],
      ['info', `Connecting to master ${MASTER_B}...`],
    ]);
    assert.deepEqual(c.start(), [], 'a second Start does nothing');
  });

  test('the master that answers is followed: Connected with the sealed key, the round timer cancelled', () => {
    const c = new TestAppClient();
    c.start();
    const effects = c.fromMaster({ type: 'RegisteredApplication', appId: APP_ID, masterAddress: MASTER_B_ADDRESS, executorKey: 'sealed' });
    assert.deepEqual(quiet(effects), [
      { kind: 'CancelTimer', key: 'RegistrationRetry' },
      { kind: 'Connected', appId: APP_ID, masterAddress: MASTER_B_ADDRESS, sealedExecutorKey: 'sealed' },
    ]);
    assert.deepEqual(logs(effects), [['info', `Connected to the master; the application id is ${APP_ID}`]]);
    assert.equal(ofKind(effects, 'Log')[0]?.fields?.['master'], 'flint://mb:7077');
    assert.equal(c.machine.appId, APP_ID);
    assert.equal(c.machine.snapshot().master, MASTER_B_ADDRESS);
    assert.deepEqual(c.machine.armedTimers(), []);
  });

  test('without authentication Connected carries no key', () => {
    const c = new TestAppClient();
    const connected = ofKind(c.registered(), 'Connected')[0];
    assert.deepEqual(connected, { kind: 'Connected', appId: APP_ID, masterAddress: MASTER_A_ADDRESS });
  });

  test('each unanswered round starts the next; after registrationRetries rounds the app is dead', () => {
    const c = new TestAppClient({ registrationRetries: 3, registrationTimeoutMs: 100 });
    c.start();
    assert.deepEqual(shape(c.fire('RegistrationRetry')), [...REGISTER_BOTH, 'StartTimer:RegistrationRetry']);
    assert.equal(c.machine.snapshot().attempt, 2);
    const third = c.fire('RegistrationRetry');
    assert.deepEqual(ofKind(third, 'Log').map((l) => l.fields?.['attempt']), [3, 3]);
    const dead = c.fire('RegistrationRetry');
    assert.deepEqual(quiet(dead), [{ kind: 'Dead', reason: 'All masters are unresponsive! Giving up.' }]);
    assert.deepEqual(logs(dead), [['error', 'Application has been killed. Reason: All masters are unresponsive! Giving up.']]);
    assert.deepEqual(c.machine.armedTimers(), []);
    assert.equal(c.machine.snapshot().dead, true);
  });

  test('one retry: dead after the first round', () => {
    const c = new TestAppClient({ registrationRetries: 1 });
    c.start();
    assert.deepEqual(shape(c.fire('RegistrationRetry')), ['Dead']);
  });

  test('a dead app ignores a late RegisteredApplication and never dies twice', () => {
    const c = new TestAppClient({ registrationRetries: 1 });
    c.start();
    c.fire('RegistrationRetry');
    assert.deepEqual(c.fromMaster({ type: 'RegisteredApplication', appId: APP_ID, masterAddress: MASTER_A_ADDRESS }), []);
    assert.equal(c.machine.appId, undefined);
    assert.deepEqual(c.fromMaster({ type: 'ApplicationRemoved', message: 'KILLED' }), []);
  });

  test('a failed dial is logged while registering; one of the dial loop is not', () => {
    const c = new TestAppClient();
    c.start();
    const failed = c.handle({ kind: 'DialFailed', envUrl: MASTER_B, messageType: 'RegisterApplication', error: 'ECONNREFUSED' });
    assert.deepEqual(logs(failed), [['warn', `Failed to connect to master ${MASTER_B}`]]);
    assert.deepEqual(ofKind(failed, 'Log')[0]?.fields, { master: MASTER_B, err: 'ECONNREFUSED' });
    assert.deepEqual(c.handle({ kind: 'DialFailed', envUrl: MASTER_B, messageType: 'MasterChangeAcknowledged', error: 'ECONNREFUSED' }), []);
  });

  test('a refusal no retry mends (a wrong secret, another protocol version, an HTTP server) from every master ends the registration at once', () => {
    const c = new TestAppClient({ registrationRetries: 3 });
    c.start();
    const refuse = (envUrl: string, code: string, error: string) => quiet(c.handle({ kind: 'DialFailed', envUrl, messageType: 'RegisterApplication', error, code }));
    // An unreachable master may come back: it is retried, as is any error without a code or of another code.
    assert.deepEqual(refuse(MASTER_A, 'FLINT_RPC_CONNECTION', 'connect ECONNREFUSED'), []);
    assert.deepEqual(quiet(c.handle({ kind: 'DialFailed', envUrl: MASTER_A, messageType: 'RegisterApplication', error: 'ECONNREFUSED' })), []);
    // One master refusing for good is not enough while the other may answer.
    assert.deepEqual(refuse(MASTER_A, 'FLINT_RPC_AUTH_FAILED', 'authentication failed'), []);
    assert.equal(c.machine.snapshot().dead, false);
    const dead = refuse(MASTER_B, 'FLINT_RPC_PROTOCOL_VERSION', 'speaks wire protocol 2');
    assert.deepEqual(shape(dead), ['CancelTimer:RegistrationRetry', 'Dead']);
    assert.deepEqual(ofKind(dead, 'Dead'), [
      {
        kind: 'Dead',
        reason:
          'Cannot register with any master, and retrying will not help: ' +
          `${MASTER_A}: authentication failed. Fix: give the application the secret the cluster uses (flint.authenticate.secret.file, or its application secret in flint.authenticate.appSecret.file: docs/security.md); ` +
          `${MASTER_B}: speaks wire protocol 2. Fix: run the application with the Flint version the master runs`,
      },
    ]);
    assert.deepEqual(c.machine.armedTimers(), [], 'no further round');
    assert.deepEqual(refuse(MASTER_B, 'FLINT_RPC_NOT_FLINT', 'answered in HTTP'), [], 'dead once');
  });

  test('once registered, a refusal from another master changes nothing', () => {
    const c = new TestAppClient();
    c.registered();
    const effects = c.handle({ kind: 'DialFailed', envUrl: MASTER_B, messageType: 'RegisterApplication', error: 'answered in HTTP', code: 'FLINT_RPC_NOT_FLINT' });
    assert.deepEqual(quiet(effects), []);
    assert.equal(c.machine.snapshot().dead, false);
  });
});

describe('stale timers', () => {
  test('a round timeout that was replaced or cancelled is ignored', () => {
    const c = new TestAppClient();
    c.start();
    const first = c.generation('RegistrationRetry');
    c.fire('RegistrationRetry'); // round 2, armed again
    assert.notEqual(c.generation('RegistrationRetry'), first);
    assert.deepEqual(c.handle({ kind: 'TimerFired', key: 'RegistrationRetry', generation: first ?? 0 }), [], 'the first arming is stale');
    assert.equal(c.machine.snapshot().attempt, 2);
    const second = c.generation('RegistrationRetry');
    c.fromMaster({ type: 'RegisteredApplication', appId: APP_ID, masterAddress: MASTER_A_ADDRESS });
    assert.deepEqual(c.handle({ kind: 'TimerFired', key: 'RegistrationRetry', generation: second ?? 0 }), [], 'cancelled by registration');
  });

  test('a dial-loop firing after MasterChanged ended the disconnection is ignored', () => {
    const c = new TestAppClient();
    c.registered();
    c.handle({ kind: 'Disconnected', envId: 'flint://ma:7077' });
    const generation = c.generation('Reconnect') ?? 0;
    c.fromMaster(masterChanged(MASTER_B_ADDRESS));
    assert.deepEqual(c.handle({ kind: 'TimerFired', key: 'Reconnect', generation }), []);
  });
});

describe('events relayed to the driver', () => {
  test('ExecutorAdded, with the full executor id', () => {
    const c = new TestAppClient();
    c.registered();
    const effects = c.fromMaster({ type: 'ExecutorAdded', id: 3, workerId: 'worker-1', hostPort: 'h:1', cores: 2, memoryMb: 512 });
    assert.deepEqual(quiet(effects), [{ kind: 'ExecutorAdded', fullId: `${APP_ID}/3`, workerId: 'worker-1', hostPort: 'h:1', cores: 2, memoryMb: 512 }]);
    assert.deepEqual(logs(effects), [['info', `Executor added: ${APP_ID}/3 on h:1 with 2 cores`]]);
  });

  test('ExecutorUpdated: only the finished states remove the executor', () => {
    const c = new TestAppClient();
    c.registered();
    const running = c.fromMaster({ type: 'ExecutorUpdated', id: 3, state: 'RUNNING' });
    assert.deepEqual(quiet(running), []);
    assert.deepEqual(logs(running), [['info', `Executor updated: ${APP_ID}/3 is now RUNNING`]]);
    assert.deepEqual(quiet(c.fromMaster({ type: 'ExecutorUpdated', id: 3, state: 'EXITED', message: 'Command exited with code 1', exitStatus: 1 })), [
      { kind: 'ExecutorRemoved', fullId: `${APP_ID}/3`, message: 'Command exited with code 1', exitStatus: 1 },
    ]);
    assert.deepEqual(quiet(c.fromMaster({ type: 'ExecutorUpdated', id: 4, state: 'LOST', workerHost: 'wh' })), [
      { kind: 'ExecutorRemoved', fullId: `${APP_ID}/4`, message: '', workerHost: 'wh' },
    ]);
    for (const state of ['KILLED', 'FAILED'] as const) {
      assert.deepEqual(shape(c.fromMaster({ type: 'ExecutorUpdated', id: 5, state })), ['ExecutorRemoved'], state);
    }
  });

  test('ExecutorUpdated DECOMMISSIONED: the executor is decommissioned, not removed (Spark\'s executorDecommissioned)', () => {
    const c = new TestAppClient();
    c.registered();
    assert.deepEqual(quiet(c.fromMaster({ type: 'ExecutorUpdated', id: 3, state: 'DECOMMISSIONED', message: 'worker decommissioned', workerHost: 'wh' })), [
      { kind: 'ExecutorDecommissioned', fullId: `${APP_ID}/3`, message: 'worker decommissioned', workerHost: 'wh' },
    ]);
  });

  test('WorkerRemoved', () => {
    const c = new TestAppClient();
    c.registered();
    assert.deepEqual(c.fromMaster({ type: 'WorkerRemoved', id: 'worker-1', host: 'wh', message: 'Not receiving heartbeat' }), [
      { kind: 'WorkerRemoved', workerId: 'worker-1', host: 'wh', message: 'Not receiving heartbeat' },
    ]);
  });

  test('ApplicationRemoved: the app is dead, once, and its timers stop', () => {
    const c = new TestAppClient();
    c.registered();
    c.handle({ kind: 'Disconnected', envId: 'flint://ma:7077' });
    const effects = c.fromMaster({ type: 'ApplicationRemoved', message: 'KILLED' });
    assert.deepEqual(quiet(effects), [
      { kind: 'CancelTimer', key: 'Reconnect' },
      { kind: 'Dead', reason: 'Master removed our application: KILLED' },
    ]);
    assert.deepEqual(c.fromMaster({ type: 'ApplicationRemoved', message: 'KILLED' }).length, 0);
  });
});

describe('master changes and disconnections', () => {
  test('MasterChanged to a new master: follow it and acknowledge; the same master again: nothing', () => {
    const c = new TestAppClient();
    c.registered();
    const changed = c.fromMaster(masterChanged(MASTER_B_ADDRESS));
    assert.deepEqual(quiet(changed), [{ kind: 'Send', to: MASTER_B_ADDRESS, message: { type: 'MasterChangeAcknowledged', appId: APP_ID } }]);
    assert.deepEqual(logs(changed), [['info', `Master has changed, new master is at ${MASTER_B_ADDRESS}`]]);
    assert.equal(c.machine.snapshot().master, MASTER_B_ADDRESS);
    assert.deepEqual(c.fromMaster(masterChanged(MASTER_B_ADDRESS)), [], 'the echo of our own acknowledgement');
  });

  test('MasterChanged before registration is followed but not acknowledged (there is no app id)', () => {
    const c = new TestAppClient();
    c.start();
    assert.deepEqual(shape(c.fromMaster(masterChanged(MASTER_B_ADDRESS))), []);
    assert.equal(c.machine.snapshot().master, MASTER_B_ADDRESS);
  });

  test('losing the master: Disconnected once, then every master is dialled each interval until MasterChanged', () => {
    const c = new TestAppClient({ reconnectIntervalMs: 1_000 });
    c.registered();
    assert.deepEqual(c.handle({ kind: 'Disconnected', envId: 'flint://other:1' }), [], 'another env');
    const lost = c.handle({ kind: 'Disconnected', envId: 'flint://ma:7077' });
    assert.deepEqual(shape(lost), ['Disconnected', 'StartTimer:Reconnect']);
    assert.equal(ofKind(lost, 'StartTimer')[0]?.delayMs, 1_000);
    assert.deepEqual(logs(lost), [['warn', 'Connection to master lost; waiting for a leader to reach us']]);
    assert.deepEqual(c.handle({ kind: 'Disconnected', envId: 'flint://ma:7077' }), [], 'once');
    const dial = c.fire('Reconnect');
    assert.deepEqual(shape(dial), [`Dial:${MASTER_A}:MasterChangeAcknowledged`, `Dial:${MASTER_B}:MasterChangeAcknowledged`, 'StartTimer:Reconnect']);
    assert.deepEqual(ofKind(dial, 'Dial')[0]?.message, { type: 'MasterChangeAcknowledged', appId: APP_ID });
    // The restarted leader on the same address answers with MasterChanged: the end of a disconnection is a change.
    const back = c.fromMaster(masterChanged(MASTER_A_ADDRESS));
    assert.deepEqual(shape(back), ['CancelTimer:Reconnect', `Send:${MASTER_A_ADDRESS}:MasterChangeAcknowledged`]);
    assert.equal(c.machine.snapshot().disconnected, false);
    assert.deepEqual(c.machine.armedTimers(), []);
  });

  test('a disconnection before any master answered is no loss', () => {
    const c = new TestAppClient();
    c.start();
    assert.deepEqual(c.handle({ kind: 'Disconnected', envId: 'flint://ma:7077' }), []);
  });
});

describe("the driver's asks", () => {
  test('before registration they are answered false at once', () => {
    const c = new TestAppClient();
    c.start();
    const token = c.token();
    assert.deepEqual(c.handle({ kind: 'RequestExecutors', token, requestedTotal: 4 }), [{ kind: 'Reply', token, message: false }]);
  });

  test('RequestExecutors and KillExecutors go to the leading master; its BooleanResponse is the answer', () => {
    const c = new TestAppClient();
    c.registered();
    const request = c.token();
    assert.deepEqual(c.handle({ kind: 'RequestExecutors', token: request, requestedTotal: 4 }), [
      { kind: 'Ask', to: MASTER_A_ADDRESS, context: request, message: { type: 'RequestExecutors', appId: APP_ID, requestedTotal: 4 } },
    ]);
    const kill = c.token();
    assert.deepEqual(c.handle({ kind: 'KillExecutors', token: kill, executorIds: ['1', '2'] }), [
      { kind: 'Ask', to: MASTER_A_ADDRESS, context: kill, message: { type: 'KillExecutors', appId: APP_ID, executorIds: ['1', '2'] } },
    ]);
    assert.deepEqual(c.handle({ kind: 'Answered', context: kill, reply: { type: 'BooleanResponse', value: false } }), [{ kind: 'Reply', token: kill, message: false }]);
    assert.deepEqual(c.handle({ kind: 'Answered', context: request, reply: { type: 'BooleanResponse', value: true } }), [{ kind: 'Reply', token: request, message: true }]);
    assert.deepEqual(c.handle({ kind: 'Answered', context: request, reply: { type: 'BooleanResponse', value: true } }), [], 'answered once');
  });

  test('a failed ask to the master fails the driver\'s ask', () => {
    const c = new TestAppClient();
    c.registered();
    const token = c.token();
    c.handle({ kind: 'RequestExecutors', token, requestedTotal: 1 });
    assert.deepEqual(c.handle({ kind: 'AskFailed', context: token, error: 'ask timed out', timedOut: true }), [{ kind: 'ReplyFailure', token, error: 'ask timed out' }]);
  });
});

describe('stop', () => {
  test('a registered app unregisters; the Send is the last effect, and the timers go first', () => {
    const c = new TestAppClient();
    c.registered();
    c.handle({ kind: 'Disconnected', envId: 'flint://ma:7077' });
    assert.deepEqual(shape(c.handle({ kind: 'Stop' })), ['CancelTimer:Reconnect', `Send:${MASTER_A_ADDRESS}:UnregisterApplication`]);
    assert.equal(c.machine.snapshot().stopped, true);
    assert.deepEqual(c.handle({ kind: 'Stop' }), [], 'final');
  });

  test('an app that never registered sends nothing and is not declared dead', () => {
    const c = new TestAppClient();
    c.start();
    const generation = c.generation('RegistrationRetry') ?? 0;
    assert.deepEqual(shape(c.handle({ kind: 'Stop' })), ['CancelTimer:RegistrationRetry']);
    assert.deepEqual(c.handle({ kind: 'TimerFired', key: 'RegistrationRetry', generation }), []);
  });

  test('after Stop master messages and disconnections are ignored; asks are still answered', () => {
    const c = new TestAppClient();
    c.registered();
    c.handle({ kind: 'Stop' });
    assert.deepEqual(c.fromMaster({ type: 'ExecutorAdded', id: 1, workerId: 'w', hostPort: 'h:1', cores: 1, memoryMb: 1 }), []);
    assert.deepEqual(c.fromMaster({ type: 'ApplicationRemoved', message: 'FINISHED' }), []);
    assert.deepEqual(c.handle({ kind: 'Disconnected', envId: 'flint://ma:7077' }), []);
    const token = c.token();
    assert.deepEqual(shape(c.handle({ kind: 'KillExecutors', token, executorIds: ['1'] })), ['Ask']);
  });
});

describe('config', () => {
  test('defaults are Spark\'s (20 s, 3 rounds) and nonsense is refused', () => {
    const base = { masters: [MASTER_A], driverAddress: DRIVER_ADDRESS, description };
    const config = appClientConfig(base);
    assert.deepEqual([config.registrationTimeoutMs, config.registrationRetries, config.reconnectIntervalMs], [20_000, 3, 1_000]);
    assert.throws(() => appClientConfig({ ...base, masters: [] }), RangeError);
    assert.throws(() => appClientConfig({ ...base, registrationRetries: 0 }), RangeError);
    assert.throws(() => appClientConfig({ ...base, registrationTimeoutMs: Number.NaN }), RangeError);
  });
});
