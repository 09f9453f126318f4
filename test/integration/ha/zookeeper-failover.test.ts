// High availability against a real ZooKeeper (Debian's package, started by the test): two masters given to
// workers and apps as `flint://h1:p1,h2:p2`, kill -9 of the leader mid-job, masters started before ZooKeeper,
// a lost ZooKeeper session, and two masters racing for leadership. Reference §8.4, §8.5; issue 5.
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { logLine, newSecret, startWorker, untilMasterJson, writeSecretFile, type MasterDaemon } from '../../helpers/daemons.ts';
import { freePort, oneLeader, readyz, startRecoveringMaster, startSumAppMidJob, sumAppCompletes, tryMasterJson, zooKeeperConf } from '../../helpers/ha.ts';
import { ChildGroup, waitFor } from '../../helpers/process.ts';
import { SilentListener, ZooKeeperServer } from '../../helpers/zookeeper.ts';
import { tempDir } from '../../helpers/temp-dir.ts';

const children = new ChildGroup();
const dir = tempDir('flint-ha-');
const secretFile = writeSecretFile(join(dir, 'secret'), newSecret());
/** Quick retries (every 100–300 ms) for as long as a failover may take; after them a worker waits 30–90 s. */
const WORKER_CONF = ['flint.worker.registrationRetryInterval=200ms', 'flint.worker.initialRegistrationRetries=300', 'flint.worker.maxRegistrationRetries=310'];

describe('ZOOKEEPER recovery mode', () => {
  let zk: ZooKeeperServer;
  before(async () => {
    zk = await ZooKeeperServer.start();
  });
  after(async () => {
    await children.killAll();
    await zk?.destroy();
  });

  test('kill -9 of the leader mid-job: the standby leads, workers and app re-register, the job completes, the old leader comes back as standby', async () => {
    const ports = [await freePort(), await freePort()] as const;
    const conf = zooKeeperConf(zk.url, '/failover');
    const masterUrl = `flint://127.0.0.1:${ports[0]},127.0.0.1:${ports[1]}`;
    const masters = await Promise.all(ports.map((port, i) => startRecoveringMaster(children, `master-${i + 1}`, secretFile, port, conf)));
    const [leader, [standby]] = await oneLeader(masters);
    assert.ok(standby);
    assert.equal(await readyz(leader.webUiPort), 200);
    assert.equal(await readyz(standby.webUiPort), 503);
    const workers = await Promise.all(
      [1, 2].map((i) => startWorker(children, { label: `worker-${i}`, masterUrl, secretFile, workDir: join(dir, `failover-w${i}`), cores: 2, memory: '1g', conf: WORKER_CONF })),
    );
    await untilMasterJson(leader.webUiPort, (j) => j.aliveworkers === 2, 'both workers ALIVE on the leader');

    const progress = mkdtempSync(join(dir, 'progress-'));
    const { app, appId, release } = await startSumAppMidJob(children, masterUrl, secretFile, progress);

    await leader.child.kill('SIGKILL');
    const json = await untilMasterJson(
      standby.webUiPort,
      (j) => j.status === 'ALIVE' && j.aliveworkers === 2 && j.activeapps.some((a) => a.id === appId && a.state === 'RUNNING'),
      'the standby ALIVE with both workers and the app back',
      20_000,
    );
    assert.deepEqual(json.workers.map((w) => w.id).sort(), workers.map((w) => w.workerId).sort(), 'the same workers, re-registered');
    assert.equal(json.activeapps.find((a) => a.id === appId)?.cores, 2, 'the app keeps its two executors');

    await sumAppCompletes(app, release);

    const restarted = await startRecoveringMaster(children, 'master-1 again', secretFile, leader.rpcPort, conf);
    await logLine(restarted.child, (l) => l['msg'] === 'ZooKeeper connected', 'the restarted master to reach ZooKeeper', 10_000);
    await waitFor(async () => (await tryMasterJson(restarted.webUiPort))?.status === 'STANDBY', { timeoutMs: 5_000, what: 'the restarted master to be STANDBY' });
    assert.equal((await tryMasterJson(standby.webUiPort))?.status, 'ALIVE', 'the new leader still leads');
    assert.equal(await readyz(restarted.webUiPort), 503);
    for (const w of workers) await w.child.kill('SIGKILL');
    await standby.child.kill('SIGKILL');
    await restarted.child.kill('SIGKILL');
  });

  test('two masters started at once: exactly one leads', async () => {
    const conf = zooKeeperConf(zk.url, '/race');
    const ports = [await freePort(), await freePort()];
    const masters: MasterDaemon[] = await Promise.all(ports.map((port, i) => startRecoveringMaster(children, `racer-${i + 1}`, secretFile, port, conf)));
    const [leader, [other]] = await oneLeader(masters);
    assert.ok(other);
    // Still exactly one once both have surely joined the election.
    await logLine(other.child, (l) => l['msg'] === 'ZooKeeper connected', 'the standby to reach ZooKeeper');
    await oneLeader(masters, 2_000);
    assert.equal(await readyz(leader.webUiPort), 200);
    for (const m of masters) await m.child.kill('SIGKILL');
  });
});

describe('ZooKeeper outages', () => {
  let zk: ZooKeeperServer;
  before(async () => {
    zk = await ZooKeeperServer.prepare();
  });
  after(async () => {
    await children.killAll();
    await zk?.destroy();
  });

  test('a master started while ZooKeeper is down stays STANDBY, leads once ZooKeeper starts, and exits when its session is lost', async () => {
    const master = await startRecoveringMaster(children, 'early master', secretFile, await freePort(), zooKeeperConf(zk.url, '/outage'));
    await logLine(master.child, (l) => l['msg'] === 'ZooKeeper is unreachable; still trying', 'the master to retry ZooKeeper', 15_000);
    assert.equal((await tryMasterJson(master.webUiPort))?.status, 'STANDBY');
    assert.equal(await readyz(master.webUiPort), 503);

    await zk.start();
    await untilMasterJson(master.webUiPort, (j) => j.status === 'ALIVE', 'the master to lead once ZooKeeper is up', 30_000).catch((err: Error) => {
      throw new Error(`${err.message}\nmaster's log:\n${master.child.stderr().slice(-6_000)}\nZooKeeper's log:\n${zk.output()}`, { cause: err });
    });

    await zk.stop();
    const exit = await Promise.race([master.child.exited, new Promise<undefined>((r) => setTimeout(() => r(undefined), 15_000).unref())]);
    assert.ok(exit, 'the master stopped once its leadership was revoked');
    assert.equal(exit.code, 0);
    await logLine(master.child, (l) => String(l['msg']).startsWith('Leadership has been revoked'), 'the revocation to be logged');
  });

  test('a master whose first connections ZooKeeper accepts and never answers (as 3.8.0 does while it starts) leads once the server is up', async () => {
    const late = await ZooKeeperServer.prepare();
    const silent = await SilentListener.listen(late.port);
    try {
      const master = await startRecoveringMaster(children, 'master before a silent ZooKeeper', secretFile, await freePort(), zooKeeperConf(late.url, '/silent'));
      // Both the store's and the election's clients wait for a handshake answer.
      await waitFor(() => silent.connections.length >= 2, { timeoutMs: 15_000, what: "the master's two ZooKeeper clients to connect" });
      assert.equal((await tryMasterJson(master.webUiPort))?.status, 'STANDBY');
      silent.stopListening(); // the connections stay open and silent
      await late.start();
      await untilMasterJson(master.webUiPort, (j) => j.status === 'ALIVE', 'the master to lead once ZooKeeper is up', 30_000).catch((err: Error) => {
        throw new Error(`${err.message}\nmaster's log:\n${master.child.stderr().slice(-6_000)}`, { cause: err });
      });
      await master.child.kill('SIGKILL');
    } finally {
      silent.destroy();
      await late.destroy();
    }
  });
});
