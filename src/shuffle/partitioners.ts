// Which reduce partition a key goes to: Spark's HashPartitioner and RangePartitioner (core/.../Partitioner.scala),
// and the sampling that picks a RangePartitioner's bounds (RangePartitioner.sketch/determineBounds,
// util/random/SamplingUtils.reservoirSampleAndCount).
//
// A partitioner is described by a plain PartitionerSpec (it crosses the wire from the driver in a task) and
// turned into a function once per task by `partitionerOf`.

import { mulberry32 } from '../kit/rng.ts';
import { compareKeys, hashKey } from './keys.ts';

export type PartitionerSpec =
  | { readonly kind: 'hash'; readonly partitions: number }
  | { readonly kind: 'range'; readonly partitions: number; readonly bounds: readonly unknown[]; readonly ascending: boolean };

/**
 * The partition function of `spec`. Hash: `hashKey(key) % partitions` (HashPartitioner's non-negative mod;
 * hashKey is already non-negative). Range: RangePartitioner.getPartition, partition i holding the keys in
 * (bounds[i-1], bounds[i]] by compareKeys, the last one the keys above every bound; descending flips the
 * numbering. Throws RangeError for a spec that cannot work (partitions not a positive integer, more bounds than
 * partitions − 1).
 */
export function partitionerOf(spec: PartitionerSpec): (key: unknown) => number {
  const partitions = spec.partitions;
  if (!Number.isInteger(partitions) || partitions < 1) {
    throw new RangeError(`a ${spec.kind} partitioner needs a positive integer number of partitions, got ${partitions}`);
  }
  if (spec.kind === 'hash') {
    if (partitions === 1) return () => 0;
    return (key) => hashKey(key) % partitions;
  }
  const bounds = spec.bounds;
  if (bounds.length > partitions - 1) {
    throw new RangeError(`a range partitioner of ${partitions} partitions takes at most ${partitions - 1} bounds, got ${bounds.length}`);
  }
  const last = bounds.length;
  const find = boundFinder(bounds);
  return spec.ascending ? find : (key) => last - find(key);
}

/**
 * lowerBound over `bounds`; when they are all numbers (not NaN), a number key (not NaN) is placed by comparing
 * numbers in a Float64Array, not through compareKeys: the same order (compareKeys orders numbers by value, -0
 * with 0), at a fraction of the cost for the millions of keys of a sort's map side.
 */
function boundFinder(bounds: readonly unknown[]): (key: unknown) => number {
  if (!bounds.every((b) => typeof b === 'number' && !Number.isNaN(b))) return (key) => lowerBound(bounds, key);
  const numbers = Float64Array.from(bounds as number[]);
  return (key) => (typeof key === 'number' && key === key ? lowerBoundOfNumber(numbers, key) : lowerBound(bounds, key));
}

function lowerBoundOfNumber(bounds: Float64Array, key: number): number {
  let lo = 0;
  let hi = bounds.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (key > (bounds[mid] as number)) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** The number of bounds below `key`: the first i with key ≤ bounds[i], or bounds.length. */
function lowerBound(bounds: readonly unknown[], key: unknown): number {
  let lo = 0;
  let hi = bounds.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (compareKeys(key, bounds[mid]) > 0) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/**
 * Spark's SamplingUtils.reservoirSampleAndCount: a uniform sample of at most `k` items in one pass, and how
 * many items there were. The first k items fill the reservoir; item number l (1-based) then replaces a random
 * slot with probability k / l. Deterministic for a seed.
 */
export function reservoirSample<T>(items: Iterable<T>, k: number, seed: number): { sample: T[]; count: number } {
  const sampler = new ReservoirSampler<T>(k, seed);
  for (const item of items) sampler.offer(item);
  return sampler.result();
}

/** reservoirSample one item at a time, for items that arrive asynchronously: memory is k items, not all of them. */
export class ReservoirSampler<T> {
  readonly #k: number;
  readonly #seed: number;
  readonly #sample: T[] = [];
  #count = 0;
  #random: (() => number) | undefined;

  constructor(k: number, seed: number) {
    if (!Number.isInteger(k) || k < 0) throw new RangeError(`reservoirSample needs a non-negative integer k, got ${k}`);
    this.#k = k;
    this.#seed = seed;
  }

  offer(item: T): void {
    this.#count += 1;
    if (this.#count <= this.#k) {
      this.#sample.push(item);
      return;
    }
    this.#random ??= mulberry32(this.#seed);
    const slot = Math.floor(this.#random() * this.#count);
    if (slot < this.#k) this.#sample[slot] = item;
  }

  result(): { sample: T[]; count: number } {
    return { sample: this.#sample, count: this.#count };
  }
}

/**
 * Spark's RangePartitioner.determineBounds: sorts the weighted candidates by key, walks their cumulative
 * weight and emits a bound each time it passes the next multiple of total / partitions, skipping keys not above
 * the previous bound. At most `partitions − 1` bounds, strictly increasing by compareKeys.
 */
export function determineBounds(candidates: ReadonlyArray<readonly [key: unknown, weight: number]>, partitions: number): unknown[] {
  const ordered = [...candidates].sort((a, b) => compareKeys(a[0], b[0]));
  let total = 0;
  for (const [, weight] of ordered) total += weight;
  const step = total / partitions;
  const bounds: unknown[] = [];
  let cumulative = 0;
  let target = step;
  let previous: { key: unknown } | undefined;
  for (let i = 0; i < ordered.length && bounds.length < partitions - 1; i += 1) {
    const [key, weight] = ordered[i] as readonly [unknown, number];
    cumulative += weight;
    if (cumulative >= target && (previous === undefined || compareKeys(key, previous.key) > 0)) {
      bounds.push(key);
      target += step;
      previous = { key };
    }
  }
  return bounds;
}

/**
 * How many keys RangePartitioner samples from each parent partition: sampleSize = min(20 × partitions, 1e6),
 * over-sampled three times and spread over the parent partitions (Spark's `sampleSizePerPartition`).
 */
export function rangeSampleSizePerPartition(partitions: number, numParentPartitions: number): number {
  const sampleSize = Math.min(20 * partitions, 1e6);
  return Math.ceil((3 * sampleSize) / Math.max(1, numParentPartitions));
}
