// One fuzz input, drawn from its own seeded stream (rng.ts): input #i of seed S is always the same.
//
//   structured  one frame sent over an authenticated connection (the fuzzer holds the secret): an envelope
//               of docs/rpc.md carrying a catalog message with 1–3 mutated fields, sometimes to the wrong
//               endpoint or from another role's family, sometimes a broken envelope (kind, askId, arity)
//   raw         bytes on a fresh, unauthenticated connection: random bytes, lying or oversized length
//               prefixes, truncated frames, messages before the handshake, broken HELLOs and PROOFs
//
// `fatal` says the daemon is expected to close the connection after it (docs/rpc.md "Validation at the edge").

import { encodeFrame } from '../../src/rpc/frame-decoder.ts';
import { Kind, PROTOCOL_MAGIC, PROTOCOL_VERSION } from '../../src/rpc/wire.ts';
import { MASTER_FAMILIES, OTHER_FAMILIES, WORKER_FAMILIES, valueFor, type Family } from './catalog-values.ts';
import { encodeMsgpack } from './msgpack-raw.ts';
import { edgeValue, mutate } from './mutate.ts';
import { FuzzRng } from './rng.ts';

export type Target = 'master' | 'worker';

export interface StructuredInput {
  readonly kind: 'structured';
  readonly target: Target;
  /** One whole frame (length prefix included). */
  readonly frame: Buffer;
  readonly fatal: boolean;
  /** The message type the body started from, for the report. */
  readonly type: string;
}

export interface RawInput {
  readonly kind: 'raw';
  readonly target: Target;
  readonly bytes: Buffer;
  readonly what: string;
}

export type FuzzInput = StructuredInput | RawInput;

const ENDPOINT: Record<Target, string> = { master: 'Master', worker: 'Worker' };
const OWN: Record<Target, readonly Family[]> = { master: MASTER_FAMILIES, worker: WORKER_FAMILIES };
const WRONG_ENDPOINTS = ['Master', 'Worker', 'CoarseGrainedScheduler', 'Executor', 'AppClient', '', 'master', '\u0000', 'W'.repeat(70_000)];

/** The share of raw inputs (fresh unauthenticated connections); the rest are structured. */
export const RAW_SHARE = 0.15;

export function generateInput(seed: number, index: number): FuzzInput {
  const rng = new FuzzRng(seed, index);
  const target: Target = rng.chance(0.5) ? 'master' : 'worker';
  return rng.chance(RAW_SHARE) ? rawInput(rng, target) : structuredInput(rng, target);
}

function structuredInput(rng: FuzzRng, target: Target): StructuredInput {
  const families = rng.chance(0.75) ? OWN[target] : [...OWN[target === 'master' ? 'worker' : 'master'], ...OTHER_FAMILIES];
  const schema = rng.pick(rng.pick(families).schemas);
  const type = String((schema['properties'] as { type: { const: string } }).type.const);
  const { value: body, fatal: bodyFatal } = mutate(valueFor(schema, rng) as Record<string, unknown>, rng);
  const endpoint = rng.chance(0.85) ? ENDPOINT[target] : rng.pick(WRONG_ENDPOINTS);
  const ctx = { fatal: bodyFatal };
  const roll = rng.int(100);
  let envelope: unknown[];
  let fatal = bodyFatal;
  if (roll < 58) envelope = [Kind.SEND, endpoint, body];
  else if (roll < 83) {
    const askId = rng.chance(0.97) ? rng.int(2 ** 31) : edgeValue(rng, ctx);
    fatal ||= !(typeof askId === 'number' && Number.isSafeInteger(askId) && askId >= 0);
    envelope = [Kind.ASK, askId, endpoint, body];
  } else if (roll < 86) {
    const name = rng.chance(0.5) ? endpoint : edgeValue(rng, ctx);
    fatal ||= typeof name !== 'string';
    envelope = [Kind.VERIFY, rng.int(2 ** 31), name];
  }
  else if (roll < 89) envelope = [Kind.REPLY, rng.int(2 ** 31), body];
  else if (roll < 95) envelope = [Kind.FAILURE, rng.int(2 ** 31), 'FLINT_X', String(type), null];
  else {
    // Broken envelopes and handshake frames after the handshake: the connection ends.
    fatal = true;
    envelope = rng.pick<unknown[]>([
      [Kind.HELLO, PROTOCOL_MAGIC, PROTOCOL_VERSION, 'flint+client://again', rng.bytes(32), true],
      [Kind.PROOF, rng.bytes(32)],
      [Kind.WELCOME, 'x'],
      [Kind.BYE],
      [Kind.SEND, endpoint],
      [Kind.SEND, endpoint, body, body],
      [Kind.ASK, -1, endpoint, body],
      [edgeValue(rng, ctx), endpoint, body],
      [rng.pick([0, 6, 9, 16, 255, 2 ** 53]), endpoint, body],
      [{ kind: Kind.SEND, endpoint, body }],
      [body],
    ]);
    if (rng.chance(0.2)) envelope = envelope[0] as unknown[]; // not an array at all (a map, a message)
  }
  return { kind: 'structured', target, frame: encodeFrame(encodeMsgpack(envelope)), fatal: fatal || ctx.fatal, type };
}

function header(n: number): Buffer {
  const b = Buffer.allocUnsafe(4);
  b.writeUInt32BE(n >>> 0, 0);
  return b;
}

function hello(rng: FuzzRng, mutated: boolean): Buffer {
  const fields: unknown[] = [Kind.HELLO, PROTOCOL_MAGIC, PROTOCOL_VERSION, `flint+client://raw${rng.int(1e6)}`, rng.bytes(32), true];
  if (mutated) fields[rng.between(1, 5)] = edgeValue(rng, { fatal: false });
  return encodeFrame(encodeMsgpack(fields));
}

function rawInput(rng: FuzzRng, target: Target): RawInput {
  const bytes = (what: string, ...parts: Buffer[]): RawInput => ({ kind: 'raw', target, bytes: Buffer.concat(parts), what });
  const someMessage = (): unknown => mutate(valueFor(rng.pick(rng.pick(OWN[target]).schemas), rng) as Record<string, unknown>, rng).value;
  switch (rng.int(11)) {
    case 0:
      return bytes('random bytes', rng.bytes(rng.between(1, 2048)));
    case 1:
      return bytes('oversized length prefix', header(rng.pick([0xffffffff, 128 * 1024 * 1024 + 1, 2 ** 31])), rng.bytes(rng.int(64)));
    case 2:
      // A prefix the limit allows (up to flint.rpc.message.maxSize) and a body that never comes.
      return bytes('large declared frame, body never sent', header(rng.pick([128 * 1024 * 1024, 64 * 1024 * 1024, 1024 * 1024, 70_000])), rng.bytes(rng.int(1024)));
    case 3: {
      const frame = hello(rng, false);
      return bytes('truncated HELLO', frame.subarray(0, rng.between(1, frame.length - 1)));
    }
    case 4:
      return bytes('frame of msgpack garbage', encodeFrame(rng.bytes(rng.between(0, 512))));
    case 5:
      return bytes('message before the handshake', encodeFrame(encodeMsgpack([Kind.SEND, ENDPOINT[target], someMessage()])));
    case 6:
      return bytes('ask before the handshake', encodeFrame(encodeMsgpack([Kind.ASK, rng.int(100), ENDPOINT[target], someMessage()])));
    case 7:
      return bytes('mutated HELLO', hello(rng, true));
    case 8:
      return bytes('HELLO then a wrong PROOF', hello(rng, false), encodeFrame(encodeMsgpack([Kind.PROOF, rng.bytes(rng.pick([0, 31, 32, 33, 1000]))])));
    case 9:
      return bytes('HELLO then a message before WELCOME', hello(rng, false), encodeFrame(encodeMsgpack([Kind.SEND, ENDPOINT[target], someMessage()])));
    default:
      return bytes('empty frames', Buffer.alloc(4 * rng.between(1, 64)));
  }
}
