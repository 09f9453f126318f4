// StringKeyTable (src/shuffle/string-key-table.ts): the map-side combine's table for string keys behaves as a JS
// Map of strings (get, set, size, clear) for any keys and any sequence of operations,
// through its growth; keys that differ only in ways a weak hash would miss are still told apart.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { StringKeyTable } from '../../../src/shuffle/string-key-table.ts';

type Op = { kind: 'set'; key: string; value: number } | { kind: 'get'; key: string } | { kind: 'clear' };

/** Keys from a small alphabet (so that gets hit and sets replace) and from anywhere in UTF-16, lone surrogates too. */
const key = fc.oneof(fc.string({ unit: fc.constantFrom('a', 'b', '\u0000', 'é', '😀'), maxLength: 4 }), fc.string({ unit: 'binary', maxLength: 12 }));
const op: fc.Arbitrary<Op> = fc.oneof(
  { weight: 6, arbitrary: fc.record({ kind: fc.constant('set' as const), key, value: fc.integer() }) },
  { weight: 6, arbitrary: fc.record({ kind: fc.constant('get' as const), key }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'clear' as const }) },
);

test('any sequence of set, get and clear gives what a Map gives', () => {
  fc.assert(
    fc.property(fc.array(op, { maxLength: 400 }), (ops) => {
      const table = new StringKeyTable<number>();
      const model = new Map<string, number>();
      for (const o of ops) {
        if (o.kind === 'set') {
          table.set(o.key, o.value);
          model.set(o.key, o.value);
        } else if (o.kind === 'get') {
          assert.equal(table.get(o.key), model.get(o.key), `get(${JSON.stringify(o.key)})`);
        } else {
          table.clear();
          model.clear();
        }
        assert.equal(table.size, model.size);
      }
      for (const [k, v] of model) assert.equal(table.get(k), v);
    }),
    { numRuns: 300 },
  );
});

test('grows past many doublings: 100,000 keys, every one found with its value, absent ones not', () => {
  const table = new StringKeyTable<number>();
  for (let i = 0; i < 100_000; i++) table.set(`w${i}`, i);
  assert.equal(table.size, 100_000);
  for (let i = 0; i < 100_000; i++) assert.equal(table.get(`w${i}`), i);
  for (let i = 100_000; i < 101_000; i++) assert.equal(table.get(`w${i}`), undefined);
  table.set('w5', -5);
  assert.equal(table.get('w5'), -5);
  assert.equal(table.size, 100_000, 'replacing a value adds no key');
});

test('keys a weak hash confuses stay apart: anagrams, one unit moved, the empty string, long keys', () => {
  const keys = ['', 'ab', 'ba', 'abc', 'acb', 'bca', '\u0000', '\u0000\u0000', 'a'.repeat(5_000), `${'a'.repeat(4_999)}b`, '\ud800', '\udc00', '😀'];
  const table = new StringKeyTable<string>();
  for (const k of keys) table.set(k, `v:${k}`);
  assert.equal(table.size, keys.length);
  for (const k of keys) assert.equal(table.get(k), `v:${k}`);
  table.clear();
  assert.equal(table.size, 0);
  assert.equal(table.get('ab'), undefined);
});

test('indexOf gives each key its rank in insertion order (-1 when absent), and valueAt/setValueAt/keyAt reach it', () => {
  const table = new StringKeyTable<number>();
  const keys = Array.from({ length: 1_000 }, (_, i) => `k${(i * 7919) % 1_000}`);
  keys.forEach((k, i) => table.set(k, i));
  keys.forEach((k, i) => {
    assert.equal(table.indexOf(k), i);
    assert.equal(table.keyAt(i), k);
    table.setValueAt(i, table.valueAt(i) * 2);
  });
  keys.forEach((k, i) => assert.equal(table.get(k), i * 2));
  assert.equal(table.indexOf('absent'), -1);
  assert.equal(table.indexOf(''), -1);
  table.clear();
  assert.equal(table.indexOf(keys[0] as string), -1);
});
