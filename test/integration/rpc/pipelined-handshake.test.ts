// The client's first messages travel with its PROOF (src/rpc/handshake.ts, HandshakeStep `last`): a relay
// between two authenticating envs records what the client writes, chunk by chunk, and decodes the frames. The
// ask the client holds while it handshakes must arrive in the same chunk as the PROOF (one write), not a round
// trip later after WELCOME, and its reply in the same chunk as the server's WELCOME: two writes each way.

import assert from 'node:assert/strict';
import { createServer, connect, type Server, type Socket } from 'node:net';
import { after, describe, test } from 'node:test';
import { FlintConf } from '../../../src/conf/flint-conf.ts';
import { FrameDecoder } from '../../../src/rpc/frame-decoder.ts';
import { RpcEnv, type RpcEndpoint } from '../../../src/rpc/index.ts';
import { Kind, decodeEnvelope } from '../../../src/rpc/wire.ts';
import { EchoMessages, type EchoMessage } from '../../fixtures/rpc-peer.ts';

const SECRET = 'pipelined-secret-Hq4tW9sL';

function conf(): FlintConf {
  return new FlintConf([
    ['flint.authenticate', 'true'],
    ['flint.authenticate.secret', SECRET],
  ]);
}

/** The envelope kinds in one chunk the client wrote (every frame of it; a chunk never splits a small frame here). */
function kindsOf(chunk: Buffer): number[] {
  const decoder = new FrameDecoder(1 << 20);
  decoder.append(chunk);
  const kinds: number[] = [];
  for (let frame = decoder.next(); frame !== undefined; frame = decoder.next()) {
    assert.ok(Buffer.isBuffer(frame), 'an oversized frame in the relay');
    const decoded = decodeEnvelope(frame);
    assert.ok(decoded.ok, `the relay saw a bad frame: ${decoded.ok ? '' : decoded.reason}`);
    kinds.push(decoded.envelope.kind);
  }
  return kinds;
}

/** A TCP relay to `port` that records every chunk each side sends, in order. */
async function relayTo(port: number): Promise<{ server: Server; port: number; fromClient: Buffer[]; fromServer: Buffer[]; sockets: Socket[] }> {
  const fromClient: Buffer[] = [];
  const fromServer: Buffer[] = [];
  const sockets: Socket[] = [];
  const server = createServer((client) => {
    const upstream = connect({ host: '127.0.0.1', port, noDelay: true });
    client.setNoDelay(true);
    sockets.push(client, upstream);
    client.on('data', (chunk: Buffer) => {
      fromClient.push(Buffer.from(chunk));
      upstream.write(chunk);
    });
    upstream.on('data', (chunk: Buffer) => {
      fromServer.push(Buffer.from(chunk));
      client.write(chunk);
    });
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
    client.on('error', () => upstream.destroy());
    upstream.on('error', () => client.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  assert.ok(address !== null && typeof address === 'object');
  return { server, port: address.port, fromClient, fromServer, sockets };
}

describe('pipelined handshake', { timeout: 30_000 }, () => {
  const envs: RpcEnv[] = [];
  const servers: Server[] = [];
  const sockets: Socket[] = [];

  after(async () => {
    for (const s of sockets) s.destroy();
    await Promise.allSettled(envs.map((e) => e.shutdown()));
    await Promise.allSettled(servers.map((s) => new Promise<void>((resolve) => s.close(() => resolve()))));
  });

  test("the first ask goes out with the PROOF, in the client's second write, and its reply with the WELCOME", async () => {
    const server = await RpcEnv.create({ name: 'pipeServer', host: '127.0.0.1', port: 0, conf: conf() });
    envs.push(server);
    const handled: EchoMessage[] = [];
    const echo: RpcEndpoint<EchoMessage> = {
      messages: EchoMessages,
      receiveAndReply(msg, ctx) {
        handled.push(msg);
        if (msg.type === 'Ping') ctx.reply({ type: 'Pong', n: msg.n + 1 });
      },
    };
    server.setupEndpoint('Echo', echo);
    const relay = await relayTo(Number(server.id.slice(server.id.lastIndexOf(':') + 1)));
    servers.push(relay.server);
    sockets.push(...relay.sockets);

    const client = await RpcEnv.create({ name: 'pipeClient', clientMode: true, conf: conf() });
    envs.push(client);
    const ref = client.endpointRef<EchoMessage>(`flint://Echo@127.0.0.1:${relay.port}`);
    assert.deepEqual(await ref.ask({ type: 'Ping', n: 41 }, 10_000), { type: 'Pong', n: 42 });

    const chunks = relay.fromClient.map(kindsOf);
    assert.deepEqual(chunks.slice(0, 2), [[Kind.HELLO], [Kind.PROOF, Kind.ASK]], `the client's chunks: ${JSON.stringify(chunks)}`);
    assert.deepEqual(handled, [{ type: 'Ping', n: 41 }]);
    // The server answers the PROOF's chunk with one write too: WELCOME, then the reply.
    const answers = relay.fromServer.map(kindsOf);
    assert.deepEqual(answers.slice(0, 2), [[Kind.CHALLENGE], [Kind.WELCOME, Kind.REPLY]], `the server's chunks: ${JSON.stringify(answers)}`);

    // Once open, asks go out one write each, as before.
    assert.deepEqual(await ref.ask({ type: 'Ping', n: 1 }, 10_000), { type: 'Pong', n: 2 });
    assert.deepEqual(relay.fromClient.map(kindsOf).at(-1), [Kind.ASK]);
  });
});
