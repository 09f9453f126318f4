// Dynamic allocation on real processes (docs/applications.md, "Dynamic allocation"; Spark's
// ExecutorAllocationManager). A 2-worker cluster of 2 cores each; an app with flint.dynamicAllocation.enabled,
// minExecutors 1, 1-core executors, a 500 ms backlog timeout and a 2 s idle timeout runs a job of 16 one-record
// tasks whose second half waits for a gate file. It starts with one executor; while tasks wait the driver asks
// the master for 2, then 4 executors (Spark's ramp: one more, then two more); with 4 running, the gate opens,
// the result is exact, and the 3 executors idle for 2 s are released: the master's /json shows one executor
// left and 1 core used, and the application UI lists the others as released.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { LocalCluster } from '../../../src/daemons/local-cluster.ts';
import { ChildGroup, waitFor } from '../../helpers/process.ts';
import { appUiOf, submitTo } from '../../helpers/submit.ts';

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

  const master = async (): Promise<MasterJson> =>
    (await (await fetch(`${cluster.masterWebUiUrl}/json`, { headers: { authorization: `Bearer ${cluster.uiToken}` }, signal: AbortSignal.timeout(5_000) })).json()) as MasterJson;

  test('starts with minExecutors, ramps up 1 → 2 → 4 while tasks wait, releases idle executors after executorIdleTimeout', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'flint-dynalloc-'));
    const [gate, release] = [join(dir, 'gate'), join(dir, 'release')];
    const app = submitTo(
      children,
      cluster,
      [
        '--executor-cores', '1', '--executor-memory', '256m',
        '--conf', 'flint.task.prefetch=0', '--conf', 'flint.ui.port=0',
        '--conf', 'flint.dynamicAllocation.enabled=true',
        '--conf', 'flint.dynamicAllocation.minExecutors=1',
        '--conf', 'spark.dynamicAllocation.maxExecutors=4',
        '--conf', 'flint.dynamicAllocation.schedulerBacklogTimeout=500ms',
        '--conf', 'flint.dynamicAllocation.executorIdleTimeout=2s',
        APP, 'gated-sum', String(RECORDS), gate, release,
      ],
      'dynamic allocation app',
    );
    const appId = await waitFor(() => {
      if (app.exit !== undefined) assert.fail(`the app exited: ${app.stderr()}`);
      return app.stdoutLines.find((l) => l.startsWith('APP '))?.slice(4);
    }, { timeoutMs: 60_000, what: 'the app to register' });
    const ui = await appUiOf(app);
    const driver = (): Promise<DriverJson> => ui.json<DriverJson>();
    const appOf = async () => (await master()).activeapps.find((a) => a.id === appId);

    // The gated half holds the cores: four executors, one gated task each.
    await waitFor(async () => {
      const job = (await driver()).jobs[0];
      return job !== undefined && job.tasksDone === RECORDS / 2 && job.tasksRunning === 4 ? job : undefined;
    }, { timeoutMs: 90_000, intervalMs: 200, what: 'half the tasks done and 4 running on 4 executors' });
    const grown = await appOf();
    assert.equal(grown?.executors.length, 4, 'maxExecutors (4) executors, each of 1 core');
    const requests = readFileSync(join(cluster.dir, 'master.log'), 'utf8')
      .split('\n')
      .flatMap((l) => (l.includes(`Application ${appId} requested to set total executors to `) ? [Number(/to (\d+)\./.exec(l)?.[1])] : []));
    assert.deepEqual(requests, [1, 2, 4], "the initial target (minExecutors), then Spark's ramp: one more, then two more");

    writeFileSync(gate, '');
    const expected = 2 * ((RECORDS * (RECORDS - 1)) / 2);
    await waitFor(() => app.stdoutLines.includes('READY') || undefined, { timeoutMs: 60_000, what: 'the job to end' });
    assert.ok(app.stdoutLines.includes(`RESULT ${expected}`), `exact result ${expected}: ${app.stdoutLines.join(' | ')}`);
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
    const log = readFileSync(join(cluster.dir, 'master.log'), 'utf8');
    assert.match(log, new RegExp(`Application ${appId} requests to kill executors: `));
    writeFileSync(release, '');
    const exit = await app.exited;
    assert.equal(exit.code, 0, app.stderr());
  });
});
