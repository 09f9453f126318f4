// Flint's master benchmark: `npm run bench:master`.
//
// Over real TCP on loopback, the real master (`bin/flint master`, a child process started as an operator starts
// one, so with the Node flags bin/flint gives daemons) and simulated workers (a
// child process, bench/master-workers.ts, holding one connection per worker; see that file for what a
// simulated worker is):
//   (a) a registration storm: every worker connects, handshakes and sends RegisterWorker at once (at most
//       FLINT_BENCH_IN_FLIGHT registrations in flight); timed from the first RegisterWorker queued to the last
//       RegisteredWorker reply received, then checked on the master's /json (every worker ALIVE);
//   (b) steady heartbeating at the default interval (flint.worker.timeout 60 s / 4 = 15 s, a random phase per
//       worker): the master's CPU % of one core over a window, from /proc/<pid>/stat (utime + stime);
//   (d) the master's resident memory (VmRSS, /proc/<pid>/status) at the end of that window.
// Then, in this process, on a MasterMachine (no sockets):
//   (c) one `schedule()` pass with 1,000 waiting apps over 10,000 idle workers (median of several fresh
//       clusters), a saturated-cluster pass, and a cross-check of the same pass reached through recovery.
// Prints a table, then, as the very last line, one JSON object with the headline figures.
//
// Environment (optional): FLINT_BENCH_WORKERS (10000), FLINT_BENCH_APPS (1000), FLINT_BENCH_SIMS (simulator
// processes, 1), FLINT_BENCH_IN_FLIGHT (registrations in flight, 10000), FLINT_BENCH_WINDOW_S (30),
// FLINT_BENCH_SETTLE_S (5), FLINT_BENCH_SCHEDULE_RUNS (5), FLINT_BENCH_WORKER_TIMEOUT_S (60: the master's
// flint.worker.timeout, a quarter of which is the workers' heartbeat interval), FLINT_BENCH_AUTH (1: the master authenticates with
// a secret file, as daemons do by default; 0: flint.authenticate=false), FLINT_BENCH_MASTER_NODE_ARGS (extra
// node flags for the master, space-separated, passed in NODE_OPTIONS, e.g. `--cpu-prof --cpu-prof-dir=/tmp/prof`;
// FLINT_DAEMON_NODE_OPTS replaces bin/flint's own daemon flags, as it does for operators).

import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { deriveUiToken } from '../src/io/http/ui-auth.ts';
import { killAllChildren, rejectAfter, startMaster, startSim, type MasterChild, type SimChild } from './lib/children.ts';
import { drainPass, recoveryPass, registerWorkers, saturatedCluster, type ClusterShape, type Pass } from './lib/master-schedule.ts';
import type { SimConfig, SimStats } from './lib/master-sim.ts';
import {
  clockTicksPerSecond,
  cpuPercent,
  cpuSample,
  memorySample,
  openFileLimits,
  tcpOverflowCounters,
  type CpuSample,
  type MemorySample,
  type TcpOverflowCounters,
} from './lib/proc.ts';
import { formatTable, intFromEnv, median } from './lib/stats.ts';
import { benchJson, measureMachine } from './lib/machine.ts';

const WORKERS = intFromEnv('FLINT_BENCH_WORKERS', 10_000);
const APPS = intFromEnv('FLINT_BENCH_APPS', 1_000);
const SIMS = intFromEnv('FLINT_BENCH_SIMS', 1);
const IN_FLIGHT = intFromEnv('FLINT_BENCH_IN_FLIGHT', 10_000);
const WINDOW_MS = intFromEnv('FLINT_BENCH_WINDOW_S', 30) * 1000;
const SETTLE_MS = intFromEnv('FLINT_BENCH_SETTLE_S', 5) * 1000;
const SCHEDULE_RUNS = intFromEnv('FLINT_BENCH_SCHEDULE_RUNS', 5);
const AUTH = (process.env['FLINT_BENCH_AUTH'] ?? '1') !== '0';
const MASTER_NODE_ARGS = (process.env['FLINT_BENCH_MASTER_NODE_ARGS'] ?? '').split(' ').filter((a) => a !== '');

/**
 * flint.worker.timeout (60 s, its default, unless FLINT_BENCH_WORKER_TIMEOUT_S says otherwise); the Worker heartbeats
 * every quarter of it. A tenth of the default gives 10,000 workers the heartbeats of 100,000 (docs/benchmarks.md).
 */
const DEFAULT_WORKER_TIMEOUT_MS = 60_000;
const WORKER_TIMEOUT_MS = intFromEnv('FLINT_BENCH_WORKER_TIMEOUT_S', DEFAULT_WORKER_TIMEOUT_MS / 1000) * 1000;
const HEARTBEAT_MS = WORKER_TIMEOUT_MS / 4;
/** How many workers at the default interval send the heartbeats these send. */
const EQUIVALENT_WORKERS = Math.round((WORKERS * DEFAULT_WORKER_TIMEOUT_MS) / WORKER_TIMEOUT_MS);
const CORES_PER_WORKER = 8;
const MEMORY_MB_PER_WORKER = 16_384;
const IDLE_MS = 3_000;
const WINDOW_SLICE_MS = 5_000;
const REGISTRATION_TIMEOUT_MS = 60_000;
const SCHEDULE_BUDGET_MS = 45_000;
/** Small drain passes (a tenth of the size) before the first full one: see runSchedule. */
const SMALL_WARMUP_PASSES = 10;
const RUN_DEADLINE_MS = 180_000;

const TARGETS = { registrationMs: 3_000, heartbeatCpuPct: 5, scheduleMs: 30, rssMb: 300 } as const;
/** Issue 13's stretch: 100,000 workers heartbeating with the master below a quarter of one core. */
const STRETCH = { workers: 100_000, heartbeatCpuPct: 25 } as const;
/** (b)'s target: 5 % at the default interval; with a shorter one, the stretch's 25 % for the heartbeats of 100,000, else none. */
const HEARTBEAT_TARGET_PCT: number | undefined =
  WORKER_TIMEOUT_MS === DEFAULT_WORKER_TIMEOUT_MS ? TARGETS.heartbeatCpuPct : EQUIVALENT_WORKERS === STRETCH.workers ? STRETCH.heartbeatCpuPct : undefined;

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
const f1 = (x: number): string => x.toFixed(1);
const int = (x: number): string => Math.round(x).toLocaleString('en-US');
const round1 = (x: number): number => Math.round(x * 10) / 10;
const round2 = (x: number): number => Math.round(x * 100) / 100;

// ---- /json ----------------------------------------------------------------------------------------------

interface JsonView {
  readonly alive: number;
  readonly listed: number;
  /** Age of the stalest heartbeat among ALIVE workers, in ms, against this process's clock. */
  readonly oldestHeartbeatAgeMs: number;
  readonly bytes: number;
  readonly fetchMs: number;
}

/** `uiToken`: the web UI's bearer token (derived from the cluster secret), or undefined when the UI is open. */
async function readJson(webUiPort: number, uiToken: string | undefined): Promise<JsonView> {
  const t0 = performance.now();
  const headers = uiToken === undefined ? {} : { authorization: `Bearer ${uiToken}` };
  const res = await fetch(`http://127.0.0.1:${webUiPort}/json`, { headers, signal: AbortSignal.timeout(20_000) });
  const text = await res.text();
  const fetchMs = performance.now() - t0;
  if (res.status !== 200) throw new Error(`GET /json answered ${res.status}: ${text.slice(0, 200)}`);
  const body = JSON.parse(text) as { aliveworkers: number; workers: Array<{ state: string; lastheartbeat: number }> };
  const now = Date.now();
  let oldest = 0;
  for (const w of body.workers) if (w.state === 'ALIVE') oldest = Math.max(oldest, now - w.lastheartbeat);
  return { alive: body.aliveworkers, listed: body.workers.length, oldestHeartbeatAgeMs: oldest, bytes: text.length, fetchMs };
}

// ---- (a), (b), (d): the master over TCP --------------------------------------------------------------------

interface WireResults {
  readonly registrationMs: number;
  readonly registrationMasterCpuMs: number;
  readonly registrationSimCpuPct: number;
  /** Listen-queue overflows and SYN retransmits during the storm (this network namespace); undefined if unreadable. */
  readonly registrationTcp: TcpOverflowCounters | undefined;
  readonly aliveAfterRegistration: JsonView;
  readonly idleCpuPct: number;
  readonly idleRss: MemorySample;
  readonly heartbeatCpuPct: number;
  readonly heartbeatSystemCpuPct: number;
  readonly sliceCpuPcts: number[];
  readonly simCpuPct: number;
  readonly heartbeatsPerSec: number;
  readonly heartbeatsInWindow: number;
  readonly windowMs: number;
  readonly rss: MemorySample;
  readonly afterWindow: JsonView;
  readonly closedConnections: number;
  readonly unexpected: Record<string, number>;
  readonly backpressured: number;
  readonly masterLogs: MasterChild['logs'];
  readonly masterProblems: string[];
  readonly fdNote: string;
  /** The master's command line, from /proc/<pid>/cmdline: the Node flags it runs with. */
  readonly masterCommandLine: string;
}

async function runOverTcp(repoRoot: string, ticksPerSec: number): Promise<WireResults> {
  const fds = openFileLimits();
  const need = WORKERS + 512;
  if (fds.hard < need) {
    throw new Error(`the open-file limit (hard ${fds.hard}) is below the ${need} descriptors the master needs for ${WORKERS} workers`);
  }
  const raiseFdLimit = fds.soft < need;
  const fdNote = `open files: soft ${fds.soft}, hard ${fds.hard}${raiseFdLimit ? ' (children raised to the hard limit)' : ''}`;

  const secretDir = mkdtempSync(join(tmpdir(), 'flint-bench-master-'));
  tempDirs.add(secretDir);
  const cleanup: Array<() => Promise<void> | void> = [() => removeTempDirs()];
  try {
    const secretFile = join(secretDir, 'secret');
    const secret = randomBytes(32).toString('hex');
    writeFileSync(secretFile, secret, { mode: 0o600 });
    const uiToken = AUTH ? deriveUiToken(secret) : undefined;
    const authArgs = AUTH
      ? ['--conf', 'flint.authenticate=true', '--conf', `flint.authenticate.secret.file=${secretFile}`]
      : ['--conf', 'flint.authenticate=false'];
    const master = await startMaster({
      cwd: repoRoot,
      nodeArgs: MASTER_NODE_ARGS,
      // Every simulated worker connects at once, with the default handshake caps: past 256 in the handshake,
      // connections wait for a slot (docs/rpc.md "Limits").
      masterArgs: ['--host', '127.0.0.1', '--port', '0', '--webui-port', '0', '--conf', `flint.worker.timeout=${WORKER_TIMEOUT_MS / 1000}s`, ...authArgs],
      raiseFdLimit,
      startTimeoutMs: 20_000,
    });
    cleanup.push(() => master.stop());
    const masterCommandLine = readFileSync(`/proc/${master.pid}/cmdline`, 'utf8').split('\0').join(' ').trim();
    const race = <T>(p: Promise<T>): Promise<T> => Promise.race([p, master.exited]);

    // Idle baseline: no workers yet.
    await race(sleep(1_000));
    const idle0 = cpuSample(master.pid);
    await race(sleep(IDLE_MS));
    const idleCpuPct = cpuPercent(idle0, cpuSample(master.pid), ticksPerSec);
    const idleRss = memorySample(master.pid);

    // Simulators: one or more processes, workers split evenly.
    const masterEnv = `flint://127.0.0.1:${master.rpcPort}`;
    const idStamp = new Date().toISOString().replace(/[-:T]/g, '').slice(0, 14);
    const script = fileURLToPath(new URL('./master-workers.ts', import.meta.url));
    const sims: SimChild[] = [];
    const per = Math.ceil(WORKERS / SIMS);
    for (let s = 0; s < SIMS; s++) {
      const first = s * per;
      const count = Math.min(per, WORKERS - first);
      if (count <= 0) break;
      const config: SimConfig = {
        masterEnv,
        masterUrl: masterEnv,
        first,
        count,
        cores: CORES_PER_WORKER,
        memoryMb: MEMORY_MB_PER_WORKER,
        heartbeatMs: HEARTBEAT_MS,
        inFlight: Math.max(1, Math.ceil(IN_FLIGHT / SIMS)),
        idStamp,
        ...(AUTH ? { secretFile } : {}),
      };
      const sim = await race(startSim({ cwd: repoRoot, script, config, raiseFdLimit, startTimeoutMs: 20_000 }));
      sims.push(sim);
      cleanup.push(() => sim.stop());
    }
    const raceAll = <T>(p: Promise<T>): Promise<T> => Promise.race([p, master.exited, ...sims.flatMap((s) => [s.exited, s.failed])]);
    const simCpu = (): CpuSample[] => sims.map((s) => cpuSample(s.pid));
    const simCpuPct = (from: CpuSample[], to: CpuSample[]): number =>
      from.reduce((sum, f, i) => sum + cpuPercent(f, to[i] as CpuSample, ticksPerSec), 0);

    // (a) the storm.
    const tcp0 = tcpOverflowCounters();
    const reg0 = cpuSample(master.pid);
    const regSim0 = simCpu();
    for (const sim of sims) sim.send('register');
    const done = await raceAll(
      Promise.race([
        Promise.all(sims.map((s) => s.registered)),
        rejectAfter(REGISTRATION_TIMEOUT_MS, `not every worker was registered within ${REGISTRATION_TIMEOUT_MS / 1000} s`),
      ]),
    );
    const reg1 = cpuSample(master.pid);
    const regSim1 = simCpu();
    const tcp1 = tcpOverflowCounters();
    const registrationTcp =
      tcp0 && tcp1
        ? {
            listenOverflows: tcp1.listenOverflows - tcp0.listenOverflows,
            listenDrops: tcp1.listenDrops - tcp0.listenDrops,
            synRetransmits: tcp1.synRetransmits - tcp0.synRetransmits,
          }
        : undefined;
    const registrationMs = Math.max(...done.map((s) => s.lastReplyEpochMs)) - Math.min(...done.map((s) => s.firstSendEpochMs));
    const registrationMasterCpuMs = ((reg1.ticks - reg0.ticks) * 1000) / ticksPerSec;
    const registrationSimCpuPct = simCpuPct(regSim0, regSim1);
    const aliveAfterRegistration = await raceAll(readJson(master.webUiPort, uiToken));
    if (aliveAfterRegistration.alive !== WORKERS) {
      throw new Error(`the master's /json shows ${aliveAfterRegistration.alive} ALIVE workers after registration, expected ${WORKERS}`);
    }

    // (b) steady heartbeating, after the registration's follow-up traffic (WorkerLatestState, first beats).
    await raceAll(sleep(SETTLE_MS));
    const before = await raceAll(Promise.all(sims.map((s) => s.stats())));
    const win0 = cpuSample(master.pid);
    const winSim0 = simCpu();
    const slices: number[] = [];
    let sliceStart = win0;
    while (performance.now() - win0.atMs < WINDOW_MS - 1) {
      await raceAll(sleep(Math.min(WINDOW_SLICE_MS, WINDOW_MS - (performance.now() - win0.atMs))));
      const s = cpuSample(master.pid);
      slices.push(cpuPercent(sliceStart, s, ticksPerSec));
      sliceStart = s;
    }
    const win1 = sliceStart;
    const winSim1 = simCpu();
    const rss = memorySample(master.pid);
    const after = await raceAll(Promise.all(sims.map((s) => s.stats())));
    const windowMs = win1.atMs - win0.atMs;
    const heartbeatsInWindow = sum(after, (s) => s.heartbeatsSent) - sum(before, (s) => s.heartbeatsSent);
    const afterWindow = await raceAll(readJson(master.webUiPort, uiToken));
    if (afterWindow.alive !== WORKERS) throw new Error(`/json shows ${afterWindow.alive} ALIVE workers after the window, expected ${WORKERS}`);
    if (afterWindow.oldestHeartbeatAgeMs > HEARTBEAT_MS + 5_000) {
      throw new Error(`a worker's last heartbeat on the master is ${afterWindow.oldestHeartbeatAgeMs} ms old: heartbeats are not keeping up`);
    }
    const unexpected: Record<string, number> = {};
    for (const s of after) for (const [k, v] of Object.entries(s.unexpected)) unexpected[k] = (unexpected[k] ?? 0) + v;

    const results: WireResults = {
      registrationMs,
      registrationMasterCpuMs,
      registrationSimCpuPct,
      registrationTcp,
      aliveAfterRegistration,
      idleCpuPct,
      idleRss,
      heartbeatCpuPct: cpuPercent(win0, win1, ticksPerSec),
      heartbeatSystemCpuPct: cpuPercent(win0, win1, ticksPerSec, 'system'),
      sliceCpuPcts: slices,
      simCpuPct: simCpuPct(winSim0, winSim1),
      heartbeatsPerSec: heartbeatsInWindow / (windowMs / 1000),
      heartbeatsInWindow,
      windowMs,
      rss,
      afterWindow,
      closedConnections: sum(after, (s) => s.closed),
      unexpected,
      backpressured: sum(after, (s) => s.backpressured),
      masterLogs: { ...master.logs },
      masterProblems: [...master.problems],
      fdNote,
      masterCommandLine,
    };
    return results;
  } finally {
    for (const c of cleanup.reverse()) {
      try {
        await c();
      } catch {
        // best effort; killAllChildren below catches what is left
      }
    }
    killAllChildren();
  }
}

function sum(stats: readonly SimStats[], pick: (s: SimStats) => number): number {
  return stats.reduce((n, s) => n + pick(s), 0);
}

// ---- (c): schedule() in process ----------------------------------------------------------------------------

interface ScheduleResults {
  readonly drain: Pass[];
  readonly saturated: Pass[];
  readonly recovery: Pass[];
  readonly registration: { totalMs: number; firstTenthMeanUs: number; lastTenthMeanUs: number };
}

function runSchedule(): ScheduleResults {
  const shape: ClusterShape = {
    workers: WORKERS,
    coresPerWorker: CORES_PER_WORKER,
    memoryMbPerWorker: MEMORY_MB_PER_WORKER,
    apps: APPS,
    appMaxCores: 8,
    appCoresPerExecutor: 1,
    appMemoryMbPerExecutor: 1_024,
  };
  const now = Date.now();
  const t0 = performance.now();
  const overBudget = (): boolean => performance.now() - t0 > SCHEDULE_BUDGET_MS;
  // Warm-up on a tenth of the size: JIT-compile the paths before anything is timed. A running master calls
  // schedule() on every registration, app and executor change, so its once-per-pass functions (executorPass,
  // placeExecutorsInTurn, the FIFO loop) are optimized too; they tier up by calls, not by the size of a pass,
  // and after a single warm-up pass the first timed passes still ran them unoptimized (30-44 ms against 20).
  const small: ClusterShape = { ...shape, workers: Math.max(10, Math.floor(WORKERS / 10)), apps: Math.max(1, Math.floor(APPS / 10)) };
  for (let i = 0; i < SMALL_WARMUP_PASSES; i++) drainPass(small, now);
  saturatedCluster(small, now).pass();
  // Then one untimed pass at full size: the code paths a 10,000-worker cluster takes are hot in a running master.
  drainPass(shape, now);

  const { totalMs, firstTenthMeanUs, lastTenthMeanUs } = registerWorkers(shape, now);
  const registration = { totalMs, firstTenthMeanUs, lastTenthMeanUs };
  const drain: Pass[] = [];
  for (let i = 0; i < SCHEDULE_RUNS && (i === 0 || !overBudget()); i++) drain.push(drainPass(shape, now));
  const saturated: Pass[] = [];
  const full = saturatedCluster(shape, now);
  for (let i = 0; i < SCHEDULE_RUNS && (i === 0 || !overBudget()); i++) saturated.push(full.pass());
  const recovery: Pass[] = [];
  for (let i = 0; i < Math.min(3, SCHEDULE_RUNS) && (i === 0 || !overBudget()); i++) recovery.push(recoveryPass(shape, now));
  return { drain, saturated, recovery, registration };
}

// ---- the run ------------------------------------------------------------------------------------------------

const met = (ok: boolean | null): string => (ok === null ? 'no target' : ok ? 'met' : 'MISSED');

async function run(): Promise<void> {
  const repoRoot = fileURLToPath(new URL('..', import.meta.url));
  const loadAvg1m = loadavg()[0] ?? 0;
  const machine = await measureMachine();
  const ticksPerSec = clockTicksPerSecond();
  const wire = await runOverTcp(repoRoot, ticksPerSec);
  const sched = runSchedule();

  const scheduleMs = median(sched.drain.map((p) => p.ms));
  const saturatedMs = median(sched.saturated.map((p) => p.ms));
  const recoveryMs = median(sched.recovery.map((p) => p.ms));
  const ok = {
    registration: wire.registrationMs <= TARGETS.registrationMs,
    heartbeat: HEARTBEAT_TARGET_PCT === undefined ? null : wire.heartbeatCpuPct <= HEARTBEAT_TARGET_PCT,
    schedule: scheduleMs <= TARGETS.scheduleMs,
    rss: wire.rss.rssMb <= TARGETS.rssMb,
  };

  console.log(
    `Flint master benchmark: Node ${process.version}, ${availableParallelism()} CPUs, load average ${loadAvg1m.toFixed(2)} at start ` +
      '(other work on the machine skews every figure)',
  );
  console.log(
    `setup: the real master (bin/flint master, ${AUTH ? 'authenticating with a secret file' : 'flint.authenticate=false'}) on 127.0.0.1; ` +
      `${int(WORKERS)} simulated workers in ${SIMS} process(es) (bench/master-workers.ts), one TCP connection each from its own ` +
      `loopback address 127.10.x.y, ${CORES_PER_WORKER} cores and ${MEMORY_MB_PER_WORKER} MB each; ${wire.fdNote}`,
  );
  console.log(`master command line: ${wire.masterCommandLine.replace(/secret\.file=\S+/, 'secret.file=...')}`);
  console.log('');
  const rows: string[][] = [
    [
      `(a) registration storm, ${int(WORKERS)} workers`,
      `first RegisterWorker queued -> last RegisteredWorker received; <= ${int(IN_FLIGHT)} in flight`,
      `${int(wire.registrationMs)} ms`,
      `<= ${int(TARGETS.registrationMs)} ms`,
      met(ok.registration),
    ],
    [
      '(b) heartbeat CPU',
      `master utime+stime / wall, ${f1(wire.windowMs / 1000)} s window, ${f1(wire.heartbeatsPerSec)} beats/s` +
        (EQUIVALENT_WORKERS === WORKERS ? '' : ` (those of ${int(EQUIVALENT_WORKERS)} workers at the default interval)`),
      `${wire.heartbeatCpuPct.toFixed(2)} %`,
      HEARTBEAT_TARGET_PCT === undefined ? '-' : `<= ${HEARTBEAT_TARGET_PCT} %`,
      met(ok.heartbeat),
    ],
    [
      `(c) schedule(), ${int(APPS)} apps x ${int(WORKERS)} workers`,
      `in process, median of ${sched.drain.length} fresh clusters, places ${int(sched.drain[0]?.executorsLaunched ?? 0)} executors`,
      `${f1(scheduleMs)} ms`,
      `<= ${TARGETS.scheduleMs} ms`,
      met(ok.schedule),
    ],
    [
      `(d) master RSS, ${int(WORKERS)} workers`,
      `VmRSS at the end of the window (peak VmHWM ${f1(wire.rss.peakRssMb)} MB)`,
      `${f1(wire.rss.rssMb)} MB`,
      `<= ${TARGETS.rssMb} MB`,
      met(ok.rss),
    ],
  ];
  console.log(formatTable(['measure', 'how', 'value', 'target', 'status'], rows));
  console.log('');
  console.log(
    `(a) master CPU during the storm ${int(wire.registrationMasterCpuMs)} ms (${f1((wire.registrationMasterCpuMs * 1000) / WORKERS)} µs per worker); ` +
      `simulator CPU ${f1(wire.registrationSimCpuPct)} % of one core; /json then listed ${int(wire.aliveAfterRegistration.alive)} ALIVE ` +
      `(${f1(wire.aliveAfterRegistration.bytes / 1e6)} MB, fetched in ${int(wire.aliveAfterRegistration.fetchMs)} ms)`,
  );
  const tcp = wire.registrationTcp;
  console.log(
    tcp === undefined
      ? '(a) TCP listen-queue counters: unreadable (/proc/net/netstat)'
      : `(a) during the storm, in this network namespace: listen-queue overflows ${int(tcp.listenOverflows)}, drops ${int(tcp.listenDrops)}, ` +
          `SYN retransmits ${int(tcp.synRetransmits)} (each retransmit waits >= 1 s; the master listens with flint.rpc.io.backLog, 4096 by default, ` +
          `which Linux caps at net.core.somaxconn = ${somaxconn()})`,
  );
  console.log(
    `(b) of which kernel (stime) ${wire.heartbeatSystemCpuPct.toFixed(2)} %; idle master (no workers) ${wire.idleCpuPct.toFixed(2)} %; per ${WINDOW_SLICE_MS / 1000} s slice: ${wire.sliceCpuPcts.map((p) => p.toFixed(1)).join(' ')} %; ` +
      `${int(wire.heartbeatsInWindow)} heartbeats in the window (${f1((wire.heartbeatCpuPct * 10 * wire.windowMs) / Math.max(1, wire.heartbeatsInWindow))} µs of master CPU each); ` +
      `simulator CPU ${f1(wire.simCpuPct)} %; settle before the window ${SETTLE_MS / 1000} s`,
  );
  console.log(
    `(b) after the window /json: ${int(wire.afterWindow.alive)} ALIVE, stalest heartbeat ${f1(wire.afterWindow.oldestHeartbeatAgeMs / 1000)} s old ` +
      `(interval ${HEARTBEAT_MS / 1000} s); connections closed ${wire.closedConnections}; writes over high water ${wire.backpressured}; ` +
      `unexpected messages ${JSON.stringify(wire.unexpected)}`,
  );
  console.log(
    `(d) idle master RSS ${f1(wire.idleRss.rssMb)} MB -> ${f1(wire.rss.rssMb)} MB with ${int(WORKERS)} workers ` +
      `(${f1(((wire.rss.rssMb - wire.idleRss.rssMb) * 1024) / WORKERS)} KB per worker)`,
  );
  console.log(
    `(c) drain passes (ms): ${sched.drain.map((p) => f1(p.ms)).join(' ')}; ${int(sched.drain[0]?.effects ?? 0)} effects each. ` +
      `Apps: maxCores 8, 1 core and 1024 MB per executor.`,
  );
  console.log(
    `(c) saturated cluster (one app holds every core, ${int(APPS)} apps still want 8 cores; places nothing): median ${f1(saturatedMs)} ms ` +
      `(${sched.saturated.map((p) => f1(p.ms)).join(' ')})`,
  );
  console.log(
    `(c) cross-check through public inputs only (recovery completing with every app waiting): median ${f1(recoveryMs)} ms ` +
      `(${sched.recovery.map((p) => f1(p.ms)).join(' ')}), includes completeRecovery()`,
  );
  console.log(
    `(c) in-process RegisterWorker x ${int(WORKERS)} via handle(): ${int(sched.registration.totalMs)} ms; mean per registration ` +
      `${f1(sched.registration.firstTenthMeanUs)} µs over the first 10%, ${f1(sched.registration.lastTenthMeanUs)} µs over the last 10%`,
  );
  console.log(
    `master log lines during the run: info ${wire.masterLogs.info}, warn ${wire.masterLogs.warn}, error ${wire.masterLogs.error}, other ${wire.masterLogs.other}`,
  );
  for (const line of wire.masterProblems) console.log(`  master: ${line}`);
  console.log(
    `targets: registration10kMs ${int(wire.registrationMs)} (${met(ok.registration)}), heartbeatCpuPct ${wire.heartbeatCpuPct.toFixed(2)} (${met(ok.heartbeat)}), ` +
      `schedule1kApps10kWorkersMs ${f1(scheduleMs)} (${met(ok.schedule)}), rss10kWorkersMb ${f1(wire.rss.rssMb)} (${met(ok.rss)})`,
  );

  const summary = {
    registration10kMs: Math.round(wire.registrationMs),
    heartbeatCpuPct: round2(wire.heartbeatCpuPct),
    schedule1kApps10kWorkersMs: round1(scheduleMs),
    rss10kWorkersMb: round1(wire.rss.rssMb),
    workers: WORKERS,
    apps: APPS,
    heartbeatIntervalMs: HEARTBEAT_MS,
    heartbeatEquivalentWorkers: EQUIVALENT_WORKERS,
    windowMs: Math.round(wire.windowMs),
    heartbeatsPerSec: round1(wire.heartbeatsPerSec),
    registrationInFlight: IN_FLIGHT,
    simulatorProcesses: SIMS,
    authenticate: AUTH,
    registrationMasterCpuMs: Math.round(wire.registrationMasterCpuMs),
    registrationListenOverflows: wire.registrationTcp?.listenOverflows ?? null,
    registrationSynRetransmits: wire.registrationTcp?.synRetransmits ?? null,
    heartbeatSystemCpuPct: round2(wire.heartbeatSystemCpuPct),
    idleCpuPct: round2(wire.idleCpuPct),
    idleRssMb: round1(wire.idleRss.rssMb),
    peakRssMb: round1(wire.rss.peakRssMb),
    scheduleSaturatedMs: round1(saturatedMs),
    scheduleViaRecoveryMs: round1(recoveryMs),
    scheduleRuns: sched.drain.length,
    registrationTargetMet: ok.registration,
    heartbeatTargetMet: ok.heartbeat,
    scheduleTargetMet: ok.schedule,
    rssTargetMet: ok.rss,
    loadAvg1m: round2(loadAvg1m),
    cpus: availableParallelism(),
    node: process.version,
  };
  console.log(benchJson(summary, machine));
}

/** Linux's cap on a listen backlog; '?' where unreadable. */
function somaxconn(): string {
  try {
    return readFileSync('/proc/sys/net/core/somaxconn', 'utf8').trim();
  } catch {
    return '?';
  }
}

/** Temporary directories (the secret file's), removed on every way out. */
const tempDirs = new Set<string>();

function removeTempDirs(): void {
  for (const dir of tempDirs) rmSync(dir, { recursive: true, force: true });
  tempDirs.clear();
}

function abort(message: string): void {
  console.error(message);
  killAllChildren();
  removeTempDirs();
  process.exit(1);
}

process.once('SIGINT', () => abort('bench:master interrupted'));
process.once('SIGTERM', () => abort('bench:master terminated'));
process.once('exit', () => {
  killAllChildren();
  removeTempDirs();
});
const deadline = setTimeout(() => abort(`bench:master did not finish within ${RUN_DEADLINE_MS / 1000} s`), RUN_DEADLINE_MS);
deadline.unref();

run().then(
  () => clearTimeout(deadline),
  (err: unknown) => {
    killAllChildren();
    console.error('bench:master failed:', err);
    process.exitCode = 1;
  },
);
