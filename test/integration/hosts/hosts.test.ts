// Flint across separate hosts (issue 16, "Proof across hosts"): a master, two workers and a driver, each on a
// host of its own (a Linux network namespace with its own address, cabled to a switch: test/helpers/netns.ts),
// started with the CLI operators run. Registration with the advertised addresses (--host, FLINT_PUBLIC_DNS,
// flint.driver.host), a client-mode and a cluster-mode job with a shuffle, a worker's host unplugged mid-job, and
// a partition between the master and a worker healed after the timeout (Spark's ReconnectWorker). The test's own
// namespace reaches none of the hosts: it reads the daemons' /json through a probe on the driver's host.
//
// Skipped, saying why, only where network namespaces cannot be made (not root, no CAP_NET_ADMIN, no `ip`).

import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { newSecret, writeSecretFile } from '../../helpers/daemons.ts';
import {
  exited,
  Probe,
  startMasterOn,
  startWorkerOn,
  submitFrom,
  untilMasterJsonVia,
  workerJsonVia,
  WORKER_WEBUI_PORT,
  type HostMaster,
  type HostSettings,
  type HostWorker,
} from '../../helpers/hosts-cluster.ts';
import { describeOnHosts, NetnsLab, netnsUnavailable, type NetHost } from '../../helpers/netns.ts';
import { ChildGroup, waitForChild } from '../../helpers/process.ts';
import { tempDir } from '../../helpers/temp-dir.ts';

const APP = 'test/fixtures/apps/shuffle-app.ts';
/** flint.worker.timeout: a worker silent this long is DEAD (the master checks as often). */
const WORKER_TIMEOUT = '3s';
const unavailable = await netnsUnavailable();

describeOnHosts(unavailable, 'a master, two workers and a driver on four separate hosts', { timeout: 170_000 }, () => {
  const children = new ChildGroup();
  let dir: string;
  let lab: NetnsLab;
  let hosts: { master: NetHost; w1: NetHost; w2: NetHost; driver: NetHost };
  let settings: HostSettings;
  let master: HostMaster;
  let workers: HostWorker[];
  let probe: Probe;

  before(async () => {
    dir = tempDir('flint-hosts-');
    lab = await NetnsLab.create(['master', 'worker1', 'worker2', 'driver']);
    hosts = { master: lab.host('master'), w1: lab.host('worker1'), w2: lab.host('worker2'), driver: lab.host('driver') };
    // Quick registration retries (every 100–300 ms), so a worker that was cut off is back soon after it may be.
    settings = {
      secretFile: writeSecretFile(join(dir, 'secret'), newSecret()),
      conf: [`flint.worker.timeout=${WORKER_TIMEOUT}`, 'flint.worker.registrationRetryInterval=200ms', 'flint.worker.initialRegistrationRetries=300', 'flint.worker.maxRegistrationRetries=310'],
    };
    master = await startMasterOn(children, lab, hosts.master, settings);
    workers = await Promise.all(
      [hosts.w1, hosts.w2].map((h) =>
        startWorkerOn(children, lab, h, { ...settings, env: { FLINT_PUBLIC_DNS: h.dnsName }, masterUrl: master.url, workDir: join(dir, h.name), cores: 2, memory: '1g' }),
      ),
    );
    probe = await Probe.start(children, lab, hosts.driver);
  });

  after(async () => {
    await children.killAll();
    lab?.destroySync();
    if (dir && process.env['FLINT_KEEP_TEST_DIR'] === undefined) rmSync(dir, { recursive: true, force: true });
  });

  const aliveOn = (j: { workers: Array<{ host: string; state: string }> }, h: NetHost) => j.workers.some((w) => w.host === h.address && w.state === 'ALIVE');

  test('each worker registers at its own address, its web UI advertised under its FLINT_PUBLIC_DNS name', async () => {
    assert.equal(master.url, `flint://${hosts.master.address}:7077`);
    const json = await untilMasterJsonVia(probe, master, settings.secretFile, (j) => j.aliveworkers === 2, 'both workers ALIVE');
    for (const [i, h] of [hosts.w1, hosts.w2].entries()) {
      const w = json.workers.find((x) => x.id === workers[i]?.workerId);
      assert.ok(w, `worker ${workers[i]?.workerId} in ${JSON.stringify(json.workers)}`);
      assert.equal(w.host, h.address, 'registered at the address of its --host');
      assert.equal(w.webuiaddress, `http://${h.dnsName}:${WORKER_WEBUI_PORT}`, 'web UI under its public DNS name');
      // The name resolves on the driver's host, and the worker's UI answers there: the link the master shows works.
      const own = await workerJsonVia(probe, w.webuiaddress, settings.secretFile);
      assert.equal(own.id, w.id);
      assert.equal(own.masterurl, master.url);
    }
  });

  test('client mode from the driver host: a word count with a shuffle, exact; executors dial the flint.driver.host address', async () => {
    const gate = openGate();
    const app = clientWordCount('client-mode word count', gate, 'map');
    const run = await exited(app, 90_000);
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stdout, /^RESULT exact$/m, run.stdout);
    // Both workers ran executors for it (the master spreads out: spark.deploy.spreadOut).
    const appId = /^APP (\S+)$/m.exec(run.stdout)?.[1] ?? assert.fail(run.stdout);
    for (const w of workers) assert.ok(readdirSync(w.workDir).includes(appId), `${w.host.name} ran an executor of ${appId}`);
    const completed = (j: object) => (j as { completedapps?: Array<{ id: string; state: string }> }).completedapps ?? [];
    const json = await untilMasterJsonVia(probe, master, settings.secretFile, (j) => completed(j).some((a) => a.id === appId), `${appId} completed`);
    assert.equal(completed(json).find((a) => a.id === appId)?.state, 'FINISHED');
  });

  test('cluster mode: a worker runs the driver on its own host; its word count with a shuffle is exact', async () => {
    const gate = openGate();
    const submit = submitFrom(
      children,
      lab,
      hosts.driver,
      { ...settings, masterUrl: master.url, label: 'cluster-mode submit' },
      ['--deploy-mode', 'cluster', '--conf', 'flint.driver.memory=256m', '--total-executor-cores', '2', '--executor-memory', '256m', APP, 'gated', gate, 'map'],
    );
    const sent = await exited(submit, 60_000);
    assert.equal(sent.code, 0, sent.stderr);
    const driverId = /Driver successfully submitted as (driver-\S+)/.exec(sent.stdout)?.[1] ?? assert.fail(sent.stdout);
    const json = await untilMasterJsonVia(
      probe,
      master,
      settings.secretFile,
      (j) => ((j as unknown as { completeddrivers?: Array<{ id: string }> }).completeddrivers ?? []).some((d) => d.id === driverId),
      `${driverId} completed`,
      { timeoutMs: 90_000 },
    );
    const drivers = (json as unknown as { completeddrivers: Array<{ id: string; state: string; worker: string }> }).completeddrivers;
    const driver = drivers.find((d) => d.id === driverId);
    const host = workers.find((w) => readdirSync(w.workDir).includes(driverId)) ?? assert.fail(`no worker ran ${driverId}`);
    const out = readFileSync(join(host.workDir, driverId, 'stdout'), 'utf8');
    assert.equal(driver?.state, 'FINISHED', `${JSON.stringify(driver)}\n${out}\n${readFileSync(join(host.workDir, driverId, 'stderr'), 'utf8').slice(-4_000)}`);
    assert.match(out, /^RESULT exact$/m, out);
  });

  /**
   * shuffle-app.ts `gated <gate> <stage>` in client mode from the driver's host, which it advertises with
   * flint.driver.host: a word count over 4 executors of 1 core, every block fetched through a shuffle service.
   */
  function clientWordCount(label: string, gate: string, stage: 'map' | 'reduce', conf: readonly string[] = []) {
    return submitFrom(
      children,
      lab,
      hosts.driver,
      { ...settings, masterUrl: master.url, label, conf: [...(settings.conf ?? []), `flint.driver.host=${hosts.driver.address}`, 'flint.shuffle.readHostLocalDisk=false', ...conf] },
      ['--total-executor-cores', '4', '--executor-cores', '1', '--executor-memory', '256m', APP, 'gated', gate, stage],
    );
  }

  function openGate(): string {
    const gate = mkdtempSync(join(dir, 'gate-'));
    writeFileSync(join(gate, 'open'), '');
    return gate;
  }

  function closedGate(): string {
    const gate = join(dir, `gate-closed-${Date.now()}`);
    mkdirSync(gate);
    return gate;
  }

  test("a worker's host unplugged mid-job: the master times it out and the job's lost work is recomputed, exact", async () => {
    const gate = closedGate();
    // A host that vanishes answers nothing, not even a reset: a fetch from it fails only when its ask times out
    // (flint.rpc.askTimeout: flint.network.timeout, 120 s, by default, as Spark's), so shorter here.
    const app = clientWordCount('word count losing a host', gate, 'reduce', ['flint.rpc.askTimeout=8s']);
    // The map stage is done (its output on both workers) and every reduce task holds at the gate.
    await waitForChild(app, () => readdirSync(gate).filter((f) => f.startsWith('waiting-')).length >= 4, { timeoutMs: 90_000, intervalMs: 100, what: 'the reduce tasks at the gate' });
    const victim = hosts.w2;
    await lab.unplug(victim);
    try {
      await untilMasterJsonVia(probe, master, settings.secretFile, (j) => j.workers.some((w) => w.host === victim.address && w.state === 'DEAD'), `${victim.name} DEAD`);
      writeFileSync(join(gate, 'open'), '');
      const run = await exited(app, 90_000);
      assert.equal(run.code, 0, run.stderr);
      assert.match(run.stdout, /^RESULT exact$/m, run.stdout);
    } finally {
      await lab.plug(victim);
    }
    // Plugged back in, the worker is let in again (ReconnectWorker), so the next test starts with two.
    await untilMasterJsonVia(probe, master, settings.secretFile, (j) => aliveOn(j, victim), `${victim.name} ALIVE again`, { timeoutMs: 30_000 });
  });

  test('a partition between the master and a worker, healed after the timeout: the worker re-registers', async () => {
    const victim = hosts.w1;
    const before = await untilMasterJsonVia(probe, master, settings.secretFile, (j) => aliveOn(j, victim), `${victim.name} ALIVE`);
    const id = before.workers.find((w) => w.host === victim.address && w.state === 'ALIVE')?.id;
    await lab.partition(hosts.master, victim);
    try {
      await untilMasterJsonVia(probe, master, settings.secretFile, (j) => j.workers.some((w) => w.id === id && w.state === 'DEAD'), `${victim.name} DEAD`);
      // Only the master lost it: its web UI still answers the driver's host.
      const own = await workerJsonVia(probe, `http://${victim.dnsName}:${WORKER_WEBUI_PORT}`, settings.secretFile);
      assert.equal(own.id, id);
    } finally {
      await lab.heal(hosts.master, victim);
    }
    const json = await untilMasterJsonVia(probe, master, settings.secretFile, (j) => j.workers.some((w) => w.id === id && w.state === 'ALIVE'), `${victim.name} ALIVE again`, { timeoutMs: 30_000 });
    assert.equal(json.aliveworkers, 2);
    // Spark's ReconnectWorker: the master knew the worker (DEAD), so it asked it to register again.
    assert.ok(
      workers[0]?.child.stderrJson().some((l) => String(l['msg']).includes('requested this worker to reconnect')),
      'the worker logged that the master asked it to reconnect',
    );
  });
});
