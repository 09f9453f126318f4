// Envelopes: every kind round-trips through encodeEnvelopeBody / decodeEnvelope, and decodeEnvelope turns
// any byte string that is not a well-formed envelope into `{ ok: false, reason }` without throwing.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { decode, encode } from '@msgpack/msgpack';
import fc from 'fast-check';
import { Kind, PROTOCOL_MAGIC, PROTOCOL_VERSION, decodeEnvelope, encodeEnvelopeBody, type Envelope } from '../../../src/rpc/wire.ts';

/** The body in a plain Uint8Array (encodeEnvelopeBody gives a Buffer): bin fields decode as Uint8Arrays from it. */
function encoded(envelope: Envelope): Uint8Array {
  return new Uint8Array(encodeEnvelopeBody(envelope));
}

function roundTrip(envelope: Envelope): Envelope {
  const result = decodeEnvelope(encoded(envelope));
  assert.equal(result.ok, true, result.ok ? '' : result.reason);
  return (result as { ok: true; envelope: Envelope }).envelope;
}

function rejects(bytes: Uint8Array, reasonPattern?: RegExp): string {
  let result: ReturnType<typeof decodeEnvelope> | undefined;
  assert.doesNotThrow(() => {
    result = decodeEnvelope(bytes);
  });
  assert.ok(result !== undefined);
  assert.equal(result.ok, false, `expected a rejection of ${Buffer.from(bytes).toString('hex')}`);
  const reason = (result as { ok: false; reason: string }).reason;
  assert.equal(typeof reason, 'string');
  assert.ok(reason.length > 0);
  if (reasonPattern) assert.match(reason, reasonPattern);
  return reason;
}

// Values msgpack carries unchanged (no -0, which msgpack writes as the integer 0; no `__proto__` keys).
const bodyValue: fc.Arbitrary<unknown> = fc.letrec<{ value: unknown }>((tie) => ({
  value: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.constant(null),
    fc.boolean(),
    fc.integer(),
    fc.maxSafeInteger(),
    fc.double({ noNaN: true }).map((d) => (Object.is(d, -0) ? 0 : d)),
    fc.string({ unit: 'grapheme', maxLength: 20 }),
    fc.uint8Array({ maxLength: 20 }),
    fc.array(tie('value'), { maxLength: 4 }),
    fc.dictionary(
      fc.string({ maxLength: 8 }).filter((k) => k !== '__proto__'),
      tie('value'),
      { maxKeys: 4, noNullPrototype: true },
    ),
  ),
})).value;

const text = fc.string({ unit: 'grapheme', maxLength: 30 });
const bytes = fc.uint8Array({ maxLength: 40 });
const askId = fc.maxSafeNat();

const anyEnvelope: fc.Arbitrary<Envelope> = fc.oneof(
  fc.record({ magic: text, version: fc.integer(), env: text, nonce: bytes, wantsAuth: fc.boolean(), principal: text }).map(
    (r): Envelope => ({ kind: Kind.HELLO, ...r }),
  ),
  fc.record({ env: text, nonce: bytes, proof: bytes }).map((r): Envelope => ({ kind: Kind.CHALLENGE, ...r })),
  fc.record({ proof: bytes }).map((r): Envelope => ({ kind: Kind.PROOF, ...r })),
  fc.record({ env: text }).map((r): Envelope => ({ kind: Kind.WELCOME, ...r })),
  fc.record({ code: text, reason: text }).map((r): Envelope => ({ kind: Kind.REFUSED, ...r })),
  fc.record({ endpoint: text, body: bodyValue }).map((r): Envelope => ({ kind: Kind.SEND, ...r })),
  fc.record({ askId, endpoint: text, body: bodyValue }).map((r): Envelope => ({ kind: Kind.ASK, ...r })),
  fc.record({ askId, body: bodyValue }).map((r): Envelope => ({ kind: Kind.REPLY, ...r })),
  fc.record({ askId, code: text, message: text, stack: fc.option(text, { nil: null }) }).map(
    (r): Envelope => ({ kind: Kind.FAILURE, ...r }),
  ),
  fc.record({ askId, endpoint: text }).map((r): Envelope => ({ kind: Kind.VERIFY, ...r })),
  fc.constant<Envelope>({ kind: Kind.BYE }),
);

const nonce = new Uint8Array(32).fill(7);

/** One hand-written example of every kind. */
const examples: Envelope[] = [
  { kind: Kind.HELLO, magic: PROTOCOL_MAGIC, version: PROTOCOL_VERSION, env: 'flint://127.0.0.1:7077', nonce, wantsAuth: true, principal: 'daemon' },
  { kind: Kind.CHALLENGE, env: 'flint://10.0.0.1:7077', nonce, proof: new Uint8Array(32).fill(1) },
  { kind: Kind.PROOF, proof: new Uint8Array([1, 2, 3]) },
  { kind: Kind.WELCOME, env: 'flint://[::1]:7077' },
  { kind: Kind.REFUSED, code: 'FLINT_RPC_AUTH_FAILED', reason: 'no' },
  { kind: Kind.SEND, endpoint: 'Master', body: { type: 'Heartbeat', workerId: 'w-1', at: [1, 2.5, 'x', null, true] } },
  { kind: Kind.ASK, askId: 0, endpoint: 'Master', body: { type: 'RequestState' } },
  { kind: Kind.ASK, askId: Number.MAX_SAFE_INTEGER, endpoint: 'M', body: null },
  { kind: Kind.REPLY, askId: 12, body: { type: 'State', workers: [] } },
  { kind: Kind.FAILURE, askId: 3, code: 'FLINT_REMOTE_HANDLER_ERROR', message: 'boom', stack: 'Error: boom\n    at x' },
  { kind: Kind.FAILURE, askId: 4, code: 'FLINT_RPC_STOPPED', message: 'stopped', stack: null },
  { kind: Kind.VERIFY, askId: 9, endpoint: 'Worker' },
  { kind: Kind.BYE },
];

describe('wire: round trip', () => {
  test('every envelope kind has an example here', () => {
    const covered = new Set(examples.map((e) => e.kind));
    assert.deepEqual([...covered].sort((a, b) => a - b), Object.values(Kind).sort((a, b) => a - b));
  });

  for (const [i, envelope] of examples.entries()) {
    const kindName = Object.entries(Kind).find(([, k]) => k === envelope.kind)?.[0];
    test(`example ${i}: kind ${envelope.kind} (${kindName}) decodes to what was encoded`, () => {
      assert.deepStrictEqual(roundTrip(envelope), envelope);
      assert.equal(encoded(envelope)[1], envelope.kind, 'the kind is the first array element');
    });
  }

  test('random envelopes of every kind round-trip', () => {
    fc.assert(
      fc.property(anyEnvelope, (envelope) => {
        assert.deepStrictEqual(roundTrip(envelope), envelope);
      }),
      { numRuns: 500 },
    );
  });

  test('the body is a msgpack array [kind, ...fields] as documented', () => {
    assert.deepEqual([...encoded({ kind: Kind.BYE })], [...encode([15])]);
    assert.deepEqual([...encoded({ kind: Kind.VERIFY, askId: 9, endpoint: 'W' })], [...encode([14, 9, 'W'])]);
    assert.deepEqual([...encoded(examples[0] as Envelope)], [...encode([1, 'flint', PROTOCOL_VERSION, 'flint://127.0.0.1:7077', nonce, true, 'daemon'])]);
  });
});

describe('wire: rejection without throwing', () => {
  test('random bytes never throw; anything accepted is of a known kind, anything refused has a reason', () => {
    const kinds = new Set<number>(Object.values(Kind));
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), (raw) => {
        let result: ReturnType<typeof decodeEnvelope> | undefined;
        assert.doesNotThrow(() => {
          result = decodeEnvelope(raw);
        });
        assert.ok(result !== undefined);
        if (result.ok) {
          assert.ok(kinds.has(result.envelope.kind));
        } else {
          assert.ok(result.reason.length > 0);
        }
      }),
      { numRuns: 2000 },
    );
  });

  test('random bytes that do not start with a msgpack array header are always rejected', () => {
    const isArrayHeader = (b: number): boolean => (b >= 0x90 && b <= 0x9f) || b === 0xdc || b === 0xdd;
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 255 }).filter((b) => !isArrayHeader(b)),
        fc.uint8Array({ maxLength: 64 }),
        (first, rest) => {
          rejects(Uint8Array.from([first, ...rest]));
        },
      ),
      { numRuns: 1000 },
    );
  });

  test('garbage msgpack: reserved byte, empty input, truncated array, trailing bytes', () => {
    rejects(Uint8Array.from([0xc1]), /undecodable msgpack/);
    rejects(new Uint8Array(0), /undecodable msgpack/);
    rejects(Uint8Array.from([0x93, 0x0a]), /undecodable msgpack/); // [10, <missing>, <missing>]
    rejects(Uint8Array.from([0x91, 0x0f, 0x00]), /undecodable msgpack/); // BYE followed by a stray byte
    rejects(Uint8Array.from([0xdd, 0xff, 0xff, 0xff, 0xff]), /undecodable msgpack/); // array of 4 G items, no data
  });

  test('msgpack values that are not arrays', () => {
    for (const value of [{ kind: 10, endpoint: 'M', body: 1 }, 'hello', 10, null, true, new Uint8Array([1]), []]) {
      rejects(encode(value), /not a Flint envelope/);
    }
  });

  test('wrong arity, for every kind', () => {
    for (const envelope of examples) {
      const arr = decodeArray(encoded(envelope));
      rejects(encode([...arr, 'extra']), new RegExp(`malformed envelope of kind ${envelope.kind}`));
      // A HELLO without its principal is a version 1 HELLO: decoded, so the handshake can name both versions.
      const shorter = envelope.kind === Kind.HELLO ? arr.slice(0, -2) : arr.slice(0, -1);
      if (arr.length > 1) rejects(encode(shorter), new RegExp(`malformed envelope of kind ${envelope.kind}`));
    }
  });

  test("a version 1 HELLO (six elements) decodes with an empty principal, so the version check can answer it", () => {
    const result = decodeEnvelope(encode([1, 'flint', 1, 'flint://127.0.0.1:7077', nonce, false]));
    assert.ok(result.ok);
    assert.deepEqual(result.envelope, { kind: Kind.HELLO, magic: 'flint', version: 1, env: 'flint://127.0.0.1:7077', nonce, wantsAuth: false, principal: '' });
  });

  test('wrong field types', () => {
    const bad: unknown[][] = [
      [1, 1, 1, 'env', nonce, true], // magic not a string
      [1, 'flint', '1', 'env', nonce, true], // version not a number
      [1, 'flint', 1, 7, nonce, true], // env not a string
      [1, 'flint', 1, 'env', 'nonce', true], // nonce not bytes
      [1, 'flint', 1, 'env', nonce, 1], // wantsAuth not a boolean
      [2, 'env', nonce, 'proof'], // proof not bytes
      [2, 'env', [1, 2], nonce], // nonce an array, not bytes
      [3, 'proof'],
      [4, null],
      [5, 'CODE', 5],
      [10, 42, {}], // endpoint not a string
      [11, 'id', 'M', {}], // askId not a number
      [11, -1, 'M', {}], // askId negative
      [11, 1.5, 'M', {}], // askId not whole
      [11, 2 ** 53, 'M', {}], // askId beyond safe integers
      [11, 1, ['M'], {}], // endpoint not a string
      [12, null, 'x'],
      [13, 1, 2, 'message', null], // code not a string
      [13, 1, 'CODE', null, null], // message not a string
      [13, 1, 'CODE', 'message', 5], // stack neither string nor null
      [14, 1, true],
    ];
    for (const arr of bad) rejects(encode(arr), new RegExp(`malformed envelope of kind ${String(arr[0])}`));
  });

  test('unknown or ill-typed kinds', () => {
    for (const arr of [[0], [6, 'x'], [9, 'M', {}], [16], [99, 1, 2], [-1], [2 ** 32, 1]]) {
      rejects(encode(arr), /malformed envelope of kind|not a Flint envelope/);
    }
    for (const arr of [['10', 'M', {}], [null], [1.5, 'x'], [true], [[10], 'M', {}]]) {
      rejects(encode(arr), /not a Flint envelope/);
    }
  });

  test('a map with a __proto__ key is rejected, at the top level and as a message body, and pollutes nothing', () => {
    const hostile = JSON.parse('{"__proto__": {"polluted": "yes"}, "type": "Ping"}') as Record<string, unknown>;
    assert.ok(Object.keys(hostile).includes('__proto__'), 'the test value has an own __proto__ key');
    const top = encode(hostile);
    const asBody = encode([Kind.SEND, 'Master', hostile]);
    const inReply = encode([Kind.REPLY, 1, [1, { nested: hostile }]]);
    for (const raw of [top, asBody, inReply]) rejects(raw);
    rejects(asBody, /__proto__/);
    assert.equal(({} as Record<string, unknown>)['polluted'], undefined);
    assert.equal(Object.prototype.hasOwnProperty.call(Object.prototype, 'polluted'), false);
  });
});

function decodeArray(raw: Uint8Array): unknown[] {
  const result = decodeEnvelope(raw);
  assert.equal(result.ok, true);
  // Rebuild the array form from the envelope, in the documented field order.
  const e = (result as { ok: true; envelope: Envelope }).envelope;
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
  }
}

// Strings are written and read by a loop when short and ASCII, by Node or by msgpack's own algorithm otherwise, and
// map keys go through a cache (msgpack.ts): every way must give the same strings.
describe('strings in frames that are Buffers', () => {
  const sendOf = (body: unknown): Envelope => ({ kind: Kind.SEND, endpoint: 'Endpoint', body });
  const decodedBody = (bytes: Uint8Array): unknown => {
    const result = decodeEnvelope(bytes);
    assert.equal(result.ok, true, result.ok ? '' : result.reason);
    return ((result as { ok: true; envelope: Envelope }).envelope as { body: unknown }).body;
  };

  test('any string, as a value and as a key, decodes the same from a Buffer and from a Uint8Array', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 300 }), fc.string({ unit: 'grapheme', maxLength: 40 }), (value, key) => {
        const body = { type: 'Text', value, nested: { [`k-${key}`]: [value, key] } };
        const bytes = encoded(sendOf(body));
        assert.deepEqual(decodedBody(Buffer.from(bytes)), body);
        assert.deepEqual(decodedBody(bytes), body);
      }),
      { numRuns: 500 },
    );
  });

  test('strings on either side of 16 and 200 bytes, in ASCII and in multi-byte UTF-8, as values and keys', () => {
    for (const length of [0, 1, 15, 16, 17, 63, 64, 199, 200, 201, 4_000]) {
      for (const unit of ['x', 'é', '€', '😀']) {
        const text = unit.repeat(Math.ceil(length / Buffer.byteLength(unit))).slice(0, length);
        const body = { type: 'Text', text, [text]: text };
        assert.deepEqual(decodedBody(Buffer.from(encoded(sendOf(body)))), body, `${length} bytes of ${unit}`);
      }
    }
  });

  test('a string inside a Buffer that starts partway into its ArrayBuffer decodes from its own offset', () => {
    const text = 'a string of more than sixteen bytes';
    const bytes = encoded(sendOf({ type: 'Text', text }));
    const pool = Buffer.alloc(bytes.length + 100, 0x41);
    pool.set(bytes, 37);
    assert.deepEqual(decodedBody(pool.subarray(37, 37 + bytes.length)), { type: 'Text', text });
  });

  test('invalid UTF-8 reads as msgpack reads it (U+FFFD past 200 bytes); a string cut short is a rejected frame, not a throw', () => {
    const text = 'abcdefghijklmnopqrstuvwxyz';
    const bytes = Buffer.from(encoded(sendOf({ type: 'Text', text })));
    const at = bytes.indexOf(Buffer.from(text));
    bytes[at + 3] = 0xff;
    // Up to 200 bytes msgpack decodes in JavaScript: a byte that starts no sequence is the character of its value.
    assert.deepEqual(decodedBody(bytes), { type: 'Text', text: `abc\u00ff${text.slice(4)}` });
    assert.deepEqual(decodedBody(bytes), (decode(bytes) as unknown[])[2]);
    const long = 'x'.repeat(300);
    const longBytes = Buffer.from(encoded(sendOf({ type: 'Text', text: long })));
    longBytes[longBytes.indexOf(Buffer.from(long)) + 3] = 0xff;
    assert.deepEqual(decodedBody(longBytes), { type: 'Text', text: `xxx\uFFFD${long.slice(4)}` });
    rejects(bytes.subarray(0, at + 10), /undecodable msgpack/);
  });
});
