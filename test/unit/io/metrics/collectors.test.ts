// The metrics' collectors over constructed state (docs/metrics.md): a master driven by the unit harness, a
// worker's snapshot, a driver's scheduler stand-in. Each scrape is parsed as Prometheus would and checked
// against the state it was read from.
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { AppMetrics } from '../../../../src/io/metrics/app-metrics.ts';
import { DirSize } from '../../../../src/io/metrics/dir-size.ts';
import { MasterMetrics } from '../../../../src/io/metrics/master-metrics.ts';
import { executorExitReason, WorkerMetrics } from '../../../../src/io/metrics/worker-metrics.ts';
import type { WorkerSnapshot } from '../../../../src/worker/index.ts';
import { parsePrometheus, sample, type Scrape } from '../../../helpers/prometheus.ts';
import { persistedApp, persistedWorker, seededRng, TestMaster } from '../../master/harness.ts';
import { tempDir } from '../../../helpers/temp-dir.ts';

async function scrape(registry: { metrics(): Promise<string> }): Promise<Scrape> {
  return parsePrometheus(await registry.metrics());
}

/** HELP and TYPE on every family; `_total` exactly on counters; the `flint_` prefix. */
function assertConventions(s: Scrape): void {
  for (const [name, family] of s.families) {
    assert.match(name, /^flint_[a-z0-9_]+$/);
    assert.ok(family.help !== undefined && family.type !== undefined, `${name} has HELP and TYPE`);
    assert.equal(name.endsWith('_total'), family.type === 'counter', `${name}: _total iff a counter`);
  }
}

describe('MasterMetrics', () => {
  test('workers, apps, cores and memory as the state has them; schedule() passes timed; messages counted', async () => {
    let nowMs = 0;
    let failures = 0;
    const holder: { m?: TestMaster } = {};
    const metrics = new MasterMetrics({ state: () => holder.m?.state, now: () => nowMs, handshakeFailures: () => failures });
    const empty = await scrape(metrics.registry);
    assert.equal(sample(empty, 'flint_master_cores'), 0, 'no machine yet: nothing read, no failure');
    assert.equal(sample(empty, 'flint_master_workers', { state: 'ALIVE' }), undefined);
    const m = (holder.m = new TestMaster({}, seededRng(7), metrics.probes));
    nowMs = m.now;
    m.elect();
    metrics.afterInput();
    for (const id of ['w1', 'w2', 'w3']) m.registerWorker(id, { cores: 4, memoryMb: 4096 });
    const { appId } = m.registerApp('client1', { maxCores: 6, coresPerExecutor: 2, memoryMbPerExecutor: 512 });
    m.disconnect(m.state.idToWorker.get('w3')?.envId as string);
    metrics.countMessage('Heartbeat');
    metrics.countMessage('Heartbeat');
    metrics.countMessage('RegisterWorker');
    failures = 3;

    const s = await scrape(metrics.registry);
    assertConventions(s);
    assert.equal(sample(s, 'flint_master_workers', { state: 'ALIVE' }), 2);
    assert.equal(sample(s, 'flint_master_workers', { state: 'DEAD' }), 1);
    assert.equal(sample(s, 'flint_master_workers', { state: 'DECOMMISSIONED' }), 0);
    assert.equal(sample(s, 'flint_master_cores'), 8, 'the ALIVE workers only');
    assert.equal(sample(s, 'flint_master_memory_bytes'), 8192 * 1024 * 1024);
    const used = [...m.state.idToWorker.values()].reduce((n, w) => n + w.coresUsed, 0);
    assert.ok(used > 0, 'executors were placed');
    assert.equal(sample(s, 'flint_master_cores_used'), used);
    assert.equal(sample(s, 'flint_master_memory_used_bytes'), (used / 2) * 512 * 1024 * 1024);
    const appState = m.state.idToApp.get(appId)?.state as string;
    assert.equal(sample(s, 'flint_master_applications', { state: appState }), 1);
    assert.equal(sample(s, 'flint_master_applications', { state: 'FINISHED' }), 0);
    assert.equal(sample(s, 'flint_master_waiting_applications'), appState === 'WAITING' ? 1 : 0);
    assert.equal(sample(s, 'flint_master_recovery_state', { state: 'ALIVE' }), 1);
    assert.equal(sample(s, 'flint_master_recovery_state', { state: 'STANDBY' }), 0);
    assert.equal(sample(s, 'flint_master_rpc_messages_total', { type: 'Heartbeat' }), 2);
    assert.equal(sample(s, 'flint_master_rpc_messages_total', { type: 'RegisterWorker' }), 1);
    assert.equal(sample(s, 'flint_master_rpc_handshake_failures_total'), 3);
    assert.ok((sample(s, 'flint_master_schedule_duration_seconds_count') ?? 0) >= 4, 'one pass per registration and removal');
    assert.equal(sample(s, 'flint_master_recovery_seconds_total'), 0);

    const apps = await scrape(metrics.applications);
    assertConventions(apps);
    const app = m.state.idToApp.get(appId);
    assert.equal(sample(apps, 'flint_application_cores', { app_id: appId }), app?.coresGranted);
    assert.equal(sample(apps, 'flint_application_executors', { app_id: appId }), app?.executors.size);
    assert.equal(sample(apps, 'flint_application_status', { app_id: appId, app_name: 'test', state: appState }), 1);
  });

  test('time spent recovering: the recovery under way, then the finished one', async () => {
    const m = new TestMaster();
    let nowMs = 1_000;
    const metrics = new MasterMetrics({ state: () => m.state, now: () => nowMs, handshakeFailures: () => 0 });
    m.elect({ apps: [persistedApp('app-1', 'c1')], drivers: [], workers: [persistedWorker('w1')] });
    assert.equal(m.state.recoveryState, 'RECOVERING');
    metrics.afterInput();
    nowMs += 2_500;
    assert.equal(sample(await scrape(metrics.registry), 'flint_master_recovery_seconds_total'), 2.5, 'the recovery under way counts');
    m.timer('CompleteRecovery');
    assert.equal(m.state.recoveryState, 'ALIVE');
    nowMs += 500;
    metrics.afterInput();
    nowMs += 10_000;
    const s = await scrape(metrics.registry);
    assert.equal(sample(s, 'flint_master_recovery_seconds_total'), 3, 'ALIVE time is not recovery time');
    assert.equal(sample(s, 'flint_master_recovery_state', { state: 'ALIVE' }), 1);
  });
});

function workerSnapshot(over: Partial<WorkerSnapshot> = {}): WorkerSnapshot {
  const executor = { appId: 'app-1', execId: 0, fullId: 'app-1/0', state: 'RUNNING', cores: 2, memoryMb: 512 } as WorkerSnapshot['executors'][number];
  return {
    cores: 8,
    memoryMb: 8192,
    coresUsed: 2,
    memoryUsedMb: 512,
    coresFree: 6,
    memoryFreeMb: 7680,
    registered: true,
    executors: [executor],
    drivers: [],
    ...over,
  } as WorkerSnapshot;
}

describe('WorkerMetrics', () => {
  test('the snapshot\'s figures, launches, exits by reason and the work dir\'s bytes', async () => {
    const dir = tempDir('flint-worker-metrics-');
    mkdirSync(join(dir, 'app-1', '0'), { recursive: true });
    writeFileSync(join(dir, 'app-1', '0', 'stdout'), 'x'.repeat(1000));
    writeFileSync(join(dir, 'app-1', '0', 'stderr'), 'y'.repeat(234));
    const metrics = new WorkerMetrics({ snapshot: () => workerSnapshot(), workDir: new DirSize(dir) });
    metrics.executorLaunched();
    metrics.executorLaunched();
    metrics.executorEnded(executorExitReason({ code: 0 }, false));
    metrics.executorEnded(executorExitReason({ code: null }, true));
    metrics.executorEnded('launch_failed');
    const s = await scrape(metrics.registry);
    assertConventions(s);
    assert.equal(sample(s, 'flint_worker_executors'), 1);
    assert.equal(sample(s, 'flint_worker_cores_used'), 2);
    assert.equal(sample(s, 'flint_worker_cores_free'), 6);
    assert.equal(sample(s, 'flint_worker_memory_used_bytes'), 512 * 1024 * 1024);
    assert.equal(sample(s, 'flint_worker_memory_free_bytes'), 7680 * 1024 * 1024);
    assert.equal(sample(s, 'flint_worker_registered'), 1);
    assert.equal(sample(s, 'flint_worker_executor_launches_total'), 2);
    assert.equal(sample(s, 'flint_worker_executor_exits_total', { reason: 'exited' }), 1);
    assert.equal(sample(s, 'flint_worker_executor_exits_total', { reason: 'killed' }), 1);
    assert.equal(sample(s, 'flint_worker_executor_exits_total', { reason: 'launch_failed' }), 1);
    assert.equal(sample(s, 'flint_worker_executor_exits_total', { reason: 'failed' }), 0, 'shown at zero');
    assert.equal(sample(s, 'flint_worker_work_dir_bytes'), 1234);
  });

  test('exit reasons: the worker\'s kill wins over the code; a signal or another code is a failure', () => {
    assert.equal(executorExitReason({ code: 1 }, true), 'killed');
    assert.equal(executorExitReason({ code: 0 }, false), 'exited');
    assert.equal(executorExitReason({ code: 137 }, false), 'failed');
    assert.equal(executorExitReason({ code: null }, false), 'failed');
  });
});

describe('DirSize', () => {
  test('bounded: stops at maxEntries and says so; cached for maxAgeMs, then walked again', async () => {
    const dir = tempDir('flint-dir-size-');
    for (let i = 0; i < 10; i++) writeFileSync(join(dir, `f${i}`), 'z'.repeat(10));
    const bounded = await new DirSize(dir, { maxEntries: 4 }).read();
    assert.equal(bounded.truncated, true);
    assert.equal(bounded.entries, 4);
    assert.equal(bounded.bytes, 40);
    let nowMs = 0;
    const size = new DirSize(dir, { maxAgeMs: 1_000, now: () => nowMs });
    assert.deepEqual(await size.read(), { bytes: 100, entries: 10, truncated: false });
    writeFileSync(join(dir, 'more'), 'z'.repeat(50));
    nowMs = 999;
    assert.equal((await size.read()).bytes, 100, 'the cached figure');
    nowMs = 1_000;
    assert.equal((await size.read()).bytes, 100, 'a stale figure is answered at once while a new walk starts');
    const walked = await new Promise<number>((resolve) => {
      const poll = (): void => void size.read().then((f) => (f.bytes === 150 ? resolve(f.bytes) : setImmediate(poll)));
      poll();
    });
    assert.equal(walked, 150);
    assert.deepEqual(await new DirSize(join(dir, 'missing')).read(), { bytes: 0, entries: 0, truncated: false });
  });
});

describe('AppMetrics', () => {
  const snapshot = {
    executors: [
      { executorId: '0', launched: true },
      { executorId: '1', launched: true },
      { executorId: '2', launched: false },
    ],
    tasks: [{ taskId: 9 }],
  };
  const history = {
    executors: [
      { executorId: '0', activeTasks: 1, completedTasks: 5, failedTasks: 1, totalTaskTimeMs: 2_500, removedMs: undefined },
      { executorId: '1', activeTasks: 0, completedTasks: 3, failedTasks: 0, totalTaskTimeMs: 1_000, removedMs: undefined },
      { executorId: 'gone', activeTasks: 0, completedTasks: 7, failedTasks: 0, totalTaskTimeMs: 9_000, removedMs: 5 },
    ],
  };
  const machine = { snapshot: () => snapshot, historySnapshot: () => history } as unknown as ConstructorParameters<typeof AppMetrics>[0];

  test('tasks by result with their durations and result bytes; jobs, stages and shuffle bytes by their events', async () => {
    const metrics = new AppMetrics(machine);
    const update = (state: 'FINISHED' | 'FAILED' | 'RUNNING', runTimeMs: number, resultBytes: number) =>
      metrics.statusUpdate({ type: 'StatusUpdate', executorId: '0', taskId: 1, state, metrics: { runTimeMs, resultBytes, records: 1 } });
    update('RUNNING', 0, 0);
    update('FINISHED', 20, 100);
    update('FINISHED', 2_000, 50);
    update('FAILED', 7, 0);
    metrics.jobStarted();
    metrics.stageStarted();
    metrics.stageEnded('RESUBMITTED');
    metrics.stageStarted();
    metrics.shuffleWritten(4096);
    metrics.shuffleRead(1024);
    metrics.shuffleRead(0);
    const s = await scrape((await metrics.registries()).registry);
    assertConventions(s);
    assert.equal(sample(s, 'flint_app_executors'), 2, 'launched ones');
    assert.equal(sample(s, 'flint_app_tasks_active'), 1);
    assert.equal(sample(s, 'flint_app_tasks_completed_total', { result: 'succeeded' }), 2);
    assert.equal(sample(s, 'flint_app_tasks_completed_total', { result: 'failed' }), 1);
    assert.equal(sample(s, 'flint_app_tasks_completed_total', { result: 'lost' }), 0);
    assert.equal(sample(s, 'flint_app_task_duration_seconds_count'), 3);
    assert.equal(sample(s, 'flint_app_task_duration_seconds_sum'), 2.027);
    assert.equal(sample(s, 'flint_app_task_duration_seconds_bucket', { le: '0.05' }), 2);
    assert.equal(sample(s, 'flint_app_result_bytes_total'), 150);
    assert.equal(sample(s, 'flint_app_jobs_active'), 1);
    assert.equal(sample(s, 'flint_app_stages_active'), 1);
    assert.equal(sample(s, 'flint_app_stages_completed_total', { result: 'resubmitted' }), 1);
    assert.equal(sample(s, 'flint_app_shuffle_write_bytes_total'), 4096);
    assert.equal(sample(s, 'flint_app_shuffle_read_bytes_total'), 1024);
    metrics.jobEnded(false);
    const after = await scrape((await metrics.registries()).registry);
    assert.equal(sample(after, 'flint_app_jobs_active'), 0);
    assert.equal(sample(after, 'flint_app_jobs_completed_total', { result: 'failed' }), 1);
    assert.equal(sample(after, 'flint_app_jobs_completed_total', { result: 'succeeded' }), 0);
  });

  test('each live executor by executor_id: the scheduler\'s counts, and its heartbeat\'s figures once one came', async () => {
    const metrics = new AppMetrics(machine);
    metrics.heartbeat({ type: 'ExecutorHeartbeat', executorId: '0', running: [], figures: { heapUsedBytes: 5e6, rssBytes: 6e7, gcTimeMs: 1_500 } });
    metrics.heartbeat({ type: 'ExecutorHeartbeat', executorId: 'gone', running: [], figures: { heapUsedBytes: 1, rssBytes: 1, gcTimeMs: 1 } });
    metrics.heartbeat({ type: 'ExecutorHeartbeat', executorId: '1', running: [] });
    const s = await scrape((await metrics.registries()).executors);
    assertConventions(s);
    assert.equal(sample(s, 'flint_executor_active_tasks', { executor_id: '0' }), 1);
    assert.equal(sample(s, 'flint_executor_completed_tasks_total', { executor_id: '0' }), 5);
    assert.equal(sample(s, 'flint_executor_failed_tasks_total', { executor_id: '0' }), 1);
    assert.equal(sample(s, 'flint_executor_task_time_seconds_total', { executor_id: '1' }), 1);
    assert.equal(sample(s, 'flint_executor_gc_time_seconds_total', { executor_id: '0' }), 1.5);
    assert.equal(sample(s, 'flint_executor_heap_used_bytes', { executor_id: '0' }), 5e6);
    assert.equal(sample(s, 'flint_executor_rss_bytes', { executor_id: '0' }), 6e7);
    assert.equal(sample(s, 'flint_executor_rss_bytes', { executor_id: '1' }), undefined, 'no figures sent: no series');
    assert.equal(s.samples.filter((x) => x.labels['executor_id'] === 'gone').length, 0, 'a removed executor is not exported');
  });
});
