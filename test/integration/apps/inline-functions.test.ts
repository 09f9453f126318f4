// Inline task functions in cluster mode (docs/applications.md, "Task functions"): the driver runs on a worker, from
// the bundle made at submit time, and its inline map runs on the executors. The client-mode checks (captures of
// every kind, refusals on the driver) are in APP_SUITE (test/helpers/app-suite.ts), run on a cluster and in local
// mode.
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { LocalCluster } from '../../../src/daemons/local-cluster.ts';
import { ChildGroup, waitFor } from '../../helpers/process.ts';
import { finished, submitTo } from '../../helpers/submit.ts';
import { INLINE_APP as APP, inlineResults as results } from '../../helpers/app-suite.ts';

const children = new ChildGroup();

describe('inline task functions on a local cluster (1 master, 2 workers × 2 cores)', () => {
  let cluster: LocalCluster;
  before(async () => {
    cluster = await LocalCluster.start({ workers: 2, coresPerWorker: 2, memoryPerWorker: '1g' });
  });
  after(async () => {
    await children.killAll();
    await cluster?.stop();
  });

  // The client-mode checks are in APP_SUITE (test/helpers/app-suite.ts): apps.test.ts runs them on a cluster, and
  // local-mode.test.ts in local mode.

  test('cluster mode: the driver on a worker runs an inline map with a captured argument', async () => {
    const run = await finished(submitTo(children, cluster, ['--deploy-mode', 'cluster', APP, 'one', '7'], 'inline cluster'));
    assert.equal(run.code, 0, run.stderr);
    const driverId = /Driver successfully submitted as (driver-\S+)/.exec(run.stdout)?.[1];
    assert.ok(driverId, run.stdout);
    const stdoutFile = await waitFor(
      () => {
        const dir = readdirSync(cluster.dir).find((d) => d.startsWith('worker-') && existsSync(join(cluster.dir, d, driverId)));
        if (dir === undefined) return undefined;
        const file = join(cluster.dir, dir, driverId, 'stdout');
        return existsSync(file) && /^RESULT one /m.test(readFileSync(file, 'utf8')) ? file : undefined;
      },
      { timeoutMs: 60_000, intervalMs: 250, what: `${driverId} to print its result` },
    );
    assert.deepEqual(results(readFileSync(stdoutFile, 'utf8')).get('one'), [0, 7, 14, 21]);
  });
});
