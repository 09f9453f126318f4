// The worker's shuffle service (Spark's ExternalShuffleService, `shuffleService.startIfEnabled()` in a worker's
// start-up): executors of an application fetch the map output that executors of the same application wrote on
// this worker, over Flint's RPC, authenticated as `executor:<appId>`. Map output therefore outlives the executor
// that wrote it. A block is fetched in pieces of at most `length` bytes, so no frame has to hold a large block.
//
// The service answers only for the application its caller proved it belongs to (the principal's app id), and
// only for files under that application's shuffle directory (docs/shuffles.md).

import { Type } from '@sinclair/typebox';
import { defineCatalog, message, type MessageOf } from './catalog.ts';
import { integerIn, LIMITS } from './limits.ts';

/** The service's endpoint name in each worker's RPC env. */
export const SHUFFLE_SERVICE_ENDPOINT = 'ShuffleService';

const Count = integerIn(LIMITS.count);
const LongCount = integerIn(LIMITS.longCount);
const AppId = Type.String({ minLength: 1, maxLength: 100, pattern: '^[\\w.-]+$' });

/** Ask → ShuffleBlockChunk: up to `length` bytes of block (shuffleId, mapId, reduceId) from `offset` within it. */
export const FetchShuffleBlock = message('FetchShuffleBlock', {
  appId: AppId,
  shuffleId: Count,
  mapId: Count,
  reduceId: Count,
  offset: LongCount,
  length: integerIn({ min: 1, max: 64 * 1024 * 1024 }),
});

export const ShuffleServiceMessages = defineCatalog('ShuffleService', [FetchShuffleBlock], { from: ['executor'] });
export type ShuffleServiceMessage = MessageOf<typeof ShuffleServiceMessages>;

/** `data`: the bytes from `offset` (fewer than asked only at the block's end); `blockLength`: the block's size. */
export const ShuffleBlockChunk = message('ShuffleBlockChunk', { data: Type.Uint8Array(), blockLength: LongCount });
export const ShuffleServiceReplies = defineCatalog('ShuffleServiceReplies', [ShuffleBlockChunk], { from: ['app', 'daemon'] });
