// The partitioners an application can pass to `partitionBy` (Spark's HashPartitioner and RangePartitioner). They
// are descriptions only: the executors partition with src/shuffle/partitioners.ts. Executors' bundles import
// them too (remote.ts), so this module has no dependencies.

/** Spark's HashPartitioner: key → hash(key) mod partitions. */
export class HashPartitioner {
  readonly numPartitions: number;
  constructor(numPartitions: number) {
    checkPartitions(numPartitions, 'HashPartitioner');
    this.numPartitions = numPartitions;
  }
}

/** Spark's RangePartitioner: keys cut into ranges of about equal size, found by sampling the data. */
export class RangePartitioner {
  readonly numPartitions: number;
  readonly ascending: boolean;
  constructor(numPartitions: number, ascending = true) {
    checkPartitions(numPartitions, 'RangePartitioner');
    this.numPartitions = numPartitions;
    this.ascending = ascending;
  }
}

export type Partitioner = HashPartitioner | RangePartitioner;

export function checkPartitions(n: number, what: string): void {
  if (!Number.isSafeInteger(n) || n < 1) throw new RangeError(`${what} needs a whole number of partitions ≥ 1, got ${n}`);
}

