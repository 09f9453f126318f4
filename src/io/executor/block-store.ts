// The cached partitions of persisted datasets on one task thread (Spark's MemoryStore for MEMORY_ONLY blocks,
// `rdd_<id>_<partition>`): records as the task computed them, kept while they fit in the thread's share of the
// executor's storage memory, least recently used first out. A block larger than the whole share is not kept
// (Spark's "Not enough space to cache rdd_… in memory"); the task then recomputes it next time.

import { estimateSize } from '../../shuffle/size-estimate.ts';

/** Records measured per block to estimate its size (the estimate scales up from them). */
const SAMPLED = 64;

interface Block {
  readonly records: readonly unknown[];
  readonly bytes: number;
}

export class BlockStore {
  readonly #limit: number;
  /** Insertion order is recency: a hit moves its block to the end. */
  readonly #blocks = new Map<string, Block>();
  #bytes = 0;

  constructor(limitBytes: number) {
    this.#limit = limitBytes;
  }

  get bytes(): number {
    return this.#bytes;
  }

  get(id: number, partition: number): readonly unknown[] | undefined {
    const key = `${id}/${partition}`;
    const block = this.#blocks.get(key);
    if (block === undefined) return undefined;
    this.#blocks.delete(key);
    this.#blocks.set(key, block);
    return block.records;
  }

  /** Keeps the block when it fits, evicting the least recently used; returns whether it was kept. */
  put(id: number, partition: number, records: readonly unknown[]): boolean {
    const key = `${id}/${partition}`;
    this.#drop(key);
    const bytes = estimateBlock(records);
    if (bytes > this.#limit) return false;
    for (const [old] of this.#blocks) {
      if (this.#bytes + bytes <= this.#limit) break;
      this.#drop(old);
    }
    this.#blocks.set(key, { records, bytes });
    this.#bytes += bytes;
    return true;
  }

  /** Drops every block of a dataset (unpersist). */
  remove(id: number): void {
    for (const key of [...this.#blocks.keys()]) if (key.startsWith(`${id}/`)) this.#drop(key);
  }

  #drop(key: string): void {
    const block = this.#blocks.get(key);
    if (block === undefined) return;
    this.#blocks.delete(key);
    this.#bytes -= block.bytes;
  }
}

function estimateBlock(records: readonly unknown[]): number {
  const n = records.length;
  if (n === 0) return 64;
  const step = Math.max(1, Math.floor(n / SAMPLED));
  let sampled = 0;
  let bytes = 0;
  for (let i = 0; i < n; i += step) {
    bytes += estimateSize(records[i]) + 8;
    sampled += 1;
  }
  return 64 + Math.ceil((bytes / sampled) * n);
}
