// Flint's wire envelopes. Every frame body is one msgpack array whose first element is its kind.
//
//   HELLO      [1, "flint", version, envId, nonce, wantsAuth, principal]  client → server, first frame
//   CHALLENGE  [2, envId, nonce, proof]                         server → client, when auth is on
//   PROOF      [3, proof]                                       client → server
//   WELCOME    [4, envId]                                       server → client: handshake done
//   REFUSED    [5, code, reason]                                either side, then close
//   SEND       [10, endpoint, body]                             one-way message
//   ASK        [11, askId, endpoint, body]                      request; exactly one REPLY or FAILURE follows
//   REPLY      [12, askId, body]
//   FAILURE    [13, askId, code, message, stack]
//   VERIFY     [14, askId, endpoint]                            does the endpoint exist? REPLY true/false
//   BYE        [15]                                             idle close: not a disconnect
//
// `decodeEnvelope` checks the shape of the envelope only. The body is checked against the receiving
// endpoint's catalog by the env. A frame that is not a well-formed envelope closes the connection.

import { Decoder, Encoder } from '@msgpack/msgpack';

export const PROTOCOL_MAGIC = 'flint';
/** Bumped on any incompatible change to the envelopes or the handshake. */
export const PROTOCOL_VERSION = 2;

export const Kind = {
  HELLO: 1,
  CHALLENGE: 2,
  PROOF: 3,
  WELCOME: 4,
  REFUSED: 5,
  SEND: 10,
  ASK: 11,
  REPLY: 12,
  FAILURE: 13,
  VERIFY: 14,
  BYE: 15,
} as const;

export type Envelope =
  | {
      kind: typeof Kind.HELLO;
      magic: string;
      version: number;
      env: string;
      nonce: Uint8Array;
      wantsAuth: boolean;
      /** Who the client speaks for (auth.ts `Principal`); version 1 peers sent none, read as ''. */
      principal: string;
    }
  | { kind: typeof Kind.CHALLENGE; env: string; nonce: Uint8Array; proof: Uint8Array }
  | { kind: typeof Kind.PROOF; proof: Uint8Array }
  | { kind: typeof Kind.WELCOME; env: string }
  | { kind: typeof Kind.REFUSED; code: string; reason: string }
  | { kind: typeof Kind.SEND; endpoint: string; body: unknown }
  | { kind: typeof Kind.ASK; askId: number; endpoint: string; body: unknown }
  | { kind: typeof Kind.REPLY; askId: number; body: unknown }
  | { kind: typeof Kind.FAILURE; askId: number; code: string; message: string; stack: string | null }
  | { kind: typeof Kind.VERIFY; askId: number; endpoint: string }
  | { kind: typeof Kind.BYE };

const encoder = new Encoder({ ignoreUndefined: true });
const decoder = withNativeStrings(new Decoder());

/** The parts of @msgpack/msgpack 3.1's Decoder that `withNativeStrings` uses (private in its typings). */
interface DecoderInternals {
  bytes: Uint8Array;
  pos: number;
  maxStrLength: number;
  decodeUtf8String(byteLength: number, headerOffset: number): string;
  stateIsMapKey(): boolean;
}

/** String values of at least this many bytes are decoded by Node's own UTF-8 decoder (below it, msgpack's is faster). */
const NATIVE_STRING_MIN_BYTES = 16;

/**
 * msgpack decodes a string of up to 200 bytes in JavaScript: it pushes each character into an array, then spreads
 * that into String.fromCharCode. For an ask's 64-byte payload that is about 0.8 µs and most of the 1.4–1.6 KB an
 * ask's decoding allocated on each side (bench:rpc-syscalls, "bytes allocated"). From 16 bytes on, a string value in
 * a Buffer (every frame a socket delivers) is decoded by Buffer's `toString('utf8')`, faster from there and with
 * nothing allocated but the string. Map keys keep msgpack's key cache; shorter strings, frames in a plain
 * Uint8Array and whatever msgpack would refuse (a string longer than what is left) take msgpack's own path.
 * Invalid UTF-8 becomes U+FFFD, as msgpack's TextDecoder path for strings over 200 bytes already makes it.
 */
function withNativeStrings(instance: Decoder): Decoder {
  const self = instance as unknown as DecoderInternals;
  if (typeof self.decodeUtf8String !== 'function' || typeof self.stateIsMapKey !== 'function' || typeof self.maxStrLength !== 'number') {
    throw new Error('@msgpack/msgpack changed its Decoder internals; src/rpc/wire.ts needs updating');
  }
  const library = self.decodeUtf8String;
  self.decodeUtf8String = function decodeUtf8String(this: DecoderInternals, byteLength: number, headerOffset: number): string {
    const { bytes } = this;
    const start = this.pos + headerOffset;
    const end = start + byteLength;
    if (byteLength < NATIVE_STRING_MIN_BYTES || byteLength > this.maxStrLength || end > bytes.byteLength || !(bytes instanceof Buffer) || this.stateIsMapKey()) {
      return library.call(this, byteLength, headerOffset);
    }
    const text = bytes.toString('utf8', start, end);
    this.pos = end;
    return text;
  };
  return instance;
}

export function encodeEnvelopeBody(envelope: Envelope): Uint8Array {
  return encoder.encodeSharedRef(toArray(envelope));
}

function toArray(e: Envelope): unknown[] {
  switch (e.kind) {
    case Kind.HELLO:
      return [e.kind, e.magic, e.version, e.env, e.nonce, e.wantsAuth, e.principal];
    case Kind.CHALLENGE:
      return [e.kind, e.env, e.nonce, e.proof];
    case Kind.PROOF:
      return [e.kind, e.proof];
    case Kind.WELCOME:
      return [e.kind, e.env];
    case Kind.REFUSED:
      return [e.kind, e.code, e.reason];
    case Kind.SEND:
      return [e.kind, e.endpoint, e.body];
    case Kind.ASK:
      return [e.kind, e.askId, e.endpoint, e.body];
    case Kind.REPLY:
      return [e.kind, e.askId, e.body];
    case Kind.FAILURE:
      return [e.kind, e.askId, e.code, e.message, e.stack];
    case Kind.VERIFY:
      return [e.kind, e.askId, e.endpoint];
    case Kind.BYE:
      return [e.kind];
    default: {
      const never: never = e;
      throw new Error(`unknown envelope ${JSON.stringify(never)}`);
    }
  }
}

export type DecodeResult = { ok: true; envelope: Envelope } | { ok: false; reason: string };

const isStr = (v: unknown): v is string => typeof v === 'string';
const isId = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
const isBytes = (v: unknown): v is Uint8Array => v instanceof Uint8Array;

/** Decodes a frame body. Never throws: garbage yields `{ ok: false, reason }`. */
export function decodeEnvelope(body: Uint8Array): DecodeResult {
  let a: unknown;
  try {
    a = decoder.decode(body);
  } catch (err) {
    return { ok: false, reason: `undecodable msgpack (${(err as Error).message})` };
  }
  if (!Array.isArray(a) || !isId(a[0])) return { ok: false, reason: 'a frame is not a Flint envelope' };
  const envelope = fromArray(a);
  return envelope ? { ok: true, envelope } : { ok: false, reason: `malformed envelope of kind ${a[0]}` };
}

function fromArray(a: unknown[]): Envelope | undefined {
  // Indexed, not destructured: destructuring an array walks its iterator, a result object per element.
  const kind = a[0];
  const x = a[1];
  const y = a[2];
  const z = a[3];
  const w = a[4];
  const v = a[5];
  const u = a[6];
  switch (kind) {
    case Kind.HELLO:
      // Version 1 sent six elements: still decoded, so that the version check can name both versions.
      return (a.length === 7 ? isStr(u) : a.length === 6) && isStr(x) && typeof y === 'number' && isStr(z) && isBytes(w) && typeof v === 'boolean'
        ? { kind, magic: x, version: y, env: z, nonce: w, wantsAuth: v, principal: (u as string | undefined) ?? '' }
        : undefined;
    case Kind.CHALLENGE:
      return a.length === 4 && isStr(x) && isBytes(y) && isBytes(z) ? { kind, env: x, nonce: y, proof: z } : undefined;
    case Kind.PROOF:
      return a.length === 2 && isBytes(x) ? { kind, proof: x } : undefined;
    case Kind.WELCOME:
      return a.length === 2 && isStr(x) ? { kind, env: x } : undefined;
    case Kind.REFUSED:
      return a.length === 3 && isStr(x) && isStr(y) ? { kind, code: x, reason: y } : undefined;
    case Kind.SEND:
      return a.length === 3 && isStr(x) ? { kind, endpoint: x, body: y } : undefined;
    case Kind.ASK:
      return a.length === 4 && isId(x) && isStr(y) ? { kind, askId: x, endpoint: y, body: z } : undefined;
    case Kind.REPLY:
      return a.length === 3 && isId(x) ? { kind, askId: x, body: y } : undefined;
    case Kind.FAILURE:
      return a.length === 5 && isId(x) && isStr(y) && isStr(z) && (w === null || isStr(w))
        ? { kind, askId: x, code: y, message: z, stack: w }
        : undefined;
    case Kind.VERIFY:
      return a.length === 3 && isId(x) && isStr(y) ? { kind, askId: x, endpoint: y } : undefined;
    case Kind.BYE:
      return a.length === 1 ? { kind } : undefined;
    default:
      return undefined;
  }
}
