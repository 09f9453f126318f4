// The executor's code cache on a real file system (src/io/executor/load-app-code.ts): chunked fetch, sha256
// check, atomic placement, reuse of a good cached copy (marked as used), replacement of a bad one, no stray files on
// failure; and the worker's cleanup of the bundles no executor uses any more (src/io/worker-files/app-code-dir.ts),
// also while an executor takes the bundle up.

import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, readdirSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { loadAppCode, markUsed, type FetchCodeChunk } from '../../../src/io/executor/load-app-code.ts';
import { removeOldAppCode } from '../../../src/io/worker-files/app-code-dir.ts';
import { tempDir } from '../../helpers/temp-dir.ts';

const root = tempDir('flint-code-cache-');
after(() => rmSync(root, { recursive: true, force: true }));

const CODE = Buffer.from('export function square(x) { return x * x; }\n');
const HASH = createHash('sha256').update(CODE).digest('hex');
let dirs = 0;

function cacheDir(): string {
  return join(root, `app-${++dirs}`, 'code');
}

/** Serves `code` like a driver, recording every ask; `maxBytes` makes it answer with less than asked. */
function server(code: Uint8Array, maxBytes = Infinity) {
  const asks: Array<[number, number]> = [];
  const fetchChunk: FetchCodeChunk = async (offset, length) => {
    asks.push([offset, length]);
    return code.subarray(offset, offset + Math.min(length, maxBytes));
  };
  return { asks, fetchChunk };
}

test('fetches the bundle in chunks, verifies it and places it as <hash>.mjs', async () => {
  const dir = cacheDir();
  const { asks, fetchChunk } = server(CODE);
  const loaded = await loadAppCode({ hash: HASH, bytes: CODE.byteLength, cacheDir: dir, chunkBytes: 16, fetchChunk });
  assert.deepEqual(loaded, { path: join(dir, `${HASH}.mjs`), fetched: true });
  assert.deepEqual(asks, [[0, 16], [16, 16], [32, CODE.byteLength - 32]]);
  assert.deepEqual(readFileSync(loaded.path), CODE);
  assert.deepEqual(readdirSync(dir), [`${HASH}.mjs`], 'no temporary file is left');
});

test('takes chunks shorter than asked for', async () => {
  const { asks, fetchChunk } = server(CODE, 7);
  const loaded = await loadAppCode({ hash: HASH, bytes: CODE.byteLength, cacheDir: cacheDir(), chunkBytes: 16, fetchChunk });
  assert.deepEqual(readFileSync(loaded.path), CODE);
  assert.equal(asks.length, Math.ceil(CODE.byteLength / 7));
});

test('a cached copy with the right hash is used without fetching; a corrupt one is fetched again', async () => {
  const dir = cacheDir();
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, `${HASH}.mjs`), CODE);
  const idle = server(CODE);
  assert.deepEqual(await loadAppCode({ hash: HASH, bytes: CODE.byteLength, cacheDir: dir, chunkBytes: 1024, fetchChunk: idle.fetchChunk }), {
    path: join(dir, `${HASH}.mjs`),
    fetched: false,
  });
  assert.deepEqual(idle.asks, []);
  writeFileSync(join(dir, `${HASH}.mjs`), 'truncated');
  const busy = server(CODE);
  const loaded = await loadAppCode({ hash: HASH, bytes: CODE.byteLength, cacheDir: dir, chunkBytes: 1024, fetchChunk: busy.fetchChunk });
  assert.equal(loaded.fetched, true);
  assert.deepEqual(readFileSync(loaded.path), CODE);
});

test('bytes that do not hash to the expected sha256 are refused, and nothing is left behind', async () => {
  const dir = cacheDir();
  const tampered = Buffer.from(CODE);
  tampered[0] = 0x45;
  const { fetchChunk } = server(tampered);
  await assert.rejects(loadAppCode({ hash: HASH, bytes: CODE.byteLength, cacheDir: dir, chunkBytes: 1024, fetchChunk }), /the fetched code has sha256 [0-9a-f]{64}, not /);
  assert.deepEqual(readdirSync(dir), []);
});

test('an empty or oversized chunk, or a failed ask, ends the fetch with an error and no stray file', async () => {
  const cases: Array<[FetchCodeChunk, RegExp]> = [
    [async () => new Uint8Array(0), /the driver sent 0 bytes of code at offset 0; expected 1 to \d+/],
    [async () => new Uint8Array(CODE.byteLength + 1), /sent \d+ bytes of code at offset 0/],
    [async () => Promise.reject(new Error('ask timed out')), /ask timed out/],
  ];
  for (const [fetchChunk, message] of cases) {
    const dir = cacheDir();
    await assert.rejects(loadAppCode({ hash: HASH, bytes: CODE.byteLength, cacheDir: dir, chunkBytes: 1024, fetchChunk }), message);
    assert.deepEqual(readdirSync(dir), []);
  }
});

test('a hash that is not a sha256 in hex is refused before any file is touched', async () => {
  const dir = cacheDir();
  const { asks, fetchChunk } = server(CODE);
  for (const hash of ['../../../etc/passwd', HASH.toUpperCase(), `${HASH}0`, '']) {
    await assert.rejects(loadAppCode({ hash, bytes: CODE.byteLength, cacheDir: dir, chunkBytes: 1024, fetchChunk }), /is not a sha256 in hex/);
  }
  assert.deepEqual(asks, []);
  assert.throws(() => readdirSync(dir), /ENOENT/);
});

test("using a cached copy marks it as used now, so the worker's cleanup keeps it", async () => {
  const dir = cacheDir();
  mkdirSync(dir, { recursive: true });
  const path = join(dir, `${HASH}.mjs`);
  writeFileSync(path, CODE);
  const weekAgo = new Date(Date.now() - 7 * 86_400_000);
  utimesSync(path, weekAgo, weekAgo);
  const before = Date.now();
  const { fetchChunk } = server(CODE);
  assert.equal((await loadAppCode({ hash: HASH, bytes: CODE.byteLength, cacheDir: dir, chunkBytes: 1024, fetchChunk })).fetched, false);
  assert.ok(statSync(path).mtimeMs >= before - 1_000, `mtime ${new Date(statSync(path).mtimeMs).toISOString()} was not set to now`);
});

test("the worker's cleanup removes the bundles and fetch leftovers unused since its cut-off, and nothing else", async () => {
  const dir = join(root, 'shared', '.app-code');
  mkdirSync(dir, { recursive: true });
  const other = createHash('sha256').update('other').digest('hex');
  const names = {
    oldBundle: `${HASH}.mjs`,
    newBundle: `${other}.mjs`,
    oldTemp: `.${HASH}.0f8e0c0e-4f5a-4b8e-9a1e-3c2d1b0a9f8e.tmp`,
    notCode: 'notes.txt',
    notHash: 'abc.mjs',
  };
  for (const name of Object.values(names)) writeFileSync(join(dir, name), 'x');
  mkdirSync(join(dir, `${'a'.repeat(64)}.mjs`)); // a directory with a bundle's name is not a bundle
  const old = new Date(Date.now() - 8 * 86_400_000);
  for (const name of [names.oldBundle, names.oldTemp, names.notCode, names.notHash, `${'a'.repeat(64)}.mjs`]) utimesSync(join(dir, name), old, old);
  const cutOff = Date.now() - 7 * 86_400_000;
  assert.equal(await removeOldAppCode(dir, cutOff), 2);
  assert.deepEqual(readdirSync(dir).sort(), [names.newBundle, 'a'.repeat(64) + '.mjs', names.notHash, names.notCode].sort());
  assert.equal(await removeOldAppCode(join(root, 'no-such-dir'), cutOff), 0, 'a missing directory has nothing to remove');
});

/** An old bundle in a directory of its own, as the worker's `.app-code` holds it. */
function oldBundle(): { dir: string; path: string } {
  const dir = join(root, `sweep-${++dirs}`, '.app-code');
  mkdirSync(dir, { recursive: true });
  const path = join(dir, `${HASH}.mjs`);
  writeFileSync(path, CODE);
  const old = new Date(Date.now() - 8 * 86_400_000);
  utimesSync(path, old, old);
  return { dir, path };
}

/** The cleanup sweeping an old bundle while an executor loads it, at the moment `when` names. */
async function sweepWhileLoading(when: 'beforeTake' | 'afterTake') {
  const { dir, path } = oldBundle();
  const { asks, fetchChunk } = server(CODE);
  let loaded: Awaited<ReturnType<typeof loadAppCode>> | undefined;
  const load = async (): Promise<void> => {
    loaded = await loadAppCode({ hash: HASH, bytes: CODE.byteLength, cacheDir: dir, chunkBytes: 1024, fetchChunk });
  };
  const removed = await removeOldAppCode(dir, Date.now() - 7 * 86_400_000, { [when]: load });
  return { dir, path, asks, loaded, removed };
}

test('a bundle an executor takes up while the cleanup is removing it stays, whole, and nothing is left aside', async () => {
  // The executor checks the bundle and marks it as used after the cleanup found it old, before it is taken aside.
  const { dir, path, asks, loaded, removed } = await sweepWhileLoading('beforeTake');
  assert.equal(removed, 0);
  assert.deepEqual(loaded, { path, fetched: false });
  assert.deepEqual(asks, [], 'the cached copy was used');
  assert.deepEqual(readFileSync(path), CODE);
  assert.deepEqual(readdirSync(dir), [`${HASH}.mjs`]);
});

test('an executor looking for a bundle while the cleanup holds it aside fetches it; the old copy goes', async () => {
  const { dir, path, asks, loaded, removed } = await sweepWhileLoading('afterTake');
  assert.equal(removed, 1, 'the old copy was removed');
  assert.deepEqual(loaded, { path, fetched: true });
  assert.ok(asks.length > 0);
  assert.deepEqual(readFileSync(path), CODE, 'the fetched copy is in place');
  assert.deepEqual(readdirSync(dir), [`${HASH}.mjs`]);
});

test('a bundle still unused once aside is removed; markUsed says whether the file is there', async () => {
  const { dir, path } = oldBundle();
  assert.equal(await removeOldAppCode(dir, Date.now() - 7 * 86_400_000, { beforeTake: async () => {} }), 1);
  assert.deepEqual(readdirSync(dir), []);
  assert.equal(await markUsed(path), false);
  writeFileSync(path, CODE);
  const weekAgo = new Date(Date.now() - 7 * 86_400_000);
  utimesSync(path, weekAgo, weekAgo);
  const before = Date.now();
  assert.equal(await markUsed(path), true);
  assert.ok(statSync(path).mtimeMs >= before - 1_000);
});
