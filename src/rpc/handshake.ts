// The connection handshake as two small state machines (client and server), with no I/O.
//
//   client                                   server
//   HELLO(version, env, nonceC, wantsAuth, principal) →
//                                          ← CHALLENGE(env, nonceS, proofS)   when the server has a secret
//   PROOF(proofC)                          →                                   (client checked proofS first)
//                                          ← WELCOME(env)                      (server checked proofC)
//
// The client's first messages may follow its PROOF in the same write (HandshakeStep `last`): the server has
// proven itself by then, and it reads frames in order, so it handles them right after it checks the PROOF, and
// drops them with the connection when the check fails. A registration so costs one round trip less, and one
// write and one wake-up less on each side.
//
// The client claims a principal (auth.ts) and both sides prove the key the server's keyring holds for it; a
// principal the server has no key for is refused. Without a keyring on the server (authentication off) the
// reply to HELLO is WELCOME at once and the principal is taken as claimed. Either side may answer REFUSED and
// close: a protocol-version mismatch, a failed proof, a principal the server does not take, or a secret on one
// side only. Each step returns what to send and whether the handshake is finished or failed, with the peer's
// principal and role when it is done; the connection does the I/O.

import { AuthenticationError, ProtocolVersionError, RpcConnectionError, type FlintError } from '../errors.ts';
import {
  computeProof,
  newNonce,
  proofMatches,
  roleOf,
  serverRoleFor,
  type Credential,
  type Keyring,
  type Principal,
  type Role,
} from './auth.ts';
import { Kind, PROTOCOL_MAGIC, PROTOCOL_VERSION, type Envelope } from './wire.ts';

export type HandshakeStep =
  | {
      readonly state: 'continue';
      readonly send?: Envelope;
      /**
       * The client's PROOF, sent once it has checked the server's proof: its last handshake frame. The messages
       * the connection holds may follow it in the same write, without waiting a round trip for WELCOME.
       */
      readonly last?: true;
    }
  | {
      readonly state: 'done';
      readonly peerEnv: string;
      /** The client's principal (server side), or the principal the client dialed with (client side). */
      readonly peerPrincipal: Principal;
      readonly peerRole: Role;
      readonly send?: Envelope;
    }
  | { readonly state: 'failed'; readonly error: FlintError; readonly send?: Envelope };

const AUTH = 'FLINT_RPC_AUTH_FAILED';
const VERSION = 'FLINT_RPC_PROTOCOL_VERSION';

function refused(code: string, reason: string): Envelope {
  return { kind: Kind.REFUSED, code, reason };
}

export function errorFromRefusal(code: string, reason: string, peer: string): FlintError {
  const text = `${peer} refused the connection: ${reason}`;
  if (code === AUTH) return new AuthenticationError(text);
  if (code === VERSION) return new ProtocolVersionError(text);
  return new RpcConnectionError(text);
}

/** A bare secret is the cluster secret: the `daemon` principal's key. */
function credentialOf(secret: Credential | string | undefined): Credential | undefined {
  return typeof secret === 'string' ? { principal: 'daemon', key: secret } : secret;
}

/** A bare secret lets in the `daemon` principal only. */
export function keyringOf(keys: Keyring | string | undefined): Keyring | undefined {
  return typeof keys === 'string' ? (principal) => (principal === 'daemon' ? keys : undefined) : keys;
}

export class ClientHandshake {
  readonly #env: string;
  readonly #secret: string | undefined;
  readonly #principal: Principal;
  readonly #nonce = newNonce();
  readonly #dialed: string;
  #serverEnv: string | undefined;

  /**
   * `credential` is set iff this env has flint.authenticate=true (a bare string is the cluster secret). Without
   * one, `principal` is claimed unproven. `dialed` names the peer in errors.
   */
  constructor(env: string, credential: Credential | string | undefined, dialed: string, principal?: Principal) {
    const cred = credentialOf(credential);
    this.#env = env;
    this.#secret = cred?.key;
    this.#principal = cred?.principal ?? principal ?? 'daemon';
    this.#dialed = dialed;
  }

  start(): Envelope {
    return {
      kind: Kind.HELLO,
      magic: PROTOCOL_MAGIC,
      version: PROTOCOL_VERSION,
      env: this.#env,
      nonce: this.#nonce,
      wantsAuth: this.#secret !== undefined,
      principal: this.#principal,
    };
  }

  step(envelope: Envelope): HandshakeStep {
    const peer = this.#dialed;
    switch (envelope.kind) {
      case Kind.REFUSED:
        return { state: 'failed', error: errorFromRefusal(envelope.code, envelope.reason, peer) };
      case Kind.CHALLENGE:
        return this.#answerChallenge(envelope);
      case Kind.WELCOME:
        if (this.#secret !== undefined && this.#serverEnv === undefined) {
          const reason = 'the server does not authenticate, but flint.authenticate=true here';
          return {
            state: 'failed',
            error: new AuthenticationError(`${peer}: ${reason}; refusing an unauthenticated peer`),
            send: refused(AUTH, 'this client requires authentication and the server offered none'),
          };
        }
        return { state: 'done', peerEnv: envelope.env, peerPrincipal: this.#principal, peerRole: this.#serverRole() };
      default:
        return unexpected(envelope, peer);
    }
  }

  #serverRole(): Role {
    return serverRoleFor(roleOf(this.#principal) ?? 'daemon');
  }

  #answerChallenge(challenge: Extract<Envelope, { kind: 2 }>): HandshakeStep {
    const peer = this.#dialed;
    if (this.#secret === undefined) {
      return {
        state: 'failed',
        error: new AuthenticationError(
          `${peer} requires authentication; set flint.authenticate=true and the same ` +
            'flint.authenticate.secret (or flint.authenticate.secret.file) as the server',
        ),
        send: refused(AUTH, 'the client has no secret (flint.authenticate is off there)'),
      };
    }
    const p = this.#principal;
    const expected = computeProof(this.#secret, 'server', PROTOCOL_VERSION, challenge.env, challenge.nonce, this.#nonce, p);
    if (!proofMatches(expected, challenge.proof)) {
      return {
        state: 'failed',
        error: new AuthenticationError(`authentication with ${peer} failed: its secret differs from this one`),
        send: refused(AUTH, "the server's proof did not match: the secrets differ"),
      };
    }
    this.#serverEnv = challenge.env;
    const proof = computeProof(this.#secret, 'client', PROTOCOL_VERSION, this.#env, this.#nonce, challenge.nonce, p);
    return { state: 'continue', send: { kind: Kind.PROOF, proof }, last: true };
  }
}

export class ServerHandshake {
  readonly #env: string;
  readonly #keyring: Keyring | undefined;
  readonly #remote: string;
  readonly #nonce = newNonce();
  #hello: Extract<Envelope, { kind: 1 }> | undefined;
  #key: string | undefined;

  /**
   * `keyring` is set iff this env has flint.authenticate=true (a bare string is the cluster secret, which lets in
   * `daemon` only). `remote` is the socket's address, used in errors until the peer has said who it is.
   */
  constructor(env: string, keyring: Keyring | string | undefined, remote: string) {
    this.#env = env;
    this.#keyring = keyringOf(keyring);
    this.#remote = remote;
  }

  step(envelope: Envelope): HandshakeStep {
    if (envelope.kind === Kind.REFUSED) {
      return { state: 'failed', error: errorFromRefusal(envelope.code, envelope.reason, this.#who()) };
    }
    if (this.#hello === undefined) {
      return envelope.kind === Kind.HELLO ? this.#onHello(envelope) : unexpected(envelope, this.#remote);
    }
    if (envelope.kind !== Kind.PROOF || this.#key === undefined) return unexpected(envelope, this.#who());
    const hello = this.#hello;
    const expected = computeProof(this.#key, 'client', PROTOCOL_VERSION, hello.env, hello.nonce, this.#nonce, hello.principal);
    if (!proofMatches(expected, envelope.proof)) {
      return {
        state: 'failed',
        error: new AuthenticationError(`${this.#who()} failed authentication: wrong secret`),
        send: refused(AUTH, 'authentication failed: wrong secret'),
      };
    }
    return this.#done(hello);
  }

  #done(hello: Extract<Envelope, { kind: 1 }>): HandshakeStep {
    const peerRole = roleOf(hello.principal) as Role;
    return { state: 'done', peerEnv: hello.env, peerPrincipal: hello.principal, peerRole, send: { kind: Kind.WELCOME, env: this.#env } };
  }

  #who(): string {
    return this.#hello ? `${this.#hello.env} (from ${this.#remote})` : this.#remote;
  }

  #onHello(hello: Extract<Envelope, { kind: 1 }>): HandshakeStep {
    if (hello.magic !== PROTOCOL_MAGIC) return unexpected(hello, this.#remote);
    if (hello.version !== PROTOCOL_VERSION) {
      const reason = `protocol version mismatch: the peer speaks ${hello.version}, this env speaks ${PROTOCOL_VERSION}`;
      return {
        state: 'failed',
        error: new ProtocolVersionError(`${hello.env} (from ${this.#remote}): ${reason}`),
        send: refused(VERSION, `${reason}; run the same Flint version on every node`),
      };
    }
    if (roleOf(hello.principal) === undefined) {
      return {
        state: 'failed',
        error: new RpcConnectionError(`${this.#remote} claimed a malformed principal`),
        send: refused('FLINT_RPC_CONNECTION', 'malformed principal: expected daemon, app, driver:<id> or executor:<appId>'),
      };
    }
    this.#hello = hello;
    if (this.#keyring === undefined) return this.#done(hello);
    this.#key = this.#keyring(hello.principal);
    if (this.#key === undefined) {
      return {
        state: 'failed',
        error: new AuthenticationError(`${this.#who()} was refused: this env does not take the principal ${hello.principal}`),
        send: refused(AUTH, `this env does not take connections from ${hello.principal}`),
      };
    }
    const proof = computeProof(this.#key, 'server', PROTOCOL_VERSION, this.#env, this.#nonce, hello.nonce, hello.principal);
    return { state: 'continue', send: { kind: Kind.CHALLENGE, env: this.#env, nonce: this.#nonce, proof } };
  }
}

function unexpected(envelope: Envelope, peer: string): HandshakeStep {
  return {
    state: 'failed',
    error: new RpcConnectionError(`${peer} broke the handshake: unexpected frame of kind ${envelope.kind}`),
    send: refused('FLINT_RPC_CONNECTION', 'handshake protocol violation'),
  };
}
