// Server-sent events for the web UIs: a page subscribes with EventSource and gets state changes as they
// happen, where Spark's pages poll or reload (`UIUtils.headerSparkPage`'s refresh).
//
// A handler gets an SseStream: it sends named events with JSON data, registers what to undo on close, and
// returns. The stream sends a comment every `heartbeatMs` (15 s) so proxies and browsers keep the connection,
// and ends itself when the client goes away, when the server closes, or when the client reads so slowly that
// more than `maxBufferedBytes` wait for it (a stream is a view, not a log: the page reconnects and re-reads).
// A server allows `maxStreams` open streams at once; SseLimiter answers the next one 503.

import { PassThrough } from 'node:stream';
import type { Logger } from '../../util/logger.ts';

export const DEFAULT_HEARTBEAT_MS = 15_000;
export const DEFAULT_MAX_EVENT_STREAMS = 32;
/** Bytes queued for a client that does not read before its stream is ended. */
export const MAX_BUFFERED_SSE_BYTES = 1024 * 1024;

/** Event names and ids go on their own line of the stream: no newlines, nothing a client could misread. */
const EVENT_FIELD = /^[A-Za-z0-9_.:-]{1,100}$/;

export interface SseStream {
  /** Sends `data` as one JSON line under `event`; false when the stream is already closed. */
  send(event: string, data: unknown, id?: string): boolean;
  /** Runs `cleanup` once when the stream ends, however it ends (at once when it already has). */
  onClose(cleanup: () => void): void;
  readonly closed: boolean;
  /** Ends the stream from the server side. */
  close(): void;
}

/** What the UI server needs to serve one stream: the body to send and how to end it. */
export interface OpenedSseStream {
  readonly stream: SseStream;
  readonly body: PassThrough;
}

export interface SseStreamOptions {
  readonly heartbeatMs: number;
  readonly logger: Logger;
  /** Called once when the stream has ended (the server's count of open streams). */
  readonly onEnded: () => void;
}

/** A stream whose `body` the server sends as the response; the caller ends it when the client goes away. */
export function openSseStream({ heartbeatMs, logger, onEnded }: SseStreamOptions): OpenedSseStream {
  const body = new PassThrough();
  const cleanups: Array<() => void> = [];
  let closed = false;
  const heartbeat = setInterval(() => write(': heartbeat\n\n'), heartbeatMs);
  heartbeat.unref();

  const close = (): void => {
    if (closed) return;
    closed = true;
    clearInterval(heartbeat);
    body.end();
    for (const cleanup of cleanups.splice(0)) {
      try {
        cleanup();
      } catch (err) {
        logger.error({ err: (err as Error).message }, 'an event stream cleanup failed');
      }
    }
    onEnded();
  };
  const write = (text: string): boolean => {
    if (closed) return false;
    if (body.writableLength > MAX_BUFFERED_SSE_BYTES) {
      logger.warn({ bufferedBytes: body.writableLength }, 'ending an event stream whose client does not read');
      close();
      return false;
    }
    body.write(text);
    return true;
  };
  body.on('close', close);

  const stream: SseStream = {
    send(event, data, id) {
      if (!EVENT_FIELD.test(event) || (id !== undefined && !EVENT_FIELD.test(id))) {
        throw new TypeError(`an event name or id must match ${EVENT_FIELD}`);
      }
      const idLine = id === undefined ? '' : `id: ${id}\n`;
      // JSON.stringify escapes every newline, so the data is one `data:` line.
      return write(`event: ${event}\n${idLine}data: ${JSON.stringify(data) ?? 'null'}\n\n`);
    },
    onClose(cleanup) {
      if (closed) cleanup();
      else cleanups.push(cleanup);
    },
    get closed() {
      return closed;
    },
    close,
  };
  // Tells the browser how long to wait before it reconnects, and flushes the headers at once.
  write('retry: 3000\n\n');
  return { stream, body };
}

/** Counts one server's open streams against its bound. */
export class SseLimiter {
  readonly max: number;
  readonly #open = new Set<SseStream>();

  constructor(max: number) {
    this.max = max;
  }

  get open(): number {
    return this.#open.size;
  }

  /** Whether one more stream may open. */
  hasRoom(): boolean {
    return this.#open.size < this.max;
  }

  add(stream: SseStream): void {
    this.#open.add(stream);
  }

  delete(stream: SseStream): void {
    this.#open.delete(stream);
  }

  /** Ends every open stream: the server is closing. */
  closeAll(): void {
    for (const stream of [...this.#open]) stream.close();
  }
}
