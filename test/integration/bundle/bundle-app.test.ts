import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { test } from 'node:test';
import { AppBundleError, bundleApp } from '../../../src/io/bundle/bundle-app.ts';
import { tempDir } from '../../helpers/temp-dir.ts';

function app(files: Record<string, string>): string {
  const dir = tempDir('flint-bundle-');
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
  return dir;
}

test('bundles a TypeScript app with its imports and a flint import into one module listing its exports', async () => {
  const dir = app({
    'fake-flint.ts': 'export const flintVersion: string = "test";\n',
    'math.ts': 'export function cube(x: number): number { return x * x * x; }\n',
    'main.ts': [
      "import { flintVersion } from 'flint';",
      "import { createHash } from 'node:crypto';",
      "export { cube } from './math.ts';",
      'export function square(x: number): number { return x * x; }',
      'export const digest = (s: string): string => createHash("sha256").update(s + flintVersion).digest("hex").slice(0, 8);',
      'function hidden(): number { return 1; }',
      'void hidden;',
    ].join('\n'),
  });
  const bundle = await bundleApp(join(dir, 'main.ts'), { flintEntry: join(dir, 'fake-flint.ts') });
  assert.deepEqual([...bundle.exports].sort(), ['cube', 'digest', 'square']);
  assert.match(bundle.hash, /^[0-9a-f]{64}$/);
  const out = join(dir, `${bundle.hash}.mjs`);
  writeFileSync(out, bundle.code);
  const mod = (await import(pathToFileURL(out).href)) as { square(x: number): number; cube(x: number): number; digest(s: string): string };
  assert.equal(mod.square(7), 49);
  assert.equal(mod.cube(3), 27);
  assert.equal(mod.digest('a').length, 8);
});

test('the same sources give the same hash; a change gives another', async () => {
  const dir = app({ 'main.ts': 'export const n = 1;\n', 'f.ts': 'export {};\n' });
  const a = await bundleApp(join(dir, 'main.ts'), { flintEntry: join(dir, 'f.ts') });
  const b = await bundleApp(join(dir, 'main.ts'), { flintEntry: join(dir, 'f.ts') });
  assert.equal(a.hash, b.hash);
  writeFileSync(join(dir, 'main.ts'), 'export const n = 2;\n');
  const c = await bundleApp(join(dir, 'main.ts'), { flintEntry: join(dir, 'f.ts') });
  assert.notEqual(a.hash, c.hash);
});

test('a syntax error or a missing import is an AppBundleError naming the file and line', async () => {
  const dir = app({ 'main.ts': 'export const x = ;\n', 'f.ts': 'export {};\n', 'imp.ts': "import './nope.ts';\n" });
  await assert.rejects(bundleApp(join(dir, 'main.ts'), { flintEntry: join(dir, 'f.ts') }), (err: unknown) => {
    return err instanceof AppBundleError && new RegExp(`^cannot bundle ${join(dir, 'main.ts')}: Unexpected ";" \\(\\S*main\\.ts:1\\)$`).test(err.message);
  });
  await assert.rejects(bundleApp(join(dir, 'imp.ts'), { flintEntry: join(dir, 'f.ts') }), (err: unknown) => {
    return err instanceof AppBundleError && /nope\.ts/.test(err.message);
  });
});
