// The fuzz run: a real cluster (master + 2 workers, authentication on, src/daemons/local-cluster.ts), a
// legitimate application (a FlintContext in this process with one executor), and the inputs.
//
//   master ◀── structured (authenticated) + raw inputs ──┐
//   target worker ◀──────────────────────────────────────┤ lanes (lanes.ts), many connections at once
//   legit worker ── runs the legit app's executor        │
//   legit app (this process) ── one small job per batch  │
//
// After every batch: both fuzzed daemons (and the legit worker) are alive, the legit worker is ALIVE in the
// master's /json, a job of the legit app completes, /json answers, and the RSS of each daemon is recorded.
// A prober reads both /json pages every 250 ms during the batches for the latency figure. The first failed
// check stops the run and is reported with the range of input indices to replay (docs/fuzzing.md).

import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { FlintContext } from '../../src/api/index.ts';
import { LocalCluster, type DaemonInfo, type MasterJson } from '../../src/daemons/local-cluster.ts';
import type { Target } from './inputs.ts';
import { Lane, newLaneStats, type LaneStats } from './lanes.ts';
import { Worker } from 'node:worker_threads';
import type { ProbeRound, ProberConfig } from './json-prober.ts';
import { cpuMs, rssMb, timedJson, within } from './probes.ts';

export interface FuzzOptions {
  readonly seed: number;
  /** The first input index (replays start mid-run). */
  readonly from: number;
  readonly inputs: number;
  readonly batch: number;
  /** Parallel lanes, each with up to one authenticated connection per daemon. */
  readonly connections: number;
  readonly syncEvery: number;
  /** Progress lines (one per batch). */
  readonly log: (line: string) => void;
  /** Wait for the daemons to idle after the last input and read what RSS they kept (`settle`). */
  readonly settle?: boolean;
}

export interface Finding {
  readonly kind: 'crash' | 'hang';
  readonly what: string;
  /** Replay: FLINT_FUZZ_SEED=seed FLINT_FUZZ_FROM=from FLINT_FUZZ_INPUTS=to-from+1. */
  readonly from: number;
  readonly to: number;
}

/**
 * VmRSS of a daemon. A fresh Node process grows its heap while V8 warms up whatever it is fed, so growth is
 * measured from the end of the first batch (`baseMb`): `peakMb` is the highest reading since then.
 */
export interface DaemonFigures {
  readonly startMb: number;
  baseMb: number;
  peakMb: number;
  lastMb: number;
  /** VmRSS once the daemon has been idle a while after the last input (see settle()): what it kept. */
  settledMb: number;
}

export interface FuzzReport {
  readonly seed: number;
  readonly from: number;
  inputs: number;
  readonly stats: LaneStats;
  readonly findings: Finding[];
  maxJsonMs: number;
  maxWorkerJsonMs: number;
  readonly rss: Record<'master' | 'worker' | 'legitWorker', DaemonFigures>;
  legitJobs: number;
  maxLegitJobMs: number;
  elapsedMs: number;
  /** CPU ms used during the run by the fuzzer process (this one, the legit app's driver included) and the daemons. */
  readonly cpuMs: Record<'fuzzer' | 'master' | 'worker' | 'legitWorker', number>;
}

const JSON_TIMEOUT_MS = 10_000;
const JOB_TIMEOUT_MS = 30_000;
const SYNC_TIMEOUT_MS = 20_000;
const PROBE_EVERY_MS = 250;

interface Setup {
  readonly cluster: LocalCluster;
  readonly flint: FlintContext;
  readonly daemons: Record<'master' | 'worker' | 'legitWorker', DaemonInfo & { readonly pid: number }>;
  readonly legitWorkerId: string;
  readonly secret: string;
}

function withPid(d: DaemonInfo | undefined, what: string): DaemonInfo & { readonly pid: number } {
  if (d?.pid === undefined) throw new Error(`the local cluster has no ${what} process`);
  return d as DaemonInfo & { readonly pid: number };
}

async function setUp(): Promise<Setup> {
  // Each worker offers 1 core: the legit app's one executor takes one worker whole, the other is the target.
  const cluster = await LocalCluster.start({ workers: 2, coresPerWorker: 1, memoryPerWorker: '1g', startTimeoutMs: 60_000 });
  try {
    const flint = await FlintContext.create({
      master: cluster.masterUrl,
      appName: 'fuzz legit app',
      main: resolve(import.meta.dirname, 'legit-app.ts'),
      progress: false,
      conf: { 'flint.cores.max': 1, 'flint.executor.cores': 1, 'flint.executor.memory': '256m', 'flint.authenticate.secret.file': cluster.secretFile },
    });
    await flint.awaitExecutors(1, 30_000);
    const json = await cluster.masterJson();
    const legit = (json.workers as ReadonlyArray<MasterJson['workers'][number] & { readonly port: number }>).find((w) => w.coresused === 1 && w.state === 'ALIVE');
    const legitInfo = cluster.workers.find((w) => w.rpcPort === legit?.port);
    const targetInfo = cluster.workers.find((w) => w.rpcPort !== legitInfo?.rpcPort);
    if (legit === undefined || legitInfo === undefined) throw new Error(`no worker runs the legit app's executor: ${JSON.stringify(json.workers)}`);
    return {
      cluster,
      flint,
      daemons: { master: withPid(cluster.master, 'master'), worker: withPid(targetInfo, 'target worker'), legitWorker: withPid(legitInfo, 'legit worker') },
      legitWorkerId: legit.id,
      secret: readFileSync(cluster.secretFile, 'utf8').trim(),
    };
  } catch (err) {
    await cluster.stop({ keepDir: true });
    throw err;
  }
}

function figures(pid: number): DaemonFigures {
  const mb = rssMb(pid) ?? 0;
  return { startMb: mb, baseMb: mb, peakMb: mb, lastMb: mb, settledMb: mb };
}

function newReport(opts: FuzzOptions, { daemons }: Setup): FuzzReport {
  return {
    seed: opts.seed,
    from: opts.from,
    inputs: 0,
    stats: newLaneStats(),
    findings: [],
    maxJsonMs: 0,
    maxWorkerJsonMs: 0,
    rss: { master: figures(daemons.master.pid), worker: figures(daemons.worker.pid), legitWorker: figures(daemons.legitWorker.pid) },
    legitJobs: 0,
    maxLegitJobMs: 0,
    elapsedMs: 0,
    cpuMs: { fuzzer: 0, master: 0, worker: 0, legitWorker: 0 },
  };
}

function newLane(opts: FuzzOptions, setup: Setup, report: FuzzReport): Lane {
  return new Lane({
    seed: opts.seed,
    ports: { master: setup.daemons.master.rpcPort, worker: setup.daemons.worker.rpcPort },
    secret: setup.secret,
    syncEvery: opts.syncEvery,
    syncTimeoutMs: SYNC_TIMEOUT_MS,
    stats: report.stats,
    onHang: (target: Target, from: number, to: number) =>
      report.findings.push({ kind: 'hang', what: `the ${target} did not answer a VERIFY within ${SYNC_TIMEOUT_MS} ms`, from, to }),
  });
}

export async function runFuzz(opts: FuzzOptions): Promise<FuzzReport> {
  const setup = await setUp();
  const { cluster, flint, daemons } = setup;
  // A daemon that hangs may ignore SIGTERM; whatever way this process ends, none is left behind. Only a pid whose
  // command line still names this cluster's directory is killed: a daemon that has exited may have passed its
  // pid on to another process (pids are reused; pid_max can be 32,768).
  const killDaemons = (): void => {
    for (const d of Object.values(daemons)) {
      try {
        if (readFileSync(`/proc/${d.pid}/cmdline`, 'utf8').includes(cluster.dir)) process.kill(d.pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
  };
  process.once('exit', killDaemons);
  const report = newReport(opts, setup);
  const started = performance.now();
  const cpuAtStart = cpuNow(setup);
  const lanes = Array.from({ length: opts.connections }, () => newLane(opts, setup, report));
  const prober = startProber(setup, report);
  try {
    const end = opts.from + opts.inputs;
    for (let start = opts.from; start < end && report.findings.length === 0; start += opts.batch) {
      const stop = Math.min(end, start + opts.batch);
      let next = start;
      const errors: unknown[] = [];
      // After the first finding the lanes stop taking inputs: a hung daemon would make each wait SYNC_TIMEOUT_MS.
      const take = (): number | undefined => (next < stop && report.findings.length === 0 ? next++ : undefined);
      await Promise.all(lanes.map((lane) => lane.run(take).catch((err: unknown) => errors.push(err))));
      // A lane fails on a handshake the daemon never completes (already a finding) or on a bug of the fuzzer.
      if (errors.length > 0 && report.findings.length === 0) throw errors[0];
      report.inputs += next - start;
      await check(setup, report, start, stop - 1);
      if (start === opts.from) for (const f of Object.values(report.rss)) f.baseMb = f.peakMb = f.lastMb; // warmed up
      report.elapsedMs = performance.now() - started;
      opts.log(progressLine(report, stop - opts.from, opts.inputs));
    }
  } finally {
    await prober.stop();
    await Promise.all(lanes.map((l) => l.close()));
    report.elapsedMs = performance.now() - started; // the inputs' time: the settling after them is not counted
    if (report.findings.length === 0 && opts.settle === true) await settle(setup, report);
    report.findings.sort((a, b) => a.from - b.from || a.to - b.to); // the earliest input first
    const cpuAtEnd = cpuNow(setup);
    for (const k of Object.keys(cpuAtEnd) as Array<keyof FuzzReport['cpuMs']>) report.cpuMs[k] = cpuAtEnd[k] - cpuAtStart[k];
    await within(flint.stop(), 15_000);
    await cluster.stop({ keepDir: report.findings.length > 0, graceMs: 5_000 });
    process.off('exit', killDaemons);
    if (report.findings.length > 0) opts.log(`daemon logs kept in ${cluster.dir}`);
  }
  return report;
}

/** Idle time after the last input before the settled RSS is read: V8's memory reducer runs after seconds idle. */
const SETTLE_MIN_MS = 10_000;
const SETTLE_MAX_MS = 30_000;
const SETTLE_STEP_MS = 1_000;

/**
 * Waits (bounded) until the daemons' RSS stops falling once the inputs have stopped, and records it. A flood of
 * garbage makes V8 grow its heap rather than collect often; it gives the memory back when the daemon idles. What
 * a daemon still holds then is what the flood cost it; the peak is reported too.
 */
async function settle(setup: Setup, report: FuzzReport): Promise<void> {
  const started = performance.now();
  let previous = Number.POSITIVE_INFINITY;
  for (;;) {
    await new Promise((resolve) => setTimeout(resolve, SETTLE_STEP_MS));
    let total = 0;
    for (const name of ['master', 'worker', 'legitWorker'] as const) {
      const mb = rssMb(setup.daemons[name].pid) ?? report.rss[name].lastMb;
      report.rss[name].settledMb = mb;
      total += mb;
    }
    const elapsed = performance.now() - started;
    if ((elapsed >= SETTLE_MIN_MS && total >= previous - 1) || elapsed >= SETTLE_MAX_MS) return;
    previous = total;
  }
}

/** The last CPU reading of each daemon, for one that has died since (a dead process has no /proc entry). */
const lastCpuMs = new Map<number, number>();

function cpuNow(setup: Setup): FuzzReport['cpuMs'] {
  const usage = process.cpuUsage();
  const of = (pid: number): number => {
    const ms = cpuMs(pid) ?? lastCpuMs.get(pid) ?? 0;
    lastCpuMs.set(pid, ms);
    return ms;
  };
  return { fuzzer: (usage.user + usage.system) / 1000, master: of(setup.daemons.master.pid), worker: of(setup.daemons.worker.pid), legitWorker: of(setup.daemons.legitWorker.pid) };
}

function progressLine(r: FuzzReport, done: number, total: number): string {
  const rate = (r.inputs / r.elapsedMs) * 1000;
  const mb = (f: DaemonFigures): string => `${f.lastMb.toFixed(0)} MB`;
  return `${done}/${total} inputs, ${rate.toFixed(0)}/s, /json max ${r.maxJsonMs.toFixed(0)} ms, RSS master ${mb(r.rss.master)} worker ${mb(r.rss.worker)}, findings ${r.findings.length}`;
}

function sampleRss(setup: Setup, report: FuzzReport): void {
  for (const name of ['master', 'worker', 'legitWorker'] as const) {
    const mb = rssMb(setup.daemons[name].pid);
    if (mb === undefined) continue;
    const f = report.rss[name];
    f.lastMb = mb;
    f.peakMb = Math.max(f.peakMb, mb);
  }
}

/**
 * Reads both /json pages every PROBE_EVERY_MS while the batches run, from a worker thread (json-prober.ts), and
 * records their latency, with the daemons' RSS and CPU at each reading.
 */
function startProber(setup: Setup, report: FuzzReport): { stop: () => Promise<void> } {
  const config: ProberConfig = {
    masterPort: setup.daemons.master.webUiPort,
    workerPort: setup.daemons.worker.webUiPort,
    uiToken: setup.cluster.uiToken,
    everyMs: PROBE_EVERY_MS,
    timeoutMs: JSON_TIMEOUT_MS,
  };
  const thread = new Worker(new URL('./json-prober.ts', import.meta.url), { workerData: config });
  const exited = new Promise<void>((resolve) => thread.once('exit', () => resolve()));
  thread.on('message', (round: ProbeRound) => {
    if (round.masterMs !== undefined) report.maxJsonMs = Math.max(report.maxJsonMs, round.masterMs);
    if (round.workerMs !== undefined) report.maxWorkerJsonMs = Math.max(report.maxWorkerJsonMs, round.workerMs);
    sampleRss(setup, report);
    cpuNow(setup); // keeps lastCpuMs current
  });
  let failure: unknown; // a bug of the prober, not a finding about the daemons
  thread.on('error', (err) => (failure ??= err));
  return {
    stop: async () => {
      thread.postMessage('stop');
      // It stops after its current round: at most two /json timeouts.
      const stopped = await within(exited, 2 * JSON_TIMEOUT_MS + PROBE_EVERY_MS + 5_000);
      if (stopped === 'timeout') await thread.terminate();
      if (failure !== undefined) throw new Error('the /json prober thread failed', { cause: failure });
    },
  };
}

/** The checks after a batch [from, to]; a failure becomes a finding. */
async function check(setup: Setup, report: FuzzReport, from: number, to: number): Promise<void> {
  const fail = (kind: Finding['kind'], what: string): void => void report.findings.push({ kind, what, from, to });
  for (const name of ['master', 'worker', 'legitWorker'] as const) {
    if (rssMb(setup.daemons[name].pid) === undefined) fail('crash', `the ${name} (pid ${setup.daemons[name].pid}) died; see ${setup.cluster.dir}`);
  }
  if (report.findings.some((f) => f.kind === 'crash')) return;
  sampleRss(setup, report);
  let json: { json: MasterJson; ms: number };
  try {
    json = await timedJson<MasterJson>(setup.daemons.master.webUiPort, JSON_TIMEOUT_MS, setup.cluster.uiToken);
    await timedJson(setup.daemons.worker.webUiPort, JSON_TIMEOUT_MS, setup.cluster.uiToken);
  } catch (err) {
    return fail('hang', `a /json did not answer: ${(err as Error).message}`);
  }
  report.maxJsonMs = Math.max(report.maxJsonMs, json.ms);
  const legit = json.json.workers.find((w) => w.id === setup.legitWorkerId);
  if (legit?.state !== 'ALIVE') return fail('hang', `the legit worker ${setup.legitWorkerId} is ${legit?.state ?? 'missing'} in the master's /json`);
  const start = performance.now();
  const count = await within(
    setup.flint.range(0, 100, 1, 2).count().catch((err: Error) => err),
    JOB_TIMEOUT_MS,
  );
  const ms = performance.now() - start;
  if (count !== 100) return fail('hang', `the legit app's job did not complete within ${JOB_TIMEOUT_MS} ms: ${count instanceof Error ? count.message : String(count)}`);
  report.legitJobs++;
  report.maxLegitJobMs = Math.max(report.maxLegitJobMs, ms);
}
