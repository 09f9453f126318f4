// Mutual HMAC-SHA256 challenge-response over the handshake, the keys each principal proves, and sealing a key
// for one holder (no home-made crypto: node:crypto only). The threat model and who may send what are in
// docs/security.md.
//
// Each side sends a fresh 32-byte nonce. The server proves it knows the key first (so a client never answers
// a challenge from an impostor), then the client. Each proof binds the role, the protocol version, the
// principal the client claimed, the prover's env id and both nonces, so a proof cannot be replayed on another
// connection, reflected back, or moved to another principal. Comparisons are constant-time. Keys never leave
// this module's callers' processes: only proofs and sealed boxes cross the wire.

import type { Role } from '../protocol/catalog.ts';
import { createCipheriv, createDecipheriv, createHmac, hkdfSync, randomBytes, randomFillSync, timingSafeEqual } from 'node:crypto';

export const NONCE_BYTES = 32;

/**
 * Who a connection speaks for, proven by the key of that principal (docs/security.md, "Roles"):
 * - `daemon`: masters and workers, with the cluster secret (`flint.authenticate.secret`);
 * - `app`: drivers and `flint submit`, with `flint.authenticate.appSecret` (by default the cluster secret);
 * - `driver:<driverId>`: a cluster-mode driver, with a key its worker derived from the cluster secret;
 * - `executor:<appId>`: an executor of that application, with the key the master derived for the application.
 */
export type Principal = string;
export type { Role };

/** What a dialing env claims and proves. */
export interface Credential {
  readonly principal: Principal;
  readonly key: string;
}

/** What a listening env accepts: the key of each principal it lets in, or undefined to refuse it. */
export type Keyring = (principal: Principal) => string | undefined;

const PRINCIPAL = /^(daemon|app|driver:[\w.-]{1,100}|executor:[\w.-]{1,100})$/;

/** The role of a well-formed principal; undefined for anything else (it is refused). */
export function roleOf(principal: string): Role | undefined {
  if (!PRINCIPAL.test(principal)) return undefined;
  if (principal === 'daemon') return 'daemon';
  return principal.startsWith('executor:') ? 'executor' : 'app';
}

/**
 * The role of the server a client reached with its credential: only daemons hold the cluster secret, only the
 * master takes application credentials, and only the application's driver takes its executors' key.
 */
export function serverRoleFor(clientRole: Role): Role {
  return clientRole === 'executor' ? 'app' : 'daemon';
}

/**
 * The key of `driver:<id>` or `executor:<appId>`, derived from the cluster secret: nothing to store or send.
 * `ui` derives the web UIs' login token (src/io/http/ui-auth.ts `deriveUiToken`), `rest` the REST gateway's
 * bearer tokens (src/io/http/rest-server.ts `deriveRestToken`); neither proves anything on RPC.
 */
export function deriveKey(clusterSecret: string, purpose: 'driver' | 'executor' | 'ui' | 'rest', subject: string): string {
  return createHmac('sha256', clusterSecret).update(`flint-${purpose}-key\0${subject}`).digest('base64url');
}

/**
 * Nonces are cut from a pool of random bytes refilled 1,024 nonces at a time, as Node's own randomUUID keeps a
 * cache: one call into the CSPRNG costs about 6 µs here, a slice 0.15 µs, and a registration storm makes one
 * nonce per connection on each side (docs/benchmarks.md, bench:master). Every slice is copied out and handed
 * out once.
 */
const NONCE_POOL_BYTES = NONCE_BYTES * 1024;
let noncePool: Buffer | undefined;
let noncePoolAt = NONCE_POOL_BYTES;

export function newNonce(): Uint8Array {
  if (noncePoolAt === NONCE_POOL_BYTES) {
    noncePool = randomFillSync(noncePool ?? Buffer.allocUnsafeSlow(NONCE_POOL_BYTES));
    noncePoolAt = 0;
  }
  const nonce = (noncePool as Buffer).subarray(noncePoolAt, noncePoolAt + NONCE_BYTES);
  noncePoolAt += NONCE_BYTES;
  return Buffer.from(nonce); // a copy, as randomBytes gave
}

export function computeProof(
  key: string,
  role: 'server' | 'client',
  version: number,
  proverEnv: string,
  ownNonce: Uint8Array,
  peerNonce: Uint8Array,
  principal = 'daemon',
): Uint8Array {
  return createHmac('sha256', key)
    .update(`flint-${role}-proof\0${version}\0${principal}\0${proverEnv}\0`)
    .update(ownNonce)
    .update(peerNonce)
    .digest();
}

export function proofMatches(expected: Uint8Array, actual: Uint8Array): boolean {
  return expected.length === actual.length && timingSafeEqual(expected, actual);
}

const SEAL_VERSION = 'v1';

function sealKey(key: string, salt: Buffer, context: string): Buffer {
  return Buffer.from(hkdfSync('sha256', key, salt, `flint-seal\0${context}`, 32));
}

/**
 * Encrypts `plaintext` so that only a holder of `key` can read it (AES-256-GCM under a key derived with HKDF
 * from `key`, a random salt and `context`, e.g. the application id). The result is text, safe in a message.
 */
export function seal(key: string, plaintext: string, context: string): string {
  const salt = randomBytes(16);
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', sealKey(key, salt, context), iv);
  const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
  return [SEAL_VERSION, salt, iv, cipher.getAuthTag(), body].map((p) => (typeof p === 'string' ? p : p.toString('base64url'))).join('.');
}

/** Opens what `seal` made with the same key and context; undefined when it was made otherwise or altered. */
export function unseal(key: string, sealed: string, context: string): string | undefined {
  const parts = sealed.split('.');
  if (parts.length !== 5 || parts[0] !== SEAL_VERSION) return undefined;
  const [salt, iv, tag, body] = parts.slice(1).map((p) => Buffer.from(p, 'base64url')) as [Buffer, Buffer, Buffer, Buffer];
  if (salt.length !== 16 || iv.length !== 12 || tag.length !== 16) return undefined;
  try {
    const decipher = createDecipheriv('aes-256-gcm', sealKey(key, salt, context), iv);
    decipher.setAuthTag(tag);
    return Buffer.concat([decipher.update(body), decipher.final()]).toString('utf8');
  } catch {
    return undefined;
  }
}
