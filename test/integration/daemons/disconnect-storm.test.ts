// A storm of disconnects: 2,000 authenticated workers registered with a real master (each its own
// connection from its own loopback address, bench/master-workers.ts) drop at once (the simulator is killed,
// so the kernel closes every socket), while 250 submitted drivers wait that fit on no worker (so every
// removal's schedule() pass warns about each of them, as Spark's does). The master must stay responsive (its
// /json is polled throughout and the slowest answer is reported) and write a bounded number of log lines.

import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { SIM_MARKER, type SimConfig } from '../../../bench/lib/master-sim.ts';
import type { ClientToMaster } from '../../../src/protocol/messages.ts';
import { RpcEnv } from '../../../src/rpc/index.ts';
import { authConf, newSecret, startMaster, uiAuthHeaders, untilMasterJson, writeSecretFile } from '../../helpers/daemons.ts';
import { ChildGroup, waitForChild } from '../../helpers/process.ts';
import { tempDir } from '../../helpers/temp-dir.ts';

const WORKERS = 2_000;
/** Drivers waiting for a worker with 1 TB of memory: none fits. */
const WAITING_DRIVERS = 250;
/** Generous on a loaded 2-core machine; the benchmark-grade figure is in docs/rpc.md. */
const MAX_JSON_MS = 1_000;
/**
 * Lines the master may write for the whole storm: at most 50 per message template per 10 s plus a summary
 * (three templates here: disassociated, removing worker, driver fits nowhere), for a storm that takes up to
 * about a minute on a loaded machine. Before the limiter: two per worker plus one per waiting driver per
 * removal, over 500,000.
 */
const MAX_LOG_LINES = 1_000;

/** GET /json, returning how long it took (ms); a 20 s limit so a stalled master shows as a long time. */
async function timedJson(port: number): Promise<{ ms: number; alive: number }> {
  const t0 = performance.now();
  const res = await fetch(`http://127.0.0.1:${port}/json`, { headers: uiAuthHeaders(port), signal: AbortSignal.timeout(20_000) });
  const body = (await res.json()) as { aliveworkers: number };
  return { ms: performance.now() - t0, alive: body.aliveworkers };
}

describe('a storm of 2,000 disconnects', { timeout: 180_000 }, () => {
  const children = new ChildGroup();
  const dir = tempDir('flint-storm-');
  after(async () => {
    await children.killAll();
    rmSync(dir, { recursive: true, force: true });
  });

  test('keeps /json responsive and the log bounded', async () => {
    const secret = newSecret();
    const secretFile = writeSecretFile(join(dir, 'secret'), secret);
    const master = await startMaster(children, { label: 'master', secretFile, conf: ['flint.worker.timeout=60s'] });
    const masterEnv = `flint://127.0.0.1:${master.rpcPort}`;
    const config: SimConfig = {
      masterEnv,
      masterUrl: masterEnv,
      first: 0,
      count: WORKERS,
      cores: 1,
      memoryMb: 1024,
      heartbeatMs: 15_000,
      inFlight: 16,
      idStamp: '20260101000000',
      secretFile,
    };
    const sim = children.spawnNodeScript('bench/master-workers.ts', [JSON.stringify(config)], { label: 'workers', stdin: 'pipe' });
    const simSaid = (event: string) => () => sim.stdoutLines.some((l) => l.startsWith(SIM_MARKER) && l.includes(`"event":"${event}"`));
    await waitForChild(sim, simSaid('ready'), { timeoutMs: 20_000, what: 'the simulator to start' });
    sim.proc.stdin?.write('register\n');
    await waitForChild(sim, simSaid('registered'), { timeoutMs: 120_000, intervalMs: 100, what: `${WORKERS} workers to register` });
    await untilMasterJson(master.webUiPort, (j) => j.aliveworkers === WORKERS, `${WORKERS} ALIVE workers`, 20_000);
    const client = await RpcEnv.create({ name: 'submitter', clientMode: true, conf: authConf(secret) });
    try {
      const ref = await client.setupEndpointRef<ClientToMaster>(masterEnv, 'Master');
      for (let i = 0; i < WAITING_DRIVERS; i++) {
        const command = { mainModule: 'never.js', arguments: [], environment: {}, nodeOptions: [] };
        await ref.ask({ type: 'RequestSubmitDriver', driverDescription: { appResource: 'never.js', memoryMb: 1_000_000, cores: 1, supervise: false, command } });
      }
    } finally {
      await client.shutdown();
    }
    const linesBefore = master.child.stderr().split('\n').length;
    // For scale: /json of 2,000 workers before the storm, on this machine now.
    const calm: number[] = [];
    for (let i = 0; i < 5; i++) calm.push((await timedJson(master.webUiPort)).ms);

    // Drop every worker at once, and poll /json until they are all gone.
    const latencies: number[] = [];
    await sim.kill('SIGKILL');
    const deadline = performance.now() + 60_000;
    let alive = WORKERS;
    while (alive > 0 && performance.now() < deadline) {
      const r = await timedJson(master.webUiPort).catch((err: Error) => {
        throw new Error(`/json failed during the storm (${err.message}); master exit ${JSON.stringify(master.child.exit)}; stderr tail:\n${master.child.stderr().slice(-3000)}`);
      });
      latencies.push(r.ms);
      alive = r.alive;
      await new Promise((done) => setTimeout(done, 10));
    }
    // A few more polls after the last removal, while the tail of the storm is logged.
    for (let i = 0; i < 10; i++) latencies.push((await timedJson(master.webUiPort)).ms);
    const lines = master.child.stderr().split('\n').length - linesBefore;
    const maxMs = Math.max(...latencies);
    process.stdout.write(
      `# storm: ${latencies.length} /json polls, max ${maxMs.toFixed(1)} ms (before the storm: max ${Math.max(...calm).toFixed(1)} ms); ${lines} master log lines\n`,
    );
    assert.equal(alive, 0, 'every worker is removed');
    assert.ok(maxMs <= MAX_JSON_MS, `/json answered within ${MAX_JSON_MS} ms throughout (max ${maxMs.toFixed(1)} ms)`);
    assert.ok(lines <= MAX_LOG_LINES, `the master wrote ${lines} lines for the storm, at most ${MAX_LOG_LINES} expected`);
  });
});
