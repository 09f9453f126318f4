// RpcEndpointRef: a handle on an endpoint, local or remote, that messages can be sent and asked through.
// It holds only an address, so it is cheap to make from an address found inside a message.

import type { MessageCatalog } from '../protocol/catalog.ts';
import { formatEndpointAddress, type EnvId } from './address.ts';

export interface AskOptions<R extends { readonly type: string } = { readonly type: string }> {
  /** Defaults to flint.rpc.askTimeout (120 s). */
  readonly timeoutMs?: number;
  /** Checks the reply at the edge; without it the reply is returned as received. */
  readonly expect?: MessageCatalog<R>;
}

/** The part of RpcEnv a ref needs; keeps the two files from importing each other's internals. */
export interface RefTransport {
  sendTo(env: EnvId, name: string, message: { readonly type: string }): boolean;
  askTo(env: EnvId, name: string, message: { readonly type: string }, options: AskOptions | number | undefined): Promise<unknown>;
  whenWritable(env: EnvId): Promise<void>;
}

export class RpcEndpointRef<M extends { readonly type: string } = { readonly type: string }> {
  readonly env: EnvId;
  readonly name: string;
  /** `flint://Name@host:port` or `flint+client://Name@id`: what to put in a message to pass this ref on. */
  readonly address: string;
  readonly #transport: RefTransport;

  constructor(transport: RefTransport, env: EnvId, name: string) {
    this.#transport = transport;
    this.env = env;
    this.name = name;
    this.address = formatEndpointAddress({ env, name });
  }

  /**
   * One-way, fire and forget. Returns false when more than the write high-water mark is buffered for this
   * peer: a producer sending in a loop should then `await whenWritable()`. Delivery failures are logged.
   */
  send(message: M): boolean {
    return this.#transport.sendTo(this.env, this.name, message);
  }

  /** Exactly one reply, or a typed error: RpcTimeoutError, RpcRemoteError, RpcConnectionError, … */
  ask<R extends { readonly type: string }>(message: M, options: AskOptions<R> & { readonly expect: MessageCatalog<R> }): Promise<R>;
  ask<R = unknown>(message: M, options?: AskOptions | number): Promise<R>;
  ask(message: M, options?: AskOptions | number): Promise<unknown> {
    return this.#transport.askTo(this.env, this.name, message, options);
  }

  whenWritable(): Promise<void> {
    return this.#transport.whenWritable(this.env);
  }

  toString(): string {
    return this.address;
  }
}
