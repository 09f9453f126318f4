// How a key-value operation combines the values of one key: Spark's Aggregator (createCombiner, mergeValue,
// mergeCombiners), used by the map-side combine of ShuffleWriter and the reduce-side ExternalAggregator, with
// the built-ins behind groupByKey, reduceByKey, foldByKey, aggregateByKey and combineByKey
// (PairRDDFunctions.scala).
//
// The functions are synchronous: they run inside the shuffle's insert loop, which cannot wait. A user function
// that returns a promise (an async function) fails at once with FLINT_ASYNC_COMBINER. Combiners may be mutated
// in place by mergeValue/mergeCombiners: the shuffle owns them.

import { decodeRecord, encodeRecord } from '../task/record-codec.ts';
import { ShuffleError } from './shuffle-errors.ts';

export interface Aggregator {
  createCombiner(value: unknown): unknown;
  mergeValue(combiner: unknown, value: unknown): unknown;
  mergeCombiners(a: unknown, b: unknown): unknown;
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return (typeof value === 'object' || typeof value === 'function') && value !== null && typeof (value as { then?: unknown }).then === 'function';
}

/** Returns `value`, or throws FLINT_ASYNC_COMBINER when it is a promise (whose rejection is then ignored). */
export function synchronousResult<T>(value: T, operation: string, role: string): T {
  if (!isThenable(value)) return value;
  value.then(undefined, () => undefined); // it is abandoned: keep its rejection from being unhandled
  throw new ShuffleError(
    'FLINT_ASYNC_COMBINER',
    `the ${role} function of ${operation} returned a promise. Combiner functions of key-value operations ` +
      '(reduceByKey, foldByKey, aggregateByKey, combineByKey) must be synchronous: they run inside the shuffle, ' +
      'which cannot wait. Fix: make the function synchronous, and do asynchronous work in a map before the shuffle.',
  );
}

/** groupByKey: the combiner is the array of the key's values. */
export const groupAggregator: Aggregator = {
  createCombiner: (value) => [value],
  mergeValue: (combiner, value) => {
    (combiner as unknown[]).push(value);
    return combiner;
  },
  mergeCombiners: (a, b) => {
    const into = a as unknown[];
    for (const value of b as unknown[]) into.push(value);
    return into;
  },
};

/** reduceByKey(fn): the combiner is the running reduction. */
export function reduceAggregator<V>(fn: (a: V, b: V) => V, operation = 'reduceByKey'): Aggregator {
  const merge = (a: unknown, b: unknown): unknown => synchronousResult(fn(a as V, b as V), operation, 'reduce');
  return { createCombiner: (value) => value, mergeValue: merge, mergeCombiners: merge };
}

/**
 * A fresh copy of `zero` for each key: Spark serialises the zero value once and deserialises it per key, so a
 * function that mutates its accumulator cannot leak one key's state into another's. Primitives need no copy.
 */
function zeroFactory(zero: unknown): () => unknown {
  if (typeof zero !== 'object' || zero === null) return () => zero;
  const bytes = encodeRecord(zero, 'zero');
  return () => decodeRecord(bytes);
}

/** foldByKey(zero, fn): each key starts from its own copy of zero. */
export function foldAggregator<V>(zero: V, fn: (a: V, b: V) => V, operation = 'foldByKey'): Aggregator {
  const freshZero = zeroFactory(zero);
  const merge = (a: unknown, b: unknown): unknown => synchronousResult(fn(a as V, b as V), operation, 'fold');
  return { createCombiner: (value) => merge(freshZero(), value), mergeValue: merge, mergeCombiners: merge };
}

/** aggregateByKey(zero, seqOp, combOp): seqOp folds values into a copy of zero, combOp merges accumulators. */
export function aggregateAggregator<U, V>(
  zero: U,
  seqOp: (acc: U, value: V) => U,
  combOp: (a: U, b: U) => U,
  operation = 'aggregateByKey',
): Aggregator {
  const freshZero = zeroFactory(zero);
  const seq = (acc: unknown, value: unknown): unknown => synchronousResult(seqOp(acc as U, value as V), operation, 'seqOp');
  return {
    createCombiner: (value) => seq(freshZero(), value),
    mergeValue: seq,
    mergeCombiners: (a, b) => synchronousResult(combOp(a as U, b as U), operation, 'combOp'),
  };
}

/** combineByKey(createCombiner, mergeValue, mergeCombiners), each checked to be synchronous. */
export function combineAggregator<V, C>(
  create: (value: V) => C,
  mergeValue: (combiner: C, value: V) => C,
  mergeCombiners: (a: C, b: C) => C,
  operation = 'combineByKey',
): Aggregator {
  return {
    createCombiner: (value) => synchronousResult(create(value as V), operation, 'createCombiner'),
    mergeValue: (c, value) => synchronousResult(mergeValue(c as C, value as V), operation, 'mergeValue'),
    mergeCombiners: (a, b) => synchronousResult(mergeCombiners(a as C, b as C), operation, 'mergeCombiners'),
  };
}
