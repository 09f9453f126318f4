// The record codec (src/task/record-codec.ts): supported values round-trip exactly, types included
// (assert.deepStrictEqual tells a Map from an object and -0 from 0), by example and as a property over
// arbitrary nestings; every unsupported kind fails at once with its type and path. Spark's counterpart is
// `JavaSerializer`/`KryoSerializer` with their NotSerializableException.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decode, encode } from '@msgpack/msgpack';
import fc from 'fast-check';
import { ownsItsBuffer } from '../../../src/util/own-buffer.ts';
import { RecordEncodeError, RecordList, concatRecordLists, decodeRecord, decodeRecordList, encodeRecord, encodeRecordSlice } from '../../../src/task/record-codec.ts';

const roundTrip = (value: unknown): unknown => decodeRecord(encodeRecord(value));

test('every supported type round-trips exactly, alone and nested', () => {
  const values: unknown[] = [
    null,
    undefined,
    true,
    0,
    -0,
    NaN,
    Infinity,
    -Infinity,
    2 ** 53 - 1,
    -(2 ** 60),
    1.5,
    '',
    'héllo',
    0n,
    1n,
    -1n,
    2n ** 64n,
    -(2n ** 64n) - 1n,
    2n ** 200n + 7n,
    new Map([['a', 1]]),
    new Map<unknown, unknown>([[{ k: [1] }, new Set([1, 'x'])], [undefined, null], [2n, new Date(5)]]),
    new Set(),
    new Set([new Map(), undefined]),
    new Date(0),
    new Date(-8_640_000_000_000_000),
    new Date(Number.NaN),
    new Uint8Array([1, 2, 255]),
    new Int8Array([-128, 127]),
    new Uint8ClampedArray([0, 255]),
    new Int16Array([-32768, 7]),
    new Uint16Array([65535]),
    new Int32Array([-1, 2 ** 31 - 1]),
    new Uint32Array([2 ** 32 - 1]),
    new Float32Array([1.5, -0, NaN, Infinity]),
    new Float64Array([Math.PI, -0]),
    new BigInt64Array([-(2n ** 63n), 2n ** 63n - 1n]),
    new BigUint64Array([2n ** 64n - 1n]),
    new Float64Array(new ArrayBuffer(24), 8, 1), // a view at an offset arrives as a view of its own bytes
    [undefined, 1, undefined],
    { a: undefined, b: [undefined], c: { d: undefined } },
    { deep: [new Map([[1, { s: new Set([new Int16Array([3])]) }]])] },
  ];
  for (const value of values) assert.deepStrictEqual(roundTrip(value), value, String(value));
  assert.deepStrictEqual(roundTrip(values), values);
});

test('bytes in a Buffer at an odd offset (as read off a socket) decode the same', () => {
  const value = [new Float64Array([1.5]), new BigInt64Array([-1n]), new Int32Array([7]), new Map([[1, 2n]]), new Uint8Array([9])];
  const bytes = encodeRecord(value);
  const pool = Buffer.alloc(bytes.byteLength + 3);
  pool.set(bytes, 3);
  assert.deepStrictEqual(decodeRecord(pool.subarray(3)), value);
});

test('an object holding undefined keeps the key', () => {
  const back = roundTrip({ a: undefined }) as Record<string, unknown>;
  assert.ok(Object.hasOwn(back, 'a'));
});

test('what arrives changed, as documented: null-prototype objects, Buffer-like subclasses, holes', () => {
  const bare = Object.create(null) as Record<string, unknown>;
  bare.x = 1;
  assert.deepStrictEqual(roundTrip(bare), { x: 1 });
  class Bytes extends Uint8Array {}
  assert.deepStrictEqual(roundTrip(new Bytes([1, 2])), new Uint8Array([1, 2]));
  // eslint-disable-next-line no-sparse-arrays -- a hole is the point of this case
  assert.deepStrictEqual(roundTrip([1, , 3]), [1, undefined, 3]);
});

test('plain values encode as plain msgpack, so other msgpack readers still read them (arrays of 16+ numbers aside)', () => {
  const value = { id: 1, name: 'a', tags: ['x'], n: null, bytes: new Uint8Array([1]) };
  assert.deepStrictEqual(encodeRecord(value), encode(value));
  assert.deepStrictEqual(decodeRecord(encode(value)), value);
  assert.deepStrictEqual(decode(encodeRecord([1, 'x'])), [1, 'x']);
});

test('an array of 16 or more numbers travels as int32 or float64 bytes and arrives as the same plain array', () => {
  const ints = Array.from({ length: 1000 }, (_, i) => (i % 2 === 0 ? 100_000 + i * 1_000_003 : -100_000 - i));
  const floats = [...ints.slice(0, 20), 0.5, -0, NaN, Infinity, -Infinity, 2 ** 53, -(2 ** 31) - 1];
  const narrow = [Array.from({ length: 16 }, (_, i) => i - 128), Array.from({ length: 16 }, (_, i) => 127 - i), Array.from({ length: 40 }, (_, i) => i * 800 - 32_768)];
  for (const numbers of [ints, floats, ...narrow, [2 ** 31, ...ints.slice(0, 15)], [-(2 ** 31), ...ints.slice(0, 15)]]) {
    const back = roundTrip(numbers) as number[];
    assert.ok(Array.isArray(back) && Object.getPrototypeOf(back) === Array.prototype);
    assert.deepStrictEqual(back, numbers);
  }
  // 4 bytes a number when all are int32 (msgpack takes 5 for each of these), 8 otherwise, and a header; 1 or 2
  // when all fit in 8 or 16 bits.
  assert.ok(encodeRecord(ints).byteLength <= 4 * ints.length + 8, `${encodeRecord(ints).byteLength} bytes`);
  assert.deepStrictEqual(narrow.map((numbers) => encodeRecord(numbers).byteLength - numbers.length), [2, 2, 40 + 3]); // fixext 16 takes 2 bytes, ext 8 three
  assert.ok(encodeRecord(floats).byteLength <= 8 * floats.length + 8, `${encodeRecord(floats).byteLength} bytes`);
  // Shorter arrays, and arrays holding anything but numbers, stay msgpack arrays.
  assert.deepStrictEqual(decode(encodeRecord(ints.slice(0, 15))), ints.slice(0, 15));
  for (const mixed of [[...ints.slice(0, 20), 'x'], [...ints.slice(0, 20), undefined], [...ints.slice(0, 20), 1n], [[1], ...ints.slice(0, 20)]]) {
    assert.deepStrictEqual(roundTrip(mixed), mixed);
  }
  // eslint-disable-next-line no-sparse-arrays -- a hole is not a number: the array goes as msgpack, the hole as undefined
  const sparse = [...ints.slice(0, 20), , 5];
  assert.deepStrictEqual(roundTrip(sparse), [...ints.slice(0, 20), undefined, 5]);
  // Nested: a partition of [key, numbers] pairs.
  const pairs = [['a', ints.slice(0, 40)], ['b', floats]];
  assert.deepStrictEqual(roundTrip(pairs), pairs);
});

/** Lists of numbers of each kind the codec narrows to, at each msgpack ext header size (fixext 16, ext 8, 16, 32). */
const NUMBER_LISTS: ReadonlyArray<readonly unknown[]> = [
  Array.from({ length: 16 }, (_, i) => i - 8), // int8, 16 bytes: fixext 16
  Array.from({ length: 200 }, (_, i) => 127 - i), // int8, ext 8
  Array.from({ length: 300 }, (_, i) => i * 100 - 20_000), // int16, ext 16
  Array.from({ length: 20_000 }, (_, i) => i * 3 - 1_000_000), // int32, ext 32
  [...Array.from({ length: 30 }, (_, i) => i / 4), -0, NaN, -Infinity], // float64
  Array.from({ length: 9_000 }, (_, i) => 2 ** 40 + i), // float64 (beyond int32), ext 32
];

test('a slice or a collected list of numbers is written straight to the bytes encodeRecord gives its plain array', () => {
  for (const numbers of NUMBER_LISTS) {
    const padded = [1, 'x', ...numbers, { y: 2 }];
    assert.deepStrictEqual(encodeRecordSlice(padded, 2, 2 + numbers.length), encodeRecord(numbers), `slice of ${numbers.length}`);
    const listOf = (): RecordList => {
      const list = new RecordList();
      for (const n of numbers) list.push(n);
      return list;
    };
    const list = listOf();
    assert.equal(list.length, numbers.length);
    assert.deepStrictEqual(list.toArray(), numbers);
    assert.deepStrictEqual(list.encode(), encodeRecord(numbers), `list of ${numbers.length}`);
    // Their own buffer, the numbers aligned after the header: a task reads them in place, not from a copy.
    for (const bytes of [encodeRecordSlice(padded, 2, 2 + numbers.length), listOf().encode()]) {
      assert.ok(ownsItsBuffer(bytes), 'the bytes hold their buffer alone (they may move to a thread)');
      const view = decodeRecordList(bytes) as Float64Array;
      assert.equal(view.buffer, bytes.buffer, 'read in place');
    }
  }
  assert.equal(ownsItsBuffer(encodeRecord([1, 'x'])), true);
  assert.equal(ownsItsBuffer(new Uint8Array(64).subarray(8)), false, 'a view past the padding shares its buffer');
  assert.equal(ownsItsBuffer(new Uint8Array(64).subarray(0, 63)), false, 'a view short of the end shares its buffer');
  // Anything else, and lists under 16 numbers, are encodeRecord's own.
  const mixed = [...NUMBER_LISTS[3] ?? [], 'x', 5];
  const list = new RecordList();
  for (const record of mixed) list.push(record);
  assert.equal(list.length, mixed.length);
  const bytes = list.encode();
  assert.deepStrictEqual(bytes, encodeRecord(mixed), 'a string after 20,000 numbers turns the column into an array');
  assert.deepStrictEqual(decodeRecord(bytes), mixed);
  const short = new RecordList();
  for (const n of [1, 2, 3]) short.push(n);
  assert.deepStrictEqual(short.encode(), encodeRecord([1, 2, 3]));
  assert.deepStrictEqual(new RecordList().encode(), encodeRecord([]));
  // eslint-disable-next-line no-sparse-arrays -- a hole in the range is not a number: the slice is msgpack's
  const sparse = [...(NUMBER_LISTS[1] ?? []), , 7];
  assert.deepStrictEqual(encodeRecordSlice(sparse, 0, sparse.length), encodeRecord(sparse.slice(0, sparse.length)));
});

test('a list of numbers longer than a chunk is encoded whole, and the chunks it hands back hold nothing over', () => {
  // Chunks are 65,536 numbers; the first is 1,024. Each list's numbers differ, so a chunk reused with another
  // list's numbers left in it, or a chunk counted twice, shows in the bytes.
  const lists = [
    Array.from({ length: 300_000 }, (_, i) => i * 7), // int32, over four chunks
    Array.from({ length: 70_000 }, (_, i) => (i % 200) - 100), // int8: reuses chunks the first list gave back
    [...Array.from({ length: 140_000 }, (_, i) => i % 100), 0.5], // the last number widens every chunk to float64
    Array.from({ length: 66_560 }, (_, i) => -i), // the first chunk and one pooled chunk exactly full
    [2 ** 40, ...Array.from({ length: 100_000 }, (_, i) => i % 100)], // the first chunk is widest: float64 for all
  ];
  for (const numbers of lists) {
    const list = new RecordList();
    for (const n of numbers) list.push(n);
    assert.equal(list.length, numbers.length);
    const bytes = list.encode();
    // Compared as bytes: a failing deepStrictEqual of megabytes would spend minutes on its diff.
    assert.ok(Buffer.from(bytes).equals(encodeRecord(numbers)), `a list of ${numbers.length} encodes as its plain array does`);
    const back = decodeRecordList(bytes) ?? [];
    assert.equal(back.length, numbers.length);
    const wrong = numbers.findIndex((n, i) => !Object.is(back[i], n));
    assert.equal(wrong, -1, `record ${wrong} of ${numbers.length} came back as ${String(back[wrong])}`);
  }
  // A string after more than a chunk of numbers: the numbers move to a plain array, the chunks back to the pool.
  const mixed = [...Array.from({ length: 100_000 }, (_, i) => i), 'x', 3];
  const list = new RecordList();
  for (const record of mixed) list.push(record);
  assert.deepStrictEqual(decodeRecord(list.encode()), mixed);
  const after = new RecordList();
  for (let i = 0; i < 100_000; i++) after.push(-i);
  assert.ok(Buffer.from(after.encode()).equals(encodeRecord(Array.from({ length: 100_000 }, (_, i) => -i))));
});

test('a RecordList is spent once encoded: using it again throws instead of writing chunks another list holds', () => {
  for (const size of [3, 5_000]) {
    const list = new RecordList();
    for (let i = 0; i < size; i++) list.push(i);
    list.encode();
    assert.throws(() => list.encode(), /used after it was encoded/);
    assert.throws(() => list.push(1), /used after it was encoded/);
    assert.throws(() => list.push('x'), /used after it was encoded/);
  }
});

test('a slice of integers is checked as it is written, and narrowed or left to the general path as its values need', () => {
  const cases: ReadonlyArray<readonly unknown[]> = [
    Array.from({ length: 50 }, (_, i) => i), // int8 after an int32 pass
    Array.from({ length: 50 }, (_, i) => i * 1_000), // int16
    Array.from({ length: 50 }, (_, i) => i * 100_000_000), // int32: past 2^31, then float64
    [...Array.from({ length: 40 }, (_, i) => i), -0], // -0 is not an integer here: float64
    [...Array.from({ length: 40 }, (_, i) => i), 2 ** 31], // just past int32
    [...Array.from({ length: 40 }, (_, i) => -i), -(2 ** 31)], // the least int32
    [...Array.from({ length: 40 }, (_, i) => i), 'x'], // not numbers: msgpack
  ];
  for (const values of cases) {
    assert.deepStrictEqual(encodeRecordSlice(values, 0, values.length), encodeRecord(values), JSON.stringify(values.slice(-2)));
    assert.deepStrictEqual(decodeRecord(encodeRecordSlice(values, 0, values.length)), values);
  }
});

test('decodeRecordList reads numbers from a view of the bytes, wherever they sit, and decodes any other array', () => {
  for (const numbers of NUMBER_LISTS) {
    const bytes = encodeRecord(numbers);
    const list = decodeRecordList(bytes);
    assert.ok(list !== undefined && ArrayBuffer.isView(list), 'a typed view, not a plain array');
    assert.deepStrictEqual(Array.from(list), numbers);
    // At an odd offset of a Buffer, as off a socket: the numbers are copied to be aligned.
    const odd = Buffer.alloc(bytes.byteLength + 3);
    odd.set(bytes, 3);
    assert.deepStrictEqual(Array.from(decodeRecordList(odd.subarray(3)) ?? []), numbers);
  }
  const records = [{ a: 1 }, 'b', [1, 2]];
  assert.deepStrictEqual(decodeRecordList(encodeRecord(records)), records);
  assert.equal(decodeRecordList(encodeRecord({ not: 'a list' })), undefined);
  assert.equal(decodeRecordList(encodeRecord(new Float64Array(20))), undefined, 'a typed array record is a record, not a list');
  // Bytes that only start like a list of numbers (a header longer than what follows) are decoded as msgpack, which fails.
  const cut = encodeRecord(NUMBER_LISTS[3]).subarray(0, 100);
  assert.throws(() => decodeRecordList(cut));
});

test("concatRecordLists puts every partition's records in one plain array, numbers or not", () => {
  const parts = [NUMBER_LISTS[3] ?? [], [], ['x', { y: [1] }], NUMBER_LISTS[4] ?? [], [1, 2]];
  const out = concatRecordLists(parts.map((part) => encodeRecord(part)));
  assert.ok(Array.isArray(out) && Object.getPrototypeOf(out) === Array.prototype);
  assert.deepStrictEqual(out, parts.flat());
  assert.deepStrictEqual(concatRecordLists([]), []);
  assert.throws(() => concatRecordLists([encodeRecord([1]), encodeRecord(5)]), /partition 1's result is not an array of records/);
});

test('a msgpack timestamp written elsewhere still decodes to a Date', () => {
  assert.deepStrictEqual(decodeRecord(encode(new Date(1234))), new Date(1234));
});

// ---- Property: arbitrary nestings of supported values ---------------------------------------------------------

const leaf = fc.oneof(
  fc.constant(null),
  fc.constant(undefined),
  fc.boolean(),
  fc.double(),
  fc.integer(),
  fc.string(),
  fc.bigInt({ min: -(2n ** 130n), max: 2n ** 130n }),
  fc.date({ noInvalidDate: false }),
  fc.uint8Array(),
  fc.int8Array(),
  fc.uint8ClampedArray(),
  fc.int16Array(),
  fc.uint16Array(),
  fc.int32Array(),
  fc.uint32Array(),
  fc.float32Array(),
  fc.float64Array(),
  fc.bigInt64Array(),
  fc.bigUint64Array(),
);

const { value: record } = fc.letrec((tie) => ({
  value: fc.oneof({ depthSize: 'small', withCrossShrink: true }, leaf, tie('array'), tie('object'), tie('map'), tie('set')),
  array: fc.array(tie('value'), { maxLength: 5 }),
  object: fc.dictionary(fc.string().filter((key) => key !== '__proto__'), tie('value'), { maxKeys: 5, noNullPrototype: true }),
  map: fc.array(fc.tuple(tie('value'), tie('value')), { maxLength: 4 }).map((entries) => new Map(entries)),
  set: fc.array(tie('value'), { maxLength: 4 }).map((items) => new Set(items)),
}));

test('property: any nesting of supported values round-trips exactly', () => {
  fc.assert(
    fc.property(record, (value) => {
      assert.deepStrictEqual(roundTrip(value), value);
    }),
    { numRuns: 1000 },
  );
});

test('property: encoding is deterministic and the bytes decode the same twice', () => {
  fc.assert(
    fc.property(record, (value) => {
      const bytes = encodeRecord(value);
      assert.deepStrictEqual(encodeRecord(value), bytes);
      assert.deepStrictEqual(decodeRecord(bytes), decodeRecord(bytes));
    }),
    { numRuns: 300 },
  );
});

// ---- What cannot be sent ---------------------------------------------------------------------------------------

function failure(value: unknown, root = 'records'): RecordEncodeError {
  try {
    encodeRecord(value, root);
  } catch (err) {
    assert.ok(err instanceof RecordEncodeError, `expected RecordEncodeError, got ${String(err)}`);
    assert.equal(err.code, 'FLINT_RECORD_UNENCODABLE');
    assert.equal(err.retryable, false);
    assert.match(err.message, /Records may hold: null, undefined, .*Map, Set, Date, .*BigUint64Array/);
    return err;
  }
  assert.fail('expected encodeRecord to throw');
}

class Foo {
  x = 1;
}
class Socket {
  fd = 3;
}

const unsupported: Array<[string, unknown, string, string]> = [
  ['a function', [0, { f: function sq() {} }], 'records[1].f', 'function sq'],
  ['an arrow function', { g: () => 1 }, 'records.g', 'function g'],
  ['a symbol', [Symbol('tag')], 'records[0]', 'symbol Symbol(tag)'],
  ['a class instance', [{}, {}, {}, { user: { socket: new Socket() } }], 'records[3].user.socket', 'Socket instance'],
  ['a new Foo()', { foo: new Foo() }, 'records.foo', 'Foo instance'],
  ['a WeakMap', [new WeakMap()], 'records[0]', 'WeakMap instance'],
  ['a Promise', { p: Promise.resolve(1) }, 'records.p', 'Promise instance'],
  ['a DataView', [new DataView(new ArrayBuffer(2))], 'records[0]', 'DataView instance'],
  ['a Map subclass', [new (class Cache extends Map {})()], 'records[0]', 'Cache instance'],
  ['a function inside a Map value', new Map([['k', [() => 0]]]), 'records.get("k")[0]', 'function (anonymous)'],
  ['a function as a Map key', new Map([[Math.max, 1]]), 'records.keys()[0]', 'function max'],
  ['a symbol in a Set', new Set([1, Symbol.iterator]), 'records.values()[1]', 'symbol Symbol(Symbol.iterator)'],
  ['an odd property name', { 'a b': { 'c-d': new Foo() } }, 'records["a b"]["c-d"]', 'Foo instance'],
];

for (const [what, value, path, type] of unsupported) {
  test(`${what} fails with its type and path`, () => {
    const err = failure(value);
    assert.equal(err.path, path);
    assert.equal(err.valueType, type);
    assert.ok(err.message.startsWith(`${path} is a ${type}, which cannot be sent`), err.message);
  });
}

test('a cycle through objects fails naming the reference and what it points back to', () => {
  const user: Record<string, unknown> = { name: 'a' };
  user.self = { back: user };
  const err = failure([user]);
  assert.equal(err.path, 'records[0].self.back');
  assert.equal(err.valueType, 'reference to records[0]');
  assert.match(err.message, /makes a cycle/);
});

test('a cycle through a Map or a Set fails the same way', () => {
  const map = new Map<string, unknown>();
  map.set('me', map);
  assert.equal(failure(map).path, 'records.get("me")');
  const set = new Set<unknown>();
  set.add([set]);
  assert.equal(failure(set).path, 'records.values()[0][0]');
});

test('a shared (acyclic) object is fine and arrives as two equal copies', () => {
  const shared = { n: 1 };
  assert.deepStrictEqual(roundTrip([shared, shared]), [{ n: 1 }, { n: 1 }]);
});

test('nesting deeper than 100 levels fails with a RecordEncodeError, not a stack overflow', () => {
  let deep: unknown = 1;
  for (let i = 0; i < 150; i += 1) deep = [deep];
  const err = failure(deep);
  assert.match(err.message, /deeper than 100 levels/);
});

test('the codec still works after a failure (no state left behind)', () => {
  const map = new Map<string, unknown>();
  map.set('me', map);
  failure(map);
  assert.deepStrictEqual(roundTrip(new Map([[1, new Set([2])]])), new Map([[1, new Set([2])]]));
});

test('bytes whose headers claim millions of elements are refused at once, in a Map too, not allocated', () => {
  // Nested array 32 headers claiming ten million elements each (src/util/msgpack.ts, "Bounded decoding").
  const bomb = new Uint8Array(500);
  for (let i = 0; i < 100; i++) bomb.set([0xdd, 0x00, 0x98, 0x96, 0x80], i * 5);
  const before = process.memoryUsage().heapUsed;
  assert.throws(() => decodeRecord(bomb), /claims 10000000 element\(s\), more than the 495 byte\(s\) left can hold/);
  // The same inside the Map extension, whose entries are decoded with a cursor of their own.
  const map = encodeRecord(new Map([[1, 2]])); // ext 8: 0xc7, the payload's size (3), the Map's type, [1, 2]
  assert.deepEqual([...map.subarray(0, 2), ...map.subarray(3)], [0xc7, 3, 0x92, 0x01, 0x02]);
  const inMap = new Uint8Array([0xc7, 7, map[2] as number, 0x92, 0x01, 0xdd, 0x00, 0x98, 0x96, 0x80]);
  assert.throws(() => decodeRecord(inMap), /claims 10000000 element\(s\), more than the 0 byte\(s\) left can hold/);
  assert.ok(process.memoryUsage().heapUsed - before < 16 * 1024 * 1024, 'nothing large was allocated');
  assert.deepStrictEqual(roundTrip(new Map([[1, new Set([2])]])), new Map([[1, new Set([2])]]), 'and the codec goes on working');
});
