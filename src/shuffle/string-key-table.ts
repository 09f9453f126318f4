// A hash table from string keys to values: the map-side combine's table for string keys (a
// word count's words, the commonest keys of all). A JS Map does the same job, but a lookup of a fresh string
// (every word `split` gives is one) walks V8's bucket chain through the entries and loads each candidate key
// string to compare it; here the probe reads a flat Int32Array of hashes and entry indexes, and a key string is
// loaded only when its full 32-bit hash matches. On the word count of bench:shuffle a lookup took about two
// thirds of a Map's (docs/benchmarks.md, bench:shuffle). Spark's map-side combine has an open-addressing table of
// its own too (ExternalSorter's PartitionedAppendOnlyMap, an AppendOnlyMap).
//
// Open addressing with linear probing over 2^k slots kept at most half full; each slot is two int32s, the key's
// hash (0: empty) and 1 + its entry's index. The hash is FNV-1a over the UTF-16 code units, seeded per process
// (so that no fixed set of keys collides everywhere) and finished with murmur3's mix. Keys and values live in two
// arrays, in insertion order. The writer keeps its entries' order itself (shuffle-writer.ts).

/** A per-process seed, so that keys chosen to collide in one process do not in another. */
const SEED = (Math.random() * 0x1_0000_0000) >>> 0;
const MIN_SLOTS = 64;

/** FNV-1a over `key`'s code units from SEED, then murmur3's fmix32; never 0 (0 marks an empty slot). */
function hashOf(key: string): number {
  let h = (0x811c9dc5 ^ SEED) | 0;
  for (let i = 0; i < key.length; i++) h = Math.imul(h ^ key.charCodeAt(i), 0x01000193);
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  h ^= h >>> 16;
  return h === 0 ? 1 : h;
}

export class StringKeyTable<V> {
  /** [hash, 1 + index] per slot; a hash of 0 is an empty slot. */
  #slots = new Int32Array(2 * MIN_SLOTS);
  #mask = MIN_SLOTS - 1;
  #keys: string[] = [];
  #values: V[] = [];

  get size(): number {
    return this.#keys.length;
  }

  get(key: string): V | undefined {
    const at = this.#find(key, hashOf(key));
    return this.#slots[at] === 0 ? undefined : this.#values[(this.#slots[at + 1] as number) - 1];
  }

  /**
   * The index of `key`'s entry (entries are numbered from 0 in the order their keys were added), or -1. With
   * valueAt and setValueAt, a value is updated in place without a second lookup, and without an object per entry
   * to hold it (a load fewer per lookup: the map-side combine's hot path, shuffle-writer.ts).
   */
  indexOf(key: string): number {
    const at = this.#find(key, hashOf(key));
    return (this.#slots[at + 1] as number) - 1;
  }

  keyAt(index: number): string {
    return this.#keys[index] as string;
  }

  valueAt(index: number): V {
    return this.#values[index] as V;
  }

  setValueAt(index: number, value: V): void {
    this.#values[index] = value;
  }

  /** Adds `key` or replaces its value. */
  set(key: string, value: V): void {
    const h = hashOf(key);
    const at = this.#find(key, h);
    const slots = this.#slots;
    if (slots[at] !== 0) {
      this.#values[(slots[at + 1] as number) - 1] = value;
      return;
    }
    slots[at] = h;
    slots[at + 1] = this.#keys.push(key);
    this.#values.push(value);
    if (this.#keys.length * 2 > this.#mask + 1) this.#grow();
  }

  /** Where `key` (of hash `h`) is in #slots, or the empty slot where it would go: the index of its hash. */
  #find(key: string, h: number): number {
    const slots = this.#slots;
    const mask = this.#mask;
    for (let s = h & mask; ; s = (s + 1) & mask) {
      const at = s << 1;
      const stored = slots[at] as number;
      if (stored === 0 || (stored === h && this.#keys[(slots[at + 1] as number) - 1] === key)) return at;
    }
  }

  clear(): void {
    this.#slots = new Int32Array(2 * MIN_SLOTS);
    this.#mask = MIN_SLOTS - 1;
    this.#keys = [];
    this.#values = [];
  }

  /** Doubles the slots and places every entry again by its stored hash. */
  #grow(): void {
    const old = this.#slots;
    const count = (this.#mask + 1) * 2;
    const slots = new Int32Array(2 * count);
    const mask = count - 1;
    for (let at = 0; at < old.length; at += 2) {
      const h = old[at] as number;
      if (h === 0) continue;
      let s = h & mask;
      while (slots[s << 1] !== 0) s = (s + 1) & mask;
      slots[s << 1] = h;
      slots[(s << 1) + 1] = old[at + 1] as number;
    }
    this.#slots = slots;
    this.#mask = mask;
  }
}
