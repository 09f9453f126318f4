// Connections past flint.rpc.handshake.maxConnections wait for a slot instead of being closed (docs/security.md
// "Limits before authentication"): a peer process allows 2 connections in the handshake and 3 waiting. Two silent sockets take the slots; a client with the secret then waits, unread, and its ask
// is answered as soon as a slot frees; a connection past the waiting room is closed at once, with a log line.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { FlintConf } from '../../../src/conf/flint-conf.ts';
import { RpcEnv } from '../../../src/rpc/index.ts';
import { memoryLogger } from '../../../src/util/logger.ts';
import type { EchoMessage } from '../../fixtures/rpc-peer.ts';
import { rawConnect, type RawConnection } from '../../helpers/net.ts';
import { ChildGroup, readReadyLine, waitFor, type ChildHandle } from '../../helpers/process.ts';

const SECRET = 'waiting-room-secret-Jx81';
/** Far longer than anything the test waits for: a socket closed by it would show as a failure here. */
const HANDSHAKE_TIMEOUT = '60s';

describe('the handshake waiting room', { timeout: 60_000 }, () => {
  const children = new ChildGroup();
  const envs: RpcEnv[] = [];
  const raws: RawConnection[] = [];
  let peer: ChildHandle;
  let peerId: string;
  let port: number;

  before(async () => {
    peer = children.spawnNodeScript('test/fixtures/rpc-peer.ts', [
      '--name',
      'crowded',
      ...['flint.authenticate=true', `flint.authenticate.secret=${SECRET}`, 'flint.rpc.handshake.maxConnections=2', 'flint.rpc.handshake.maxWaiting=3'].flatMap((kv) => ['--conf', kv]),
      ...['--conf', `flint.rpc.connect.timeout=${HANDSHAKE_TIMEOUT}`],
    ]);
    peerId = String((await readReadyLine(peer))['id']);
    port = Number(peerId.split(':').at(-1));
  });

  after(async () => {
    for (const raw of raws) raw.socket.destroy();
    await Promise.allSettled(envs.map((e) => e.shutdown()));
    await children.killAll();
  });

  /** The peer's refusals of connections for the total cap, as logged (rate-limited, each with its context). */
  const refusals = (): Array<Record<string, unknown>> => peer.stderrJson().filter((l) => String(l['msg']).includes('(flint.rpc.handshake.maxConnections)'));

  test('a waiting client is served when a slot frees; the one past the waiting room is closed', async () => {
    const holders = [await rawConnect(port, '127.35.0.1'), await rawConnect(port, '127.35.0.2')];
    raws.push(...holders);
    const conf = new FlintConf([
      ['flint.authenticate', 'true'],
      ['flint.authenticate.secret', SECRET],
      ['flint.rpc.connect.timeout', HANDSHAKE_TIMEOUT],
    ]);
    const client = await RpcEnv.create({ name: 'waitingClient', clientMode: true, conf, logger: memoryLogger() });
    envs.push(client);
    const echo = client.endpointRef<EchoMessage>(`flint://Echo@${peerId.slice('flint://'.length)}`);
    let answered = false;
    const pong = echo.ask({ type: 'Ping', n: 41 }, 50_000).then((reply) => {
      answered = true;
      return reply;
    });
    // Two more silent ones fill the waiting room (3: the client and these), and the next is refused.
    raws.push(await rawConnect(port, '127.35.0.3'), await rawConnect(port, '127.35.0.4'));
    const refused = await rawConnect(port, '127.35.0.5');
    raws.push(refused);
    await waitFor(() => refused.closed(), { timeoutMs: 10_000, what: 'the connection past the waiting room to be closed' });
    const line = await waitFor(() => refusals()[0], { timeoutMs: 10_000, what: 'the refusal to be logged' });
    assert.equal(line['handshaking'], 2);
    assert.equal(line['waiting'], 3);
    assert.match(String(line['remote']), /^127\.35\.0\.5:/);
    assert.equal(answered, false, 'the client waits while both slots are held');
    assert.deepEqual(
      raws.filter((r) => r.closed()).map((r) => r.from),
      ['127.35.0.5'],
      'only the one past the waiting room was closed',
    );

    holders[0]!.socket.destroy(); // a slot frees: the oldest waiter (the client) gets it
    assert.deepEqual(await pong, { type: 'Pong', n: 42 });
    assert.equal(refusals().length, 1, 'nothing else was refused');
  });
});
