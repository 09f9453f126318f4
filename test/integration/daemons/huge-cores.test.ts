// Finding 1 of issue "Trust at the edges", against a real master process: one number hung the master for
// ever. A worker registering with cores 2^53 − 1 (or 1e300) was accepted, and the next application's
// placement handed out one core per loop iteration: 100% CPU, /json never answered.
//   - `bin/flint worker … --cores 9007199254740991` (and other out-of-range flags) ends with one `flint: …`
//     line naming the flag, the value and the range, exit code 1;
//   - a raw RegisterWorker with cores 1e300 or 2^53 − 1 is refused (FLINT_RPC_MALFORMED_MESSAGE naming
//     /cores), never registered, and /json still answers;
//   - a worker with the largest legal core count (LIMITS.cores.max, 2^20) plus an application asking for
//     every core is scheduled at once: one executor with all 2^20 cores, and /json answers.
// The large worker is a stand-in endpoint in this process (it records what the master sends and launches
// nothing), so no executor with a million threads is ever started.

import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { RpcRemoteError } from '../../../src/errors.ts';
import { LIMITS } from '../../../src/protocol/limits.ts';
import { MasterToWorker, type WorkerToMaster } from '../../../src/protocol/messages.ts';
import { RpcEnv } from '../../../src/rpc/index.ts';
import { memoryLogger, type LogLine } from '../../../src/util/logger.ts';
import { AppClient } from '../../fixtures/app-client.ts';
import { authConf, MAIN, masterJson, newSecret, startMaster, untilMasterJson, writeSecretFile, type MasterDaemon } from '../../helpers/daemons.ts';
import { ChildGroup, NODE_BIN, REPO_ROOT, spawnChild, waitFor } from '../../helpers/process.ts';
import { tempDir } from '../../helpers/temp-dir.ts';

describe('finding 1: huge core counts never hang the master', { timeout: 60_000 }, () => {
  const children = new ChildGroup();
  const envs: RpcEnv[] = [];
  const apps: AppClient[] = [];
  const secret = newSecret();
  const lines: LogLine[] = [];
  let dir: string;
  let master: MasterDaemon;

  before(async () => {
    dir = tempDir('flint-huge-cores-test-');
    const secretFile = writeSecretFile(join(dir, 'secret'), secret);
    // The stand-in worker sends no heartbeats: give it a minute before the master calls it dead.
    master = await startMaster(children, { label: 'master', secretFile, conf: ['flint.worker.timeout=60s'] });
  });

  after(async () => {
    await Promise.allSettled(apps.map((a) => a.stop()));
    await Promise.allSettled(envs.map((e) => e.shutdown()));
    await children.killAll();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const registerWorker = (id: string, workerAddress: string, cores: number): WorkerToMaster => ({
    type: 'RegisterWorker',
    id,
    host: '127.0.0.1',
    port: Number(/:(\d+)$/.exec(workerAddress)?.[1] ?? 1),
    workerAddress,
    cores,
    memoryMb: LIMITS.memoryMb.max,
    workerWebUiUrl: 'http://127.0.0.1:1',
    masterAddress: master.url,
  });

  test('bin/flint worker … --cores 9007199254740991 (the command of finding 1) and other out-of-range flags: one line, exit 1', async () => {
    const open = ['--conf', 'flint.authenticate=false'];
    const local = ['--host', '127.0.0.1', '--port', '0', '--webui-port', '0'];
    const cases: Array<[label: string, command: string, args: string[], message: RegExp]> = [
      [
        'bin/flint worker --cores 2^53-1',
        resolve(REPO_ROOT, 'bin/flint'),
        ['worker', master.url, ...local, '--work-dir', join(dir, 'work'), '--cores', '9007199254740991', ...open],
        /^flint: --cores "9007199254740991" is not a number of cores; expected a whole number from 1 to 1048576$/,
      ],
      [
        'worker --memory 3p',
        NODE_BIN,
        [MAIN, 'worker', master.url, ...local, '--work-dir', join(dir, 'work'), '--cores', '1', '--memory', '3p', ...open],
        /^flint: --memory "3p" is \d+ MB; expected from 1 MB .* to 2147483647 MB$/,
      ],
      [
        'master flint.master.ui.port=70000',
        NODE_BIN,
        [MAIN, 'master', ...local, ...open, '--conf', 'flint.master.ui.port=70000'],
        /^flint: flint\.master\.ui\.port=70000 is too large; expected a whole number from 0 to 65535$/,
      ],
    ];
    // One at a time: each is a whole Node start-up, and the machine may be busy.
    for (const [label, command, args, message] of cases) {
      const child = children.add(spawnChild(command, args, { label }));
      const exit = await waitFor(() => child.exit, { timeoutMs: 30_000, intervalMs: 25, what: `${label} to exit` });
      const stderr = child.stderr();
      assert.deepEqual(exit, { code: 1, signal: null }, `${label}: exit code 1; stderr:\n${stderr}`);
      assert.match(stderr.trimEnd().split('\n').at(-1) ?? '', message, `${label}: stderr:\n${stderr}`);
      assert.doesNotMatch(stderr, /\n\s+at /, `${label}: no stack trace`);
    }
    assert.deepEqual((await masterJson(master.webUiPort)).workers, [], 'nothing registered');
  });

  test('a raw RegisterWorker with cores 1e300 or 2^53 − 1 is refused; an application then waits, and /json answers', async () => {
    const env = await RpcEnv.create({ name: 'hugeClient', clientMode: true, conf: authConf(secret), logger: memoryLogger(lines) });
    envs.push(env);
    const ref = await env.setupEndpointRef<WorkerToMaster>(master.url, 'Master');
    // Sent one-way, as a worker does. Before the fix the master registered both, and the next application's
    // placement never ended.
    for (const cores of [1e300, Number.MAX_SAFE_INTEGER]) ref.send(registerWorker(`worker-huge-${cores}-sent`, 'flint://Worker@127.0.0.1:1', cores));
    await waitFor(
      () => master.child.stderrJson().filter((l) => l['code'] === 'FLINT_RPC_MALFORMED_MESSAGE' && l['peer'] === env.id).length >= 2,
      { what: "the master's log lines about the two refused RegisterWorker messages" },
    );
    const app = await AppClient.register({ masterUrl: master.url, conf: authConf(secret), memoryMbPerExecutor: 128 });
    const json = await masterJson(master.webUiPort);
    assert.equal(json.status, 'ALIVE');
    assert.deepEqual(json.workers, [], 'no worker registered');
    assert.deepEqual(json.activeapps.map((a) => [a.id, a.state, a.cores]), [[app.appId, 'WAITING', 0]]);
    await app.stop();

    // Asked: the refusal comes back to the sender, naming the field.
    for (const cores of [1e300, Number.MAX_SAFE_INTEGER]) {
      const err = await ref.ask(registerWorker(`worker-huge-${cores}`, 'flint://Worker@127.0.0.1:1', cores), 5_000).then(
        (reply) => assert.fail(`cores ${cores}: the ask should have been refused, got ${JSON.stringify(reply)}`),
        (e: unknown) => e,
      );
      assert.ok(err instanceof RpcRemoteError, `expected RpcRemoteError, got ${String(err)}`);
      assert.equal(err.remoteCode, 'FLINT_RPC_MALFORMED_MESSAGE');
      assert.match(err.message, /RegisterWorker is malformed at \/cores/);
    }
    await untilMasterJson(master.webUiPort, (j) => j.activeapps.length === 0 && j.workers.length === 0, 'the application gone, no worker');
    assert.ok(master.child.alive, 'the master is still running');
  });

  test('a worker with 2^20 cores and an application asking for every core: scheduled at once, /json answers', async () => {
    const launches: Array<Extract<MasterToWorker, { type: 'LaunchExecutor' }>> = [];
    const received: MasterToWorker[] = [];
    const env = await RpcEnv.create({ name: 'bigWorker', host: '127.0.0.1', port: 0, conf: authConf(secret), logger: memoryLogger(lines) });
    envs.push(env);
    const worker = env.setupEndpoint<MasterToWorker>('Worker', {
      messages: MasterToWorker,
      receive: (message) => {
        received.push(message);
        if (message.type === 'LaunchExecutor') launches.push(message);
      },
    });
    const ref = await env.setupEndpointRef<WorkerToMaster>(master.url, 'Master');
    ref.send(registerWorker('worker-max-cores', worker.address, LIMITS.cores.max));
    await waitFor(() => received.some((m) => m.type === 'RegisteredWorker'), { what: 'RegisteredWorker' });
    // As a real worker does once registered: it runs nothing (the master places nothing on it before this).
    ref.send({ type: 'WorkerLatestState', id: 'worker-max-cores', executors: [], driverIds: [] });

    // No maxCores: the application asks for every core of the cluster, as examples/pi.ts does by default.
    const app = await AppClient.register({ masterUrl: master.url, conf: authConf(secret), memoryMbPerExecutor: 1024 });
    apps.push(app);
    await waitFor(() => launches.length > 0, { timeoutMs: 10_000, what: 'LaunchExecutor on the 2^20-core worker' });
    assert.equal(launches.length, 1, 'one executor per worker without coresPerExecutor');
    assert.equal(launches[0]?.cores, LIMITS.cores.max);
    assert.equal(launches[0]?.appId, app.appId);

    const json = await untilMasterJson(
      master.webUiPort,
      (j) => j.workers.some((w) => w.id === 'worker-max-cores' && w.coresused === LIMITS.cores.max),
      'the 2^20-core worker fully used',
    );
    assert.equal(json.cores, LIMITS.cores.max);
    assert.equal(json.activeapps.find((a) => a.id === app.appId)?.cores, LIMITS.cores.max);
    assert.ok(master.child.alive, 'the master is still running');
  });
});
