import { MinHeap } from '../kit/min-heap.ts';
import type { WorkerCandidate } from './types.ts';

/**
 * True when `a` comes before `b` in `CORES_FREE_DESC` order: more free cores first, then the larger ID (Spark
 * sorts ascending by (coresFree, id) and reverses; see `orderUsableWorkers`). IDs compare by UTF-16 code units.
 */
export function moreCoresFree(a: WorkerCandidate, b: WorkerCandidate): boolean {
  return a.coresFree > b.coresFree || (a.coresFree === b.coresFree && a.id > b.id);
}

/**
 * A binary heap of workers in `CORES_FREE_DESC` order (the kit's MinHeap by `moreCoresFree`), so that the first k
 * workers of that order cost O(k log n) instead of a sort of all n. It holds the caller's objects; a caller that
 * changes an element's `coresFree` must have popped it first and push it back afterwards. IDs must be unique:
 * equal keys would otherwise come out in an order the sort does not promise.
 */
export class CoresFreeHeap<W extends WorkerCandidate> extends MinHeap<W> {
  /** O(n) (bottom-up heap construction). */
  constructor(workers: Iterable<W>) {
    super(moreCoresFree, workers);
  }
}
