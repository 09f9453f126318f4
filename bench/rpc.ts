// Flint's RPC benchmark: `npm run bench:rpc`.
//
// In one run, on loopback, between this process (the client) and a child (bench/rpc-peer.ts, the server):
//   (a) a raw node:net ping-pong baseline: length-prefixed frames of the same size as (b)'s ASK frame;
//   (b) `ask` round trips (Ping → Pong, the same ~64-byte payload both ways);
//   (c) a one-way `send` stream of small messages (Tick), then one Count ask: msgs/s is measured from the
//       first send to the peer having handled them all.
// (a) and (b) run pinned, both processes on one CPU (taskset, when present, with -a so every thread follows;
// the CPU is the first this process may use, normally 0): a wake-up across CPUs costs
// ~35–40 µs per hop on a 2-core machine and would swamp the figures. (a) and (b) alternate over several
// rounds so that drift hits both. (c) runs pinned (cheap, for reference), then unpinned (every CPU the run
// started with): the unpinned figure is the headline `oneWayMsgsPerSec`.
// Prints a table, then, as the very last line, one JSON object with the headline figures.
//
// Environment (optional): FLINT_BENCH_PEER_NODE_ARGS, extra node flags for the child, space-separated
// (e.g. `--cpu-prof --cpu-prof-dir=/tmp/prof`); FLINT_BENCH_ROUNDS; FLINT_BENCH_ROUND_TRIPS (per scenario,
// split over the rounds); FLINT_BENCH_ONEWAY_MAX (messages).

import { spawn, type ChildProcess } from 'node:child_process';
import { availableParallelism, loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import { allowedCpus, bindRunningProcess, boundArgv, findTaskset } from '../src/io/child-process/cpu-affinity.ts';
import { RpcEnv, type RpcEndpointRef } from '../src/rpc/index.ts';
import { formatCpuList } from '../src/worker/cpu-binding.ts';
import { BenchReplies, PAYLOAD, PEER_ENDPOINT, READY_MARKER, type PeerReady } from './lib/messages.ts';
import { concatSamples, formatTable, intFromEnv, percentile, sortedCopy } from './lib/stats.ts';
import { benchJson, measureMachine } from './lib/machine.ts';
import { RawPingPong, rawFrameLikeAsk } from './lib/raw-ping-pong.ts';

// Enough for V8 to finish optimising the ask path: with 2,000 its round p50s still fell from round to round
// (docs/benchmarks.md, bench:rpc).
const WARMUP_ROUND_TRIPS = 20_000;
const ROUNDS = intFromEnv('FLINT_BENCH_ROUNDS', 5);
const ROUND_TRIPS = intFromEnv('FLINT_BENCH_ROUND_TRIPS', 20_000);
const ONEWAY_MAX = intFromEnv('FLINT_BENCH_ONEWAY_MAX', 1_000_000);
const ONEWAY_BUDGET_MS = 3_000;
const ONEWAY_PINNED_BUDGET_MS = 1_500;
const ONEWAY_WARMUP = 100_000;
const YIELD_EVERY = 1_000;
const RUN_DEADLINE_MS = 58_000;
const ASK_TIMEOUT_MS = 10_000;
const TARGET_ASK_RATIO = 1.3;
const TARGET_ONE_WAY = 500_000;

type Msg =
  | { type: 'Ping'; seq: number; payload: string }
  | { type: 'Tick'; seq: number }
  | { type: 'Count' }
  | { type: 'Reset' };

const now = (): bigint => process.hrtime.bigint();
const usSince = (t0: bigint): number => Number(now() - t0) / 1_000;
const yieldToLoop = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

// ---- pinning ------------------------------------------------------------------------------------------

interface Pinning {
  /** The taskset that pins (src/io/child-process/cpu-affinity.ts); undefined when there is none. */
  readonly taskset: string | undefined;
  /** The CPU both processes run on for the latency figures; undefined when not pinned. */
  readonly cpu: number | undefined;
  /** What this process could run on at the start: restored for the unpinned throughput run. */
  readonly allCpus: readonly number[] | undefined;
  readonly why: string;
}

/** Pins this process, every thread of it, to the first CPU it may use, when taskset is present and works. */
function pinSelf(): Pinning {
  const taskset = findTaskset();
  const allCpus = taskset === undefined ? undefined : allowedCpus();
  if (taskset === undefined || allCpus === undefined) return { taskset, cpu: undefined, allCpus: undefined, why: 'taskset not found' };
  const cpu = allCpus[0] as number;
  try {
    bindRunningProcess(taskset, [cpu], process.pid);
    return { taskset, cpu, allCpus, why: `taskset -a -p -c ${cpu}` };
  } catch (err) {
    return { taskset, cpu: undefined, allCpus, why: `taskset failed: ${(err as Error).message.split('\n')[0]}` };
  }
}

// ---- the peer -----------------------------------------------------------------------------------------

interface Peer {
  readonly child: ChildProcess;
  readonly ready: PeerReady;
  /** Rejects when the child exits before `stop()`. */
  readonly exited: Promise<never>;
  stop(): Promise<void>;
}

async function startPeer(pin: Pinning): Promise<Peer> {
  const script = fileURLToPath(new URL('./rpc-peer.ts', import.meta.url));
  const extra = (process.env['FLINT_BENCH_PEER_NODE_ARGS'] ?? '').split(' ').filter((a) => a !== '');
  const nodeArgv = [process.execPath, ...extra, script];
  const [cmd, ...args] = pin.taskset !== undefined && pin.cpu !== undefined ? boundArgv(pin.taskset, [pin.cpu], nodeArgv) : nodeArgv;
  const child = spawn(cmd as string, args, { stdio: ['pipe', 'pipe', 'inherit'] });
  activeChild = child;
  let stopping = false;
  const exited = new Promise<never>((_, reject) => {
    child.once('exit', (code, signal) => {
      if (!stopping) reject(new Error(`bench/rpc-peer.ts exited early (code ${code}, signal ${signal})`));
    });
    child.once('error', (err) => reject(new Error(`cannot start bench/rpc-peer.ts: ${err.message}`)));
  });
  exited.catch(() => {}); // observed by whoever races it
  const stop = async (): Promise<void> => {
    if (stopping || child.exitCode !== null || child.signalCode !== null) return;
    stopping = true;
    const gone = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.stdin?.end();
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 3_000);
    await gone;
    clearTimeout(timer);
  };
  try {
    const ready = await Promise.race([readReadyLine(child), exited, rejectAfter(15_000, 'bench/rpc-peer.ts did not start within 15 s')]);
    return { child, ready: JSON.parse(ready) as PeerReady, exited, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}

/**
 * Resolves with the JSON after READY_MARKER on the peer's stdout. Every other line the peer prints (e.g.
 * `--trace-gc` output) is passed on to stderr, so that this process's stdout ends with the summary line.
 */
function readReadyLine(child: ChildProcess): Promise<string> {
  return new Promise((resolve, reject) => {
    const out = child.stdout;
    if (!out) return reject(new Error('the peer has no stdout'));
    let text = '';
    let found = false;
    out.setEncoding('utf8');
    out.on('data', (chunk: string) => {
      text += chunk;
      for (let nl = text.indexOf('\n'); nl >= 0; nl = text.indexOf('\n')) {
        const line = text.slice(0, nl);
        text = text.slice(nl + 1);
        if (!found && line.startsWith(READY_MARKER)) {
          found = true;
          resolve(line.slice(READY_MARKER.length));
        } else {
          process.stderr.write(`[peer] ${line}\n`);
        }
      }
    });
  });
}

function rejectAfter(ms: number, message: string): Promise<never> {
  return new Promise((_, reject) => setTimeout(() => reject(new Error(message)), ms).unref());
}

// ---- (a) raw ping-pong --------------------------------------------------------------------------------

async function rawRound(raw: RawPingPong, n: number): Promise<Float64Array> {
  const samples = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const t0 = now();
    await raw.roundTrip();
    samples[i] = usSince(t0);
  }
  return samples;
}

// ---- (b) ask round trips -----------------------------------------------------------------------------

let seq = 0;

async function askRound(ref: RpcEndpointRef<Msg>, n: number): Promise<Float64Array> {
  const samples = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const s = seq++;
    const t0 = now();
    const reply = await ref.ask<{ seq: number }>({ type: 'Ping', seq: s, payload: PAYLOAD }, ASK_TIMEOUT_MS);
    samples[i] = usSince(t0);
    if (reply.seq !== s) throw new Error(`Pong ${reply.seq} answered Ping ${s}`);
  }
  return samples;
}

// ---- (c) one-way stream -------------------------------------------------------------------------------

interface OneWayResult {
  readonly sent: number;
  readonly seconds: number;
  readonly msgsPerSec: number;
  /** Rate of the send loop alone (until the last send returned), for telling sender from receiver limits. */
  readonly sendLoopMsgsPerSec: number;
  readonly backpressureWaits: number;
  readonly clientCpuPct: number;
  readonly peerCpuPct: number;
}

interface Counted {
  readonly n: number;
  readonly cpuUserUs: number;
  readonly cpuSystemUs: number;
}

async function count(ref: RpcEndpointRef<Msg>, type: 'Count' | 'Reset'): Promise<Counted> {
  return (await ref.ask({ type }, { timeoutMs: 30_000, expect: BenchReplies })) as Counted;
}

async function oneWay(ref: RpcEndpointRef<Msg>, max: number, budgetMs: number): Promise<OneWayResult> {
  const before = await count(ref, 'Reset');
  const cpu0 = process.cpuUsage();
  const budgetNs = BigInt(budgetMs) * 1_000_000n;
  let sent = 0;
  let waits = 0;
  const t0 = now();
  while (sent < max) {
    if (!ref.send({ type: 'Tick', seq: sent })) {
      waits++;
      await ref.whenWritable();
    }
    sent++;
    if (sent % YIELD_EVERY === 0) {
      await yieldToLoop();
      if (now() - t0 > budgetNs) break;
    }
  }
  const sendLoopUs = usSince(t0);
  const after = await count(ref, 'Count');
  const totalUs = usSince(t0);
  const cpu = process.cpuUsage(cpu0);
  if (after.n !== sent) throw new Error(`the peer counted ${after.n} Ticks of ${sent} sent`);
  const peerCpuUs = after.cpuUserUs + after.cpuSystemUs - (before.cpuUserUs + before.cpuSystemUs);
  return {
    sent,
    seconds: totalUs / 1e6,
    msgsPerSec: sent / (totalUs / 1e6),
    sendLoopMsgsPerSec: sent / (sendLoopUs / 1e6),
    backpressureWaits: waits,
    clientCpuPct: (100 * (cpu.user + cpu.system)) / totalUs,
    peerCpuPct: (100 * peerCpuUs) / totalUs,
  };
}

// ---- the run ------------------------------------------------------------------------------------------

interface LatencySummary {
  readonly p50: number;
  readonly p99: number;
  readonly p999: number;
  readonly mean: number;
  readonly roundP50s: number[];
  readonly perSec: number;
}

function summarise(rounds: readonly Float64Array[]): LatencySummary {
  const all = concatSamples(rounds);
  const sorted = sortedCopy(all);
  const sum = all.reduce((a, b) => a + b, 0);
  return {
    p50: percentile(sorted, 50),
    p99: percentile(sorted, 99),
    p999: percentile(sorted, 99.9),
    mean: sum / all.length,
    roundP50s: rounds.map((r) => percentile(sortedCopy(r), 50)),
    perSec: all.length / (sum / 1e6),
  };
}

const f1 = (x: number): string => x.toFixed(1);
const int = (x: number): string => Math.round(x).toLocaleString('en-US');

async function run(): Promise<void> {
  const loadAvg1m = loadavg()[0] ?? 0;
  const machine = await measureMachine(); // before this process is pinned
  const pin = pinSelf();
  const pinned = pin.cpu !== undefined;
  const pinLabel = pinned ? `pinned: both on CPU ${pin.cpu}` : `NOT pinned (${pin.why})`;
  const unpinLabel = pin.allCpus !== undefined ? `unpinned: CPUs ${formatCpuList(pin.allCpus)}` : `unpinned: ${availableParallelism()} CPUs`;

  const peer = await startPeer(pin);
  const cleanup: Array<() => unknown> = [];
  try {
    const race = <T>(p: Promise<T>): Promise<T> => Promise.race([p, peer.exited]);

    const rawFrame = rawFrameLikeAsk();
    const raw = await race(RawPingPong.open(peer.ready.rawPort, rawFrame));
    cleanup.push(() => raw.close());
    const env = await RpcEnv.create({ name: 'benchClient', clientMode: true });
    cleanup.push(() => env.shutdown());
    const ref = await race(env.setupEndpointRef<Msg>(peer.ready.rpcEnv, PEER_ENDPOINT));

    // Warm-up: JIT, connection, socket buffers.
    await race(rawRound(raw, WARMUP_ROUND_TRIPS));
    await race(askRound(ref, WARMUP_ROUND_TRIPS));

    const perRound = Math.ceil(ROUND_TRIPS / ROUNDS);
    const rawRounds: Float64Array[] = [];
    const askRounds: Float64Array[] = [];
    for (let r = 0; r < ROUNDS; r++) {
      // Alternate the order so neither scenario always runs right after the other's GC debt.
      if (r % 2 === 0) {
        rawRounds.push(await race(rawRound(raw, perRound)));
        askRounds.push(await race(askRound(ref, perRound)));
      } else {
        askRounds.push(await race(askRound(ref, perRound)));
        rawRounds.push(await race(rawRound(raw, perRound)));
      }
    }
    const base = summarise(rawRounds);
    const ask = summarise(askRounds);

    // (c): warm up, pinned run (cheap), then unpin both processes for the headline figure.
    await race(oneWay(ref, ONEWAY_WARMUP, ONEWAY_BUDGET_MS));
    const pinnedOneWay = pinned ? await race(oneWay(ref, ONEWAY_MAX, ONEWAY_PINNED_BUDGET_MS)) : undefined;
    if (pin.taskset !== undefined && pinned && pin.allCpus !== undefined) {
      bindRunningProcess(pin.taskset, pin.allCpus, process.pid);
      bindRunningProcess(pin.taskset, pin.allCpus, peer.ready.pid);
    }
    const freeOneWay = await race(oneWay(ref, ONEWAY_MAX, ONEWAY_BUDGET_MS));

    const ratio = ask.p50 / base.p50;
    const rows: string[][] = [
      [`(a) raw node:net ping-pong, ${rawFrame.length} B frames`, pinLabel, f1(base.p50), f1(base.p99), int(base.perSec)],
      ['(b) ask round trip (Ping -> Pong)', pinLabel, f1(ask.p50), f1(ask.p99), int(ask.perSec)],
    ];
    if (pinnedOneWay) rows.push(['(c) one-way send (Tick)', pinLabel, '-', '-', int(pinnedOneWay.msgsPerSec)]);
    rows.push(['(c) one-way send (Tick)', unpinLabel, '-', '-', int(freeOneWay.msgsPerSec)]);

    console.log(
      `Flint RPC benchmark: loopback, 2 processes, Node ${process.version}, ${availableParallelism()} CPUs, ` +
        `load average ${loadAvg1m.toFixed(2)} at start (other work on the machine skews every figure)`,
    );
    console.log(`pinning: ${pinned ? `both processes, every thread, on CPU ${pin.cpu} for (a), (b) and the pinned (c)` : pin.why}`);
    console.log(
      `(a), (b): ${WARMUP_ROUND_TRIPS} warm-up round trips each, then ${ROUNDS} alternating rounds of ${perRound}; ` +
        'p50/p99 over all rounds; msgs/s = sequential round trips per second',
    );
    console.log(`(c): up to ${int(ONEWAY_MAX)} Ticks or ${ONEWAY_BUDGET_MS / 1000} s (pinned: ${ONEWAY_PINNED_BUDGET_MS / 1000} s), yield every ${YIELD_EVERY}; msgs/s from first send to the peer's Count reply`);
    console.log('');
    console.log(formatTable(['scenario', 'pinning', 'p50 µs', 'p99 µs', 'msgs/s'], rows));
    console.log('');
    console.log(`round p50s (µs): raw ${base.roundP50s.map(f1).join(' ')} | ask ${ask.roundP50s.map(f1).join(' ')}`);
    console.log(`round ask/raw p50 ratios: ${ask.roundP50s.map((a, i) => (a / (base.roundP50s[i] as number)).toFixed(2)).join(' ')}`);
    console.log(`p99.9 (µs): raw ${f1(base.p999)}, ask ${f1(ask.p999)}; ask - raw at p50: ${f1(ask.p50 - base.p50)} µs`);
    for (const [label, r] of [['pinned', pinnedOneWay], ['unpinned', freeOneWay]] as const) {
      if (!r) continue;
      console.log(
        `(c) ${label}: ${int(r.sent)} msgs in ${r.seconds.toFixed(2)} s; send loop alone ${int(r.sendLoopMsgsPerSec)} msgs/s; ` +
          `backpressure waits ${r.backpressureWaits}; CPU client ${r.clientCpuPct.toFixed(0)}%, peer ${r.peerCpuPct.toFixed(0)}%`,
      );
    }
    // Issue 13's targets (docs/benchmarks.md, bench:rpc); until 2026-12-03 they were 1.5 and 300,000.
    const askOk = ratio <= TARGET_ASK_RATIO;
    const oneWayOk = freeOneWay.msgsPerSec >= TARGET_ONE_WAY;
    console.log(
      `targets: askVsBaselineP50 ${ratio.toFixed(2)} (<= ${TARGET_ASK_RATIO}: ${askOk ? 'met' : 'MISSED'}), ` +
        `oneWayMsgsPerSec ${int(freeOneWay.msgsPerSec)} (>= ${int(TARGET_ONE_WAY)}: ${oneWayOk ? 'met' : 'MISSED'})`,
    );

    await Promise.all(cleanup.splice(0).reverse().map((c) => c()));
    await peer.stop();
    const summary = {
      askP50Us: round1(ask.p50),
      askP99Us: round1(ask.p99),
      baselineP50Us: round1(base.p50),
      baselineP99Us: round1(base.p99),
      askVsBaselineP50: Math.round(ratio * 100) / 100,
      oneWayMsgsPerSec: Math.round(freeOneWay.msgsPerSec),
      oneWayPinned: false,
      oneWayPinnedMsgsPerSec: pinnedOneWay ? Math.round(pinnedOneWay.msgsPerSec) : null,
      pinned,
      pinnedCpu: pin.cpu ?? null,
      cpus: pin.allCpus !== undefined ? formatCpuList(pin.allCpus) : String(availableParallelism()),
      loadAvg1m: Math.round(loadAvg1m * 100) / 100,
      askP999Us: round1(ask.p999),
      baselineP999Us: round1(base.p999),
      askRoundTripsPerSec: Math.round(ask.perSec),
      baselineRoundTripsPerSec: Math.round(base.perSec),
      roundTripsPerScenario: perRound * ROUNDS,
      rounds: ROUNDS,
      frameBytes: rawFrame.length,
      oneWaySent: freeOneWay.sent,
      askTargetMet: askOk,
      oneWayTargetMet: oneWayOk,
      node: process.version,
    };
    console.log(benchJson(summary, machine));
  } finally {
    for (const c of cleanup.reverse()) {
      try {
        await c();
      } catch {
        // best effort
      }
    }
    await peer.stop();
  }
}

function round1(x: number): number {
  return Math.round(x * 10) / 10;
}

/** The running peer, killed by the deadline and on Ctrl-C (its stdin closing also stops it). */
let activeChild: ChildProcess | undefined;

function abort(message: string): void {
  console.error(message);
  activeChild?.kill('SIGKILL');
  process.exit(1);
}

process.once('SIGINT', () => abort('bench:rpc interrupted'));
const deadline = setTimeout(() => abort(`bench:rpc did not finish within ${RUN_DEADLINE_MS / 1000} s`), RUN_DEADLINE_MS);
deadline.unref();

run().then(
  () => clearTimeout(deadline),
  (err: unknown) => {
    console.error('bench:rpc failed:', err);
    process.exitCode = 1;
  },
);
