// Every error code in src/errors.ts is documented in docs/errors.md, and every class declares a listed code
// (STYLE.md §8, after fastify's test/internals/errors.test.js).
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { test } from 'node:test';
import { ERROR_CODES } from '../../src/errors.ts';

const doc = readFileSync(new URL('../../docs/errors.md', import.meta.url), 'utf8');
const source = readFileSync(new URL('../../src/errors.ts', import.meta.url), 'utf8');
const srcDir = new URL('../../src/', import.meta.url);
const allSources = readdirSync(srcDir, { recursive: true })
  .map(String)
  .filter((file) => file.endsWith('.ts'))
  .map((file) => ({ file, text: readFileSync(new URL(file, srcDir), 'utf8') }));

test('every error code is documented in docs/errors.md', () => {
  const missing = ERROR_CODES.filter((code) => !doc.includes(`\`${code}\``));
  assert.deepEqual(missing, []);
});

test('every code used by an error class is in ERROR_CODES', () => {
  const used = [...source.matchAll(/'(FLINT_[A-Z_]+)'/g)].map((m) => m[1] as string);
  assert.ok(used.length >= ERROR_CODES.length);
  const unknown = used.filter((code) => !(ERROR_CODES as readonly string[]).includes(code));
  assert.deepEqual(unknown, []);
});

test('every error class anywhere in src/ declares a code listed in ERROR_CODES', () => {
  const declared = allSources.flatMap(({ file, text }) =>
    [...text.matchAll(/super\(\s*'(FLINT_[A-Z_]+)'/g)].map((m) => ({ file, code: m[1] as string })),
  );
  assert.ok(declared.some((d) => d.file.includes('task-errors')), 'the scan must reach subfolders (src/task/task-errors.ts)');
  const unknown = declared.filter((d) => !(ERROR_CODES as readonly string[]).includes(d.code));
  assert.deepEqual(unknown, []);
});
