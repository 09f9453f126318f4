// Where the shuffle writer's frame bodies live while it holds them (until a spill or the commit writes them):
// cut from slabs of 1 MiB that come from the thread's pool (column-pool.ts) and all go back at once when the
// frames have been written. A body of its own per frame (Buffer.alloc) cost each map task of a sort or a join
// of millions of pairs about a tenth of its time: a zeroed allocation per frame, and the pages of tens of MB,
// freed after each task, faulted in again by the next (docs/benchmarks.md, bench:shuffle).
//
// A body stays valid until release(); the writer must have written and dropped every body before it calls it.

import { giveBack, takeBytes } from './column-pool.ts';

export const SLAB_BYTES = 1024 * 1024;
/** Bodies larger than this get memory of their own, so that a slab is not mostly left unused. */
const LARGEST_CUT = SLAB_BYTES / 4;

export class FrameArena {
  #slabs: Uint8Array[] = [];
  #used = SLAB_BYTES;

  /** `bytes` zeroed bytes, valid until release(). */
  readonly allocate = (bytes: number): Buffer => {
    if (bytes > LARGEST_CUT) return Buffer.alloc(bytes);
    if (this.#used + bytes > SLAB_BYTES) {
      this.#slabs.push(takeBytes(SLAB_BYTES));
      this.#used = 0;
    }
    const slab = this.#slabs[this.#slabs.length - 1] as Uint8Array;
    const body = Buffer.from(slab.buffer, slab.byteOffset + this.#used, bytes);
    // Slabs from the pool hold what their last user left.
    body.fill(0);
    // The next body starts 8-aligned, as a fresh buffer would: the reader views number columns in place.
    this.#used += (bytes + 7) & ~7;
    return body;
  };

  /** Slabs in use (for tests). */
  get slabs(): number {
    return this.#slabs.length;
  }

  /** Gives every slab back to the pool: no body cut from them may be used after this. */
  release(): void {
    for (const slab of this.#slabs) giveBack(slab);
    this.#slabs = [];
    this.#used = SLAB_BYTES;
  }
}
