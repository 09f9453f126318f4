// What a Dataset is made of before it runs: one plan per partition, a source and the narrow ops applied to it
// (Spark's RDD lineage, cut at shuffles). A partition that reads a shuffle names the ShuffleDependency it reads;
// the DAG runner (dag-runner.ts) runs the dependency's map stage first and only then turns the plan into a
// concrete TaskSource with the blocks' locations. Two other things are known only at run time and are filled
// in lazily, each once: a range partitioner's bounds (a sampling job, as Spark's RangePartitioner runs one) and
// `zipWithIndex`'s first index of each partition (a count job).

import type { AggregatorSpec, ShuffleReadMode, TaskOp, TaskSource } from '../protocol/task-messages.ts';

/** The partitioner of a shuffle (Spark's HashPartitioner and RangePartitioner). */
export type PartitionerPlan =
  | { readonly kind: 'hash'; readonly partitions: number }
  | { readonly kind: 'range'; readonly partitions: number; readonly ascending: boolean };

/** A shuffle: the parent's partitions are the map side; each reduce partition reads one block of every map. */
export class ShuffleDependency {
  readonly shuffleId: number;
  readonly parent: readonly PartitionPlan[];
  readonly partitioner: PartitionerPlan;
  /** Map-side combining (Spark's `mapSideCombine` with the dependency's aggregator). */
  readonly mapSideAggregator: AggregatorSpec | undefined;
  /** What the dataset that made this shuffle called it, for stage names (`reduceByKey(add)`). */
  readonly label: string;
  /** The range bounds, msgpack-encoded, once sampled. */
  rangeBounds: Uint8Array | undefined;

  constructor(shuffleId: number, parent: readonly PartitionPlan[], partitioner: PartitionerPlan, mapSideAggregator: AggregatorSpec | undefined, label: string) {
    this.shuffleId = shuffleId;
    this.parent = parent;
    this.partitioner = partitioner;
    this.mapSideAggregator = mapSideAggregator;
    this.label = label;
  }
}

/** `zipWithIndex`'s parent and, once counted, the index of each partition's first record. */
export class IndexDependency {
  readonly parent: readonly PartitionPlan[];
  starts: readonly number[] | undefined;
  constructor(parent: readonly PartitionPlan[]) {
    this.parent = parent;
  }
}

/** A narrow op as planned: a wire TaskOp, or `zipWithIndex` whose start is not known yet. */
export type PlanOp = TaskOp | { readonly op: 'zipWithIndexOf'; readonly dep: IndexDependency; readonly partition: number };

export type SourcePlan =
  | Exclude<TaskSource, { kind: 'shuffle' | 'concat' }>
  | { readonly kind: 'shuffled'; readonly deps: readonly ShuffleDependency[]; readonly reduceId: number; readonly mode: ShuffleReadMode }
  | { readonly kind: 'concatPlans'; readonly parts: readonly PartitionPlan[] };

export interface PartitionPlan {
  readonly source: SourcePlan;
  readonly ops: readonly PlanOp[];
  /**
   * The datasets this partition's records pass through, in order: after `at` of the ops, the records are those
   * of partition `partition` of the dataset whose CacheRef is `ref`. A persisted one (`ref.id` set) is read from
   * the executor's memory when cached there, and cached when computed.
   */
  readonly cachePoints?: readonly CachePoint[];
}

/** One dataset's handle for persist(): `id` is set while it is persisted. Shared by every plan that passes through it. */
export class CacheRef {
  id: number | undefined;
}

export interface CachePoint {
  readonly at: number;
  readonly ref: CacheRef;
  readonly partition: number;
}

/** The shuffles a set of partition plans reads directly (not those behind them), in first-seen order. */
export function directShuffles(plans: readonly PartitionPlan[]): ShuffleDependency[] {
  const seen = new Set<ShuffleDependency>();
  const visit = (plan: PartitionPlan): void => {
    if (plan.source.kind === 'shuffled') for (const dep of plan.source.deps) seen.add(dep);
    if (plan.source.kind === 'concatPlans') for (const part of plan.source.parts) visit(part);
  };
  for (const plan of plans) visit(plan);
  return [...seen];
}

/** The index dependencies a set of plans needs filled in, directly. */
export function directIndexDeps(plans: readonly PartitionPlan[]): IndexDependency[] {
  const seen = new Set<IndexDependency>();
  const visit = (plan: PartitionPlan): void => {
    for (const op of plan.ops) if (op.op === 'zipWithIndexOf') seen.add(op.dep);
    if (plan.source.kind === 'concatPlans') for (const part of plan.source.parts) visit(part);
  };
  for (const plan of plans) visit(plan);
  return [...seen];
}

/** Describes ops for stage and job names: `map(square) → filter(odd)`. */
export function describeOps(ops: readonly PlanOp[]): string[] {
  return ops.map((op) => {
    switch (op.op) {
      case 'zipWithIndex':
      case 'zipWithIndexOf':
        return 'zipWithIndex';
      case 'sample':
        return `sample(${op.fraction})`;
      default:
        return `${op.op}(${op.fn})`;
    }
  });
}
