// Mutators: take a valid message and break it the ways a hostile or buggy peer would. Numbers at the edges
// (0, −1, 2^53, 1e300, NaN, ±Infinity, −0, 2^64 as a uint64), strings that are empty, over the schema's
// maxLength, megabytes long or not valid UTF-16, deep nesting built as raw bytes, maps with non-string keys,
// msgpack ext values, `__proto__` keys, unknown and foreign `type`s, missing and extra fields.
//
// A mutation marks the input `fatal` when it makes the frame undecodable (a msgpack header that lies about
// its length): the daemon then closes the connection, as docs/rpc.md says it must.

import { ALL_TYPES } from './catalog-values.ts';
import { Entries, Raw } from './msgpack-raw.ts';
import type { FuzzRng } from './rng.ts';

/** What a mutation produced, and whether the frame it goes in is meant to end the connection. */
export interface Mutated {
  value: unknown;
  fatal: boolean;
}

/** Nesting `depth` arrays (or maps) deep, as bytes: no encoder's depth limit applies. */
export function deepNesting(depth: number, maps: boolean): Raw {
  const open = maps ? Buffer.from([0x81, 0xa1, 0x6b]) : Buffer.of(0x91); // {"k": …} or [ … ]
  const bytes = Buffer.allocUnsafe(open.length * depth + 1);
  for (let i = 0; i < depth; i++) open.copy(bytes, i * open.length);
  bytes[bytes.length - 1] = 0xc0;
  return new Raw(bytes);
}

const NUMBERS: readonly unknown[] = [
  0,
  -1,
  1,
  2 ** 53,
  2 ** 53 + 2,
  -(2 ** 53),
  1e300,
  -1e300,
  Number.NaN,
  Number.POSITIVE_INFINITY,
  Number.NEGATIVE_INFINITY,
  0.5,
  -0,
  2 ** 31,
  2 ** 32,
  65536,
  2n ** 64n - 1n,
  -(2n ** 63n),
  Number.MIN_VALUE,
];

/** A hostile value of any kind; `fatal` is set on the context when it is undecodable on purpose. */
export function edgeValue(rng: FuzzRng, ctx: { fatal: boolean }): unknown {
  const roll = rng.int(1000);
  if (roll < 450) return rng.pick(NUMBERS);
  if (roll < 550) return rng.pick(STRINGS);
  if (roll < 630) return 'x'.repeat(rng.pick([256, 513, 1025, 4097, 65_537]));
  if (roll < 631) return 'y'.repeat(rng.between(200, 2048) * 1024); // up to 2 MiB, rarely
  if (roll < 700) return rng.pick([null, true, false, [], {}]);
  if (roll < 750) return deepNesting(rng.pick([64, 1_000, 10_000]), rng.chance(0.3));
  if (roll < 752) return deepNesting(100_000, rng.chance(0.3));
  if (roll < 770) return new Raw(Buffer.concat([Buffer.of(0xdd), u32(10_000), Buffer.alloc(10_000, 0xc0)])); // 10k nils
  if (roll < 810) {
    const key = rng.pick([1, -1, 2 ** 53, 0.5, null, true, [1]]);
    if (typeof key !== 'number') ctx.fatal = true; // @msgpack/msgpack takes string and number keys only
    return new Entries([[key, 'v'], ['k', 1]]);
  }
  if (roll < 850) return new Raw(rng.pick(EXTS));
  if (roll < 890) return rng.bytes(rng.int(1024));
  if (roll < 900) {
    ctx.fatal = true; // @msgpack/msgpack refuses a __proto__ key: the frame is undecodable
    return new Entries([['__proto__', { polluted: true }], ['constructor', { prototype: { x: 1 } }]]);
  }
  if (roll < 970) return { type: rng.pick(ALL_TYPES), nested: rng.pick(NUMBERS) }; // a message inside a message
  ctx.fatal = true;
  // A header that promises more than the frame holds, or a reserved byte (0xc1): undecodable.
  return new Raw(rng.pick(LIARS));
}

const STRINGS = ['', ' ', '\u0000', '\ud800', '__proto__', 'constructor', 'flint://', 'flint://x@127.0.0.1:0', 'flint+client://x@y', '../../../../etc/passwd', '%s%n{{EXECUTOR_ID}}'];
/** msgpack ext values: timestamps (which the decoder turns into Dates) and an unknown ext type. */
const EXTS = [Buffer.from('d6ff00000000', 'hex'), Buffer.from('d7ff0000000000000000', 'hex'), Buffer.from('d40501', 'hex'), Buffer.from('c7030b010203', 'hex')];
const LIARS = [Buffer.of(0xc1), Buffer.from('dbffffffff', 'hex'), Buffer.from('ddffffffff', 'hex'), Buffer.from('dfffffffff', 'hex'), Buffer.of(0xd9)];

function u32(n: number): Buffer {
  const b = Buffer.allocUnsafe(4);
  b.writeUInt32BE(n, 0);
  return b;
}

type Slot = { readonly parent: Record<string, unknown> | unknown[]; readonly key: string | number };

/** Every place inside `value` a mutation can hit (not the root). */
function slots(value: unknown, out: Slot[] = []): Slot[] {
  if (Array.isArray(value)) {
    value.forEach((item, i) => {
      out.push({ parent: value, key: i });
      slots(item, out);
    });
  } else if (typeof value === 'object' && value !== null && !(value instanceof Uint8Array) && !(value instanceof Raw) && !(value instanceof Entries)) {
    for (const [key, item] of Object.entries(value)) {
      out.push({ parent: value as Record<string, unknown>, key });
      slots(item, out);
    }
  }
  return out;
}

/** `parent[key] = value` as an own property, even for `__proto__` (which would otherwise set the prototype). */
function setOwn(parent: object, key: string | number, value: unknown): void {
  Object.defineProperty(parent, key, { value, enumerable: true, writable: true, configurable: true });
}

function mutateOnce(body: Record<string, unknown>, rng: FuzzRng, ctx: { fatal: boolean }): unknown {
  const roll = rng.int(100);
  const places = slots(body).filter((s) => !(s.parent === body && s.key === 'type'));
  if (roll < 60 && places.length > 0) {
    const { parent, key } = rng.pick(places);
    setOwn(parent, key, edgeValue(rng, ctx));
    return body;
  }
  if (roll < 70 && places.length > 0) {
    const { parent, key } = rng.pick(places);
    if (Array.isArray(parent)) parent.splice(key as number, 1);
    else delete parent[key as string];
    return body;
  }
  if (roll < 78) {
    const key = rng.pick(['extra', 'x', '', 'type ', 'TYPE', '__proto__', 'constructor', 'id'.repeat(3)]);
    if (key === '__proto__') ctx.fatal = true;
    setOwn(body, key, edgeValue(rng, ctx));
    return body;
  }
  if (roll < 90) {
    body['type'] = rng.chance(0.5) ? rng.pick(ALL_TYPES) : edgeValue(rng, ctx);
    return body;
  }
  if (roll < 94) delete body['type'];
  else return edgeValue(rng, ctx); // the whole body replaced: not an object at all
  return body;
}

/** 1 to 3 mutations of a valid message `body` (mutated in place and returned). */
export function mutate(body: Record<string, unknown>, rng: FuzzRng): Mutated {
  const ctx = { fatal: false };
  let value: unknown = body;
  const n = rng.chance(0.7) ? 1 : rng.between(2, 3);
  for (let i = 0; i < n && typeof value === 'object' && value !== null && !Array.isArray(value) && !(value instanceof Raw) && !(value instanceof Entries) && !(value instanceof Uint8Array); i++) {
    value = mutateOnce(value as Record<string, unknown>, rng, ctx);
  }
  return { value, fatal: ctx.fatal };
}
