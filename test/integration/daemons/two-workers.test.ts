// The README's "Running a cluster by hand", twice over on one host: a master and two workers started with
// `bin/flint` as the README shows, both workers given the same web UI port. The second finds it taken and moves
// on to the next free port (Spark's `Utils.startServiceOnPort`, up to flint.port.maxRetries), where it used to die
// with EADDRINUSE; its RPC port is any free one, as the README's command leaves it. Both register, and both
// UIs answer.

import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { join, resolve } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { logLine, newSecret, startMaster, startedLine, uiBearer, untilMasterJson, writeSecretFile, type Daemon, type MasterDaemon } from '../../helpers/daemons.ts';
import { ChildGroup, REPO_ROOT, spawnChild } from '../../helpers/process.ts';
import { tempDir } from '../../helpers/temp-dir.ts';

describe('two workers on one host, as the README starts them', { timeout: 120_000 }, () => {
  const children = new ChildGroup();
  const workers: Daemon[] = [];
  // The cluster's directory and secret, its master, and the one UI port both workers are given.
  let [dir, secretFile, uiPort] = ['', '', 0];
  let master: MasterDaemon;

  before(async () => {
    dir = tempDir('flint-two-workers-');
    secretFile = writeSecretFile(join(dir, 'secret'), newSecret());
    master = await startMaster(children, { label: 'master (bin/flint)', secretFile, viaBinFlint: true });
    const probe = createServer().listen(0, '127.0.0.1');
    await new Promise((done) => probe.once('listening', done));
    uiPort = (probe.address() as AddressInfo).port;
    await new Promise((done) => probe.close(done));
  });

  after(async () => {
    await children.killAll();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  /** `bin/flint worker <url> --host 127.0.0.1 --cores 1 --memory 512m`, the README's line, on `uiPort`. */
  async function startReadmeWorker(n: number): Promise<Daemon> {
    const args = ['worker', master.url, '--host', '127.0.0.1', '--cores', '1', '--memory', '512m', '--webui-port', String(uiPort)];
    const conf = ['--work-dir', join(dir, `work-${n}`), '--conf', `flint.authenticate.secret.file=${secretFile}`];
    const child = children.add(spawnChild(resolve(REPO_ROOT, 'bin/flint'), [...args, ...conf], { label: `worker ${n} (bin/flint)` }));
    return startedLine(child, 60_000);
  }

  test('the second worker moves on to the next UI port; both register and both UIs answer', async () => {
    workers.push(await startReadmeWorker(1));
    workers.push(await startReadmeWorker(2));
    const [first, second] = workers as [Daemon, Daemon];
    assert.equal(first.webUiPort, uiPort);
    assert.ok(second.webUiPort > uiPort && second.webUiPort <= uiPort + 16, `the second worker's UI is on ${second.webUiPort}`);
    await logLine(second.child, (l) => l['port'] === uiPort && typeof l['msg'] === 'string' && /in use\); trying the next port/.test(l['msg']), 'the warning that the port was taken');
    assert.notEqual(first.rpcPort, second.rpcPort);
    await untilMasterJson(master.webUiPort, (j) => j.aliveworkers === 2, 'both workers ALIVE', 30_000);
    for (const w of workers) {
      const ready = await fetch(`http://127.0.0.1:${w.webUiPort}/readyz`, { signal: AbortSignal.timeout(3_000) });
      assert.equal(ready.status, 200);
      const page = await fetch(`http://127.0.0.1:${w.webUiPort}/`, { headers: uiBearer(secretFile), signal: AbortSignal.timeout(3_000) });
      assert.equal(page.status, 200);
      assert.match(await page.text(), new RegExp(String(w.started['workerId'])));
    }
  });
});
