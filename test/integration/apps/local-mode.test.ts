// Local mode end to end (docs/local-mode.md): `flint submit --master local[N]` runs the driver and its executor
// in one process, with no daemon. The apps and expectations are those the cluster tests use (APP_SUITE and
// SHUFFLE_SUITE in test/helpers/app-suite.ts), so results must equal a cluster's; then what only local mode does.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, readlinkSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { ChildGroup, NODE_BIN, spawnChild, waitFor, type ChildHandle } from '../../helpers/process.ts';
import { finished } from '../../helpers/submit.ts';
import { APP_SUITE, SHUFFLE_SUITE, TEST_APP, appIdOf, type Submit } from '../../helpers/app-suite.ts';
import { tempDir } from '../../helpers/temp-dir.ts';

const children = new ChildGroup();

function submitLocal(master: string, args: string[], label: string): ChildHandle {
  return children.spawnNodeScript('src/cli/main.ts', ['submit', '--master', master, ...args], { label });
}

/** Two task threads; a task may fail four times, as on a cluster (flint.task.maxFailures's default). */
const asOnACluster: Submit = async (args, label) => finished(submitLocal('local[2,4]', args, label), 90_000);

/** The pids of a process's children (every thread's), from /proc. */
function childPids(pid: number): number[] {
  return readdirSync(`/proc/${pid}/task`).flatMap((tid) =>
    readFileSync(`/proc/${pid}/task/${tid}/children`, 'utf8')
      .split(' ')
      .filter((p) => p.trim() !== '')
      .map(Number),
  );
}

/** The local addresses of a process's TCP sockets (IPv4 and IPv6) in `state` (0A: LISTEN, 01: ESTABLISHED), from /proc/net. */
function socketAddresses(pid: number, state: '0A' | '01'): string[] {
  const inodes = new Set(
    readdirSync(`/proc/${pid}/fd`)
      .map((fd) => {
        try {
          return /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`))?.[1];
        } catch {
          return undefined; // closed meanwhile
        }
      })
      .filter((inode) => inode !== undefined),
  );
  return ['/proc/net/tcp', '/proc/net/tcp6'].flatMap((table) =>
    readFileSync(table, 'utf8')
      .split('\n')
      .slice(1)
      .map((line) => line.trim().split(/\s+/))
      .filter((f) => f[3] === state && inodes.has(f[9] ?? ''))
      .map((f) => f[1] ?? ''),
  );
}

describe('local mode runs the same apps as a cluster, with the same results', () => {
  after(() => children.killAll());
  for (const { name, run } of [...APP_SUITE, ...SHUFFLE_SUITE]) test(name, () => run(asOnACluster));
});

describe('local mode', () => {
  after(() => children.killAll());
  /** The hold app waits for this file; each test's is in a directory of its own (tempDir removes it). */
  const holdMarker = (): string => join(tempDir('flint-local-hold-'), 'release');

  test('local[2]: one process and no daemon, listening on loopback only; it leaves no file behind', async () => {
    const marker = holdMarker();
    const app = submitLocal('local[2]', [TEST_APP, 'hold', marker], 'local hold');
    await waitFor(() => app.stdoutLines.includes('READY') || (app.exit !== undefined && assert.fail(`app exited: ${app.stderr()}`)), {
      timeoutMs: 30_000,
      what: 'the app to run its first job',
    });
    const appId = appIdOf(app.stdoutLines.join('\n'));
    assert.match(appId, /^local-\d{13}$/, "Spark's name for a local app");
    const pid = app.pid;
    assert.deepEqual(childPids(pid), [], 'no process was started: the executor and its task threads are in the driver');
    const listening = socketAddresses(pid, '0A');
    assert.ok(listening.length > 0, 'the driver listens (its RPC env and its UI)');
    for (const address of listening) assert.match(address, /^(0100007F|0000000000000000FFFF00000100007F|00000000000000000000000001000000):/, `${address} is a loopback address`);
    // The executor's endpoint is on the driver's env: the job's tasks and results crossed no socket.
    assert.deepEqual(socketAddresses(pid, '01'), [], 'no connection is open: the executor talks to the driver inside the process');
    assert.ok(app.stdoutLines.includes('PARALLELISM 2'), 'the default parallelism is the task threads');
    assert.equal(app.stdoutLines.find((l) => l.startsWith('RESULT ')), 'RESULT 100');
    // The executor's directory (its code, its shuffle files) is in the temp dir while the app runs.
    assert.ok(readdirSync(tmpdir()).some((d) => d.startsWith(`flint-${appId}-`)), 'the executor has its directory');
    writeFileSync(marker, 'go');
    const done = await finished(app);
    assert.equal(done.code, 0, done.stderr);
    assert.deepEqual(readdirSync(tmpdir()).filter((d) => d.startsWith(`flint-${appId}-`)), [], 'stop() removed it');
    // The UI is not open to other users of the machine: it has a token, as on a cluster.
    assert.match(done.stderr, /Application UI login \(the token is derived from the secret\): http:\/\/127\.0\.0\.1:\d+\/\?token=/);
  });

  test('local[*] has a thread per core; local has one, and a failed task fails its job at once, as in Spark', async () => {
    const marker = holdMarker();
    writeFileSync(marker, 'go'); // released from the start
    const all = await finished(submitLocal('local[*]', [TEST_APP, 'hold', marker], 'local[*] hold'));
    assert.equal(all.code, 0, all.stderr);
    assert.match(all.stdout, new RegExp(`^PARALLELISM ${availableParallelism()}$`, 'm'));
    const one = await finished(submitLocal('local', [TEST_APP, 'hold', marker], 'local hold'));
    assert.equal(one.code, 0, one.stderr);
    assert.match(one.stdout, /^PARALLELISM 1$/m);
    const failing = await finished(submitLocal('local[2]', ['examples/failing-task.ts', 'once'], 'local failing-task once'));
    assert.equal(failing.code, 1, failing.stdout);
    assert.match(failing.stderr, /failed 1 times \(flint\.task\.maxFailures = 1\)/);
  });

  test('bad local master URLs and cluster-only flags are refused with what is expected', async () => {
    for (const master of ['local[0]', 'local[two]', 'local[2,0]', 'local[]']) {
      const run = await finished(submitLocal(master, [TEST_APP, 'sum', '4', '2', '0'], `submit ${master}`));
      assert.equal(run.code, 1, run.stdout);
      assert.match(run.stderr, /expected local, local\[N\], local\[\*\], local\[N,F\] or local\[\*,F\]/, run.stderr);
      assert.doesNotMatch(run.stdout, /^APP /m, 'nothing ran');
    }
    const cluster = await finished(submitLocal('local[2]', ['--deploy-mode', 'cluster', TEST_APP, 'sum', '4', '2', '0'], 'cluster mode on local'));
    assert.equal(cluster.code, 1);
    assert.match(cluster.stderr, /--deploy-mode cluster needs a cluster's master \(flint:\/\/host:port or rest:\/\/host:6066\), not the local master "local\[2\]"/);
  });

  test("an application's own tests run its jobs in local mode with node --test, and a wrong expectation fails", async () => {
    const check = 'test/fixtures/local-mode/word-jobs.check.ts';
    // Without NODE_TEST_CONTEXT, which the runner set for this file: with it, even empty, the child would take
    // itself for a file of this run and run nothing (`env -u` execs node in the same process). In this checkout
    // `flint` is the sources under the flint-source condition; an installed package needs none (package.json).
    const nodeTest = (label: string, env: Record<string, string> = {}): ChildHandle =>
      children.add(spawnChild('env', ['-u', 'NODE_TEST_CONTEXT', NODE_BIN, '--conditions=flint-source', '--test', '--test-reporter=spec', check], { label, env }));
    const passing = await finished(nodeTest('node --test word-jobs'), 60_000);
    assert.equal(passing.code, 0, `${passing.stdout}\n${passing.stderr}`);
    assert.match(passing.stdout, /^ℹ pass 2$/m);
    assert.match(passing.stdout, /^ℹ fail 0$/m);
    const failing = await finished(nodeTest('node --test word-jobs, failing', { FLINT_CHECK_FAIL: '1' }), 60_000);
    assert.equal(failing.code, 1, failing.stdout);
    assert.match(failing.stdout, /^ℹ pass 2$/m);
    assert.match(failing.stdout, /^ℹ fail 1$/m);
    assert.match(failing.stdout, /actual: Map\(1\) \{ 'a' => 2 \}/);
  });
});
