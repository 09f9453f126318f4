// Length-prefixed framing: every frame is a 4-byte big-endian unsigned length, then that many bytes.
//
// FrameDecoder turns an arbitrary split of the byte stream back into whole frames. It checks the length
// prefix against the maximum *before* buffering the body, so a hostile 4 GiB prefix costs nothing.
// It has no I/O: the connection feeds it chunks, and the property tests feed it every split.
//
// It never allocates for a declared length: a body is copied out only once every byte of it has arrived, and
// until then only the chunks received are held. The limit may change between frames (`maxFrameBytes`): a
// connection reads its handshake frames under a small pre-authentication limit and raises it afterwards;
// `append` + `next` let it take one frame at a time so the new limit applies to the very next frame.

export const FRAME_HEADER_BYTES = 4;

export type FrameResult =
  | { readonly ok: true; readonly frames: Buffer[] }
  | { readonly ok: false; readonly frames: Buffer[]; readonly declaredBytes: number };

export class FrameDecoder {
  /** The largest frame accepted; checked against each length prefix as it is read. */
  maxFrameBytes: number;
  /** The chunks held, the first of them from `#offset` on. */
  #chunks: Buffer[] = [];
  #offset = 0;
  #buffered = 0;
  #failed = false;

  constructor(maxFrameBytes: number) {
    this.maxFrameBytes = maxFrameBytes;
  }

  /** Bytes held for an incomplete frame. */
  get bufferedBytes(): number {
    return this.#buffered;
  }

  /**
   * Adds a chunk and returns every frame it completes. On an oversized length prefix it returns the frames
   * completed before it with `ok: false`; the stream cannot be resynchronised, so later pushes return nothing.
   */
  push(chunk: Buffer): FrameResult {
    const frames: Buffer[] = [];
    this.append(chunk);
    for (let next = this.next(); next !== undefined; next = this.next()) {
      if (!Buffer.isBuffer(next)) return { ok: false, frames, declaredBytes: next.declaredBytes };
      frames.push(next);
    }
    return { ok: true, frames };
  }

  /** Adds a chunk without decoding anything; `next` takes the frames out. Ignored after a failure. */
  append(chunk: Buffer): void {
    if (this.#failed) return;
    this.#chunks.push(chunk);
    this.#buffered += chunk.length;
  }

  /**
   * The next whole frame, undefined when none is complete, or the declared length of an oversized frame: then
   * everything held is dropped and the decoder stays failed (the stream cannot be resynchronised).
   */
  next(): Buffer | { readonly declaredBytes: number } | undefined {
    if (this.#failed || this.#buffered < FRAME_HEADER_BYTES) return undefined;
    const head = this.#peekHeader();
    if (head > this.maxFrameBytes) {
      this.#failed = true;
      this.clear();
      return { declaredBytes: head };
    }
    if (this.#buffered < FRAME_HEADER_BYTES + head) return undefined;
    this.#skip(FRAME_HEADER_BYTES);
    return this.#consume(head);
  }

  /** Drops whatever is held (the connection closed). */
  clear(): void {
    this.#chunks = [];
    this.#offset = 0;
    this.#buffered = 0;
  }

  #peekHeader(): number {
    const first = this.#chunks[0] as Buffer;
    if (first.length - this.#offset >= FRAME_HEADER_BYTES) return first.readUInt32BE(this.#offset);
    const head = Buffer.concat([first.subarray(this.#offset), ...this.#chunks.slice(1)], FRAME_HEADER_BYTES);
    return head.readUInt32BE(0);
  }

  #dropFirst(): void {
    if (this.#chunks.length === 1) this.#chunks.pop();
    else this.#chunks.shift();
    this.#offset = 0;
  }

  /** Drops the next `n` bytes (n <= buffered), making nothing of them. */
  #skip(n: number): void {
    this.#buffered -= n;
    while (n > 0) {
      const chunk = this.#chunks[0] as Buffer;
      const take = Math.min(chunk.length - this.#offset, n);
      n -= take;
      this.#offset += take;
      if (this.#offset === chunk.length) this.#dropFirst();
    }
  }

  /**
   * Removes and returns the next `n` bytes (n <= buffered): a view when they sit in the first chunk (most frames:
   * nothing else is made), a copy when they span chunks.
   */
  #consume(n: number): Buffer {
    if (n === 0) return Buffer.alloc(0);
    this.#buffered -= n;
    const first = this.#chunks[0] as Buffer;
    const start = this.#offset;
    if (first.length - start >= n) {
      this.#offset = start + n;
      if (this.#offset === first.length) this.#dropFirst();
      return first.subarray(start, start + n);
    }
    const out = Buffer.allocUnsafe(n);
    let filled = 0;
    while (filled < n) {
      const chunk = this.#chunks[0] as Buffer;
      const from = this.#offset;
      const take = Math.min(chunk.length - from, n - filled);
      chunk.copy(out, filled, from, from + take);
      filled += take;
      this.#offset = from + take;
      if (this.#offset === chunk.length) this.#dropFirst();
    }
    return out;
  }
}

/** Prefixes `body` with its length. */
export function encodeFrame(body: Uint8Array): Buffer {
  const frame = Buffer.allocUnsafe(FRAME_HEADER_BYTES + body.length);
  frame.writeUInt32BE(body.length, 0);
  frame.set(body, FRAME_HEADER_BYTES);
  return frame;
}
