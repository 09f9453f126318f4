import { MinHeap } from '../kit/min-heap.ts';
import { compareIds } from './order-workers.ts';
import type { WorkerCandidate } from './types.ts';

/**
 * A worker with its place among the others in ID order (code units, as `orderUsableWorkers` compares IDs). The heap
 * breaks ties on free cores by it, so that a tie costs an integer comparison, not a walk along two IDs that share
 * a long prefix (`worker-<date>-<host>-<port>`). `rankById` gives the ranks.
 */
export interface RankedWorker extends WorkerCandidate {
  readonly idRank: number;
}

/**
 * True when `a` comes before `b` in `CORES_FREE_DESC` order: more free cores first, then the larger ID (Spark
 * sorts ascending by (coresFree, id) and reverses; see `orderUsableWorkers`).
 */
export function moreCoresFree(a: RankedWorker, b: RankedWorker): boolean {
  return a.coresFree > b.coresFree || (a.coresFree === b.coresFree && a.idRank > b.idRank);
}

/**
 * Sets each worker's `idRank` to its index in ID order: one sort of the IDs. Throws a RangeError on a duplicate
 * ID, since equal keys would come out of the heap in an order the sort does not promise.
 */
export function rankById<W extends WorkerCandidate & { idRank: number }>(workers: ReadonlyArray<W>): void {
  const byId = [...workers].sort((a, b) => compareIds(a.id, b.id));
  for (let i = 0; i < byId.length; i += 1) {
    const worker = byId[i] as W;
    if (i > 0 && (byId[i - 1] as W).id === worker.id) throw new RangeError(`two ALIVE workers have the ID ${worker.id}`);
    worker.idRank = i;
  }
}

/**
 * A binary heap of workers in `CORES_FREE_DESC` order (the kit's MinHeap by `moreCoresFree`), so that the first k
 * workers of that order cost O(k log n) instead of a sort of all n. It holds the caller's objects; a caller that
 * changes an element's `coresFree` must have popped it first and push it back afterwards. The workers' ranks
 * must follow their IDs (`rankById`).
 */
export class CoresFreeHeap<W extends RankedWorker> extends MinHeap<W> {
  /** O(n) (bottom-up heap construction). */
  constructor(workers: Iterable<W>) {
    super(moreCoresFree, workers);
  }
}
