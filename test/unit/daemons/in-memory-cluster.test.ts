// The real master and worker daemons, and a driver's real AppClient, in one process on the in-memory twins of their
// ports: MemoryNetwork for the Transport, MemoryProcessLauncher for the worker's processes, MemoryWorkerFiles for its
// work dir. Only the web UIs listen on real loopback sockets (their /json is what an operator reads). What runs here
// is the daemons' own code (their interpreters, SharedEffects, the kit's messaging), which the machine tests and the
// simulator do not reach.

import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { FlintConf } from '../../../src/conf/flint-conf.ts';
import { AppClient } from '../../../src/daemons/app-client.ts';
import { startMasterDaemon, type MasterDaemon } from '../../../src/daemons/master-daemon.ts';
import { startWorkerDaemon } from '../../../src/daemons/worker-daemon.ts';
import { MemoryProcessLauncher } from '../../../src/io/child-process/memory-process-launcher.ts';
import { MemoryWorkerFiles } from '../../../src/io/worker-files/memory-worker-files.ts';
import type { ApplicationDescription } from '../../../src/protocol/messages.ts';
import { MemoryNetwork } from '../../../src/rpc/memory-transport.ts';
import { memoryLogger } from '../../../src/util/logger.ts';
import { appClientRecorder } from '../../helpers/app-events.ts';
import { waitFor } from '../../helpers/process.ts';

const conf = () => new FlintConf([['flint.authenticate', 'false'], ['flint.worker.timeout', '10s']]);

interface MasterJson {
  aliveworkers: number;
  workers: Array<{ id: string; state: string; coresused: number }>;
  activeapps: Array<{ id: string; state: string; cores: number }>;
  completedapps: Array<{ id: string; state: string }>;
}

async function masterJson(master: MasterDaemon): Promise<MasterJson> {
  const res = await fetch(`http://127.0.0.1:${master.webUiPort}/json`);
  return (await res.json()) as MasterJson;
}

/** The project's waitFor (test/helpers/process.ts), with this file's bound and the condition named first. */
function until<T>(what: string, probe: () => T | undefined | false | Promise<T | undefined | false>, timeoutMs = 15_000): Promise<T> {
  return waitFor(probe, { timeoutMs, what });
}

const recorder = appClientRecorder;

const desc: ApplicationDescription = {
  name: 'in-memory',
  maxCores: 2,
  memoryMbPerExecutor: 512,
  command: { mainModule: 'flint:executor', arguments: ['{{EXECUTOR_ID}}'], environment: {}, nodeOptions: [] },
  appUiUrl: 'http://127.0.0.1:4040',
  user: 'test',
};

async function cluster() {
  const network = new MemoryNetwork();
  const master = await startMasterDaemon({ conf: conf(), logger: memoryLogger(), host: '10.9.0.1', port: 7077, webUiPort: 0, webUiHost: '127.0.0.1', transport: network.create });
  const launcher = new MemoryProcessLauncher();
  const files = new MemoryWorkerFiles('/var/flint/work');
  const worker = await startWorkerDaemon({
    conf: conf(),
    logger: memoryLogger(),
    base: { host: '10.9.0.2', port: 0, webUiPort: 0, cores: 4, memoryMb: 4096, workDir: '/var/flint/work', masterUrls: [master.masterUrl] },
    webUiHost: '127.0.0.1',
    transport: network.create,
    launcher,
    files: () => files,
  });
  return { network, master, worker, launcher, files };
}

const stops: Array<() => Promise<unknown>> = [];
after(async () => {
  for (const stop of stops.reverse()) await stop();
});

test('in one process: a worker registers, an app gets an executor the worker launches, and stopping the app kills it', async () => {
  const { network, master, worker, launcher, files } = await cluster();
  stops.push(() => master.shutdown('test over'), () => worker.shutdown('test over'));
  assert.equal(master.masterUrl, 'flint://10.9.0.1:7077', 'the master listens on the address it was given, in memory');
  await until('the worker to register', async () => (await masterJson(master)).aliveworkers === 1);

  const driver = network.open({ name: 'driver', clientMode: true, principal: 'app', conf: conf() });
  const { events, listener } = recorder();
  const client = new AppClient(driver, master.masterUrl, desc, listener, memoryLogger());
  client.start();
  const [, appId] = await until('registration', () => events.find((e) => e[0] === 'connected'));
  const [, executorId, workerId] = await until('an executor', () => events.find((e) => e[0] === 'executorAdded'));
  assert.equal(executorId, `${String(appId)}/0`);
  assert.equal(workerId, worker.workerId);

  const [process] = await until('the worker to launch it', () => (launcher.launched.length > 0 ? launcher.launched : undefined));
  assert.ok(process);
  assert.equal(process.spec.key, `executor:${String(appId)}/0`);
  assert.ok(process.spec.argv.some((a) => a.endsWith('src/entry/executor.ts') || a.endsWith('entry/executor.js')), 'flint:executor resolved');
  assert.ok(files.dirs.has(`/var/flint/work/${String(appId)}/0`), 'its directory was made in the (in-memory) work dir');
  await until('the master to count its cores', async () => (await masterJson(master)).workers[0]?.coresused === 2);

  await client.stop();
  await until('the executor to be killed', () => launcher.running().length === 0);
  assert.deepEqual(process.signals, ['SIGTERM']);
  const done = await until('the app to be FINISHED and its cores free', async () => {
    const json = await masterJson(master);
    return json.completedapps.some((a) => a.id === appId && a.state === 'FINISHED') && json.workers[0]?.coresused === 0 ? json : undefined;
  });
  assert.equal(done.activeapps.length, 0);
  await driver.shutdown();
});

test('in one process: a worker that goes away is removed, and its app hears of the lost executor', async () => {
  const { network, master, worker, launcher } = await cluster();
  stops.push(() => master.shutdown('test over'));
  await until('the worker to register', async () => (await masterJson(master)).aliveworkers === 1);
  const driver = network.open({ name: 'driver', clientMode: true, principal: 'app', conf: conf() });
  const { events, listener } = recorder();
  const client = new AppClient(driver, master.masterUrl, desc, listener, memoryLogger());
  client.start();
  await until('an executor', () => events.find((e) => e[0] === 'executorAdded'));
  await until('the worker to launch it', () => launcher.running().length === 1);

  assert.equal(await worker.shutdown('crash drill'), 0);
  assert.equal(launcher.running().length, 0, 'a worker that stops takes its executors with it');
  const removed = await until('the app to hear its executor was lost', () => events.find((e) => e[0] === 'executorRemoved' || e[0] === 'workerRemoved'));
  assert.ok(removed);
  await until('the master to drop the worker', async () => (await masterJson(master)).aliveworkers === 0);
  await client.stop();
  await driver.shutdown();
});
