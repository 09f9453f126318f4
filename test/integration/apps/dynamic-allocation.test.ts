// Dynamic allocation on real processes (docs/applications.md, "Dynamic allocation"; Spark's
// ExecutorAllocationManager). A 2-worker cluster of 2 cores each; an app with flint.dynamicAllocation.enabled,
// minExecutors 1, 1-core executors, a 500 ms backlog timeout and a 2 s idle timeout runs a job of 16 one-record
// tasks whose second half waits for a gate file. It starts with one executor; while tasks wait the driver asks
// the master for 2, then 4 executors (Spark's ramp: one more, then two more); with 4 running, the gate opens,
// the result is exact, and the 3 executors idle for 2 s are released: the master's /json shows one executor
// left and 1 core used, and the application UI lists the others as released. Then two such apps (minExecutors
// 0) share the cluster: B waits while A holds every core, and grows into them once A has gone idle.
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { LocalCluster } from '../../../src/daemons/local-cluster.ts';
import { ChildGroup, waitFor, type ChildHandle } from '../../helpers/process.ts';
import { appUiOf, submitTo } from '../../helpers/submit.ts';
import { tempDir } from '../../helpers/temp-dir.ts';

const APP = 'test/fixtures/apps/test-app.ts';
const RECORDS = 16;
const children = new ChildGroup();

interface MasterJson {
  coresused: number;
  activeapps: Array<{ id: string; cores: number; executors: Array<{ id: number; worker: string; cores: number; state: string }> }>;
}
interface DriverJson {
  jobs: Array<{ tasksDone: number; tasksRunning: number; failedAttempts: number; state: string }>;
  executors: Array<{ executorId: string; completedTasks: number; activeTasks: number; removedReason?: string }>;
}

describe('dynamic allocation', () => {
  let cluster: LocalCluster;
  before(async () => {
    cluster = await LocalCluster.start({ workers: 2, coresPerWorker: 2, memoryPerWorker: '1g', startTimeoutMs: 90_000 });
  });
  after(async () => {
    await children.killAll();
    await cluster?.stop();
  });

  /** A gated-sum app of RECORDS one-record tasks with dynamic allocation on (1-core executors, 500 ms backlog, 2 s idle). */
  const submitGatedSum = (label: string, conf: string[], gate: string, release: string): ChildHandle =>
    submitTo(
      children,
      cluster,
      [
        '--executor-cores', '1', '--executor-memory', '256m',
        ...['flint.task.prefetch=0', 'flint.ui.port=0', 'flint.dynamicAllocation.enabled=true', ...conf].flatMap((c) => ['--conf', c]),
        '--conf', 'flint.dynamicAllocation.schedulerBacklogTimeout=500ms',
        '--conf', 'flint.dynamicAllocation.executorIdleTimeout=2s',
        APP, 'gated-sum', String(RECORDS), gate, release,
      ],
      label,
    );
  const registered = (app: ChildHandle): Promise<string> =>
    waitFor(() => {
      if (app.exit !== undefined) assert.fail(`${app.label} exited: ${app.stderr()}`);
      return app.stdoutLines.find((l) => l.startsWith('APP '))?.slice(4);
    }, { timeoutMs: 60_000, what: `${app.label} to register` });
  /** Half the tasks done and `running` gated ones holding cores. */
  const gatedRunning = (json: () => Promise<DriverJson>, running: number, what: string) =>
    waitFor(async () => {
      const job = (await json()).jobs[0];
      return job !== undefined && job.tasksDone === RECORDS / 2 && job.tasksRunning === running ? job : undefined;
    }, { timeoutMs: 90_000, intervalMs: 200, what });
  /** The executor totals the app asked the master for, in order (the master logs each RequestExecutors). */
  const requestsOf = (appId: string): number[] =>
    readFileSync(join(cluster.dir, 'master.log'), 'utf8')
      .split('\n')
      .flatMap((l) => (l.includes(`Application ${appId} requested to set total executors to `) ? [Number(/to (\d+)\./.exec(l)?.[1])] : []));
  const EXPECTED = `RESULT ${2 * ((RECORDS * (RECORDS - 1)) / 2)}`;

  const master = async (): Promise<MasterJson> =>
    (await (await fetch(`${cluster.masterWebUiUrl}/json`, { headers: { authorization: `Bearer ${cluster.uiToken}` }, signal: AbortSignal.timeout(5_000) })).json()) as MasterJson;

  test('starts with minExecutors, ramps up 1 → 2 → 4 while tasks wait, releases idle executors after executorIdleTimeout', async () => {
    const dir = tempDir('flint-dynalloc-');
    const [gate, release] = [join(dir, 'gate'), join(dir, 'release')];
    const app = submitGatedSum('dynamic allocation app', ['flint.dynamicAllocation.minExecutors=1', 'spark.dynamicAllocation.maxExecutors=4'], gate, release);
    const appId = await registered(app);
    const ui = await appUiOf(app);
    const driver = (): Promise<DriverJson> => ui.json<DriverJson>();
    const appOf = async () => (await master()).activeapps.find((a) => a.id === appId);

    // The gated half holds the cores: four executors, one gated task each.
    await gatedRunning(driver, 4, 'half the tasks done and 4 running on 4 executors');
    const grown = await appOf();
    assert.equal(grown?.executors.length, 4, 'maxExecutors (4) executors, each of 1 core');
    const requests = requestsOf(appId);
    assert.deepEqual(requests, [1, 2, 4], "the initial target (minExecutors), then Spark's ramp: one more, then two more");

    writeFileSync(gate, '');
    await waitFor(() => app.stdoutLines.includes('READY') || undefined, { timeoutMs: 60_000, what: 'the job to end' });
    assert.ok(app.stdoutLines.includes(EXPECTED), `${EXPECTED}: ${app.stdoutLines.join(' | ')}`);
    assert.equal((await driver()).jobs[0]?.failedAttempts, 0, 'no task failed');

    // Idle for 2 s: all but minExecutors go, and their cores are free on the master.
    const shrunk = await waitFor(async () => {
      const state = await master();
      const mine = state.activeapps.find((a) => a.id === appId);
      return mine?.executors.length === 1 && state.coresused === 1 ? mine : undefined;
    }, { timeoutMs: 60_000, intervalMs: 200, what: 'three idle executors released, one core used' });
    assert.equal(shrunk.cores, 1);
    const executors = (await driver()).executors;
    assert.equal(executors.filter((e) => e.removedReason === 'released (idle)').length, 3, `three released in the UI: ${JSON.stringify(executors)}`);
    assert.equal(executors.filter((e) => e.removedReason === undefined).length, 1);
    const timeline = await ui.json<{ executors: Array<{ id: string; removedMs: number | null; reason: string | null }> }>('/api/timeline');
    assert.equal(timeline.executors.filter((e) => e.reason === 'released (idle)' && e.removedMs !== null).length, 3, "the jobs page's executor timeline shows the three released");
    const log = readFileSync(join(cluster.dir, 'master.log'), 'utf8');
    assert.match(log, new RegExp(`Application ${appId} requests to kill executors: `));
    writeFileSync(release, '');
    const exit = await app.exited;
    assert.equal(exit.code, 0, app.stderr());
  });

  test('two apps take turns: when one goes idle, the waiting one grows into its cores', async () => {
    const dir = tempDir('flint-dynalloc-turns-');
    const files = (name: string) => ({ gate: join(dir, `${name}-gate`), release: join(dir, `${name}-release`) });
    const [a, b] = [files('a'), files('b')];
    const first = submitGatedSum('app A', [], a.gate, a.release);
    const firstId = await registered(first);
    const firstUi = await appUiOf(first);
    await gatedRunning(() => firstUi.json<DriverJson>(), 4, 'app A holding all 4 cores');
    // B registers while A holds every core: it asks for executors and waits.
    const second = submitGatedSum('app B', [], b.gate, b.release);
    const secondId = await registered(second);
    const secondUi = await appUiOf(second);
    await waitFor(() => (requestsOf(secondId).some((n) => n >= 4) ? true : undefined), { timeoutMs: 60_000, intervalMs: 200, what: 'app B asking for 4 or more executors' });
    const waiting = (await master()).activeapps.find((x) => x.id === secondId);
    assert.equal(waiting?.executors.length, 0, 'B has no executor while A holds the cores');

    // A's job ends; idle for 2 s with minExecutors 0, A gives back every core, and B grows into them.
    writeFileSync(a.gate, '');
    await waitFor(() => first.stdoutLines.includes('READY') || undefined, { timeoutMs: 60_000, what: "A's job to end" });
    assert.ok(first.stdoutLines.includes(EXPECTED), first.stdoutLines.join(' | '));
    await gatedRunning(() => secondUi.json<DriverJson>(), 4, 'app B running 4 tasks on the freed cores');
    const state = await master();
    assert.equal(state.activeapps.find((x) => x.id === firstId)?.executors.length, 0, 'A released all its executors');
    assert.equal(state.activeapps.find((x) => x.id === secondId)?.executors.length, 4, 'B has the 4 cores');
    writeFileSync(b.gate, '');
    await waitFor(() => second.stdoutLines.includes('READY') || undefined, { timeoutMs: 60_000, what: "B's job to end" });
    assert.ok(second.stdoutLines.includes(EXPECTED), second.stdoutLines.join(' | '));
    writeFileSync(a.release, '');
    writeFileSync(b.release, '');
    assert.equal((await first.exited).code, 0, first.stderr());
    assert.equal((await second.exited).code, 0, second.stderr());
  });
});
