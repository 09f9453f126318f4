// What the master tells its operator, step by step through a worker's and an application's life: Spark's log
// lines (operators grep for them), each with the ids the daemon's pino line carries as fields (workerId, appId,
// driverId), so that one worker's or one app's story can be filtered out of the log. And the behaviours the
// same steps pin down: a duplicate registration of a live worker, the driver placement naming the right
// driver, and the "requires more resource" warning only for an app with nothing yet. Found by mutation testing
// (docs/testing.md).
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { MasterEffect } from '../../../src/master/index.ts';
import { aliveMaster, logs, sent, workerSpec } from './harness.ts';

const logged = (effects: readonly MasterEffect[]) =>
  effects.flatMap((e) => (e.kind === 'Log' ? [[e.level, e.msg, e.fields] as const] : []));

describe('a worker\'s life in the log', () => {
  test('registration, a duplicate, a refusal on a taken address, strangers', () => {
    const m = aliveMaster();
    const registering = ['info', 'Registering worker 10.0.0.1:7001 with 10 cores, 4096 MB RAM', { workerId: 'w1' }] as const;
    assert.deepEqual(logged(m.send(workerSpec('w1').message)), [registering]);
    assert.deepEqual(logged(m.send(workerSpec('w1').message)), [registering], 'a duplicate id: acknowledged, nothing else said');
    const taken = m.send(workerSpec('w2', { port: 7001 }).message);
    assert.deepEqual(logged(taken), [
      ['info', 'Registering worker 10.0.0.1:7001 with 10 cores, 4096 MB RAM', { workerId: 'w2' }],
      ['info', 'Attempted to re-register worker at same address: flint://10.0.0.1:7001', { workerId: 'w2' }],
      ['warn', 'Worker registration failed. Attempted to re-register worker at same address: flint://10.0.0.1:7001', { workerId: 'w2' }],
    ]);
    assert.deepEqual(logged(m.heartbeat('w9')), [
      ['warn', 'Got heartbeat from unregistered worker w9. This worker was never registered, so ignoring the heartbeat.', { workerId: 'w9' }],
    ]);
    assert.deepEqual(logged(m.send({ type: 'WorkerLatestState', id: 'w9', executors: [], driverIds: [] })), [
      ['warn', 'Worker state from unknown worker: w9', { workerId: 'w9' }],
    ]);
  });

  test('timeout, removal with a driver that is not supervised, a heartbeat after, decommissioning twice', () => {
    const m = aliveMaster();
    m.registerWorker('w1');
    m.registerWorker('w2');
    const { driverId } = m.submitDriver({ supervise: false });
    const placedOn = m.driver(driverId)?.worker?.id;
    assert.ok(placedOn);
    const other = placedOn === 'w1' ? 'w2' : 'w1';
    m.advance(30_000).heartbeat(other);
    m.advance(30_001);
    const swept = m.timer('CheckForWorkerTimeOut');
    assert.deepEqual(logged(swept).slice(0, 3), [
      ['warn', `Removing ${placedOn} because we got no heartbeat in 60000 ms`, { workerId: placedOn }],
      ['info', `Removing worker ${placedOn} on ${workerSpec(placedOn).host}:${workerSpec(placedOn).port}`, { workerId: placedOn, reason: 'Not receiving heartbeat for 60 seconds' }],
      ['info', `Not re-launching ${driverId} because it was not supervised`, { driverId }],
    ]);
    assert.deepEqual(logged(m.heartbeat(placedOn)), [
      ['warn', `Got heartbeat from unregistered worker ${placedOn}. Asking it to re-register.`, { workerId: placedOn }],
    ]);
    const decommission = { type: 'WorkerDecommissioning' as const, id: other, workerAddress: workerSpec(other).address };
    assert.deepEqual(logged(m.send(decommission)), [['info', `Decommissioning worker ${other} on 10.0.0.1:${workerSpec(other).port}`, { workerId: other }]]);
    assert.deepEqual(logged(m.send(decommission)), [
      ['warn', `Skipping decommissioning worker ${other} as worker is already decommissioned`, { workerId: other }],
    ]);
  });
});

describe('placement in the log', () => {
  test('launching a driver and an executor names both ids; a driver that fits nowhere is warned about by id', () => {
    const m = aliveMaster();
    m.registerWorker('w1', { cores: 4 });
    const { driverId, effects } = m.submitDriver({ cores: 1 });
    assert.deepEqual(logged(effects).at(-1), ['info', `Launching driver ${driverId} on worker w1`, { driverId, workerId: 'w1' }]);
    const { appId, effects: registered } = m.registerApp('a', { maxCores: 1 });
    assert.deepEqual(logged(registered), [
      ['info', 'Registering app test', undefined],
      ['info', `Registered app test with ID ${appId}`, { appId }],
      ['info', `Launching executor ${appId}/0 on worker w1`, { appId, execId: 0, workerId: 'w1' }],
    ]);
    // Spark warns only when the last worker it tried was idle: w1 runs a driver and an executor.
    assert.deepEqual(logs(m.submitDriver({ cores: 64 }).effects, 'warn'), []);
    const idle = aliveMaster();
    idle.registerWorker('w1', { cores: 4 });
    const huge = idle.submitDriver({ cores: 64 });
    assert.deepEqual(
      logged(huge.effects).filter(([level]) => level === 'warn'),
      [['warn', `Driver ${huge.driverId} requires more resource than any of Workers could have.`, { driverId: huge.driverId }]],
    );
  });

  test('the driver the plan names is the one launched, not the first waiting', () => {
    const m = aliveMaster({ spreadOutDrivers: false });
    const big = m.submitDriver({ cores: 64 }).driverId;
    const small = m.submitDriver({ cores: 1 }).driverId;
    const effects = m.registerWorker('w1', { cores: 4 });
    assert.deepEqual(sent(effects, 'LaunchDriver').map((l) => l.message.driverId), [small]);
    assert.equal(m.driver(big)?.state, 'SUBMITTED');
  });

  test('"requires more resource" is said of a lone waiting app with no executor, by id; not of one that has some', () => {
    const m = aliveMaster();
    const { appId, effects } = m.registerApp('a', { memoryMbPerExecutor: 1 << 20 });
    assert.deepEqual(logged(effects).at(-1), ['warn', `App ${appId} requires more resource than any of Workers could have.`, { appId }]);
    const other = aliveMaster();
    other.registerWorker('w1', { cores: 2 });
    const partial = other.registerApp('b', { maxCores: 8 }).appId;
    assert.equal(other.app(partial).executors.size, 1, 'it got the worker it could');
    const asked = other.ask({ type: 'RequestExecutors', appId: partial, requestedTotal: 4 });
    assert.deepEqual(logs(asked.effects, 'warn'), []);
  });

  test('a worker registering again under its id while ALIVE keeps being offered work at once', () => {
    const m = aliveMaster();
    m.registerWorker('w1', { cores: 4 });
    m.send(workerSpec('w1').message);
    const { appId } = m.registerApp('a');
    assert.equal(m.app(appId).executors.size, 1, 'placed without waiting for another WorkerLatestState');
  });
});
