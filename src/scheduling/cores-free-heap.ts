import type { WorkerCandidate } from './types.ts';

/**
 * True when `a` comes before `b` in `CORES_FREE_DESC` order: more free cores first, then the larger ID (Spark
 * sorts ascending by (coresFree, id) and reverses; see `orderUsableWorkers`). IDs compare by UTF-16 code units.
 */
export function moreCoresFree(a: WorkerCandidate, b: WorkerCandidate): boolean {
  return a.coresFree > b.coresFree || (a.coresFree === b.coresFree && a.id > b.id);
}

/**
 * A binary max-heap of workers in `CORES_FREE_DESC` order, so that the first k workers of that order cost
 * O(k log n) instead of a sort of all n. It holds the caller's objects; a caller that changes an element's
 * `coresFree` must have popped it first and push it back afterwards. IDs must be unique: equal keys would
 * otherwise come out in an order the sort does not promise.
 */
export class CoresFreeHeap<W extends WorkerCandidate> {
  readonly #items: W[];

  /** O(n) (bottom-up heap construction). */
  constructor(workers: Iterable<W>) {
    this.#items = [...workers];
    for (let i = (this.#items.length >> 1) - 1; i >= 0; i -= 1) this.#siftDown(i);
  }

  get size(): number {
    return this.#items.length;
  }

  /** The first worker in `CORES_FREE_DESC` order, left in place; undefined when empty. */
  peek(): W | undefined {
    return this.#items[0];
  }

  /** Removes and returns the first worker in `CORES_FREE_DESC` order; undefined when empty. */
  pop(): W | undefined {
    const items = this.#items;
    const top = items[0];
    const last = items.pop();
    if (items.length > 0 && last !== undefined) {
      items[0] = last;
      this.#siftDown(0);
    }
    return top;
  }

  push(worker: W): void {
    const items = this.#items;
    items.push(worker);
    let i = items.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!moreCoresFree(this.#at(i), this.#at(parent))) return;
      this.#swap(i, parent);
      i = parent;
    }
  }

  #siftDown(from: number): void {
    const n = this.#items.length;
    for (let i = from; ; ) {
      const left = 2 * i + 1;
      const right = left + 1;
      let first = i;
      if (left < n && moreCoresFree(this.#at(left), this.#at(first))) first = left;
      if (right < n && moreCoresFree(this.#at(right), this.#at(first))) first = right;
      if (first === i) return;
      this.#swap(i, first);
      i = first;
    }
  }

  #at(i: number): W {
    return this.#items[i] as W;
  }

  #swap(i: number, j: number): void {
    const a = this.#at(i);
    this.#items[i] = this.#at(j);
    this.#items[j] = a;
  }
}
