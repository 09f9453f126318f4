// The client side of bench/rpc-syscalls.ts, run as its child (never on its own): one kind of round trip against
// bench/rpc-peer.ts, `raw` (a length-prefixed frame over node:net, echoed) or `ask` (Flint's ask, Ping → Pong).
//
//   node bench/rpc-syscalls-client.ts raw|ask <peer env id> <raw port> <round trips>
//
// It warms up (2,000 round trips), prints `WARM <pid>` on stderr and waits for a line on stdin (the parent has
// attached strace by then), runs the round trips one at a time, prints `DONE` on stderr and waits for stdin to
// close (strace has detached by then) before it exits.

import { connect, type Socket } from 'node:net';
import { RpcEnv, type RpcEndpointRef } from '../src/rpc/index.ts';
import { PAYLOAD, PEER_ENDPOINT } from './lib/messages.ts';

const WARMUP = 2_000;
const ASK_TIMEOUT_MS = 10_000;
/** Bytes of the raw frame: about an ASK frame of bench/rpc.ts's Ping. */
const RAW_FRAME_BYTES = 112;

const [mode, envId, rawPort, roundTripsText] = process.argv.slice(2);
const roundTrips = Number(roundTripsText);
if ((mode !== 'raw' && mode !== 'ask') || envId === undefined || !Number.isInteger(Number(rawPort)) || !(roundTrips > 0)) {
  console.error('usage: node bench/rpc-syscalls-client.ts raw|ask <peer env id> <raw port> <round trips>');
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

/** One frame out, its echo back: the raw baseline's round trip. */
function rawRoundTripper(socket: Socket): () => Promise<void> {
  const frame = Buffer.alloc(RAW_FRAME_BYTES);
  frame.writeUInt32BE(RAW_FRAME_BYTES - 4, 0);
  let got = 0;
  let done: (() => void) | undefined;
  socket.on('data', (chunk: Buffer) => {
    got += chunk.length;
    if (got < RAW_FRAME_BYTES) return;
    got = 0;
    const resolve = done;
    done = undefined;
    resolve?.();
  });
  return () =>
    new Promise<void>((resolve) => {
      done = resolve;
      socket.write(frame);
    });
}

async function main(): Promise<void> {
  let roundTrip: () => Promise<unknown>;
  let close: () => Promise<void>;
  if (mode === 'raw') {
    const socket = connect({ host: '127.0.0.1', port: Number(rawPort), noDelay: true });
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', resolve);
      socket.once('error', reject);
    });
    roundTrip = rawRoundTripper(socket);
    close = async () => void socket.destroy();
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
  for (let i = 0; i < roundTrips; i++) await roundTrip();
  process.stderr.write('DONE\n');
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
