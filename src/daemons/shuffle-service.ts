// The worker's shuffle service (Spark's ExternalShuffleService and ExternalShuffleBlockResolver): an endpoint on
// the worker's RPC env that serves the map output executors wrote under `<workDir>/<appId>/shuffle/`, so the
// output outlives the executor that wrote it. It answers FetchShuffleBlock with a piece of one block, read from
// the data file at the offsets its index gives (shuffle/shuffle-writer.ts writes both), and it removes an
// application's files when the application ends (Spark's `applicationRemoved` with cleanup).
//
// Who may fetch: only an executor of the application whose block it asks for. The env lets `executor:<appId>`
// in with that application's key (derived from the cluster secret, keyrings.ts), and the service compares the
// proven principal with the request's appId. Paths are built here from the worker's own work dir and checked
// ids, never taken from the request (docs/shuffles.md, "The shuffle service").

import { open, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { Transport } from '../ports/transport.ts';
import { SHUFFLE_SERVICE_ENDPOINT, ShuffleServiceMessages, type ShuffleServiceMessage } from '../protocol/shuffle-messages.ts';
import type { ReplyContext } from '../rpc/endpoint.ts';
import { shuffleFileNames } from '../shuffle/index.ts';
import type { Logger } from '../util/logger.ts';

/** The application's shuffle directory on this worker. */
export function appShuffleDir(workDir: string, appId: string): string {
  return join(workDir, appId, 'shuffle');
}

export class ShuffleService {
  readonly #env: Transport;
  readonly #workDir: string;
  readonly #logger: Logger;
  /** Authentication is on: the principal must be the block's application's executor. */
  readonly #authenticates: boolean;
  blocksServed = 0;
  bytesServed = 0;

  constructor(env: Transport, workDir: string, logger: Logger, authenticates: boolean) {
    this.#env = env;
    this.#workDir = workDir;
    this.#logger = logger;
    this.#authenticates = authenticates;
  }

  start(): void {
    this.#env.setupEndpoint<ShuffleServiceMessage>(SHUFFLE_SERVICE_ENDPOINT, {
      messages: ShuffleServiceMessages,
      receiveAndReply: (message, ctx) => this.#fetch(message, ctx),
    });
  }

  async #fetch(message: ShuffleServiceMessage, ctx: ReplyContext): Promise<void> {
    const principal = this.#env.peerOf(ctx.senderAddress)?.principal;
    // A request from this env itself comes from this process: local mode's executor, hosted on the driver's env
    // (local-backend.ts). Every other asker proves its principal in the handshake.
    const inProcess = ctx.senderAddress === this.#env.id;
    if (this.#authenticates && !inProcess && principal !== `executor:${message.appId}`) {
      this.#logger.warn({ principal, appId: message.appId }, 'refused a shuffle fetch for another application');
      ctx.sendFailure(new Error(`executors of ${principal ?? 'an unknown principal'} may not read the shuffle files of ${message.appId}`));
      return;
    }
    const names = shuffleFileNames(message.shuffleId, message.mapId);
    const dir = appShuffleDir(this.#workDir, message.appId);
    try {
      const [start, end] = await readIndexEntry(join(dir, names.index), message.reduceId);
      const blockLength = end - start;
      if (message.offset > blockLength) throw new Error(`offset ${message.offset} is past the block's end (${blockLength} bytes)`);
      const length = Math.min(message.length, blockLength - message.offset);
      const data = new Uint8Array(length);
      const file = await open(join(dir, names.data), 'r');
      try {
        let read = 0;
        while (read < length) {
          const { bytesRead } = await file.read(data, read, length - read, start + message.offset + read);
          if (bytesRead === 0) throw new Error(`the data file ends before the block does`);
          read += bytesRead;
        }
      } finally {
        await file.close();
      }
      this.blocksServed += message.offset === 0 ? 1 : 0;
      this.bytesServed += length;
      ctx.reply({ type: 'ShuffleBlockChunk', data, blockLength });
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      const why = code === 'ENOENT' ? 'no such map output on this worker (it was removed, or never written here)' : (err as Error).message;
      ctx.sendFailure(new Error(`shuffle ${message.shuffleId}, map ${message.mapId}, reduce ${message.reduceId} of ${message.appId}: ${why}`));
    }
  }

  /** Removes an ended application's shuffle files (logs stay, for the log pages). */
  async removeApplication(appId: string): Promise<void> {
    if (!/^[\w.-]+$/.test(appId)) return;
    await rm(appShuffleDir(this.#workDir, appId), { recursive: true, force: true }).catch((err: Error) =>
      this.#logger.warn({ appId, err: err.message }, 'could not remove an application\'s shuffle files'),
    );
  }
}

/** Bytes [start, end) of reduce partition `reduceId` from an index file of (partitions + 1) u64 LE offsets. */
async function readIndexEntry(path: string, reduceId: number): Promise<[number, number]> {
  const file = await open(path, 'r');
  try {
    const buf = new Uint8Array(16);
    const { bytesRead } = await file.read(buf, 0, 16, reduceId * 8);
    if (bytesRead < 16) throw new Error(`reduce partition ${reduceId} is beyond this map output's partitions`);
    const view = new DataView(buf.buffer);
    return [Number(view.getBigUint64(0, true)), Number(view.getBigUint64(8, true))];
  } finally {
    await file.close();
  }
}
