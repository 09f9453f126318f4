// The fuzzer's side of the wire: an authenticated connection that pipelines structured inputs and
// synchronises with a VERIFY round trip (docs/rpc.md: answered by REPLY true/false), and a one-shot raw
// connection for the unauthenticated part. The handshake is the project's own ClientHandshake
// (src/rpc/handshake.ts) with the cluster's secret, so the structured inputs reach the endpoints.

import { connect, type Socket } from 'node:net';
import { FrameDecoder, encodeFrame } from '../../src/rpc/frame-decoder.ts';
import { ClientHandshake } from '../../src/rpc/handshake.ts';
import { Kind, decodeEnvelope, encodeEnvelopeBody, type Envelope } from '../../src/rpc/wire.ts';

/** VERIFY ids start here, above every askId the generator uses, so no fuzz ASK's answer is taken for one. */
const SYNC_ID_BASE = 2 ** 40;
let nextEnvId = 0;

export class AuthedConnection {
  readonly #socket: Socket;
  readonly #decoder = new FrameDecoder(2 ** 31);
  readonly #syncs = new Map<number, (ok: boolean) => void>();
  readonly #endpoint: string;
  #nextSync = SYNC_ID_BASE;
  #pending: Buffer[] = [];
  #closed = false;
  /** Resolves when the socket has closed. */
  readonly closed: Promise<void>;

  private constructor(socket: Socket, endpoint: string) {
    this.#socket = socket;
    this.#endpoint = endpoint;
    this.closed = new Promise((resolve) => socket.once('close', () => resolve()));
    void this.closed.then(() => {
      this.#closed = true;
      for (const settle of this.#syncs.values()) settle(false);
      this.#syncs.clear();
    });
  }

  get isClosed(): boolean {
    return this.#closed;
  }

  /** Connects to 127.0.0.1:`port` and completes the handshake with `secret` within `timeoutMs`. */
  static async open(port: number, secret: string, endpoint: string, timeoutMs: number): Promise<AuthedConnection> {
    const socket = connect({ host: '127.0.0.1', port, noDelay: true });
    socket.on('error', () => {}); // a reset after a fatal input is expected; 'close' follows
    const conn = new AuthedConnection(socket, endpoint);
    const handshake = new ClientHandshake(`flint+client://fuzz-${process.pid}-${nextEnvId++}`, secret, `127.0.0.1:${port}`);
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => fail(new Error(`no handshake with 127.0.0.1:${port} within ${timeoutMs} ms`)), timeoutMs);
      const fail = (err: Error): void => {
        clearTimeout(timer);
        socket.destroy();
        reject(err);
      };
      const early = (): void => fail(new Error(`127.0.0.1:${port} closed the connection during the handshake`));
      socket.once('close', early);
      socket.once('connect', () => socket.write(frame(handshake.start())));
      conn.#onEnvelope = (envelope) => {
        const step = handshake.step(envelope);
        if (step.send !== undefined) socket.write(frame(step.send));
        if (step.state === 'failed') fail(step.error);
        if (step.state === 'done') {
          clearTimeout(timer);
          socket.off('close', early);
          conn.#onEnvelope = (e) => conn.#onReply(e);
          resolve();
        }
      };
      socket.on('data', (chunk: Buffer) => conn.#onData(chunk));
    });
    return conn;
  }

  #onEnvelope: (envelope: Envelope) => void = () => {};

  #onData(chunk: Buffer): void {
    const result = this.#decoder.push(chunk);
    for (const body of result.frames) {
      const decoded = decodeEnvelope(body);
      if (decoded.ok) this.#onEnvelope(decoded.envelope);
    }
  }

  #onReply(envelope: Envelope): void {
    if (envelope.kind !== Kind.REPLY && envelope.kind !== Kind.FAILURE) return;
    const settle = this.#syncs.get(envelope.askId);
    if (settle === undefined) return; // the answer to a fuzz ASK
    this.#syncs.delete(envelope.askId);
    settle(true);
  }

  /** Queues one whole frame; the next sync() writes the queue and its VERIFY in one go (one syscall, not 33). */
  write(frameBytes: Buffer): void {
    if (!this.#closed) this.#pending.push(frameBytes);
  }

  /**
   * A VERIFY round trip: resolves 'answered' once everything written before it was read by the daemon,
   * 'closed' if the daemon closed the connection first, 'timeout' after `timeoutMs`.
   */
  sync(timeoutMs: number): Promise<'answered' | 'closed' | 'timeout'> {
    if (this.#closed) return Promise.resolve('closed');
    const id = this.#nextSync++;
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.#syncs.delete(id);
        resolve('timeout');
      }, timeoutMs);
      this.#syncs.set(id, (ok) => {
        clearTimeout(timer);
        resolve(ok ? 'answered' : 'closed');
      });
      this.#pending.push(frame({ kind: Kind.VERIFY, askId: id, endpoint: this.#endpoint }));
      this.#socket.write(Buffer.concat(this.#pending));
      this.#pending = [];
    });
  }

  close(): Promise<void> {
    this.#socket.destroy();
    return this.closed;
  }
}

function frame(envelope: Envelope): Buffer {
  return encodeFrame(encodeEnvelopeBody(envelope));
}

/**
 * Sends `bytes` on a fresh connection, half-closes it, and waits for the daemon to close its side:
 * 'closed', or 'timeout' after `timeoutMs` (then the socket is destroyed here), or 'refused' when the
 * connection could not be made at all.
 */
export function sendRaw(port: number, bytes: Buffer, timeoutMs: number): Promise<'closed' | 'timeout' | 'refused'> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    let connected = false;
    const timer = setTimeout(() => {
      socket.destroy();
      resolve('timeout');
    }, timeoutMs);
    socket.on('error', () => {});
    socket.resume(); // whatever the daemon answers (a REFUSED, a CHALLENGE) is read and dropped
    socket.once('connect', () => {
      connected = true;
      socket.end(bytes);
    });
    socket.once('close', () => {
      clearTimeout(timer);
      resolve(connected ? 'closed' : 'refused');
    });
  });
}
