// The syscall budget of an ask: `npm run bench:rpc-syscalls`.
//
// Counts, with `strace -f -c` attached to both processes (every thread), the system calls per round trip on each
// side of (a) the raw node:net ping-pong bench/rpc.ts takes as its baseline and (b) Flint's ask (Ping → Pong),
// between a client (bench/rpc-syscalls-client.ts) and bench/rpc-peer.ts on loopback. strace is attached after
// the warm-up and detached after the counted round trips, so the counts are those of the round trips alone
// (plus whatever timers fire meanwhile: a few calls over FLINT_BENCH_ROUND_TRIPS, 5,000 by default).
//
// The budget (docs/benchmarks.md, "The work per message"; bench/lib/syscalls.ts, budgetProblems): an ask makes
// no more writes and reads per round trip on either side than the raw ping-pong does (one of each per side), and
// at most two event-loop waits (epoll_pwait). futex calls are V8's and libuv's helper threads (garbage collection, compilers) and are shown, not
// budgeted. Under strace everything is many times slower: this bench counts, it does not time. Then, without strace,
// the bytes each side allocates per round trip (V8's sampling heap profiler, bench/lib/allocations.ts), shown, not
// budgeted.
//
// Needs strace (Debian's `strace`; installed with apt-get when missing and this runs as root). Prints a table,
// then, as the very last line, one JSON object with the figures.

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { benchJson, measureMachine } from './lib/machine.ts';
import {
  BUDGETED,
  budgetProblems,
  budgeted as budgetedPer,
  ensureStrace,
  measureAllocations,
  measureSyscalls,
  perTrip as perTripOf,
  startPeer,
  stopPeer,
  type Counts,
  type Side,
} from './lib/syscalls.ts';
import { exitAfter, formatTable, intFromEnv } from './lib/stats.ts';

const ROUND_TRIPS = intFromEnv('FLINT_BENCH_ROUND_TRIPS', 5_000);
const DEADLINE_MS = 300_000;
const perTrip = (counts: Counts, name: string): number => perTripOf(counts, name, ROUND_TRIPS);
const budgeted = (counts: Counts): number => budgetedPer(counts, ROUND_TRIPS);

async function main(): Promise<void> {
  exitAfter(DEADLINE_MS, 'bench:rpc-syscalls');
  const straceVersion = ensureStrace();
  const machine = await measureMachine();
  const dir = mkdtempSync(join(tmpdir(), 'flint-bench-syscalls-'));
  const peer = await startPeer();
  try {
    const raw = await measureSyscalls('raw', peer, dir, ROUND_TRIPS);
    const ask = await measureSyscalls('ask', peer, dir, ROUND_TRIPS);
    const rawBytes = await measureAllocations('raw', peer, ROUND_TRIPS);
    const askBytes = await measureAllocations('ask', peer, ROUND_TRIPS);
    const bytesPerTrip = (bytes: number): number => Math.round(bytes / ROUND_TRIPS);
    const names = new Set([...raw.client.keys(), ...raw.peer.keys(), ...ask.client.keys(), ...ask.peer.keys()]);
    const total = (name: string): number => [raw.client, raw.peer, ask.client, ask.peer].reduce((n, c) => n + (c.get(name) ?? 0), 0);
    const f2 = (x: number): string => x.toFixed(2);
    const rows = [...names]
      .sort((a, b) => total(b) - total(a))
      .map((name) => [
        name,
        BUDGETED.includes(name) ? 'budgeted' : 'shown',
        f2(perTrip(raw.client, name)),
        f2(perTrip(raw.peer, name)),
        f2(perTrip(ask.client, name)),
        f2(perTrip(ask.peer, name)),
      ]);
    rows.push(['(budgeted, all)', '', f2(budgeted(raw.client)), f2(budgeted(raw.peer)), f2(budgeted(ask.client)), f2(budgeted(ask.peer))]);
    rows.push(['bytes allocated', 'shown', ...[rawBytes.client, rawBytes.peer, askBytes.client, askBytes.peer].map((b) => String(bytesPerTrip(b)))]);
    console.log(`syscalls per round trip, ${ROUND_TRIPS.toLocaleString('en-US')} round trips each, strace -f -c on both processes (${straceVersion});`);
    console.log(`bytes allocated per round trip: V8's sampling heap profiler on each side, over another ${ROUND_TRIPS.toLocaleString('en-US')} round trips without strace`);
    console.log(formatTable(['syscall', 'budget', 'raw client', 'raw peer', 'ask client', 'ask peer'], rows));
    const problems = (side: Side): string[] => budgetProblems(ask[side], raw[side], ROUND_TRIPS).map((p) => `${side}: ${p}`);
    const missed = [...problems('client'), ...problems('peer')];
    const figures = {
      roundTrips: ROUND_TRIPS,
      askClientWritesPerRoundTrip: Number(f2(perTrip(ask.client, 'write') + perTrip(ask.client, 'writev'))),
      askClientReadsPerRoundTrip: Number(f2(perTrip(ask.client, 'read'))),
      askPeerWritesPerRoundTrip: Number(f2(perTrip(ask.peer, 'write') + perTrip(ask.peer, 'writev'))),
      askPeerReadsPerRoundTrip: Number(f2(perTrip(ask.peer, 'read'))),
      askClientBudgetedPerRoundTrip: Number(f2(budgeted(ask.client))),
      askPeerBudgetedPerRoundTrip: Number(f2(budgeted(ask.peer))),
      rawClientBudgetedPerRoundTrip: Number(f2(budgeted(raw.client))),
      rawPeerBudgetedPerRoundTrip: Number(f2(budgeted(raw.peer))),
      askClientFutexPerRoundTrip: Number(f2(perTrip(ask.client, 'futex'))),
      rawClientFutexPerRoundTrip: Number(f2(perTrip(raw.client, 'futex'))),
      askClientBytesPerRoundTrip: bytesPerTrip(askBytes.client),
      askPeerBytesPerRoundTrip: bytesPerTrip(askBytes.peer),
      rawClientBytesPerRoundTrip: bytesPerTrip(rawBytes.client),
      rawPeerBytesPerRoundTrip: bytesPerTrip(rawBytes.peer),
      budgetMet: missed.length === 0,
    };
    console.log(`budget (writes and reads as the raw ping-pong's, at most two event-loop waits, per round trip and side): ${figures.budgetMet ? 'met' : `MISSED (${missed.join('; ')})`}`);
    console.log(benchJson(figures, machine));
  } finally {
    await stopPeer(peer);
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  console.error('bench:rpc-syscalls failed:', err);
  process.exit(1);
});
