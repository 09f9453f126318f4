// Standby executors (docs/standby-executors.md), on real processes: a master and one worker (2 cores) started
// through the CLI, apps run by `flint submit`. The worker keeps one executor process loaded and waiting; the
// first executor of an app that a standby can serve adopts it (same pid, its command line renamed, its output in
// the executor's files under the worker's header), the worker starts a new standby after it, an app with other
// executor memory gets fresh processes and leaves the standby alone, a standby killed while it waits is
// replaced, and stopping the worker leaves none behind. A second app with the same bundle finds it in the worker's
// shared bundle directory.

import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { LocalCluster } from '../../../src/daemons/local-cluster.ts';
import { STANDBY_FLAG } from '../../../src/io/child-process/adoption-line.ts';
import { uiBearer } from '../../helpers/daemons.ts';
import { ChildGroup, executorsOf, processesOf, waitFor, type ChildHandle } from '../../helpers/process.ts';
import { finished, submitTo } from '../../helpers/submit.ts';
import { tempDir } from '../../helpers/temp-dir.ts';

const APP = 'test/fixtures/apps/test-app.ts';
const children = new ChildGroup();

interface WorkerJson {
  standbyexecutors?: { ready: number; starting: number; adopted: number };
  executors: Array<{ appid: string; id: number }>;
}

function cmdline(pid: number): string[] {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
  } catch {
    return [];
  }
}

/** The worker's children that still wait as standbys (their command line ends in --standby). */
function standbyPids(workerPid: number): number[] {
  return processesOf('').filter((pid) => {
    try {
      const ppid = Number(readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ')[1]);
      return ppid === workerPid && cmdline(pid).includes(STANDBY_FLAG);
    } catch {
      return false;
    }
  });
}

describe('standby executors on a local cluster (1 master, 1 worker × 2 cores)', () => {
  let cluster: LocalCluster;
  let workerPid: number;
  const workerJson = async (): Promise<WorkerJson> =>
    (await (await fetch(`http://127.0.0.1:${cluster.workers[0]?.webUiPort}/json`, { headers: uiBearer(cluster.secretFile) })).json()) as WorkerJson;

  before(async () => {
    cluster = await LocalCluster.start({ workers: 1, coresPerWorker: 2, memoryPerWorker: '3g' });
    workerPid = cluster.workers[0]?.pid as number;
  });
  after(async () => {
    await children.killAll();
    await cluster?.stop();
  });

  async function holdApp(args: string[], label: string): Promise<{ app: ChildHandle; appId: string; release: () => void }> {
    const marker = join(tempDir('flint-standby-'), 'release');
    const app = submitTo(children, cluster, ['--total-executor-cores', '2', '--executor-cores', '1', ...args, APP, 'hold', marker], label);
    await waitFor(() => app.stdoutLines.includes('READY') || (app.exit !== undefined && assert.fail(`${label} exited: ${app.stderr()}`)), {
      timeoutMs: 30_000,
      what: `${label} to run its first job`,
    });
    const appId = app.stdoutLines.find((l) => l.startsWith('APP '))?.slice(4) as string;
    return { app, appId, release: () => writeFileSync(marker, 'go') };
  }

  test('the first executor adopts the waiting standby; a new standby replaces it', async () => {
    await cluster.awaitStandbys();
    const before = await workerJson();
    assert.deepEqual(before.standbyexecutors, { ready: 1, starting: 0, adopted: 0 });
    const [standby] = standbyPids(workerPid);
    assert.ok(standby !== undefined, 'one standby process waits under the worker');

    const { app, appId, release } = await holdApp([], 'default-memory app');
    const executors = executorsOf(appId, cluster.dir);
    assert.equal(executors.length, 2, `two executor processes for ${appId}`);
    assert.ok(executors.includes(standby), `the standby ${standby} became one of the executors ${executors.join(', ')}`);
    // Both, the adopted standby and the process started for the app, run with huge pages asked of malloc.
    for (const pid of executors) {
      const environ = readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0');
      assert.ok(environ.some((e) => /^GLIBC_TUNABLES=(.*:)?glibc\.malloc\.hugetlb=1$/.test(e)), `executor ${pid}: ${environ.filter((e) => e.startsWith('GLIBC')).join(' ')}`);
    }
    // ps names the adopted process after its executor; the other was started for the app, its argv as before.
    assert.match(cmdline(standby).join(' '), new RegExp(`^flint-executor ${appId}/\\d`));
    const adoptedId = /\/(\d+)/.exec(cmdline(standby).join(' '))?.[1] as string;
    // The executor writes its log lines at least every 100 ms (src/entry/executor.ts): the first job may end before.
    const stderrFile = join(cluster.dir, 'worker-1', appId, adoptedId, 'stderr');
    const stderr = await waitFor(() => {
      const text = readFileSync(stderrFile, 'utf8');
      return /Starting executor ID/.test(text) ? text : undefined;
    }, { timeoutMs: 10_000, what: "the executor's own log to follow the header in the same file" });
    assert.match(stderr, /^Flint Executor Command: /, 'the worker header stays at the top');
    assert.ok(stderr.includes(`(standby executor process ${standby}, adopted for executor:${appId}/${adoptedId})`), stderr.slice(0, 600));

    const after = await waitFor(
      async () => {
        const json = await workerJson();
        return json.standbyexecutors?.ready === 1 && json.standbyexecutors.adopted === 1 ? json : undefined;
      },
      { timeoutMs: 20_000, what: 'a new standby to be ready after the adoption' },
    );
    assert.equal(after.standbyexecutors?.starting, 0);
    const [replacement] = standbyPids(workerPid);
    assert.ok(replacement !== undefined && replacement !== standby, 'the new standby is another process');

    release();
    const done = await finished(app);
    assert.equal(done.code, 0, done.stderr);
    assert.equal(done.stdout.includes('RESULT'), true, done.stdout);
    await waitFor(() => executorsOf(appId, cluster.dir).length === 0, { timeoutMs: 15_000, what: `the executors of ${appId} to exit` });
    await waitFor(async () => (await cluster.masterJson()).completedapps.some((a) => a.id === appId && a.state === 'FINISHED'), {
      timeoutMs: 10_000,
      what: `${appId} to be FINISHED`,
    });
  });

  test('an app with other executor memory gets processes of its own and leaves the standby waiting', async () => {
    await cluster.awaitStandbys();
    const [standby] = standbyPids(workerPid);
    const adoptedBefore = (await workerJson()).standbyexecutors?.adopted;
    const { app, appId, release } = await holdApp(['--executor-memory', '512m'], '512m app');
    const executors = executorsOf(appId, cluster.dir);
    assert.equal(executors.length, 2);
    assert.ok(!executors.includes(standby as number), 'the standby was not adopted');
    for (const pid of executors) assert.ok(cmdline(pid).includes('--max-old-space-size=512'), cmdline(pid).join(' '));
    assert.deepEqual(standbyPids(workerPid), [standby], 'the same standby still waits');
    assert.equal((await workerJson()).standbyexecutors?.adopted, adoptedBefore);
    release();
    assert.equal((await finished(app)).code, 0);
    // The same app's bundle as the first test's: its executors take it from the worker's shared directory
    // (src/io/executor/load-app-code.ts) without fetching it from the driver.
    await waitFor(() => executorsOf(appId, cluster.dir).length === 0, { timeoutMs: 15_000, what: `the executors of ${appId} to exit` });
    const appDir = join(cluster.dir, 'worker-1', appId);
    const shared = join(cluster.dir, 'worker-1', '.app-code');
    assert.equal(readdirSync(shared).filter((name) => name.endsWith('.mjs')).length, 1, `one bundle for both apps: ${readdirSync(shared).join(', ')}`);
    assert.ok(!existsSync(join(appDir, 'code')), 'no per-application copy of the bundle');
    // Each executor that loaded the code (one may be stopped first, on a busy machine: the job is small) found it.
    const loaded = readdirSync(appDir)
      .filter((name) => /^\d+$/.test(name))
      .flatMap((id) => readFileSync(join(appDir, id, 'stderr'), 'utf8').split('\n').filter((l) => l.startsWith('{')))
      .map((l) => JSON.parse(l) as { msg?: string; path?: string })
      .filter((l) => /application code/.test(l.msg ?? ''));
    assert.ok(loaded.length >= 1, 'the executor that ran the job logged where its code came from');
    for (const line of loaded) {
      assert.equal(line.msg, 'Using the cached application code', JSON.stringify(line));
      assert.match(line.path ?? '', new RegExp(`^${shared}/[0-9a-f]{64}\\.mjs$`));
    }
  });

  test('a standby killed while it waits is replaced', async () => {
    await cluster.awaitStandbys();
    const [standby] = standbyPids(workerPid);
    process.kill(standby as number, 'SIGKILL');
    const replacement = await waitFor(
      () => {
        const now = standbyPids(workerPid);
        return now.length === 1 && now[0] !== standby ? now[0] : undefined;
      },
      { timeoutMs: 20_000, what: 'a new standby after the kill' },
    );
    await cluster.awaitStandbys();
    assert.ok(replacement !== undefined);
  });

  test('stopping the cluster leaves no standby behind', async () => {
    const waiting = standbyPids(workerPid);
    assert.equal(waiting.length, 1);
    await cluster.stop();
    for (const pid of waiting) assert.deepEqual(cmdline(pid), [], `standby ${pid} has exited`);
  });
});
