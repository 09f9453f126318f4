// Shuffles end to end, on real processes: a master and workers started through the CLI, apps run by
// `flint submit`, executors started by the workers, map output written to the workers' disks and served by
// their shuffle services. The app (test/fixtures/apps/shuffle-app.ts) compares every operation with a plain
// evaluation of the same data on the driver; here we also kill workers and executors mid-shuffle, shuffle more
// than the executors' memory, exhaust a stage's attempts and check nothing is left on disk afterwards.
import assert from 'node:assert/strict';
import { existsSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { LocalCluster } from '../../../src/daemons/local-cluster.ts';
import { ChildGroup, executorsOf, waitFor, type ChildHandle } from '../../helpers/process.ts';
import { finished as appFinished, submitTo } from '../../helpers/submit.ts';
import { SHUFFLE_APP as APP, SHUFFLE_SUITE, appIdOf, shuffleOps } from '../../helpers/app-suite.ts';
import { tempDir } from '../../helpers/temp-dir.ts';

const children = new ChildGroup();

function spawn(cluster: LocalCluster, args: string[], label: string): ChildHandle {
  return submitTo(children, cluster, args, label);
}

function finished(child: ChildHandle, timeoutMs = 90000): ReturnType<typeof appFinished> {
  return appFinished(child, timeoutMs);
}

/** The shuffle directories of `appId` on the cluster's workers (`<workDir>/<appId>/shuffle`) that still exist. */
function shuffleDirs(cluster: LocalCluster, appId: string): string[] {
  return readdirSync(cluster.dir)
    .filter((d) => d.startsWith('worker-'))
    .map((d) => join(cluster.dir, d, appId, 'shuffle'))
    .filter((d) => existsSync(d));
}

function newGate(): string {
  return tempDir('flint-gate-');
}

function waiting(gate: string): number {
  return readdirSync(gate).filter((f) => f.startsWith('waiting-')).length;
}

describe('shuffles on a local cluster (1 master, 2 workers × 2 cores)', () => {
  let cluster: LocalCluster;
  before(async () => {
    cluster = await LocalCluster.start({ workers: 2, coresPerWorker: 2, memoryPerWorker: '2g', conf: ['flint.worker.timeout=4s'] });
  });
  after(async () => {
    await children.killAll();
    await cluster?.stop();
  });

  test('every key-value operation, text and JSON files, equal a plain evaluation; no shuffle file outlives the app', async () => {
    const run = await shuffleOps((args, label) => finished(spawn(cluster, ['--total-executor-cores', '2', ...args], label)), ['--executor-cores', '1']);
    const appId = appIdOf(run.stdout);
    // Map output was written on the workers, and is removed once the master tells them the app finished.
    await waitFor(() => shuffleDirs(cluster, appId).length === 0, { timeoutMs: 15_000, what: `the shuffle files of ${appId} to be removed` });
    assert.ok(existsSync(join(cluster.dir, 'worker-1', appId)) || existsSync(join(cluster.dir, 'worker-2', appId)), 'the executors’ logs stay');
  });

  // The rest of the shuffle apps local mode runs too (local-mode.test.ts).
  for (const { name, run } of SHUFFLE_SUITE.slice(1)) {
    test(name, () => run(async (args, label) => finished(spawn(cluster, ['--total-executor-cores', '2', ...args], label))));
  }

  test('a stage whose map output is lost on every attempt fails the job after 4 attempts, naming the stage', async () => {
    // One executor, so every map output is on the worker whose files the reduce function deletes: with two, a map
    // stage placed wholly on the other worker (a busy machine) leaves nothing to lose, and the job succeeds.
    const run = await finished(spawn(cluster, ['--total-executor-cores', '1', '--executor-cores', '1', APP, 'lose-output'], 'lose output'));
    assert.notEqual(run.code, 0);
    assert.doesNotMatch(run.stdout, /unexpected success/);
    assert.match(run.stderr, /Result stage of .* has failed the maximum allowable number of times: 4\. Most recent failure reason: .*shuffle 0, map \d+/);
  });

  test('a shuffle three times larger than the executors’ memory spills and completes', async () => {
    // 1,500,000 records of ~220 bytes (~330 MB) through executors with a 100 MiB heap each.
    const run = await finished(spawn(cluster, ['--total-executor-cores', '2', '--executor-cores', '1', '--executor-memory', '100m', APP, 'big', '1500000'], 'big shuffle'), 240_000);
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stdout, /^RESULT sorted$/m);
    assert.match(run.stdout, /^JOINED exact$/m);
  });
});

describe('shuffles survive lost workers and executors (kill -9, each on its own cluster of 3 workers × 1 core)', () => {
  const clusters: LocalCluster[] = [];
  after(async () => {
    await children.killAll();
    await Promise.all(clusters.map((c) => c.stop()));
  });

  async function killDuring(stage: 'map' | 'reduce', victim: 'worker' | 'executor', fetch: 'local' | 'remote'): Promise<void> {
    const cluster = await LocalCluster.start({ workers: 3, coresPerWorker: 1, memoryPerWorker: '1g', conf: ['flint.worker.timeout=3s'] });
    clusters.push(cluster);
    const gate = newGate();
    const app = spawn(
      cluster,
      ['--total-executor-cores', '3', '--executor-cores', '1', ...(fetch === 'remote' ? ['--conf', 'flint.shuffle.readHostLocalDisk=false'] : []), APP, 'gated', gate, stage],
      `kill a ${victim} during the ${stage} stage`,
    );
    // Every executor holds a task at the gate (map: 8 tasks on 3 cores; reduce: 4 tasks on 3 cores).
    await waitFor(() => waiting(gate) >= 3 || (app.exit !== undefined && assert.fail(`app exited: ${app.stderr()}`)), { timeoutMs: 60_000, what: `tasks of the ${stage} stage at the gate` });
    const appId = appIdOf(app.stdoutLines.join('\n'));
    if (victim === 'worker') {
      const worker = cluster.workers[1];
      assert.ok(worker?.pid !== undefined);
      process.kill(worker.pid, 'SIGKILL');
    } else {
      const executors = executorsOf(appId, cluster.dir);
      assert.ok(executors.length >= 3, `three executors run: ${executors.join(',')}`);
      process.kill(executors[0] as number, 'SIGKILL');
    }
    writeFileSync(join(gate, 'open'), '');
    const done = await finished(app, 120_000);
    assert.equal(done.code, 0, done.stderr);
    assert.match(done.stdout, /^RESULT exact$/m, done.stdout);
  }

  test('kill -9 a worker during the map stage', () => killDuring('map', 'worker', 'remote'));
  test('kill -9 a worker during the reduce stage', () => killDuring('reduce', 'worker', 'remote'));
  test('kill -9 an executor during the map stage', () => killDuring('map', 'executor', 'local'));
  test('kill -9 an executor during the reduce stage', () => killDuring('reduce', 'executor', 'remote'));
});
