// FilePersistenceStore: recovery mode FILESYSTEM (Spark's FileSystemPersistenceEngine; reference §8.2).
//
// One file per key in `flint.deploy.recoveryDirectory`, named exactly as the key. A put writes
// `.tmp-<key>-<random>` in the same directory, fsyncs it, renames it over the key's file and fsyncs the
// directory, so a reader (or a master restarted after a crash) sees the old value or the new one, never half of
// one. Values are encoded by record-codec.ts (msgpack behind a checksummed header). Temp files left by a crash
// are ignored by `list` and removed when the store is opened.

import { randomBytes } from 'node:crypto';
import { constants } from 'node:fs';
import { access, mkdir, open, readdir, readFile, realpath, rename, stat, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import type { PersistenceStore, StoredEntry } from '../../ports/persistence-store.ts';
import { ConfigError } from '../../errors.ts';
import { checkStoreKey, decodeRecord, encodeRecord } from './record-codec.ts';

export const RECOVERY_DIRECTORY_KEY = 'flint.deploy.recoveryDirectory';
const TEMP_PREFIX = '.tmp-';

const errno = (err: unknown): string | undefined => (err as NodeJS.ErrnoException | undefined)?.code;

export class FilePersistenceStore implements PersistenceStore {
  readonly directory: string;
  #closed = false;

  private constructor(directory: string) {
    this.directory = directory;
  }

  /**
   * Opens (creating it with mode 0700 when missing) the recovery directory and removes temp files a crash
   * left behind. Rejects with a ConfigError naming `flint.deploy.recoveryDirectory` when the path cannot be
   * used (not a directory, not writable, cannot be created).
   */
  static async open(directory: string): Promise<FilePersistenceStore> {
    const unusable = (why: string, err?: unknown): ConfigError =>
      new ConfigError(
        RECOVERY_DIRECTORY_KEY,
        `${RECOVERY_DIRECTORY_KEY}=${JSON.stringify(directory)} cannot be used: ${why}` +
          (err === undefined ? '' : ` (${(err as Error).message})`),
      );
    if (directory === '') throw unusable('it is empty');
    let resolved: string;
    try {
      await mkdir(directory, { recursive: true, mode: 0o700 });
      resolved = await realpath(directory);
      if (!(await stat(resolved)).isDirectory()) throw unusable('it is not a directory');
      await access(resolved, constants.R_OK | constants.W_OK | constants.X_OK);
    } catch (err) {
      if (err instanceof ConfigError) throw err;
      throw unusable(errno(err) === 'EEXIST' || errno(err) === 'ENOTDIR' ? 'it is not a directory' : 'it is not a writable directory', err);
    }
    const store = new FilePersistenceStore(resolved);
    for (const name of await readdir(resolved)) {
      if (name.startsWith(TEMP_PREFIX)) await unlink(join(resolved, name)).catch(() => {});
    }
    return store;
  }

  async put(key: string, value: unknown): Promise<void> {
    this.#checkOpen();
    checkStoreKey(key);
    const bytes = encodeRecord(value);
    const temp = join(this.directory, `${TEMP_PREFIX}${key}-${randomBytes(6).toString('hex')}`);
    try {
      const file = await open(temp, 'wx', 0o600);
      try {
        await file.writeFile(bytes);
        await file.sync();
      } finally {
        await file.close();
      }
      await rename(temp, join(this.directory, key));
    } catch (err) {
      await unlink(temp).catch(() => {});
      throw err;
    }
    await this.#syncDirectory();
  }

  async delete(key: string): Promise<void> {
    this.#checkOpen();
    checkStoreKey(key);
    try {
      await unlink(join(this.directory, key));
    } catch (err) {
      if (errno(err) === 'ENOENT') return;
      throw err;
    }
    await this.#syncDirectory();
  }

  async list(prefix: string, onUnreadable?: (key: string, reason: string) => void): Promise<StoredEntry[]> {
    this.#checkOpen();
    checkStoreKey(prefix, true);
    const names = (await readdir(this.directory))
      .filter((name) => name.startsWith(prefix) && !name.startsWith('.'))
      .sort();
    const entries: StoredEntry[] = [];
    for (const key of names) {
      let bytes: Buffer;
      try {
        bytes = await readFile(join(this.directory, key));
      } catch (err) {
        if (errno(err) !== 'ENOENT') onUnreadable?.(key, `cannot read ${join(this.directory, key)}: ${(err as Error).message}`);
        continue;
      }
      try {
        entries.push({ key, value: decodeRecord(bytes) });
      } catch (err) {
        onUnreadable?.(key, `${join(this.directory, key)}: ${(err as Error).message}`);
      }
    }
    return entries;
  }

  async close(): Promise<void> {
    this.#closed = true;
  }

  #checkOpen(): void {
    if (this.#closed) throw new Error(`the file persistence store on ${this.directory} is closed`);
  }

  async #syncDirectory(): Promise<void> {
    const dir = await open(this.directory, 'r');
    try {
      await dir.sync();
    } finally {
      await dir.close();
    }
  }
}
