// Custom resources at the Master (reference §4.1, §5.6): workers report addresses, drivers and executors get
// disjoint ones, they come back when their holder ends, and recovery takes back what workers report without
// letting a report make two holders share an address. Spark's MasterSuite "assign/recycle resources to
// executors/drivers" is the first two tests.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { WorkerToMaster } from '../../../src/protocol/messages.ts';
import { masterJson } from '../../../src/master/json.ts';
import { acquire, newResourceBook, release, resourcesFree, resourcesUsed } from '../../../src/master/resources.ts';
import { TestMaster, aliveMaster, logs, persistedApp, persistedDriver, persistedWorker, sent, workerSpec } from './harness.ts';

const gpu = (n: number): string[] => Array.from({ length: n }, (_, i) => String(i));
const fpga = (n: number): string[] => Array.from({ length: n }, (_, i) => `f${i}`);
const need = (gpus: number, fpgas = 0) => [
  ...(fpgas > 0 ? [{ name: 'fpga', amount: fpgas }] : []),
  ...(gpus > 0 ? [{ name: 'gpu', amount: gpus }] : []),
];

describe('custom resources', () => {
  test('workers without resources share one book, which nothing can write to', () => {
    const book = newResourceBook(undefined);
    assert.equal(newResourceBook({}), book);
    assert.notEqual(newResourceBook({ gpu: gpu(1) }), book, 'a worker with resources has a book of its own');
    assert.deepEqual(acquire(book, 'app-1/0', { gpu: ['0'] }), ['gpu 0'], 'an address the worker does not have is a conflict');
    release(book, 'app-1/0', { gpu: ['0'] });
    assert.equal(book.held.size, 0);
    assert.deepEqual(resourcesUsed(book), {});
    assert.equal(resourcesFree(book), undefined);
  });

  test('assign/recycle resources to drivers: a driver needing gpu×3 + fpga×3 takes a 3+3 worker whole, and gives it back', () => {
    const m = aliveMaster();
    m.registerWorker('w1', { resources: { gpu: gpu(3), fpga: fpga(3) } });
    const { driverId, effects } = m.submitDriver({ resourceReqs: need(3, 3) });
    const [launch] = sent(effects, 'LaunchDriver');
    assert.deepEqual(launch?.message.resources, { fpga: ['f0', 'f1', 'f2'], gpu: ['0', '1', '2'] });
    assert.deepEqual(resourcesFree(m.worker('w1').resources), { gpu: [], fpga: [] });
    m.send({ type: 'DriverStateChanged', driverId, state: 'FINISHED' }, workerSpec('w1').envId);
    assert.deepEqual(resourcesFree(m.worker('w1').resources), { gpu: gpu(3), fpga: fpga(3) });
  });

  test('a 6+6 worker holds a driver\'s 3+3 and an executor\'s 3+3 as disjoint sets', () => {
    const m = aliveMaster();
    m.registerWorker('w1', { resources: { gpu: gpu(6), fpga: fpga(6) } });
    const driver = m.submitDriver({ resourceReqs: need(3, 3) });
    const { effects } = m.registerApp('a', { resourceReqsPerExecutor: need(3, 3), coresPerExecutor: 1, maxCores: 1 });
    const fromDriver = sent(driver.effects, 'LaunchDriver')[0]?.message.resources;
    const fromExec = sent(effects, 'LaunchExecutor')[0]?.message.resources;
    assert.deepEqual(fromDriver, { fpga: ['f0', 'f1', 'f2'], gpu: ['0', '1', '2'] });
    assert.deepEqual(fromExec, { fpga: ['f3', 'f4', 'f5'], gpu: ['3', '4', '5'] });
  });

  test('executors: a worker short of addresses gets none; the addresses come back when the executor ends', () => {
    const m = aliveMaster();
    m.registerWorker('w1', { resources: { gpu: gpu(1) } });
    m.registerWorker('w2', { resources: { gpu: gpu(4) } });
    const { appId, effects } = m.registerApp('a', { resourceReqsPerExecutor: need(2), coresPerExecutor: 1, maxCores: 3 });
    const launches = sent(effects, 'LaunchExecutor').map((s) => [s.to, s.message.resources]);
    assert.deepEqual(launches, [
      [workerSpec('w2').address, { gpu: ['0', '1'] }],
      [workerSpec('w2').address, { gpu: ['2', '3'] }],
    ]);
    const app = m.app(appId);
    assert.equal(app.coresGranted, 2, 'the third core waits: no worker has 2 free gpus');
    assert.deepEqual([...app.executors.values()].map((e) => e.resources), [{ gpu: ['0', '1'] }, { gpu: ['2', '3'] }]);
    const relaunch = m.executorStateChanged(appId, 0, 'EXITED', 0).effects;
    // The freed addresses go straight to the next executor (schedule() runs after the change).
    assert.deepEqual(sent(relaunch, 'LaunchExecutor').map((s) => s.message.resources), [{ gpu: ['0', '1'] }]);
    const json = masterJson(m.state, m.now);
    const w2 = (json['workers'] as Array<Record<string, unknown>>).find((w) => w['id'] === 'w2');
    assert.deepEqual(w2?.['resourcesused'], { gpu: { name: 'gpu', addresses: ['0', '1', '2', '3'] } });
    assert.deepEqual(w2?.['resourcesfree'], { gpu: { name: 'gpu', addresses: [] } });
  });

  test('an app needing more gpus than any worker has stays WAITING, with Spark\'s warning', () => {
    const m = aliveMaster();
    m.registerWorker('w1', { resources: { gpu: gpu(2) } });
    const { appId, effects } = m.registerApp('a', { resourceReqsPerExecutor: need(3) });
    assert.deepEqual(sent(effects, 'LaunchExecutor'), []);
    assert.equal(m.app(appId).state, 'WAITING');
    assert.ok(logs(effects, 'warn').some((l) => l.includes('requires more resource than any of Workers could have')));
  });

  test('a killed executor keeps its addresses as an orphan until its worker reports it ended', () => {
    const m = aliveMaster();
    m.registerWorker('w1', { resources: { gpu: gpu(2) } });
    const { appId } = m.registerApp('a', { resourceReqsPerExecutor: need(2), coresPerExecutor: 1, maxCores: 1 });
    m.ask({ type: 'KillExecutors', appId, executorIds: ['0'] });
    assert.deepEqual(resourcesFree(m.worker('w1').resources), { gpu: [] }, 'held while the process may still run');
    // The harness sends it from the worker that ran the executor (no sender given), as a real worker would.
    m.executorStateChanged(appId, 0, 'KILLED');
    const w1 = m.worker('w1');
    assert.equal(w1.orphans.size, 0);
    // Free now, or held by a live executor that got them since, never by the ended one.
    const holders = [...(w1.resources.held.get('gpu')?.values() ?? [])];
    assert.ok(holders.every((h) => w1.executors.has(h)), `held by ${holders.join(', ')}`);
  });

  test('recovery: the worker record keeps its addresses; reported holders take theirs back, but never someone else\'s', () => {
    const m = new TestMaster();
    m.elect({
      apps: [persistedApp('app-1', 'a', { resourceReqsPerExecutor: need(1) })],
      drivers: [persistedDriver('driver-1', { resourceReqs: need(1) })],
      workers: [persistedWorker('w1', { resources: { gpu: gpu(3) } })],
    });
    m.send({ type: 'MasterChangeAcknowledged', appId: 'app-1' });
    const effects = m.send(
      {
        type: 'WorkerSchedulerStateResponse',
        id: 'w1',
        executors: [
          { appId: 'app-1', execId: 0, cores: 1, memoryMb: 512, state: 'RUNNING', resources: { gpu: ['0'] } },
          // Claims gpu 0 too, and a gpu the worker never had.
          { appId: 'app-1', execId: 1, cores: 1, memoryMb: 512, state: 'RUNNING', resources: { gpu: ['0', '9'] } },
        ],
        driverIds: ['driver-1'],
        driverResources: { 'driver-1': { gpu: ['1'] } },
      },
      workerSpec('w1').envId,
    );
    assert.equal(m.state.recoveryState, 'ALIVE');
    const app = m.app('app-1');
    assert.deepEqual(app.executors.get(0)?.resources, { gpu: ['0'] });
    assert.deepEqual(app.executors.get(1)?.resources, {});
    assert.deepEqual(m.driver('driver-1')?.resources, { gpu: ['1'] });
    assert.ok(logs(effects, 'warn').some((l) => l.includes('gpu 0, gpu 9')));
    // Recovery completed, so schedule() ran: the one gpu left went to a new executor of the app.
    assert.deepEqual(app.executors.get(2)?.resources, { gpu: ['2'] });
    assert.deepEqual(resourcesFree(m.worker('w1').resources), { gpu: [] });
  });

  test('RegisterWorker resources are checked at the edge: names, addresses, duplicates and sizes', () => {
    const base = workerSpec('w1').message;
    const check = (resources: unknown) => WorkerToMaster.check({ ...base, resources });
    assert.equal(check({ gpu: ['0', '1'] }).ok, true);
    for (const [bad, where] of [
      [{ 'g pu': ['0'] }, /resources/],
      [{ gpu: ['0', '0'] }, /resources\/gpu/],
      [{ gpu: ['0,1'] }, /resources\/gpu\/0/],
      [{ gpu: Array.from({ length: 1025 }, (_, i) => String(i)) }, /resources\/gpu/],
      [Object.fromEntries(Array.from({ length: 33 }, (_, i) => [`r${i}`, ['0']])), /resources/],
    ] as const) {
      const result = check(bad);
      assert.equal(result.ok, false, JSON.stringify(bad).slice(0, 80));
      if (!result.ok) assert.match(result.reason, where);
    }
  });
});
