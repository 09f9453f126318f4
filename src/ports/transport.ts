// Transport: what an RPC env offers the daemons (Spark's `RpcEnv`): endpoints hosted under names, refs to
// endpoints elsewhere, and who a connected peer is. `RpcEnv` (src/rpc/rpc-env.ts) is the real one, over TCP or
// TLS with the HMAC handshake; `MemoryNetwork` (src/rpc/memory-transport.ts) is its in-memory twin, for running
// daemons side by side in one process.
//
// Contract (both implementations keep it; test/unit/rpc/transport-contract.test.ts runs the same cases on each):
// - Every message that arrives is checked against the receiving endpoint's catalog and the sender's role before
//   any handler runs; a refused one never reaches the endpoint (an ask fails with the reason).
// - One endpoint handles one message at a time, in arrival order, and messages from one sender to one endpoint
//   arrive in the order they were sent (Spark's `ThreadSafeRpcEndpoint`).
// - `onConnected`/`onDisconnected` reach every endpoint of an env when a peer env connects or goes away
//   (crash, shutdown, a broken connection); they are ordered with the messages around them.
// - An ask is answered at most once: by the peer's reply, by its failure (`RpcRemoteError`), or by
//   `RpcTimeoutError` after `timeoutMs` (default `flint.rpc.askTimeout`). A `send` that cannot be delivered is
//   dropped and logged, never thrown, unless this env itself is stopped.
// - After `shutdown` nothing is delivered to this env's endpoints and its peers see it disconnect.

import type { Role } from '../protocol/catalog.ts';
import type { EnvId, RpcAddress } from '../rpc/address.ts';
import type { Keyring, Principal } from '../rpc/auth.ts';
import type { RpcEndpoint } from '../rpc/endpoint.ts';
import type { RpcEndpointRef } from '../rpc/endpoint-ref.ts';

/** The settings a daemon reads off its transport (src/rpc/rpc-env.ts `RpcSettings`). */
export interface TransportSettings {
  readonly askTimeoutMs: number;
  readonly maxFrameBytes: number;
  /** The cluster secret when `flint.authenticate` is on; it never leaves the process. */
  readonly secret: string | undefined;
}

export interface Transport {
  /** `flint://host:port` for an env that listens, `flint+client://<id>` for one that only dials. */
  readonly id: EnvId;
  /** Where it listens; undefined for a client-mode env. */
  readonly address: RpcAddress | undefined;
  readonly settings: TransportSettings;
  /** Whom this env lets in (src/rpc/auth.ts `Keyring`); undefined when it does not authenticate. */
  readonly keyring: Keyring | undefined;
  /** The key this env dials with, for opening what a peer sealed for it (src/rpc/auth.ts `unseal`). */
  readonly credentialKey: string | undefined;
  /** Inbound connections that failed or were refused before authenticating, so far (for metrics); absent in memory. */
  readonly handshakeFailures?: number;

  /** Hosts `endpoint` under `name`; its onStart runs before any message reaches it. */
  setupEndpoint<M extends { readonly type: string }>(name: string, endpoint: RpcEndpoint<M>): RpcEndpointRef<M>;
  /** Stops one endpoint: queued messages are dropped (their asks fail), then its onStop runs. */
  stop(endpoint: RpcEndpointRef | string): Promise<void>;
  /** A ref from an endpoint address found in a message (`flint://Name@host:port`); no round trip. */
  endpointRef<M extends { readonly type: string } = { readonly type: string }>(endpointAddress: string): RpcEndpointRef<M>;
  /** A ref to `name` at the env `address`, after checking it exists there (Spark's `setupEndpointRef`). */
  setupEndpointRef<M extends { readonly type: string } = { readonly type: string }>(
    address: string | RpcAddress,
    name: string,
  ): Promise<RpcEndpointRef<M>>;
  /** Who the open connection to `env` speaks for; undefined when there is none. */
  peerOf(env: EnvId): { readonly principal: Principal; readonly role: Role } | undefined;
  /** Stops every endpoint and closes every connection. */
  shutdown(): Promise<void>;
}
