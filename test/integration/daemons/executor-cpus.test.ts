// flint.worker.executorCpus (src/worker/cpu-binding.ts, src/io/child-process/cpu-affinity.ts) on real processes:
// a master and one worker (2 cores, standby executors on, its executors bound to one CPU) started through the
// CLI, an app run by `flint submit` with two executors of one core. The first adopts the waiting standby, which is
// bound when adopted; the second is a process started bound. Every thread of both runs on that CPU alone, the
// worker's /json says so, and the standby started after the adoption waits unbound.

import assert from 'node:assert/strict';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { LocalCluster } from '../../../src/daemons/local-cluster.ts';
import { STANDBY_FLAG } from '../../../src/io/child-process/adoption-line.ts';
import { allowedCpus } from '../../../src/io/child-process/cpu-affinity.ts';
import { formatCpuList } from '../../../src/worker/cpu-binding.ts';
import { uiBearer } from '../../helpers/daemons.ts';
import { ChildGroup, executorsOf, processesOf, threadCpuLists, waitFor } from '../../helpers/process.ts';
import { finished, submitTo } from '../../helpers/submit.ts';
import { tempDir } from '../../helpers/temp-dir.ts';

const APP = 'test/fixtures/apps/test-app.ts';
const children = new ChildGroup();
const allowed = allowedCpus() ?? [];
/** The last CPU the tests may use: binding to it differs from not binding on a machine of two or more. */
const target = allowed.at(-1) as number;

/** The Cpus_allowed_lists of the threads of the process `pid`, each once. */
function threadCpus(pid: number): string[] {
  return [...new Set(threadCpuLists(pid))];
}

describe('executors bound to a CPU (1 master, 1 worker × 2 cores, flint.worker.executorCpus)', () => {
  let cluster: LocalCluster;

  before(async () => {
    assert.ok(allowed.length >= 2, `the tests need two CPUs to tell a binding apart; this process may use ${formatCpuList(allowed)}`);
    cluster = await LocalCluster.start({ workers: 1, coresPerWorker: 2, memoryPerWorker: '3g', workerConf: () => [`flint.worker.executorCpus=${target}`] });
  });
  after(async () => {
    await children.killAll();
    await cluster?.stop();
  });

  test('an adopted standby and a started process both run every thread on the worker\'s CPU; the next standby is unbound', async () => {
    await cluster.awaitStandbys();
    const marker = join(tempDir('flint-executor-cpus-'), 'release');
    const app = submitTo(children, cluster, ['--total-executor-cores', '2', '--executor-cores', '1', APP, 'hold', marker], 'bound app');
    await waitFor(() => app.stdoutLines.includes('READY') || (app.exit !== undefined && assert.fail(`the app exited: ${app.stderr()}`)), {
      timeoutMs: 30_000,
      what: 'the app to run its first job',
    });
    const appId = app.stdoutLines.find((l) => l.startsWith('APP '))?.slice(4) as string;
    const executors = executorsOf(appId, cluster.dir);
    assert.equal(executors.length, 2, `two executor processes for ${appId}`);
    // One of them was the standby (its stderr says it was adopted), the other started for the app.
    const adopted = executors.map((pid) => {
      const execId = readdirSync(join(cluster.dir, 'worker-1', appId)).find((id) => readFileSync(join(cluster.dir, 'worker-1', appId, id, 'stderr'), 'utf8').includes(`standby executor process ${pid},`));
      return execId !== undefined;
    });
    assert.deepEqual(adopted.sort(), [false, true], 'one adopted standby and one started process');
    for (const pid of executors) assert.deepEqual(threadCpus(pid), [String(target)], `every thread of executor process ${pid}`);

    const headers = { headers: uiBearer(cluster.secretFile) };
    const json = (await (await fetch(`http://127.0.0.1:${cluster.workers[0]?.webUiPort}/json`, headers)).json()) as { executors: Array<{ appid: string; cpus?: string }> };
    assert.deepEqual(json.executors.filter((e) => e.appid === appId).map((e) => e.cpus), [String(target), String(target)]);

    const workerPid = cluster.workers[0]?.pid as number;
    const replacement = await waitFor(
      () =>
        processesOf(STANDBY_FLAG).find((pid) => {
          try {
            return Number(readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ')[1]) === workerPid;
          } catch {
            return false;
          }
        }),
      { timeoutMs: 20_000, what: 'the worker to start a standby after the adoption' },
    );
    assert.deepEqual(threadCpus(replacement), [formatCpuList(allowed)], 'a standby is bound only when adopted');

    writeFileSync(marker, 'go');
    const done = await finished(app);
    assert.equal(done.code, 0, done.stderr);
  });
});
