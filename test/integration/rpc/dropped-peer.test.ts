// A peer process killed with SIGKILL: the other side gets onDisconnected within a second, asks in flight
// fail with RpcConnectionError rather than waiting for their timeout, and once the peer is back on the same
// port the same ref works again over a new connection.

import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { FlintConf } from '../../../src/conf/flint-conf.ts';
import { RpcConnectionError } from '../../../src/errors.ts';
import { RpcEnv, type RpcEndpoint } from '../../../src/rpc/index.ts';
import { ANY_ROLE, defineCatalog } from '../../../src/protocol/catalog.ts';
import { memoryLogger } from '../../../src/util/logger.ts';
import { CallbackMessages, type CallbackMessage, type EchoMessage } from '../../fixtures/rpc-peer.ts';
import { ChildGroup, readReadyLine, waitFor, waitForMessage, type ChildHandle } from '../../helpers/process.ts';

const PEER = 'test/fixtures/rpc-peer.ts';
const DISCONNECT_LIMIT_MS = 1_000;

interface ConnEvent {
  readonly kind: 'connected' | 'disconnected' | 'networkError';
  readonly peer: string;
  readonly at: number;
}

function watcher(events: ConnEvent[]): RpcEndpoint {
  return {
    messages: defineCatalog('Nothing', [], ANY_ROLE),
    onConnected: (peer) => void events.push({ kind: 'connected', peer, at: performance.now() }),
    onDisconnected: (peer) => void events.push({ kind: 'disconnected', peer, at: performance.now() }),
    onNetworkError: (_err, peer) => void events.push({ kind: 'networkError', peer, at: performance.now() }),
  };
}

async function startPeer(children: ChildGroup, args: string[]): Promise<{ child: ChildHandle; id: string; port: number }> {
  const child = children.spawnNodeScript(PEER, args);
  const id = String((await readReadyLine(child))['id']);
  const port = Number(/:(\d+)$/.exec(id)?.[1]);
  assert.ok(port > 0, `bad id ${id}`);
  return { child, id, port };
}

describe('a dropped peer', { timeout: 30_000 }, () => {
  const children = new ChildGroup();
  const envs: RpcEnv[] = [];

  after(async () => {
    await Promise.allSettled(envs.map((e) => e.shutdown()));
    await children.killAll();
  });

  test('kill -9: onDisconnected within 1 s, in-flight ask fails fast, restart on the same port and ask again', async (t) => {
    const first = await startPeer(children, ['--name', 'dropPeer']);
    const events: ConnEvent[] = [];
    const env = await RpcEnv.create({ name: 'dropTester', logger: memoryLogger() });
    envs.push(env);
    env.setupEndpoint('Watcher', watcher(events));
    const echo = await env.setupEndpointRef<EchoMessage>(first.id, 'Echo');
    assert.deepEqual(await echo.ask({ type: 'Ping', n: 1 }, 5_000), { type: 'Pong', n: 2 });
    await waitFor(() => events.some((e) => e.kind === 'connected' && e.peer === first.id), { what: 'onConnected' });

    const inFlight = echo.ask({ type: 'Slow' }, 20_000).then(
      () => assert.fail('Slow must not be answered'),
      (err: unknown) => ({ err, at: performance.now() }),
    );
    // Make sure the Slow ask reached the peer before it dies: a Ping behind it on the same connection.
    assert.deepEqual(await echo.ask({ type: 'Ping', n: 2 }, 5_000), { type: 'Pong', n: 3 });

    const killedAt = performance.now();
    first.child.killNow('SIGKILL');
    const down = await waitFor(() => events.find((e) => e.kind === 'disconnected' && e.peer === first.id), {
      timeoutMs: 5_000,
      intervalMs: 5,
      what: 'onDisconnected after kill -9',
    });
    const detectMs = down.at - killedAt;
    t.diagnostic(`onDisconnected ${detectMs.toFixed(1)} ms after kill -9`);
    assert.ok(detectMs < DISCONNECT_LIMIT_MS, `onDisconnected came ${detectMs.toFixed(0)} ms after the kill`);

    const failed = await inFlight;
    assert.ok(failed.err instanceof RpcConnectionError, `expected RpcConnectionError, got ${String(failed.err)}`);
    assert.ok(failed.at - killedAt < DISCONNECT_LIMIT_MS, `the in-flight ask failed ${(failed.at - killedAt).toFixed(0)} ms after the kill`);
    const exit = await first.child.exited;
    assert.equal(exit.signal, 'SIGKILL');
    assert.deepEqual(env.connectedPeers(), []);

    // While the peer is down an ask fails with a connection error at once, not with a timeout.
    const refusedStart = performance.now();
    const refused = await echo.ask({ type: 'Ping', n: 3 }, 10_000).catch((err: unknown) => err);
    assert.ok(refused instanceof RpcConnectionError, `expected RpcConnectionError, got ${String(refused)}`);
    assert.ok(performance.now() - refusedStart < DISCONNECT_LIMIT_MS);

    // The peer comes back on the same port: the same ref reaches it over a new connection.
    const second = await startPeer(children, ['--name', 'dropPeer', '--port', String(first.port)]);
    assert.equal(second.id, first.id);
    assert.deepEqual(await echo.ask({ type: 'Ping', n: 10 }, 5_000), { type: 'Pong', n: 11 });
    await waitFor(() => events.filter((e) => e.kind === 'connected' && e.peer === first.id).length === 2, {
      what: 'a second onConnected',
    });
    await waitForMessage(second.child, (m) => m['event'] === 'connected' && m['peer'] === env.id, { what: 'connected at the new peer' });
    assert.deepEqual(env.connectedPeers(), [first.id]);
  });

  test('between two peer processes: the survivor reports the disconnect within 1 s and reconnects after a restart', async (t) => {
    const survivor = await startPeer(children, ['--name', 'survivor']);
    const victim = await startPeer(children, ['--name', 'victim']);
    const env = await RpcEnv.create({ name: 'dropDriver', clientMode: true, logger: memoryLogger() });
    envs.push(env);
    const echo = await env.setupEndpointRef<EchoMessage>(survivor.id, 'Echo');
    const victimEcho = `flint://Echo@127.0.0.1:${victim.port}`;

    // The survivor dials the victim to deliver a CalledBack.
    echo.send({ type: 'CallMeBack', ref: victimEcho, token: 'before' });
    await waitForMessage(victim.child, (m) => m['event'] === 'calledBack' && m['token'] === 'before', { what: 'first callback' });
    await waitForMessage(survivor.child, (m) => m['event'] === 'connected' && m['peer'] === victim.id, { what: 'survivor connected' });

    const from = survivor.child.messages.length;
    const killedAt = performance.now();
    victim.child.killNow('SIGKILL');
    const line = await waitForMessage(survivor.child, (m) => m['event'] === 'disconnected' && m['peer'] === victim.id, {
      from,
      timeoutMs: 5_000,
      what: 'disconnected event at the survivor',
    });
    const detectMs = line.at - killedAt;
    t.diagnostic(`survivor printed disconnected ${detectMs.toFixed(1)} ms after kill -9`);
    assert.ok(detectMs < DISCONNECT_LIMIT_MS, `the survivor reported it ${detectMs.toFixed(0)} ms after the kill`);
    await victim.child.exited;

    const back = await startPeer(children, ['--name', 'victim', '--port', String(victim.port)]);
    echo.send({ type: 'CallMeBack', ref: victimEcho, token: 'after' });
    const again = await waitForMessage(back.child, (m) => m['event'] === 'calledBack' && m['token'] === 'after', {
      what: 'callback to the restarted peer',
    });
    assert.equal(again.value['from'], survivor.id);
    assert.ok(survivor.child.alive);
  });

  test('shutdown while a peer never acknowledges the close (SIGSTOP, as a host that vanished): over within flint.rpc.connect.timeout', async () => {
    const peer = await startPeer(children, ['--name', 'frozenPeer']);
    const env = await RpcEnv.create({ name: 'closingServer', clientMode: false, conf: new FlintConf([['flint.rpc.connect.timeout', '1s']]), logger: memoryLogger() });
    const got: CallbackMessage[] = [];
    const ref = env.setupEndpoint('Collector', { messages: CallbackMessages, receive: (m) => void got.push(m) } satisfies RpcEndpoint<CallbackMessage>);
    // Asked from another env, so that the peer dials this one (not answer on a connection this one made).
    const caller = await RpcEnv.create({ name: 'caller', logger: memoryLogger() });
    envs.push(caller);
    const echo = await caller.setupEndpointRef<EchoMessage>(peer.id, 'Echo');
    echo.send({ type: 'CallMeBack', ref: ref.address, token: 'dialed' });
    await waitFor(() => got.some((m) => m.token === 'dialed'), { timeoutMs: 5_000, what: 'the peer to dial this env' });
    // Its kernel still acknowledges our FIN, but it never closes its side: the server's close would wait forever.
    peer.child.killNow('SIGSTOP');
    try {
      const started = performance.now();
      const done = await Promise.race([env.shutdown().then(() => true), new Promise<false>((r) => setTimeout(() => r(false), 10_000).unref())]);
      assert.ok(done, 'shutdown returned');
      assert.ok(performance.now() - started >= 900, 'a live peer gets the grace of the connect timeout first');
    } finally {
      peer.child.killNow('SIGCONT');
    }
  });
});
