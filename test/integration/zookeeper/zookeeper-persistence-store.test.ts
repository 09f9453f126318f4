import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import zookeeper from 'node-zookeeper-client';
import { ZooKeeperPersistenceStore } from '../../../src/io/zookeeper/zookeeper-persistence-store.ts';
import { encodeRecord } from '../../../src/io/file-store/record-codec.ts';
import { SilentListener, ZooKeeperServer } from '../../helpers/zookeeper.ts';

let zk: ZooKeeperServer;
const stores: ZooKeeperPersistenceStore[] = [];
let n = 0;
const newStore = (dir = `/flint-store-${n++}`) => {
  const store = new ZooKeeperPersistenceStore({ url: zk.url, dir, sessionTimeoutMs: 1_000, operationTimeoutMs: 2_000 });
  stores.push(store);
  return store;
};

before(async () => {
  zk = await ZooKeeperServer.start();
});
after(async () => {
  await Promise.all(stores.map((s) => s.close()));
  await zk.destroy();
});

/**
 * Bounded retries until `op` succeeds (each attempt is bounded by the operation timeout; after an outage a
 * loaded machine may need several).
 */
async function retry<T>(op: () => Promise<T>): Promise<T> {
  const deadline = performance.now() + 20_000;
  for (let attempt = 1; ; attempt++) {
    try {
      return await op();
    } catch (err) {
      if (performance.now() > deadline || attempt >= 20) throw err;
    }
  }
}

/** Sets a znode's raw bytes with a plain client (what a corrupt or foreign writer would leave). */
async function setRaw(path: string, data: Buffer): Promise<void> {
  const client = zookeeper.createClient(zk.url, { sessionTimeout: 1_000 });
  client.connect();
  try {
    await new Promise<void>((resolve, reject) => client.mkdirp(path, data, (err) => (err ? reject(err) : resolve())));
    await new Promise<void>((resolve, reject) => client.setData(path, data, -1, (err) => (err ? reject(err) : resolve())));
  } finally {
    client.close();
  }
}

test('round-trips records under <dir>/master_status, overwrites, deletes, lists by prefix in key order', async () => {
  const store = newStore('/flint-a/nested');
  assert.equal(store.root, '/flint-a/nested/master_status');
  assert.deepEqual(await store.list('worker_'), []); // nothing created yet
  const app = { kind: 'app', id: 'app-1', desc: { name: 'π' }, bytes: new Uint8Array([1, 2]), gone: undefined };
  await store.put('worker_b', { id: 'b' });
  await store.put('worker_a', { id: 'a' });
  await store.put('app_app-1', app);
  await store.put('worker_b', { id: 'b2' });
  assert.deepEqual(await store.list('worker_'), [
    { key: 'worker_a', value: { id: 'a' } },
    { key: 'worker_b', value: { id: 'b2' } },
  ]);
  assert.deepEqual(await store.list('app_'), [{ key: 'app_app-1', value: { kind: 'app', id: 'app-1', desc: { name: 'π' }, bytes: new Uint8Array([1, 2]) } }]);
  await store.delete('worker_a');
  await store.delete('worker_a');
  await store.delete('driver_missing');
  assert.deepEqual((await store.list('')).map((e) => e.key), ['app_app-1', 'worker_b']);
  // Another client (a standby master) sees the same znodes.
  assert.deepEqual((await newStore('/flint-a/nested').list('worker_')).map((e) => e.key), ['worker_b']);
  await assert.rejects(store.put('a/b', 1), /invalid persistence key/);
});

test('corrupt, truncated and empty znodes are reported and skipped', async () => {
  const store = newStore();
  await store.put('driver_ok', { ok: true });
  const good = encodeRecord({ ok: false });
  await setRaw(`${store.root}/driver_truncated`, good.subarray(0, good.length - 2));
  await setRaw(`${store.root}/driver_garbage`, Buffer.from('not msgpack at all'));
  await setRaw(`${store.root}/driver_empty`, Buffer.alloc(0));
  const unreadable: string[] = [];
  assert.deepEqual(await store.list('driver_', (key) => unreadable.push(key)), [{ key: 'driver_ok', value: { ok: true } }]);
  assert.deepEqual(unreadable, ['driver_empty', 'driver_garbage', 'driver_truncated']);
});

test('operations reject within the operation timeout while the server is down, and work again after', async () => {
  const store = newStore();
  await store.put('app_before', 1);
  await zk.stop();
  try {
    const started = performance.now();
    await assert.rejects(store.put('app_during', 2));
    await assert.rejects(store.list('app_'));
    assert.ok(performance.now() - started < 6_000, 'bounded by the operation timeout');
  } finally {
    await zk.start();
  }
  // The session may have expired meanwhile; the store replaces it.
  await retry(() => store.put('app_after', 3));
  const keys = (await retry(() => store.list('app_'))).map((e) => e.key);
  assert.ok(keys.includes('app_before') && keys.includes('app_after'), String(keys));
});

test('a store created while its server is down, whose first connection is accepted and never answered, works once the server starts', async () => {
  // ZooKeeper 3.8.0 accepts connections while it starts and leaves some open and unanswered; the client must
  // give up on such a handshake and connect again (it used to wait forever: every call timed out).
  const late = await ZooKeeperServer.prepare();
  const silent = await SilentListener.listen(late.port);
  const store = new ZooKeeperPersistenceStore({ url: late.url, dir: '/flint-late', sessionTimeoutMs: 1_000, operationTimeoutMs: 2_000 });
  stores.push(store);
  try {
    await silent.accepted();
    await assert.rejects(store.put('app_early', 1), /got no answer within 2000 ms/);
    silent.stopListening(); // the connection stays open and silent
    await late.start();
    await retry(() => store.put('app_late', 2));
    assert.deepEqual((await store.list('app_')).map((e) => e.key).filter((k) => k === 'app_late'), ['app_late']);
  } finally {
    await store.close();
    silent.destroy();
    await late.destroy();
  }
});
