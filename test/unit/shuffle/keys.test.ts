// Keys (src/shuffle/keys.ts): hashKey is deterministic and agrees with keyIdentity; keyIdentity tells keys apart
// exactly as deep equality (with -0 = 0) does, never confusing an encoded key with a real string; compareKeys is
// a total order whose ties are exactly the equal keys.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { compareKeys, hashKey, keyIdentity } from '../../../src/shuffle/keys.ts';
import { decodeRecord, encodeRecord } from '../../../src/task/record-codec.ts';
import { anyKey, sameKey } from './arbitraries.ts';

const sign = (n: number): number => (n < 0 ? -1 : n > 0 ? 1 : 0);

test('hashKey: fixed values (the same in every process), non-negative 31-bit integers', () => {
  // Pinned: a change here moves every key to another partition, so it must be deliberate.
  assert.deepEqual(
    ['', 'a', 'hello', 0, 1, -1, 2 ** 40, 1.5, true, null, undefined, 1n, [1, 'a'], new Date(7), { b: 2, a: 1 }].map(hashKey),
    [725515275, 444641715, 143488622, 0, 1364076727, 32599865, 204707258, 190092300, 1555621617, 739982445, 461845907, 2144699425, 2070493313, 406636338, 1559854639],
  );
  assert.equal(hashKey(-0), hashKey(0));
  assert.equal(hashKey(NaN), hashKey(Number.NaN * 2));
  assert.equal(hashKey(new Date(7)), hashKey(new Date(7)));
  assert.equal(hashKey([1, 'a']), hashKey([1, 'a']));
  assert.equal(hashKey({ a: 1, b: 2 }), hashKey({ b: 2, a: 1 }));
  fc.assert(
    fc.property(anyKey, (key) => {
      const h = hashKey(key);
      assert.ok(Number.isInteger(h) && h >= 0 && h <= 0x7fffffff, `hash ${h}`);
      assert.equal(hashKey(decodeRecord(encodeRecord(key))), h, 'a key that crossed the wire hashes the same');
    }),
    { numRuns: 500 },
  );
});

test('hashKey spreads consecutive integers and similar strings over partitions', () => {
  for (const keys of [Array.from({ length: 10_000 }, (_, i) => i), Array.from({ length: 10_000 }, (_, i) => `word${i}`)]) {
    const counts = new Array<number>(16).fill(0);
    for (const k of keys) counts[hashKey(k) % 16] = (counts[hashKey(k) % 16] as number) + 1;
    for (const c of counts) assert.ok(c > 500 && c < 750, `bucket of ${c} of 10000 over 16`);
  }
});

test('keyIdentity: equal exactly when the keys are deeply equal (-0 = 0); equal identities hash equal', () => {
  fc.assert(
    fc.property(anyKey, anyKey, (a, b) => {
      const same = Object.is(keyIdentity(a), keyIdentity(b)) || keyIdentity(a) === keyIdentity(b);
      assert.equal(same, sameKey(a, b));
      if (same) assert.equal(hashKey(a), hashKey(b));
      assert.equal(compareKeys(a, b) === 0, same, 'compareKeys ties are exactly the equal keys');
    }),
    { numRuns: 1500 },
  );
});

test('keyIdentity: primitives are their own identity; an encoded key never equals a real string', () => {
  for (const k of ['', 'a', 1, 1.5, true, null, undefined, 5n]) assert.equal(keyIdentity(k), k);
  assert.equal(keyIdentity(-0), 0);
  assert.ok(Number.isNaN(keyIdentity(NaN)));
  const encoded = keyIdentity([1, 'a']) as string;
  assert.equal(typeof encoded, 'string');
  assert.notEqual(keyIdentity(encoded), encoded, 'the identity text, used as a string key, is escaped');
  assert.notEqual(keyIdentity(`\u0000${encoded}`), encoded);
  const ids = new Set(['\u0000', '\u0000e', '\u0000s', '\u0000s\u0000', encoded, `\u0000s${encoded}`].map(keyIdentity));
  assert.equal(ids.size, 6);
  // A Map keyed by identity groups equal keys and keeps distinct ones apart.
  const groups = new Map<unknown, number>();
  for (const k of [[1, 2], [1, 2], new Date(3), new Date(3), { x: [1] }, { x: [1] }, '1', 1, 1n, [1]]) {
    const id = keyIdentity(k);
    groups.set(id, (groups.get(id) ?? 0) + 1);
  }
  assert.deepEqual([...groups.values()], [2, 2, 2, 1, 1, 1, 1]);
});

test('keyIdentity and hashKey reject what the codec cannot carry, naming it', () => {
  assert.throws(() => keyIdentity({ f: () => 1 }), { code: 'FLINT_RECORD_UNENCODABLE', message: /key\.f is a function/ });
  assert.throws(() => hashKey(new (class Point {})()), { code: 'FLINT_RECORD_UNENCODABLE', message: /Point instance/ });
});

test('compareKeys: the documented order of kinds and within each kind', () => {
  const ordered = [undefined, null, false, true, -Infinity, -1, 0, 1.5, Infinity, NaN, -5n, 3n, '', 'B', 'a', 'ab', new Date(-1), new Date(2), new Date(NaN), [], [0], [0, 'a'], [1], { a: 1 }];
  for (let i = 0; i < ordered.length; i += 1) {
    for (let j = 0; j < ordered.length; j += 1) {
      assert.equal(sign(compareKeys(ordered[i], ordered[j])), sign(i - j), `${String(ordered[i])} vs ${String(ordered[j])}`);
    }
  }
  assert.equal(compareKeys(-0, 0), 0);
  assert.equal(compareKeys([NaN], [NaN]), 0);
});

test('compareKeys is a total order: antisymmetric, transitive, consistent ties (property)', () => {
  fc.assert(
    fc.property(anyKey, anyKey, anyKey, (a, b, c) => {
      assert.equal(sign(compareKeys(a, b)) + sign(compareKeys(b, a)), 0);
      assert.equal(compareKeys(a, a), 0);
      if (compareKeys(a, b) <= 0 && compareKeys(b, c) <= 0) assert.ok(compareKeys(a, c) <= 0);
      if (compareKeys(a, b) === 0) assert.equal(sign(compareKeys(a, c)), sign(compareKeys(b, c)));
    }),
    { numRuns: 2000 },
  );
  // Sorting any sample gives a non-decreasing sequence whatever the input order.
  fc.assert(
    fc.property(fc.array(anyKey, { maxLength: 30 }), (keys) => {
      // Wrapped: Array.prototype.sort puts undefined last without asking the comparator.
      const sorted = keys.map((key) => ({ key })).sort((a, b) => compareKeys(a.key, b.key)).map((w) => w.key);
      for (let i = 1; i < sorted.length; i += 1) assert.ok(compareKeys(sorted[i - 1], sorted[i]) <= 0);
    }),
    { numRuns: 300 },
  );
});
