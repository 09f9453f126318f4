// One message at a time, in send order, through a real pair of in-process envs on loopback: a server env and
// a client-mode env that dials it. Handlers are async and await random short delays.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Type } from '@sinclair/typebox';
import { FlintConf } from '../../../src/conf/flint-conf.ts';
import { EndpointNotFoundError, RpcRemoteError } from '../../../src/errors.ts';
import { ANY_ROLE, defineCatalog, message } from '../../../src/protocol/catalog.ts';
import { RpcEnv, type RpcEndpoint, type RpcEndpointRef } from '../../../src/rpc/index.ts';
import { memoryLogger, type LogLine } from '../../../src/util/logger.ts';

const Seq = defineCatalog('Seq', [
  message('Tell', { seq: Type.Integer(), fail: Type.Optional(Type.Union([Type.Literal('sync'), Type.Literal('async')])) }),
  message('Ask', { seq: Type.Integer(), fail: Type.Optional(Type.Union([Type.Literal('sync'), Type.Literal('async')])) }),
], ANY_ROLE);
type SeqMsg = { type: 'Tell' | 'Ask'; seq: number; fail?: 'sync' | 'async' };

const ProbeCatalog = defineCatalog('Probe', [message('Probe', {})], ANY_ROLE);

/** A deterministic xorshift generator, so runs are repeatable. */
function rng(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 2 ** 32;
  };
}

/** A short random delay: a microtask, a macrotask or a 0-2 ms timer. */
function randomPause(next: () => number): Promise<void> {
  const r = next();
  if (r < 0.25) return Promise.resolve();
  if (r < 0.6) return new Promise((resolve) => setImmediate(resolve));
  return new Promise((resolve) => setTimeout(resolve, Math.floor(r * 3)));
}

function gate(): { promise: Promise<void>; open: () => void } {
  let open!: () => void;
  const promise = new Promise<void>((resolve) => {
    open = resolve;
  });
  return { promise, open };
}

async function waitFor(condition: () => boolean, what: string, timeoutMs = 3000): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  for (let i = 0; i < 100_000 && !condition(); i++) {
    if (performance.now() > deadline) assert.fail(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
  assert.ok(condition(), what);
}

interface Pair {
  server: RpcEnv;
  client: RpcEnv;
  lines: LogLine[];
  /** Resolves once every frame the client sent before it has been queued by the server env. */
  barrier(): Promise<void>;
  shutdown(): Promise<void>;
}

async function pair(): Promise<Pair> {
  const lines: LogLine[] = [];
  const conf = new FlintConf([['flint.rpc.askTimeout', '10s']]);
  const server = await RpcEnv.create({ name: 'server', conf, logger: memoryLogger(lines) });
  const client = await RpcEnv.create({ name: 'client', conf, clientMode: true });
  server.setupEndpoint('Probe', { messages: ProbeCatalog, receiveAndReply: (_m, ctx) => ctx.reply('ok') });
  let probe: RpcEndpointRef | undefined;
  return {
    server,
    client,
    lines,
    // Frames of one connection are handled in order and queued to inboxes synchronously, so when the answer
    // to an ask of another endpoint comes back, every earlier frame is in its endpoint's inbox.
    async barrier() {
      probe ??= await client.setupEndpointRef(server.id, 'Probe');
      assert.equal(await probe.ask({ type: 'Probe' }), 'ok');
    },
    async shutdown() {
      await client.shutdown();
      await server.shutdown();
    },
  };
}

/** An endpoint that records what it handles and how many handlers run at once. */
function recorder(next: () => number, opts: { onStartGate?: Promise<void> } = {}) {
  const log: string[] = [];
  let running = 0;
  let maxRunning = 0;
  const enter = (what: string): void => {
    running++;
    maxRunning = Math.max(maxRunning, running);
    log.push(what);
  };
  const leave = (): void => {
    running--;
  };
  const handle = async (m: SeqMsg): Promise<void> => {
    enter(`${m.type} ${m.seq}`);
    try {
      if (m.fail === 'sync') throw new Error(`failing ${m.type} ${m.seq}`);
      await randomPause(next);
      if (m.fail === 'async') throw new Error(`failing ${m.type} ${m.seq}`);
    } finally {
      leave();
    }
  };
  const endpoint: RpcEndpoint<SeqMsg> = {
    messages: Seq,
    async onStart() {
      enter('start');
      try {
        await opts.onStartGate;
        await randomPause(next);
      } finally {
        leave();
      }
    },
    onConnected(remote) {
      log.push(`connected ${remote}`);
    },
    receive: (m) => handle(m),
    async receiveAndReply(m, ctx) {
      await handle(m);
      ctx.reply(m.seq);
    },
  };
  return {
    log,
    endpoint,
    get maxRunning() {
      return maxRunning;
    },
  };
}

describe('ordering through an RpcEnv pair (server env, client-mode env)', () => {
  test('sends and asks with async random-delay handlers run one at a time, in send order, after onStart', async () => {
    const p = await pair();
    try {
      const next = rng(12345);
      const startGate = gate();
      const rec = recorder(next, { onStartGate: startGate.promise });
      p.server.setupEndpoint('Seq', rec.endpoint);
      const ref = await p.client.setupEndpointRef<SeqMsg>(p.server.id, 'Seq');
      const n = 300;
      const asks: Array<Promise<unknown>> = [];
      const expected: string[] = [];
      for (let seq = 0; seq < n; seq++) {
        if (next() < 0.3) {
          asks.push(ref.ask({ type: 'Ask', seq }));
          expected.push(`Ask ${seq}`);
        } else {
          ref.send({ type: 'Tell', seq });
          expected.push(`Tell ${seq}`);
        }
      }
      await p.barrier();
      assert.deepEqual(
        rec.log.filter((l) => !l.startsWith('connected')),
        ['start'],
        'no message is handled while onStart is still running',
      );
      startGate.open();
      const replies = await Promise.all(asks);
      assert.deepEqual(
        replies,
        expected.filter((e) => e.startsWith('Ask')).map((e) => Number(e.split(' ')[1])),
      );
      await waitFor(() => rec.log.length >= n + 2, 'every message handled');
      const handled = rec.log.filter((l) => !l.startsWith('connected'));
      assert.deepEqual(handled, ['start', ...expected], 'onStart first, then every message in send order');
      assert.equal(rec.maxRunning, 1, 'never two handlers at once');
      const connectedAt = rec.log.indexOf(`connected ${p.client.id}`);
      const firstMessageAt = rec.log.findIndex((l) => l.startsWith('Tell') || l.startsWith('Ask'));
      assert.ok(connectedAt >= 0 && connectedAt < firstMessageAt, 'onConnected comes before the first message from that peer');
    } finally {
      await p.shutdown();
    }
  });

  test('a throwing handler (sync or async, send or ask) does not stop later messages', async () => {
    const p = await pair();
    try {
      const next = rng(777);
      const rec = recorder(next);
      p.server.setupEndpoint('Seq', rec.endpoint);
      const ref = await p.client.setupEndpointRef<SeqMsg>(p.server.id, 'Seq');
      const outcomes: Array<Promise<string>> = [];
      const expected: string[] = [];
      const expectedLog: string[] = [];
      for (let seq = 0; seq < 60; seq++) {
        const fail: SeqMsg['fail'] = seq % 5 === 1 ? 'sync' : seq % 5 === 3 ? 'async' : undefined;
        const msg = fail ? { seq, fail } : { seq };
        if (seq % 2 === 0) {
          ref.send({ type: 'Tell', ...msg });
          expectedLog.push(`Tell ${seq}`);
        } else {
          outcomes.push(
            ref.ask({ type: 'Ask', ...msg }).then(
              (v) => `reply ${String(v)}`,
              (err: unknown) => {
                assert.ok(err instanceof RpcRemoteError, `ask ${seq} fails with RpcRemoteError`);
                assert.equal(err.remoteCode, 'FLINT_REMOTE_HANDLER_ERROR');
                assert.equal(err.code, 'FLINT_RPC_REMOTE');
                return `error ${err.message}`;
              },
            ),
          );
          expected.push(fail ? `error Seq@${p.server.id} failed: failing Ask ${seq}` : `reply ${seq}`);
          expectedLog.push(`Ask ${seq}`);
        }
      }
      assert.deepEqual(await Promise.all(outcomes), expected);
      await p.barrier();
      await waitFor(() => rec.log.filter((l) => l.startsWith('Tell') || l.startsWith('Ask')).length === 60, 'all handled');
      assert.deepEqual(rec.log.filter((l) => l.startsWith('Tell') || l.startsWith('Ask')), expectedLog);
      assert.equal(rec.maxRunning, 1);
      const thrownSends = p.lines.filter((l) => l.level === 'error' && /threw while handling a message/.test(l.msg));
      // Failing sends are logged by the env (failing asks go back to the asker instead).
      const failingSends = Array.from({ length: 60 }, (_, seq) => seq).filter((seq) => seq % 2 === 0 && [1, 3].includes(seq % 5));
      assert.equal(thrownSends.length, failingSends.length);
    } finally {
      await p.shutdown();
    }
  });

  test('stop() drops queued asks (FLINT_RPC_STOPPED remote errors) and runs onStop after the running message', async () => {
    const p = await pair();
    try {
      const log: string[] = [];
      const inHandler = gate();
      const release = gate();
      p.server.setupEndpoint<SeqMsg>('Seq', {
        messages: Seq,
        async receiveAndReply(m, ctx) {
          log.push(`begin ${m.seq}`);
          if (m.seq === 0) {
            inHandler.open();
            await release.promise;
          }
          log.push(`end ${m.seq}`);
          ctx.reply(m.seq);
        },
        onStop() {
          log.push('stop');
        },
      });
      const ref = await p.client.setupEndpointRef<SeqMsg>(p.server.id, 'Seq');
      const settled = [0, 1, 2, 3, 4].map((seq) =>
        ref.ask({ type: 'Ask', seq }).then(
          (v) => ({ ok: true as const, v }),
          (err: unknown) => ({ ok: false as const, err }),
        ),
      );
      await inHandler.promise;
      await p.barrier(); // asks 1-4 are now queued behind ask 0
      const stopping = p.server.stop('Seq');
      assert.deepEqual(log, ['begin 0'], 'onStop waits for the running message');
      const dropped = await Promise.all(settled.slice(1));
      for (const d of dropped) {
        assert.equal(d.ok, false);
        assert.ok(!d.ok && d.err instanceof RpcRemoteError, 'a dropped ask fails with RpcRemoteError');
        assert.equal((d as { err: RpcRemoteError }).err.remoteCode, 'FLINT_RPC_STOPPED');
        assert.match((d as { err: RpcRemoteError }).err.message, /stopped before handling/);
      }
      assert.deepEqual(log, ['begin 0'], 'still running message 0; onStop not yet');
      release.open();
      await stopping;
      assert.deepEqual(log, ['begin 0', 'end 0', 'stop'], 'the running message finished, then onStop; nothing queued ran');
      assert.deepEqual(await settled[0], { ok: true, v: 0 }, 'the message in hand still replies');
      await assert.rejects(ref.ask({ type: 'Ask', seq: 9 }), EndpointNotFoundError, 'a stopped endpoint is gone');
    } finally {
      await p.shutdown();
    }
  });

  test('the same holds for local asks within one env', async () => {
    const env = await RpcEnv.create({ name: 'local', conf: new FlintConf([['flint.rpc.askTimeout', '10s']]) });
    try {
      const log: string[] = [];
      const inHandler = gate();
      const release = gate();
      const ref = env.setupEndpoint<SeqMsg>('Seq', {
        messages: Seq,
        async receiveAndReply(m, ctx) {
          log.push(`begin ${m.seq}`);
          if (m.seq === 0) {
            inHandler.open();
            await release.promise;
          }
          ctx.reply(m.seq);
        },
        onStop() {
          log.push('stop');
        },
      });
      const first = ref.ask({ type: 'Ask', seq: 0 });
      const queued = [1, 2].map((seq) => ref.ask({ type: 'Ask', seq }).catch((err: unknown) => err));
      await inHandler.promise;
      await new Promise((resolve) => setImmediate(resolve)); // local deliveries are microtasks; let them all land
      const stopping = env.stop(ref);
      for (const err of await Promise.all(queued)) {
        assert.ok(err instanceof RpcRemoteError);
        assert.equal(err.remoteCode, 'FLINT_RPC_STOPPED');
      }
      release.open();
      await stopping;
      assert.equal(await first, 0);
      assert.deepEqual(log, ['begin 0', 'stop']);
    } finally {
      await env.shutdown();
    }
  });
});
