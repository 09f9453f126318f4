// The shuffle's two halves as a task runs them (Spark's ShuffleMapTask with SortShuffleWriter, and
// BlockStoreShuffleReader with ShuffleBlockFetcherIterator), on a pool thread. The pure file formats,
// partitioners, combiners and spilling structures are in src/shuffle/; this file joins them to a task's
// records and to the executor's place on the cluster (`ShuffleEnv`).
//
// Write: every record must be a `[key, value]` pair; the writer partitions it, combines it map-side when the
// stage has an aggregator, spills past its memory share and commits one data file and index atomically. The
// task's result is the MapStatus: where the files are and how many bytes each reduce partition has there.
//
// Read: a reduce task reads its block of each map output, in map order: straight from the disk when the block
// is on this host (Spark's `spark.shuffle.readHostLocalDisk`), else from the worker's shuffle service in chunks,
// a bounded number in flight (`flint.reducer.maxSizeInFlight`). A block that cannot be read fails the task
// with FetchFailedError, which the driver turns into re-running the lost map tasks (docs/shuffles.md).

import { randomUUID } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { AggregatorSpec, ShuffleLocation, ShuffleRead, ShuffleReadMode, TaskAction } from '../../protocol/task-messages.ts';
import { FlintError } from '../../errors.ts';
import { FetchFailedError } from '../../task/task-errors.ts';
import {
  ExternalAggregator,
  ExternalSorter,
  FrameReader,
  HashJoinTable,
  ShuffleWriter,
  aggregateAggregator,
  blockRange,
  combineAggregator,
  compareKeys,
  decodeFrameBody,
  foldAggregator,
  groupAggregator,
  numberPairColumns,
  pairColumns,
  partitionerOf,
  readFrameBodiesFromFile,
  reduceAggregator,
  ReservoirSampler,
  shuffleFileNames,
  type Aggregator,
  type JoinHow,
  type PairColumns,
} from '../../shuffle/index.ts';
import { FileSink, removeFile } from '../../shuffle/spill-file.ts';
import { joinedPairs } from '../../task/builtins.ts';
import { decodeRecord } from '../../task/record-codec.ts';
import { isThenable, pushRecords, type RecordPull, type TaskFn } from '../../task/record-stream.ts';

/** A frame body's keys and values as columns when its records are [key, value] pairs (pairColumns), else its records. */
function recordsOrPairColumnsOf(body: Uint8Array): unknown[] | PairColumns {
  return pairColumns(body) ?? decodeFrameBody(body);
}

/** The bytes of a read's blocks, as shuffled. */
function readBytes(read: ShuffleRead): number {
  return read.blocks.reduce((n, block) => n + block.size, 0);
}

/** What a task needs to know of its executor to write and read shuffle files. */
export interface ShuffleEnv {
  readonly appId: string;
  /** This executor's worker: its host, shuffle service and the application's shuffle directory there. */
  readonly location: ShuffleLocation;
  /** Bytes one task may hold before it spills (the executor's shuffle memory divided by its cores). */
  readonly memoryLimitBytes: number;
  /** Read blocks on this host from the disk instead of through the shuffle service. */
  readonly readHostLocalDisk: boolean;
  /** Bytes of one block fetched per request, and how many requests of one block may be in flight. */
  readonly fetchChunkBytes: number;
  readonly maxChunksInFlight: number;
  /** Asks the shuffle service at `service` for bytes of a block (through the executor's RPC env). */
  fetchChunk(service: string, block: BlockId, offset: number, length: number): Promise<{ data: Uint8Array; blockLength: number }>;
}

export interface BlockId {
  readonly shuffleId: number;
  readonly mapId: number;
  readonly reduceId: number;
}

/** A shuffle map task's result: where its output is and its bytes per reduce partition. */
export interface MapStatus {
  readonly location: ShuffleLocation;
  readonly sizes: readonly number[];
  readonly records: number;
  readonly spills: number;
  readonly spilledBytes: number;
}

// ---- Write -----------------------------------------------------------------------------------------------------

type ShuffleWriteAction = Extract<TaskAction, { kind: 'shuffleWrite' }>;

export function aggregatorOf(spec: AggregatorSpec, resolve: (name: string) => TaskFn): Aggregator {
  switch (spec.kind) {
    case 'reduce':
      return reduceAggregator(resolve(spec.fn) as (a: unknown, b: unknown) => unknown);
    case 'fold':
      return foldAggregator(decodeRecord(spec.zero), resolve(spec.fn) as (a: unknown, b: unknown) => unknown);
    case 'aggregate':
      return aggregateAggregator(
        decodeRecord(spec.zero),
        resolve(spec.seqOp) as (a: unknown, b: unknown) => unknown,
        resolve(spec.combOp) as (a: unknown, b: unknown) => unknown,
      );
    case 'combine':
      return combineAggregator(
        resolve(spec.createCombiner) as (v: unknown) => unknown,
        resolve(spec.mergeValue) as (c: unknown, v: unknown) => unknown,
        resolve(spec.mergeCombiners) as (a: unknown, b: unknown) => unknown,
      );
    case 'group':
      return groupAggregator;
    default: {
      const never: never = spec;
      throw new Error(`unknown aggregator ${JSON.stringify(never)}`);
    }
  }
}

/** Pulls every record into a ShuffleWriter and commits it. */
export async function writeShuffle(
  pull: RecordPull<unknown>,
  action: ShuffleWriteAction,
  mapId: number,
  attemptId: number,
  env: ShuffleEnv,
  resolve: (name: string) => TaskFn,
): Promise<MapStatus> {
  const spec = action.partitioner;
  const partition =
    spec.kind === 'hash'
      ? partitionerOf(spec)
      : partitionerOf({ kind: 'range', partitions: spec.partitions, bounds: decodeRecord(spec.bounds) as unknown[], ascending: spec.ascending });
  ensureDir(env.location.dir);
  const writer = new ShuffleWriter({
    dir: env.location.dir,
    shuffleId: action.shuffleId,
    mapId,
    attemptId,
    numPartitions: spec.partitions,
    partition,
    ...(action.aggregator === undefined ? {} : { aggregator: aggregatorOf(action.aggregator, resolve) }),
    memoryLimitBytes: env.memoryLimitBytes,
  });
  try {
    const pushed = pushRecords(pull, (record) => void writer.insert(record));
    if (isThenable(pushed)) await pushed;
    await pull.close();
    const output = writer.commit();
    return { location: env.location, sizes: output.sizes, records: output.records, spills: output.spills, spilledBytes: output.spilledBytes };
  } catch (err) {
    writer.abort();
    try {
      await pull.close();
    } catch {
      // The task is already failing with a more useful error.
    }
    throw err;
  }
}

const madeDirs = new Set<string>();

/** The application's shuffle directory on this worker, made by the first task that writes there; returns it. */
function ensureDir(dir: string): string {
  if (madeDirs.has(dir)) return dir;
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  madeDirs.add(dir);
  return dir;
}

/** A reservoir sample of the keys and their count (RangePartitioner's `sketch`). */
export async function sampleKeys(pull: RecordPull<unknown>, size: number, seed: number): Promise<{ count: number; sample: unknown[] }> {
  const sampler = new ReservoirSampler<unknown>(size, seed);
  const pushed = pushRecords(pull, (record) => void sampler.offer(pairOf(record)[0]));
  if (isThenable(pushed)) await pushed;
  await pull.close();
  return sampler.result();
}

function pairOf(record: unknown): [unknown, unknown] {
  if (Array.isArray(record) && record.length === 2) return record as [unknown, unknown];
  throw new FlintError('FLINT_NOT_A_PAIR', `a key-value operation needs [key, value] records (2-element arrays); got ${describe(record)}`);
}

function describe(value: unknown): string {
  if (Array.isArray(value)) return `an array of ${value.length}`;
  if (value === null) return 'null';
  return typeof value === 'object' ? 'an object' : `${typeof value} ${String(value).slice(0, 40)}`;
}

// ---- Read ------------------------------------------------------------------------------------------------------

/**
 * One frame of a block as read, decoded by whoever takes it: as records, or (for the sorter) as number-pair
 * columns. Bytes that do not decode fail the read with FetchFailedError, as a block that cannot be read does.
 */
class BlockFrame {
  readonly #body: Uint8Array;
  readonly #id: BlockId;
  readonly #service: string;

  constructor(body: Uint8Array, id: BlockId, service: string) {
    this.#body = body;
    this.#id = id;
    this.#service = service;
  }

  /** The frame's bytes as read (its body, without the length header). */
  get body(): Uint8Array {
    return this.#body;
  }

  records(): unknown[] {
    return this.#decoding(() => decodeFrameBody(this.#body));
  }

  /** The frame's records, or its keys and values as columns when they are [key, value] pairs (see pairColumns). */
  recordsOrPairColumns(): unknown[] | PairColumns {
    return this.#decoding(() => recordsOrPairColumnsOf(this.#body));
  }

  /** The frame's keys and values when its records are all [number, number] pairs (see numberPairColumns). */
  numberPairs(): { keys: ArrayLike<number>; values: ArrayLike<number> } | undefined {
    return this.#decoding(() => numberPairColumns(this.#body));
  }

  #decoding<T>(decode: () => T): T {
    try {
      return decode();
    } catch (err) {
      throw new FetchFailedError(this.#id, this.#service, (err as Error).message);
    }
  }
}

/** The frames of every block of `read`, in map order. */
async function* blockFrames(read: ShuffleRead, locations: readonly ShuffleLocation[], env: ShuffleEnv): AsyncGenerator<BlockFrame> {
  for (const block of read.blocks) {
    if (block.size === 0) continue;
    const location = locations[block.location];
    if (location === undefined) throw new Error(`shuffle ${read.shuffleId}: block of map ${block.mapId} names no location`);
    const id: BlockId = { shuffleId: read.shuffleId, mapId: block.mapId, reduceId: read.reduceId };
    if (isLocal(location, env)) {
      yield* localFrames(id, location, block.size);
    } else {
      yield* remoteFrames(id, location.service, block.size, env);
    }
  }
}

function* localFrames(id: BlockId, location: ShuffleLocation, expected: number): Generator<BlockFrame> {
  let frames: Generator<Uint8Array>;
  try {
    const names = shuffleFileNames(id.shuffleId, id.mapId);
    const range = blockRange(join(location.dir, names.index), id.reduceId);
    if (range.length !== expected) throw new Error(`the index gives ${range.length} bytes, the map status ${expected}`);
    // Every consumer of a BlockFrame decodes it before asking for the next, so the read buffers are reused.
    frames = readFrameBodiesFromFile(join(location.dir, names.data), range.offset, range.length, undefined, { recycle: true });
  } catch (err) {
    throw new FetchFailedError(id, location.service, (err as Error).message);
  }
  for (;;) {
    let step: IteratorResult<Uint8Array>;
    try {
      step = frames.next();
    } catch (err) {
      throw new FetchFailedError(id, location.service, (err as Error).message);
    }
    if (step.done === true) return;
    yield new BlockFrame(step.value, id, location.service);
  }
}

async function* remoteFrames(id: BlockId, service: string, expected: number, env: ShuffleEnv): AsyncGenerator<BlockFrame> {
  const reader = new FrameReader();
  const chunk = env.fetchChunkBytes;
  const inFlight: Array<Promise<{ data: Uint8Array; blockLength: number }>> = [];
  let requested = 0;
  let received = 0;
  const fill = (): void => {
    while (inFlight.length < env.maxChunksInFlight && requested < expected) {
      const length = Math.min(chunk, expected - requested);
      inFlight.push(env.fetchChunk(service, id, requested, length));
      requested += length;
    }
  };
  try {
    fill();
    while (inFlight.length > 0) {
      const next = inFlight.shift() as Promise<{ data: Uint8Array; blockLength: number }>;
      let answer: { data: Uint8Array; blockLength: number };
      try {
        answer = await next;
      } catch (err) {
        throw new FetchFailedError(id, service, (err as Error).message);
      }
      if (answer.blockLength !== expected) {
        throw new FetchFailedError(id, service, `the service has ${answer.blockLength} bytes for the block, the map status ${expected}`);
      }
      received += answer.data.byteLength;
      fill();
      reader.push(answer.data);
      for (;;) {
        let body: Uint8Array | undefined;
        try {
          body = reader.nextBody();
        } catch (err) {
          throw new FetchFailedError(id, service, (err as Error).message);
        }
        if (body === undefined) break;
        yield new BlockFrame(body, id, service);
      }
    }
    if (received !== expected) throw new FetchFailedError(id, service, `got ${received} of ${expected} bytes`);
    try {
      reader.end();
    } catch (err) {
      throw new FetchFailedError(id, service, (err as Error).message);
    }
  } finally {
    // Settle what is still in flight (an early return or an error) so no rejection goes unhandled.
    for (const pending of inFlight) pending.catch(() => undefined);
  }
}

/**
 * The records of a reduce partition: as written, aggregated by key, sorted by key, or cogrouped. Aggregation and
 * sorting read every block first (spilling to `spillDir` past the task's memory share) and then give their
 * records synchronously, so a `mapPartitions` function after a shuffle may iterate with a plain `for … of`;
 * records as written are synchronous too when every block is read from this host's disk.
 */
export async function openShuffle(
  reads: readonly ShuffleRead[],
  locations: readonly ShuffleLocation[],
  mode: ShuffleReadMode,
  env: ShuffleEnv,
  spillDir: string,
  resolve: (name: string) => TaskFn,
): Promise<Iterable<unknown> | AsyncIterable<unknown>> {
  switch (mode.kind) {
    case 'plain': {
      const local = reads.every((read) => read.blocks.every((b) => b.size === 0 || isLocal(locations[b.location], env)));
      return local ? localRecords(reads, locations) : remoteRecords(reads, locations, env);
    }
    case 'aggregate': {
      const map = new ExternalAggregator({
        aggregator: aggregatorOf(mode.aggregator, resolve),
        inputIsCombiners: mode.combined,
        spillDir: ensureDir(spillDir),
        memoryLimitBytes: env.memoryLimitBytes,
      });
      // insert checks each record is a [key, value] pair itself.
      await fill(map, reads, locations, env, (frame) => {
        for (const r of frame.records()) map.insert(r as readonly [unknown, unknown]);
      });
      return cleaningUp(map.entries(), () => map.cleanup());
    }
    case 'sort': {
      const expectedBytes = reads.reduce((sum, read) => sum + readBytes(read), 0);
      const sorter = new ExternalSorter({ compare: compareKeys, ascending: mode.ascending, spillDir: ensureDir(spillDir), memoryLimitBytes: env.memoryLimitBytes, expectedBytes });
      await fill(sorter, reads, locations, env, (frame) => {
        const pairs = frame.numberPairs();
        if (pairs !== undefined) sorter.insertNumberPairs(pairs.keys, pairs.values);
        else for (const r of frame.records()) sorter.insert(r as readonly [unknown, unknown]);
      });
      return sorter.sorted(); // which removes its spills when it ends or is returned
    }
    case 'cogroup':
      return cogrouped(reads, locations, env, spillDir);
    case 'join':
      return openJoin(reads, locations, mode.how, env, spillDir);
    default: {
      const never: never = mode;
      throw new Error(`unknown shuffle read mode ${JSON.stringify(never)}`);
    }
  }
}

/** `[key, [values of read 0, values of read 1, …]]` per key (Spark's CoGroupedRDD), spilling past the memory share. */
async function cogrouped(reads: readonly ShuffleRead[], locations: readonly ShuffleLocation[], env: ShuffleEnv, spillDir: string): Promise<Iterable<unknown>> {
  const map = new ExternalAggregator({ aggregator: cogroupAggregator(reads.length), inputIsCombiners: false, spillDir: ensureDir(spillDir), memoryLimitBytes: env.memoryLimitBytes });
  await fill(map, reads, locations, env, (frame, input) => {
    for (const r of frame.records()) {
      const [k, v] = pairOf(r);
      map.insert([k, [input, v]]);
    }
  });
  return cleaningUp(map.entries(), () => map.cleanup());
}

/**
 * A join's records (src/shuffle/hash-join.ts): the input with fewer bytes is the build side, read whole into a
 * HashJoinTable; the other side's blocks not on this host are fetched into a temporary file; then its records
 * stream through the table, synchronously. When the build side does not fit in the task's memory share, the
 * join is a cogroup (which spills) and each key's pairs are made from its groups.
 */
async function openJoin(reads: readonly ShuffleRead[], locations: readonly ShuffleLocation[], how: JoinHow, env: ShuffleEnv, spillDir: string): Promise<Iterable<unknown>> {
  if (reads.length !== 2) throw new Error(`a join reads 2 shuffles, got ${reads.length}`);
  const [left, right] = reads as [ShuffleRead, ShuffleRead];
  const buildIsLeft = readBytes(left) < readBytes(right);
  const table = new HashJoinTable(how, buildIsLeft, env.memoryLimitBytes, readBytes(buildIsLeft ? left : right));
  let fits = true;
  for await (const frame of blockFrames(buildIsLeft ? left : right, locations, env)) {
    if (!table.addFrame(frame.recordsOrPairColumns())) {
      fits = false;
      break;
    }
  }
  if (!fits) return joinedFromCogroup(await cogrouped(reads, locations, env, spillDir), how);
  const stream = buildIsLeft ? right : left;
  const fetched = await fetchRemoteBlocks(stream, locations, env, ensureDir(spillDir));
  return table.probe(streamRecords(stream, locations, fetched));
}

function* joinedFromCogroup(groups: Iterable<unknown>, how: JoinHow): Generator<unknown> {
  for (const group of groups) yield* joinedPairs(group, how);
}

/** Where the blocks of a read that are not on this host were fetched to: one temporary file, each block's range. */
interface FetchedBlocks {
  readonly path: string | undefined;
  readonly ranges: ReadonlyMap<number, { offset: number; length: number }>;
}

/** Fetches every block of `read` not on this host into one temporary file in `dir` (bounded memory). */
async function fetchRemoteBlocks(read: ShuffleRead, locations: readonly ShuffleLocation[], env: ShuffleEnv, dir: string): Promise<FetchedBlocks> {
  const remote = read.blocks.filter((b) => b.size > 0 && !isLocal(locations[b.location], env));
  if (remote.length === 0) return { path: undefined, ranges: new Map() };
  const path = join(dir, `join_${randomUUID()}.fetched`);
  const sink = new FileSink(path);
  const ranges = new Map<number, { offset: number; length: number }>();
  try {
    for (const block of remote) {
      const location = locations[block.location];
      if (location === undefined) throw new Error(`shuffle ${read.shuffleId}: block of map ${block.mapId} names no location`);
      const offset = sink.position;
      const id: BlockId = { shuffleId: read.shuffleId, mapId: block.mapId, reduceId: read.reduceId };
      for await (const frame of remoteFrames(id, location.service, block.size, env)) sink.writeFrame(frame.body);
      ranges.set(block.mapId, { offset, length: sink.position - offset });
    }
    sink.close();
  } catch (err) {
    sink.closeQuietly();
    removeFile(path);
    throw err;
  }
  return { path, ranges };
}

/**
 * The records of `read`, frame by frame, synchronously: from this host's disk, or from the fetched file. A frame of
 * [key, value] pairs comes as its two columns (the hash join reads them without making a pair per record).
 */
function* streamRecords(read: ShuffleRead, locations: readonly ShuffleLocation[], fetched: FetchedBlocks): Generator<unknown[] | PairColumns> {
  try {
    for (const block of read.blocks) {
      if (block.size === 0) continue;
      const location = locations[block.location] as ShuffleLocation;
      const range = fetched.ranges.get(block.mapId);
      if (range === undefined) {
        const id: BlockId = { shuffleId: read.shuffleId, mapId: block.mapId, reduceId: read.reduceId };
        for (const frame of localFrames(id, location, block.size)) yield frame.recordsOrPairColumns();
      } else {
        for (const body of readFrameBodiesFromFile(fetched.path as string, range.offset, range.length, undefined, { recycle: true })) {
          yield recordsOrPairColumnsOf(body);
        }
      }
    }
  } finally {
    if (fetched.path !== undefined) removeFile(fetched.path);
  }
}

/**
 * Feeds every frame of every read to `insert` (with the index of its read), block by block; on any failure the
 * store's spill files are removed before the error goes on.
 */
async function fill(
  store: { cleanup(): void },
  reads: readonly ShuffleRead[],
  locations: readonly ShuffleLocation[],
  env: ShuffleEnv,
  insert: (frame: BlockFrame, input: number) => void,
): Promise<void> {
  try {
    for (let input = 0; input < reads.length; input++) {
      for await (const frame of blockFrames(reads[input] as ShuffleRead, locations, env)) insert(frame, input);
    }
  } catch (err) {
    store.cleanup();
    throw err;
  }
}

function isLocal(location: ShuffleLocation | undefined, env: ShuffleEnv): boolean {
  return location !== undefined && env.readHostLocalDisk && location.host === env.location.host;
}

function* cleaningUp<T>(records: Iterable<T>, cleanup: () => void): Generator<T> {
  try {
    yield* records;
  } finally {
    cleanup();
  }
}

function* localRecords(reads: readonly ShuffleRead[], locations: readonly ShuffleLocation[]): Generator<unknown> {
  for (const read of reads) {
    for (const block of read.blocks) {
      if (block.size === 0) continue;
      const id: BlockId = { shuffleId: read.shuffleId, mapId: block.mapId, reduceId: read.reduceId };
      for (const frame of localFrames(id, locations[block.location] as ShuffleLocation, block.size)) yield* frame.records();
    }
  }
}

async function* remoteRecords(reads: readonly ShuffleRead[], locations: readonly ShuffleLocation[], env: ShuffleEnv): AsyncGenerator<unknown> {
  for (const read of reads) for await (const frame of blockFrames(read, locations, env)) yield* frame.records();
}

/** Values tagged `[input, value]` gathered into one array per input (Spark's CoGroupedRDD combiner). */
export function cogroupAggregator(n: number): Aggregator {
  return {
    createCombiner(tagged: unknown) {
      const groups: unknown[][] = Array.from({ length: n }, () => []);
      const [i, v] = tagged as [number, unknown];
      (groups[i] as unknown[]).push(v);
      return groups;
    },
    mergeValue(groups: unknown, tagged: unknown) {
      const [i, v] = tagged as [number, unknown];
      ((groups as unknown[][])[i] as unknown[]).push(v);
      return groups;
    },
    mergeCombiners(a: unknown, b: unknown) {
      const x = a as unknown[][];
      const y = b as unknown[][];
      for (let i = 0; i < n; i++) for (const v of y[i] as unknown[]) (x[i] as unknown[]).push(v);
      return x;
    },
  };
}

