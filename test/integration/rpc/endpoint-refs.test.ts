// Endpoint refs carried inside messages, then used by the process that received them.
//
// The child (test/fixtures/rpc-peer.ts) hosts Echo in a server env. The test process hosts a server env S
// and client-mode envs C and D, each with a Collector endpoint. C sends Echo a CallMeBack carrying a ref;
// the child turns it into a ref with env.endpointRef() and sends CalledBack to it.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { RpcEnv, type RpcEndpoint, type RpcEndpointRef } from '../../../src/rpc/index.ts';
import { memoryLogger } from '../../../src/util/logger.ts';
import { CallbackMessages, type CallbackMessage, type EchoMessage } from '../../fixtures/rpc-peer.ts';
import { ChildGroup, readReadyLine, waitFor, waitForMessage, type ChildHandle } from '../../helpers/process.ts';

const PEER = 'test/fixtures/rpc-peer.ts';

interface Received {
  readonly message: CallbackMessage;
  readonly sender: string;
}

function collector(received: Received[], connected: string[]): RpcEndpoint<CallbackMessage> {
  return {
    messages: CallbackMessages,
    receive: (message, ctx) => {
      received.push({ message, sender: ctx.senderAddress });
    },
    onConnected: (peer) => {
      connected.push(peer);
    },
  };
}

describe('endpoint refs passed across processes', { timeout: 30_000 }, () => {
  const children = new ChildGroup();
  const log = memoryLogger();
  let peer: ChildHandle;
  let peerId: string;
  let server: RpcEnv; // S: reachable at flint://127.0.0.1:port
  let client: RpcEnv; // C: client mode, connected to the peer
  let stranger: RpcEnv; // D: client mode, never connected to the peer
  const atServer: Received[] = [];
  const serverConnected: string[] = [];
  const atClient: Received[] = [];
  const atStranger: Received[] = [];
  let echo: RpcEndpointRef<EchoMessage>;
  let serverCollector: RpcEndpointRef<CallbackMessage>;
  let clientCollector: RpcEndpointRef<CallbackMessage>;
  let strangerCollector: RpcEndpointRef<CallbackMessage>;

  before(async () => {
    peer = children.spawnNodeScript(PEER, ['--name', 'refPeer']);
    peerId = String((await readReadyLine(peer))['id']);
    server = await RpcEnv.create({ name: 'refServer', logger: log.child({ env: 'S' }) });
    client = await RpcEnv.create({ name: 'refClient', clientMode: true, logger: log.child({ env: 'C' }) });
    stranger = await RpcEnv.create({ name: 'refStranger', clientMode: true, logger: log.child({ env: 'D' }) });
    serverCollector = server.setupEndpoint('Collector', collector(atServer, serverConnected));
    clientCollector = client.setupEndpoint('Collector', collector(atClient, []));
    strangerCollector = stranger.setupEndpoint('Collector', collector(atStranger, []));
    echo = await client.setupEndpointRef<EchoMessage>(peerId, 'Echo');
  });

  after(async () => {
    await Promise.allSettled([server?.shutdown(), client?.shutdown(), stranger?.shutdown()]);
    await children.killAll();
  });

  test('a server-mode ref: the receiver dials the address in the ref and its message arrives', async () => {
    assert.match(serverCollector.address, /^flint:\/\/Collector@127\.0\.0\.1:\d+$/);
    assert.deepEqual(server.connectedPeers(), [], 'S has not talked to the peer yet');
    echo.send({ type: 'CallMeBack', ref: serverCollector.address, token: 'server-1' });

    const got = await waitFor(() => atServer.find((r) => r.message.token === 'server-1'), { what: 'CalledBack at S' });
    assert.deepEqual(got.message, { type: 'CalledBack', from: peerId, token: 'server-1' });
    assert.equal(got.sender, peerId);
    // The peer opened a connection to S for it.
    assert.deepEqual(server.connectedPeers(), [peerId]);
    assert.ok(serverConnected.includes(peerId), 'S saw the peer connect');
    const event = await waitForMessage(peer, (m) => m['event'] === 'callMeBack' && m['token'] === 'server-1');
    assert.equal(event.value['sent'], true);
  });

  test('a client-mode ref is reached over the connection the client opened', async () => {
    assert.match(clientCollector.address, /^flint\+client:\/\/Collector@[0-9a-f]+$/);
    echo.send({ type: 'CallMeBack', ref: clientCollector.address, token: 'client-1' });

    const got = await waitFor(() => atClient.find((r) => r.message.token === 'client-1'), { what: 'CalledBack at C' });
    assert.deepEqual(got.message, { type: 'CalledBack', from: peerId, token: 'client-1' });
    assert.equal(got.sender, peerId);
    // C listens nowhere: the only connection it has is the one it opened to the peer.
    assert.equal(client.address, undefined);
    assert.deepEqual(client.connectedPeers(), [peerId]);
    const dropped = peer.stderrJson().filter((l) => l['msg'] === 'dropped a message: the client-mode peer is not connected');
    assert.deepEqual(dropped, []);
  });

  test('a client-mode ref to an env that never connected cannot be reached, and the receiver logs the drop', async () => {
    assert.deepEqual(stranger.connectedPeers(), []);
    echo.send({ type: 'CallMeBack', ref: strangerCollector.address, token: 'stranger-1' });

    const line = await waitFor(
      () => peer.stderrJson().find((l) => l['msg'] === 'dropped a message: the client-mode peer is not connected' && l['peer'] === stranger.id),
      { what: 'the peer to log the dropped message' },
    );
    assert.equal(line['endpoint'], 'Collector');
    assert.equal(line['type'], 'CalledBack');
    assert.deepEqual(atStranger, []);
    assert.deepEqual(stranger.connectedPeers(), []);
    // The ref worked again for a connected client afterwards: the drop cost nothing else.
    echo.send({ type: 'CallMeBack', ref: clientCollector.address, token: 'client-2' });
    await waitFor(() => atClient.find((r) => r.message.token === 'client-2'), { what: 'a second CalledBack at C' });
  });

  test('refs to two peers: one peer calls the other through a ref and the callee sees it', async () => {
    const second = children.spawnNodeScript(PEER, ['--name', 'refPeer2']);
    const secondId = String((await readReadyLine(second))['id']);
    // Ask the first peer to send CalledBack to the second peer's Echo (which accepts it).
    echo.send({ type: 'CallMeBack', ref: `flint://Echo@${secondId.slice('flint://'.length)}`, token: 'peer-to-peer' });
    const got = await waitForMessage(second, (m) => m['event'] === 'calledBack' && m['token'] === 'peer-to-peer', {
      what: 'CalledBack at the second peer',
    });
    assert.equal(got.value['from'], peerId);
    assert.equal(got.value['via'], peerId);
    await waitForMessage(second, (m) => m['event'] === 'connected' && m['peer'] === peerId, { what: 'connected event at the second peer' });
  });
});
