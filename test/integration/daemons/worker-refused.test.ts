// A worker whose secret the master refuses exits at once with the cause and the fix (src/worker/registration.ts,
// registrationRefused), where it retried for about 12 minutes and then said only "All masters are unresponsive".
// Real processes: a master and a worker started as operators start them, with different secrets.
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { MAIN, newSecret, startMaster, writeSecretFile } from '../../helpers/daemons.ts';
import { ChildGroup, NODE_BIN, spawnChild } from '../../helpers/process.ts';
import { tempDir } from '../../helpers/temp-dir.ts';

const children = new ChildGroup();
const dir = tempDir('flint-worker-refused-');
after(async () => {
  await children.killAll();
  rmSync(dir, { recursive: true, force: true });
});

test("a worker with another secret than the master's exits at once, naming authentication and the fix", { timeout: 60_000 }, async () => {
  const master = await startMaster(children, { label: 'master', secretFile: writeSecretFile(join(dir, 'master-secret'), newSecret()) });
  const args = ['worker', master.url, '--host', '127.0.0.1', '--port', '0', '--webui-port', '0', '--cores', '1', '--memory', '256m', '--work-dir', join(dir, 'work')];
  const wrong = ['--conf', `flint.authenticate.secret.file=${writeSecretFile(join(dir, 'worker-secret'), newSecret())}`];
  const worker = children.add(spawnChild(NODE_BIN, [MAIN, ...args, ...wrong], { label: 'worker' }));
  const started = performance.now();
  const exit = await worker.exited;
  assert.equal(exit.code, 1, worker.stderr());
  assert.ok(performance.now() - started < 30_000, 'within seconds, not after its 16 retries');
  assert.match(worker.stderr(), /Cannot register with the master, and retrying will not help: [^"]*secret/);
  assert.match(worker.stderr(), /Fix: give the worker the cluster's secret \(flint\.authenticate\.secret\.file/);
});
