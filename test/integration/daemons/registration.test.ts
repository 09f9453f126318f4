// Worker registration against a real master process:
//   - a worker started before its master keeps retrying and registers once the master is up;
//   - a second RegisterWorker with an id already registered is acknowledged with duplicate=true and changes
//     nothing (reference §4.4, SPARK-23191); another id at an address already registered is refused;
//   - a worker with the wrong secret cannot register, and both sides log the authentication failure;
//   - FLINT_PUBLIC_DNS names the worker's web UI in the master's /json; the worker still registers at --host.

import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { MasterToWorker, type WorkerToMaster } from '../../../src/protocol/messages.ts';
import { RpcEnv, type RpcEndpointRef } from '../../../src/rpc/index.ts';
import { memoryLogger, type LogLine } from '../../../src/util/logger.ts';
import {
  authConf,
  logLine,
  masterJson,
  newSecret,
  startMaster as startMasterDaemon,
  startWorker as startWorkerDaemon,
  untilMasterJson,
  writeSecretFile,
  type MasterDaemon,
  type WorkerDaemon,
} from '../../helpers/daemons.ts';
import { ChildGroup, waitFor } from '../../helpers/process.ts';
import { tempDir } from '../../helpers/temp-dir.ts';

/** A port nothing listens on (bound to find it, then closed): where a master will be started later. */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((done, fail) => {
    server.once('error', fail);
    server.listen(0, '127.0.0.1', done);
  });
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((done) => server.close(() => done()));
  return port;
}

describe('worker registration', { timeout: 60_000 }, () => {
  const children = new ChildGroup();
  const envs: RpcEnv[] = [];
  const secret = newSecret();
  const wrongSecret = newSecret();
  let dir: string;
  let secretFile: string;
  let wrongSecretFile: string;
  /** A master shared by the duplicate and authentication tests. */
  let master: MasterDaemon;

  function startMaster(port: number, label: string): Promise<MasterDaemon> {
    return startMasterDaemon(children, { label, secretFile, port });
  }

  function startWorker(masterUrl: string, label: string, secretPath: string): Promise<WorkerDaemon> {
    return startWorkerDaemon(children, { label, masterUrl, secretFile: secretPath, workDir: join(dir, label.replace(/\W+/g, '-')) });
  }

  before(async () => {
    dir = tempDir('flint-registration-test-');
    secretFile = writeSecretFile(join(dir, 'secret'), secret);
    wrongSecretFile = writeSecretFile(join(dir, 'wrong-secret'), wrongSecret);
    master = await startMaster(0, 'shared master');
  });

  after(async () => {
    await Promise.allSettled(envs.map((e) => e.shutdown()));
    await children.killAll();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  test('a worker started before its master registers once the master is up', { timeout: 30_000 }, async () => {
    const port = await freePort();
    const url = `flint://127.0.0.1:${port}`;
    const started = await startWorker(url, 'early worker', secretFile);
    const { child: worker, workerId } = started;
    const starting = await logLine(worker, (l) => typeof l['initialRetryIntervalMs'] === 'number', 'the line giving the retry interval');
    const retryMs = Number(starting['initialRetryIntervalMs']);
    assert.ok(retryMs >= 5_000 && retryMs < 15_000, `initial retry interval ${retryMs} ms is 5–15 s`);
    // The first attempt finds nobody listening.
    const failed = await logLine(worker, (l) => String(l['msg']).startsWith(`Failed to connect to master ${url}`), 'the failed first attempt');
    assert.equal(failed['level'], 40);

    const late = await startMaster(port, 'late master');
    assert.equal(late.rpcPort, port);
    const masterUpAt = performance.now();
    // The worker's next attempt comes at most one retry interval after its first; allow 5 s more.
    const json = await untilMasterJson(
      late.webUiPort,
      (j) => j.workers.some((w) => w.id === workerId && w.state === 'ALIVE'),
      `${workerId} ALIVE on the late master`,
      retryMs + 5_000,
    );
    assert.equal(json.workers.length, 1);
    assert.equal(json.workers[0]?.port, started.rpcPort);
    await logLine(worker, (l) => String(l['msg']).startsWith(`Successfully registered with master ${url}`), 'the registration line');
    assert.ok(worker.alive, 'the worker is still running');
    assert.ok(performance.now() - masterUpAt < retryMs + 5_000);
  });

  test('a duplicate worker id is acknowledged with duplicate=true and changes nothing (SPARK-23191)', async () => {
    const conf = authConf(secret);
    const lines: LogLine[] = [];
    /** A server-mode env hosting a `Worker` endpoint that records what the master sends it. */
    async function fakeWorker(name: string) {
      const env = await RpcEnv.create({ name, conf, logger: memoryLogger(lines, { env: name }) });
      envs.push(env);
      const got: MasterToWorker[] = [];
      const ref = env.setupEndpoint<MasterToWorker>('Worker', { messages: MasterToWorker, receive: (m) => void got.push(m) });
      const port = env.address?.port ?? 0;
      const toMaster = await env.setupEndpointRef<WorkerToMaster>(master.url, 'Master');
      const register = (id: string): WorkerToMaster => ({
        type: 'RegisterWorker',
        id,
        host: '127.0.0.1',
        port,
        workerAddress: ref.address,
        cores: 2,
        memoryMb: 300,
        workerWebUiUrl: 'http://127.0.0.1:1',
        masterAddress: master.url,
      });
      return { env, got, ref, port, toMaster, register };
    }
    const first = await fakeWorker('firstWorker');
    const second = await fakeWorker('secondWorker');
    const id = `worker-20250101000000-127.0.0.1-${first.port}`;
    const heartbeats = keepAlive(first.toMaster, id, first.ref.address);
    try {
      first.toMaster.send(first.register(id));
      await waitFor(() => first.got.find((m) => m.type === 'RegisteredWorker'), { what: 'RegisteredWorker for the first registration' });
      assert.deepEqual(first.got[0], {
        type: 'RegisteredWorker',
        masterAddress: `flint://Master@127.0.0.1:${master.rpcPort}`,
        masterWebUiUrl: `http://127.0.0.1:${master.webUiPort}`,
        masterUrl: master.url,
        duplicate: false,
      });

      // Same id, from another env at another address.
      second.toMaster.send(second.register(id));
      const reply = await waitFor(() => second.got.find((m) => m.type === 'RegisteredWorker' || m.type === 'RegisterWorkerFailed'), {
        what: 'an answer to the duplicate registration',
      });
      assert.deepEqual(reply, { ...first.got[0], duplicate: true });

      const json = await masterJson(master.webUiPort);
      const listed = json.workers.filter((w) => w.id === id);
      assert.equal(listed.length, 1, `one entry for ${id}: ${JSON.stringify(json.workers)}`);
      assert.deepEqual(
        { port: listed[0]?.port, cores: listed[0]?.cores, memory: listed[0]?.memory, state: listed[0]?.state },
        { port: first.port, cores: 2, memory: 300, state: 'ALIVE' },
        'the first registration is kept',
      );
      assert.ok(!json.workers.some((w) => w.port === second.port), 'the duplicate is not listed');

      // Another id at an address that is already registered: refused.
      first.toMaster.send(first.register(`${id}-other`));
      const refused = await waitFor(() => first.got.find((m) => m.type === 'RegisterWorkerFailed'), {
        what: 'RegisterWorkerFailed for a second id at the same address',
      });
      assert.match(refused.type === 'RegisterWorkerFailed' ? refused.message : '', /re-register worker at same address/);
      assert.ok(!(await masterJson(master.webUiPort)).workers.some((w) => w.id === `${id}-other`));
      assert.equal(first.got.filter((m) => m.type === 'RegisteredWorker').length, 1, 'the first env was acknowledged once');
    } finally {
      clearInterval(heartbeats);
    }
  });

  test('a worker with the wrong secret cannot register; both sides log the authentication failure', async () => {
    const started = await startWorker(master.url, 'impostor worker', wrongSecretFile);
    const { child: worker, workerId } = started;
    const authLine = await logLine(worker, (l) => l['code'] === 'FLINT_RPC_AUTH_FAILED', "the worker's authentication failure");
    assert.match(String(authLine['msg']), /secret differs/);
    const failed = await logLine(worker, (l) => String(l['msg']).startsWith(`Failed to connect to master ${master.url}`), 'the failed registration');
    assert.match(String(failed['error']), /authentication/);
    const masterSide = await logLine(
      master.child,
      (l) => l['code'] === 'FLINT_RPC_AUTH_FAILED' && String(l['msg']).includes(`127.0.0.1:${started.rpcPort}`),
      "the master's line about the refused worker",
    );
    assert.match(String(masterSide['msg']), /secrets differ/);

    const json = await masterJson(master.webUiPort);
    assert.ok(!json.workers.some((w) => w.id === workerId || w.port === started.rpcPort), `not listed: ${JSON.stringify(json.workers)}`);
    // No retry mends a wrong secret: before its first registration the worker exits at once with the cause and the
    // fix (src/kit/refusals.ts, docs/differences-from-spark.md), rather than retrying for about 12 minutes.
    const exit = await worker.exited;
    assert.equal(exit.code, 1, `the worker exits with code 1: ${JSON.stringify(exit)}`);
    const gaveUp = await logLine(worker, (l) => String(l['msg']).startsWith('Cannot register with the master, and retrying will not help'), 'the give-up line');
    assert.match(String(gaveUp['msg']), /secret differs.*Fix: give the worker the cluster's secret/);
    assert.ok(!worker.stderr().includes('Successfully registered'));
    for (const text of [worker.stderr(), master.child.stderr()]) {
      assert.ok(!text.includes(secret) && !text.includes(wrongSecret), 'no secret in the logs');
    }
  });

  test("FLINT_PUBLIC_DNS: the worker's web UI is advertised under that name; it registers at its --host (Spark's SPARK_PUBLIC_DNS)", async () => {
    const worker = await startWorkerDaemon(children, {
      label: 'public dns worker',
      masterUrl: master.url,
      secretFile,
      workDir: join(dir, 'public-dns'),
      env: { FLINT_PUBLIC_DNS: 'worker7.example.invalid' },
    });
    const json = await untilMasterJson(master.webUiPort, (j) => j.workers.some((w) => w.id === worker.workerId && w.state === 'ALIVE'), 'the worker ALIVE');
    const w = json.workers.find((x) => x.id === worker.workerId);
    assert.equal(w?.host, '127.0.0.1');
    assert.equal(w?.webuiaddress, `http://worker7.example.invalid:${worker.webUiPort}`);
    await worker.child.kill('SIGKILL');
  });
});

/** Heartbeats for a fake worker, as a real one sends them (every timeout / 4), so the master keeps it ALIVE. */
function keepAlive(master: RpcEndpointRef<WorkerToMaster>, workerId: string, workerAddress: string): NodeJS.Timeout {
  return setInterval(() => master.send({ type: 'Heartbeat', workerId, workerAddress }), 500);
}
