// The cluster secret never leaves the processes configured with it (docs/security.md, "The secret never
// travels"), tested the hard way: a master (FILESYSTEM recovery) and a worker run under strace, which records
// every byte each of them and each executor and driver they start writes to a socket, a pipe or a file; a
// `flint submit` in client mode and one in cluster mode run under strace too. Every recorded byte, every file
// under the recovery and work directories, and the environment and command line of every executor and driver
// are searched for the secret. Finding 3 of "Trust at the edges": before, the secret travelled inside
// RegisterApplication and LaunchExecutor, landed in the recovery files and sat in /proc/<executor>/environ.
import assert from 'node:assert/strict';
import { mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { deriveKey } from '../../../src/rpc/auth.ts';
import { MAIN, masterJson, newSecret, startedLine, untilMasterJson, writeSecretFile } from '../../helpers/daemons.ts';
import { ChildGroup, NODE_BIN, executorsOf, spawnChild, waitFor, type ChildHandle } from '../../helpers/process.ts';
import { decodeStraceWrites, stopTraced, straceArgs, type TracedWrite } from '../../helpers/strace.ts';
import { tempDir } from '../../helpers/temp-dir.ts';

const APP = 'test/fixtures/apps/test-app.ts';

describe('the cluster secret never travels', { timeout: 180_000 }, () => {
  const children = new ChildGroup();
  const root = tempDir('flint-secret-');
  const traces = join(root, 'traces');
  const recoveryDir = join(root, 'recovery');
  const workDir = join(root, 'work');
  const secret = newSecret();
  const secretFile = writeSecretFile(join(root, 'secret'), secret);
  const traced: ChildHandle[] = [];
  let masterUrl = '';
  let masterUi = 0;

  function traceNode(name: string, args: readonly string[]): ChildHandle {
    const child = children.add(spawnChild('strace', [...straceArgs(join(traces, name)), NODE_BIN, MAIN, ...args], { label: name }));
    traced.push(child);
    return child;
  }

  const common = ['--conf', `flint.authenticate.secret.file=${secretFile}`, '--conf', 'flint.worker.timeout=10s'];

  before(async () => {
    for (const dir of [traces, workDir]) mkdirSync(dir);
    const master = await startedLine(
      traceNode('master', [
        'master', '--host', '127.0.0.1', '--port', '0', '--webui-port', '0', ...common,
        '--conf', 'flint.deploy.recoveryMode=FILESYSTEM', '--conf', `flint.deploy.recoveryDirectory=${recoveryDir}`,
      ]),
      60_000,
    );
    masterUrl = String(master.started['masterUrl']);
    masterUi = master.webUiPort;
    await startedLine(
      traceNode('worker', ['worker', masterUrl, '--host', '127.0.0.1', '--port', '0', '--webui-port', '0', '--cores', '2', '--memory', '4g', '--work-dir', workDir, ...common]),
      60_000,
    );
    await untilMasterJson(masterUi, (j) => j.aliveworkers === 1, 'the worker to register', 60_000);
  });

  after(async () => {
    for (const child of traced) await stopTraced(child);
    await children.killAll();
    rmSync(root, { recursive: true, force: true });
  });

  test('a client-mode and a cluster-mode flint submit: not in any byte written, any file, any environment', async () => {
    // Client mode: the driver runs in the submitting process; it holds its job until the test has looked at
    // its executors' environment and command line.
    const marker = join(root, 'release');
    const client = traceNode('submit-client', ['submit', '--master', masterUrl, ...common, '--total-executor-cores', '2', '--executor-cores', '1', '--executor-memory', '256m', APP, 'hold', marker]);
    await waitFor(() => client.stdoutLines.includes('READY') || (client.exit !== undefined && assert.fail(`the app exited: ${client.stderr()}`)), {
      timeoutMs: 90_000,
      what: 'the client-mode app to run its first job',
    });
    const appId = client.stdoutLines.find((l) => l.startsWith('APP '))?.slice(4) ?? assert.fail('no APP line');
    const executorPids = executorsOf(appId, workDir);
    assert.ok(executorPids.length >= 1, 'the executors run');
    const exposed = [...executorPids, ...traced.map((c) => c.pid)].flatMap((pid) => procTexts(pid));
    assert.ok(exposed.length > 0);
    for (const { where, text } of exposed) assert.ok(!text.includes(secret), `the secret is readable in ${where}`);
    writeFileSync(marker, 'go');
    const clientExit = await client.exited;
    assert.equal(clientExit.code, 0, client.stderr());

    // Cluster mode: a worker runs the driver, which gets its own key on stdin.
    const cluster = traceNode('submit-cluster', ['submit', '--master', masterUrl, ...common, '--deploy-mode', 'cluster', '--driver-memory', '256m', '--executor-memory', '256m', '--total-executor-cores', '1', APP, 'sum', '20', '2', '0']);
    assert.equal((await cluster.exited).code, 0, cluster.stderr());
    const driverId = cluster.stdoutLines.join('\n').match(/submitted as (driver-\S+)/)?.[1] ?? assert.fail(cluster.stdoutLines.join('\n'));
    await untilMasterJson(masterUi, (j) => (j as unknown as { completeddrivers: Array<{ id: string; state: string }> }).completeddrivers.some((d) => d.id === driverId), 'the driver to finish', 90_000);
    const driver = (await masterJson(masterUi)) as unknown as { completeddrivers: Array<{ id: string; state: string }> };
    assert.equal(driver.completeddrivers.find((d) => d.id === driverId)?.state, 'FINISHED', readDriverLog(workDir, driverId));

    for (const child of traced) await stopTraced(child);
    const writes = decodeStraceWrites(traces);
    const wire = writes.filter((w) => w.kind === 'tcp');
    // The capture saw the conversation: registrations, launches, tasks, the app's code.
    for (const word of ['RegisterWorker', 'RegisterApplication', 'LaunchExecutor', 'LaunchTask', 'StatusUpdate', 'RequestSubmitDriver', 'LaunchDriver']) {
      assert.ok(wire.some((w) => w.data.includes(word)), `the capture holds a ${word}`);
    }
    const secretBytes = Buffer.from(secret);
    const leaks = writes.filter((w) => w.data.includes(secretBytes));
    assert.deepEqual(leaks.map(describeWrite), [], 'no process wrote the secret anywhere');
    // The executors' key went down the worker's stdin pipes and nowhere else; the driver's likewise.
    const executorKey = Buffer.from(deriveKey(secret, 'executor', appId));
    const driverKey = Buffer.from(deriveKey(secret, 'driver', driverId));
    assert.ok(writes.some((w) => w.kind === 'pipe' && w.data.includes(executorKey)), 'the worker handed the executor key over a pipe');
    assert.ok(writes.some((w) => w.kind === 'pipe' && w.data.includes(driverKey)), 'the worker handed the driver key over a pipe');
    for (const key of [executorKey, driverKey]) {
      assert.deepEqual(writes.filter((w) => w.kind !== 'pipe' && w.data.includes(key)).map(describeWrite), [], 'a key crossed a socket or hit a file');
    }
    const files = [...filesUnder(recoveryDir), ...filesUnder(workDir)];
    assert.ok(files.some((f) => f.startsWith(recoveryDir)), 'the master persisted its state');
    for (const file of files) assert.ok(!readFileSync(file).includes(secretBytes), `the secret is in ${file}`);
  });
});

function procTexts(pid: number): Array<{ where: string; text: string }> {
  const out: Array<{ where: string; text: string }> = [];
  for (const name of ['environ', 'cmdline']) {
    try {
      out.push({ where: `/proc/${pid}/${name}`, text: readFileSync(`/proc/${pid}/${name}`, 'latin1') });
    } catch {
      // the process has ended
    }
  }
  return out;
}

function filesUnder(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir, { recursive: true }).map(String)) {
    const path = join(dir, name);
    if (statSync(path).isFile()) out.push(path);
  }
  return out;
}

function readDriverLog(workDir: string, driverId: string): string {
  try {
    return readFileSync(join(workDir, driverId, 'stderr'), 'utf8').slice(-4000);
  } catch {
    return '(no driver log)';
  }
}

function describeWrite(w: TracedWrite): string {
  return `${w.file}: ${w.target} (${w.data.length} bytes)`;
}
