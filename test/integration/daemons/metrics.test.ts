// Prometheus metrics on a real cluster (docs/metrics.md): a master, two workers and an application whose two
// executors ran a job of 4 tasks. Every endpoint is scraped with the UI's bearer token, as Prometheus does, and
// its figures are checked against the cluster's own /json: workers alive, cores, apps running, executors, tasks
// succeeded; every metric has its HELP and TYPE, counters end in _total; no token, no scrape (401).
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { FlintConf } from '../../../src/conf/flint-conf.ts';
import { LocalCluster } from '../../../src/daemons/local-cluster.ts';
import { startMasterDaemon } from '../../../src/daemons/master-daemon.ts';
import { MemoryNetwork } from '../../../src/rpc/memory-transport.ts';
import { silentLogger } from '../../../src/util/logger.ts';
import { ChildGroup, waitFor } from '../../helpers/process.ts';
import { parsePrometheus, sample, type Scrape } from '../../helpers/prometheus.ts';
import { submitTo } from '../../helpers/submit.ts';
import { tempDir } from '../../helpers/temp-dir.ts';

const APP = 'test/fixtures/apps/test-app.ts';
const children = new ChildGroup();

describe('metrics of a cluster and an application', () => {
  let cluster: LocalCluster;
  before(async () => {
    cluster = await LocalCluster.start({ workers: 2, coresPerWorker: 1, memoryPerWorker: '1g' });
  });
  after(async () => {
    await children.killAll();
    await cluster?.stop();
  });

  test('every endpoint, scraped with the bearer token, agrees with the cluster state', async () => {
    const bearer = { authorization: `Bearer ${cluster.uiToken}` };
    const scrape = async (url: string, headers: Record<string, string> = bearer): Promise<Scrape> => {
      const response = await fetch(url, { headers });
      assert.equal(response.status, 200, `${url} answers`);
      assert.equal(response.headers.get('content-type'), 'text/plain; version=0.0.4; charset=utf-8');
      return parsePrometheus(await response.text());
    };
    const dir = tempDir('flint-metrics-');
    const release = join(dir, 'release');
    const app = submitTo(
      children,
      cluster,
      ['--conf', 'flint.ui.port=0', '--conf', 'flint.executor.heartbeatInterval=300ms', '--total-executor-cores', '2', APP, 'hold', release],
      'metrics hold',
    );
    try {
      await waitFor(() => {
        if (app.exit !== undefined) assert.fail(`the app exited: ${app.stderr()}`);
        return app.stdoutLines.includes('READY') ? true : undefined;
      }, { timeoutMs: 60_000, what: 'the app to run its job' });
      const appUi = /Application UI at (http:\/\/\S+)/.exec(app.stderr())?.[1];
      assert.ok(appUi !== undefined, 'the app printed its UI URL');
      const appToken = /Application UI login[^:]*: (http:\/\/\S+)/.exec(app.stderr())?.[1];
      const appBearer = { authorization: `Bearer ${new URL(appToken as string).searchParams.get('token') ?? ''}` };

      // Both executors run (the job may have been done by the first before the second registered).
      await waitFor(async () => sample(await scrape(`${appUi}/metrics/prometheus`, appBearer), 'flint_app_executors') === 2, {
        timeoutMs: 30_000,
        intervalMs: 200,
        what: 'two executors registered with the driver',
      });

      // The master: the same figures as its /json.
      const state = (await (await fetch(`${cluster.masterWebUiUrl}/json`, { headers: bearer })).json()) as {
        cores: number;
        coresused: number;
        memory: number;
        activeapps: Array<{ id: string; state: string; cores: number }>;
      };
      const master = await scrape(`${cluster.masterWebUiUrl}/metrics/master/prometheus`);
      assert.equal(sample(master, 'flint_master_workers', { state: 'ALIVE' }), 2);
      assert.equal(sample(master, 'flint_master_cores'), state.cores);
      assert.equal(sample(master, 'flint_master_cores'), 2);
      assert.equal(sample(master, 'flint_master_memory_bytes'), state.memory * 1024 * 1024);
      assert.equal(sample(master, 'flint_master_applications', { state: 'RUNNING' }), 1);
      assert.equal(sample(master, 'flint_master_recovery_state', { state: 'ALIVE' }), 1);
      assert.ok((sample(master, 'flint_master_rpc_messages_total', { type: 'RegisterWorker' }) ?? 0) >= 2, 'both registrations were counted');
      assert.ok((sample(master, 'flint_master_rpc_messages_total', { type: 'Heartbeat' }) ?? 0) >= 1);
      assert.ok((sample(master, 'flint_master_schedule_duration_seconds_count') ?? 0) >= 1, 'schedule() passes were timed');
      assert.equal(sample(master, 'flint_master_rpc_handshake_failures_total'), 0);
      checkConventions(master);
      const apps = await scrape(`${cluster.masterWebUiUrl}/metrics/applications/prometheus`);
      const appId = state.activeapps[0]?.id as string;
      assert.equal(sample(apps, 'flint_application_cores', { app_id: appId }), 2);
      assert.equal(sample(apps, 'flint_application_executors', { app_id: appId }), 2);
      assert.equal(sample(apps, 'flint_application_status', { app_id: appId, state: 'RUNNING' }), 1);
      checkConventions(apps);
      const json = (await (await fetch(`${cluster.masterWebUiUrl}/metrics/master/json`, { headers: bearer })).json()) as Array<{ name: string; values: Array<{ value: number; labels: Record<string, string> }> }>;
      assert.equal(json.find((m) => m.name === 'flint_master_cores')?.values[0]?.value, 2, 'the JSON twin holds the same figures');

      // Each worker: one executor of one core.
      for (const worker of cluster.workers) {
        const url = `http://127.0.0.1:${worker.webUiPort}`;
        const figures = await scrape(`${url}/metrics/prometheus`);
        const own = (await (await fetch(`${url}/json`, { headers: bearer })).json()) as { coresused: number; cores: number; executors: unknown[] };
        assert.equal(sample(figures, 'flint_worker_executors'), own.executors.length);
        assert.equal(sample(figures, 'flint_worker_executors'), 1);
        assert.equal(sample(figures, 'flint_worker_cores_used'), own.coresused);
        assert.equal(sample(figures, 'flint_worker_cores_free'), own.cores - own.coresused);
        assert.equal(sample(figures, 'flint_worker_executor_launches_total'), 1);
        assert.ok((sample(figures, 'flint_worker_work_dir_bytes') ?? 0) > 0, 'the executor\'s logs are in the work dir');
        checkConventions(figures);
        assert.equal((await fetch(`${url}/metrics/prometheus`)).status, 401, 'no token, no scrape');
      }

      // The application: its job of 4 tasks ran on its 2 executors.
      const appJson = (await (await fetch(`${appUi}/json`, { headers: appBearer })).json()) as { executors: Array<{ executorId: string; completedTasks: number; removedMs?: number }> };
      const application = await scrape(`${appUi}/metrics/prometheus`, appBearer);
      assert.equal(sample(application, 'flint_app_executors'), 2);
      assert.equal(sample(application, 'flint_app_tasks_completed_total', { result: 'succeeded' }), 4);
      assert.equal(sample(application, 'flint_app_tasks_completed_total', { result: 'failed' }), 0);
      assert.equal(sample(application, 'flint_app_task_duration_seconds_count'), 4);
      assert.equal(sample(application, 'flint_app_jobs_completed_total', { result: 'succeeded' }), 1);
      assert.equal(sample(application, 'flint_app_jobs_active'), 0);
      assert.equal(sample(application, 'flint_app_stages_completed_total', { result: 'succeeded' }), 1);
      assert.ok((sample(application, 'flint_app_result_bytes_total') ?? 0) > 0);
      checkConventions(application);
      // Executors: the scheduler's counts at once, heap and RSS once a heartbeat (every 300 ms here) carried them.
      const executors = await waitFor(async () => {
        const s = await scrape(`${appUi}/metrics/executors/prometheus`, appBearer);
        return s.samples.filter((x) => x.name === 'flint_executor_rss_bytes').length === 2 ? s : undefined;
      }, { timeoutMs: 30_000, intervalMs: 200, what: 'both executors\' heartbeat figures' });
      let completed = 0;
      for (const e of appJson.executors.filter((x) => x.removedMs === undefined)) {
        const labels = { executor_id: e.executorId };
        const done = sample(executors, 'flint_executor_completed_tasks_total', labels) ?? -1;
        assert.equal(done, e.completedTasks, `executor ${e.executorId}'s completed tasks`);
        completed += done;
        assert.equal(sample(executors, 'flint_executor_active_tasks', labels), 0);
        assert.ok((sample(executors, 'flint_executor_heap_used_bytes', labels) ?? 0) > 1_000_000);
        assert.ok((sample(executors, 'flint_executor_rss_bytes', labels) ?? 0) > 10_000_000);
        assert.ok((sample(executors, 'flint_executor_gc_time_seconds_total', labels) ?? -1) >= 0);
      }
      assert.equal(completed, 4, 'the executors completed the job\'s 4 tasks between them');
      checkConventions(executors);

      // No token, no scrape, on every endpoint.
      for (const url of [`${cluster.masterWebUiUrl}/metrics/master/prometheus`, `${cluster.masterWebUiUrl}/metrics/applications/json`, `${appUi}/metrics/prometheus`, `${appUi}/metrics/executors/prometheus`]) {
        assert.equal((await fetch(url)).status, 401, `${url} without a token`);
        assert.equal((await fetch(url, { headers: { authorization: 'Bearer not-the-token-at-all' } })).status, 401, `${url} with a wrong token`);
      }
    } finally {
      writeFileSync(release, 'go');
      await app.exited;
    }
  });
});

describe('flint.metrics.enabled', () => {
  test('false: the master serves no metrics (404 behind the login), true: it does', async () => {
    for (const enabled of [false, true]) {
      const conf = new FlintConf([
        ['flint.authenticate', 'false'],
        ['flint.ui.token', 'a-token-for-the-metrics-test'],
        ['flint.metrics.enabled', String(enabled)],
      ]);
      const network = new MemoryNetwork();
      const master = await startMasterDaemon({ conf, logger: silentLogger, host: '10.1.0.1', port: 7077, webUiPort: 0, webUiHost: '127.0.0.1', transport: network.create });
      try {
        const headers = { authorization: 'Bearer a-token-for-the-metrics-test' };
        for (const path of ['/metrics/master/prometheus', '/metrics/master/json', '/metrics/applications/prometheus']) {
          const response = await fetch(`http://127.0.0.1:${master.webUiPort}${path}`, { headers });
          assert.equal(response.status, enabled ? 200 : 404, `${path} with flint.metrics.enabled=${enabled}`);
          assert.equal((await fetch(`http://127.0.0.1:${master.webUiPort}${path}`)).status, 401, 'no token: 401 first, whether or not the path exists');
        }
      } finally {
        await master.shutdown('test over');
      }
    }
    const bad = new FlintConf([['flint.authenticate', 'false'], ['flint.metrics.enabled', 'yes please']]);
    await assert.rejects(
      startMasterDaemon({ conf: bad, logger: silentLogger, host: '10.1.0.2', port: 7077, webUiPort: 0, webUiHost: '127.0.0.1', transport: new MemoryNetwork().create }),
      /flint\.metrics\.enabled="yes please" is not a boolean; expected true or false/,
    );
  });
});

/** Every metric has HELP and TYPE lines, a `flint_` name, counters end in `_total` and nothing else does. */
function checkConventions(scrape: Scrape): void {
  assert.ok(scrape.families.size > 0);
  for (const [name, family] of scrape.families) {
    assert.match(name, /^flint_[a-z0-9_]+$/, name);
    assert.ok(family.help !== undefined && family.help.length > 10, `${name} has a HELP line`);
    assert.ok(family.type !== undefined, `${name} has a TYPE line`);
    assert.equal(name.endsWith('_total'), family.type === 'counter', `${name}: _total iff a counter`);
    if (!['counter', 'histogram'].includes(family.type as string)) assert.ok(!/_(ms|mb|kb)$/.test(name), `${name} is in base units`);
  }
}
