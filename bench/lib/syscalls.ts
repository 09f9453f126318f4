// Counting the system calls of RPC round trips with strace, for bench/rpc-syscalls.ts and its test
// (test/integration/rpc/syscall-budget.test.ts): bench/rpc-peer.ts serves, bench/rpc-syscalls-client.ts asks,
// and `strace -f -c` is attached to both, after the client's warm-up, for the counted round trips only.

import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ensureDebianPackage } from './debian.ts';
import { READY_MARKER, type PeerReady } from './messages.ts';

/** bench/rpc-peer.ts, running; `stop()` ends it. */
export interface Peer {
  readonly child: ChildProcess;
  readonly ready: PeerReady;
}

const STEP_TIMEOUT_MS = 60_000;
/** The calls the budget counts, by what they are: the calls an RPC path makes itself. */
const BUDGET_GROUPS = {
  writes: ['write', 'writev', 'sendmsg', 'sendto'],
  reads: ['read', 'readv', 'recvmsg', 'recvfrom'],
  'event-loop waits': ['epoll_pwait', 'epoll_wait'],
} as const;
export const BUDGETED: readonly string[] = Object.values(BUDGET_GROUPS).flat();

export type Mode = 'raw' | 'ask';
export type Side = 'client' | 'peer';
/** Calls per syscall name, over the counted round trips. */
export type Counts = Map<string, number>;

/** Makes sure strace runs (Debian's strace, installed when missing); returns its version line. */
export function ensureStrace(): string {
  const has = (): boolean => {
    try {
      execFileSync('strace', ['-V'], { stdio: 'ignore' });
      return true;
    } catch {
      return false;
    }
  };
  ensureDebianPackage('strace', has, 'strace is missing');
  return execFileSync('strace', ['-V'], { encoding: 'utf8' }).split('\n')[0]?.trim() ?? 'strace';
}

/** Resolves with the first line of `stream` that `match` accepts; rejects after STEP_TIMEOUT_MS or on exit. */
function lineFrom(child: ChildProcess, stream: NodeJS.ReadableStream, what: string, match: (line: string) => boolean): Promise<string> {
  return new Promise((resolve, reject) => {
    let text = '';
    const timer = setTimeout(() => finish(new Error(`${what}: not seen within ${STEP_TIMEOUT_MS / 1000} s`)), STEP_TIMEOUT_MS);
    const onData = (chunk: Buffer | string): void => {
      text += String(chunk);
      for (let nl = text.indexOf('\n'); nl >= 0; nl = text.indexOf('\n')) {
        const line = text.slice(0, nl);
        text = text.slice(nl + 1);
        if (match(line)) return finish(undefined, line);
      }
    };
    const onExit = (code: number | null): void => finish(new Error(`${what}: the process exited (code ${code}) first`));
    function finish(err: Error | undefined, line?: string): void {
      clearTimeout(timer);
      stream.off('data', onData);
      child.off('exit', onExit);
      if (err) reject(err);
      else resolve(line as string);
    }
    stream.on('data', onData);
    child.once('exit', onExit);
  });
}

function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => child.once('exit', () => resolve()));
}

/** `strace -f -c -p pid` writing its summary to `out`; resolves once it has attached. */
async function attachStrace(pid: number, out: string): Promise<ChildProcess> {
  const strace = spawn('strace', ['-f', '-c', '-o', out, '-p', String(pid)], { stdio: ['ignore', 'ignore', 'pipe'] });
  await lineFrom(strace, strace.stderr as NodeJS.ReadableStream, `strace -p ${pid}`, (line) => line.includes(`Process ${pid} attached`));
  return strace;
}

/** The calls column of a `strace -c` summary, by syscall name. */
export function parseStraceSummary(text: string): Counts {
  const counts: Counts = new Map();
  for (const line of text.split('\n')) {
    const cols = line.trim().split(/\s+/);
    // "% time  seconds  usecs/call  calls  [errors]  syscall"; the header, rulers and total are skipped.
    if (cols.length < 5 || !/^\d/.test(cols[0] as string) || cols.at(-1) === 'total') continue;
    const calls = Number(cols[3]);
    if (Number.isInteger(calls)) counts.set(cols.at(-1) as string, calls);
  }
  return counts;
}

/** bench/rpc-syscalls-client.ts, warmed up: its process, its stderr and its pid. */
interface WarmClient {
  readonly child: ChildProcess;
  readonly stderr: NodeJS.ReadableStream;
  readonly pid: number;
}

/**
 * Runs a client of `mode` in `phase` against `peer`: starts it, waits for its warm-up, hands it to `run` (which
 * starts the counted round trips with a line on its stdin and waits for their end), then closes its stdin and
 * checks that it exited cleanly. The client is killed whatever happens.
 */
async function withClient<T>(mode: Mode, phase: 'syscalls' | 'allocations', peer: Peer, roundTrips: number, run: (client: WarmClient) => Promise<T>): Promise<T> {
  const script = fileURLToPath(new URL('../rpc-syscalls-client.ts', import.meta.url));
  const child = spawn(process.execPath, [script, mode, peer.ready.rpcEnv, String(peer.ready.rawPort), String(roundTrips), phase], {
    stdio: ['pipe', 'ignore', 'pipe'],
  });
  const stderr = child.stderr as NodeJS.ReadableStream;
  const lines: string[] = [];
  stderr.on('data', (chunk: Buffer) => lines.push(String(chunk)));
  try {
    const warm = await lineFrom(child, stderr, `${mode} client warm-up`, (line) => line.startsWith('WARM '));
    const result = await run({ child, stderr, pid: Number(warm.slice('WARM '.length)) });
    child.stdin?.end();
    await exited(child);
    if (child.exitCode !== 0) throw new Error(`the ${mode} client exited with code ${child.exitCode}: ${lines.join('')}`);
    return result;
  } finally {
    child.kill('SIGKILL');
  }
}

export async function measureSyscalls(mode: Mode, peer: Peer, dir: string, roundTrips: number): Promise<Record<Side, Counts>> {
  const files = { client: join(dir, `${mode}-client.txt`), peer: join(dir, `${mode}-peer.txt`) };
  await withClient(mode, 'syscalls', peer, roundTrips, async ({ child, stderr, pid }) => {
    const straces = [await attachStrace(pid, files.client), await attachStrace(peer.ready.pid, files.peer)];
    const done = lineFrom(child, stderr, `${mode} client's ${roundTrips} round trips`, (line) => line === 'DONE');
    child.stdin?.write('go\n');
    await done;
    for (const s of straces) s.kill('SIGINT');
    await Promise.all(straces.map(exited));
  });
  return { client: parseStraceSummary(readFileSync(files.client, 'utf8')), peer: parseStraceSummary(readFileSync(files.peer, 'utf8')) };
}

/**
 * The bytes each side allocates over `roundTrips` round trips of `mode` after the client's warm-up: the client
 * samples its own (bench/rpc-syscalls-client.ts, phase `allocations`), and SIGUSR2 starts and stops the peer's
 * sampler (bench/rpc-peer.ts). Measured apart from the syscall counts, so strace and the sampler never overlap.
 */
export async function measureAllocations(mode: Mode, peer: Peer, roundTrips: number): Promise<Record<Side, number>> {
  const peerOut = peer.child.stdout as NodeJS.ReadableStream;
  const bytesOf = (line: string): number => Number(line.slice('ALLOCATED '.length));
  const bytes = await withClient(mode, 'allocations', peer, roundTrips, async ({ child, stderr }) => {
    const sampling = lineFrom(peer.child, peerOut, "the peer's allocation sampler starting", (line) => line === 'SAMPLING');
    peer.child.kill('SIGUSR2');
    await sampling;
    const clientDone = lineFrom(child, stderr, `${mode} client's ${roundTrips} sampled round trips`, (line) => line.startsWith('ALLOCATED '));
    child.stdin?.write('go\n');
    const client = bytesOf(await clientDone);
    const peerDone = lineFrom(peer.child, peerOut, "the peer's allocation sampler stopping", (line) => line.startsWith('ALLOCATED '));
    peer.child.kill('SIGUSR2');
    return { client, peer: bytesOf(await peerDone) };
  });
  if (!Number.isFinite(bytes.client) || !Number.isFinite(bytes.peer)) throw new Error(`unreadable allocation figures: ${bytes.client}, ${bytes.peer}`);
  return bytes;
}

export async function startPeer(): Promise<Peer> {
  const script = fileURLToPath(new URL('../rpc-peer.ts', import.meta.url));
  const child = spawn(process.execPath, [script], { stdio: ['pipe', 'pipe', 'inherit'] });
  const line = await lineFrom(child, child.stdout as NodeJS.ReadableStream, 'bench/rpc-peer.ts ready line', (l) => l.startsWith(READY_MARKER));
  return { child, ready: JSON.parse(line.slice(READY_MARKER.length)) as PeerReady };
}

/** Ends the peer (it exits when its stdin closes) and waits for it. */
export async function stopPeer(peer: Peer): Promise<void> {
  peer.child.stdin?.end();
  peer.child.kill('SIGTERM');
  await exited(peer.child);
}

/** Calls of `name` per round trip. */
export const perTrip = (counts: Counts, name: string, roundTrips: number): number => (counts.get(name) ?? 0) / roundTrips;

/**
 * What breaks the budget on one side, empty when it holds: writes and reads per round trip no more than the raw
 * ping-pong's, and event-loop waits no more than two (one that sleeps until the reply, one that finds nothing
 * more). The raw side's waits can come out below two on a busy machine (the reply is there before the loop asks
 * again), so they are held to two, not to the raw count. `slack`: calls per round trip that timers firing during
 * the count may add.
 */
export function budgetProblems(ask: Counts, raw: Counts, roundTrips: number, slack = 0.05): string[] {
  const per = (counts: Counts, names: readonly string[]): number => names.reduce((n, name) => n + perTrip(counts, name, roundTrips), 0);
  const problems: string[] = [];
  // At least one write and one read, and two waits, per round trip are always allowed.
  const floors = { writes: 1, reads: 1, 'event-loop waits': 2 } satisfies Record<keyof typeof BUDGET_GROUPS, number>;
  for (const [what, names] of Object.entries(BUDGET_GROUPS) as Array<[keyof typeof BUDGET_GROUPS, readonly string[]]>) {
    const mine = per(ask, names);
    const limit = Math.max(floors[what], per(raw, names));
    if (mine > limit + slack) problems.push(`${what}: ${mine.toFixed(2)} per round trip, over ${limit.toFixed(2)}`);
  }
  return problems;
}

/** The budgeted calls (BUDGETED) per round trip. */
export const budgeted = (counts: Counts, roundTrips: number): number => BUDGETED.reduce((n, name) => n + perTrip(counts, name, roundTrips), 0);
