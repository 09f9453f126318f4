// The columnar frame body (src/shuffle/columnar-frame.ts): frames of number and string columns decode to exactly
// what the record codec round-trips (-0, NaN, empty strings, non-ASCII, lone surrogates, huge counts, any
// chunking); any other shape falls back to the record codec; damaged bodies fail with FLINT_SHUFFLE_CORRUPT.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { COLUMNAR_TAG, MAX_ARITY, decodeColumnarBody, encodeColumnarBody, pairColumns } from '../../../src/shuffle/columnar-frame.ts';
import { FrameReader, decodeFrameBody, encodeFrame, encodeFrameBody } from '../../../src/shuffle/frames.ts';
import { decodeRecord, encodeRecord } from '../../../src/task/record-codec.ts';
import './arbitraries.ts';

const roundTrip = (records: unknown[]): unknown => decodeRecord(encodeRecord(records));
const isColumnar = (body: Uint8Array): boolean => body[0] === COLUMNAR_TAG;

/** Numbers of every sort: int32, the edges of int32, -0, NaN, ±Infinity, doubles. */
const aNumber = fc.oneof(
  fc.integer(),
  fc.constantFrom(0, -0, NaN, Infinity, -Infinity, 2 ** 31, -(2 ** 31), 2 ** 31 - 1, -(2 ** 31) - 1, 2 ** 53, Number.MIN_VALUE),
  fc.double(),
);
/** Strings of every sort: empty, ASCII, latin1, any code unit (lone surrogates too), whole code points. */
const aString = fc.oneof(
  fc.constantFrom('', 'a', 'é', '\u0000', '\u00ff', '\ud800', '\udc00', 'a\ud800', '\udc00b', '😀', 'abcdefghijklmnopq', 'ééééééééééééééé'),
  fc.string({ maxLength: 20 }),
  fc.string({ unit: 'binary', maxLength: 20 }),
  fc.string({ unit: fc.integer({ min: 0, max: 255 }).map((c) => String.fromCharCode(c)), maxLength: 20 }),
  fc.string({ unit: 'grapheme', maxLength: 20 }),
);
const aColumn = fc.oneof(fc.constant(aNumber), fc.constant(aString)) as fc.Arbitrary<fc.Arbitrary<unknown>>;

/** Batches of records of one arity whose columns are each all numbers or all strings. */
const columnarBatch = fc
  .tuple(fc.array(aColumn, { minLength: 1, maxLength: 4 }), fc.integer({ min: 1, max: 60 }))
  .chain(([columns, n]) => fc.array(fc.tuple(...columns), { minLength: n, maxLength: n }));

test('columnar bodies decode to what the record codec round-trips (property)', () => {
  fc.assert(
    fc.property(columnarBatch, (records) => {
      const body = encodeFrameBody(records);
      assert.deepStrictEqual(decodeFrameBody(body), roundTrip(records));
      // Columnar unless a string holds a lone surrogate.
      const surrogate = records.some((r) => r.some((v) => typeof v === 'string' && !v.isWellFormed()));
      if (!surrogate) assert.ok(isColumnar(body), 'columnar');
    }),
    { numRuns: 1000 },
  );
});

test('[key, value] pairs of numbers and strings are columnar; -0, NaN and doubles survive exactly', () => {
  const records = [
    [0, -0],
    [NaN, 1.5],
    [2 ** 31, -(2 ** 31)],
    [-Infinity, Number.MAX_VALUE],
  ];
  const body = encodeFrameBody(records);
  assert.ok(isColumnar(body));
  const decoded = decodeFrameBody(body) as number[][];
  assert.deepStrictEqual(decoded, records);
  assert.ok(Object.is(decoded[0]?.[1], -0));
  for (const strings of [['', 'a', 'é'], ['日本', '', '😀x'], ['a\ud800', '\udc00b', 'c']]) {
    const pairs = strings.map((s, i) => [s, i]);
    const stringBody = encodeFrameBody(pairs);
    assert.deepStrictEqual(decodeFrameBody(stringBody), pairs);
  }
});

test('a lone surrogate outside latin1 sends the frame through the record codec, which keeps it', () => {
  for (const strings of [['\ud800', 'a'], ['a\ud800', '\udc00b'], ['x\udfff']]) {
    const records = strings.map((s) => [s, 1]);
    assert.equal(encodeColumnarBody(records), undefined);
    const body = encodeFrameBody(records);
    assert.ok(!isColumnar(body));
    assert.deepStrictEqual(decodeFrameBody(body), records);
  }
});

test('other shapes go through the record codec, unchanged', () => {
  class Pair extends Array<unknown> {}
  const sparse: unknown[] = [];
  sparse[1] = 1;
  const shapes: unknown[][] = [
    [['a', 1], [2, 1]], // a column of numbers and strings
    [['a', 1], ['b', null]],
    [['a', 1], ['b', 1, 2]], // arities differ
    [[]],
    [Array.from({ length: MAX_ARITY + 1 }, () => 1)],
    [1, 2],
    [sparse],
    [[1n, 2]],
    [[{ a: 1 }, 2]],
    [],
  ];
  for (const records of shapes) {
    assert.equal(encodeColumnarBody(records), undefined, JSON.stringify(records, (_, v: unknown) => (typeof v === 'bigint' ? `${v}n` : v)));
    assert.deepStrictEqual(decodeFrameBody(encodeFrameBody(records)), roundTrip(records));
  }
  // An array subclass fails in the record codec as it always did.
  assert.throws(() => encodeFrameBody([Pair.from(['a', 1])]), { code: 'FLINT_RECORD_UNENCODABLE' });
});

test('huge frames: 200k records, strings long and short, a blob of megabytes', () => {
  const records = Array.from({ length: 200_000 }, (_, i) => [i % 7 === 0 ? `${'long-key-'.repeat(3)}${i}` : `k${i % 1000}`, i % 3 === 0 ? i / 3 : i, `é${i}`]);
  const body = encodeFrameBody(records);
  assert.ok(isColumnar(body));
  assert.deepStrictEqual(decodeFrameBody(body), records);
  const floats = Array.from({ length: 300_000 }, (_, i) => [i * 0.5, -i]);
  assert.deepStrictEqual(decodeFrameBody(encodeFrameBody(floats)), floats);
});

test('a body at any byte offset decodes (numbers are copied when unaligned)', () => {
  const records = [
    [1.25, 7, 'ab'],
    [-0, -7, 'cd'],
  ];
  const body = encodeFrameBody(records);
  for (let shift = 0; shift < 9; shift += 1) {
    const holder = new Uint8Array(shift + body.length);
    holder.set(body, shift);
    assert.deepStrictEqual(decodeColumnarBody(holder.subarray(shift)), records);
  }
});

test('FrameReader decodes any chunking of columnar and codec frames mixed (property)', () => {
  const batches = fc.array(fc.oneof(columnarBatch, fc.array(fc.tuple(aString, fc.constant(null)), { maxLength: 3 })), { maxLength: 6 });
  fc.assert(
    fc.property(batches, fc.array(fc.integer({ min: 0, max: 10_000 }), { maxLength: 10 }), (frames, cuts) => {
      const block = Buffer.concat(frames.map((records) => encodeFrame(records)));
      const points = [...new Set(cuts.map((c) => c % (block.length + 1)))].sort((a, b) => a - b);
      const reader = new FrameReader();
      const decoded: unknown[] = [];
      let from = 0;
      for (const p of [...points, block.length]) {
        reader.push(new Uint8Array(block.subarray(from, p)));
        from = p;
        for (let records = reader.next(); records !== undefined; records = reader.next()) decoded.push(records);
      }
      reader.end();
      assert.deepStrictEqual(decoded, frames.map(roundTrip));
    }),
    { numRuns: 300 },
  );
});

test('damaged columnar bodies fail with FLINT_SHUFFLE_CORRUPT', () => {
  // Strings 'abc', 'de', 'f': kinds at 8, column 0 at 16 (ends 3, 5, 6 at 16, 20, 24; blob at 28).
  const body = encodeFrameBody([
    ['abc', 1.5],
    ['de', 2.5],
    ['f', 3.5],
  ]);
  const damaged = (change: (bytes: Uint8Array) => Uint8Array): Uint8Array => change(new Uint8Array(body));
  const cases: Array<[string, Uint8Array]> = [
    ['truncated', body.subarray(0, body.length - 8)],
    ['too short for a header', body.subarray(0, 5)],
    ['longer than its columns', Buffer.concat([body, new Uint8Array(8)])],
    ['unknown version', damaged((b) => ((b[1] = 9), b))],
    ['no columns', damaged((b) => ((b[2] = 0), b))],
    ['no records', damaged((b) => (b.fill(0, 4, 8), b))],
    ['unknown kind', damaged((b) => ((b[8] = 77), b))],
    ['offsets backwards', damaged((b) => (new DataView(b.buffer).setUint32(20, 2, true), b))],
    ['an offset past the blob', damaged((b) => (new DataView(b.buffer).setUint32(16, 1000, true), b))],
  ];
  for (const [what, bytes] of cases) {
    assert.throws(() => decodeFrameBody(bytes), { code: 'FLINT_SHUFFLE_CORRUPT', message: /columnar shuffle frame .*corrupt/ }, what);
  }
});

test('pairColumns gives the keys and values of a columnar frame of pairs, any kinds; undefined for other frames', () => {
  const pairs = [['a', 1.5], ['bé', -2], ['', 3]];
  const columns = pairColumns(encodeFrameBody(pairs));
  assert.ok(columns !== undefined);
  assert.deepEqual(Array.from(columns.keys), ['a', 'bé', '']);
  assert.deepEqual(Array.from(columns.values), [1.5, -2, 3]);
  const numbers = pairColumns(encodeFrameBody([[1, 'x'], [2 ** 40, 'y']]));
  assert.deepEqual(numbers === undefined ? undefined : [Array.from(numbers.keys), Array.from(numbers.values)], [[1, 2 ** 40], ['x', 'y']]);
  assert.equal(pairColumns(encodeFrameBody([[1, 2, 3]])), undefined, 'three columns');
  assert.equal(pairColumns(encodeFrameBody([[1, { a: 1 }]])), undefined, 'not columnar: the record codec');
});
