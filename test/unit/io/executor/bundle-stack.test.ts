// A task's error stack through the bundle's inline source map (src/io/executor/bundle-stack.ts): frames in the
// bundle are named by the application's file, line and column; other frames, and a bundle without a map, stay.
import assert from 'node:assert/strict';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { pathToFileURL } from 'node:url';
import { build } from 'esbuild';
import { stackInSources } from '../../../../src/io/executor/bundle-stack.ts';
import { tempDir } from '../../../helpers/temp-dir.ts';

const dir = tempDir('flint-bundle-stack-');
after(() => rmSync(dir, { recursive: true, force: true }));

const SOURCE = ['// an application', 'export function parse(line: string): number {', "  if (line === '') throw new Error('empty line');", '  return line.length;', '}', ''].join('\n');

async function bundled(name: string, sourcemap: 'inline' | false): Promise<string> {
  writeFileSync(join(dir, 'app.ts'), SOURCE);
  const outfile = join(dir, `${name}.mjs`);
  // The options of src/io/bundle/bundle-app.ts that shape the map.
  await build({ entryPoints: [join(dir, 'app.ts')], bundle: true, format: 'esm', platform: 'node', outfile, absWorkingDir: dir, sourcemap, sourcesContent: false, logLevel: 'silent' });
  return outfile;
}

async function thrownBy(bundle: string): Promise<string> {
  const app = (await import(pathToFileURL(bundle).href)) as { parse(line: string): number };
  try {
    app.parse('');
  } catch (err) {
    return (err as Error).stack ?? '';
  }
  throw new Error('parse did not throw');
}

test("frames in the bundle are named by the application's file, line and column", async () => {
  const bundle = await bundled('with-map', 'inline');
  const stack = await thrownBy(bundle);
  assert.match(stack, /with-map\.mjs:\d+:\d+/, 'V8 names the bundle');
  const mapped = stackInSources(stack, bundle);
  // Line 3, column 26: where `new Error` is.
  assert.match(mapped, /^Error: empty line\n +at (?:Module\.)?parse \(app\.ts:3:26\)$/m);
  assert.ok(!mapped.includes('with-map.mjs'), mapped);
  assert.equal(stackInSources(mapped, bundle), mapped, 'nothing left to map');
});

test('a bundle without a source map, and a stack from elsewhere, are left as they are', async () => {
  const bundle = await bundled('without-map', false);
  const stack = await thrownBy(bundle);
  assert.equal(stackInSources(stack, bundle), stack);
  const other = 'Error: x\n    at f (file:///elsewhere/app.mjs:1:2)';
  assert.equal(stackInSources(other, bundle), other);
});
