// The server side of bench/rpc.ts, run as a child process (never on its own).
//
// It starts two servers on 127.0.0.1, port 0:
//   - a raw node:net echo server: length-prefixed frames (4-byte big-endian length + body) are echoed back
//     whole, for the baseline;
//   - a server-mode RpcEnv hosting BenchPeer: it answers Ping with a Pong of the same seq and payload,
//     counts Tick one-way messages, and answers Count / Reset with that count and its own CPU time.
// Then it prints its ready line (READY_MARKER, then PeerReady in JSON) on stdout. It exits when stdin closes (the parent went away) or
// on SIGTERM / SIGINT, cleanly, so that `--cpu-prof` can write its profile. SIGUSR2 starts sampling what it
// allocates (bench/lib/allocations.ts; it prints `SAMPLING` once started), and the next SIGUSR2 stops it and prints
// `ALLOCATED <bytes>`: bench:rpc-syscalls's allocation rows.

import { createServer, type Socket } from 'node:net';
import { RpcEnv } from '../src/rpc/index.ts';
import { BenchRequests, PEER_ENDPOINT, READY_MARKER, type PeerReady } from './lib/messages.ts';
import { AllocationSampler } from './lib/allocations.ts';

function echoFrames(socket: Socket): void {
  socket.setNoDelay(true);
  let pending: Buffer | undefined;
  socket.on('data', (chunk: Buffer) => {
    const buf = pending === undefined ? chunk : Buffer.concat([pending, chunk]);
    let whole = 0;
    while (buf.length - whole >= 4) {
      const next = whole + 4 + buf.readUInt32BE(whole);
      if (next > buf.length) break;
      whole = next;
    }
    if (whole > 0) socket.write(whole === buf.length ? buf : buf.subarray(0, whole));
    pending = whole === buf.length ? undefined : buf.subarray(whole);
  });
  socket.on('error', () => socket.destroy());
}

async function main(): Promise<void> {
  const raw = createServer({ noDelay: true }, echoFrames);
  await new Promise<void>((resolve, reject) => {
    raw.once('error', reject);
    raw.listen(0, '127.0.0.1', () => resolve());
  });
  const rawAddress = raw.address();
  if (rawAddress === null || typeof rawAddress !== 'object') throw new Error('the raw echo server has no port');

  const env = await RpcEnv.create({ name: 'benchPeer', host: '127.0.0.1', port: 0 });
  let ticks = 0;
  const counted = (n: number) => {
    const cpu = process.cpuUsage();
    return { type: 'Counted', n, cpuUserUs: cpu.user, cpuSystemUs: cpu.system } as const;
  };
  env.setupEndpoint(PEER_ENDPOINT, {
    messages: BenchRequests,
    receive(msg) {
      if (msg.type === 'Tick') ticks++;
    },
    receiveAndReply(msg, ctx) {
      switch (msg.type) {
        case 'Ping':
          ctx.reply({ type: 'Pong', seq: msg.seq, payload: msg.payload });
          return;
        case 'Count':
          ctx.reply(counted(ticks));
          return;
        case 'Reset': {
          const before = ticks;
          ticks = 0;
          ctx.reply(counted(before));
          return;
        }
        default:
          throw new Error(`BenchPeer does not answer ${msg.type}`);
      }
    },
  });

  let stopping = false;
  const stop = (): void => {
    if (stopping) return;
    stopping = true;
    const hardExit = setTimeout(() => process.exit(0), 2_000);
    hardExit.unref();
    raw.close();
    void env.shutdown().finally(() => process.exit(0));
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
  let sampler: AllocationSampler | undefined;
  process.on('SIGUSR2', () => {
    if (sampler === undefined) {
      const started = new AllocationSampler();
      sampler = started;
      void started.start().then(() => process.stdout.write('SAMPLING\n'));
    } else {
      const stopping = sampler;
      sampler = undefined;
      void stopping.stop().then((bytes) => process.stdout.write(`ALLOCATED ${bytes}\n`));
    }
  });
  process.stdin.on('end', stop);
  process.stdin.on('error', stop);
  process.stdin.resume();

  const ready: PeerReady = { rpcEnv: env.id, rawPort: rawAddress.port, pid: process.pid };
  process.stdout.write(`${READY_MARKER}${JSON.stringify(ready)}\n`);
}

main().catch((err: unknown) => {
  console.error('rpc-peer failed:', err);
  process.exit(1);
});
