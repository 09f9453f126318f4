// The RPC frames' msgpack codec (src/util/msgpack.ts) against @msgpack/msgpack as its oracle: the same bytes for
// every value, each decoding what the other wrote; and the limits the library lacks: a header cannot make the
// decoder allocate more than the bytes that follow, nesting stops at MAX_DEPTH.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { decode as libDecode, encode as libEncode, ExtData } from '@msgpack/msgpack';
import fc from 'fast-check';
import { MAX_DEPTH, MsgpackDecodeError, decodeMsgpack, encodeMsgpack } from '../../../src/util/msgpack.ts';

const libOptions = { ignoreUndefined: true } as const;

/** Values of every kind the codec writes: strings of any UTF-16 units, lone surrogates included. */
const value: fc.Arbitrary<unknown> = fc.letrec<{ value: unknown }>((tie) => ({
  value: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.constant(null),
    fc.constant(undefined),
    fc.boolean(),
    fc.integer(),
    fc.maxSafeInteger(),
    fc.double(),
    fc.float().map(Math.fround),
    fc.constantFrom(2 ** 32, 2 ** 32 - 1, -(2 ** 31), -(2 ** 31) - 1, 2 ** 53, -(2 ** 53), Number.MAX_SAFE_INTEGER, Number.MIN_SAFE_INTEGER),
    fc.string({ unit: 'grapheme', maxLength: 40 }),
    fc.string({ unit: 'binary', maxLength: 300 }),
    fc.string({ unit: 'grapheme-ascii', minLength: 60, maxLength: 70 }),
    fc.string({ unit: fc.integer({ min: 0, max: 0xffff }).map((c) => String.fromCharCode(c)), maxLength: 120 }),
    fc.constantFrom('\ud83d', 'a\udc00b', `${'x'.repeat(49)}\ud800`, `${'x'.repeat(50)}\ud800`, '\ufffd', 'é'.repeat(201)),
    fc.uint8Array({ maxLength: 40 }),
    fc.int32Array({ maxLength: 4 }),
    fc.date({ noInvalidDate: true }),
    fc.array(tie('value'), { maxLength: 5 }),
    fc.dictionary(fc.string({ maxLength: 10 }).filter((k) => k !== '__proto__'), tie('value'), { maxKeys: 5, noNullPrototype: true }),
  ),
})).value;

function decodeError(bytes: Uint8Array): MsgpackDecodeError {
  try {
    decodeMsgpack(bytes);
  } catch (err) {
    assert.ok(err instanceof MsgpackDecodeError, `a MsgpackDecodeError, not ${String(err)}`);
    return err;
  }
  assert.fail('decoded without an error');
}

/** `depth` arrays, each holding the next; the innermost is empty. */
function nestedArrays(depth: number): unknown[] {
  let v: unknown[] = [];
  for (let i = 1; i < depth; i++) v = [v];
  return v;
}

describe('msgpack: the same as @msgpack/msgpack', () => {
  test('any value encodes to the bytes the library writes', () => {
    fc.assert(
      fc.property(value, (v) => {
        assert.deepEqual(encodeMsgpack(v), Buffer.from(libEncode(v, libOptions)));
      }),
      { numRuns: 2_000 },
    );
  });

  test("any value the library writes decodes to what the library reads, and the library reads ours the same", () => {
    fc.assert(
      fc.property(value, (v) => {
        const theirs = Buffer.from(libEncode(v, libOptions));
        assert.deepStrictEqual(decodeMsgpack(theirs), libDecode(theirs));
        const ours = encodeMsgpack(v);
        assert.deepStrictEqual(libDecode(ours), decodeMsgpack(ours));
      }),
      { numRuns: 2_000 },
    );
  });

  test('random bytes: we read a value exactly when the library does, and the same value', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 48 }), (bytes) => {
        let ours: { value: unknown } | undefined;
        let theirs: { value: unknown } | undefined;
        try {
          ours = { value: decodeMsgpack(Buffer.from(bytes)) };
        } catch (err) {
          assert.ok(err instanceof MsgpackDecodeError, String(err));
        }
        try {
          theirs = { value: libDecode(Buffer.from(bytes)) };
        } catch {
          theirs = undefined;
        }
        assert.deepStrictEqual(ours, theirs);
      }),
      { numRuns: 5_000 },
    );
  });

  test('edge values: 64-bit integers both ways, float 32, empty containers, a bin of a Uint8Array stays a Uint8Array', () => {
    for (const n of [2 ** 32, 2 ** 40 + 7, -(2 ** 31) - 1, -(2 ** 40) - 3, Number.MAX_SAFE_INTEGER, Number.MIN_SAFE_INTEGER]) {
      assert.deepEqual(encodeMsgpack(n), Buffer.from(libEncode(n)), String(n));
      assert.equal(decodeMsgpack(encodeMsgpack(n)), n);
    }
    assert.equal(decodeMsgpack(Buffer.from([0xca, 0x3f, 0xc0, 0x00, 0x00])), 1.5);
    assert.deepEqual(decodeMsgpack(Buffer.from([0x92, 0x90, 0x80])), [[], {}]);
    const fromPlain = decodeMsgpack(new Uint8Array(encodeMsgpack({ b: Buffer.from([1, 2]) }))) as { b: Uint8Array };
    assert.equal(Object.getPrototypeOf(fromPlain.b), Uint8Array.prototype);
    const fromBuffer = decodeMsgpack(encodeMsgpack({ b: new Uint8Array([1, 2]) })) as { b: Uint8Array };
    assert.ok(Buffer.isBuffer(fromBuffer.b));
  });

  test('extensions: a Date goes as the timestamp, any other type passes through as ExtData', () => {
    const when = new Date(1_700_000_000_123);
    assert.deepEqual(decodeMsgpack(encodeMsgpack({ when })), { when });
    const ext = new ExtData(42, new Uint8Array([9, 8, 7]));
    const back = decodeMsgpack(encodeMsgpack([ext])) as ExtData[];
    assert.ok(back[0] instanceof ExtData);
    assert.equal(back[0].type, 42);
    assert.deepEqual([...(back[0].data as Uint8Array)], [9, 8, 7]);
    assert.match(decodeError(Buffer.from([0xd4, 0xff, 0x00])).message, /extension of type -1/);
  });

  test('what msgpack cannot hold throws as the library does: a bigint, a function, a symbol, nesting past the limit', () => {
    for (const v of [10n, () => 1, Symbol('s')]) {
      assert.throws(() => libEncode([v]), /Unrecognized object/);
      assert.throws(() => encodeMsgpack([v]), /Unrecognized object/);
    }
    assert.throws(() => libEncode(nestedArrays(MAX_DEPTH + 1)), /Too deep objects in depth 101/);
    assert.throws(() => encodeMsgpack(nestedArrays(MAX_DEPTH + 1)), /Too deep objects in depth 101/);
    assert.deepEqual(encodeMsgpack(nestedArrays(MAX_DEPTH)), Buffer.from(libEncode(nestedArrays(MAX_DEPTH))));
  });
});

describe('msgpack: bounded decoding', () => {
  test('a header claiming more elements than bytes follow is refused before anything is allocated for them', () => {
    // A hundred nested array 32 headers of ten million elements: 504 bytes that made @msgpack/msgpack 3.1 allocate
    // 80 MB a level until the process died.
    const bomb = Buffer.alloc(500);
    for (let i = 0; i < 100; i++) bomb.set([0xdd, 0x00, 0x98, 0x96, 0x80], i * 5);
    const before = process.memoryUsage().heapUsed;
    assert.match(decodeError(bomb).message, /an? array at offset 5 claims 10000000 element\(s\), more than the 495 byte\(s\) left can hold/);
    assert.ok(process.memoryUsage().heapUsed - before < 16 * 1024 * 1024, 'nothing large was allocated');
    assert.match(decodeError(Buffer.from([0xdf, 0x00, 0x00, 0x00, 0x03, 0xa1, 0x61, 0x01, 0xa1])).message, /a map at offset 5 claims 3 element/);
    assert.match(decodeError(Buffer.from([0xc6, 0xff, 0xff, 0xff, 0xff, 0x01])).message, /a bin at offset 5 needs 4294967294 more byte/);
  });

  test(`nesting: ${MAX_DEPTH} levels decode, one more is refused, however the levels are made`, () => {
    assert.deepEqual(decodeMsgpack(encodeMsgpack(nestedArrays(MAX_DEPTH))), nestedArrays(MAX_DEPTH));
    const deeper = Buffer.concat([Buffer.alloc(MAX_DEPTH, 0x91), Buffer.from([0x90])]);
    assert.match(decodeError(deeper).message, new RegExp(`nested deeper than ${MAX_DEPTH} levels`));
    const deepMaps = Buffer.concat([Buffer.from(Array.from({ length: MAX_DEPTH }, () => [0x81, 0xa1, 0x6b]).flat()), Buffer.from([0x01])]);
    assert.match(decodeError(deepMaps).message, /a map at offset \d+ is nested deeper than/);
    const tenThousand = Buffer.alloc(10_000, 0x91);
    assert.match(decodeError(tenThousand).message, /nested deeper than/);
  });

  test('map keys: strings and numbers only, never __proto__; bytes after the value are refused', () => {
    assert.deepEqual(decodeMsgpack(Buffer.from([0x82, 0x01, 0xa1, 0x61, 0xa1, 0x62, 0xc3])), { 1: 'a', b: true });
    assert.match(decodeError(Buffer.from([0x81, 0x90, 0x01])).message, /map key at offset 1 is a object; keys must be strings or numbers/);
    assert.match(decodeError(Buffer.from([0x81, 0xc0, 0x01])).message, /is a nil/);
    const proto = Buffer.concat([Buffer.from([0x81, 0xa9]), Buffer.from('__proto__'), Buffer.from([0x80])]);
    assert.match(decodeError(proto).message, /__proto__ at offset 1 is not allowed/);
    assert.equal(Object.prototype.hasOwnProperty.call(Object.prototype, 'polluted'), false);
    assert.match(decodeError(Buffer.from([0x01, 0x02])).message, /1 byte\(s\) left over after the value, at offset 1 of 2/);
    assert.match(decodeError(Buffer.from([0xc1])).message, /byte 0xc1 at offset 0 is not a msgpack type/);
    assert.match(decodeError(Buffer.alloc(0)).message, /a value at offset 0 needs 1 more byte/);
  });

  test('the key cache gives the right key when different keys share a slot or a length', () => {
    const keys = Array.from({ length: 3_000 }, (_, i) => `k${i.toString(36)}`);
    const object = Object.fromEntries(keys.map((k, i) => [k, i]));
    for (let round = 0; round < 3; round++) assert.deepEqual(decodeMsgpack(encodeMsgpack(object)), object);
    assert.deepEqual(decodeMsgpack(encodeMsgpack({ ab: 1, ba: 2, 'é': 3, 'e\u0301': 4 })), { ab: 1, ba: 2, 'é': 3, 'e\u0301': 4 });
  });
});

describe('msgpack: the writer', () => {
  test('views handed out are never written again, across chunks and values larger than a chunk', () => {
    const kept: Array<{ bytes: Buffer; copy: Buffer }> = [];
    for (let i = 0; i < 2_000; i++) {
      const v = i % 97 === 0 ? { big: 'x'.repeat(40_000 + i) } : { i, text: `value ${i}`.repeat(i % 7) };
      const bytes = encodeMsgpack(v, i % 2 === 0 ? 4 : 0);
      kept.push({ bytes, copy: Buffer.from(bytes) });
    }
    for (const { bytes, copy } of kept) assert.deepEqual(bytes, copy);
  });

  test("a large value's chunk is left to it: the values after it are written elsewhere", () => {
    const large = encodeMsgpack('x'.repeat(100_000));
    const small = encodeMsgpack({ after: 1 });
    assert.notEqual(small.buffer, large.buffer);
    assert.ok(small.buffer.byteLength < 100_000, `a small value's chunk holds ${small.buffer.byteLength} bytes`);
    assert.deepEqual(decodeMsgpack(large), 'x'.repeat(100_000));
  });

  test('reserve leaves bytes in front; a failed encoding leaves the next one whole', () => {
    const framed = encodeMsgpack({ a: [1, 'two'] }, 4);
    assert.deepEqual(framed.subarray(4), encodeMsgpack({ a: [1, 'two'] }));
    assert.throws(() => encodeMsgpack({ a: 'partly written', f: () => 0 }), /Unrecognized object/);
    assert.deepEqual(decodeMsgpack(encodeMsgpack({ after: 'the failure' })), { after: 'the failure' });
  });

  test('a getter that encodes while its object is being encoded gets a writer of its own', () => {
    let inner: Buffer | undefined;
    const object = {
      first: 1,
      get second(): string {
        inner = encodeMsgpack({ nested: 'encoding' });
        return 'two';
      },
    };
    assert.deepEqual(decodeMsgpack(encodeMsgpack(object)), { first: 1, second: 'two' });
    assert.deepEqual(decodeMsgpack(inner as Buffer), { nested: 'encoding' });
  });
});
