// The client side of bench/rpc-syscalls.ts, run as its child (never on its own): one kind of round trip against
// bench/rpc-peer.ts, `raw` (a length-prefixed frame over node:net, echoed) or `ask` (Flint's ask, Ping → Pong).
//
//   node bench/rpc-syscalls-client.ts raw|ask <peer env id> <raw port> <round trips> [syscalls|allocations]
//
// It warms up (2,000 round trips), prints `WARM <pid>` on stderr and waits for a line on stdin (the parent has
// attached strace by then, or started the peer's allocation sampler), runs the round trips one at a time, prints
// `DONE` on stderr (with `allocations`: `ALLOCATED <bytes>`, what this process allocated over them, from
// bench/lib/allocations.ts) and waits for stdin to close (strace has detached by then) before it exits.

import { RpcEnv, type RpcEndpointRef } from '../src/rpc/index.ts';
import { PAYLOAD, PEER_ENDPOINT } from './lib/messages.ts';
import { RawPingPong, rawFrameLikeAsk } from './lib/raw-ping-pong.ts';
import { AllocationSampler } from './lib/allocations.ts';

const WARMUP = 2_000;
const ASK_TIMEOUT_MS = 10_000;

const [mode, envId, rawPort, roundTripsText, phase = 'syscalls'] = process.argv.slice(2);
const roundTrips = Number(roundTripsText);
if (
  (mode !== 'raw' && mode !== 'ask') ||
  envId === undefined ||
  !Number.isInteger(Number(rawPort)) ||
  !(roundTrips > 0) ||
  (phase !== 'syscalls' && phase !== 'allocations')
) {
  console.error('usage: node bench/rpc-syscalls-client.ts raw|ask <peer env id> <raw port> <round trips> [syscalls|allocations]');
  process.exit(2);
}

type Ping = { type: 'Ping'; seq: number; payload: string };

function stdinLine(): Promise<void> {
  return new Promise((resolve) => {
    const onData = (chunk: Buffer): void => {
      if (!chunk.includes(0x0a)) return;
      process.stdin.off('data', onData);
      process.stdin.pause();
      resolve();
    };
    process.stdin.on('data', onData);
    process.stdin.resume();
  });
}

function stdinClosed(): Promise<void> {
  return new Promise((resolve) => {
    process.stdin.once('end', resolve);
    process.stdin.once('close', resolve);
    process.stdin.resume();
  });
}

async function main(): Promise<void> {
  let roundTrip: () => Promise<unknown>;
  let close: () => Promise<void>;
  if (mode === 'raw') {
    const raw = await RawPingPong.open(Number(rawPort), rawFrameLikeAsk());
    roundTrip = () => raw.roundTrip();
    close = async () => raw.close();
  } else {
    const env = await RpcEnv.create({ name: 'syscallsClient', clientMode: true });
    const ref: RpcEndpointRef<Ping> = await env.setupEndpointRef<Ping>(envId as string, PEER_ENDPOINT);
    let seq = 0;
    roundTrip = () => ref.ask({ type: 'Ping', seq: seq++, payload: PAYLOAD }, ASK_TIMEOUT_MS);
    close = () => env.shutdown();
  }
  for (let i = 0; i < WARMUP; i++) await roundTrip();
  process.stderr.write(`WARM ${process.pid}\n`);
  await stdinLine();
  if (phase === 'allocations') {
    const sampler = new AllocationSampler();
    await sampler.start();
    for (let i = 0; i < roundTrips; i++) await roundTrip();
    process.stderr.write(`ALLOCATED ${await sampler.stop()}\n`);
  } else {
    for (let i = 0; i < roundTrips; i++) await roundTrip();
    process.stderr.write('DONE\n');
  }
  await stdinClosed();
  await close();
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error('rpc-syscalls-client failed:', err);
    process.exit(1);
  },
);
