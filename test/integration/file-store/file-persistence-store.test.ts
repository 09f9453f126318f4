import assert from 'node:assert/strict';
import { chmod, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { FilePersistenceStore } from '../../../src/io/file-store/file-persistence-store.ts';
import { encodeRecord } from '../../../src/io/file-store/record-codec.ts';
import { isFlintError } from '../../../src/errors.ts';

let root: string;
let n = 0;
const freshDir = (): string => join(root, `store-${n++}`);

before(async () => {
  root = await mkdtemp(join(tmpdir(), 'flint-file-store-'));
});
after(() => rm(root, { recursive: true, force: true }));

const worker = (id: string) => ({
  kind: 'worker',
  id,
  host: '10.0.0.5',
  port: 41234,
  workerAddress: `flint://Worker@10.0.0.5:41234`,
  cores: 4,
  memoryMb: 8192,
  webUiUrl: 'http://10.0.0.5:8081',
});

test('creates a missing directory with mode 0700, and round-trips records sorted by key', async () => {
  const dir = join(freshDir(), 'nested');
  const store = await FilePersistenceStore.open(dir);
  assert.equal((await stat(dir)).mode & 0o777, 0o700);
  const app = { kind: 'app', id: 'app-1', desc: { name: 'π', args: ['a', ''] }, bytes: new Uint8Array([0, 255]), optional: undefined };
  await store.put('worker_b', worker('b'));
  await store.put('worker_a', worker('a'));
  await store.put('app_app-1', app);
  assert.deepEqual(await store.list('worker_'), [
    { key: 'worker_a', value: worker('a') },
    { key: 'worker_b', value: worker('b') },
  ]);
  const [entry] = await store.list('app_');
  assert.deepEqual(entry, { key: 'app_app-1', value: { kind: 'app', id: 'app-1', desc: { name: 'π', args: ['a', ''] }, bytes: new Uint8Array([0, 255]) } });
  assert.equal((await store.list('')).length, 3);
  assert.deepEqual(await store.list('driver_'), []);
  // A second store on the same directory (a restarted master) reads the same values.
  const reopened = await FilePersistenceStore.open(dir);
  assert.deepEqual((await reopened.list('worker_')).map((e) => e.key), ['worker_a', 'worker_b']);
});

test('put overwrites; delete removes; deleting a missing key resolves', async () => {
  const store = await FilePersistenceStore.open(freshDir());
  await store.put('driver_d1', { v: 1 });
  await store.put('driver_d1', { v: 2 });
  assert.deepEqual(await store.list('driver_'), [{ key: 'driver_d1', value: { v: 2 } }]);
  await store.delete('driver_d1');
  await store.delete('driver_d1');
  await store.delete('driver_never');
  assert.deepEqual(await store.list(''), []);
});

test('a corrupt, a truncated, an empty and a foreign file are reported and skipped, never thrown', async () => {
  const dir = freshDir();
  const store = await FilePersistenceStore.open(dir);
  await store.put('worker_good', worker('good'));
  await store.put('worker_trunc', worker('trunc'));
  const full = await readFile(join(dir, 'worker_trunc'));
  await writeFile(join(dir, 'worker_trunc'), full.subarray(0, full.length - 5));
  const flipped = Buffer.from(encodeRecord(worker('corrupt')));
  flipped[flipped.length - 3] = flipped[flipped.length - 3]! ^ 0xff;
  await writeFile(join(dir, 'worker_corrupt'), flipped);
  await writeFile(join(dir, 'worker_empty'), '');
  await writeFile(join(dir, 'worker_json'), JSON.stringify(worker('json')));
  const unreadable: Array<[string, string]> = [];
  const entries = await store.list('worker_', (key, reason) => unreadable.push([key, reason]));
  assert.deepEqual(entries, [{ key: 'worker_good', value: worker('good') }]);
  assert.deepEqual(unreadable.map(([k]) => k), ['worker_corrupt', 'worker_empty', 'worker_json', 'worker_trunc']);
  assert.match(unreadable.find(([k]) => k === 'worker_trunc')![1], /checksum|truncated/);
  assert.match(unreadable.find(([k]) => k === 'worker_json')![1], /not a Flint record/);
  // Without a handler the bad files are still skipped.
  assert.equal((await store.list('worker_')).length, 1);
});

test('a crash between write and rename leaves the old value; open removes the leftover temp file', async () => {
  const dir = freshDir();
  const first = await FilePersistenceStore.open(dir);
  await first.put('app_a', { v: 'old' });
  // What a crash mid-put leaves: a half-written temp file next to the intact old value.
  const half = encodeRecord({ v: 'new value that never landed' });
  await writeFile(join(dir, '.tmp-app_a-0123456789ab'), half.subarray(0, 7));
  await writeFile(join(dir, '.tmp-app_b-0123456789ab'), half);
  assert.deepEqual(await first.list(''), [{ key: 'app_a', value: { v: 'old' } }]);
  const restarted = await FilePersistenceStore.open(dir);
  assert.deepEqual(await readdir(dir), ['app_a']);
  assert.deepEqual(await restarted.list('app_'), [{ key: 'app_a', value: { v: 'old' } }]);
});

test('concurrent puts of different keys all land, and leave no temp file', async () => {
  const dir = freshDir();
  const store = await FilePersistenceStore.open(dir);
  const keys = Array.from({ length: 50 }, (_, i) => `worker_${String(i).padStart(2, '0')}`);
  await Promise.all(keys.map((key, i) => store.put(key, { i })));
  const entries = await store.list('worker_');
  assert.deepEqual(entries.map((e) => e.key), keys);
  assert.deepEqual(entries.map((e) => e.value), keys.map((_, i) => ({ i })));
  assert.deepEqual((await readdir(dir)).sort(), keys);
});

test('keys are validated with a clear error', async () => {
  const store = await FilePersistenceStore.open(freshDir());
  for (const bad of ['', 'a/b', '../x', 'a..b', '.hidden', 'has space', 'tab\t', 'é', 'x'.repeat(201)]) {
    await assert.rejects(store.put(bad, 1), /invalid persistence key/, JSON.stringify(bad));
    await assert.rejects(store.delete(bad), /invalid persistence key/, JSON.stringify(bad));
  }
  await assert.rejects(store.list('a/'), /must not contain "\/"/);
});

test('a directory that cannot be used is a ConfigError naming flint.deploy.recoveryDirectory', async () => {
  const file = join(root, 'a-file');
  await writeFile(file, 'x');
  for (const bad of [file, join(file, 'below'), '']) {
    await assert.rejects(FilePersistenceStore.open(bad), (err: unknown) => {
      assert.ok(isFlintError(err), String(err));
      assert.equal((err as { key?: string }).key, 'flint.deploy.recoveryDirectory');
      assert.match((err as Error).message, /flint\.deploy\.recoveryDirectory=.* cannot be used/);
      return true;
    });
  }
  if (process.getuid?.() !== 0) {
    const readOnly = freshDir();
    await FilePersistenceStore.open(readOnly);
    await chmod(readOnly, 0o500);
    await assert.rejects(FilePersistenceStore.open(readOnly), /not a writable directory/);
    await chmod(readOnly, 0o700);
  }
});

test('a closed store rejects', async () => {
  const store = await FilePersistenceStore.open(freshDir());
  await store.close();
  await assert.rejects(store.put('app_x', 1), /closed/);
});
