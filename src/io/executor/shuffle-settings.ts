// The executor's shuffle settings (docs/shuffles.md, "Memory" and "Fetching"), from the application's keys and
// the executor's place on its worker. Spark's UnifiedMemoryManager gives execution memory
// `(heap − 300 MiB) × spark.memory.fraction`; Flint divides the same way and gives each running task an equal
// share (Spark's ExecutionMemoryPool lets a task take between 1/2N and 1/N of it). Flint's default fraction is
// lower than Spark's 0.6: its share is measured by estimated record sizes, and a V8 heap holds more per record
// than the estimate says (docs/differences-from-spark.md).

import { resolve } from 'node:path';
import type { FlintConf } from '../../conf/flint-conf.ts';
import { ConfigError } from '../../errors.ts';
import type { ShuffleEnv } from './shuffle-task.ts';

/** Spark's RESERVED_SYSTEM_MEMORY_BYTES, scaled down for small heaps (never more than half of it). */
const RESERVED_MB = 300;

export const SHUFFLE_KEYS = {
  memoryFraction: 'flint.memory.fraction',
  storageFraction: 'flint.memory.storageFraction',
  readHostLocalDisk: 'flint.shuffle.readHostLocalDisk',
  maxSizeInFlight: 'flint.reducer.maxSizeInFlight',
  fetchChunkSize: 'flint.shuffle.io.chunkSize',
} as const;

export interface ShufflePlace {
  readonly appId: string;
  /** `{{HOSTNAME}}`: blocks of map outputs on the same host are read from the disk. */
  readonly hostname: string;
  /** `{{WORKER_URL}}` (`flint://Worker@host:port`): its env serves this executor's shuffle files. */
  readonly workerUrl: string;
  /** The executor's directory, `<workDir>/<appId>/<execId>`. */
  readonly executorDir: string;
  readonly cores: number;
}

/** Bytes of one task thread's share of the memory for cached partitions (persist): block-store.ts. */
export function storageLimitBytes(conf: FlintConf, cores: number): number {
  const heapMb = conf.getMemoryMb('flint.executor.memory', '1g');
  const fraction = fractionOf(conf, SHUFFLE_KEYS.memoryFraction, '0.3') * fractionOf(conf, SHUFFLE_KEYS.storageFraction, '0.5');
  const reserved = Math.min(RESERVED_MB, heapMb / 2);
  return Math.floor(((heapMb - reserved) * fraction * 2 ** 20) / Math.max(1, cores));
}

function fractionOf(conf: FlintConf, key: string, fallback: string): number {
  const value = Number(conf.get(key) ?? fallback);
  if (!Number.isFinite(value) || value < 0 || value > 1) throw new ConfigError(key, `${key} must be a number from 0 to 1, got ${conf.get(key)}`);
  return value;
}

export function shuffleSettings(conf: FlintConf, place: ShufflePlace): Omit<ShuffleEnv, 'fetchChunk'> {
  const heapMb = conf.getMemoryMb('flint.executor.memory', '1g');
  const fraction = Number(conf.get(SHUFFLE_KEYS.memoryFraction) ?? '0.3');
  if (!Number.isFinite(fraction) || fraction <= 0 || fraction > 1) {
    throw new ConfigError(SHUFFLE_KEYS.memoryFraction, `${SHUFFLE_KEYS.memoryFraction} must be a number above 0 and at most 1, got ${conf.get(SHUFFLE_KEYS.memoryFraction)}`);
  }
  const reserved = Math.min(RESERVED_MB, heapMb / 2);
  const shuffleBytes = (heapMb - reserved) * fraction * 2 ** 20;
  const maxInFlight = conf.getSizeBytes(SHUFFLE_KEYS.maxSizeInFlight, '48m', 'm');
  const chunk = conf.getSizeBytes(SHUFFLE_KEYS.fetchChunkSize, '4m', 'b', { max: 64 * 2 ** 20 });
  if (chunk < 1) throw new ConfigError(SHUFFLE_KEYS.fetchChunkSize, `${SHUFFLE_KEYS.fetchChunkSize}=${JSON.stringify(conf.get(SHUFFLE_KEYS.fetchChunkSize))} is too small; expected at least 1 byte, e.g. 4m`);
  const at = place.workerUrl.indexOf('@');
  const service = at < 0 ? place.workerUrl : `${place.workerUrl.slice(0, place.workerUrl.indexOf('://') + 3)}${place.workerUrl.slice(at + 1)}`;
  return {
    appId: place.appId,
    location: { host: place.hostname, service, dir: resolve(place.executorDir, '..', 'shuffle') },
    memoryLimitBytes: Math.max(1 << 20, Math.floor(shuffleBytes / Math.max(1, place.cores))),
    readHostLocalDisk: conf.getBoolean(SHUFFLE_KEYS.readHostLocalDisk, true),
    fetchChunkBytes: chunk,
    maxChunksInFlight: Math.max(1, Math.floor(maxInFlight / chunk)),
  };
}
