// Applications end to end, on real processes: a master and two workers started through the CLI, apps run by
// `flint submit` (client and cluster mode; the examples/ among them, their output checked exactly), executors
// started by the workers. Nothing here is simulated.
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { LocalCluster } from '../../../src/daemons/local-cluster.ts';
import { uiBearer } from '../../helpers/daemons.ts';
import { ChildGroup, executorsOf, waitFor, type ChildHandle } from '../../helpers/process.ts';
import { finished, submitTo } from '../../helpers/submit.ts';
import { APP_SUITE, TEST_APP as APP } from '../../helpers/app-suite.ts';
import { tempDir } from '../../helpers/temp-dir.ts';

const children = new ChildGroup();

function spawn(cluster: LocalCluster, args: string[], label: string): ChildHandle {
  return submitTo(children, cluster, args, label);
}

function stdoutValue(child: ChildHandle, prefix: string): string | undefined {
  const line = child.stdoutLines.find((l) => l.startsWith(`${prefix} `));
  return line?.slice(prefix.length + 1);
}

describe('applications on a local cluster (1 master, 2 workers × 2 cores)', () => {
  let cluster: LocalCluster;
  before(async () => {
    cluster = await LocalCluster.start({ workers: 2, coresPerWorker: 2, memoryPerWorker: '2g', conf: ['flint.worker.timeout=4s'] });
  });
  after(async () => {
    await children.killAll();
    await cluster?.stop();
  });

  test('an app run again takes its bundle from the bundle cache, with the same hash and result', async () => {
    const cacheDir = join(tempDir('flint-bundles-'), 'cache');
    const run = async (label: string): Promise<{ bundled: Array<Record<string, unknown>>; result: string | undefined }> => {
      const app = children.spawnNodeScript(
        'src/cli/main.ts',
        ['submit', '--master', cluster.masterUrl, '--conf', `flint.authenticate.secret.file=${cluster.secretFile}`, '--conf', `flint.app.bundleCache.dir=${cacheDir}`, '--total-executor-cores', '2', APP, 'sum', '20', '4', '0'],
        { label, env: { FLINT_LOG_LEVEL: 'debug' } },
      );
      const out = await finished(app);
      assert.equal(out.code, 0, out.stderr);
      const bundled = out.stderr
        .split('\n')
        .filter((l) => l.includes('"msg":"Bundled the application"') || l.includes('"msg":"Took the application bundle from the cache"'))
        .map((l) => JSON.parse(l) as Record<string, unknown>);
      return { bundled, result: stdoutValue(app, 'RESULT') };
    };
    const first = await run('bundle cache, first run');
    const second = await run('bundle cache, second run');
    assert.equal(first.bundled.length, 1, 'one bundle line in the first run');
    assert.equal(second.bundled.length, 1, 'one bundle line in the second run');
    assert.equal(first.bundled[0]?.['cached'], false);
    assert.equal(second.bundled[0]?.['cached'], true, 'the second run took the bundle from the cache');
    assert.equal(second.bundled[0]?.['hash'], first.bundled[0]?.['hash']);
    assert.equal(first.result, '380');
    assert.equal(second.result, '380');
  });

  test('an app gets exactly the executors its settings ask for, and stop() leaves no process', async () => {
    const marker = join(tempDir('flint-hold-'), 'release');
    const app = spawn(
      cluster,
      ['--total-executor-cores', '3', '--executor-cores', '1', '--executor-memory', '300m', '--conf', 'flint.executor.defaultNodeOptions=--trace-warnings', '--conf', 'flint.executor.extraNodeOptions=--max-old-space-size=300', APP, 'hold', marker],
      'hold app',
    );
    await waitFor(() => app.stdoutLines.includes('READY') || (app.exit !== undefined && assert.fail(`app exited: ${app.stderr()}`)), { timeoutMs: 30_000, what: 'the app to run its first job' });
    const appId = stdoutValue(app, 'APP') as string;
    const json = await cluster.masterJson();
    const mine = json.activeapps.find((a) => a.id === appId);
    assert.ok(mine, `app ${appId} is active in /json`);
    assert.equal(mine.cores, 3, 'three cores granted in all');
    const workerJsons = await Promise.all(cluster.workers.map(async (w) => (await (await fetch(`http://127.0.0.1:${w.webUiPort}/json`, { headers: uiBearer(cluster.secretFile) })).json()) as { coresused: number; executors: Array<{ appid: string; memory: number }> }));
    const executors = workerJsons.flatMap((w) => w.executors).filter((e) => e.appid === appId);
    assert.equal(executors.length, 3, 'three executors (3 cores at 1 core each)');
    assert.deepEqual(executors.map((e) => e.memory), [300, 300, 300]);
    assert.equal(workerJsons.reduce((sum, w) => sum + w.coresused, 0), 3, 'one core used per executor');
    assert.equal(stdoutValue(app, 'RESULT'), '100');
    assert.equal(executorsOf(appId, cluster.dir).length, 3, 'three executor processes run for the app');
    for (const pid of executorsOf(appId, cluster.dir)) {
      // The executors' Node flags: flint.executor.defaultNodeOptions, then extraNodeOptions, before the program.
      const argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
      const program = argv.findIndex((a) => /executor\.(ts|mjs)$/.test(a));
      assert.ok(program > 0, argv.join(' '));
      const flags = argv.slice(1, program);
      assert.ok(flags.includes('--trace-warnings') && flags.indexOf('--trace-warnings') < flags.lastIndexOf('--max-old-space-size=300'), flags.join(' '));
      // The hot-code V8 flags are set by the executor once registered, not on its command line (executor-backend.ts).
      assert.ok(!flags.some((f) => f.startsWith('--invocation-count-for-turbofan')), flags.join(' '));
    }
    writeFileSync(marker, 'go');
    const done = await finished(app);
    assert.equal(done.code, 0, done.stderr);
    await waitFor(() => executorsOf(appId, cluster.dir).length === 0, { timeoutMs: 15_000, what: `the executors of ${appId} to exit` });
    await waitFor(async () => (await cluster.masterJson()).completedapps.some((a) => a.id === appId && a.state === 'FINISHED'), { timeoutMs: 10_000, what: 'the app to be FINISHED' });
  });

  // The applications local mode runs too (local-mode.test.ts), with the same expectations.
  for (const { name, run } of APP_SUITE) {
    test(name, () => run(async (args, label) => finished(spawn(cluster, ['--total-executor-cores', '2', ...args], label))));
  }

  test('an uncaught error on the driver stops the app: exit 1, the app leaves the master, its executors exit', async () => {
    const app = spawn(cluster, ['--total-executor-cores', '1', APP, 'uncaught'], 'uncaught');
    const appId = await waitFor(() => stdoutValue(app, 'APP'), { timeoutMs: 30_000, what: 'the app to register' });
    const run = await finished(app);
    assert.equal(run.code, 1);
    assert.match(run.stderr, /uncaught error, stopping the application: Error: boom from a timer/);
    await waitFor(async () => (await cluster.masterJson()).completedapps.some((a) => a.id === appId), { timeoutMs: 10_000, what: 'the app to be completed' });
    await waitFor(() => executorsOf(appId, cluster.dir).length === 0, { timeoutMs: 15_000, what: `the executors of ${appId} to exit` });
  });

  test('kill -9 of an executor mid-job: the job completes with the correct result', async () => {
    const progress = tempDir('flint-progress-');
    const app = spawn(cluster, ['--total-executor-cores', '2', '--executor-cores', '1', APP, 'sum', '400', '40', '15', progress], 'sum app');
    const appId = await waitFor(() => stdoutValue(app, 'APP'), { timeoutMs: 30_000, what: 'the app to register' });
    await midJob(progress, app);
    const victim = executorsOf(appId, cluster.dir)[0];
    assert.ok(victim, 'an executor is running');
    process.kill(victim, 'SIGKILL');
    const done = await finished(app);
    assert.equal(done.code, 0, done.stderr);
    assert.equal(stdoutValue(app, 'RESULT'), String(399 * 400));
  });

  test('cluster mode runs pi on a worker; --status reports it', async () => {
    const run = await finished(spawn(cluster, ['--deploy-mode', 'cluster', 'examples/pi.ts', '200000', '4'], 'cluster pi'));
    assert.equal(run.code, 0, run.stderr);
    const driverId = /Driver successfully submitted as (driver-\S+)/.exec(run.stdout)?.[1];
    assert.ok(driverId, run.stdout);
    await waitFor(
      async () => {
        const status = await finished(spawn(cluster, ['--status', driverId], 'status'));
        return /State of driver-\S+ is FINISHED/.test(status.stdout) || (/is (FAILED|ERROR|KILLED)/.test(status.stdout) && assert.fail(status.stdout));
      },
      { timeoutMs: 60_000, intervalMs: 500, what: `${driverId} to finish` },
    );
    const stdoutFile = join(cluster.dir, await workerDirOf(cluster, driverId), driverId, 'stdout');
    assert.match(readFileSync(stdoutFile, 'utf8'), /Pi is roughly 3\.1/);
  });

  test('--supervise relaunches a crashing driver', async () => {
    const marker = join(tempDir('flint-crash-'), 'crashed');
    const run = await finished(spawn(cluster, ['--deploy-mode', 'cluster', '--supervise', APP, 'crash-once', marker], 'supervised'));
    assert.equal(run.code, 0, run.stderr);
    const driverId = /Driver successfully submitted as (driver-\S+)/.exec(run.stdout)?.[1] as string;
    await waitFor(
      async () => /is FINISHED/.test((await finished(spawn(cluster, ['--status', driverId], 'status'))).stdout),
      { timeoutMs: 60_000, intervalMs: 500, what: `${driverId} to be relaunched and finish` },
    );
    assert.ok(existsSync(marker), 'the first run crashed after leaving its marker');
    const out = readFileSync(join(cluster.dir, await workerDirOf(cluster, driverId), driverId, 'stdout'), 'utf8');
    assert.match(out, /RESULT 10/);
  });

  test('kill -9 of a worker mid-job: its executors are replaced on the other worker and the job completes', async () => {
    const progress = tempDir('flint-progress-');
    const app = spawn(cluster, ['--total-executor-cores', '2', '--executor-cores', '1', APP, 'sum', '400', '40', '15', progress], 'sum app (worker kill)');
    const appId = await waitFor(() => stdoutValue(app, 'APP'), { timeoutMs: 30_000, what: 'the app to register' });
    await waitFor(() => executorsOf(appId, cluster.dir).length === 2, { timeoutMs: 30_000, what: 'two executors' });
    await midJob(progress, app);
    const worker = cluster.workers[0];
    assert.ok(worker?.pid);
    process.kill(worker.pid, 'SIGKILL');
    const done = await finished(app);
    assert.equal(done.code, 0, done.stderr);
    assert.equal(stdoutValue(app, 'RESULT'), String(399 * 400));
  });
});

/** The `worker-N` directory whose work dir holds `id`. */
async function workerDirOf(cluster: LocalCluster, id: string): Promise<string> {
  return waitFor(() => readdirSync(cluster.dir).find((d) => d.startsWith('worker-') && existsSync(join(cluster.dir, d, id))), { timeoutMs: 10_000, what: `the work dir of ${id}` });
}


/** Waits until a quarter of the 400 records are done (each leaves a file in `progress`), and the job is not over. */
async function midJob(progress: string, app: ChildHandle): Promise<void> {
  await waitFor(() => readdirSync(progress).length >= 100, { timeoutMs: 30_000, intervalMs: 20, what: 'a quarter of the records to be done' });
  assert.equal(stdoutValue(app, 'RESULT'), undefined, 'the job is still running');
}
