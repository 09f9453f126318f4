// Custom resources end to end, on real processes (reference §5.6, §6.9; docs/resources.md): a master and two
// workers whose gpus come from fake discovery scripts this test writes (2 and 4 addresses), an application
// that asks for 2 gpus per executor and 1 per task. Executors on one worker get disjoint addresses (master
// /json), every task sees its own gpu through TaskContext.resources() and CUDA_VISIBLE_DEVICES, and tasks
// running at once on one executor never share one. The what-if planner (`POST /api/v1/plan`, `flint plan`)
// says where executors would go, which is where they then go, and why an app asking for more gpus per executor
// than any worker has stays WAITING.
import assert from 'node:assert/strict';
import { chmodSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { getJson, MAIN, newSecret, startMaster, startWorker, uiBearer, untilMasterJson, writeSecretFile, type MasterDaemon, type WorkerDaemon } from '../../helpers/daemons.ts';
import { ChildGroup, waitFor, type ChildHandle } from '../../helpers/process.ts';
import { finished } from '../../helpers/submit.ts';
import type { GpuTaskView } from '../../fixtures/apps/gpu-app.ts';
import type { PlanResponse } from '../../../src/protocol/messages.ts';
import { tempDir } from '../../helpers/temp-dir.ts';

const APP = 'test/fixtures/apps/gpu-app.ts';
const GPU_CONF = ['--conf', 'flint.executor.resource.gpu.amount=2', '--conf', 'flint.task.resource.gpu.amount=1'];

interface AppJson {
  id: string;
  state: string;
  executors: Array<{ id: number; worker: string; cores: number; state: string; resources: Record<string, { name: string; addresses: string[] }> }>;
}
interface WorkerJsonWithResources {
  id: string;
  resources: Record<string, { name: string; addresses: string[] }>;
  resourcesused: Record<string, { name: string; addresses: string[] }>;
  executors: Array<{ id: number; appid: string; resources?: Record<string, { name: string; addresses: string[] }> }>;
}

describe('gpus on two workers (2 and 4), found by discovery scripts', { timeout: 240_000 }, () => {
  const children = new ChildGroup();
  let dir = '';
  let secretFile = '';
  let master: MasterDaemon;
  let small: WorkerDaemon;
  let large: WorkerDaemon;

  /** A discovery script printing Spark's JSON for `count` gpus, as examples/getGpusResources.sh would. */
  function discoveryScript(name: string, count: number): string {
    const path = join(dir, name);
    const addresses = Array.from({ length: count }, (_, i) => `"${i}"`).join(',');
    writeFileSync(path, `#!/bin/sh\necho '{"name": "gpu", "addresses": [${addresses}]}'\n`);
    chmodSync(path, 0o755);
    return path;
  }

  const gpuWorker = (label: string, cores: number, gpus: number) =>
    startWorker(children, {
      label,
      masterUrl: master.url,
      secretFile,
      workDir: join(dir, label),
      cores,
      memory: '1g',
      conf: [`flint.worker.resource.gpu.amount=${gpus}`, `flint.worker.resource.gpu.discoveryScript=${discoveryScript(`${label}.sh`, gpus)}`],
    });

  before(async () => {
    dir = tempDir('flint-gpus-');
    secretFile = writeSecretFile(join(dir, 'secret'), newSecret());
    master = await startMaster(children, { label: 'master', secretFile });
    small = await gpuWorker('worker-2gpu', 2, 2);
    large = await gpuWorker('worker-4gpu', 4, 4);
    await untilMasterJson(master.webUiPort, (j) => j.aliveworkers === 2, 'both workers ALIVE', 30_000);
  });

  after(async () => {
    await children.killAll();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const submit = (args: string[], label: string): ChildHandle =>
    children.spawnNodeScript(MAIN, ['submit', '--master', master.url, '--conf', `flint.authenticate.secret.file=${secretFile}`, ...args], { label });

  async function plan(body: unknown): Promise<PlanResponse> {
    const res = await fetch(`http://127.0.0.1:${master.webUiPort}/api/v1/plan`, {
      method: 'POST',
      headers: { ...uiBearer(secretFile), 'content-type': 'application/json' },
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(5_000),
    });
    assert.equal(res.status, 200, `POST /api/v1/plan: ${res.status}`);
    return (await res.json()) as PlanResponse;
  }

  const appJson = async (appId: string): Promise<AppJson | undefined> =>
    (await getJson<{ activeapps: AppJson[] }>(master.webUiPort, uiBearer(secretFile))).activeapps.find((a) => a.id === appId);

  const placement = (list: Array<{ worker: string; gpus: readonly string[] }>): string[] => list.map((e) => `${e.worker} ${e.gpus.join(',')}`).sort();

  test('executors get disjoint gpus where the plan said; each task holds its own gpu, never shared with a concurrent task', async () => {
    const planned = await plan({ maxCores: 6, coresPerExecutor: 2, memoryMbPerExecutor: 256, resourceReqsPerExecutor: [{ name: 'gpu', amount: 2 }] });
    assert.deepEqual([planned.coresPlaced, planned.coresWaiting, planned.reasons], [6, 0, []], JSON.stringify(planned));
    const expected = [`${large.workerId} 0,1`, `${large.workerId} 2,3`, `${small.workerId} 0,1`].sort();
    assert.deepEqual(placement(planned.executors.map((e) => ({ worker: e.workerId, gpus: e.resources?.['gpu'] ?? [] }))), expected);

    const release = join(dir, 'release-run');
    const app = submit(['--total-executor-cores', '6', '--executor-cores', '2', '--executor-memory', '256m', ...GPU_CONF, APP, 'run', '3', '12', '400', release], 'gpu app');
    await waitFor(() => app.stdoutLines.includes('READY') || (app.exit !== undefined && assert.fail(`the app exited: ${app.stderr()}`)), { timeoutMs: 120_000, what: 'the gpu app to run its job' });
    const appId = (app.stdoutLines.find((l) => l.startsWith('APP ')) ?? '').slice(4);
    const views = JSON.parse((app.stdoutLines.find((l) => l.startsWith('RESULT ')) ?? '').slice(7)) as GpuTaskView[];

    // Where the executors went: exactly the plan, and no address of a worker held by two executors.
    const mine = await appJson(appId);
    assert.ok(mine, `${appId} in /json`);
    const executors = mine.executors.map((e) => ({ worker: e.worker, gpus: e.resources['gpu']?.addresses ?? [] }));
    assert.deepEqual(placement(executors), expected, 'the executors went where the plan said');
    // The worker's own /json shows the addresses its executors hold.
    const largeJson = await getJson<WorkerJsonWithResources>(large.webUiPort, uiBearer(secretFile));
    assert.deepEqual(largeJson.resources['gpu']?.addresses, ['0', '1', '2', '3']);
    assert.deepEqual(largeJson.resourcesused['gpu']?.addresses, ['0', '1', '2', '3'], 'both executors hold two gpus each');
    const smallJson = await getJson<WorkerJsonWithResources>(small.webUiPort, uiBearer(secretFile));
    assert.deepEqual(smallJson.resourcesused['gpu']?.addresses, ['0', '1']);

    // What the tasks saw.
    assert.deepEqual(views.map((v) => v.partition).sort((a, b) => a - b), Array.from({ length: 12 }, (_, i) => i));
    for (const v of views) {
      assert.equal(v.gpus.length, 1, `task ${v.partition} holds one gpu: ${JSON.stringify(v)}`);
      assert.equal(v.cudaAtStart, v.gpus.join(','), `CUDA_VISIBLE_DEVICES is the task's gpu: ${JSON.stringify(v)}`);
      assert.equal(v.cudaAtEnd, v.cudaAtStart);
      assert.ok(v.executorGpus.includes(v.gpus[0] as string), `task ${v.partition}'s gpu is its executor's: ${JSON.stringify(v)}`);
    }
    const executorGpus = [...new Map(views.map((v) => [v.pid, v.executorGpus.join(',')])).values()].sort();
    assert.deepEqual(executorGpus, ['0,1', '0,1', '2,3'], 'three executor processes, with the gpus the master assigned');
    let concurrent = 0;
    for (const a of views) {
      for (const b of views) {
        if (a.partition >= b.partition || a.pid !== b.pid || !(a.startMs < b.endMs && b.startMs < a.endMs)) continue;
        concurrent += 1;
        assert.notDeepEqual(a.gpus, b.gpus, `tasks ${a.partition} and ${b.partition} ran at once on one executor with the same gpu`);
      }
    }
    assert.ok(concurrent >= 3, `tasks ran at once on an executor (${concurrent} pairs), so the check above means something`);

    writeFileSync(release, 'go');
    const done = await finished(app, 60_000);
    assert.equal(done.code, 0, done.stderr);
    await untilMasterJson(master.webUiPort, (j) => j.workers.every((w) => w.coresused === 0), 'the gpu app to release its cores', 30_000);
  });

  test('an app asking more gpus per executor than any worker has stays WAITING; the planner and flint plan say why', async () => {
    const release = join(dir, 'release-wait');
    const app = submit(['--total-executor-cores', '2', '--executor-cores', '2', '--executor-memory', '256m', '--conf', 'flint.executor.resource.gpu.amount=8', APP, 'wait', release], 'greedy app');
    await waitFor(() => app.stdoutLines.includes('READY') || (app.exit !== undefined && assert.fail(`the app exited: ${app.stderr()}`)), { timeoutMs: 60_000, what: 'the greedy app to register' });
    const appId = (app.stdoutLines.find((l) => l.startsWith('APP ')) ?? '').slice(4);
    const waiting = await appJson(appId);
    assert.equal(waiting?.state, 'WAITING');
    assert.deepEqual(waiting.executors, []);

    const forApp = await plan({ appId });
    assert.equal(forApp.coresPlaced, 0);
    assert.deepEqual(forApp.reasons.map((r) => r.code), ['RESOURCE'], JSON.stringify(forApp.reasons));
    assert.match(forApp.reasons[0]?.message ?? '', /gpu/);
    assert.deepEqual([...(forApp.reasons[0]?.workerIds ?? [])].sort(), [large.workerId, small.workerId].sort());

    const cli = children.spawnNodeScript(
      MAIN,
      ['plan', '--master', master.url, '--conf', `flint.authenticate.secret.file=${secretFile}`, '--total-executor-cores', '2', '--executor-cores', '2', '--executor-memory', '256m', '--resource', 'gpu=8'],
      { label: 'flint plan' },
    );
    const out = await finished(cli, 60_000);
    assert.equal(out.code, 0, out.stderr);
    assert.match(out.stdout, /\+ 0 executor\(s\), 0 core\(s\) would start now/);
    assert.match(out.stdout, /- 2 core\(s\) would wait:\n\s+RESOURCE: .*gpu/);
    const json = await finished(children.spawnNodeScript(MAIN, ['plan', '--master', master.url, '--conf', `flint.authenticate.secret.file=${secretFile}`, '--resource', 'gpu=4', '--json'], { label: 'flint plan --json' }), 60_000);
    assert.equal(json.code, 0, json.stderr);
    const fits = JSON.parse(json.stdout) as PlanResponse;
    assert.deepEqual(fits.executors.map((e) => [e.workerId, e.resources?.['gpu']]), [[large.workerId, ['0', '1', '2', '3']]], 'only the 4-gpu worker can take an executor of 4 gpus');

    writeFileSync(release, 'go');
    assert.equal((await finished(app, 60_000)).code, 0);
  });
});
