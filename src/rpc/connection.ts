// One TCP connection to a peer env: framing, the handshake, batched writes with backpressure, and the asks
// in flight over it. The env owns routing and endpoints; a Connection only moves envelopes.
//
// Writes: frames are queued and flushed once per microtask turn, so everything produced while handling
// one chunk of input leaves in a single write. With `coalesceWrites` (`flint.rpc.io.coalesceWrites`, on in
// drivers and executors), a connection that has already written in this turn of the event loop waits for the
// loop's check phase (setImmediate) before it writes again, so the frames produced by a burst of events (task
// results arriving one by one from the task threads, status updates from many executors) leave in one write
// instead of one each, while a lone message still leaves at once. It costs a setImmediate per written turn
// (about 3 µs on a round trip), so it is off where latency matters more than bursts. When the socket reports a
// full buffer, flushing stops until 'drain'; producers see `needsDrain` and can await `whenWritable()`.
// Reads: the env counts messages it has queued to endpoints but not yet handled (`dispatched`, `handled`); above a
// high-water mark the socket is paused, so a slow endpoint slows its senders instead of growing memory.
// Limits (docs/security.md, "Limits before authentication"): until the handshake is done a peer may send only
// handshake frames of at most PRE_AUTH_MAX_FRAME_BYTES (the decoder never holds more than that for it), within
// the handshake timeout; after it, flint.rpc.message.maxSize applies. A peer that lets more than
// `maxQueuedBytes` pile up for it (it asks and never reads) is disconnected. Warnings a peer can trigger go
// through a LogLimiter, so a peer repeating itself, or thousands failing at once, write a bounded number of lines.

import type { Socket } from 'node:net';
import { MessageTooLargeError, NotFlintPeerError, RpcConnectionError, type FlintError } from '../errors.ts';
import { LogLimiter } from '../util/log-limiter.ts';
import type { Logger } from '../util/logger.ts';
import type { Credential, Keyring, Principal, Role } from './auth.ts';
import { FRAME_HEADER_BYTES, FrameDecoder } from './frame-decoder.ts';
import { ClientHandshake, ServerHandshake, errorFromRefusal, type HandshakeStep } from './handshake.ts';
import { Kind, decodeEnvelope, encodeEnvelopeFrame, type Envelope } from './wire.ts';

export interface ConnectionHooks {
  /** The handshake finished; `conn.peerEnv` is known. */
  onOpen(conn: Connection): void;
  /** SEND, ASK or VERIFY from the peer, after the handshake. */
  onRequest(conn: Connection, envelope: Envelope): void;
  /**
   * Called once. `failure` is set when the connection failed (refused, reset, bad frame, handshake or auth
   * failure) rather than closed. `graceful` is true for an idle close agreed with BYE: not a disconnect.
   */
  onClose(conn: Connection, failure: FlintError | undefined, graceful: boolean): void;
}

export interface ConnectionOptions {
  readonly socket: Socket;
  readonly role: 'client' | 'server';
  readonly localEnv: string;
  /** For a client: the env id it dialed. */
  readonly dialed?: string;
  /** A client's credential, set iff authentication is on; without it `principal` is claimed unproven. */
  readonly credential: Credential | undefined;
  readonly principal: Principal;
  /** A server's keys by principal, set iff authentication is on. */
  readonly keyring: Keyring | undefined;
  readonly maxFrameBytes: number;
  readonly handshakeTimeoutMs: number;
  readonly writeHighWaterBytes: number;
  /** Bytes queued for the peer (ours and the socket's) past which it is disconnected. Default: no limit. */
  readonly maxQueuedBytes?: number;
  /** The largest frame accepted before the handshake is done. Default PRE_AUTH_MAX_FRAME_BYTES. */
  readonly maxHandshakeFrameBytes?: number;
  /** Where warnings a peer can trigger go (shared by an env's connections). Default: one per connection. */
  readonly limiter?: LogLimiter;
  /** The socket's bytes come through `receive` (the transport reads them, transport.ts), not 'data' events. */
  readonly dataFromTransport?: boolean;
  /** Hold frames until the loop's check phase once this turn of the event loop has written (see above). */
  readonly coalesceWrites?: boolean;
  readonly logger: Logger;
  readonly hooks: ConnectionHooks;
}

interface PendingAsk {
  resolve(value: unknown): void;
  reject(err: Error): void;
}

/**
 * The entry `#pending` keeps under id 0 (no ask's id) so that it never empties: V8 reallocates a Map's table each
 * time its last entry is deleted, which cost 0.2 µs of every ask answered while no other was in flight.
 */
const NO_ASK: PendingAsk = {
  resolve: () => {},
  reject: () => {},
};

/** How an HTTP server's reply starts: a frame's length never does (it would be over 1 GB). */
const HTTP_REPLY = Buffer.from('HTTP/', 'latin1');

/** The largest frame a peer may send before its handshake is done: a HELLO, CHALLENGE or PROOF is < 1 KiB. */
export const PRE_AUTH_MAX_FRAME_BYTES = 64 * 1024;

const READ_PAUSE_AT = 4096;
const READ_RESUME_AT = 1024;

export class Connection {
  readonly role: 'client' | 'server';
  readonly remoteSocketAddress: string;
  /** The socket's remote IP address (`?` when unknown). */
  readonly remoteIp: string;
  /** The peer's env id: the one dialed (client) or the one it announced (server, after the handshake). */
  peerEnv: string | undefined;
  /** Who the peer speaks for and what it may do, known once the handshake is done (auth.ts). */
  peerPrincipal: Principal | undefined;
  peerRole: Role | undefined;
  lastActivityMs = performance.now();

  readonly #socket: Socket;
  readonly #opts: ConnectionOptions;
  readonly #decoder: FrameDecoder;
  readonly #limiter: LogLimiter;
  /** Asks in flight, by id, and NO_ASK; made by the first ask (most of a master's 10,000 connections never ask). */
  #pending: Map<number, PendingAsk> | undefined;
  #handshake: ClientHandshake | ServerHandshake | undefined;
  #handshakeTimer: NodeJS.Timeout | undefined;
  #state: 'handshaking' | 'open' | 'closed' = 'handshaking';
  #queue: Buffer[] = [];
  #queuedBytes = 0;
  #flushScheduled = false;
  /** A write went out in this turn of the event loop (cleared in the check phase). */
  #wroteThisTurn = false;
  readonly #flushNow = (): void => this.#flush();
  readonly #newTurn = (): void => {
    this.#wroteThisTurn = false;
  };
  #blocked = false;
  #drainWaiters: Array<() => void> = [];
  #nextAskId = 1;
  #inflight = 0;
  #paused = false;
  #closeError: FlintError | undefined;
  #graceful = false;
  #opened = false;

  constructor(opts: ConnectionOptions) {
    this.#opts = opts;
    this.#socket = opts.socket;
    this.role = opts.role;
    this.remoteIp = opts.socket.remoteAddress ?? '?';
    this.remoteSocketAddress = `${this.remoteIp}:${opts.socket.remotePort ?? '?'}`;
    this.#decoder = new FrameDecoder(Math.min(opts.maxFrameBytes, opts.maxHandshakeFrameBytes ?? PRE_AUTH_MAX_FRAME_BYTES));
    this.#limiter = opts.limiter ?? new LogLimiter(opts.logger);
    this.#socket.setNoDelay(true);
    this.#socket.setKeepAlive(true, 30_000);
    if (opts.dataFromTransport !== true) this.#socket.on('data', (chunk: Buffer) => this.#onDataGuarded(chunk));
    this.#socket.on('error', (err) => this.#fail(new RpcConnectionError(`connection to ${this.#who()} failed: ${err.message}`, { cause: err })));
    this.#socket.on('close', () => this.#onSocketClosed());
    this.#socket.on('drain', () => this.#onDrain());
    this.#handshakeTimer = setTimeout(() => {
      const error = new RpcConnectionError(`${this.#who()} did not finish the handshake within ${opts.handshakeTimeoutMs} ms`);
      this.#limiter.warn('a peer did not finish the handshake in time', { peer: this.#who(), remote: this.remoteSocketAddress }, error.message);
      this.#fail(error);
    }, opts.handshakeTimeoutMs);
    if (opts.role === 'client') {
      this.peerEnv = opts.dialed;
      const hs = new ClientHandshake(opts.localEnv, opts.credential, opts.dialed ?? this.remoteSocketAddress, opts.principal);
      this.#handshake = hs;
      const start = () => this.#writeNow(hs.start());
      if (this.#socket.connecting) this.#socket.once('connect', start);
      else start();
    } else {
      this.#handshake = new ServerHandshake(opts.localEnv, opts.keyring, this.remoteSocketAddress);
    }
  }

  get isOpen(): boolean {
    return this.#state === 'open';
  }

  /** True once the handshake finished, even after the connection closed. */
  get wasOpen(): boolean {
    return this.#opened;
  }

  get isClosed(): boolean {
    return this.#state === 'closed';
  }

  get pendingAsks(): number {
    return this.#pending === undefined ? 0 : this.#pending.size - 1;
  }

  /** True while more than the high-water mark is buffered for this peer. */
  get needsDrain(): boolean {
    return this.#queuedBytes + this.#socket.writableLength > this.#opts.writeHighWaterBytes;
  }

  whenWritable(): Promise<void> {
    if (!this.needsDrain || this.#state === 'closed') return Promise.resolve();
    return new Promise((resolve) => this.#drainWaiters.push(resolve));
  }

  /** Queues an envelope. Throws MessageTooLargeError (nothing is sent) when it exceeds the frame limit. */
  send(envelope: Envelope): void {
    if (this.#state === 'closed') throw this.#closeError ?? new RpcConnectionError(`connection to ${this.#who()} is closed`);
    const frame = encodeEnvelopeFrame(envelope);
    const bodyBytes = frame.length - FRAME_HEADER_BYTES;
    if (bodyBytes > this.#opts.maxFrameBytes) {
      throw new MessageTooLargeError(
        `a message of ${bodyBytes} bytes to ${this.#who()} exceeds flint.rpc.message.maxSize ` +
          `(${this.#opts.maxFrameBytes} bytes); raise it on both sides or send less`,
      );
    }
    this.#queue.push(frame);
    this.#queuedBytes += frame.length;
    const max = this.#opts.maxQueuedBytes;
    if (max !== undefined && this.#queuedBytes + this.#socket.writableLength > max) {
      const queued = this.#queuedBytes + this.#socket.writableLength;
      const error = new RpcConnectionError(
        `${this.#who()} does not read what is sent to it: ${queued} bytes queued, over flint.rpc.io.maxQueuedBytes (${max} bytes); disconnecting it`,
      );
      this.#limiter.warn('disconnecting a peer that does not read', { peer: this.#who(), remote: this.remoteSocketAddress, queuedBytes: queued, maxBytes: max }, error.message);
      this.#fail(error);
      return;
    }
    this.#scheduleFlush();
  }

  /** Registers an ask; returns its id. The caller sends the ASK (or VERIFY) envelope with it. */
  registerAsk(pending: PendingAsk): number {
    const id = this.#nextAskId++;
    (this.#pending ??= new Map([[0, NO_ASK]])).set(id, pending);
    return id;
  }

  forgetAsk(id: number): void {
    this.#pending?.delete(id);
  }

  /** The env calls this for each message it queues to an endpoint, and `handled` once the endpoint is done with it. */
  dispatched(): void {
    this.#inflight++;
    if (!this.#paused && this.#inflight >= READ_PAUSE_AT) {
      this.#paused = true;
      this.#socket.pause();
    }
  }

  handled(): void {
    this.#inflight--;
    if (this.#paused && this.#inflight <= READ_RESUME_AT) {
      this.#paused = false;
      this.#socket.resume();
    }
  }

  /** Idle close: tells the peer with BYE, so neither side reports a disconnect. */
  closeIdle(): void {
    if (this.#state !== 'open') return;
    this.#graceful = true;
    this.send({ kind: Kind.BYE });
    this.#flush();
    this.#socket.end();
  }

  close(error?: FlintError): void {
    this.#fail(error);
  }

  #who(): string {
    return this.peerEnv ?? this.remoteSocketAddress;
  }

  #writeNow(envelope: Envelope): void {
    if (this.#socket.destroyed) return;
    this.#socket.write(encodeEnvelopeFrame(envelope));
  }

  /** Puts a handshake frame ahead of the frames queued so far, to leave in the same write as them (handshake.ts). */
  #queueFirst(envelope: Envelope): void {
    const frame = encodeEnvelopeFrame(envelope);
    this.#queue.unshift(frame);
    this.#queuedBytes += frame.length;
  }

  /** The queued frames as one buffer; the queue is empty afterwards. */
  #takeQueued(): Buffer {
    const data = this.#queue.length === 1 ? (this.#queue[0] as Buffer) : Buffer.concat(this.#queue, this.#queuedBytes);
    this.#queue = [];
    this.#queuedBytes = 0;
    return data;
  }

  /** A flush at the end of this turn of the event loop, or in its check phase when this turn has written. */
  #scheduleFlush(): void {
    if (this.#flushScheduled || this.#state !== 'open') return;
    this.#flushScheduled = true;
    if (this.#wroteThisTurn) setImmediate(this.#flushNow); // only ever set with coalesceWrites
    else queueMicrotask(this.#flushNow);
  }

  #flush(): void {
    this.#flushScheduled = false;
    if (this.#blocked || this.#queue.length === 0 || this.#state !== 'open') return;
    const data = this.#takeQueued();
    this.lastActivityMs = performance.now();
    if (this.#opts.coalesceWrites === true && !this.#wroteThisTurn) {
      this.#wroteThisTurn = true;
      setImmediate(this.#newTurn);
    }
    if (!this.#socket.write(data)) this.#blocked = true;
  }

  #onDrain(): void {
    this.#blocked = false;
    this.#flush();
    if (!this.needsDrain) {
      const waiters = this.#drainWaiters;
      this.#drainWaiters = [];
      for (const w of waiters) w();
    }
  }

  /** Bytes read from the socket by the transport (`dataFromTransport`). */
  receive(chunk: Buffer): void {
    this.#onDataGuarded(chunk);
  }

  /** Whatever a peer sends, a bug in handling it closes this connection, never the process. */
  #onDataGuarded(chunk: Buffer): void {
    try {
      this.#onData(chunk);
    } catch (err) {
      this.#limiter.log(
        'error',
        'failed to handle inbound data; closing the connection',
        { peer: this.#who(), remote: this.remoteSocketAddress, err: (err as Error).stack ?? String(err) },
        'failed to handle inbound data; closing the connection',
      );
      this.#fail(new RpcConnectionError(`failed to handle data from ${this.#who()}: ${(err as Error).message}`));
    }
  }

  #onData(chunk: Buffer): void {
    this.lastActivityMs = performance.now();
    if (this.#state === 'handshaking' && this.role === 'client' && chunk.subarray(0, HTTP_REPLY.length).equals(HTTP_REPLY)) {
      // An HTTP server's answer to the HELLO (a 400): the address is a web UI's or a REST port, and no retry helps.
      this.#fail(
        new NotFlintPeerError(
          `${this.#who()} answered in HTTP: it is a web server (a web UI or the REST gateway), not a Flint RPC port. ` +
            'Fix: use the RPC port of the master (flint://host:7077 by default; the web UI is on 8080, the REST gateway on 6066)',
        ),
      );
      return;
    }
    this.#decoder.append(chunk);
    // One frame at a time: the handshake's last frame raises the decoder's limit for the frames after it.
    for (let frame = this.#decoder.next(); frame !== undefined; frame = this.#decoder.next()) {
      if (this.#state === 'closed') return;
      if (!Buffer.isBuffer(frame)) {
        this.#onOversizedFrame(frame.declaredBytes);
        return;
      }
      const decoded = decodeEnvelope(frame);
      if (!decoded.ok) {
        this.#limiter.warn(
          'rejected a bad frame; closing the connection',
          { peer: this.#who(), remote: this.remoteSocketAddress, reason: decoded.reason },
          'rejected a bad frame; closing the connection',
        );
        this.#fail(new RpcConnectionError(`${this.#who()} sent a bad frame: ${decoded.reason}`));
        return;
      }
      this.#onEnvelope(decoded.envelope);
    }
  }

  #onOversizedFrame(declaredBytes: number): void {
    const max = this.#decoder.maxFrameBytes;
    const limit = this.#opts.maxFrameBytes === max ? 'flint.rpc.message.maxSize' : 'the limit before authentication';
    const msg = `rejected a frame over ${limit}; closing the connection`;
    this.#limiter.warn(msg, { peer: this.#who(), remote: this.remoteSocketAddress, declaredBytes, maxBytes: max }, msg);
    this.#fail(new RpcConnectionError(`${this.#who()} sent a frame of ${declaredBytes} bytes, over ${limit} (${max} bytes)`));
  }

  #onEnvelope(envelope: Envelope): void {
    if (this.#state === 'handshaking') {
      this.#onHandshake((this.#handshake as ClientHandshake).step(envelope));
      return;
    }
    switch (envelope.kind) {
      case Kind.REPLY:
      case Kind.FAILURE: {
        const pending = this.#pending?.get(envelope.askId);
        if (pending === undefined || pending === NO_ASK) return; // timed out already; the late reply is dropped, as in Spark
        this.#pending?.delete(envelope.askId);
        if (envelope.kind === Kind.REPLY) pending.resolve(envelope.body);
        else pending.reject(Object.assign(new Error(envelope.message), { remoteCode: envelope.code, remoteStack: envelope.stack }));
        return;
      }
      case Kind.BYE:
        this.#graceful = true;
        this.#socket.end();
        return;
      case Kind.REFUSED: {
        // The dialer may refuse after WELCOME: it requires authentication and this side offered none.
        const error = errorFromRefusal(envelope.code, envelope.reason, this.#who());
        this.#limiter.warn('the peer refused the connection', { peer: this.#who(), remote: this.remoteSocketAddress, code: envelope.code }, error.message);
        this.#fail(error);
        return;
      }
      case Kind.SEND:
      case Kind.ASK:
      case Kind.VERIFY:
        this.#opts.hooks.onRequest(this, envelope);
        return;
      default:
        this.#limiter.warn('unexpected frame after the handshake; closing', { peer: this.#who(), kind: envelope.kind }, 'unexpected frame after the handshake; closing');
        this.#fail(new RpcConnectionError(`${this.#who()} sent a handshake frame after the handshake`));
    }
  }

  #onHandshake(step: HandshakeStep): void {
    if (step.state === 'continue' && step.send !== undefined && step.last === true) {
      // The client's PROOF, with the frames queued so far in the same write.
      if (this.#socket.destroyed) return;
      this.#queueFirst(step.send);
      if (!this.#socket.write(this.#takeQueued())) this.#blocked = true;
    } else if (step.send && step.state !== 'done') this.#writeNow(step.send);
    if (step.state === 'failed') {
      this.#limiter.warn('the handshake failed', { peer: this.#who(), remote: this.remoteSocketAddress, code: step.error.code }, step.error.message);
      this.#socket.end();
      this.#fail(step.error);
      return;
    }
    if (step.state === 'done') {
      clearTimeout(this.#handshakeTimer);
      this.#handshakeTimer = undefined; // the timer and its closure are not kept for the connection's life
      this.#handshake = undefined;
      if (this.role === 'server') this.peerEnv = step.peerEnv;
      this.peerPrincipal = step.peerPrincipal;
      this.peerRole = step.peerRole;
      this.#decoder.maxFrameBytes = this.#opts.maxFrameBytes;
      this.#state = 'open';
      this.#opened = true;
      // The server's WELCOME waits for the end of this turn: the replies to the frames that came with the
      // client's PROOF (handshake.ts) are queued by then and leave in the same write.
      if (step.send !== undefined) this.#queueFirst(step.send);
      this.#opts.hooks.onOpen(this);
      if (step.send === undefined) this.#flush();
      else this.#scheduleFlush();
    }
  }

  #fail(error: FlintError | undefined): void {
    if (this.#state === 'closed') return;
    this.#closeError ??= error;
    if (error !== undefined) this.#socket.destroy();
    else this.#socket.end();
    // 'close' follows; #onSocketClosed finishes the bookkeeping.
    if (this.#socket.destroyed && !this.#socket.readable) this.#onSocketClosed();
  }

  #onSocketClosed(): void {
    if (this.#state === 'closed') return;
    this.#state = 'closed';
    clearTimeout(this.#handshakeTimer);
    if (this.#decoder.bufferedBytes > 0 && this.#closeError === undefined) {
      this.#closeError = new RpcConnectionError(`${this.#who()} closed the connection in the middle of a frame`);
      this.#limiter.warn(
        'connection closed with a truncated frame',
        { peer: this.#who(), remote: this.remoteSocketAddress, bufferedBytes: this.#decoder.bufferedBytes },
        'connection closed with a truncated frame',
      );
    }
    this.#decoder.clear();
    const error =
      this.#closeError ?? (this.#graceful ? undefined : new RpcConnectionError(`connection to ${this.#who()} closed`));
    const failure = error ?? new RpcConnectionError(`connection to ${this.#who()} closed while idle`);
    const pendingAsks = this.#pending;
    this.#pending = undefined;
    for (const pending of pendingAsks?.values() ?? []) pending.reject(failure); // NO_ASK's reject does nothing
    this.#queue = [];
    this.#queuedBytes = 0;
    for (const w of this.#drainWaiters.splice(0)) w();
    this.#socket.destroy();
    this.#opts.hooks.onClose(this, this.#closeError, this.#graceful);
  }
}
