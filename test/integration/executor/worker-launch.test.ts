// A real master and worker (in this process, over loopback TCP) launching Flint's executor for an application
// whose command's main module is `flint:executor`: the worker runs src/entry/executor.ts of its own Flint
// install, which registers with the driver (played by this test) and runs a task. An unknown `flint:` name is
// a failed launch, reported to the application, not a crash.

import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, rmSync, statSync, utimesSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { decode } from '@msgpack/msgpack';
import { AppClient, type AppClientListener } from '../../../src/daemons/app-client.ts';
import { FlintConf } from '../../../src/conf/flint-conf.ts';
import { startMasterDaemon, type MasterDaemon } from '../../../src/daemons/master-daemon.ts';
import { startWorkerDaemon, type WorkerDaemon } from '../../../src/daemons/worker-daemon.ts';
import type { AppBundle } from '../../../src/io/bundle/bundle-app.ts';
import type { ApplicationDescription } from '../../../src/protocol/messages.ts';
import { memoryLogger } from '../../../src/util/logger.ts';
import { FakeDriver, sliceTask } from '../../fixtures/fake-driver.ts';
import { REPO_ROOT, waitFor } from '../../helpers/process.ts';
import { fixtureBundle, slice } from './helpers.ts';
import { tempDir } from '../../helpers/temp-dir.ts';

const conf = (): FlintConf => new FlintConf([['flint.authenticate', 'false'], ['flint.worker.timeout', '10s']]);

interface Events {
  appId?: string;
  readonly added: string[];
  readonly removed: Array<{ id: string; message: string }>;
}

function listenerFor(events: Events): AppClientListener {
  return {
    connected: (appId) => void (events.appId = appId),
    disconnected: () => {},
    dead: () => {},
    executorAdded: (id) => void events.added.push(id),
    executorRemoved: (id, message) => void events.removed.push({ id, message }),
    workerRemoved: () => {},
    executorDecommissioned: () => {},
  };
}

function description(name: string, mainModule: string, driverUrl: string): ApplicationDescription {
  return {
    name,
    maxCores: 1,
    memoryMbPerExecutor: 128,
    command: {
      mainModule,
      arguments: ['--driver-url', driverUrl, '--executor-id', '{{EXECUTOR_ID}}', '--hostname', '{{HOSTNAME}}', '--cores', '{{CORES}}', '--app-id', '{{APP_ID}}', '--worker-url', '{{WORKER_URL}}'],
      environment: {},
      nodeOptions: [],
    },
    appUiUrl: 'http://127.0.0.1:4040',
    user: 'flint-test',
  };
}

describe('a worker launching flint:executor', { timeout: 60_000 }, () => {
  let master: MasterDaemon;
  let worker: WorkerDaemon;
  let bundle: AppBundle;
  let workDir: string;
  const clients: AppClient[] = [];
  const drivers: FakeDriver[] = [];

  /** A driver registers its app from its own env: the master takes no driver address but the sender's. */
  async function register(name: string, mainModule: string, events: Events, own: { conf?: Readonly<Record<string, string>>; bundle?: AppBundle } = {}): Promise<FakeDriver> {
    const driver = await FakeDriver.start({ bundle: own.bundle ?? bundle, ...(own.conf === undefined ? {} : { conf: own.conf }) });
    drivers.push(driver);
    const client = new AppClient(driver.env, master.masterUrl, description(name, mainModule, driver.url), listenerFor(events), memoryLogger());
    clients.push(client);
    client.start();
    return driver;
  }

  before(async () => {
    bundle = await fixtureBundle();
    workDir = tempDir('flint-worker-exec-');
    master = await startMasterDaemon({ conf: conf(), logger: memoryLogger(), host: '127.0.0.1', port: 0, webUiPort: 0 });
    worker = await startWorkerDaemon({
      conf: conf(),
      logger: memoryLogger(),
      base: { host: '127.0.0.1', port: 0, webUiPort: 0, cores: 3, memoryMb: 1024, workDir, masterUrls: [master.masterUrl] },
    });
    await waitFor(
      async () => {
        const res = await fetch(`http://127.0.0.1:${master.webUiPort}/json`);
        return ((await res.json()) as { aliveworkers: number }).aliveworkers === 1 ? true : undefined;
      },
      { timeoutMs: 10_000, intervalMs: 50, what: 'the worker to register' },
    );
  });

  after(async () => {
    for (const client of clients) await client.stop();
    await worker?.shutdown('test over');
    await master?.shutdown('test over');
    for (const driver of drivers) await driver.stop();
    rmSync(workDir, { recursive: true, force: true });
  });

  test("runs src/entry/executor.ts from the worker's Flint home; the executor registers and runs a task", async () => {
    const events: Events = { added: [], removed: [] };
    const driver = await register('flint-executor-app', 'flint:executor', events);
    await driver.until(() => (driver.launched.includes('0') ? true : undefined), 'LaunchedExecutor from the executor the worker started');
    const appId = events.appId;
    assert.ok(appId !== undefined && events.added.includes(`${appId}/0`), JSON.stringify(events));
    const stderr = readFileSync(join(workDir, appId, '0', 'stderr'), 'utf8');
    const header = stderr.split('\n')[0] ?? '';
    assert.ok(
      // --max-old-space-size: the executor's memory (--executor-memory) is its heap's limit.
      /^Flint Executor Command: "[^"]+" "--max-old-space-size=\d+" "/.test(header) &&
        header.includes(`"${REPO_ROOT}/src/entry/executor.ts" "--driver-url" "${driver.url}" "--executor-id" "0"`) &&
        header.startsWith(`Flint Executor Command: "${process.execPath}" `),
      header,
    );
    assert.match(header, /"--worker-url" "flint:\/\/Worker@127\.0\.0\.1:\d+"/);
    // The worker's executors share one copy of a bundle, whatever their application (FLINT_APP_CODE_DIR).
    assert.ok(existsSync(join(workDir, '.app-code', `${bundle.hash}.mjs`)), "the code is cached in the worker's .app-code directory");
    assert.ok(!existsSync(join(workDir, appId, 'code')), 'not in the application directory');
    driver.launch('0', sliceTask(1, slice([2, 3]), [{ op: 'map', fn: 'square' }], { kind: 'collect' }));
    const done = await driver.finalStatus(1);
    assert.equal(done.state, 'FINISHED');
    assert.deepEqual(decode(done.result ?? new Uint8Array()), [4, 9]);
  });

  test('an executor keeps its bundle marked as used while it runs, and fetches it again when it is removed', async () => {
    const events: Events = { added: [], removed: [] };
    // A bundle of its own: the other application's executor shares the worker's copy of the common one.
    const code = Buffer.concat([bundle.code, Buffer.from('\n// the bundle of the keep-code test\n')]);
    const own: AppBundle = { ...bundle, code, hash: createHash('sha256').update(code).digest('hex') };
    const driver = await register('flint-keep-code-app', 'flint:executor', events, { conf: { 'flint.executor.heartbeatInterval': '200ms' }, bundle: own });
    await driver.until(() => (driver.launched.includes('0') ? true : undefined), 'LaunchedExecutor from the executor the worker started');
    const path = join(workDir, '.app-code', `${own.hash}.mjs`);
    // Unused for a week, as far as the worker's cleanup can tell: the executor's next heartbeat marks it as used.
    const weekAgo = new Date(Date.now() - 8 * 86_400_000);
    utimesSync(path, weekAgo, weekAgo);
    await waitFor(() => (statSync(path).mtimeMs > Date.now() - 60_000 ? true : undefined), { timeoutMs: 10_000, intervalMs: 20, what: 'a heartbeat to mark the bundle as used' });
    const fetches = driver.codeFetches.length;
    rmSync(path);
    await waitFor(() => (existsSync(path) ? true : undefined), { timeoutMs: 10_000, intervalMs: 20, what: 'the executor to fetch its bundle again' });
    assert.ok(driver.codeFetches.length > fetches, 'fetched from the driver again');
    await waitFor(() => (readFileSync(path).equals(code) ? true : undefined), { timeoutMs: 10_000, intervalMs: 20, what: 'the whole bundle in place' });
    driver.launch('0', sliceTask(1, slice([5]), [{ op: 'map', fn: 'square' }], { kind: 'collect' }));
    const done = await driver.finalStatus(1);
    assert.equal(done.state, 'FINISHED');
    assert.deepEqual(decode(done.result ?? new Uint8Array()), [25]);
  });

  test('an unknown flint: program is a failed launch that the application hears about', async () => {
    const events: Events = { added: [], removed: [] };
    await register('flint-typo-app', 'flint:exector', events);
    const removed = await waitFor(() => events.removed[0], { timeoutMs: 10_000, intervalMs: 20, what: 'the executor to be removed' });
    assert.match(removed.message, /Unknown Flint program "flint:exector"/);
  });
});
