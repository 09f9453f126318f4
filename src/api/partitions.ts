// How `parallelize` and `range` cut their input into partitions (Spark's ParallelCollectionRDD.slice):
// partition i holds positions [⌊i·n/k⌋, ⌊(i+1)·n/k⌋), so sizes differ by at most one and order is kept.

import type { TaskSource } from '../protocol/task-messages.ts';
import { rangeCount } from '../task/record-stream.ts';

export function checkSlices(numSlices: number): void {
  if (!Number.isSafeInteger(numSlices) || numSlices < 1) throw new RangeError(`numSlices must be a whole number ≥ 1, got ${numSlices}`);
}

/** The [start, end) positions of each of `numSlices` slices of `length` items. */
export function sliceBounds(length: number, numSlices: number): Array<readonly [number, number]> {
  checkSlices(numSlices);
  return Array.from({ length: numSlices }, (_, i) => [Math.floor((i * length) / numSlices), Math.floor(((i + 1) * length) / numSlices)] as const);
}

/** `range(start, end, step)` cut into `numSlices` range sources. */
export function rangeSources(start: number, end: number, step: number, numSlices: number): Array<Extract<TaskSource, { kind: 'range' }>> {
  if (![start, end, step].every(Number.isSafeInteger) || step === 0) {
    throw new RangeError(`range(${start}, ${end}, ${step}): start, end and step must be safe integers and step must not be 0`);
  }
  return sliceBounds(rangeCount(start, end, step), numSlices).map(([a, b]) => ({ kind: 'range', start: start + a * step, end: start + b * step, step }));
}
