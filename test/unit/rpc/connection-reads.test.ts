// A dialed connection reads through its transport (transport.ts: Node's `onread` into one buffer, each read
// copied out), not through 'data' events. Over a real loopback socket: the bytes arrive whole and in order, the
// connection stops reading while too many messages wait for their endpoint and reads again once they are
// handled, and a read buffer reused by the next read never changes what an earlier message holds.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import type { Socket } from 'node:net';
import { after, before, test } from 'node:test';
import type { Connection } from '../../../src/rpc/connection.ts';
import { Kind, type Envelope } from '../../../src/rpc/wire.ts';
import { openConnectionPair, type ConnectionPair } from '../../helpers/connection-pair.ts';
import { waitFor } from '../../helpers/process.ts';

const MESSAGES = 6_000;

let pair: ConnectionPair;
let socket: Socket;
let client: Connection;
let accepted: Connection;
const received: Envelope[] = [];

/** The bytes the kernel holds in the receive (`rx`) or send (`tx`) queue of the loopback socket `local` → `remote`. */
function queues(local: number | undefined, remote: number | undefined, which: 'rx' | 'tx'): number {
  const address = (port: number | undefined): string => `0100007F:${(port ?? 0).toString(16).toUpperCase().padStart(4, '0')}`;
  for (const line of readFileSync('/proc/net/tcp', 'utf8').split('\n').slice(1)) {
    const fields = line.trim().split(/\s+/);
    if (fields[1] !== address(local) || fields[2] !== address(remote)) continue;
    const [tx, rx] = (fields[4] ?? '0:0').split(':');
    return parseInt((which === 'rx' ? rx : tx) ?? '0', 16);
  }
  return 0;
}

before(async () => {
  pair = await openConnectionPair({
    writeHighWaterBytes: 64 * 1024 * 1024,
    client: {
      onRequest: (c, envelope) => {
        c.dispatched(); // as the env does; `handled` comes when the test says so
        received.push(envelope);
      },
    },
  });
  ({ client, accepted, socket } = pair);
});

after(() => pair?.close());

test('reads stop while 4,096 messages wait for their endpoint, and go on once they are handled', async () => {
  const payload = 'p'.repeat(40);
  for (let i = 0; i < MESSAGES; i++) accepted.send({ kind: Kind.SEND, endpoint: 'Sink', body: { type: 'Item', i, payload, bytes: Buffer.from([i & 0xff, (i >> 8) & 0xff]) } });
  await waitFor(() => received.length >= 4_096, { timeoutMs: 10_000, what: 'the first 4,096 messages' });
  await waitFor(() => socket.isPaused(), { timeoutMs: 5_000, what: 'the client socket to pause' });
  const atPause = received.length;
  // Bytes wait unread in the client's kernel (/proc/net/tcp): reading is off. Were the pause broken, the reads would
  // take them as they came, and the count below would have moved on by the time this holds.
  await waitFor(() => received.length === MESSAGES || queues(socket.localPort, socket.remotePort, 'rx') > 0, {
    timeoutMs: 10_000,
    what: "bytes to wait unread in the client's kernel",
  });
  assert.equal(received.length, atPause, 'nothing was delivered while the socket was paused');
  assert.ok(atPause < MESSAGES, `the pause held back some messages (${atPause} of ${MESSAGES} arrived)`);

  for (let i = 0; i < atPause; i++) client.handled();
  await waitFor(() => received.length === MESSAGES, { timeoutMs: 10_000, what: 'the rest after the resume' });
  assert.equal(socket.isPaused(), false);
  // In order, and each message's bytes its own: the read buffer was reused by every later read.
  received.forEach((envelope, i) => {
    assert.equal(envelope.kind, Kind.SEND);
    const body = (envelope as { body: { i: number; payload: string; bytes: Uint8Array } }).body;
    assert.equal(body.i, i);
    assert.equal(body.payload, payload);
    assert.deepEqual([...body.bytes], [i & 0xff, (i >> 8) & 0xff]);
  });
  for (let i = atPause; i < MESSAGES; i++) client.handled();
});
