// Mutual HMAC-SHA256 challenge-response over the handshake (no home-made crypto: node:crypto only).
//
// Each side sends a fresh 32-byte nonce. The server proves it knows the secret first (so a client never
// answers a challenge from an impostor), then the client. Each proof binds the role, the protocol version,
// the prover's env id and both nonces, so a proof cannot be replayed on another connection or reflected
// back. Comparisons are constant-time. The secret itself never leaves this module.

import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

export const NONCE_BYTES = 32;

export function newNonce(): Uint8Array {
  return randomBytes(NONCE_BYTES);
}

export function computeProof(
  secret: string,
  role: 'server' | 'client',
  version: number,
  proverEnv: string,
  ownNonce: Uint8Array,
  peerNonce: Uint8Array,
): Uint8Array {
  return createHmac('sha256', secret)
    .update(`flint-${role}-proof\0${version}\0${proverEnv}\0`)
    .update(ownNonce)
    .update(peerNonce)
    .digest();
}

export function proofMatches(expected: Uint8Array, actual: Uint8Array): boolean {
  return expected.length === actual.length && timingSafeEqual(expected, actual);
}
