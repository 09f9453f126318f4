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
// src/util/msgpack.ts writes and reads the msgpack. `decodeEnvelope` checks the shape of the envelope only. The
// body is checked against the receiving endpoint's catalog by the env. A frame that is not a well-formed envelope
// closes the connection.

import { FRAME_HEADER_BYTES } from './frame-decoder.ts';
import { decodeMsgpack, encodeMsgpack } from '../util/msgpack.ts';

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

/** The envelope's msgpack body (frame-decoder.ts adds the length in front). */
export function encodeEnvelopeBody(envelope: Envelope): Buffer {
  return encodeMsgpack(toArray(envelope));
}

/** The envelope as a whole frame: its length, then its body, written once (connection.ts sends these). */
export function encodeEnvelopeFrame(envelope: Envelope): Buffer {
  const frame = encodeMsgpack(toArray(envelope), FRAME_HEADER_BYTES);
  frame.writeUInt32BE(frame.length - FRAME_HEADER_BYTES, 0);
  return frame;
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
    a = decodeMsgpack(body);
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
