// A real cluster: a master (started through bin/flint) and two workers (src/cli/main.ts), each its own
// process, authenticating with a shared secret file. The tests run in order on the same cluster:
//   1. both workers come up ALIVE with their cores and memory, and each worker's /json names the master;
//   2. kill -9 of a worker: the master lists it DEAD; a restarted worker (new port) registers and is ALIVE;
//      a stopped worker (SIGSTOP) is DEAD after flint.worker.timeout, and ALIVE again once resumed;
//   3. an application gets an executor: the test executor runs, in <work-dir>/<appId>/<execId>/, with every
//      placeholder substituted, and the app hears ExecutorAdded then ExecutorUpdated(RUNNING);
//   4. kill -9 of the worker running it: the executor process goes away and the app hears it LOST.

import assert from 'node:assert/strict';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { AppClient, PLACEHOLDER_ARGUMENTS, TEST_EXECUTOR } from '../../fixtures/app-client.ts';
import {
  authConf,
  getJson,
  newSecret,
  startMaster,
  startWorker as startWorkerDaemon,
  untilMasterJson,
  writeSecretFile,
  type MasterDaemon,
  type MasterJson,
  type WorkerDaemon,
  type WorkerJson,
  uiBearer,
} from '../../helpers/daemons.ts';
import { ChildGroup, processesOf, waitFor } from '../../helpers/process.ts';
import { tempDir } from '../../helpers/temp-dir.ts';

// ---- executor helpers ----------------------------------------------------------------------------------

/** True when `pid` is a running process (a zombie counts as gone: it has exited, only its parent has not reaped it). */
function pidAlive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}

/** The JSON line the test executor printed on its stdout, once it is there. */
function executorLine(stdoutPath: string): Record<string, unknown> | undefined {
  if (!existsSync(stdoutPath)) return undefined;
  for (const line of readFileSync(stdoutPath, 'utf8').split('\n')) {
    if (!line.startsWith('{')) continue;
    const value = JSON.parse(line) as Record<string, unknown>;
    if (value['started'] === true) return value;
  }
  return undefined;
}

// ---- the cluster ---------------------------------------------------------------------------------------

describe('a master and two workers, as processes', { timeout: 60_000 }, () => {
  const children = new ChildGroup();
  const secret = newSecret();
  const rpcConf = authConf(secret);
  let dir: string;
  let secretFile: string;
  let master: MasterDaemon;
  const workers = new Map<string, WorkerDaemon & { cores: number; memoryMb: number }>();
  let app: AppClient | undefined;

  async function startWorker(name: string, cores: number, memory: string, memoryMb: number) {
    const daemon = await startWorkerDaemon(children, {
      label: `worker ${name}`,
      masterUrl: master.url,
      secretFile,
      workDir: join(dir, `work-${name}`),
      cores,
      memory,
    });
    assert.match(daemon.workerId, /^worker-\d{14}-127\.0\.0\.1-\d+$/);
    const worker = { ...daemon, cores, memoryMb };
    workers.set(name, worker);
    return worker;
  }

  /** Polls the master's /json until `ok` holds (bounded). */
  function untilMaster(ok: (j: MasterJson) => boolean, what: string, timeoutMs = 10_000): Promise<MasterJson> {
    return untilMasterJson(master.webUiPort, ok, what, timeoutMs);
  }

  before(async () => {
    dir = tempDir('flint-cluster-test-');
    secretFile = writeSecretFile(join(dir, 'secret'), secret);
    // The master goes through bin/flint itself (bash, bootstrap check, exec node): the path operators use.
    master = await startMaster(children, { label: 'master (bin/flint)', secretFile, viaBinFlint: true });
    assert.equal(master.url, `flint://127.0.0.1:${master.rpcPort}`);
    await Promise.all([startWorker('a', 2, '512m', 512), startWorker('b', 3, '1g', 1024)]);
  });

  after(async () => {
    await app?.stop().catch(() => {});
    await children.killAll();
    // Executors notice their worker is gone (stdin closes) and exit; anything left is killed here. Only processes
    // that are provably this test's (their working directory or command line is under its directory) are
    // killed, never a pid it saw earlier: pids are reused (pid_max is 32,768 here), and killing a remembered pid's
    // group once killed another test's executor in the middle of its job.
    const ours = (): number[] => processesOf(dir).filter((pid) => pidAlive(pid));
    await waitFor(() => ours().length === 0, { timeoutMs: 5_000, intervalMs: 50, what: 'executors to exit' }).catch(() => {
      for (const pid of ours()) {
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          // exited meanwhile
        }
      }
    });
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  test('both workers register ALIVE with their cores and memory; each worker /json names the master', async () => {
    const a = workers.get('a');
    const b = workers.get('b');
    assert.ok(a && b);
    const json = await untilMaster(
      (j) => [a, b].every((w) => j.workers.some((e) => e.id === w.workerId && e.state === 'ALIVE')),
      'both workers ALIVE',
    );
    assert.equal(json.url, master.url);
    assert.equal(json.status, 'ALIVE');
    assert.equal(json.aliveworkers, 2);
    assert.equal(json.cores, 5);
    assert.equal(json.memory, 1536);
    assert.equal(json.coresused, 0);
    for (const w of [a, b]) {
      const entry = json.workers.find((e) => e.id === w.workerId);
      assert.ok(entry);
      assert.deepEqual(
        { host: entry.host, port: entry.port, cores: entry.cores, memory: entry.memory, coresused: entry.coresused, memoryused: entry.memoryused, state: entry.state },
        { host: '127.0.0.1', port: w.rpcPort, cores: w.cores, memory: w.memoryMb, coresused: 0, memoryused: 0, state: 'ALIVE' },
      );
      assert.equal(entry.webuiaddress, `http://127.0.0.1:${w.webUiPort}`);

      const own = await getJson<WorkerJson>(w.webUiPort, uiBearer(secretFile));
      assert.equal(own.id, w.workerId);
      assert.equal(own.cores, w.cores);
      assert.equal(own.memory, w.memoryMb);
      assert.equal(own.coresused, 0);
      assert.equal(own.masterurl, master.url);
      assert.equal(own.masterwebuiurl, `http://127.0.0.1:${master.webUiPort}`);
    }
  });

  test('kill -9 of a worker: the master lists it DEAD; a restarted worker on a new port registers ALIVE', async () => {
    const b = workers.get('b');
    assert.ok(b);
    const exit = await b.child.kill('SIGKILL');
    assert.equal(exit.signal, 'SIGKILL');
    const dead = await untilMaster((j) => j.workers.some((e) => e.id === b.workerId && e.state === 'DEAD'), `${b.workerId} DEAD`);
    assert.equal(dead.aliveworkers, 1);
    assert.equal(dead.cores, 2, 'a DEAD worker no longer counts in the cluster totals');

    // Same host, same work dir, cores and memory; the port is a new one, and so is the id.
    const again = await startWorker('b', 3, '1g', 1024);
    assert.notEqual(again.rpcPort, b.rpcPort);
    assert.notEqual(again.workerId, b.workerId);
    const json = await untilMaster((j) => j.workers.some((e) => e.id === again.workerId && e.state === 'ALIVE'), `${again.workerId} ALIVE`);
    const entry = json.workers.find((e) => e.id === again.workerId);
    assert.equal(entry?.port, again.rpcPort);
    assert.equal(entry?.cores, 3);
    assert.equal(entry?.memory, 1024);
    assert.equal(json.aliveworkers, 2);
    assert.equal(json.workers.find((e) => e.id === b.workerId)?.state, 'DEAD', 'the old entry stays listed as DEAD');
    assert.equal((await getJson<WorkerJson>(again.webUiPort, uiBearer(secretFile))).masterurl, master.url);
  });

  test('a worker that stops heartbeating (SIGSTOP) is DEAD after flint.worker.timeout; resumed, it is ALIVE again', async () => {
    const a = workers.get('a');
    assert.ok(a);
    const stoppedAt = performance.now();
    a.child.killNow('SIGSTOP');
    try {
      // The connection stays open, so only the heartbeat timeout (2 s, swept every 2 s) can find it dead.
      await untilMaster((j) => j.workers.some((e) => e.id === a.workerId && e.state === 'DEAD'), `${a.workerId} DEAD`, 8_000);
      const elapsed = performance.now() - stoppedAt;
      assert.ok(elapsed >= 1_000, `DEAD ${elapsed.toFixed(0)} ms after the stop: not before the timeout`);
      const removed = master.child
        .stderrJson()
        .find((l) => String(l['msg']).startsWith(`Removing ${a.workerId} because we got no heartbeat in 2000 ms`));
      assert.ok(removed, `the master logs why it removed the worker:\n${master.child.stderr()}`);
    } finally {
      a.child.killNow('SIGCONT');
    }
    // Its next heartbeat is from a worker the master lists as DEAD: it is asked to reconnect, and registers again.
    const json = await untilMaster((j) => j.workers.some((e) => e.id === a.workerId && e.state === 'ALIVE'), `${a.workerId} ALIVE again`);
    assert.equal(json.workers.filter((e) => e.id === a.workerId).length, 1, 'one entry for the worker');
    assert.equal(json.aliveworkers, 2);
  });

  test('an application gets an executor: it runs the command with placeholders substituted, logs in its dir', async () => {
    app = await AppClient.register({
      masterUrl: master.url,
      conf: rpcConf,
      maxCores: 1,
      coresPerExecutor: 1,
      memoryMbPerExecutor: 128,
      // Every placeholder as a whole argument, plus one embedded in a longer argument, which stays as it is.
      executorArguments: [...PLACEHOLDER_ARGUMENTS, 'prefix-{{APP_ID}}'],
      environment: { FLINT_TEST_MARKER: 'from-the-app-description' },
    });
    const appId = app.appId;
    assert.match(appId, /^app-\d{14}-\d{4}$/);
    assert.equal(app.first('RegisteredApplication')?.masterAddress, `flint://Master@127.0.0.1:${master.rpcPort}`);

    const added = await app.waitFor((m) => m.type === 'ExecutorAdded' && m.id === 0, { timeoutMs: 10_000, what: 'ExecutorAdded 0' });
    assert.equal(added.type, 'ExecutorAdded');
    const worker = [...workers.values()].find((w) => w.workerId === added.workerId && w.child.alive);
    assert.ok(worker, `ExecutorAdded names a live worker: ${JSON.stringify(added)}`);
    assert.equal(added.hostPort, `127.0.0.1:${worker.rpcPort}`);
    assert.equal(added.cores, 1);
    assert.equal(added.memoryMb, 128);
    await app.waitFor((m) => m.type === 'ExecutorUpdated' && m.id === 0 && m.state === 'RUNNING', {
      timeoutMs: 10_000,
      what: 'ExecutorUpdated 0 RUNNING',
    });
    const addedAt = app.indexOf((m) => m.type === 'ExecutorAdded' && m.id === 0);
    const runningAt = app.indexOf((m) => m.type === 'ExecutorUpdated' && m.id === 0 && m.state === 'RUNNING');
    assert.ok(addedAt < runningAt, 'ExecutorAdded comes before ExecutorUpdated(RUNNING)');

    const execDir = join(worker.workDir, appId, '0');
    const line = await waitFor(() => executorLine(join(execDir, 'stdout')), {
      timeoutMs: 10_000,
      intervalMs: 50,
      what: `the test executor's line in ${execDir}/stdout`,
    });
    const pid = Number(line['pid']);
    assert.deepEqual(line['args'], [
      '--app-id',
      appId,
      '--executor-id',
      '0',
      '--hostname',
      '127.0.0.1',
      '--cores',
      '1',
      '--worker-url',
      `flint://Worker@127.0.0.1:${worker.rpcPort}`,
      'prefix-{{APP_ID}}',
    ]);
    assert.equal(line['marker'], 'from-the-app-description', 'the app description environment reaches the executor');
    assert.ok(pidAlive(pid), `executor pid ${pid} is running`);
    const stderr = await waitFor(
      () => {
        const text = readFileSync(join(execDir, 'stderr'), 'utf8');
        return text.includes('test executor: started') ? text : undefined;
      },
      { timeoutMs: 5_000, intervalMs: 50, what: `the executor's stderr line in ${execDir}/stderr` },
    );
    assert.ok(stderr.startsWith('Flint Executor Command: '), `stderr starts with the command header: ${stderr.slice(0, 200)}`);
    assert.ok(stderr.includes(TEST_EXECUTOR), 'the header shows the command');

    const json = await untilMaster((j) => j.activeapps.some((a) => a.id === appId && a.cores === 1), `${appId} with 1 core`);
    assert.equal(json.activeapps.find((a) => a.id === appId)?.state, 'RUNNING');
    const entry = json.workers.find((e) => e.id === worker.workerId);
    assert.equal(entry?.coresused, 1);
    assert.equal(entry?.memoryused, 128);
    const own = await getJson<WorkerJson>(worker.webUiPort, uiBearer(secretFile));
    assert.deepEqual(
      own.executors.map((e) => [e.appid, e.id]),
      [[appId, 0]],
    );
    assert.equal(own.coresused, 1);
  });

  test('kill -9 of the worker running an executor: the executor process exits and the app hears LOST', async () => {
    assert.ok(app, 'the application from the previous test');
    const added = app.first('ExecutorAdded', (m) => m.id === 0);
    const worker = [...workers.values()].find((w) => w.workerId === added?.workerId && w.child.alive);
    assert.ok(added && worker, 'executor 0 runs on a live worker');
    const execDir = join(worker.workDir, app.appId, '0');
    const pid = Number(executorLine(join(execDir, 'stdout'))?.['pid']);
    assert.ok(pidAlive(pid), `executor pid ${pid} runs before the kill`);

    await worker.child.kill('SIGKILL');
    await waitFor(() => !pidAlive(pid), { timeoutMs: 10_000, intervalMs: 50, what: `executor pid ${pid} to exit after its worker was killed` });
    assert.match(readFileSync(join(execDir, 'stderr'), 'utf8'), /stdin closed, the worker is gone/);

    const lost = await app.waitFor((m) => m.type === 'ExecutorUpdated' && m.id === 0 && m.state === 'LOST', {
      timeoutMs: 10_000,
      what: 'ExecutorUpdated 0 LOST',
    });
    assert.equal(lost.type === 'ExecutorUpdated' ? lost.workerHost : undefined, '127.0.0.1');
    await app.waitFor((m) => m.type === 'WorkerRemoved' && m.id === worker.workerId, { what: `WorkerRemoved ${worker.workerId}` });
    await untilMaster((j) => j.workers.some((e) => e.id === worker.workerId && e.state === 'DEAD'), `${worker.workerId} DEAD`);
  });
});
