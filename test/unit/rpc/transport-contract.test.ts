// The Transport port's contract (src/ports/transport.ts), run on both implementations: RpcEnv over real loopback
// sockets, and its in-memory twin MemoryNetwork (src/rpc/memory-transport.ts). A twin that drifts from the real
// thing fails here.

import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Type } from '@sinclair/typebox';
import { EndpointNotFoundError, InvalidMessageError, RpcConnectionError, RpcEnvStoppedError, RpcRemoteError, RpcTimeoutError } from '../../../src/errors.ts';
import type { Transport } from '../../../src/ports/transport.ts';
import { defineCatalog, message } from '../../../src/protocol/catalog.ts';
import { MemoryNetwork } from '../../../src/rpc/memory-transport.ts';
import { RpcEnv } from '../../../src/rpc/rpc-env.ts';
import type { RpcEndpoint } from '../../../src/rpc/endpoint.ts';
import { waitFor } from '../../helpers/process.ts';

const Note = message('Note', { n: Type.Integer(), data: Type.Optional(Type.Uint8Array()) });
const Ping = message('Ping', { n: Type.Integer() });
const Boom = message('Boom', {});
const Slow = message('Slow', {});
const Inbound = defineCatalog('ContractInbound', [Note, Ping, Boom, Slow], { from: ['daemon', 'app'] });
const DaemonOnly = defineCatalog('ContractDaemonOnly', [Note], { from: ['daemon'] });
type InboundMessage = { type: 'Note'; n: number; data?: Uint8Array } | { type: 'Ping'; n: number } | { type: 'Boom' } | { type: 'Slow' };

interface Kind {
  readonly name: string;
  server(name: string): Promise<Transport>;
  client(name: string, principal?: string): Promise<Transport>;
}

const network = new MemoryNetwork();
const KINDS: readonly Kind[] = [
  {
    name: 'RpcEnv',
    server: (name) => RpcEnv.create({ name, host: '127.0.0.1', port: 0 }),
    client: (name, principal) => RpcEnv.create({ name, clientMode: true, ...(principal ? { principal } : {}) }),
  },
  {
    name: 'MemoryNetwork',
    server: (name) => network.create({ name, host: '127.0.0.1' }),
    client: (name, principal) => network.create({ name, clientMode: true, ...(principal ? { principal } : {}) }),
  },
];

/** An endpoint that records what it got and answers Ping with n + 1, Boom with a failure, Slow never. */
function recorder() {
  const got: InboundMessage[] = [];
  const events: string[] = [];
  const endpoint: RpcEndpoint<InboundMessage> = {
    messages: Inbound,
    receive: (m) => void got.push(m),
    receiveAndReply: (m, ctx) => {
      got.push(m);
      if (m.type === 'Ping') ctx.reply({ type: 'Pong', n: m.n + 1, from: ctx.senderAddress, role: ctx.senderRole });
      else if (m.type === 'Boom') throw new Error('the handler blew up');
    },
    onConnected: (peer) => void events.push(`connected ${peer}`),
    onDisconnected: (peer) => void events.push(`disconnected ${peer}`),
  };
  return { got, events, endpoint };
}

async function until(what: string, cond: () => boolean): Promise<void> {
  await waitFor(cond, { timeoutMs: 10_000, intervalMs: 5, what });
}

for (const kind of KINDS) {
  describe(`Transport contract: ${kind.name}`, () => {
    const opened: Transport[] = [];
    const open = async (make: Promise<Transport>): Promise<Transport> => {
      const t = await make;
      opened.push(t);
      return t;
    };
    after(async () => {
      for (const t of opened) await t.shutdown();
    });

    test('sends arrive in order, checked against the catalog; asks are answered once, with who asked', async () => {
      const server = await open(kind.server('server'));
      const client = await open(kind.client('client'));
      const r = recorder();
      server.setupEndpoint('Sink', r.endpoint);
      const ref = await client.setupEndpointRef<InboundMessage>(server.id, 'Sink');
      for (let n = 0; n < 50; n++) ref.send({ type: 'Note', n, data: new Uint8Array([n]) });
      const reply = await ref.ask<{ n: number; from: string; role: string }>({ type: 'Ping', n: 41 });
      assert.equal(reply.n, 42);
      assert.equal(reply.from, client.id, 'the ask names the asking env');
      assert.equal(reply.role, 'daemon');
      await until('50 notes', () => r.got.filter((m) => m.type === 'Note').length === 50);
      const notes = r.got.filter((m): m is Extract<InboundMessage, { type: 'Note' }> => m.type === 'Note');
      assert.deepEqual(
        notes.map((m) => m.n),
        Array.from({ length: 50 }, (_, i) => i),
        'in the order sent',
      );
      assert.ok(notes[7]?.data instanceof Uint8Array && notes[7].data[0] === 7, 'bytes cross as bytes');
      assert.ok(r.events.includes(`connected ${client.id}`), 'the server saw the client connect');
    });

    test('a message its catalog refuses never reaches the endpoint; an ask of one fails with the reason', async () => {
      const server = await open(kind.server('server'));
      const client = await open(kind.client('client'));
      const r = recorder();
      server.setupEndpoint('Sink', r.endpoint);
      const ref = await client.setupEndpointRef<InboundMessage>(server.id, 'Sink');
      await assert.rejects(ref.ask({ type: 'Ping', n: 'one' } as unknown as InboundMessage), (err: Error) => err instanceof RpcRemoteError && /n/.test(err.message));
      await assert.rejects(ref.ask({ type: 'Unheard' } as unknown as InboundMessage), (err: Error) => err instanceof RpcRemoteError && /Unheard/.test(err.message));
      assert.equal(r.got.length, 0);
    });

    test('the receiving catalog checks the sender role', async () => {
      const server = await open(kind.server('server'));
      const app = await open(kind.client('app', 'app'));
      const got: unknown[] = [];
      server.setupEndpoint('Daemons', { messages: DaemonOnly, receiveAndReply: (m, ctx) => void (got.push(m), ctx.reply(true)) });
      const ref = await app.setupEndpointRef<InboundMessage>(server.id, 'Daemons');
      await assert.rejects(ref.ask({ type: 'Note', n: 1 }), (err: Error) => err instanceof RpcRemoteError && /does not take Note from a app|does not take Note from an? app/.test(err.message));
      assert.equal(got.length, 0);
    });

    test('failures: a handler that throws, a reply that fails its expected catalog, no reply in time', async () => {
      const server = await open(kind.server('server'));
      const client = await open(kind.client('client'));
      const r = recorder();
      server.setupEndpoint('Sink', r.endpoint);
      const ref = await client.setupEndpointRef<InboundMessage>(server.id, 'Sink');
      await assert.rejects(ref.ask({ type: 'Boom' }), (err: Error) => err instanceof RpcRemoteError && /the handler blew up/.test(err.message));
      const Pongs = defineCatalog('Pongs', [message('Pong', { n: Type.String() })], { from: ['daemon'] });
      await assert.rejects(ref.ask({ type: 'Ping', n: 1 }, { expect: Pongs }), InvalidMessageError);
      await assert.rejects(ref.ask({ type: 'Slow' }, { timeoutMs: 50 }), RpcTimeoutError);
    });

    test('looking up an endpoint: a missing one, an env nobody listens on', async () => {
      const server = await open(kind.server('server'));
      const client = await open(kind.client('client'));
      await assert.rejects(client.setupEndpointRef(server.id, 'Nobody'), EndpointNotFoundError);
      const gone = await kind.server('gone');
      const goneId = gone.id;
      await gone.shutdown();
      await assert.rejects(client.setupEndpointRef(goneId, 'Sink'), RpcConnectionError);
    });

    test('a peer that shuts down: its peers see it disconnect, asks in flight fail, and a stopped env refuses to send', async () => {
      const server = await open(kind.server('server'));
      const client = await kind.client('client');
      const r = recorder();
      server.setupEndpoint('Sink', r.endpoint);
      const seen: string[] = [];
      client.setupEndpoint('Back', { messages: Inbound, onDisconnected: (peer) => void seen.push(peer) });
      const ref = await client.setupEndpointRef<InboundMessage>(server.id, 'Sink');
      assert.equal((await ref.ask<{ n: number }>({ type: 'Ping', n: 1 })).n, 2);
      const inFlight = ref.ask({ type: 'Slow' }, { timeoutMs: 60_000 });
      await until('the slow ask to arrive', () => r.got.some((m) => m.type === 'Slow'));
      const clientId = client.id;
      await client.shutdown();
      await assert.rejects(inFlight, (err: Error) => err instanceof RpcEnvStoppedError || err instanceof RpcConnectionError);
      assert.throws(() => ref.send({ type: 'Note', n: 1 }), RpcEnvStoppedError);
      await until('the server to see the client go', () => r.events.includes(`disconnected ${clientId}`));
      assert.deepEqual(seen, [], 'a stopped env tells its own endpoints nothing');
    });
  });
}
