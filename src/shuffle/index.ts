// The pure, synchronous core of Flint's shuffle: keys, partitioners, the block format, map-side writing with
// spills and an atomic commit, and the reduce side's external aggregation and sorting. See README.md.
export { aggregateAggregator, combineAggregator, foldAggregator, groupAggregator, reduceAggregator, synchronousResult } from './aggregator.ts';
export type { Aggregator } from './aggregator.ts';
export { ExternalAggregator } from './external-aggregator.ts';
export type { ExternalAggregatorOptions } from './external-aggregator.ts';
export { ExternalSorter } from './external-sorter.ts';
export { HashJoinTable } from './hash-join.ts';
export type { JoinHow } from './hash-join.ts';
export type { ExternalSorterOptions } from './external-sorter.ts';
export { DEFAULT_CHUNK_BYTES, FrameReader, decodeFrameBody, encodeFrame, readFrameBodiesFromFile, readFramesFromFile } from './frames.ts';
export { MIN_NUMBER_PAIR_BYTES, numberPairColumns, pairColumns } from './columnar-frame.ts';
export type { PairColumns } from './columnar-frame.ts';
export { blockRange, readIndex, shuffleFileNames } from './index-file.ts';
export { compareKeys, encodeKey, hashKey, keyIdentity } from './keys.ts';
export { mulberry32 } from '../kit/rng.ts';
export { ReservoirSampler, determineBounds, partitionerOf, rangeSampleSizePerPartition, reservoirSample } from './partitioners.ts';
export type { PartitionerSpec } from './partitioners.ts';
export { SHUFFLE_ERROR_CODES, ShuffleError } from './shuffle-errors.ts';
export type { ShuffleErrorCode } from './shuffle-errors.ts';
export { ShuffleWriter } from './shuffle-writer.ts';
export type { MapOutput, ShuffleWriteOptions } from './shuffle-writer.ts';
export { SizeTracker, estimateSize } from './size-estimate.ts';
