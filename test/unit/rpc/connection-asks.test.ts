// A connection's asks in flight (connection.ts `#pending`), over a real loopback socket between two Connections:
// replies settle their asks, one for an id never asked (0 included, the id the map keeps for itself) is dropped,
// and a close fails what is still in flight.
import assert from 'node:assert/strict';
import { createServer, connect, type Server, type Socket } from 'node:net';
import { after, before, test } from 'node:test';
import { Connection, type ConnectionOptions } from '../../../src/rpc/connection.ts';
import { Kind } from '../../../src/rpc/wire.ts';
import { silentLogger } from '../../../src/util/logger.ts';
import { waitFor } from '../../helpers/process.ts';

let server: Server;
let client: Connection;
let accepted: Connection;
let closedWith: Error | undefined;

function options(socket: Socket, role: 'client' | 'server', hooks: Partial<ConnectionOptions['hooks']>): ConnectionOptions {
  return {
    socket,
    role,
    localEnv: role === 'client' ? 'flint://127.0.0.1:1' : 'flint://127.0.0.1:2',
    dialed: role === 'client' ? 'flint://127.0.0.1:2' : undefined,
    credential: undefined,
    principal: 'daemon',
    keyring: undefined,
    maxFrameBytes: 1024 * 1024,
    handshakeTimeoutMs: 10_000,
    writeHighWaterBytes: 1024 * 1024,
    logger: silentLogger,
    hooks: { onOpen: () => {}, onRequest: () => {}, onClose: () => {}, ...hooks },
  };
}

before(async () => {
  let serverOpen = false;
  let clientOpen = false;
  server = createServer((socket) => {
    accepted = new Connection(options(socket, 'server', { onOpen: () => (serverOpen = true) }));
  });
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  const port = (server.address() as { port: number }).port;
  client = new Connection(
    options(connect({ host: '127.0.0.1', port }), 'client', {
      onOpen: () => (clientOpen = true),
      onClose: (_conn, failure) => (closedWith = failure ?? new Error('closed')),
    }),
  );
  await waitFor(() => serverOpen && clientOpen, { timeoutMs: 10_000, what: 'both ends of the handshake' });
});

after(() => {
  client?.close();
  accepted?.close();
  server?.close();
});

test('replies settle their asks; a reply to an id never asked, 0 included, is dropped and counts nothing', async () => {
  assert.equal(client.pendingAsks, 0);
  const answers: unknown[] = [];
  const first = client.registerAsk({ resolve: (v) => answers.push(['first', v]), reject: (e) => answers.push(['first failed', e.message]) });
  const second = client.registerAsk({ resolve: (v) => answers.push(['second', v]), reject: (e) => answers.push(['second failed', e.message]) });
  assert.equal(client.pendingAsks, 2);

  accepted.send({ kind: Kind.REPLY, askId: 0, body: 'to nobody' });
  accepted.send({ kind: Kind.REPLY, askId: 999, body: 'to nobody either' });
  accepted.send({ kind: Kind.REPLY, askId: first, body: 'one' });
  await waitFor(() => answers.length === 1, { timeoutMs: 5_000, what: 'the first reply' });
  assert.deepEqual(answers.slice(), [['first', 'one']]);
  assert.equal(client.pendingAsks, 1);

  accepted.send({ kind: Kind.REPLY, askId: 0, body: 'to nobody, again' });
  accepted.send({ kind: Kind.FAILURE, askId: second, code: 'FLINT_TEST', message: 'two failed', stack: null });
  await waitFor(() => answers.length === 2, { timeoutMs: 5_000, what: 'the failure' });
  assert.deepEqual(answers[1], ['second failed', 'two failed']);
  assert.equal(client.pendingAsks, 0);

  // Emptied and filled again: still counted from zero.
  const third = client.registerAsk({ resolve: (v) => answers.push(['third', v]), reject: (e) => answers.push(['third failed', e.message]) });
  assert.equal(client.pendingAsks, 1);
  accepted.send({ kind: Kind.REPLY, askId: third, body: 3 });
  await waitFor(() => answers.length === 3, { timeoutMs: 5_000, what: 'the third reply' });
  assert.equal(client.pendingAsks, 0);
});

test('a close fails the asks still in flight, and only those', async () => {
  const failures: string[] = [];
  client.registerAsk({ resolve: () => failures.push('resolved'), reject: (e) => failures.push(e.message) });
  client.registerAsk({ resolve: () => failures.push('resolved'), reject: (e) => failures.push(e.message) });
  accepted.close();
  await waitFor(() => closedWith !== undefined, { timeoutMs: 5_000, what: 'the client to see the close' });
  assert.equal(failures.length, 2);
  for (const f of failures) assert.match(f, /closed/);
  assert.equal(client.pendingAsks, 0);
});
