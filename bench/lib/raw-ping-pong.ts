// The raw baseline of the RPC benchmarks (bench/rpc.ts, bench/rpc-syscalls.ts): length-prefixed frames over
// node:net to bench/rpc-peer.ts's echo server, one round trip at a time, each frame as long as an ASK of Ping.

import { connect, type Socket } from 'node:net';
import { encodeFrame } from '../../src/rpc/frame-decoder.ts';
import { Kind, encodeEnvelopeBody } from '../../src/rpc/wire.ts';
import { PAYLOAD, PEER_ENDPOINT } from './messages.ts';

/** A frame exactly as long as a Ping ASK frame (the Pong REPLY is a few bytes shorter). */
export function rawFrameLikeAsk(): Buffer {
  const askFrameBytes = encodeFrame(
    encodeEnvelopeBody({ kind: Kind.ASK, askId: 1_000, endpoint: PEER_ENDPOINT, body: { type: 'Ping', seq: 1_000, payload: PAYLOAD } }),
  ).length;
  const frame = Buffer.alloc(askFrameBytes, 0x61);
  frame.writeUInt32BE(askFrameBytes - 4, 0);
  return frame;
}

/** Sends one frame and waits for its echo; one round trip at a time. */
export class RawPingPong {
  readonly #socket: Socket;
  readonly #frame: Buffer;
  #got = 0;
  #resolve: (() => void) | undefined;
  #reject: ((err: Error) => void) | undefined;
  #error: Error | undefined;

  private constructor(socket: Socket, frame: Buffer) {
    this.#socket = socket;
    this.#frame = frame;
    socket.on('data', (chunk: Buffer) => {
      this.#got += chunk.length;
      if (this.#got < frame.length) return;
      if (this.#got > frame.length) return this.#fail(new Error(`the echo server sent ${this.#got} bytes for a ${frame.length}-byte frame`));
      const resolve = this.#resolve;
      this.#resolve = this.#reject = undefined;
      resolve?.();
    });
    socket.on('error', (err) => this.#fail(err));
    socket.on('close', () => this.#fail(new Error('the echo connection closed')));
  }

  static async open(port: number, frame: Buffer): Promise<RawPingPong> {
    const socket = connect({ host: '127.0.0.1', port, noDelay: true });
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', resolve);
      socket.once('error', reject);
    });
    return new RawPingPong(socket, frame);
  }

  roundTrip(): Promise<void> {
    if (this.#error) return Promise.reject(this.#error);
    this.#got = 0;
    const p = new Promise<void>((resolve, reject) => {
      this.#resolve = resolve;
      this.#reject = reject;
    });
    this.#socket.write(this.#frame);
    return p;
  }

  close(): void {
    this.#error ??= new Error('closed');
    this.#socket.destroy();
  }

  #fail(err: Error): void {
    this.#error ??= err;
    const reject = this.#reject;
    this.#resolve = this.#reject = undefined;
    reject?.(err);
  }
}
