// A binary min-heap by a `less` order: the k-way merges of spilled shuffle runs (Spark's mergeSort /
// mergeWithAggregation use a PriorityQueue the same way) and the scheduler's workers by free cores
// (src/scheduling/cores-free-heap.ts). Small and allocation-free once built.

export class MinHeap<T> {
  readonly #items: T[];
  readonly #less: (a: T, b: T) => boolean;

  /** `items`: an initial content, heapified bottom-up in O(n). */
  constructor(less: (a: T, b: T) => boolean, items: Iterable<T> = []) {
    this.#less = less;
    this.#items = [...items];
    for (let i = (this.#items.length >> 1) - 1; i >= 0; i -= 1) this.#siftDown(i);
  }

  get size(): number {
    return this.#items.length;
  }

  peek(): T | undefined {
    return this.#items[0];
  }

  push(item: T): void {
    const items = this.#items;
    items.push(item);
    let i = items.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!this.#less(item, items[parent] as T)) break;
      items[i] = items[parent] as T;
      i = parent;
    }
    items[i] = item;
  }

  pop(): T | undefined {
    const items = this.#items;
    const top = items[0];
    const last = items.pop();
    if (items.length > 0 && last !== undefined) {
      items[0] = last;
      this.#siftDown(0);
    }
    return top;
  }

  /** Re-sifts the top after its priority grew (cheaper than pop + push). */
  replaceTop(item: T): void {
    this.#items[0] = item;
    this.#siftDown(0);
  }

  #siftDown(start: number): void {
    const items = this.#items;
    const n = items.length;
    const item = items[start] as T;
    let i = start;
    for (;;) {
      let child = 2 * i + 1;
      if (child >= n) break;
      if (child + 1 < n && this.#less(items[child + 1] as T, items[child] as T)) child += 1;
      if (!this.#less(items[child] as T, item)) break;
      items[i] = items[child] as T;
      i = child;
    }
    items[i] = item;
  }
}
