import {
  WORKER_SELECTION_POLICIES,
  type WorkerCandidate,
  type WorkerSelectionPolicy,
} from './types.ts';

type Compare<W> = (a: W, b: W) => number;

/** Code-unit order, like Java's `String.compareTo`; `localeCompare` would depend on the host's locale. */
export function compareIds(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function compareNumbers(a: number, b: number): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function byThenId<W extends WorkerCandidate>(key: (w: W) => number): Compare<W> {
  return (a, b) => compareNumbers(key(a), key(b)) || compareIds(a.id, b.id);
}

const coresFree = (w: WorkerCandidate): number => w.coresFree;
const memoryFree = (w: WorkerCandidate): number => w.memoryFreeMb;

/**
 * Orders usable workers for executor placement by `spark.deploy.workerSelectionPolicy` (reference §5.3 step 3).
 * Returns a new array; the input is not touched.
 *
 * Every policy breaks ties by worker ID so the order never depends on how the Master stores its workers
 * (before Spark 4.0, ties fell in hash-set order). The DESC policies sort ascending by (key, id) and then
 * reverse, exactly as Spark does, so on equal keys the **larger** ID comes first.
 */
export function orderUsableWorkers<W extends WorkerCandidate>(
  workers: ReadonlyArray<W>,
  policy: WorkerSelectionPolicy,
): W[] {
  const copy = [...workers];
  switch (policy) {
    case 'CORES_FREE_ASC':
      return copy.sort(byThenId(coresFree));
    case 'CORES_FREE_DESC':
      return copy.sort(byThenId(coresFree)).reverse();
    case 'MEMORY_FREE_ASC':
      return copy.sort(byThenId(memoryFree));
    case 'MEMORY_FREE_DESC':
      return copy.sort(byThenId(memoryFree)).reverse();
    case 'WORKER_ID':
      return copy.sort((a, b) => compareIds(a.id, b.id));
    default: {
      const unknown: never = policy;
      throw new RangeError(`unknown worker selection policy: ${String(unknown)}`);
    }
  }
}

/**
 * Reads a policy name as Spark's config does: case-insensitively. Returns undefined for an unknown name so the
 * config layer can report it with the key and the allowed values.
 */
export function parseWorkerSelectionPolicy(value: string): WorkerSelectionPolicy | undefined {
  const upper = value.toUpperCase();
  return WORKER_SELECTION_POLICIES.find((policy) => policy === upper);
}
