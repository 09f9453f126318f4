// LocalCluster (flint demo's cluster): its workers start with the master and register however late it listens.
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { LocalCluster } from '../../../src/daemons/local-cluster.ts';
import { processesOf, REPO_ROOT, waitFor } from '../../helpers/process.ts';
import { tempDir } from '../../helpers/temp-dir.ts';

test('workers started with a master that listens 2 s late register with it (their fast retries cover the start timeout)', async () => {
  // A worker's default fast retries last about a quarter of a second; after them it waited 30–90 s, longer
  // than the start timeout.
  const cluster = await LocalCluster.start({ workers: 2, coresPerWorker: 1, memoryPerWorker: '1g', startTimeoutMs: 25_000, cli: join(REPO_ROOT, 'test/fixtures/late-master-cli.ts') });
  try {
    const json = await cluster.masterJson();
    assert.equal(json.workers.filter((w) => w.state === 'ALIVE').length, 2);
  } finally {
    await cluster.stop();
  }
  assert.deepEqual(processesOf(cluster.dir), [], 'stop() leaves no daemon');
});

test('aborting the start (Ctrl-C in flint demo) stops the daemons started so far, and the start rejects', async () => {
  const dir = tempDir('flint-local-abort-');
  try {
    const aborting = new AbortController();
    const starting = LocalCluster.start({ workers: 1, coresPerWorker: 1, memoryPerWorker: '1g', dir, signal: aborting.signal, cli: join(REPO_ROOT, 'test/fixtures/late-master-cli.ts') });
    const rejected = assert.rejects(starting, /stopped by the test/);
    await waitFor(() => processesOf(dir).length >= 2, { timeoutMs: 10_000, what: 'the master and the worker to be spawned' });
    aborting.abort(new Error('stopped by the test'));
    await rejected;
    assert.deepEqual(processesOf(dir), [], 'no daemon left running');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
