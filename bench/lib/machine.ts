// What every benchmark prints about the machine it ran on, so figures from two machines can be compared
// (docs/benchmarks.md, "Comparing machines"): the CPU model, the core count, the Node version, and three calibration
// figures taken when the benchmark starts — a fixed CPU loop (ms), the p50 of a raw TCP ping-pong between two
// processes over loopback (µs, the cost of a wake-up on each side, which no RPC can beat), and the p50 of two
// threads waking each other on idle CPUs (µs: what a machine whose idle CPUs halt, as a VM's do, adds to every
// hand-off). Every time figure is also printed divided by the CPU loop's time and every rate multiplied by it
// (`perCalibration`), so a figure from a fast machine and one from a slow machine of the same kind come out alike.

import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { connect } from 'node:net';
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';

export function cpuModel(): string {
  try {
    return /model name\s*:\s*(.*)/.exec(readFileSync('/proc/cpuinfo', 'utf8'))?.[1]?.trim() ?? 'unknown';
  } catch {
    return 'unknown';
  }
}

/** A fixed CPU loop, in ms: figures from two machines compare through it. */
export function calibrationMs(): number {
  const start = performance.now();
  let x = 0;
  for (let i = 1; i <= 50_000_000; i++) x += Math.sqrt(i) % 7;
  if (x < 0) console.log(x);
  return performance.now() - start;
}

/** The echo server the ping-pong runs in a child process: one byte back for each byte in; prints its port. */
const ECHO_SERVER = `
const server = require('node:net').createServer({ noDelay: true }, (s) => { s.on('data', (d) => s.write(d)); s.on('error', () => s.destroy()); });
server.listen(0, '127.0.0.1', () => process.stdout.write(server.address().port + '\\n'));
process.stdin.on('end', () => process.exit(0)); process.stdin.resume();
`;

const PING_PONG_WARMUP = 500;
const PING_PONG_ROUND_TRIPS = 5_000;
const PING_PONG_TIMEOUT_MS = 30_000;

/**
 * The p50, in µs, of a round trip of one 64-byte message to an echo server in another process over 127.0.0.1
 * (TCP_NODELAY on both sides), after a warm-up. bench:rpc's baseline is the same measurement with its own framing.
 */
export async function pingPongP50Us(): Promise<number> {
  const child = spawn(process.execPath, ['-e', ECHO_SERVER], { stdio: ['pipe', 'pipe', 'inherit'] });
  const timer = setTimeout(() => child.kill('SIGKILL'), PING_PONG_TIMEOUT_MS);
  try {
    const port = await new Promise<number>((resolve, reject) => {
      child.once('error', reject);
      child.once('exit', (code) => reject(new Error(`the ping-pong echo server exited (code ${code})`)));
      child.stdout.once('data', (line: Buffer) => resolve(Number(line.toString().trim())));
    });
    const socket = connect({ port, host: '127.0.0.1', noDelay: true });
    await new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('error', reject));
    const message = Buffer.alloc(64, 7);
    const samples = new Float64Array(PING_PONG_ROUND_TRIPS);
    // One round trip in flight at a time: `waiting` settles it once the 64 bytes are back (or the socket fails).
    let waiting: { resolve: () => void; reject: (err: Error) => void } | undefined;
    let received = 0;
    socket.on('data', (d: Buffer) => {
      received += d.length;
      if (received < message.length || waiting === undefined) return;
      received -= message.length;
      const settled = waiting;
      waiting = undefined;
      settled.resolve();
    });
    socket.on('error', (err) => waiting?.reject(err));
    for (let i = 0; i < PING_PONG_WARMUP + PING_PONG_ROUND_TRIPS; i++) {
      const start = performance.now();
      await new Promise<void>((resolve, reject) => {
        waiting = { resolve, reject };
        socket.write(message);
      });
      if (i >= PING_PONG_WARMUP) samples[i - PING_PONG_WARMUP] = (performance.now() - start) * 1000;
    }
    socket.destroy();
    samples.sort();
    return samples[Math.floor(samples.length / 2)] as number;
  } finally {
    clearTimeout(timer);
    child.stdin.end();
    child.kill();
  }
}

/**
 * The other side of `wakeUpP50Us`, a thread of its own: each time the main thread sets cell 0 to 1 it answers by
 * setting cell 1. Cell 0 set to 2, or no call for 5 s (the main thread went away), ends it.
 */
const WAKE_PEER = `
const cells = new Int32Array(require('node:worker_threads').workerData);
for (;;) {
  if (Atomics.wait(cells, 0, 0, 5000) === 'timed-out' || Atomics.load(cells, 0) === 2) break;
  Atomics.store(cells, 0, 0);
  Atomics.store(cells, 1, 1);
  Atomics.notify(cells, 1);
}
`;

const WAKE_WARMUP = 200;
const WAKE_ROUND_TRIPS = 2_000;
/** How long the peer sleeps before each round trip: long enough for its CPU to go idle. */
const WAKE_GAP_MS = 0.2;
const WAKE_TIMEOUT_MS = 1_000;

/**
 * The p50, in µs, of a round trip between this thread and another, each asleep on a futex (Atomics.wait) until
 * the other wakes it, the peer after sleeping WAKE_GAP_MS: two wake-ups of a thread on a CPU that had gone idle
 * (on a machine of two or more CPUs; on one, two context switches). It is a few µs where idle CPUs wake at
 * once, and tens where they halt and the hypervisor must bring them back (a VM's vCPU). A one-task job hands off
 * four times (driver, executor, its task thread, executor, driver), so this figure bounds bench:tasks' one-task
 * latency from below (docs/benchmarks.md, "Wake-ups on idle CPUs").
 * It blocks this thread for about a second; call it before anything else runs.
 */
export async function wakeUpP50Us(): Promise<number> {
  const shared = new SharedArrayBuffer(8);
  const cells = new Int32Array(shared);
  const peer = new Worker(WAKE_PEER, { eval: true, workerData: shared });
  const exited = new Promise<void>((resolve) => peer.once('exit', () => resolve()));
  try {
    await new Promise<void>((resolve, reject) => peer.once('online', resolve).once('error', reject));
    const samples = new Float64Array(WAKE_ROUND_TRIPS);
    for (let i = 0; i < WAKE_WARMUP + WAKE_ROUND_TRIPS; i++) {
      // Busy while the peer sleeps: the peer's CPU goes idle, and the peer is woken on it rather than on this
      // thread's (a sleeping waker's CPU would take it, and the wake-up would cost a context switch alone).
      for (const until = performance.now() + WAKE_GAP_MS; performance.now() < until; );
      const start = performance.now();
      Atomics.store(cells, 0, 1);
      Atomics.notify(cells, 0);
      if (Atomics.wait(cells, 1, 0, WAKE_TIMEOUT_MS) === 'timed-out') throw new Error(`the wake-up peer thread did not answer within ${WAKE_TIMEOUT_MS} ms`);
      if (i >= WAKE_WARMUP) samples[i - WAKE_WARMUP] = (performance.now() - start) * 1000;
      Atomics.store(cells, 1, 0);
    }
    samples.sort();
    return samples[Math.floor(samples.length / 2)] as number;
  } finally {
    Atomics.store(cells, 0, 2);
    Atomics.notify(cells, 0);
    await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, WAKE_TIMEOUT_MS).unref())]);
    await peer.terminate();
  }
}

export interface Machine {
  readonly cpu: string;
  readonly cpus: number;
  readonly node: string;
  readonly calibrationMs: number;
  readonly pingPongP50Us: number;
  readonly wakeUpP50Us: number;
}

/** The machine's figures, measured now (about two seconds): call it before the benchmark's own work. */
export async function measureMachine(): Promise<Machine> {
  const calibration = calibrationMs();
  const pingPong = await pingPongP50Us();
  const wakeUp = await wakeUpP50Us();
  return {
    cpu: cpuModel(),
    cpus: availableParallelism(),
    node: process.version,
    calibrationMs: Math.round(calibration),
    pingPongP50Us: Math.round(pingPong * 10) / 10,
    wakeUpP50Us: Math.round(wakeUp * 10) / 10,
  };
}

/** The calibration figures themselves, which `perCalibration` leaves out. */
const CALIBRATION_FIGURES = new Set(['calibrationMs', 'pingPongP50Us', 'wakeUpP50Us']);

/**
 * Each figure relative to the CPU loop: a time (a name ending in Ms, Us or Ns) divided by calibrationMs, a rate
 * (ending in PerSec) multiplied by it, in seconds. Other figures are left out.
 */
export function perCalibration(figures: Readonly<Record<string, unknown>>, machine: Machine): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [name, value] of Object.entries(figures)) {
    if (typeof value !== 'number' || !Number.isFinite(value) || CALIBRATION_FIGURES.has(name)) continue;
    if (/(Ms|Us|Ns)$/.test(name)) out[name] = Number((value / machine.calibrationMs).toPrecision(4));
    else if (/PerSec$/.test(name)) out[name] = Number(((value * machine.calibrationMs) / 1000).toPrecision(4));
  }
  return out;
}

/** The benchmark's last line: the machine's figures, its own (which win a name they share), and its figures per calibration. */
export function benchJson(figures: Readonly<Record<string, unknown>>, machine: Machine): string {
  return JSON.stringify({ ...machine, ...figures, perCalibration: perCalibration(figures, machine) });
}
