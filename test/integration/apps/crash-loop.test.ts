// Crash loops end (docs/differences-from-spark.md, "Applications"), on real processes: an app whose executors
// exit with code 1 shortly after they start. Spark's Master resets the retry count on every RUNNING, so such an
// app was relaunched for ever (176 launches in 40 s); now each crash within flint.deploy.executorMinUptime
// counts, relaunches on a worker back off, and the app ends FAILED after flint.deploy.maxExecutorRetries.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { LocalCluster } from '../../../src/daemons/local-cluster.ts';
import { ChildGroup, REPO_ROOT, executorsOf, waitFor } from '../../helpers/process.ts';

const MAIN = 'src/cli/main.ts';
const APP = 'test/fixtures/apps/test-app.ts';
const CRASH = join(REPO_ROOT, 'test/fixtures/apps/crash-executor.ts');
const MAX_RETRIES = 4;
const WORKERS = 2;
const children = new ChildGroup();

describe('an app whose executors crash right after they start', () => {
  let cluster: LocalCluster;
  before(async () => {
    cluster = await LocalCluster.start({
      workers: WORKERS,
      coresPerWorker: 1,
      memoryPerWorker: '1g',
      // Workers retry every 20–60 ms; on a loaded machine the master may take longer than the 6 initial tries
      // to listen, which would push them to the 30–90 s prolonged interval.
      conf: [`flint.deploy.maxExecutorRetries=${MAX_RETRIES}`, 'flint.worker.initialRegistrationRetries=500'],
      startTimeoutMs: 60_000,
    });
  });
  after(async () => {
    await children.killAll();
    await cluster?.stop();
  });

  /** The executors the master launched for `appId`, from its log (one line per LaunchExecutor). */
  function launches(appId: string): number {
    const lines = readFileSync(join(cluster.dir, 'master.log'), 'utf8').split('\n');
    return lines.filter((line) => line.includes(`"Launching executor ${appId}/`)).length;
  }

  test('ends FAILED after maxExecutorRetries crashes, with a bounded number of launches, and the driver is told why', async (t) => {
    const app = children.spawnNodeScript(
      MAIN,
      [
        'submit',
        '--master', cluster.masterUrl,
        '--conf', `flint.authenticate.secret.file=${cluster.secretFile}`,
        '--conf', `flint.executor.extraNodeOptions=--import=${CRASH}`,
        APP, 'sum', '10', '2', '0',
      ],
      { label: 'crash-loop app' },
    );
    const appId = await waitFor(() => app.stdoutLines.find((l) => l.startsWith('APP '))?.slice(4), { timeoutMs: 30_000, what: 'the app to register' });
    // Each crash counts, and each worker holds a crashed app's relaunch back: a few launches per worker at most
    // before the limit is reached (the executors already launched when it is may still crash).
    const bound = MAX_RETRIES + WORKERS;
    await waitFor(
      async () => {
        const n = launches(appId);
        if (n > bound) assert.fail(`${n} executors launched for ${appId}, more than ${bound}: the crash loop goes on`);
        return (await cluster.masterJson()).completedapps.some((a) => a.id === appId && a.state === 'FAILED');
      },
      { timeoutMs: 60_000, intervalMs: 100, what: `${appId} to be FAILED` },
    );
    const exit = await waitFor(() => app.exit, { timeoutMs: 30_000, what: 'the driver to exit' });
    assert.notEqual(exit.code, 0);
    assert.match(app.stderr(), /Master removed our application: FAILED: \d+ executor failures/);
    assert.match(app.stderr(), new RegExp(`flint\\.deploy\\.maxExecutorRetries=${MAX_RETRIES}`));
    await waitFor(() => executorsOf(appId, cluster.dir).length === 0, { timeoutMs: 15_000, what: `the executors of ${appId} to exit` });
    const launched = launches(appId);
    assert.ok(launched >= MAX_RETRIES && launched <= bound, `${launched} launches`);
    t.diagnostic(`${launched} executors launched; the driver heard: ${/Master removed our application: [^"]*/.exec(app.stderr())?.[0] ?? '?'}`);
    const log = readFileSync(join(cluster.dir, 'master.log'), 'utf8');
    assert.equal(log.split('\n').filter((l) => l.includes(`with ID ${appId} failed:`)).length, 1, 'the master logs the failure once');
  });
});
