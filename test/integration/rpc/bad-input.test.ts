// Hostile and broken input against a peer process's server env, from raw node:net sockets, while a
// well-behaved RpcEnv in this process keeps asking. Each bad input must be refused (the connection closed,
// or a FAILURE / REFUSED frame), logged by the peer with the offender's address, and cost nothing else:
// the peer stays up and the good client's asks keep being answered.

import { encode } from '@msgpack/msgpack';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { encodeFrame, FrameDecoder } from '../../../src/rpc/frame-decoder.ts';
import { RpcEnv, type RpcEndpointRef } from '../../../src/rpc/index.ts';
import { decodeEnvelope, encodeEnvelopeBody, Kind, PROTOCOL_MAGIC, PROTOCOL_VERSION, type Envelope } from '../../../src/rpc/wire.ts';
import { memoryLogger } from '../../../src/util/logger.ts';
import type { EchoMessage } from '../../fixtures/rpc-peer.ts';
import { ChildGroup, readReadyLine, waitFor, type ChildHandle } from '../../helpers/process.ts';

const PEER = 'test/fixtures/rpc-peer.ts';
const CLOSE_WITHIN_MS = 3_000;

/** A raw TCP client speaking (or not) Flint's framing. */
class RawClient {
  readonly socket: Socket;
  readonly frames: Envelope[] = [];
  readonly undecodable: string[] = [];
  readonly closed: Promise<void>;
  #isClosed = false;
  readonly #decoder = new FrameDecoder(1024 * 1024);

  private constructor(socket: Socket) {
    this.socket = socket;
    socket.on('data', (chunk: Buffer) => {
      for (const frame of this.#decoder.push(chunk).frames) {
        const decoded = decodeEnvelope(frame);
        if (decoded.ok) this.frames.push(decoded.envelope);
        else this.undecodable.push(decoded.reason);
      }
    });
    socket.on('error', () => {}); // a reset by the peer is one of the expected outcomes
    this.closed = new Promise((done) =>
      socket.once('close', () => {
        this.#isClosed = true;
        done();
      }),
    );
  }

  static async connect(port: number): Promise<RawClient> {
    const socket = connect({ host: '127.0.0.1', port });
    const client = new RawClient(socket);
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', () => {
        client.localPort = socket.localPort ?? 0;
        client.address = `127.0.0.1:${client.localPort}`;
        resolve();
      });
      socket.once('error', reject);
    });
    return client;
  }

  /** `host:port` of this end, as the peer sees and logs it (read at connect: a closed socket forgets it). */
  address = '';
  localPort = 0;

  get isClosed(): boolean {
    return this.#isClosed;
  }

  write(bytes: Uint8Array): void {
    this.socket.write(bytes);
  }

  send(envelope: Envelope): void {
    this.write(encodeFrame(encodeEnvelopeBody(envelope)));
  }

  async frame(match: (e: Envelope) => boolean, what: string, timeoutMs = 3_000): Promise<Envelope> {
    return waitFor(() => this.frames.find(match), { timeoutMs, what });
  }

  async expectClosedByPeer(what: string): Promise<void> {
    await waitFor(() => this.isClosed, { timeoutMs: CLOSE_WITHIN_MS, what: `the peer to close the connection after ${what}` });
  }

  /** HELLO → WELCOME without authentication; returns the peer's env id. */
  async handshake(env: string): Promise<string> {
    this.send({ kind: Kind.HELLO, magic: PROTOCOL_MAGIC, version: PROTOCOL_VERSION, env, nonce: randomBytes(32), wantsAuth: false, principal: 'daemon' });
    const welcome = await this.frame((e) => e.kind === Kind.WELCOME || e.kind === Kind.REFUSED, 'WELCOME');
    assert.equal(welcome.kind, Kind.WELCOME, `handshake refused: ${JSON.stringify(welcome)}`);
    return welcome.kind === Kind.WELCOME ? welcome.env : '';
  }

  destroy(): void {
    this.socket.destroy();
  }
}

/** A well-framed body holding any msgpack value: for frames that are not valid envelopes. */
function msgpackFrame(value: unknown): Buffer {
  return encodeFrame(encode(value));
}

/** mulberry32: reproducible "random" bytes. */
function seededBytes(seed: number, n: number): Buffer {
  let state = seed >>> 0;
  const out = Buffer.alloc(n);
  for (let i = 0; i < n; i++) {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    out[i] = ((t ^ (t >>> 14)) >>> 0) & 0xff;
  }
  return out;
}

describe('bad input from raw sockets', { timeout: 45_000 }, () => {
  const children = new ChildGroup();
  let peer: ChildHandle;
  let peerId: string;
  let port: number;
  let good: RpcEnv;
  let echo: RpcEndpointRef<EchoMessage>;
  const raws: RawClient[] = [];
  // The well-behaved client's background asks.
  let steadyStop = false;
  let steadyDone: Promise<void> = Promise.resolve();
  const steady = { ok: 0, failures: [] as string[] };
  let goodN = 1000;

  /** The log lines of the peer (pino JSON on stderr) that mention `needle`. */
  function peerLines(needle: string): Array<Record<string, unknown>> {
    return peer.stderrJson().filter((l) => JSON.stringify(l).includes(needle));
  }

  async function peerLogged(needle: string, msg: RegExp, what: string): Promise<Record<string, unknown>> {
    return waitFor(() => peerLines(needle).find((l) => msg.test(String(l['msg']))), { timeoutMs: 3_000, what: `the peer to log ${what} with ${needle}` });
  }

  /** One ask from the good client; must be answered. */
  async function goodAsk(): Promise<void> {
    const n = goodN++;
    assert.deepEqual(await echo.ask({ type: 'Ping', n }, 3_000), { type: 'Pong', n: n + 1 });
  }

  async function raw(): Promise<RawClient> {
    const client = await RawClient.connect(port);
    raws.push(client);
    return client;
  }

  before(async () => {
    // A short handshake limit, so a connection that stalls mid-frame is dropped within the test's bounds.
    peer = children.spawnNodeScript(PEER, ['--name', 'target', '--conf', 'flint.rpc.connect.timeout=3s', '--conf', 'flint.rpc.message.maxSize=1m']);
    peerId = String((await readReadyLine(peer))['id']);
    port = Number(/:(\d+)$/.exec(peerId)?.[1]);
    good = await RpcEnv.create({ name: 'goodClient', logger: memoryLogger() });
    echo = await good.setupEndpointRef<EchoMessage>(peerId, 'Echo');
    await goodAsk();
    steadyDone = (async () => {
      for (let i = 0; i < 100_000 && !steadyStop; i++) {
        try {
          await goodAsk();
          steady.ok++;
        } catch (err) {
          steady.failures.push(String(err));
        }
        await new Promise<void>((done) => setTimeout(done, 15)); // pacing, not waiting for a condition
      }
    })();
  });

  after(async () => {
    steadyStop = true;
    await steadyDone;
    for (const r of raws) r.destroy();
    await good?.shutdown();
    await children.killAll();
  });

  test('random bytes: the connection is closed and the peer logs the sender', async () => {
    // Raw random bytes: the first four read as a length far over the limit (seeded, so reproducible).
    const bytes = seededBytes(0x5eed, 1024);
    assert.ok(bytes.readUInt32BE(0) > 1024 * 1024);
    const client = await raw();
    client.write(bytes);
    await goodAsk();
    await client.expectClosedByPeer('random bytes');
    const line = await peerLogged(client.address, /rejected/, 'the random bytes');
    assert.equal(line['level'], 40);
    await goodAsk();

    // Random bodies behind a valid length prefix: whatever they decode to, none is a usable first frame.
    for (let seed = 1; seed <= 8; seed++) {
      const body = seededBytes(seed, 16 + seed * 13);
      const framed = await raw();
      framed.write(encodeFrame(body));
      await framed.expectClosedByPeer(`a random body (seed ${seed})`);
      await peerLogged(framed.address, /rejected a bad frame|broke the handshake/, `the random body (seed ${seed})`);
      assert.ok(!framed.frames.some((e) => e.kind === Kind.WELCOME || e.kind === Kind.REPLY));
      await goodAsk();
    }
  });

  test('a truncated frame, then close: the peer logs the sender', async () => {
    const client = await raw();
    const header = Buffer.alloc(4);
    header.writeUInt32BE(100);
    client.write(Buffer.concat([header, Buffer.from('only ten b')]));
    await goodAsk();
    client.socket.end();
    await client.expectClosedByPeer('a truncated frame');
    await goodAsk();
    await peerLogged(client.address, /truncated|incomplete|closed|frame/i, 'the truncated frame');
  });

  test('a length prefix of 0xFFFFFFFF: closed before any body is read, and logged', async () => {
    const client = await raw();
    client.write(Buffer.from([0xff, 0xff, 0xff, 0xff, 1, 2, 3]));
    await client.expectClosedByPeer('an oversized length prefix');
    // Before the handshake the limit is 64 KiB, not flint.rpc.message.maxSize (docs/security.md).
    const line = await peerLogged(client.address, /over the limit before authentication/, 'the oversized frame');
    assert.equal(line['declaredBytes'], 0xffffffff);
    assert.equal(line['maxBytes'], 64 * 1024);
    await goodAsk();

    // Just over 64 KiB is refused too, before the handshake, though well under the configured 1m.
    const over = await raw();
    const header = Buffer.alloc(4);
    header.writeUInt32BE(64 * 1024 + 1);
    over.write(header);
    await over.expectClosedByPeer('a prefix just over the pre-authentication limit');
    await peerLogged(over.address, /over the limit before authentication/, 'the frame just over 64 KiB');
    await goodAsk();
  });

  test('a valid frame holding garbage msgpack, or a value that is not an envelope: closed and logged', async () => {
    const client = await raw();
    client.write(encodeFrame(Buffer.from([0xc1, 0xc1, 0xc1, 0xc1])));
    await client.expectClosedByPeer('garbage msgpack');
    const line = await peerLogged(client.address, /rejected a bad frame/, 'the garbage frame');
    assert.match(String(line['reason']), /undecodable msgpack/);
    await goodAsk();

    const notEnvelope = await raw();
    notEnvelope.write(msgpackFrame({ hello: 'world' }));
    await notEnvelope.expectClosedByPeer('a msgpack map');
    const line2 = await peerLogged(notEnvelope.address, /rejected a bad frame/, 'the non-envelope frame');
    assert.match(String(line2['reason']), /not a Flint envelope/);
    await goodAsk();
  });

  test('a first frame of nested array headers claiming millions of elements: refused at once, the peer stays small', async () => {
    // 504 bytes: a hundred array 32 headers of ten million elements each. @msgpack/msgpack 3.1 allocated each
    // array before reading it, and this killed the process (src/util/msgpack.ts).
    const bomb = Buffer.alloc(500);
    for (let i = 0; i < 100; i++) bomb.set([0xdd, 0x00, 0x98, 0x96, 0x80], i * 5);
    const rssBefore = peerRssBytes();
    for (let round = 0; round < 5; round++) {
      const client = await raw();
      client.write(encodeFrame(bomb));
      await client.expectClosedByPeer(`the nested headers (round ${round})`);
      const line = await peerLogged(client.address, /rejected a bad frame/, 'the nested headers');
      assert.match(String(line['reason']), /claims 10000000 element\(s\), more than the 495 byte\(s\) left can hold/);
      await goodAsk();
    }
    const grown = peerRssBytes() - rssBefore;
    assert.ok(grown < 64 * 1024 * 1024, `the peer's RSS grew by ${grown} bytes`);
  });

  /** The peer process's resident set, from /proc. */
  function peerRssBytes(): number {
    const pages = Number(readFileSync(`/proc/${peer.pid}/statm`, 'utf8').split(' ')[1]);
    return pages * 4096;
  }

  test('an ASK before the handshake: REFUSED, closed and logged', async () => {
    const client = await raw();
    client.send({ kind: Kind.ASK, askId: 1, endpoint: 'Echo', body: { type: 'Ping', n: 1 } });
    const refused = await client.frame((e) => e.kind === Kind.REFUSED, 'REFUSED');
    assert.equal(refused.kind === Kind.REFUSED && refused.code, 'FLINT_RPC_CONNECTION');
    await client.expectClosedByPeer('an ASK before HELLO');
    await peerLogged(client.address, /broke the handshake/, 'the early ASK');
    assert.ok(!client.frames.some((e) => e.kind === Kind.REPLY), 'no reply before the handshake');
    await goodAsk();
  });

  test('after a valid handshake: unknown type, malformed payload, unknown endpoint get FAILURE frames; the connection stays usable', async () => {
    const client = await raw();
    const me = `flint+client://rawattacker${client.localPort}`;
    assert.equal(await client.handshake(me), peerId);

    client.send({ kind: Kind.ASK, askId: 1, endpoint: 'Echo', body: { type: 'NoSuchMessage', n: 1 } });
    const unknown = await client.frame((e) => e.kind === Kind.FAILURE && e.askId === 1, 'FAILURE for the unknown type');
    assert.ok(unknown.kind === Kind.FAILURE);
    assert.equal(unknown.code, 'FLINT_RPC_UNKNOWN_MESSAGE');
    assert.match(unknown.message, /NoSuchMessage/);
    const unknownLine = await peerLogged(me, /rejected an inbound message/, 'the unknown message');
    assert.equal(unknownLine['code'], 'FLINT_RPC_UNKNOWN_MESSAGE');
    await goodAsk();

    client.send({ kind: Kind.ASK, askId: 2, endpoint: 'Echo', body: { type: 'Ping', n: 'not a number' } });
    const malformed = await client.frame((e) => e.kind === Kind.FAILURE && e.askId === 2, 'FAILURE for the malformed Ping');
    assert.ok(malformed.kind === Kind.FAILURE);
    assert.equal(malformed.code, 'FLINT_RPC_MALFORMED_MESSAGE');
    assert.match(malformed.message, /Ping is malformed at \/n/);

    client.send({ kind: Kind.ASK, askId: 3, endpoint: 'Echo', body: { type: 'Ping', n: 1, extra: true } });
    const extra = await client.frame((e) => e.kind === Kind.FAILURE && e.askId === 3, 'FAILURE for the Ping with an extra field');
    assert.ok(extra.kind === Kind.FAILURE && extra.code === 'FLINT_RPC_MALFORMED_MESSAGE', JSON.stringify(extra));

    client.send({ kind: Kind.ASK, askId: 4, endpoint: 'Nobody', body: { type: 'Ping', n: 1 } });
    const noEndpoint = await client.frame((e) => e.kind === Kind.FAILURE && e.askId === 4, 'FAILURE for the unknown endpoint');
    assert.ok(noEndpoint.kind === Kind.FAILURE && noEndpoint.code === 'FLINT_RPC_ENDPOINT_NOT_FOUND', JSON.stringify(noEndpoint));

    // A one-way send of an unknown type gets no reply but is logged.
    client.send({ kind: Kind.SEND, endpoint: 'Echo', body: { type: 'AlsoUnknown' } });
    await waitFor(() => peerLines(me).find((l) => String(l['reason']).includes('AlsoUnknown')), { what: 'the dropped send to be logged' });
    await goodAsk();

    // The same connection still answers a good ask.
    client.send({ kind: Kind.ASK, askId: 5, endpoint: 'Echo', body: { type: 'Ping', n: 99 } });
    const reply = await client.frame((e) => e.kind === Kind.REPLY && e.askId === 5, 'REPLY to a good ask');
    assert.ok(reply.kind === Kind.REPLY);
    assert.deepEqual(reply.body, { type: 'Pong', n: 100 });
    assert.equal(client.isClosed, false);
    assert.deepEqual(
      peerLines(me).filter((l) => l['msg'] === 'rejected an inbound message').map((l) => l['code']),
      ['FLINT_RPC_UNKNOWN_MESSAGE', 'FLINT_RPC_MALFORMED_MESSAGE', 'FLINT_RPC_MALFORMED_MESSAGE', 'FLINT_RPC_ENDPOINT_NOT_FOUND', 'FLINT_RPC_UNKNOWN_MESSAGE'],
    );
    client.destroy();
  });

  test('after a valid handshake: a malformed envelope or a second HELLO closes the connection and is logged', async () => {
    const client = await raw();
    const me = `flint+client://rawbadenvelope${client.localPort}`;
    await client.handshake(me);
    client.write(msgpackFrame([Kind.ASK, 'not-an-id', 'Echo', { type: 'Ping', n: 1 }]));
    await client.expectClosedByPeer('a malformed ASK envelope');
    const line = await peerLogged(me, /rejected a bad frame/, 'the malformed envelope');
    assert.match(String(line['reason']), /malformed envelope of kind 11/);
    await goodAsk();

    const again = await raw();
    const me2 = `flint+client://rawrehello${again.localPort}`;
    await again.handshake(me2);
    again.send({ kind: Kind.HELLO, magic: PROTOCOL_MAGIC, version: PROTOCOL_VERSION, env: me2, nonce: randomBytes(32), wantsAuth: false, principal: 'daemon' });
    await again.expectClosedByPeer('a second HELLO');
    await peerLogged(me2, /unexpected frame after the handshake/, 'the second HELLO');
    await goodAsk();
  });

  test('through all of it the peer stayed up and the good client was always answered', async () => {
    await waitFor(() => steady.ok >= 5 || steady.failures.length > 0, { timeoutMs: 5_000, what: 'background asks' });
    steadyStop = true;
    await steadyDone;
    assert.deepEqual(steady.failures, []);
    assert.ok(steady.ok >= 5, `only ${steady.ok} background asks ran`);
    assert.ok(peer.alive, 'the peer is still running');
    await goodAsk();
    // No complaint about the good client in the peer's log.
    assert.deepEqual(peerLines(good.id).filter((l) => Number(l['level']) >= 40), []);
  });
});

describe('protocol version mismatch', { timeout: 20_000 }, () => {
  const children = new ChildGroup();
  let peer: ChildHandle;
  let port: number;
  const raws: RawClient[] = [];

  before(async () => {
    peer = children.spawnNodeScript(PEER, ['--name', 'versioned']);
    port = Number(/:(\d+)$/.exec(String((await readReadyLine(peer))['id']))?.[1]);
  });

  after(async () => {
    for (const r of raws) r.destroy();
    await children.killAll();
  });

  test('HELLO with version 999 gets REFUSED naming both versions, then the connection closes', async () => {
    const client = await RawClient.connect(port);
    raws.push(client);
    const me = 'flint+client://fromthefuture';
    client.send({ kind: Kind.HELLO, magic: PROTOCOL_MAGIC, version: 999, env: me, nonce: randomBytes(32), wantsAuth: false, principal: 'daemon' });
    const refused = await client.frame((e) => e.kind === Kind.REFUSED, 'REFUSED');
    assert.ok(refused.kind === Kind.REFUSED);
    assert.equal(refused.code, 'FLINT_RPC_PROTOCOL_VERSION');
    assert.match(refused.reason, /\b999\b/);
    assert.match(refused.reason, new RegExp(`\\b${PROTOCOL_VERSION}\\b`));
    assert.ok(!client.frames.some((e) => e.kind === Kind.WELCOME));
    await client.expectClosedByPeer('the version refusal');
    const line = await waitFor(
      () => peer.stderrJson().find((l) => l['code'] === 'FLINT_RPC_PROTOCOL_VERSION' && String(l['msg']).includes(me)),
      { what: 'the peer to log the version mismatch' },
    );
    assert.match(String(line['msg']), /999/);
    assert.match(String(line['msg']), new RegExp(`\\b${PROTOCOL_VERSION}\\b`));
    assert.match(String(line['msg']), new RegExp(client.address));
    assert.ok(peer.alive);
  });

  test('HELLO with the wrong magic is refused as a handshake violation', async () => {
    const client = await RawClient.connect(port);
    raws.push(client);
    client.send({ kind: Kind.HELLO, magic: 'spork', version: PROTOCOL_VERSION, env: 'flint+client://wrongmagic', nonce: randomBytes(32), wantsAuth: false, principal: 'daemon' });
    const refused = await client.frame((e) => e.kind === Kind.REFUSED, 'REFUSED');
    assert.ok(refused.kind === Kind.REFUSED && refused.code === 'FLINT_RPC_CONNECTION', JSON.stringify(refused));
    await client.expectClosedByPeer('a bad magic');
    assert.ok(peer.alive);
  });
});
