// The handshake state machines, driven directly (no sockets). Every envelope goes through the real wire
// encoding on its way, as it would over TCP.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { AuthenticationError, ProtocolVersionError, RpcConnectionError, type FlintError } from '../../../src/errors.ts';
import { NONCE_BYTES, computeProof, newNonce } from '../../../src/rpc/auth.ts';
import { ClientHandshake, ServerHandshake, type HandshakeStep } from '../../../src/rpc/handshake.ts';
import { Kind, PROTOCOL_VERSION, decodeEnvelope, encodeEnvelopeBody, type Envelope } from '../../../src/rpc/wire.ts';

const CLIENT_ENV = 'flint+client://0123abcd';
const SERVER_ENV = 'flint://127.0.0.1:7077';
const DIALED = 'flint://127.0.0.1:7077';
const REMOTE = '127.0.0.1:51234';
const SECRET = 'hunter2-correct-horse-battery-staple';
const OTHER_SECRET = 'swordfish-completely-different-secret';

/** Every byte and message seen in a run, to check that no secret leaks. */
interface Transcript {
  kinds: number[];
  wire: Buffer[];
  steps: Array<{ side: 'client' | 'server'; step: HandshakeStep }>;
}

function overWire(envelope: Envelope, t: Transcript): Envelope {
  const bytes = Buffer.from(encodeEnvelopeBody(envelope));
  t.wire.push(bytes);
  t.kinds.push(envelope.kind);
  const decoded = decodeEnvelope(bytes);
  assert.equal(decoded.ok, true);
  return (decoded as { ok: true; envelope: Envelope }).envelope;
}

/** Runs the two machines against each other until neither has anything to send. */
function run(client: ClientHandshake, server: ServerHandshake, hello?: Envelope): {
  client: HandshakeStep | undefined;
  server: HandshakeStep | undefined;
  t: Transcript;
} {
  const t: Transcript = { kinds: [], wire: [], steps: [] };
  let last: { client: HandshakeStep | undefined; server: HandshakeStep | undefined } = { client: undefined, server: undefined };
  let inFlight: Envelope | undefined = overWire(hello ?? client.start(), t);
  let to: 'client' | 'server' = 'server';
  for (let i = 0; i < 10 && inFlight !== undefined; i++) {
    const step: HandshakeStep = to === 'server' ? server.step(inFlight) : client.step(inFlight);
    t.steps.push({ side: to, step });
    last = { ...last, [to]: step };
    // A side that is done or failed sends its last envelope; the other side consumes it only if it is still
    // handshaking (as the connection does).
    const other = to === 'server' ? last.client : last.server;
    const otherFinished = other !== undefined && other.state !== 'continue';
    inFlight = step.send && !otherFinished ? overWire(step.send, t) : undefined;
    if (step.send && otherFinished) {
      t.kinds.push(step.send.kind);
      t.wire.push(Buffer.from(encodeEnvelopeBody(step.send)));
    }
    to = to === 'server' ? 'client' : 'server';
  }
  return { ...last, t };
}

function failedWith(step: HandshakeStep | undefined, cls: new (...args: never[]) => FlintError): FlintError {
  assert.ok(step, 'the side took a step');
  assert.equal(step.state, 'failed');
  const error = (step as { error: FlintError }).error;
  assert.ok(error instanceof cls, `expected ${cls.name}, got ${error.name}: ${error.message}`);
  return error;
}

function done(step: HandshakeStep | undefined): string {
  assert.ok(step, 'the side took a step');
  assert.equal(step.state, 'done', step.state === 'failed' ? step.error.message : step.state);
  return (step as { peerEnv: string }).peerEnv;
}

function assertNoSecret(t: Transcript, ...secrets: string[]): void {
  const texts: string[] = [];
  for (const { step } of t.steps) {
    if (step.state === 'failed') texts.push(step.error.message, step.error.stack ?? '', String(step.error.cause ?? ''));
    if (step.send?.kind === Kind.REFUSED) texts.push(step.send.reason, step.send.code);
  }
  for (const secret of secrets) {
    for (const text of texts) assert.ok(!text.includes(secret), `"${text}" contains the secret`);
    for (const bytes of t.wire) assert.equal(bytes.indexOf(secret), -1, 'the secret is on the wire');
  }
}

describe('handshake: success', () => {
  test('no auth on either side: HELLO → WELCOME, both done with each other’s env id', () => {
    const client = new ClientHandshake(CLIENT_ENV, undefined, DIALED);
    const hello = client.start();
    assert.equal(hello.kind, Kind.HELLO);
    assert.equal(hello.kind === Kind.HELLO && hello.wantsAuth, false);
    assert.equal(hello.kind === Kind.HELLO && hello.version, PROTOCOL_VERSION);
    assert.equal(hello.kind === Kind.HELLO && hello.nonce.length, 32);
    const r = run(client, new ServerHandshake(SERVER_ENV, undefined, REMOTE), hello);
    assert.deepEqual(r.t.kinds, [Kind.HELLO, Kind.WELCOME]);
    assert.equal(done(r.server), CLIENT_ENV);
    assert.equal(done(r.client), SERVER_ENV);
  });

  test('auth with the same secret: HELLO → CHALLENGE → PROOF → WELCOME, done on both sides', () => {
    const client = new ClientHandshake(CLIENT_ENV, SECRET, DIALED);
    const r = run(client, new ServerHandshake(SERVER_ENV, SECRET, REMOTE));
    assert.deepEqual(r.t.kinds, [Kind.HELLO, Kind.CHALLENGE, Kind.PROOF, Kind.WELCOME]);
    assert.equal(done(r.server), CLIENT_ENV);
    assert.equal(done(r.client), SERVER_ENV);
    assert.equal(r.t.steps[1]?.step.state, 'continue', 'the client answers the challenge and waits');
    assertNoSecret(r.t, SECRET);
  });

  test('each connection uses fresh nonces, so proofs differ between runs', () => {
    const a = run(new ClientHandshake(CLIENT_ENV, SECRET, DIALED), new ServerHandshake(SERVER_ENV, SECRET, REMOTE));
    const b = run(new ClientHandshake(CLIENT_ENV, SECRET, DIALED), new ServerHandshake(SERVER_ENV, SECRET, REMOTE));
    assert.notDeepEqual(a.t.wire[0], b.t.wire[0], 'HELLO nonces differ');
    assert.notDeepEqual(a.t.wire[2], b.t.wire[2], 'PROOFs differ');
  });

  test('nonces cut from the pool are all distinct, of NONCE_BYTES each, across refills, and each a copy of its own', () => {
    const seen = new Set<string>();
    const first = newNonce();
    const firstBytes = Buffer.from(first).toString('hex');
    seen.add(firstBytes);
    for (let i = 0; i < 3 * 1024 + 7; i += 1) {
      const nonce = newNonce();
      assert.equal(nonce.length, NONCE_BYTES);
      const hex = Buffer.from(nonce).toString('hex');
      assert.equal(seen.has(hex), false, `nonce ${i} repeats an earlier one`);
      seen.add(hex);
    }
    assert.equal(Buffer.from(first).toString('hex'), firstBytes, 'a nonce handed out is not changed by the refills after it');
  });
});

describe('handshake: refusals', () => {
  test('wrong secret: the client fails with AuthenticationError and sends REFUSED; the server fails too', () => {
    const r = run(new ClientHandshake(CLIENT_ENV, OTHER_SECRET, DIALED), new ServerHandshake(SERVER_ENV, SECRET, REMOTE));
    assert.deepEqual(r.t.kinds, [Kind.HELLO, Kind.CHALLENGE, Kind.REFUSED]);
    const clientErr = failedWith(r.client, AuthenticationError);
    assert.equal(clientErr.code, 'FLINT_RPC_AUTH_FAILED');
    assert.match(clientErr.message, new RegExp(DIALED.replaceAll('.', '\\.')));
    const refusal = r.client?.send;
    assert.equal(refusal?.kind, Kind.REFUSED);
    assert.equal(refusal?.kind === Kind.REFUSED && refusal.code, 'FLINT_RPC_AUTH_FAILED');
    failedWith(r.server, AuthenticationError);
    assertNoSecret(r.t, SECRET, OTHER_SECRET);
  });

  test('a client proof made with the wrong secret is refused by the server', () => {
    const server = new ServerHandshake(SERVER_ENV, SECRET, REMOTE);
    const client = new ClientHandshake(CLIENT_ENV, SECRET, DIALED);
    const hello = client.start();
    const challenge = server.step(hello);
    assert.equal(challenge.state, 'continue');
    assert.equal(challenge.send?.kind, Kind.CHALLENGE);
    const ch = challenge.send as Extract<Envelope, { kind: 2 }>;
    const helloNonce = (hello as Extract<Envelope, { kind: 1 }>).nonce;
    const forged = computeProof(OTHER_SECRET, 'client', PROTOCOL_VERSION, CLIENT_ENV, helloNonce, ch.nonce);
    const step = server.step({ kind: Kind.PROOF, proof: forged });
    const err = failedWith(step, AuthenticationError);
    assert.match(err.message, /wrong secret/);
    assert.match(err.message, new RegExp(CLIENT_ENV.replace('+', '\\+')), 'names the peer by the env it announced');
    assert.equal(step.send?.kind, Kind.REFUSED);
    assert.ok(!err.message.includes(SECRET) && !err.message.includes(OTHER_SECRET));
  });

  test('proofs are bound to the connection: a replayed or reflected proof is refused', () => {
    // Replay: a valid PROOF from one session presented in another.
    const s1 = new ServerHandshake(SERVER_ENV, SECRET, REMOTE);
    const c1 = new ClientHandshake(CLIENT_ENV, SECRET, DIALED);
    const hello1 = c1.start();
    const proof1 = c1.step(s1.step(hello1).send as Envelope).send as Envelope;
    assert.equal(proof1.kind, Kind.PROOF);
    const s2 = new ServerHandshake(SERVER_ENV, SECRET, REMOTE);
    assert.equal(s2.step(hello1).state, 'continue');
    failedWith(s2.step(proof1), AuthenticationError);
    // Reflection: the server's own challenge proof sent back as the client's proof.
    const s3 = new ServerHandshake(SERVER_ENV, SECRET, REMOTE);
    const ch3 = s3.step(new ClientHandshake(CLIENT_ENV, SECRET, DIALED).start()).send as Extract<Envelope, { kind: 2 }>;
    failedWith(s3.step({ kind: Kind.PROOF, proof: ch3.proof }), AuthenticationError);
    // Truncated proof.
    const s4 = new ServerHandshake(SERVER_ENV, SECRET, REMOTE);
    s4.step(new ClientHandshake(CLIENT_ENV, SECRET, DIALED).start());
    failedWith(s4.step({ kind: Kind.PROOF, proof: new Uint8Array(5) }), AuthenticationError);
  });

  test('client without a secret vs a server with one: fails naming flint.authenticate; the server fails too', () => {
    const r = run(new ClientHandshake(CLIENT_ENV, undefined, DIALED), new ServerHandshake(SERVER_ENV, SECRET, REMOTE));
    assert.deepEqual(r.t.kinds, [Kind.HELLO, Kind.CHALLENGE, Kind.REFUSED]);
    const err = failedWith(r.client, AuthenticationError);
    assert.match(err.message, /flint\.authenticate/);
    assert.match(err.message, /requires authentication/);
    assert.equal(r.client?.send?.kind, Kind.REFUSED);
    const serverErr = failedWith(r.server, AuthenticationError);
    assert.match(serverErr.message, /refused the connection/);
    assertNoSecret(r.t, SECRET);
  });

  test('server without auth vs a client that requires it: the client refuses the WELCOME', () => {
    const r = run(new ClientHandshake(CLIENT_ENV, SECRET, DIALED), new ServerHandshake(SERVER_ENV, undefined, REMOTE));
    assert.deepEqual(r.t.kinds, [Kind.HELLO, Kind.WELCOME, Kind.REFUSED]);
    const err = failedWith(r.client, AuthenticationError);
    assert.match(err.message, /flint\.authenticate=true/);
    assert.match(err.message, /does not authenticate/);
    const refusal = r.client?.send;
    assert.equal(refusal?.kind === Kind.REFUSED && refusal.code, 'FLINT_RPC_AUTH_FAILED');
    assertNoSecret(r.t, SECRET);
  });

  test('protocol version mismatch: ProtocolVersionError naming both versions, on both sides', () => {
    const client = new ClientHandshake(CLIENT_ENV, undefined, DIALED);
    const hello = client.start() as Extract<Envelope, { kind: 1 }>;
    const future = PROTOCOL_VERSION + 41;
    const r = run(client, new ServerHandshake(SERVER_ENV, undefined, REMOTE), { ...hello, version: future });
    assert.deepEqual(r.t.kinds, [Kind.HELLO, Kind.REFUSED]);
    const serverErr = failedWith(r.server, ProtocolVersionError);
    assert.equal(serverErr.code, 'FLINT_RPC_PROTOCOL_VERSION');
    assert.match(serverErr.message, new RegExp(`\\b${future}\\b`));
    assert.match(serverErr.message, new RegExp(`\\b${PROTOCOL_VERSION}\\b`));
    const refusal = r.server?.send;
    assert.equal(refusal?.kind === Kind.REFUSED && refusal.code, 'FLINT_RPC_PROTOCOL_VERSION');
    const clientErr = failedWith(r.client, ProtocolVersionError);
    assert.match(clientErr.message, new RegExp(`\\b${future}\\b`));
    assert.match(clientErr.message, new RegExp(`\\b${PROTOCOL_VERSION}\\b`));
    assert.match(clientErr.message, new RegExp(DIALED.replaceAll('.', '\\.')));
  });

  test('a version mismatch is reported before any authentication', () => {
    const client = new ClientHandshake(CLIENT_ENV, SECRET, DIALED);
    const hello = client.start() as Extract<Envelope, { kind: 1 }>;
    const step = new ServerHandshake(SERVER_ENV, SECRET, REMOTE).step({ ...hello, version: 0 });
    failedWith(step, ProtocolVersionError);
    assert.equal(step.send?.kind, Kind.REFUSED);
  });

  test('frames out of order break the handshake with RpcConnectionError', () => {
    const server = new ServerHandshake(SERVER_ENV, SECRET, REMOTE);
    const notHello = failedWith(server.step({ kind: Kind.SEND, endpoint: 'Master', body: {} }), RpcConnectionError);
    assert.match(notHello.message, new RegExp(REMOTE), 'names the socket address before HELLO');
    const wrongMagic = new ServerHandshake(SERVER_ENV, undefined, REMOTE).step({
      ...(new ClientHandshake(CLIENT_ENV, undefined, DIALED).start() as Extract<Envelope, { kind: 1 }>),
      magic: 'spark',
    });
    failedWith(wrongMagic, RpcConnectionError);
    const noAuthServer = new ServerHandshake(SERVER_ENV, undefined, REMOTE);
    noAuthServer.step(new ClientHandshake(CLIENT_ENV, undefined, DIALED).start());
    failedWith(noAuthServer.step({ kind: Kind.PROOF, proof: new Uint8Array(32) }), RpcConnectionError);
    const client = new ClientHandshake(CLIENT_ENV, SECRET, DIALED);
    client.start();
    failedWith(client.step({ kind: Kind.PROOF, proof: new Uint8Array(32) }), RpcConnectionError);
    failedWith(client.step({ kind: Kind.ASK, askId: 1, endpoint: 'X', body: null }), RpcConnectionError);
  });

  test('a refusal with an unknown code becomes an RpcConnectionError carrying the reason', () => {
    const client = new ClientHandshake(CLIENT_ENV, undefined, DIALED);
    client.start();
    const err = failedWith(client.step({ kind: Kind.REFUSED, code: 'SOMETHING_ELSE', reason: 'overloaded' }), RpcConnectionError);
    assert.match(err.message, /overloaded/);
  });
});
