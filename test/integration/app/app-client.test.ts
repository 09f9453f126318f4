// AppClient against a real master and worker (in this process, over real loopback TCP), with the test
// executor program standing in for Flint's executor.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { AppClient } from '../../../src/daemons/app-client.ts';
import { FlintConf } from '../../../src/conf/flint-conf.ts';
import { startMasterDaemon, type MasterDaemon } from '../../../src/daemons/master-daemon.ts';
import { startWorkerDaemon, type WorkerDaemon } from '../../../src/daemons/worker-daemon.ts';
import type { ApplicationDescription } from '../../../src/protocol/messages.ts';
import { RpcEnv } from '../../../src/rpc/index.ts';
import { memoryLogger } from '../../../src/util/logger.ts';
import { REPO_ROOT, waitFor } from '../../helpers/process.ts';
import { appClientRecorder } from '../../helpers/app-events.ts';
import { tempDir } from '../../helpers/temp-dir.ts';

const conf = () => new FlintConf([['flint.authenticate', 'false'], ['flint.worker.timeout', '10s']]);
let master: MasterDaemon;
let worker: WorkerDaemon;

before(async () => {
  master = await startMasterDaemon({ conf: conf(), logger: memoryLogger(), host: '127.0.0.1', port: 0, webUiPort: 0 });
  worker = await startWorkerDaemon({
    conf: conf(),
    logger: memoryLogger(),
    base: { host: '127.0.0.1', port: 0, webUiPort: 0, cores: 2, memoryMb: 2048, workDir: tempDir('flint-ac-'), masterUrls: [master.masterUrl] },
  });
  await waitFor(async () => ((await masterJson()).aliveworkers === 1 ? true : undefined), { timeoutMs: 10_000, what: 'the worker to register' });
});
after(async () => {
  await worker?.shutdown('test over');
  await master?.shutdown('test over');
});

async function masterJson(): Promise<Record<string, unknown> & { aliveworkers: number }> {
  const res = await fetch(`http://127.0.0.1:${master.webUiPort}/json`);
  return (await res.json()) as Record<string, unknown> & { aliveworkers: number };
}

const recorder = appClientRecorder;

const desc: ApplicationDescription = {
  name: 'app-client-test',
  maxCores: 2,
  memoryMbPerExecutor: 512,
  command: { mainModule: join(REPO_ROOT, 'test/fixtures/test-executor.ts'), arguments: ['{{EXECUTOR_ID}}'], environment: {}, nodeOptions: [] },
  appUiUrl: 'http://127.0.0.1:4040',
  user: 'test',
};

test('registers, gets an executor, and stop() leaves the app FINISHED with its executor gone', async () => {
  const env = await RpcEnv.create({ name: 'driver', clientMode: true, principal: 'app', conf: conf() });
  const { events, listener } = recorder();
  const client = new AppClient(env, master.masterUrl, desc, listener, memoryLogger());
  client.start();
  const [, appId] = await waitFor(() => events.find((e) => e[0] === 'connected'), { timeoutMs: 10_000, what: 'registration' });
  assert.match(String(appId), /^app-\d{14}-\d{4}$/);
  const added = await waitFor(() => events.find((e) => e[0] === 'executorAdded'), { timeoutMs: 10_000, what: 'an executor' });
  assert.equal(added[1], `${appId}/0`);
  assert.equal(added[4], 2);
  assert.equal(added[5], 512);
  await client.stop();
  await waitFor(
    async () => {
      const state = (await masterJson()) as unknown as { completedapps: Array<{ id: string; state: string }>; activeapps: unknown[] };
      return state.completedapps.some((a) => a.id === appId && a.state === 'FINISHED') && state.activeapps.length === 0 ? true : undefined;
    },
    { timeoutMs: 10_000, what: 'the app to be FINISHED' },
  );
  await waitFor(
    async () => {
      const res = await fetch(`http://127.0.0.1:${worker.webUiPort}/json`);
      const state = (await res.json()) as { executors: unknown[]; coresused: number };
      return state.executors.length === 0 && state.coresused === 0 ? true : undefined;
    },
    { timeoutMs: 15_000, what: 'the worker to kill the executor' },
  );
  assert.ok(!events.some((e) => e[0] === 'dead'));
  await env.shutdown();
});

test('with no master answering, the app is declared dead after its retries', async () => {
  const env = await RpcEnv.create({ name: 'driver', clientMode: true, principal: 'app', conf: conf() });
  const { events, listener } = recorder();
  const client = new AppClient(env, 'flint://127.0.0.1:1', desc, listener, memoryLogger(), { registrationTimeoutMs: 100, registrationRetries: 3 });
  const started = performance.now();
  client.start();
  const dead = await waitFor(() => events.find((e) => e[0] === 'dead'), { timeoutMs: 5_000, what: 'the app to be declared dead' });
  assert.equal(dead[1], 'All masters are unresponsive! Giving up.');
  assert.ok(performance.now() - started >= 290, 'three attempts of 100 ms each');
  await client.stop();
  await env.shutdown();
});
