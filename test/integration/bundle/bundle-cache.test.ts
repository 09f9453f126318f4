// The bundle cache (src/io/bundle/bundle-cache.ts) with real esbuild builds of apps in temporary directories:
// what is reused, what is built again, and what is refused.

import assert from 'node:assert/strict';
import { chmodSync, chownSync, mkdirSync, readdirSync, readFileSync, rmSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { after, test } from 'node:test';
import { FlintConf } from '../../../src/conf/flint-conf.ts';
import { bundleApp, type AppBundle } from '../../../src/io/bundle/bundle-app.ts';
import { BundleCache, BundleCacheError, MAX_ENTRIES, defaultBundleCacheDir, openBundleCache, racyMs } from '../../../src/io/bundle/bundle-cache.ts';
import { tempDir } from '../../helpers/temp-dir.ts';

const root = tempDir('flint-bundle-cache-');
after(() => rmSync(root, { recursive: true, force: true }));
let made = 0;

/** A fresh directory under the test's root. */
function freshDir(name: string): string {
  const dir = join(root, `${name}-${made++}`);
  mkdirSync(dir, { recursive: true });
  return dir;
}

/** Sets the mtimes of `paths` a minute back, as of files written before the build (not "racy": bundle-cache.ts). */
function age(...paths: string[]): void {
  const past = new Date(Date.now() - 60_000);
  for (const p of paths) utimesSync(p, past, past);
}

/** An app in a directory of its own, its files and the directory aged. Returns the directory. */
function app(files: Record<string, string>): string {
  const dir = freshDir('app');
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
  age(...Object.keys(files).map((n) => join(dir, n)), dir);
  return dir;
}

function bundle(dir: string, cache: BundleCache): Promise<AppBundle> {
  return bundleApp(join(dir, 'main.ts'), { flintEntry: join(dir, 'flint.ts'), cache });
}

/** The `value` the bundle exports, imported from a copy outside the app's directory (which it would change). */
async function valueOf(b: AppBundle): Promise<unknown> {
  const out = join(freshDir('out'), `${b.hash}.mjs`);
  writeFileSync(out, b.code);
  return ((await import(pathToFileURL(out).href)) as { value: unknown }).value;
}

test('an app bundled again from unchanged sources comes from the cache, byte for byte', async () => {
  const dir = app({ 'flint.ts': 'export {};\n', 'lib.ts': 'export const base = 40;\n', 'main.ts': "import { base } from './lib';\nexport const value = base + 2;\nexport function task(x: number): number { return x; }\n" });
  const cache = BundleCache.open(freshDir('cache'));
  const first = await bundle(dir, cache);
  assert.equal(first.cached, false);
  assert.equal(first.cacheError, undefined);
  const second = await bundle(dir, cache);
  assert.equal(second.cached, true);
  assert.equal(second.hash, first.hash);
  assert.deepEqual(Buffer.from(second.code), Buffer.from(first.code));
  assert.deepEqual([...second.exports].sort(), ['task', 'value']);
  assert.equal(await valueOf(second), 42);
  // Another BundleCache on the same directory (another process) finds it too.
  assert.equal((await bundle(dir, BundleCache.open(cache.dir))).cached, true);
});

test('a changed input is bundled again, and the new bundle replaces the entry', async () => {
  const dir = app({ 'flint.ts': 'export {};\n', 'lib.ts': 'export const base = 40;\n', 'main.ts': "import { base } from './lib';\nexport const value = base + 2;\n" });
  const cache = BundleCache.open(freshDir('cache'));
  const first = await bundle(dir, cache);
  writeFileSync(join(dir, 'lib.ts'), 'export const base = 50;\n');
  age(join(dir, 'lib.ts'));
  const second = await bundle(dir, cache);
  assert.equal(second.cached, false);
  assert.notEqual(second.hash, first.hash);
  assert.equal(await valueOf(second), 52);
  const third = await bundle(dir, cache);
  assert.equal(third.cached, true);
  assert.equal(third.hash, second.hash);
});

test('a file added beside an input (an import that now resolves elsewhere) is bundled again', async () => {
  const dir = app({ 'flint.ts': 'export {};\n', 'lib.ts': 'export const base = 1;\n', 'main.ts': "import { base } from './lib';\nexport const value = base;\n" });
  const cache = BundleCache.open(freshDir('cache'));
  assert.equal(await valueOf(await bundle(dir, cache)), 1);
  assert.equal((await bundle(dir, cache)).cached, true);
  // esbuild resolves './lib' to lib.tsx before lib.ts: the input files are unchanged, the directory is not.
  writeFileSync(join(dir, 'lib.tsx'), 'export const base = 2;\n');
  const again = await bundle(dir, cache);
  assert.equal(again.cached, false);
  assert.equal(await valueOf(again), 2);
});

test('inputs modified since shortly before the build are not cached ("racy"); a file saved a moment before is', async () => {
  // Trusted to within 50 ms where timestamps have a fraction of a second, to within a second where they do not.
  assert.equal(racyMs(1_796_376_585_215.123), 50);
  assert.equal(racyMs(1_796_376_585_000), 1_000);
  const dir = app({ 'flint.ts': 'export {};\n', 'main.ts': 'export const value = 1;\n' });
  const main = join(dir, 'main.ts');
  writeFileSync(main, 'export const value = 3;\n');
  // Modified (as its timestamp says) after the build started: what the build read may not be what is hashed.
  const later = (Date.now() + 60_000) / 1000 + 0.000_123;
  utimesSync(main, later, later);
  const cache = BundleCache.open(freshDir('cache'));
  assert.equal((await bundle(dir, cache)).cached, false);
  assert.deepEqual(readdirSync(cache.dir), []);
  const next = await bundle(dir, cache);
  assert.equal(next.cached, false);
  assert.equal(await valueOf(next), 3);
  // Saved a quarter of a second before the build (a sub-second timestamp): cached by this very build.
  writeFileSync(main, 'export const value = 4;\n');
  const before = (Date.now() - 250) / 1000 + 0.000_123;
  utimesSync(main, before, before);
  const saved = await bundle(dir, cache);
  assert.equal(saved.cached, false);
  assert.equal(await valueOf(saved), 4);
  const again = await bundle(dir, cache);
  assert.equal(again.cached, true, 'the run right after takes the bundle from the cache');
  assert.equal(await valueOf(again), 4);
});

test('a bundle altered in the cache, or an unreadable entry, is not used: esbuild builds it again', async () => {
  const dir = app({ 'flint.ts': 'export {};\n', 'main.ts': 'export const value = 7;\n' });
  const cache = BundleCache.open(freshDir('cache'));
  const first = await bundle(dir, cache);
  assert.equal((await bundle(dir, cache)).cached, true);
  const stored = join(cache.dir, `${first.hash}.mjs`);
  writeFileSync(stored, 'export const value = 666;\n');
  const second = await bundle(dir, cache);
  assert.equal(second.cached, false);
  assert.equal(second.hash, first.hash);
  assert.equal(await valueOf(second), 7);
  assert.equal(readFileSync(stored).equals(Buffer.from(first.code)), true, 'the entry is written anew');
  const [manifest] = readdirSync(cache.dir).filter((n) => n.endsWith('.json'));
  assert.ok(manifest !== undefined);
  for (const text of ['{not json', '{"format":2}', '{"format":1,"hash":"x","exports":[],"files":[],"dirs":[]}']) {
    writeFileSync(join(cache.dir, manifest), text);
    const b = await bundle(dir, cache);
    assert.equal(b.cached, false, text);
    assert.equal(await valueOf(b), 7);
  }
  assert.equal((await bundle(dir, cache)).cached, true, 'each rebuild wrote the entry anew');
});

test('the cache keeps the most recently used entries, and no bundle that no entry names', () => {
  const cache = BundleCache.open(freshDir('cache'));
  const src = freshDir('src');
  const input = join(src, 'in.ts');
  writeFileSync(input, 'export {};\n');
  age(input, src);
  const entry = (i: number): { key: string; hash: string } => ({ key: i.toString(16).padStart(64, '0'), hash: (i + 1000).toString(16).padStart(64, 'f') });
  const total = MAX_ENTRIES + 3;
  for (let i = 0; i < total; i++) {
    const { key, hash } = entry(i);
    assert.equal(cache.store(key, { code: new Uint8Array([i]), hash, exports: [] }, [input], Date.now()), true);
    // Distinct, increasing use times, whatever the filesystem's timestamp granularity.
    const t = new Date(Date.now() - (total - i) * 1000);
    utimesSync(join(cache.dir, `${key}.json`), t, t);
  }
  const names = readdirSync(cache.dir);
  assert.equal(names.filter((n) => n.endsWith('.json')).length, MAX_ENTRIES);
  assert.equal(names.filter((n) => n.endsWith('.mjs')).length, MAX_ENTRIES);
  for (const i of [0, 1, 2]) assert.ok(!names.includes(`${entry(i).key}.json`) && !names.includes(`${entry(i).hash}.mjs`), `entry ${i} is gone`);
  assert.ok(names.includes(`${entry(total - 1).key}.json`) && names.includes(`${entry(total - 1).hash}.mjs`));
  assert.ok(!names.some((n) => n.endsWith('.tmp')));
});

test('a cache directory others may write to, another user\'s, or a symbolic link is refused with the reason', () => {
  const open = freshDir('open');
  chmodSync(open, 0o777);
  assert.throws(() => BundleCache.open(open), (err: unknown) => err instanceof BundleCacheError && /may be written by others \(mode 777\); expected 700: its bundles would run in the executors$/.test(err.message));
  const target = freshDir('target');
  chmodSync(target, 0o700);
  const link = join(root, `link-${made++}`);
  symlinkSync(target, link);
  assert.throws(() => BundleCache.open(link), (err: unknown) => err instanceof BundleCacheError && /is not a directory \(a symbolic link or a file\)/.test(err.message));
  const file = join(root, `file-${made++}`);
  writeFileSync(file, '');
  assert.throws(() => BundleCache.open(join(file, 'sub')), (err: unknown) => err instanceof BundleCacheError && /cannot create the bundle cache directory/.test(err.message));
  if (process.getuid?.() === 0) {
    const theirs = freshDir('theirs');
    chmodSync(theirs, 0o700);
    // root may hand a directory to another user; any other user cannot, and then this case is not checked here.
    chownSync(theirs, 4242, 4242);
    assert.throws(() => BundleCache.open(theirs), (err: unknown) => err instanceof BundleCacheError && /belongs to user 4242/.test(err.message));
  }
  // A new directory is made private.
  const made700 = BundleCache.open(join(freshDir('parent'), 'a', 'b'));
  assert.ok(made700.dir.endsWith(join('a', 'b')));
});

test('flint.app.bundleCache.* choose the cache: off, another directory, or a warning and no cache when unsafe', () => {
  const warnings: string[] = [];
  const warn = (m: string): void => void warnings.push(m);
  assert.equal(openBundleCache(new FlintConf([['flint.app.bundleCache.enabled', 'false']]), warn), undefined);
  const dir = join(freshDir('conf'), 'cache');
  assert.equal(openBundleCache(new FlintConf([['flint.app.bundleCache.dir', dir]]), warn)?.dir, dir);
  const open = freshDir('open');
  chmodSync(open, 0o777);
  assert.equal(openBundleCache(new FlintConf([['flint.app.bundleCache.dir', open]]), warn), undefined);
  assert.equal(warnings.length, 1);
  assert.match(warnings[0] ?? '', /may be written by others .*; bundling without a cache \(flint\.app\.bundleCache\.dir chooses another directory\)/);
  assert.throws(() => openBundleCache(new FlintConf([['flint.app.bundleCache.enabled', 'maybe']]), warn), /flint\.app\.bundleCache\.enabled/);
  assert.equal(defaultBundleCacheDir({ XDG_CACHE_HOME: '/x/cache' }), '/x/cache/flint/bundles');
  assert.match(defaultBundleCacheDir({}), /\/\.cache\/flint\/bundles$/);
});
