// A pino destination that gathers log lines in one buffer and writes them to a file descriptor with one write
// each time it fills (and whenever `flushSync` is called: the executor does so every 100 ms and as it exits).
//
// An executor logs a line per task ("Finished task …"). pino's own buffered destination (SonicBoom with
// `minLength`) keeps the pending lines as one growing string and measures its UTF-8 length at every line, which
// flattens it each time, then converts it to a Buffer to write it: 1.4 µs a line in an executor running 40,000
// no-op tasks a second, more than the rest of its logging (docs/benchmarks.md, "2026-12-05: task threads"). Here
// each line is encoded once, into the buffer, and the buffer is written as it is.

import { writeSync } from 'node:fs';

/** Bytes gathered before they are written. */
export const LINE_BUFFER_BYTES = 16 * 1024;

/** How long a write to a full pipe is retried (EAGAIN: a non-blocking descriptor, its reader slow). */
const RETRY_FOR_MS = 1_000;
const RETRY_PAUSE_MS = 1;

export class LogLineBuffer {
  readonly #fd: number;
  readonly #buffer: Buffer;
  readonly #pause = new Int32Array(new SharedArrayBuffer(4));
  #length = 0;
  #broken = false;

  constructor(fd: number, bytes = LINE_BUFFER_BYTES) {
    this.#fd = fd;
    this.#buffer = Buffer.allocUnsafe(bytes);
  }

  /** Bytes gathered and not written yet. */
  get pending(): number {
    return this.#length;
  }

  /** pino's destination call: one line, newline included. */
  write(line: string): boolean {
    if (this.#broken) return true;
    // A UTF-16 unit never takes more than 3 bytes in UTF-8: a line that may not fit makes room first.
    if (line.length * 3 > this.#buffer.length - this.#length) {
      this.flushSync();
      if (line.length * 3 > this.#buffer.length) {
        this.#writeAll(Buffer.from(line, 'utf8'));
        return true;
      }
    }
    this.#length += this.#buffer.write(line, this.#length, 'utf8');
    return true;
  }

  /** Writes what is gathered now. */
  flushSync(): void {
    if (this.#length === 0) return;
    const bytes = this.#buffer.subarray(0, this.#length);
    this.#length = 0;
    this.#writeAll(bytes);
  }

  /** pino calls `flush` on its own (`logger.flush()`): the same. */
  flush(): void {
    this.flushSync();
  }

  /**
   * Writes every byte, retrying a full non-blocking pipe for a while. A descriptor that fails otherwise (its
   * reader gone: EPIPE, EBADF) leaves nowhere to log to: the lines are dropped from then on, and the process
   * goes on.
   */
  #writeAll(bytes: Uint8Array): void {
    let offset = 0;
    let retryUntil = 0;
    while (offset < bytes.byteLength && !this.#broken) {
      try {
        offset += writeSync(this.#fd, bytes, offset, bytes.byteLength - offset);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EAGAIN') {
          this.#broken = true;
          return;
        }
        const now = performance.now();
        if (retryUntil === 0) retryUntil = now + RETRY_FOR_MS;
        else if (now > retryUntil) return; // the reader is stuck: these lines are dropped, later ones tried again
        Atomics.wait(this.#pause, 0, 0, RETRY_PAUSE_MS);
      }
    }
  }
}
