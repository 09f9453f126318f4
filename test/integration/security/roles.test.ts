// Roles, not one flat trust (docs/security.md, "Roles" and "Who may send what"), on a real master and worker.
// Finding 4 of "Trust at the edges": any holder of the secret (any app, any executor) could send LaunchDriver
// straight to a worker, MasterChanged, DecommissionWorker and KillDriver were taken from anyone, and
// RegisterApplication accepted a driverAddress that was not its own connection.
//
// Here the daemons hold the cluster secret and the applications another one (flint.authenticate.appSecret).
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { FlintConf } from '../../../src/conf/flint-conf.ts';
import { AuthenticationError, RpcRemoteError } from '../../../src/errors.ts';
import type { AppToMaster, ClientToMaster, MasterToWorker, WorkerToMaster } from '../../../src/protocol/messages.ts';
import { deriveKey } from '../../../src/rpc/auth.ts';
import type { ShuffleServiceMessage } from '../../../src/protocol/shuffle-messages.ts';
import { FrameReader, ShuffleWriter } from '../../../src/shuffle/index.ts';
import { RpcEnv } from '../../../src/rpc/index.ts';
import { memoryLogger } from '../../../src/util/logger.ts';
import { logLine, masterJson, newSecret, startMaster, startWorker, writeSecretFile, type MasterDaemon, type WorkerDaemon } from '../../helpers/daemons.ts';
import { ChildGroup } from '../../helpers/process.ts';
import { tempDir } from '../../helpers/temp-dir.ts';

const ASK_MS = 10_000;

describe('roles: who may send what to a master and a worker', { timeout: 90_000 }, () => {
  const children = new ChildGroup();
  const dir = tempDir('flint-roles-');
  const secret = newSecret();
  const appSecret = newSecret();
  const envs: RpcEnv[] = [];
  let master: MasterDaemon;
  let worker: WorkerDaemon;

  async function env(name: string, opts: { principal: string; key: string; server?: boolean }): Promise<RpcEnv> {
    const created = await RpcEnv.create({
      name,
      clientMode: opts.server !== true,
      principal: opts.principal,
      credentialKey: opts.key,
      conf: new FlintConf([['flint.authenticate', 'false']]),
      logger: memoryLogger(),
      ...(opts.server === true ? { keyring: (p: string) => (p === 'daemon' ? secret : undefined) } : {}),
    });
    envs.push(created);
    return created;
  }

  before(async () => {
    const secretFile = writeSecretFile(join(dir, 'secret'), secret);
    const appSecretFile = writeSecretFile(join(dir, 'app-secret'), appSecret);
    master = await startMaster(children, { label: 'master', secretFile, conf: [`flint.authenticate.appSecret.file=${appSecretFile}`] });
    worker = await startWorker(children, { label: 'worker', masterUrl: master.url, secretFile, workDir: join(dir, 'work'), conf: ['flint.worker.timeout=30s'] });
    await logLine(worker.child, (l) => String(l['msg']).startsWith('Successfully registered with master'), 'the worker to register', 30_000);
  });

  after(async () => {
    for (const e of envs) await e.shutdown();
    await children.killAll();
    rmSync(dir, { recursive: true, force: true });
  });

  test('an executor reads its own application\'s shuffle blocks from a worker\'s shuffle service, and nothing else', async () => {
    // A map output of app-A on the worker's disk, as a map task writes it (src/shuffle/shuffle-writer.ts).
    const shuffleDir = join(worker.workDir, 'app-A', 'shuffle');
    mkdirSync(shuffleDir, { recursive: true });
    const writer = new ShuffleWriter({ dir: shuffleDir, shuffleId: 0, mapId: 0, attemptId: 1, numPartitions: 2, partition: (k) => (k as number) % 2, memoryLimitBytes: 1 << 20 });
    for (let i = 0; i < 100; i++) writer.insert([i, `value ${i}`]);
    const output = writer.commit();
    const executor = await env('executorA', { principal: 'executor:app-A', key: deriveKey(secret, 'executor', 'app-A') });
    const service = await executor.setupEndpointRef<ShuffleServiceMessage>(`flint://127.0.0.1:${worker.rpcPort}`, 'ShuffleService');
    const fetch = (appId: string, length: number) =>
      service.ask<{ type: string; data: Uint8Array; blockLength: number }>({ type: 'FetchShuffleBlock', appId, shuffleId: 0, mapId: 0, reduceId: 1, offset: 0, length }, ASK_MS);
    const chunk = await fetch('app-A', 1 << 20);
    assert.equal(chunk.blockLength, output.sizes[1]);
    const reader = new FrameReader();
    reader.push(chunk.data);
    const records: unknown[] = [];
    for (let frame = reader.next(); frame !== undefined; frame = reader.next()) records.push(...frame);
    assert.deepEqual(records, Array.from({ length: 50 }, (_, j) => [2 * j + 1, `value ${2 * j + 1}`]), 'the odd keys, as written');
    assert.equal((await fetch('app-A', 10)).data.length, 10, 'a piece of at most the length asked');
    // Another application's files: refused, whatever exists on the disk.
    mkdirSync(join(worker.workDir, 'app-B', 'shuffle'), { recursive: true });
    await assert.rejects(fetch('app-B', 1024), (err: unknown) => {
      assert.ok(err instanceof RpcRemoteError, String(err));
      assert.match(err.message, /executors of executor:app-A may not read the shuffle files of app-B/);
      return true;
    });
    // The worker's own endpoint takes daemons only.
    const workerRef = await executor.setupEndpointRef<MasterToWorker>(`flint://127.0.0.1:${worker.rpcPort}`, 'Worker');
    await assert.rejects(workerRef.ask({ type: 'KillDriver', driverId: 'driver-x' }, ASK_MS), (err: unknown) => {
      assert.ok(err instanceof RpcRemoteError, String(err));
      assert.equal(err.remoteCode, 'FLINT_RPC_FORBIDDEN');
      return true;
    });
    // A key of another application does not prove app-A.
    await assert.rejects(
      env('executorForged', { principal: 'executor:app-A', key: deriveKey(secret, 'executor', 'app-B') }).then((e) =>
        e.setupEndpointRef(`flint://127.0.0.1:${worker.rpcPort}`, 'ShuffleService'),
      ),
      (err: unknown) => err instanceof AuthenticationError,
    );
  });

  test('an application cannot even connect to a worker', async () => {
    const app = await env('app', { principal: 'app', key: appSecret });
    await assert.rejects(app.setupEndpointRef(`flint://127.0.0.1:${worker.rpcPort}`, 'Worker'), (err: unknown) => {
      assert.ok(err instanceof AuthenticationError, String(err));
      assert.match(err.message, /does not take connections from app/);
      return true;
    });
  });

  test('an application may ask about drivers, but not act as a worker or an operator', async () => {
    const app = await env('app2', { principal: 'app', key: appSecret });
    const ref = await app.setupEndpointRef<ClientToMaster | WorkerToMaster>(master.url, 'Master');
    const status = await ref.ask<{ type: string; found: boolean }>({ type: 'RequestDriverStatus', driverId: 'driver-none' }, ASK_MS);
    assert.deepEqual([status.type, status.found], ['DriverStatusResponse', false]);
    await assert.rejects(ref.ask({ type: 'RequestKillAllDrivers' }, ASK_MS), (err: unknown) => {
      assert.ok(err instanceof RpcRemoteError, String(err));
      assert.equal(err.remoteCode, 'FLINT_RPC_FORBIDDEN');
      assert.match(err.message, /Master does not take RequestKillAllDrivers from an? app/);
      return true;
    });
    ref.send({ type: 'RegisterWorker', id: 'worker-fake', host: '127.0.0.1', port: 1, workerAddress: 'flint://Worker@127.0.0.1:1', cores: 8, memoryMb: 1024, workerWebUiUrl: 'http://127.0.0.1:2', masterAddress: master.url });
    await logLine(master.child, (l) => l['code'] === 'FLINT_RPC_FORBIDDEN' && String(l['reason']).includes('RegisterWorker'), 'the refused RegisterWorker');
    assert.deepEqual((await masterJson(master.webUiPort)).workers.map((w) => w.id), [worker.workerId]);
  });

  test("RegisterApplication naming another env's driver is refused", async () => {
    const app = await env('app3', { principal: 'app', key: appSecret });
    const ref = await app.setupEndpointRef<AppToMaster>(master.url, 'Master');
    ref.send({
      type: 'RegisterApplication',
      appDescription: { name: 'impostor', memoryMbPerExecutor: 64, command: { mainModule: 'flint:executor', arguments: [], environment: {}, nodeOptions: [] }, appUiUrl: '', user: 'x' },
      driverAddress: `flint://CoarseGrainedScheduler@127.0.0.1:${worker.rpcPort}`,
    });
    await logLine(master.child, (l) => String(l['msg']).startsWith('Refused to register app impostor'), 'the refusal');
    assert.deepEqual((await masterJson(master.webUiPort)).activeapps, []);
  });

  test("an executor's key opens nothing but its driver: the master refuses it", async () => {
    const executor = await env('executor', { principal: 'executor:app-20260101000000-0000', key: deriveKey(secret, 'executor', 'app-20260101000000-0000') });
    await assert.rejects(executor.setupEndpointRef(master.url, 'Master'), AuthenticationError);
    const forged = await env('forged', { principal: 'daemon', key: appSecret });
    await assert.rejects(forged.setupEndpointRef(master.url, 'Master'), AuthenticationError, 'the app secret does not prove a daemon');
  });

  test('a daemon that is not its master cannot make the worker launch, kill, drain or change masters', async () => {
    const rogue = await env('rogue', { principal: 'daemon', key: secret, server: true });
    const ref = await rogue.setupEndpointRef<MasterToWorker>(`flint://127.0.0.1:${worker.rpcPort}`, 'Worker');
    const driverId = 'driver-20260101000000-0666';
    const driverDesc = { appResource: '/bin/true', memoryMb: 64, cores: 1, supervise: false, command: { mainModule: 'flint:driver', arguments: [], environment: {}, nodeOptions: [] } };
    ref.send({ type: 'LaunchDriver', driverId, driverDesc });
    ref.send({ type: 'DecommissionWorker' });
    ref.send({ type: 'MasterChanged', masterAddress: `flint://Master@127.0.0.1:${master.rpcPort}`, masterWebUiUrl: 'http://evil' });
    for (const type of ['LaunchDriver', 'DecommissionWorker']) {
      await logLine(worker.child, (l) => String(l['msg']).startsWith(`Ignored ${type} from ${rogue.id}`), `the ignored ${type}`);
    }
    await logLine(worker.child, (l) => String(l['msg']).startsWith('Ignored MasterChanged naming'), 'the ignored MasterChanged');
    assert.ok(!existsSync(join(worker.workDir, driverId)), 'no driver directory');
    assert.deepEqual(readdirSync(worker.workDir).filter((n) => n.startsWith('driver-')), []);
    const json = await masterJson(master.webUiPort);
    assert.equal(json.workers.find((w) => w.id === worker.workerId)?.state, 'ALIVE', 'still ALIVE, not DECOMMISSIONED');
  });
});
