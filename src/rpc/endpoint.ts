// What an endpoint implements: Spark's RpcEndpoint, typed.
//
// Every callback of one endpoint runs one at a time, in arrival order, even when it is async: the env awaits
// each before it starts the next (Spark's ThreadSafeRpcEndpoint). `onStart` runs before any message, and
// `onStop` after the last. Connection events are delivered through the same queue, so they are ordered
// with the messages around them.

import type { MessageCatalog } from '../protocol/catalog.ts';
import type { Role } from '../protocol/catalog.ts';
import type { EnvId } from './address.ts';

export interface CallContext {
  /** The env the message came from: `flint://host:port` or `flint+client://<id>`; this env's own id when local. */
  readonly senderAddress: EnvId;
  /** What the sender proved it may do (docs/security.md, "Roles"); this env's own role when local. */
  readonly senderRole: Role;
}

export interface ReplyContext extends CallContext {
  /** Answers the ask. Only the first reply (or failure) counts. May be called after the handler returned. */
  reply(value: unknown): void;
  /** Fails the ask: the caller's promise rejects with an RpcRemoteError carrying this message. */
  sendFailure(err: Error): void;
}

export interface RpcEndpoint<M extends { readonly type: string } = { readonly type: string }> {
  /** The messages this endpoint accepts. Inbound values are checked against it before any handler runs. */
  readonly messages: MessageCatalog<M>;
  onStart?(): void | Promise<void>;
  /** One-way messages (`send`). */
  receive?(message: M, context: CallContext): void | Promise<void>;
  /**
   * Asks. A handler that throws (or rejects) before replying fails the ask with its message. A handler that
   * returns without replying leaves the ask open until it replies later or the caller times out.
   */
  receiveAndReply?(message: M, context: ReplyContext): void | Promise<void>;
  onConnected?(remote: EnvId): void | Promise<void>;
  onDisconnected?(remote: EnvId): void | Promise<void>;
  onNetworkError?(error: Error, remote: EnvId): void | Promise<void>;
  onStop?(): void | Promise<void>;
}
