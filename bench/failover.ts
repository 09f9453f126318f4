// bench:failover: how long a ZooKeeper-backed cluster is without a leader. A real ZooKeeper (Debian's package,
// see test/helpers/zookeeper.ts), two masters and four workers as real processes; kill -9 of the leading
// master, then the time until the standby is ALIVE with every worker re-registered (polled on its /json every
// 10 ms). Repeated FLINT_BENCH_ROUNDS times (default 3), alternating which master leads.
//
// Settings (the ones docs/operations.md recommends for fast failover):
//   flint.deploy.zookeeper.sessionTimeout = FLINT_BENCH_ZK_SESSION (default 2s): a dead leader's latch node
//     goes when its session expires, so this bounds detection
//   flint.worker.timeout = 10s: not on the failover path (workers are told by MasterChanged); it only bounds
//     flint.deploy.recoveryTimeout, the wait for a worker that never answers
//
// Last line: JSON {"failoverMs": median of the rounds, "workersBack": fewest workers back in any round, ...}.
// Target: failoverMs ≤ 5000 with all 4 back.

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { newSecret, startWorker, untilMasterJson, writeSecretFile, type MasterDaemon } from '../test/helpers/daemons.ts';
import { freePort, oneLeader, startRecoveringMaster, tryMasterJson, zooKeeperConf } from '../test/helpers/ha.ts';
import { ChildGroup, waitFor } from '../test/helpers/process.ts';
import { ZooKeeperServer } from '../test/helpers/zookeeper.ts';
import { formatTable, intFromEnv } from './lib/stats.ts';
import { benchJson, measureMachine } from './lib/machine.ts';

const WORKERS = 4;
const ROUNDS = intFromEnv('FLINT_BENCH_ROUNDS', 3);
const ZK_SESSION = process.env['FLINT_BENCH_ZK_SESSION'] ?? '2s';
const WORKER_TIMEOUT = '10s';

const children = new ChildGroup();
const dir = mkdtempSync(join(tmpdir(), 'flint-bench-failover-'));
let zk: ZooKeeperServer | undefined;

async function main(): Promise<void> {
  const machine = await measureMachine();
  zk = await ZooKeeperServer.start();
  const secretFile = writeSecretFile(join(dir, 'secret'), newSecret());
  const conf = [...zooKeeperConf(zk.url, '/bench', ZK_SESSION), `flint.worker.timeout=${WORKER_TIMEOUT}`];
  const ports = [await freePort(), await freePort()];
  const masterUrl = `flint://${ports.map((p) => `127.0.0.1:${p}`).join(',')}`;
  const masters: MasterDaemon[] = [];
  for (const [i, port] of ports.entries()) masters.push(await startRecoveringMaster(children, `master-${i + 1}`, secretFile, port, conf));
  let [leader] = await oneLeader(masters);
  await Promise.all(
    Array.from({ length: WORKERS }, (_, i) =>
      startWorker(children, { label: `worker-${i + 1}`, masterUrl, secretFile, workDir: join(dir, `w${i + 1}`), cores: 1, memory: '512m', conf: [`flint.worker.timeout=${WORKER_TIMEOUT}`, 'flint.worker.registrationRetryInterval=200ms'] }),
    ),
  );
  await untilMasterJson(leader.webUiPort, (j) => j.aliveworkers === WORKERS, 'every worker ALIVE', 30_000);

  const rows: Array<{ round: number; killed: number; failoverMs: number; workersBack: number }> = [];
  for (let round = 1; round <= ROUNDS; round++) {
    const standby = masters.find((m) => m !== leader) as MasterDaemon;
    const killedAt = performance.now();
    await leader.child.kill('SIGKILL');
    let workersBack = 0;
    await waitFor(
      async () => {
        const json = await tryMasterJson(standby.webUiPort);
        workersBack = json?.status === 'ALIVE' ? json.aliveworkers : 0;
        return workersBack === WORKERS;
      },
      { timeoutMs: 60_000, intervalMs: 10, what: 'the standby ALIVE with every worker' },
    ).catch(() => undefined);
    const failoverMs = Math.round(performance.now() - killedAt);
    rows.push({ round, killed: leader.rpcPort, failoverMs, workersBack });
    // The old leader comes back as the standby for the next round.
    const back = await startRecoveringMaster(children, `master (round ${round})`, secretFile, leader.rpcPort, conf);
    masters.splice(masters.indexOf(leader), 1, back);
    [leader] = await oneLeader(masters);
    if (leader !== standby) throw new Error('the restarted master took the lead back');
  }

  console.log(formatTable(['round', 'killed master port', 'failover ms', 'workers back'], rows.map((r) => [String(r.round), String(r.killed), String(r.failoverMs), `${r.workersBack}/${WORKERS}`])));
  console.log(`ZooKeeper session timeout ${ZK_SESSION}, worker timeout ${WORKER_TIMEOUT}, ${WORKERS} workers, 2 masters`);
  const sorted = rows.map((r) => r.failoverMs).sort((a, b) => a - b);
  const median = sorted[Math.floor(sorted.length / 2)] ?? Number.NaN;
  console.log(
    benchJson({
      failoverMs: median,
      workersBack: Math.min(...rows.map((r) => r.workersBack)),
      maxFailoverMs: sorted.at(-1),
      rounds: rows.length,
      zkSessionTimeout: ZK_SESSION,
      workerTimeout: WORKER_TIMEOUT,
    }, machine),
  );
}

try {
  await main();
} finally {
  await children.killAll();
  await zk?.destroy();
  rmSync(dir, { recursive: true, force: true });
}
