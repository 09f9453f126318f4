// Simulated time for the whole cluster (STYLE.md §7): one queue of events ordered by time, then by the order they
// were scheduled, so one seed always runs the same way. Nothing here reads a real clock or waits.

import type { Clock } from '../kit/clock.ts';

interface Event {
  readonly at: number;
  readonly seq: number;
  readonly run: () => void;
}

/** Epoch of every simulation: 2026-01-01T00:00:00Z, so ids and dates look like a real cluster's. */
export const SIM_EPOCH_MS = Date.UTC(2026, 0, 1);

export class EventQueue {
  #now = SIM_EPOCH_MS;
  #seq = 0;
  /** A binary heap on (at, seq). */
  readonly #heap: Event[] = [];
  readonly #cancelled = new Set<number>();

  get now(): number {
    return this.#now;
  }

  get size(): number {
    return this.#heap.length - this.#cancelled.size;
  }

  /** Runs `run` `delayMs` from now (at once, after what is already due now, for 0); returns a handle. */
  schedule(delayMs: number, run: () => void): number {
    const seq = this.#seq++;
    this.#push({ at: this.#now + Math.max(0, delayMs), seq, run });
    return seq;
  }

  cancel(handle: number): void {
    this.#cancelled.add(handle);
  }

  /** Runs the next event, advancing time to it; false when none is left before `until`. */
  step(until: number): boolean {
    for (;;) {
      const next = this.#heap[0];
      if (next === undefined || next.at > until) return false;
      this.#pop();
      if (this.#cancelled.delete(next.seq)) continue;
      this.#now = next.at;
      next.run();
      return true;
    }
  }

  /** A `Clock` on this queue's time, skewed by `skewMs` for a process whose clock is off. */
  clock(skewMs = 0): Clock {
    return { now: () => this.#now + skewMs, monotonic: () => this.#now - SIM_EPOCH_MS };
  }

  #push(event: Event): void {
    const heap = this.#heap;
    heap.push(event);
    let i = heap.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!before(heap[i]!, heap[parent]!)) break;
      [heap[i], heap[parent]] = [heap[parent]!, heap[i]!];
      i = parent;
    }
  }

  #pop(): void {
    const heap = this.#heap;
    const last = heap.pop();
    if (last === undefined || heap.length === 0) return;
    heap[0] = last;
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let min = i;
      if (l < heap.length && before(heap[l]!, heap[min]!)) min = l;
      if (r < heap.length && before(heap[r]!, heap[min]!)) min = r;
      if (min === i) return;
      [heap[i], heap[min]] = [heap[min]!, heap[i]!];
      i = min;
    }
  }
}

function before(a: Event, b: Event): boolean {
  return a.at < b.at || (a.at === b.at && a.seq < b.seq);
}
