// send / ask across processes: the test process hosts a client-mode env, the child (test/fixtures/rpc-peer.ts)
// a server env with the Echo endpoint.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { FlintConf } from '../../../src/conf/flint-conf.ts';
import { EndpointNotFoundError, RpcRemoteError, RpcTimeoutError } from '../../../src/errors.ts';
import { RpcEnv, type RpcEndpointRef } from '../../../src/rpc/index.ts';
import { memoryLogger } from '../../../src/util/logger.ts';
import { EchoReplies, type EchoMessage, type EchoReply } from '../../fixtures/rpc-peer.ts';
import { ChildGroup, readReadyLine, waitFor, waitForMessage, type ChildHandle } from '../../helpers/process.ts';

const PEER = 'test/fixtures/rpc-peer.ts';

describe('RPC round trip with a peer process', { timeout: 30_000 }, () => {
  const children = new ChildGroup();
  const log = memoryLogger();
  let peer: ChildHandle;
  let peerId: string;
  let env: RpcEnv;
  let echo: RpcEndpointRef<EchoMessage>;

  before(async () => {
    peer = children.spawnNodeScript(PEER, ['--name', 'echoPeer']);
    peerId = String((await readReadyLine(peer))['id']);
    // A short default ask timeout, so the conf key is what times out the ask below.
    env = await RpcEnv.create({
      name: 'tester',
      clientMode: true,
      conf: new FlintConf([['flint.rpc.askTimeout', '400ms']]),
      logger: log,
    });
    echo = await env.setupEndpointRef<EchoMessage>(peerId, 'Echo');
  });

  after(async () => {
    await env?.shutdown();
    await children.killAll();
  });

  test('the peer is a server env on 127.0.0.1 and sees the client connect', async () => {
    assert.match(peerId, /^flint:\/\/127\.0\.0\.1:\d+$/);
    assert.match(env.id, /^flint\+client:\/\/[0-9a-f]+$/);
    await waitForMessage(peer, (m) => m['event'] === 'connected' && m['peer'] === env.id, { what: 'connected event' });
    assert.deepEqual(env.connectedPeers(), [peerId]);
  });

  test('ask Ping gets Pong n+1, checked against the reply catalog', async () => {
    const reply = await echo.ask<EchoReply>({ type: 'Ping', n: 41 }, { timeoutMs: 5_000, expect: EchoReplies });
    assert.deepEqual(reply, { type: 'Pong', n: 42 });
    const many = await Promise.all([1, 2, 3, 4, 5].map((n) => echo.ask<EchoReply>({ type: 'Ping', n }, 5_000)));
    assert.deepEqual(
      many.map((r) => (r.type === 'Pong' ? r.n : -1)),
      [2, 3, 4, 5, 6],
    );
  });

  test('one-way sends arrive in order before a later ask is answered', async () => {
    const texts = ['first', 'second', 'third'];
    for (const text of texts) assert.equal(echo.send({ type: 'Note', text }), true);
    const reply = await echo.ask<EchoReply>({ type: 'GetNotes' }, { timeoutMs: 5_000, expect: EchoReplies });
    assert.deepEqual(reply, { type: 'Notes', notes: texts });
    // The peer prints a line per note; its stdout may reach us after the reply did.
    const events = await waitFor(
      () => {
        const notes = peer.messages.filter((m) => m.value['event'] === 'note').map((m) => m.value);
        return notes.length >= texts.length && notes;
      },
      { what: 'three note events' },
    );
    assert.deepEqual(
      events.map((e) => [e['text'], e['from']]),
      texts.map((t) => [t, env.id]),
    );
  });

  test('an unanswered ask fails with RpcTimeoutError naming endpoint, type, timeout and flint.rpc.askTimeout', async () => {
    const started = performance.now();
    const err = await echo.ask({ type: 'Slow' }).then(
      () => assert.fail('Slow must not be answered'),
      (e: unknown) => e,
    );
    const elapsed = performance.now() - started;
    assert.ok(err instanceof RpcTimeoutError, `expected RpcTimeoutError, got ${String(err)}`);
    assert.equal(err.code, 'FLINT_RPC_TIMEOUT');
    assert.equal(err.endpoint, `Echo@${peerId}`);
    assert.equal(err.messageType, 'Slow');
    assert.equal(err.timeoutMs, 400);
    assert.match(err.message, /Echo@flint:\/\/127\.0\.0\.1:\d+/);
    assert.match(err.message, /\bSlow\b/);
    assert.match(err.message, /\b400 ms\b/);
    assert.match(err.message, /flint\.rpc\.askTimeout/);
    assert.ok(elapsed >= 390 && elapsed < 3_000, `timed out after ${elapsed.toFixed(0)} ms`);

    // An explicit timeout overrides the conf, and the connection still works afterwards.
    const explicit = await echo.ask({ type: 'Slow' }, 150).catch((e: unknown) => e);
    assert.ok(explicit instanceof RpcTimeoutError && explicit.timeoutMs === 150, String(explicit));
    assert.deepEqual(await echo.ask({ type: 'Ping', n: 1 }, 5_000), { type: 'Pong', n: 2 });
  });

  test('a remote handler that throws fails the ask with RpcRemoteError carrying its message', async () => {
    const err = await echo.ask({ type: 'Boom', text: 'kaboom-1234' }, 5_000).catch((e: unknown) => e);
    assert.ok(err instanceof RpcRemoteError, `expected RpcRemoteError, got ${String(err)}`);
    assert.equal(err.code, 'FLINT_RPC_REMOTE');
    assert.equal(err.remoteCode, 'FLINT_REMOTE_HANDLER_ERROR');
    assert.match(err.message, /boom: kaboom-1234/);
    assert.match(err.message, /Echo@flint:\/\/127\.0\.0\.1:\d+/);
    assert.match(err.remoteStack ?? '', /boom: kaboom-1234/);
    // The peer logged the failure and goes on serving.
    await waitFor(() => peer.stderrJson().find((l) => l['msg'] === 'an ask handler failed' && JSON.stringify(l).includes('kaboom-1234')), {
      what: 'the peer to log the failed handler',
    });
    assert.deepEqual(await echo.ask({ type: 'Ping', n: 7 }, 5_000), { type: 'Pong', n: 8 });
  });

  test('setupEndpointRef of a missing endpoint fails with EndpointNotFoundError', async () => {
    await assert.rejects(env.setupEndpointRef(peerId, 'NoSuchEndpoint'), (err: unknown) => {
      assert.ok(err instanceof EndpointNotFoundError);
      assert.match(err.message, /NoSuchEndpoint/);
      return true;
    });
    assert.ok(peer.alive);
  });
});
