// PersistenceStore: where the master keeps what it needs to recover (Spark's PersistenceEngine: three
// primitives, persist / unpersist / read by prefix; reference §8).
//
// Contract:
// - Keys are `worker_<id>`, `app_<id>`, `driver_<id>`: printable, no `/`.
// - `put` resolves once the value is durable for this store (a file store has fsynced and renamed; the
//   in-memory store has stored it). The master sends no acknowledgement before `put` resolves. A store with
//   nothing to wait for (recovery mode NONE keeps nothing) returns undefined instead of a promise: the master
//   then carries on in the same turn, and its reply leaves in the same write as what came before it.
// - `delete` of a missing key resolves.
// - `list(prefix)` returns every readable entry whose key starts with `prefix`. An entry that cannot be read
//   back (corrupt, truncated) is reported through `onUnreadable` and skipped; it never fails the listing.
// - A rejected promise means the store could not do the operation (I/O error, session lost); the caller
//   logs it and must not acknowledge what it failed to persist.

export interface StoredEntry {
  readonly key: string;
  readonly value: unknown;
}

export interface PersistenceStore {
  put(key: string, value: unknown): Promise<void> | undefined;
  delete(key: string): Promise<void> | undefined;
  list(prefix: string, onUnreadable?: (key: string, reason: string) => void): Promise<StoredEntry[]>;
  close(): Promise<void>;
}

/** Keeps values in memory (structured clones): the simulator's store, and tests'. */
export class InMemoryPersistenceStore implements PersistenceStore {
  readonly #entries = new Map<string, unknown>();

  async put(key: string, value: unknown): Promise<void> {
    this.#entries.set(key, structuredClone(value));
  }

  async delete(key: string): Promise<void> {
    this.#entries.delete(key);
  }

  async list(prefix: string): Promise<StoredEntry[]> {
    return [...this.#entries]
      .filter(([key]) => key.startsWith(prefix))
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([key, value]) => ({ key, value: structuredClone(value) }));
  }

  async close(): Promise<void> {}
}

/** Keeps nothing: recovery mode NONE (Spark's BlackHolePersistenceEngine). */
export class NullPersistenceStore implements PersistenceStore {
  put(): undefined {
    return undefined;
  }
  delete(): undefined {
    return undefined;
  }
  async list(): Promise<StoredEntry[]> {
    return [];
  }
  async close(): Promise<void> {}
}
