// Inline task functions end to end (docs/applications.md, "Task functions"): an app whose functions are written
// inline, capturing local values, run by `flint submit` on a real local cluster, in client and cluster mode. The
// values are computed on the executors; captures that cannot travel are refused on the driver before any job.
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { LocalCluster } from '../../../src/daemons/local-cluster.ts';
import { ChildGroup, waitFor } from '../../helpers/process.ts';
import { finished, submitTo } from '../../helpers/submit.ts';

const APP = 'test/fixtures/apps/inline-app.ts';
const children = new ChildGroup();

function results(stdout: string): Map<string, unknown> {
  const out = new Map<string, unknown>();
  for (const m of stdout.matchAll(/^RESULT (\S+) (.*)$/gm)) out.set(m[1] as string, JSON.parse(m[2] as string));
  return out;
}

/** The line of `needle` in the fixture app (1-based). */
function lineOf(needle: string): number {
  const lines = readFileSync(APP, 'utf8').split('\n');
  const index = lines.findIndex((l) => l.includes(needle));
  assert.ok(index >= 0, needle);
  return index + 1;
}

describe('inline task functions on a local cluster (1 master, 2 workers × 2 cores)', () => {
  let cluster: LocalCluster;
  before(async () => {
    cluster = await LocalCluster.start({ workers: 2, coresPerWorker: 2, memoryPerWorker: '1g' });
  });
  after(async () => {
    await children.killAll();
    await cluster?.stop();
  });

  test('captured numbers, Maps, Sets, Dates, typed arrays, objects and functions reach the executors', async () => {
    const run = await finished(submitTo(children, cluster, ['--total-executor-cores', '2', APP, 'captures'], 'inline captures'));
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stdout, /^DONE$/m, run.stdout);
    const got = results(run.stdout);
    assert.deepEqual(got.get('factor'), [0, 3, 6, 9, 12, 15]);
    assert.deepEqual(got.get('map'), ['zero', 'one', 'two', 'zero', 'one', 'two']);
    assert.deepEqual(got.get('set'), [0, 2, 4]);
    assert.deepEqual(got.get('date'), ['2026-01-01', '2026-01-02', '2026-01-03', '2026-01-04', '2026-01-05', '2026-01-06']);
    assert.deepEqual(got.get('typed'), [0, 1.5, 5, 1.5, 6, 12.5]);
    assert.deepEqual(got.get('object'), ['n10', 'n11', 'n12', 'n13', 'n14', 'n15']);
    assert.deepEqual(got.get('exported'), [3, 4, 7, 12, 19, 28]);
    assert.deepEqual(got.get('const'), [1, 10, 19, 28, 37, 46]);
    assert.deepEqual(got.get('reduceByKey'), [[0, 18], [1, 27]]);
    assert.equal(got.get('reduce'), 33);
    assert.deepEqual(got.get('array'), [6, 9]);
  });

  test('a captured class instance with methods is refused on the driver, naming the variable and line, before any job', async () => {
    const run = await finished(submitTo(children, cluster, ['--total-executor-cores', '1', APP, 'instance'], 'inline instance'));
    assert.equal(run.code, 0, run.stderr);
    const line = lineOf('counter.bump()');
    assert.match(run.stdout, new RegExp(`^REFUSED InlineFunctionError FLINT_INLINE_FUNCTION_REFUSED map: the inline function at inline-app\\.ts:${line} captures "counter", a Counter instance`, 'm'), run.stdout);
    assert.match(run.stdout, /^JOBS 0$/m);
  });

  test('a captured let assigned after the call is refused on the driver, naming the variable and both lines, before any job', async () => {
    const run = await finished(submitTo(children, cluster, ['--total-executor-cores', '1', APP, 'reassigned'], 'inline reassigned'));
    assert.equal(run.code, 0, run.stderr);
    const line = lineOf('x + offset');
    const assigned = lineOf('offset = 2');
    assert.match(
      run.stdout,
      new RegExp(`^REFUSED InlineFunctionError FLINT_INLINE_FUNCTION_REFUSED map: the inline function at inline-app\\.ts:${line} cannot be sent to executors: it captures "offset", which is assigned again at line ${assigned}`, 'm'),
      run.stdout,
    );
    assert.match(run.stdout, /copy it into a const/);
    assert.match(run.stdout, /^JOBS 0$/m);
  });

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
