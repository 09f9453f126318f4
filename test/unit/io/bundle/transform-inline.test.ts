// The inline-function transform (src/io/bundle/transform-inline.ts): which names are captures, which functions
// are refused and why, ids that agree run after run and between the driver's module hook and the executors'
// bundle, and transformed code that behaves as the original (Array methods included).
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readdirSync, utimesSync, writeFileSync } from 'node:fs';
import { SourceMap } from 'node:module';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, test } from 'node:test';
import { bundleApp } from '../../../../src/io/bundle/bundle-app.ts';
import { BUNDLE_MARKER, isAppPath, isFlintBundle, transformInline, transformedText, type InlineSite } from '../../../../src/io/bundle/transform-inline.ts';
import { BundleCache, MAX_TRANSFORMED } from '../../../../src/io/bundle/bundle-cache.ts';
import { sourcePath } from '../../../../src/util/install.ts';
import { tempDir } from '../../../helpers/temp-dir.ts';

const ROOT = '/apps/demo';

function sites(source: string, path = `${ROOT}/main.ts`): InlineSite[] {
  return [...(transformInline(source, { path, rootDir: ROOT })?.sites ?? [])];
}

function only(source: string): InlineSite {
  const found = sites(source);
  assert.equal(found.length, 1, JSON.stringify(found));
  return found[0] as InlineSite;
}

const HEAD = "import { FlintContext } from 'flint';\nimport { readFileSync } from 'node:fs';\n";

describe('captures', () => {
  test('locals of enclosing functions and blocks are captures; module bindings, imports and globals are not', () => {
    const site = only(
      HEAD +
        [
          'const top = 1;',
          'export function helper(x: number) { return x; }',
          'export async function main(ctx: FlintContext, factor: number) {',
          '  const local = 2;',
          '  if (factor > 0) {',
          '    const inBlock = 3;',
          '    return ctx.range(0, 4).map((x) => helper(x) * factor + local + inBlock + top + Math.max(x, 0) + readFileSync.length);',
          '  }',
          '}',
        ].join('\n'),
    );
    assert.deepEqual([...site.captures].sort(), ['factor', 'inBlock', 'local']);
    assert.equal(site.refused, undefined);
    assert.equal(site.where, 'main.ts:9');
  });

  test('names used only in type positions are not captures; names used in nested functions are', () => {
    const [site, inner] = sites(
      HEAD +
        [
          'export function main(ds: { map(f: unknown): unknown }) {',
          '  type Local = { n: number };',
          '  const k = 2;',
          '  return ds.map((x: Local): Local => ({ n: [x.n].map(function (y) { return y * k; })[0] as Local["n"] }));',
          '}',
        ].join('\n'),
    );
    assert.deepEqual(site?.captures, ['k']);
    assert.deepEqual(inner?.captures, ['k'], 'the Array map inside is an inline function of its own');
  });

  test('a function that declares its own names captures nothing', () => {
    const site = only(HEAD + 'export function main(ds: any) {\n  const k = 1;\n  return ds.filter(function named(x: number) { const k = 2; return named.length + x > k; });\n}\n');
    assert.deepEqual(site.captures, []);
  });

  test('a const initialised with a function is an inline function too, keeping its name', () => {
    const out = transformInline(HEAD + 'export function main(ds: any, k: number) {\n  const scale = (x: number) => x * k;\n  return ds.map(scale);\n}\n', { path: `${ROOT}/main.ts`, rootDir: ROOT });
    assert.deepEqual(out?.sites.map((s) => s.captures), [['k']]);
    assert.match(out?.code ?? '', /const scale = \(\(x: number\) => x \* k\); return scale; \}/);
  });
});

describe('refusals name the variable and the line', () => {
  test('a capture assigned after the function', () => {
    const site = only(HEAD + 'export function main(ds: any) {\n  let offset = 1;\n  const out = ds.map((x: number) => x + offset);\n  offset = 2;\n  return out;\n}\n');
    assert.match(site.refused ?? '', /^the inline function at main\.ts:5 cannot be sent to executors: it captures "offset", which is assigned again at line 6/);
    assert.match(site.refused ?? '', /copy it into a const just before the call/);
  });

  test('a capture assigned before the function (a loop counter included) is not refused', () => {
    assert.equal(only(HEAD + 'export function main(ds: any) {\n  let k = 1;\n  k = 2;\n  return ds.map((x: number) => x + k);\n}\n').refused, undefined);
    const loop = sites(HEAD + 'export function main(ds: any) {\n  for (let i = 0; i < 3; i++) ds = ds.map((x: number) => x + i);\n  return ds;\n}\n');
    assert.deepEqual(loop.map((s) => [s.captures, s.refused]), [[['i'], undefined]]);
  });

  test('a capture assigned inside the function, or by another function', () => {
    const inside = only(HEAD + 'export function main(ds: any) {\n  let total = 0;\n  return ds.foreach((x: number) => { total += x; });\n}\n');
    assert.match(inside.refused ?? '', /it assigns to "total" \(line 5\)/);
    const other = sites(HEAD + 'export function main(ds: any) {\n  let n = 0;\n  function bump() { n++; }\n  bump();\n  return ds.map((x: number) => x + n);\n}\n');
    assert.match(other[0]?.refused ?? '', /it captures "n", which is assigned again at line 5/);
  });

  test("an arrow that uses its enclosing function's this or arguments; a function expression's own are fine", () => {
    const self = only(HEAD + 'export class Job {\n  k = 1;\n  run(ds: any) { return ds.map((x: number) => x + this.k); }\n}\n');
    assert.match(self.refused ?? '', /it uses "this" \(line 5\) of the enclosing function/);
    const args = only(HEAD + 'export function main(ds: any) {\n  return ds.map((x: number) => x + arguments.length);\n}\n');
    assert.match(args.refused ?? '', /it uses "arguments" \(line 4\)/);
    assert.equal(only(HEAD + 'export function main(ds: any) {\n  return ds.map(function (this: unknown, x: number) { return this === undefined ? arguments.length + x : x; });\n}\n').refused, undefined);
  });

  test('a const function that calls itself', () => {
    const site = only(HEAD + 'export function main(ds: any) {\n  const fact = (n: number): number => (n <= 1 ? 1 : n * fact(n - 1));\n  return ds.map(fact);\n}\n');
    assert.match(site.refused ?? '', /it calls itself through the const "fact"/);
  });
});

describe('ids', () => {
  const app = HEAD + 'export function main(ds: any, k: number) {\n  return ds.map((x: number) => x * k).filter((x: number) => x > k);\n}\n';

  test('are the same run after run, differ between functions, and name the file relative to the main module', () => {
    const a = sites(app).map((s) => s.id);
    const b = sites(app).map((s) => s.id);
    assert.deepEqual(a, b);
    assert.equal(new Set(a).size, 2);
    assert.ok(a.every((id) => /^[0-9a-f]{16}$/.test(id)));
    assert.notDeepEqual(sites(app, `${ROOT}/lib/other.ts`).map((s) => s.id), a);
    assert.deepEqual(transformInline(app, { path: '/elsewhere/demo/main.ts', rootDir: '/elsewhere/demo' })?.sites.map((s) => s.id), a, 'the app moved as a whole keeps its ids');
  });

  test('are the same in the executors’ bundle and on the driver (its module hook)', async () => {
    const dir = tempDir('flint-inline-');
    writeFileSync(
      join(dir, 'main.ts'),
      [
        "import 'flint';",
        'const fake = { map: (f: unknown) => f };',
        'export function made(k: number): unknown { return fake.map((x: number) => x * k); }',
        'export const twice = (x: number): number => x * 2;',
        'export function nested(k: number): unknown { return [k].map((j) => fake.map((x: number) => x + j)); }',
      ].join('\n'),
    );
    const bundle = await bundleApp(join(dir, 'main.ts'), { flintEntry: sourcePath('src/api/remote.ts') });
    const bundlePath = join(dir, 'bundle.mjs');
    writeFileSync(bundlePath, bundle.code);
    const registry = `globalThis[Symbol.for('flint.inline')]`;
    const executor = run(dir, `globalThis[Symbol.for('flint.executor')] = true;\nawait import(${JSON.stringify(pathToFileURL(bundlePath).href)});\nconsole.log(JSON.stringify([...${registry}.sites.keys()].sort()));`);
    const driver = run(
      dir,
      [
        `import { registerFlintResolution } from ${JSON.stringify(pathToFileURL(sourcePath('src/api/resolve-flint.ts')).href)};`,
        `import { setLaunchContext } from ${JSON.stringify(pathToFileURL(sourcePath('src/api/launch-context.ts')).href)};`,
        'registerFlintResolution();',
        `setLaunchContext({ appMain: ${JSON.stringify(join(dir, 'main.ts'))}, appArgs: [], conf: [] });`,
        `const m = await import(${JSON.stringify(pathToFileURL(join(dir, 'main.ts')).href)});`,
        `const tags = [m.made(3), m.twice, ...m.nested(1)].map((f) => ${registry}.tags.get(f)?.id);`,
        `console.log(JSON.stringify({ sites: [...${registry}.sites.keys()].sort(), tags, made: m.made(3)(2) }));`,
      ].join('\n'),
    );
    const executorIds = JSON.parse(executor) as string[];
    const onDriver = JSON.parse(driver) as { sites: string[]; tags: string[]; made: number };
    assert.equal(executorIds.length, 4);
    assert.deepEqual(onDriver.sites, executorIds);
    assert.equal(onDriver.tags.length, 3);
    assert.ok(onDriver.tags.every((id) => executorIds.includes(id)), JSON.stringify(onDriver));
    assert.equal(onDriver.made, 6);
  });
});

/** Runs `code` as a module in a new Node process in `dir`; returns its stdout. */
function run(dir: string, code: string): string {
  const file = join(dir, `run-${Math.random().toString(36).slice(2)}.mjs`);
  writeFileSync(file, code);
  return execFileSync(process.execPath, [file], { encoding: 'utf8', cwd: dir }).trim();
}

describe('transformed modules kept between runs', () => {
  const app = HEAD + 'export function main(ds: any, k: number) {\n  return ds.map((x: number) => x * k);\n}\n';
  const opts = { path: `${ROOT}/main.ts`, rootDir: ROOT };

  test('the second run reads the text the first stored, under a key of the path, the app directory and the source', () => {
    const kept = new Map<string, string>();
    const cache = { lookupTransformed: (key: string) => kept.get(key), storeTransformed: (key: string, text: string) => void kept.set(key, text) };
    const first = transformedText(app, opts, cache);
    assert.match(first ?? '', /__flint\$inline\.tag\(/);
    assert.match(first ?? '', /\/\/# sourceMappingURL=data:application\/json;base64,/);
    assert.equal(kept.size, 1);
    const [key] = [...kept.keys()];
    kept.set(key as string, 'KEPT');
    assert.equal(transformedText(app, opts, cache), 'KEPT', 'read from the cache, not transformed again');
    transformedText(app, { ...opts, rootDir: '/apps' }, cache);
    transformedText(`${app}\n`, opts, cache);
    assert.equal(kept.size, 3, 'another app directory or another source is another entry');
    assert.equal(transformedText('export const n = 1;\n', opts, cache), undefined);
    assert.equal(kept.size, 3, 'a module the quick tests rule out is not kept');
    assert.equal(transformedText('const f = (x) => x;\nmodule.exports = f;\n', { ...opts, path: `${ROOT}/main.js` }, cache), undefined);
    assert.equal([...kept.values()].filter((v) => v === '').length, 1, 'a module parsed with nothing to transform (not an ES module) is kept as such');
  });

  test('BundleCache keeps them in its private directory, the least recently used beyond MAX_TRANSFORMED dropped', () => {
    const dir = join(tempDir('flint-inline-cache-'), 'cache');
    const cache = BundleCache.open(dir);
    const key = (i: number): string => createHash('sha256').update(String(i)).digest('hex');
    for (let i = 0; i <= MAX_TRANSFORMED; i++) {
      cache.storeTransformed(key(i), `text ${i}`);
      utimesSync(join(dir, `inline-${key(i)}.txt`), i, i);
    }
    cache.storeTransformed(key(MAX_TRANSFORMED + 1), 'last');
    assert.equal(cache.lookupTransformed(key(MAX_TRANSFORMED + 1)), 'last');
    assert.equal(cache.lookupTransformed(key(0)), undefined, 'the oldest was dropped');
    assert.equal(cache.lookupTransformed(key(1)), undefined);
    assert.equal(cache.lookupTransformed(key(2)), 'text 2');
    assert.equal(readdirSync(dir).filter((n) => n.startsWith('inline-')).length, MAX_TRANSFORMED);
    assert.throws(() => cache.lookupTransformed('../escape'), RangeError);
  });
});

describe('transformed code', () => {
  test('behaves as the original, Array methods of the same names included, and maps moved lines back', async () => {
    const dir = tempDir('flint-inline-');
    const source = [
      "import { strict } from 'node:assert';",
      'export function compute(k) {',
      '  const squares = [1, 2, 3].map((x) => x * x + k);',
      '  const big = squares.filter(function (x) { return x > k * 2; });',
      '  const sum = big.reduce((a, b) => a + b, 0);',
      '  const boom = () => { throw new Error("boom"); };',
      '  return { squares, big, sum, boom, same: strict === undefined };',
      '}',
    ].join('\n');
    const out = transformInline(source, { path: join(dir, 'main.js'), rootDir: dir });
    assert.ok(out !== undefined);
    assert.equal(out.sites.length, 4);
    const registry = pathToFileURL(sourcePath('src/api/inline-registry.ts')).href;
    const file = join(dir, 'main.mjs');
    writeFileSync(file, out.code.replace('import "flint";', `import ${JSON.stringify(registry)};`));
    const mod = (await import(pathToFileURL(file).href)) as { compute(k: number): { squares: number[]; big: number[]; sum: number; boom(): void } };
    const got = mod.compute(3);
    assert.deepEqual(got.squares, [4, 7, 12]);
    assert.deepEqual(got.big, [7, 12]);
    assert.equal(got.sum, 19);
    // The moved `boom` is at the end of the generated code; the source map takes it back to line 6.
    const generated = out.code.split('\n');
    const moved = generated.findIndex((l) => l.includes('throw new Error("boom")'));
    assert.ok(moved > 6, 'the function moved to the end');
    const entry = new SourceMap(JSON.parse(out.map)).findEntry(moved, (generated[moved] as string).indexOf('throw'));
    assert.equal('originalLine' in entry ? entry.originalLine + 1 : 0, 6);
    // Lines outside the moved text did not move.
    assert.equal(generated.findIndex((l) => l.includes('export function compute')), 1);
  });

  test('files that need nothing, CommonJS files and Flint bundles are left alone', () => {
    assert.equal(transformInline('export const n = 1;\n', { path: `${ROOT}/a.ts`, rootDir: ROOT }), undefined);
    // An app whose task functions are all exported is not even parsed (Babel is loaded only when needed).
    const exportedOnly = HEAD + 'export function sq(x: number) { return x * x; }\nexport async function main(ctx: FlintContext) {\n  return ctx.range(0, 4).map(sq).reduce(add);\n}\nconst add = function_of();\n';
    assert.equal(transformInline(exportedOnly, { path: `${ROOT}/main.ts`, rootDir: ROOT }), undefined);
    assert.equal(transformInline('module.exports = [1].map((x) => x + 1);\n', { path: `${ROOT}/a.js`, rootDir: ROOT }), undefined);
    const flint = ['/flint/src', '/flint/dist/builds/0123'];
    assert.equal(isAppPath(`${ROOT}/main.ts`, flint), true);
    assert.equal(isAppPath(`${ROOT}/node_modules/x/index.js`, flint), false);
    assert.equal(isAppPath('/flint/src/api/dataset.ts', flint), false);
    assert.equal(isAppPath('/flint/dist/builds/0123/chunk-ABC.mjs', flint), false, "the build's chunks, which a driver loads");
    assert.equal(isAppPath('/flint/dist/builds/01234/app.ts', flint), true, 'a sibling directory is not the build');
    assert.equal(isAppPath(`${ROOT}/types.d.ts`, flint), false);
    assert.equal(isFlintBundle(`${BUNDLE_MARKER}\nexport {}`), true);
    assert.equal(isFlintBundle(`#!/usr/bin/env node\n${BUNDLE_MARKER}\nexport {}`), true);
    assert.equal(isFlintBundle('export {}'), false);
  });
});

describe('loading Babel', () => {
  test('a file with no inline function is left as it is without loading Babel traverse; every shape of one is found', () => {
    // Each shape findCandidates takes, nested in functions, classes, blocks and TypeScript around them.
    const shapes = [
      'const double = (x: number) => x * 2;',
      'export function main() { { const scale = function (x: number) { return x * k; }; } }',
      'class Job { run(ds: any) { return ds.map((x: number) => x + 1); } }',
      'export async function main(ds: any) { return ds?.filter((x: number) => x > 0); }',
      "export function main(ds: any) { return ds.flatMap(function (line: string) { return line.split(' '); }); }",
      'export const run = <T,>(ds: T[]) => ds.map((x) => [x] as const);',
      'export function main(ds: any) { return ds.map?.((x: number) => x + 1); }',
      "export function main(ds: any) { return ds['filter']((x: number) => x > 0); }",
      'export function main(ds: any) { return ds[`flatMap`]?.(function (s: string) { return [s]; }); }',
    ];
    for (const shape of shapes) assert.ok(transformInline(`${HEAD}${shape}\n`, { path: `${ROOT}/main.ts`, rootDir: ROOT }) !== undefined, shape);
    // Look-alikes that are not inline functions, in a process of its own, so that nothing else has loaded Babel.
    const plain = [
      HEAD,
      '// Each task runs ds.map((x) => x * 2) on its partition: this comment passes the quick test, so the file is parsed.',
      'export function startedAt(): number { return Date.now(); }',
      'export const limit = 10;',
      'const { a } = { a: (x: number) => x };',
      'runApp(async () => {',
      '  const flint = await FlintContext.create({ appName: "x" });',
      '  [1, 2].forEach((x) => console.log(x));',
      '  await flint.parallelize([0], 1).map(startedAt).collect();',
      '});',
    ].join('\n');
    const script = [
      `import { createRequire } from 'node:module';`,
      `import { transformInline } from ${JSON.stringify(pathToFileURL(sourcePath('src/io/bundle/transform-inline.ts')).href)};`,
      `const out = transformInline(${JSON.stringify(plain)}, { path: '${ROOT}/main.ts', rootDir: '${ROOT}' });`,
      `const loaded = Object.keys(createRequire(import.meta.url).cache).filter((p) => p.includes('@babel'));`,
      'console.log(JSON.stringify({ out: out === undefined, traverse: loaded.some((p) => p.includes("traverse")), parser: loaded.some((p) => p.includes("parser")) }));',
    ].join('\n');
    const result = JSON.parse(execFileSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' })) as Record<string, boolean>;
    assert.deepEqual(result, { out: true, traverse: false, parser: true }, 'parsed, found nothing, left as it is, traverse never loaded');
  });
});
