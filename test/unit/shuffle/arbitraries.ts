// Shared test helpers for the shuffle core: mixed-type key arbitraries with many collisions, a temporary
// directory per test, and a naive equality of keys to check keyIdentity/compareKeys/hashKey against.
import { readdirSync, rmSync } from 'node:fs';
import { isDeepStrictEqual } from 'node:util';
import fc from 'fast-check';
import { tempDir } from '../../helpers/temp-dir.ts';

// Every property in this folder runs from a fixed seed: the tests are deterministic (a failure prints its seed
// and path all the same).
fc.configureGlobal({ seed: 0x5eed });

/** A small pool of scalars, so that equal keys are drawn often (and the tricky ones: -0, NaN, U+0000 prefixes). */
export const scalarKey = fc.oneof(
  fc.constantFrom<unknown>(undefined, null, true, false, 0, -0, NaN, Infinity, -Infinity, 1.5, 2 ** 40, -(2 ** 53), '', 'a', 'b', '\u0000', '\u0000e', '\u0000s', '\u0000sa', 'é', 0n, 1n, -(2n ** 70n)),
  fc.integer({ min: -3, max: 3 }),
  fc.string({ maxLength: 2, unit: fc.constantFrom('a', 'b', '\u0000', 'e', 's') }),
  fc.bigInt({ min: -2n, max: 2n }),
  fc.integer({ min: -1, max: 1 }).map((t) => new Date(t)),
  fc.constant(new Date(NaN)),
);

/** Keys of every kind the codec carries, nested a little. */
export const anyKey: fc.Arbitrary<unknown> = fc.letrec<{ key: unknown }>((tie) => ({
  key: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    scalarKey,
    fc.array(tie('key'), { maxLength: 3 }),
    fc.dictionary(fc.constantFrom('a', 'b', '1'), tie('key'), { maxKeys: 2 }),
    fc.array(fc.tuple(scalarKey, tie('key')), { maxLength: 2 }).map((entries) => new Map(entries)),
    fc.array(scalarKey, { maxLength: 3 }).map((items) => new Set(items)),
    fc.uint8Array({ maxLength: 2, max: 2 }),
    fc.array(fc.integer({ min: -1, max: 1 }), { maxLength: 2 }).map((xs) => Int16Array.from(xs)),
  ),
})).key;

/**
 * -0 becomes 0 everywhere but inside typed arrays, and null-prototype objects plain ones (the codec sends them
 * as such): the reference for key equality.
 */
function normalise(value: unknown): unknown {
  if (Object.is(value, -0)) return 0;
  if (Array.isArray(value)) return value.map(normalise);
  if (value instanceof Map) return new Map([...value].map(([k, v]) => [normalise(k), normalise(v)]));
  if (value instanceof Set) return new Set([...value].map(normalise));
  if (typeof value === 'object' && value !== null && [Object.prototype, null].includes(Object.getPrototypeOf(value) as object | null)) {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, normalise(v)]));
  }
  return value;
}

/** The naive model of key equality: deep strict equality, -0 equal to 0 (Map and Set order does not matter). */
export function sameKey(a: unknown, b: unknown): boolean {
  return isDeepStrictEqual(normalise(a), normalise(b));
}

/** A fresh directory under the OS temp dir for `fn`, removed afterwards. */
export function withTempDir<T>(fn: (dir: string) => T): T {
  const dir = tempDir('flint-shuffle-');
  try {
    return fn(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export function filesIn(dir: string): string[] {
  return readdirSync(dir).sort();
}

/** The naive grouping: [key, values in insertion order], keys compared by deep equality (sameKey). */
export function groupNaively(records: ReadonlyArray<readonly [unknown, unknown]>): Array<[unknown, unknown[]]> {
  const groups: Array<[unknown, unknown[]]> = [];
  for (const [k, v] of records) {
    const group = groups.find(([g]) => sameKey(g, k));
    if (group === undefined) groups.push([k, [v]]);
    else group[1].push(v);
  }
  return groups;
}
