// ZooKeeperPersistenceStore: recovery mode ZOOKEEPER (Spark's ZooKeeperPersistenceEngine; reference §8.4).
//
// One PERSISTENT znode per key, `<flint.deploy.zookeeper.dir>/master_status/<key>`, holding the value encoded
// by record-codec.ts (msgpack behind a checksummed header). The parent is created when missing. Every call is
// bounded by `operationTimeoutMs`, so an operation rejects (never hangs) while the server is down or the
// session is lost. An expired session is replaced by a new client; the store keeps no ephemeral state.
// Unlike Spark, a znode that cannot be decoded is reported and skipped, not deleted (adapters report; the
// caller decides).

import type { Client } from 'node-zookeeper-client';
import type { PersistenceStore, StoredEntry } from '../../ports/persistence-store.ts';
import { silentLogger, type Logger } from '../../util/logger.ts';
import { checkStoreKey, decodeRecord, encodeRecord } from '../file-store/record-codec.ts';
import * as zk from './zookeeper-client.ts';

const { CreateMode, Exception, hasZkCode, zkCall } = zk;

export class ZooKeeperPersistenceStore implements PersistenceStore {
  /** `<dir>/master_status`. */
  readonly root: string;
  readonly #opts: zk.ResolvedZooKeeperOptions;
  readonly #logger: Logger;
  #client: Client;
  #closed = false;

  constructor(options: zk.ZooKeeperOptions) {
    this.#opts = zk.resolveZooKeeperOptions(options);
    this.#logger = options.logger ?? silentLogger;
    this.root = `${this.#opts.dir}/master_status`;
    this.#client = this.#connect();
  }

  async put(key: string, value: unknown): Promise<void> {
    const client = this.#live();
    checkStoreKey(key);
    const path = this.#path(key);
    const data = encodeRecord(value);
    const t = this.#opts.operationTimeoutMs;
    const create = () => zkCall<string>(`create ${path}`, t, (cb) => client.create(path, data, CreateMode.PERSISTENT, cb));
    try {
      await create();
    } catch (err) {
      if (hasZkCode(err, Exception.NODE_EXISTS)) {
        await zkCall(`setData ${path}`, t, (cb) => client.setData(path, data, -1, cb));
      } else if (hasZkCode(err, Exception.NO_NODE)) {
        await zk.mkdirp(client, this.root, t);
        await create().catch(async (again: unknown) => {
          if (!hasZkCode(again, Exception.NODE_EXISTS)) throw again;
          await zkCall(`setData ${path}`, t, (cb) => client.setData(path, data, -1, cb));
        });
      } else {
        throw err;
      }
    }
  }

  async delete(key: string): Promise<void> {
    const client = this.#live();
    checkStoreKey(key);
    const path = this.#path(key);
    try {
      await zkCall<void>(`delete ${path}`, this.#opts.operationTimeoutMs, (cb) => client.remove(path, -1, (e) => cb(e, undefined)));
    } catch (err) {
      if (!hasZkCode(err, Exception.NO_NODE)) throw err;
    }
  }

  async list(prefix: string, onUnreadable?: (key: string, reason: string) => void): Promise<StoredEntry[]> {
    const client = this.#live();
    checkStoreKey(prefix, true);
    const t = this.#opts.operationTimeoutMs;
    let children: string[];
    try {
      children = await zkCall<string[]>(`getChildren ${this.root}`, t, (cb) => client.getChildren(this.root, cb));
    } catch (err) {
      if (hasZkCode(err, Exception.NO_NODE)) return [];
      throw err;
    }
    const keys = children.filter((name) => name.startsWith(prefix)).sort();
    const entries: StoredEntry[] = [];
    for (const key of keys) {
      let data: Buffer | null;
      try {
        data = await zkCall<Buffer | null>(`getData ${this.#path(key)}`, t, (cb) => client.getData(this.#path(key), cb));
      } catch (err) {
        if (hasZkCode(err, Exception.NO_NODE)) continue; // deleted since the listing
        throw err;
      }
      try {
        entries.push({ key, value: decodeRecord(data ?? Buffer.alloc(0)) });
      } catch (err) {
        onUnreadable?.(key, `znode ${this.#path(key)}: ${(err as Error).message}`);
      }
    }
    return entries;
  }

  async close(): Promise<void> {
    this.#closed = true;
    zk.closeClient(this.#client);
  }

  #path(key: string): string {
    return `${this.root}/${key}`;
  }

  #live(): Client {
    if (this.#closed) throw new Error(`the ZooKeeper persistence store on ${this.root} is closed`);
    return this.#client;
  }

  #connect(): Client {
    const client = zk.newZooKeeperClient(this.#opts, this.#logger);
    client.once('expired', () => {
      if (this.#closed) return;
      this.#logger.warn({ url: this.#opts.url }, 'ZooKeeper session expired; the persistence store opens a new one');
      zk.closeClient(client);
      this.#client = this.#connect();
    });
    client.connect();
    return client;
  }
}
