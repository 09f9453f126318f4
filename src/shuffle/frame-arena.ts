// Where the shuffle writer's frame bodies live while it holds them (until a spill or the commit writes them):
// cut from slabs of 1 MiB that come from the thread's pool (column-pool.ts) and all go back at once when the
// frames have been written. A body of its own per frame (Buffer.alloc) was 4–6% of a join executor's profile: a
// zeroed allocation per frame, and the pages of tens of MB, freed after each task, faulted in again by the next
// (docs/benchmarks.md, bench:shuffle).
//
// A body stays valid until release(); the writer must have written and dropped every body before it calls it.

import { giveBack, takeBytes } from './column-pool.ts';

export const SLAB_BYTES = 1024 * 1024;
/** Bodies larger than this get memory of their own, so that a slab is not mostly left unused. */
const LARGEST_CUT = SLAB_BYTES / 4;

export class FrameArena {
  #slabs: Uint8Array[] = [];
  /** Bytes cut from the last slab (its whole length when there is none). */
  #used = 0;

  /** `bytes` zeroed bytes, valid until release(). */
  readonly allocate = (bytes: number): Buffer => {
    if (bytes > LARGEST_CUT) return Buffer.alloc(bytes);
    let slab = this.#slabs[this.#slabs.length - 1];
    if (slab === undefined || this.#used + bytes > slab.length) {
      // The pool's buffer may be larger than asked (column-pool.ts headroom): all of it is cut.
      slab = new Uint8Array(takeBytes(SLAB_BYTES).buffer);
      this.#slabs.push(slab);
      this.#used = 0;
    }
    const body = Buffer.from(slab.buffer, this.#used, bytes);
    // Slabs from the pool hold what their last user left.
    body.fill(0);
    // The next body starts 8-aligned, as a fresh buffer's would.
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
    this.#used = 0;
  }
}
