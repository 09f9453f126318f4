// node-zookeeper-client's two gaps that zookeeper-client.ts closes, against a fake server on a real socket that
// controls when (and whether) the session handshake is answered.
import assert from 'node:assert/strict';
import { createServer, type Server, type Socket } from 'node:net';
import { after, test } from 'node:test';
import { closeClient, newZooKeeperClient, resolveZooKeeperOptions } from '../../../src/io/zookeeper/zookeeper-client.ts';
import { waitFor } from '../../helpers/process.ts';

const servers: Server[] = [];
const sockets: Socket[] = [];
after(() => {
  for (const s of sockets) s.destroy();
  for (const s of servers) s.close();
});

/** A listener that accepts connections and answers nothing (each connection's received bytes are kept). */
async function fakeServer(): Promise<{ port: number; connections: Array<{ socket: Socket; received: () => number; closed: () => boolean }> }> {
  const connections: Array<{ socket: Socket; received: () => number; closed: () => boolean }> = [];
  const server = createServer((socket) => {
    sockets.push(socket);
    let received = 0;
    let closed = false;
    socket.on('data', (chunk) => (received += chunk.length));
    socket.on('error', () => {});
    socket.on('close', () => (closed = true));
    connections.push({ socket, received: () => received, closed: () => closed });
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { port: (server.address() as { port: number }).port, connections };
}

/**
 * A ConnectResponse (protocol version 0, a 1 s session) whose session id's low half is not a ZooKeeper error
 * code: read as the reply to a request with xid 0, it makes node-zookeeper-client throw `Unknown code`.
 */
function connectResponse(): Buffer {
  const body = Buffer.alloc(4 + 4 + 8 + 4 + 16);
  body.writeInt32BE(0, 0);
  body.writeInt32BE(1_000, 4);
  body.writeInt32BE(0x0100_0000, 8);
  body.writeInt32BE(0x1234_5678, 12);
  body.writeInt32BE(16, 16);
  const size = Buffer.alloc(4);
  size.writeInt32BE(body.length, 0);
  return Buffer.concat([size, body]);
}

test('a handshake the server never answers is dropped after the handshake timeout, and the client connects again', async () => {
  const { port, connections } = await fakeServer();
  const client = newZooKeeperClient(resolveZooKeeperOptions({ url: `127.0.0.1:${port}`, sessionTimeoutMs: 500 }));
  client.connect();
  try {
    await waitFor(() => connections.length >= 1 && connections[0]!.received() > 0, { timeoutMs: 5_000, what: 'the client to send its handshake' });
    // The timeout is at least MIN_HANDSHAKE_TIMEOUT_MS (2 s); the old client waited forever.
    await waitFor(() => connections[0]!.closed() && connections.length >= 2, { timeoutMs: 10_000, what: 'the client to drop the silent connection and connect again' });
  } finally {
    closeClient(client);
  }
});

test('closing a client while its handshake is in flight sends nothing more, and a late handshake answer throws nothing', async () => {
  const { port, connections } = await fakeServer();
  const client = newZooKeeperClient(resolveZooKeeperOptions({ url: `127.0.0.1:${port}`, sessionTimeoutMs: 10_000 }));
  const uncaught: unknown[] = [];
  const onUncaught = (err: unknown) => uncaught.push(err);
  process.on('uncaughtException', onUncaught);
  try {
    client.connect();
    client.getChildren('/', () => {}); // queued behind the handshake
    await waitFor(() => connections.length === 1 && connections[0]!.received() > 0, { timeoutMs: 5_000, what: 'the client to send its handshake' });
    const handshakeBytes = connections[0]!.received();
    closeClient(client);
    const { socket, received, closed } = connections[0]!;
    if (!socket.destroyed) socket.write(connectResponse()); // the server answers late
    await waitFor(() => closed(), { timeoutMs: 5_000, what: 'the client to close its connection' });
    assert.equal(received(), handshakeBytes, 'no request nor CloseSession sent on an unestablished connection');
    // Not a wait for a condition but an observation window: a client that reconnects does so within its
    // spinDelay (200 ms).
    await new Promise((resolve) => setTimeout(resolve, 300));
    assert.equal(connections.length, 1, 'a closed client does not connect again');
    assert.deepEqual(uncaught.map(String), []);
  } finally {
    process.off('uncaughtException', onUncaught);
  }
});
