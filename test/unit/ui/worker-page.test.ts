// The worker's start page (src/ui/worker-page.ts, Spark's `WorkerPage`): what it shows of a snapshot, its links,
// its empty states, and that nothing an application reports (its id, its name, an exit message) becomes markup.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { ExecutorSnapshot, WorkerSnapshot } from '../../../src/worker/worker-snapshot.ts';
import { UNSAFE_URL } from '../../../src/ui/html.ts';
import { driverLogHref, executorLogHref, workerPage, workerPageMain, workerStatus } from '../../../src/ui/worker-page.ts';

const HOSTILE = '<script>alert(1)</script>';

function executor(over: Partial<ExecutorSnapshot> = {}): ExecutorSnapshot {
  return {
    appId: 'app-20261202130000-0001',
    execId: 0,
    fullId: 'app-20261202130000-0001/0',
    state: 'RUNNING',
    cores: 2,
    memoryMb: 1024,
    appDesc: { name: 'pi', maxCores: 2, memoryMbPerExecutor: 1024, command: { mainModule: 'flint:executor', arguments: [], environment: {}, nodeOptions: [] }, appUiUrl: 'http://h:4040', user: 'ana' },
    processKey: 'executor:app-20261202130000-0001/0',
    workDir: '/w/app-20261202130000-0001/0',
    ...over,
  };
}

function snapshot(over: Partial<WorkerSnapshot> = {}): WorkerSnapshot {
  return {
    workerId: 'worker-20261202130000-127.0.0.1-40000',
    host: '127.0.0.1',
    port: 40000,
    workerAddress: 'flint://Worker@127.0.0.1:40000',
    workerWebUiUrl: 'http://127.0.0.1:8081',
    cores: 4,
    memoryMb: 8192,
    coresUsed: 2,
    memoryUsedMb: 1024,
    coresFree: 2,
    memoryFreeMb: 7168,
    resources: {},
    resourcesUsed: {},
    phase: 'running',
    registered: true,
    connected: true,
    decommissioned: false,
    activeMasterUrl: 'flint://127.0.0.1:7077',
    activeMasterAddress: 'flint://Master@127.0.0.1:7077',
    activeMasterWebUiUrl: 'http://127.0.0.1:8080',
    registrationAttempts: 1,
    registrationIntervals: { initialMs: 1, prolongedMs: 1 } as unknown as WorkerSnapshot['registrationIntervals'],
    executors: [],
    finishedExecutors: [],
    drivers: [],
    finishedDrivers: [],
    armedTimers: [],
    ...over,
  };
}

const none = new URLSearchParams();

describe('the worker page', () => {
  test('shows the id, the master (linked to its web UI), cores and memory used of the total', () => {
    const page = workerPage(snapshot(), none).toString();
    assert.match(page, /worker-20261202130000-127\.0\.0\.1-40000/);
    assert.ok(page.includes(`<a href="/goto/?to=${encodeURIComponent('http://127.0.0.1:8080')}">flint://127.0.0.1:7077</a>`), 'the master through /goto/');
    assert.match(page, /4 \(2 used\)/);
    assert.match(page, /8\.0 GiB \(1\.0 GiB used\)/);
    assert.match(page, /data-live="\/events\/worker"/);
    assert.match(page, /REGISTERED/);
  });

  test('every table has its empty state, and no master is shown while registering', () => {
    const main = workerPageMain(snapshot({ activeMasterUrl: '', activeMasterWebUiUrl: '', registered: false, connected: false }), none).toString();
    assert.match(main, /No executors are running on this worker\./);
    assert.match(main, /No drivers are running on this worker\./);
    assert.match(main, /No executor has finished here yet\./);
    assert.match(main, /No driver has finished here yet\./);
    assert.match(main, /none yet \(registering\)/);
    assert.equal(workerStatus(snapshot({ registered: false })).text, 'REGISTERING');
  });

  test('executors and drivers link to their stdout and stderr log pages', () => {
    const s = snapshot({
      executors: [executor()],
      finishedExecutors: [executor({ execId: 1, state: 'EXITED', exitStatus: 3, message: 'Command exited with code 3' })],
      drivers: [{ driverId: 'driver-20261202130000-0002', state: 'RUNNING', phase: 'running', cores: 1, memoryMb: 512, supervise: false, mainModule: 'app.ts', attempts: 1 }],
    });
    const main = workerPageMain(s, none).toString();
    assert.ok(main.includes(`href="${executorLogHref('app-20261202130000-0001', 0, 'stdout').replaceAll('&', '&amp;')}"`), main);
    assert.ok(main.includes('href="/logPage/?appId=app-20261202130000-0001&amp;executorId=1&amp;logType=stderr"'));
    assert.ok(main.includes(`href="${driverLogHref('driver-20261202130000-0002', 'stdout').replaceAll('&', '&amp;')}"`));
    assert.match(main, /Command exited with code 3/);
    assert.match(main, /app\.ts/);
  });

  test('an executor bound to CPUs shows them under its cores; one not bound, its cores alone', () => {
    const main = workerPageMain(snapshot({ executors: [executor({ cpus: [0, 1] }), executor({ execId: 1, cores: 1, cpus: [3] }), executor({ execId: 2, cores: 3 })] }), none).toString();
    assert.match(main, />2<br><small>CPUs 0-1<\/small></);
    assert.match(main, />1<br><small>CPU 3<\/small></);
    assert.match(main, />3<\/td>/);
  });

  test('an app id, app name and exit message holding a script come out as text', () => {
    const s = snapshot({
      finishedExecutors: [executor({ appId: HOSTILE, state: 'FAILED', message: HOSTILE, appDesc: { ...executor().appDesc, name: HOSTILE, user: HOSTILE } })],
    });
    const page = workerPage(s, none).toString();
    assert.ok(!page.includes('<script>alert'), 'no script element from state');
    assert.ok(page.includes('&lt;script&gt;alert(1)&lt;/script&gt;'));
    assert.ok(page.includes('appId=%3Cscript%3Ealert(1)%3C%2Fscript%3E'), 'the id is encoded in the log link');
  });

  test("a master's web UI URL that is not http(s) links nowhere", () => {
    const page = workerPage(snapshot({ activeMasterWebUiUrl: 'javascript:alert(1)' }), none).toString();
    assert.ok(!page.includes('href="javascript:'), page);
    assert.ok(page.includes(UNSAFE_URL));
  });
});
