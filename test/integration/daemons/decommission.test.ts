// Decommissioning on real processes (Spark 3.1+ graceful decommission; docs/operations.md, "Decommissioning a
// worker"), and the operators' commands against a real cluster. A job of 24 one-record tasks runs on two
// executors (2 cores each, no prefetch) of a 3-worker cluster; the second half of its tasks waits for a gate
// file the test opens. With 4 of them running, sbin/decommission-worker.sh sends SIGPWR to one executor's
// worker (through its pid file). The master must show that worker DECOMMISSIONED and launch the app's
// replacement executor elsewhere; the drained executor takes no new task, finishes its 2, and leaves; the
// result is exact, no attempt failed or was killed, and the executor's booking is freed. Then the UI's
// `/workers/kill/` and `flint decommission` drain the other workers, and `flint status`, `apps`, `logs` and
// `kill` are run as processes against the cluster.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { LocalCluster } from '../../../src/daemons/local-cluster.ts';
import { ChildGroup, NODE_BIN, REPO_ROOT, waitFor, type ChildHandle } from '../../helpers/process.ts';
import { tempDir } from '../../helpers/temp-dir.ts';

const MAIN = 'src/cli/main.ts';
const APP = 'test/fixtures/apps/test-app.ts';
const RECORDS = 24;
const children = new ChildGroup();

interface DriverJson {
  jobs: Array<{ jobId: number; tasksDone: number; tasksRunning: number; failedAttempts: number; killedAttempts: number; state: string }>;
  executors: Array<{ executorId: string; completedTasks: number; failedTasks: number; activeTasks: number; removedReason?: string }>;
}
interface StatusJson {
  masters: Array<{ url: string; status: string; leader: boolean }>;
  workers: Array<{ id: string; port: number; state: string; coresUsed: number }>;
  applications: Array<{ id: string; state: string; executors: Array<{ execId: number; workerId: string; state: string }> }>;
}

describe('decommissioning a worker in the middle of a job', () => {
  let cluster: LocalCluster;
  before(async () => {
    cluster = await LocalCluster.start({
      workers: 3,
      coresPerWorker: 2,
      memoryPerWorker: '1g',
      conf: ['flint.decommission.enabled=true', 'flint.worker.initialRegistrationRetries=500'],
      startTimeoutMs: 90_000,
    });
  });
  after(async () => {
    await children.killAll();
    await cluster?.stop();
  });

  /**
   * What the daemons and executors logged about executors and decommissioning, for a failure message: the
   * master's and workers' lines that mention them, and every warning or error of each executor (its stderr).
   */
  function executorLogs(): string {
    const pick = (path: string, keep: (line: string) => boolean): string[] =>
      existsSync(path) ? readFileSync(path, 'utf8').split('\n').filter(keep).slice(-30) : [];
    const out: string[] = [];
    const about = (line: string): boolean => /xecutor|ecommission/.test(line);
    for (const name of readdirSync(cluster.dir).filter((n) => n.endsWith('.log'))) out.push(`== ${name}`, ...pick(join(cluster.dir, name), about));
    for (const worker of readdirSync(cluster.dir).filter((n) => /^worker-\d+$/.test(n))) {
      for (const app of readdirSync(join(cluster.dir, worker)).filter((n) => n.startsWith('app-'))) {
        for (const exec of readdirSync(join(cluster.dir, worker, app)).filter((n) => /^\d+$/.test(n))) {
          const stderr = join(cluster.dir, worker, app, exec, 'stderr');
          out.push(`== ${worker}/${app}/${exec}/stderr`, ...pick(stderr, (line) => !line.includes('"level":30') && line.trim() !== ''));
        }
      }
    }
    return out.map((line) => line.slice(0, 400)).join('\n');
  }

  /** `flint <args> --master … --conf secret` as a process; its exit code and output. */
  function flint(args: string[], withSecret = true): { code: number | null; stdout: string; stderr: string } {
    const secret = withSecret ? ['--conf', `flint.authenticate.secret.file=${cluster.secretFile}`] : [];
    const run = spawnSync(NODE_BIN, [MAIN, ...args, '--master', cluster.masterUrl, ...secret], { cwd: REPO_ROOT, encoding: 'utf8', timeout: 60_000 });
    return { code: run.status, stdout: run.stdout, stderr: run.stderr };
  }
  const status = (): StatusJson => {
    const run = flint(['status', '--json']);
    assert.equal(run.code, 0, run.stderr);
    return JSON.parse(run.stdout) as StatusJson;
  };

  test('SIGPWR through sbin/decommission-worker.sh: the job ends exact with no failed task, and nothing is placed there again', async () => {
    const dir = tempDir('flint-decommission-');
    const [gate, release] = [join(dir, 'gate'), join(dir, 'release')];
    const app: ChildHandle = children.spawnNodeScript(
      MAIN,
      [
        'submit', '--master', cluster.masterUrl, '--conf', `flint.authenticate.secret.file=${cluster.secretFile}`,
        '--executor-cores', '2', '--total-executor-cores', '4', '--executor-memory', '256m',
        '--conf', 'flint.task.prefetch=0', '--conf', 'flint.ui.port=0',
        APP, 'gated-sum', String(RECORDS), gate, release,
      ],
      { label: 'gated-sum app' },
    );
    const appId = await waitFor(() => app.stdoutLines.find((l) => l.startsWith('APP '))?.slice(4), { timeoutMs: 60_000, what: 'the app to register' });
    const { url, bearer } = await waitFor(() => {
      if (app.exit !== undefined) assert.fail(`the app exited: ${app.stderr()}`);
      const stderr = app.stderr();
      const ui = /Application UI at (http:\/\/\S+)/.exec(stderr)?.[1];
      const login = /Application UI login[^:]*: (http:\/\/\S+)/.exec(stderr)?.[1];
      return ui === undefined || login === undefined ? undefined : { url: ui, bearer: { authorization: `Bearer ${new URL(login).searchParams.get('token') ?? ''}` } };
    }, { timeoutMs: 30_000, what: 'the app to print its UI URLs' });
    const driver = async (): Promise<DriverJson> => (await (await fetch(`${url}/json`, { headers: bearer, signal: AbortSignal.timeout(5_000) })).json()) as DriverJson;
    // The ungated half is done and 4 gated tasks hold the 4 cores.
    await waitFor(async () => {
      const job = (await driver()).jobs[0];
      return job !== undefined && job.tasksDone === RECORDS / 2 && job.tasksRunning === 4 ? job : undefined;
    }, { timeoutMs: 60_000, intervalMs: 200, what: 'half the tasks done and 4 running' });

    const before = status();
    const executors = before.applications.find((a) => a.id === appId)?.executors ?? [];
    assert.equal(executors.length, 2, 'two executors of 2 cores');
    const victim = executors[0] as { execId: number; workerId: string };
    const victimWorker = before.workers.find((w) => w.id === victim.workerId);
    const victimPid = cluster.workers.find((w) => w.rpcPort === victimWorker?.port)?.pid;
    assert.ok(victimWorker !== undefined && victimPid !== undefined, 'the victim worker process');
    const third = before.workers.find((w) => !executors.some((e) => e.workerId === w.id));
    assert.ok(third !== undefined, 'a worker without an executor of the app');
    const snapshot = (await driver()).executors.find((e) => e.executorId === String(victim.execId));
    assert.equal(snapshot?.activeTasks, 2, 'the victim executor runs 2 gated tasks');
    const completedBefore = snapshot.completedTasks;

    // sbin/decommission-worker.sh signals the worker named by its pid file (instance 1 here).
    const pidDir = join(dir, 'pid');
    mkdirSync(pidDir);
    writeFileSync(join(pidDir, 'flint-decomtest-worker-1.pid'), `${victimPid}\n`);
    const confDir = join(dir, 'conf');
    mkdirSync(confDir);
    const script = spawnSync(join(REPO_ROOT, 'sbin/decommission-worker.sh'), [], {
      env: { PATH: process.env['PATH'] ?? '/usr/bin:/bin', HOME: dir, FLINT_PID_DIR: pidDir, FLINT_IDENT_STRING: 'decomtest', FLINT_CONF_DIR: confDir },
      encoding: 'utf8',
      timeout: 30_000,
    });
    assert.equal(script.status, 0, `decommission-worker.sh: ${script.stdout}${script.stderr}`);
    assert.match(script.stdout, new RegExp(`decommissioning worker \\(process ${victimPid}\\)`));

    await waitFor(() => status().workers.find((w) => w.id === victimWorker.id)?.state === 'DECOMMISSIONED' || undefined, { timeoutMs: 30_000, intervalMs: 200, what: 'the worker DECOMMISSIONED on the master' });
    // The app's replacement executor goes to the third worker, never to the decommissioned one.
    await waitFor(() => status().applications.find((a) => a.id === appId)?.executors.some((e) => e.workerId === third.id) || undefined, { timeoutMs: 30_000, intervalMs: 200, what: 'a new executor on the third worker' });

    writeFileSync(gate, '');
    const expected = 2 * ((RECORDS * (RECORDS - 1)) / 2);
    await waitFor(() => app.stdoutLines.includes('READY') || undefined, { timeoutMs: 60_000, what: 'the job to end' });
    assert.ok(app.stdoutLines.includes(`RESULT ${expected}`), `exact result ${expected}: ${app.stdoutLines.join(' | ')}`);
    const end = await driver();
    assert.equal(end.jobs[0]?.state, 'SUCCEEDED');
    if (end.jobs[0]?.failedAttempts !== 0) {
      // Which attempts failed or were lost, where, and why: the job page's task table, as text.
      const page = await (await fetch(`${url}/jobs/job/?id=${end.jobs[0]?.jobId}`, { headers: bearer, signal: AbortSignal.timeout(5_000) })).text();
      const tasks = page.replace(/<[^>]+>/g, ' ').replace(/\s+/g, ' ').slice(0, 6_000);
      const driverLines = app.stderr().split('\n').filter((line) => /xecutor|ecommission/.test(line)).slice(-30).map((line) => line.slice(0, 400));
      assert.fail(`${end.jobs[0]?.failedAttempts} task attempts failed or were lost; the job's tasks: ${tasks}\nthe driver's log:\n${driverLines.join('\n')}\nthe cluster's logs:\n${executorLogs()}`);
    }
    assert.equal(end.jobs[0]?.killedAttempts, 0, 'no task was killed');
    const drained = await waitFor(async () => (await driver()).executors.find((e) => e.executorId === String(victim.execId) && e.removedReason !== undefined), { timeoutMs: 30_000, intervalMs: 200, what: 'the drained executor to leave' });
    assert.equal(drained.removedReason, 'decommissioned');
    assert.equal(drained.completedTasks, completedBefore + 2, 'it finished its 2 running tasks and took no new one');
    assert.equal(drained.failedTasks, 0);
    await waitFor(() => status().workers.find((w) => w.id === victimWorker.id)?.coresUsed === 0 || undefined, { timeoutMs: 30_000, intervalMs: 200, what: "the drained executor's cores freed on the master" });
    const launchesThere = readFileSync(join(cluster.dir, 'master.log'), 'utf8').split('\n').filter((l) => l.includes(`"Launching executor ${appId}/`) && l.includes(`on worker ${victimWorker.id}`));
    assert.equal(launchesThere.length, 1, 'only the first executor was ever launched on the decommissioned worker');

    // The operators' commands on this cluster.
    const table = flint(['status']);
    assert.equal(table.code, 0, table.stderr);
    assert.match(table.stdout, /^# Workers \(3\)$/m);
    assert.match(table.stdout, new RegExp(`^${victimWorker.id}\\t127\\.0\\.0\\.1:\\d+\\tDECOMMISSIONED\\t`, 'm'));
    assert.match(table.stdout, new RegExp(`^${cluster.masterUrl.replace(/[.]/g, '\\.')}\\tALIVE \\(leader\\)`, 'm'));
    const apps = flint(['apps']);
    assert.match(apps.stdout, new RegExp(`^${appId}\\ttest-app gated-sum\\tRUNNING\\t`, 'm'));
    const newExec = status().applications.find((a) => a.id === appId)?.executors.find((e) => e.workerId === third.id);
    const logs = flint(['logs', appId, String(newExec?.execId)]);
    assert.equal(logs.code, 0, logs.stderr);
    assert.ok(logs.stdout.length > 0, 'the executor wrote to its stderr');
    assert.match(flint(['logs', appId, '99']).stderr, new RegExp(`application ${appId} has no executor 99`));
    const killed = flint(['kill', appId]);
    assert.equal(killed.code, 0, killed.stderr);
    assert.equal(killed.stdout.trim(), `Application ${appId} killed`);
    writeFileSync(release, ''); // the app's main waits for it after its job
    const exit = await app.exited;
    assert.notEqual(exit.code, null);
    assert.equal(status().applications.find((a) => a.id === appId)?.state, 'KILLED');
    const again = flint(['kill', appId]);
    assert.equal(again.code, 1);
    assert.match(again.stderr, /is not running or does not exist/);
  });

  test("the master UI's /workers/kill/ and flint decommission drain workers by id; unknown ids are refused", async () => {
    const workers = status().workers.filter((w) => w.state === 'ALIVE');
    assert.ok(workers.length >= 2, 'two ALIVE workers left');
    const [viaUi, viaCli] = workers as [StatusJson['workers'][number], StatusJson['workers'][number]];
    const headers = { authorization: `Bearer ${cluster.uiToken}`, 'content-type': 'application/x-www-form-urlencoded' };
    const post = (body: string, auth = headers) => fetch(`${cluster.masterWebUiUrl}/workers/kill/`, { method: 'POST', headers: auth, body, signal: AbortSignal.timeout(10_000) });
    assert.equal((await post(`id=${viaUi.id}`, { authorization: '', 'content-type': headers['content-type'] })).status, 401, 'no token, no action');
    const ok = await post(`id=${encodeURIComponent(viaUi.id)}`);
    assert.equal(ok.status, 200);
    assert.deepEqual(await ok.json(), { decommissioned: 1 });
    assert.equal((await post('id=worker-nope')).status, 404);
    assert.equal((await post('')).status, 400);

    const cli = flint(['decommission', viaCli.id]);
    assert.equal(cli.code, 0, cli.stderr);
    assert.equal(cli.stdout.trim(), `Decommissioning 1 worker(s): ${viaCli.id}`);
    const unknown = flint(['decommission', 'worker-nope']);
    assert.equal(unknown.code, 1);
    assert.match(unknown.stderr, /no registered worker has the id worker-nope/);
    const noSecret = flint(['decommission', viaCli.id], false);
    assert.equal(noSecret.code, 1, 'without the cluster secret the command is refused');
    const states = status().workers.map((w) => w.state);
    assert.deepEqual(states, ['DECOMMISSIONED', 'DECOMMISSIONED', 'DECOMMISSIONED']);
    const unreachable = spawnSync(NODE_BIN, [MAIN, 'status', '--master', 'flint://127.0.0.1:1'], { cwd: REPO_ROOT, encoding: 'utf8', timeout: 30_000 });
    assert.equal(unreachable.status, 1);
    assert.match(unreachable.stderr, /no master answered: flint:\/\/127\.0\.0\.1:1: .*ECONNREFUSED/);
  });
});
