// The in-memory twin of the Transport port (src/ports/transport.ts): envs in one process that reach each other
// through a `MemoryNetwork` instead of sockets, so that the daemons (master, worker, driver) can run side by side in
// one test, with partitions and crashes at will, and no port, socket or thread of the real RPC layer.
//
// What it keeps from RpcEnv (the contract test runs the same cases on both: test/unit/rpc/transport-contract.test.ts):
//   - messages travel encoded and decoded by the real wire codec (src/rpc/wire.ts), so what cannot cross the wire
//     cannot cross here either, and `flint.rpc.message.maxSize` holds;
//   - the receiving endpoint's catalog checks every message and the sender's role (Spark has no such check);
//   - one endpoint handles one message at a time, in order (an Inbox per endpoint, as RpcEnv's);
//   - peers see each other connect and disconnect (a shutdown or a partition), and asks in flight to a peer that
//     goes away fail with RpcConnectionError; an ask with no answer fails with RpcTimeoutError, its deadline kept
//     by the same lanes as RpcEnv's (src/rpc/ask-timeouts.ts: one timer per timeout in use, none per ask).
// What it leaves out: the handshake. An env is who its `principal` says (the RPC layer's tests prove the handshake);
// write buffers never fill, so `whenWritable` resolves at once.

import { EndpointNotFoundError, FlintError, InvalidMessageError, RpcConnectionError, RpcEnvStoppedError, RpcRemoteError, RpcTimeoutError, isFlintError } from '../errors.ts';
import { FlintConf } from '../conf/flint-conf.ts';
import type { Transport } from '../ports/transport.ts';
import type { Role } from '../protocol/catalog.ts';
import { silentLogger, type Logger } from '../util/logger.ts';
import { assertEndpointName, clientEnvId, envIdOfAddress, formatRpcAddress, isClientEnvId, parseEndpointAddress, type EnvId, type RpcAddress } from './address.ts';
import { roleOf, type Keyring, type Principal } from './auth.ts';
import type { CallContext, ReplyContext, RpcEndpoint } from './endpoint.ts';
import { RpcEndpointRef, type AskOptions, type RefTransport } from './endpoint-ref.ts';
import { keyringOf } from './handshake.ts';
import { AskTimeouts, TimedAsk } from './ask-timeouts.ts';
import { Inbox } from './inbox.ts';
import { readRpcSettings, type RpcSettings } from './rpc-env.ts';
import { decodeEnvelope, encodeEnvelopeBody, Kind } from './wire.ts';

/** What `MemoryNetwork.create` takes: RpcEnv.create's options that mean something without sockets. */
export interface MemoryEnvOptions {
  readonly name: string;
  readonly host?: string;
  /** 0 or undefined: the next free one of the network's. */
  readonly port?: number;
  readonly clientMode?: boolean;
  readonly conf?: FlintConf;
  readonly principal?: Principal;
  readonly credentialKey?: string;
  readonly keyring?: Keyring;
  readonly logger?: Logger;
}

/** The envs of one process, and which links between them are cut. */
export class MemoryNetwork {
  readonly #envs = new Map<EnvId, MemoryTransport>();
  readonly #cut = new Set<string>();
  #nextPort = 40_000;
  #nextClient = 1;

  /** A factory in the shape of `RpcEnv.create`, for a daemon's `transport` option. */
  readonly create = (opts: MemoryEnvOptions): Promise<MemoryTransport> => Promise.resolve(this.open(opts));

  open(opts: MemoryEnvOptions): MemoryTransport {
    let address: RpcAddress | undefined;
    if (opts.clientMode !== true) {
      const host = opts.host ?? '127.0.0.1';
      const port = opts.port === undefined || opts.port === 0 ? this.#freePort(host) : opts.port;
      address = { host, port };
      if (this.#envs.has(formatRpcAddress(address))) {
        throw new RpcConnectionError(`${opts.name} cannot listen on ${host}:${port}: EADDRINUSE`);
      }
    }
    const id = address === undefined ? clientEnvId(`memory${this.#nextClient++}`) : formatRpcAddress(address);
    const env = new MemoryTransport(this, id, address, opts);
    this.#envs.set(id, env);
    return env;
  }

  /** Cuts the link between `a` and `b`, both ways: each sees the other disconnect, and nothing crosses until `heal`. */
  partition(a: EnvId, b: EnvId): void {
    this.#cut.add(linkKey(a, b));
    this.#envs.get(a)?.peerGone(b);
    this.#envs.get(b)?.peerGone(a);
  }

  heal(a: EnvId, b: EnvId): void {
    this.#cut.delete(linkKey(a, b));
  }

  /** The env at `to` as `from` can reach it now: undefined when there is none, it stopped, or the link is cut. */
  reach(from: EnvId, to: EnvId): MemoryTransport | undefined {
    if (this.#cut.has(linkKey(from, to))) return undefined;
    return this.#envs.get(to);
  }

  /** An env that shut down: it is gone from the network, and its peers see it disconnect. */
  gone(env: MemoryTransport): void {
    if (this.#envs.get(env.id) === env) this.#envs.delete(env.id);
    for (const other of this.#envs.values()) other.peerGone(env.id);
  }

  #freePort(host: string): number {
    for (let i = 0; i < 10_000; i++) {
      const port = this.#nextPort++;
      if (!this.#envs.has(formatRpcAddress({ host, port }))) return port;
    }
    throw new RpcConnectionError(`no free port left on ${host} in this MemoryNetwork`);
  }
}

function linkKey(a: EnvId, b: EnvId): string {
  return a < b ? `${a} ${b}` : `${b} ${a}`;
}

interface Hosted {
  readonly name: string;
  readonly endpoint: RpcEndpoint;
  readonly inbox: Inbox;
}

/**
 * An ask in flight, settled once: by its answer, its failure (the peer going away, the env's shutdown) or its
 * deadline, which the env's lanes (ask-timeouts.ts) keep as RpcEnv's do, with no timer per ask.
 */
class PendingAsk extends TimedAsk {
  readonly peer: EnvId;
  readonly #resolve: (value: unknown) => void;
  readonly #reject: (err: Error) => void;
  readonly #timedOut: () => Error;
  /** Called once the ask settled, however (the env forgets it). */
  readonly #settled: (ask: PendingAsk) => void;

  constructor(peer: EnvId, resolve: (value: unknown) => void, reject: (err: Error) => void, timedOut: () => Error, settled: (ask: PendingAsk) => void) {
    super();
    this.peer = peer;
    this.#resolve = resolve;
    this.#reject = reject;
    this.#timedOut = timedOut;
    this.#settled = settled;
  }

  answer(value: unknown): void {
    if (!this.settle()) return;
    this.#settled(this);
    this.#resolve(value);
  }

  fail(err: Error): void {
    if (!this.settle()) return;
    this.#settled(this);
    this.#reject(err);
  }

  /** Called by the lane, which has settled the ask. */
  expire(): void {
    this.#settled(this);
    this.#reject(this.#timedOut());
  }
}

export class MemoryTransport implements Transport, RefTransport {
  readonly name: string;
  readonly id: EnvId;
  readonly address: RpcAddress | undefined;
  readonly settings: RpcSettings;
  readonly principal: Principal;
  readonly keyring: Keyring | undefined;
  readonly credentialKey: string | undefined;
  readonly #network: MemoryNetwork;
  readonly #logger: Logger;
  readonly #endpoints = new Map<string, Hosted>();
  /** Envs this one has exchanged messages with and not seen go away: they get onDisconnected when it does. */
  readonly #peers = new Set<EnvId>();
  readonly #pending = new Set<PendingAsk>();
  readonly #timeouts = new AskTimeouts();
  #stopped = false;

  constructor(network: MemoryNetwork, id: EnvId, address: RpcAddress | undefined, opts: MemoryEnvOptions) {
    this.#network = network;
    this.name = opts.name;
    this.id = id;
    this.address = address;
    this.settings = readRpcSettings(opts.conf ?? new FlintConf());
    this.principal = opts.principal ?? 'daemon';
    if (roleOf(this.principal) === undefined) throw new Error(`${opts.name}: malformed principal ${this.principal}`);
    this.credentialKey =
      opts.credentialKey ?? (this.principal === 'daemon' ? this.settings.secret : this.principal === 'app' ? this.settings.appSecret : undefined);
    this.keyring = opts.keyring ?? keyringOf(this.settings.secret);
    this.#logger = (opts.logger ?? silentLogger).child({ rpcEnv: opts.name });
  }

  get role(): Role {
    return roleOf(this.principal) as Role;
  }

  // ---- endpoints -------------------------------------------------------------------------------------

  setupEndpoint<M extends { readonly type: string }>(name: string, endpoint: RpcEndpoint<M>): RpcEndpointRef<M> {
    assertEndpointName(name);
    if (this.#stopped) throw new RpcEnvStoppedError(`${this.name} is stopped; cannot set up endpoint ${name}`);
    if (this.#endpoints.has(name)) throw new Error(`an endpoint named ${name} already exists in ${this.name}`);
    const inbox = new Inbox((err) => this.#logger.error({ endpoint: name, err: String(err) }, `endpoint ${name} threw while handling a message`));
    this.#endpoints.set(name, { name, endpoint: endpoint as unknown as RpcEndpoint, inbox });
    if (endpoint.onStart) inbox.post(() => endpoint.onStart?.());
    return new RpcEndpointRef<M>(this, this.id, name);
  }

  async stop(endpoint: RpcEndpointRef | string): Promise<void> {
    const name = typeof endpoint === 'string' ? endpoint : endpoint.name;
    const hosted = this.#endpoints.get(name);
    if (hosted === undefined) return;
    this.#endpoints.delete(name);
    hosted.inbox.close();
    await hosted.inbox.idle();
    try {
      await hosted.endpoint.onStop?.();
    } catch (err) {
      // As RpcEnv.stop: an endpoint that throws in onStop is logged, and the env goes on stopping the others.
      this.#logger.error({ endpoint: name, err: String(err) }, `endpoint ${name} threw in onStop`);
    }
  }

  endpointRef<M extends { readonly type: string } = { readonly type: string }>(endpointAddress: string): RpcEndpointRef<M> {
    const { env, name } = parseEndpointAddress(endpointAddress);
    return new RpcEndpointRef<M>(this, env, name);
  }

  async setupEndpointRef<M extends { readonly type: string } = { readonly type: string }>(
    address: string | RpcAddress,
    name: string,
  ): Promise<RpcEndpointRef<M>> {
    assertEndpointName(name);
    const env = envIdOfAddress(address);
    await Promise.resolve(); // a lookup is a round trip: never answered in the caller's turn
    if (this.#stopped) throw new RpcEnvStoppedError(`${this.name} is stopped; cannot look up ${name} at ${env}`);
    const target = env === this.id ? this : this.#network.reach(this.id, env);
    if (target === undefined || target.#stopped) throw new RpcConnectionError(`cannot connect to ${env}: ECONNREFUSED`);
    if (!target.#endpoints.has(name)) throw new EndpointNotFoundError(env, name);
    if (target !== this) this.#connect(target);
    return new RpcEndpointRef<M>(this, env, name);
  }

  // ---- RefTransport -----------------------------------------------------------------------------------

  sendTo(env: EnvId, name: string, message: { readonly type: string }): boolean {
    if (this.#stopped) throw new RpcEnvStoppedError(`${this.name} is stopped; cannot send ${message.type} to ${name}`);
    const bytes = this.#encode(Kind.SEND, name, message);
    const target = this.#target(env);
    if (target === undefined) {
      this.#logger.debug({ peer: env, endpoint: name, type: message.type }, 'dropped a message: the peer cannot be reached');
      return true;
    }
    queueMicrotask(() => target.#receive(this, name, bytes, undefined));
    return true;
  }

  askTo(env: EnvId, name: string, message: { readonly type: string }, options: AskOptions | number | undefined): Promise<unknown> {
    const opts = typeof options === 'number' ? { timeoutMs: options } : (options ?? {});
    const timeoutMs = opts.timeoutMs ?? this.settings.askTimeoutMs;
    const target = `${name}@${env}`;
    if (this.#stopped) return Promise.reject(new RpcEnvStoppedError(`${this.name} is stopped; cannot ask ${message.type} of ${name}`));
    let bytes: Uint8Array;
    try {
      bytes = this.#encode(Kind.ASK, name, message);
    } catch (err) {
      return Promise.reject(err instanceof Error ? err : new Error(String(err)));
    }
    const raw = new Promise<unknown>((resolve, reject) => {
      const pending = new PendingAsk(
        env,
        resolve,
        reject,
        () => new RpcTimeoutError(target, message.type, timeoutMs, 'flint.rpc.askTimeout'),
        (ask) => this.#pending.delete(ask),
      );
      this.#pending.add(pending);
      this.#timeouts.add(pending, timeoutMs);
      const peer = this.#target(env);
      if (peer === undefined) {
        queueMicrotask(() =>
          pending.fail(
            new RpcConnectionError(isClientEnvId(env) ? `cannot ask ${message.type} of ${target}: that client-mode env is not connected` : `cannot connect to ${env}: ECONNREFUSED`),
          ),
        );
        return;
      }
      const context: ReplyContext = {
        senderAddress: this.id,
        senderRole: this.role,
        reply: (value) => {
          let copy: unknown;
          try {
            copy = roundTrip(encodeEnvelopeBody({ kind: Kind.REPLY, askId: 0, body: value }));
          } catch (err) {
            return context.sendFailure(err instanceof Error ? err : new Error(String(err)));
          }
          queueMicrotask(() => pending.answer(copy));
        },
        sendFailure: (err) => {
          const code = isFlintError(err) ? err.code : 'FLINT_REMOTE_HANDLER_ERROR';
          const error = code === 'FLINT_RPC_ENDPOINT_NOT_FOUND' ? new EndpointNotFoundError(env, name) : new RpcRemoteError(target, code, err.message, err.stack);
          queueMicrotask(() => pending.fail(error));
        },
      };
      queueMicrotask(() => peer.#receive(this, name, bytes, context));
    });
    if (!opts.expect) return raw;
    const expect = opts.expect;
    return raw.then((reply) => {
      const checked = expect.check(reply);
      if (checked.ok) return checked.value;
      throw new InvalidMessageError(checked.code, `reply to ${message.type} from ${target}: ${checked.reason}`);
    });
  }

  whenWritable(): Promise<void> {
    return Promise.resolve();
  }

  // ---- lifecycle --------------------------------------------------------------------------------------

  async shutdown(): Promise<void> {
    if (this.#stopped) return;
    this.#stopped = true;
    for (const name of [...this.#endpoints.keys()]) await this.stop(name);
    for (const pending of [...this.#pending]) pending.fail(new RpcEnvStoppedError(`${this.name} stopped with the ask in flight`));
    this.#timeouts.stop();
    this.#peers.clear();
    this.#network.gone(this);
  }

  peerOf(env: EnvId): { readonly principal: Principal; readonly role: Role } | undefined {
    if (!this.#peers.has(env)) return undefined;
    const peer = this.#network.reach(this.id, env);
    return peer === undefined ? undefined : { principal: peer.principal, role: peer.role };
  }

  connectedPeers(): EnvId[] {
    return [...this.#peers];
  }

  /** The network's news that `env` went away (it shut down, or the link was cut). */
  peerGone(env: EnvId): void {
    for (const pending of [...this.#pending]) {
      if (pending.peer === env) pending.fail(new RpcConnectionError(`the connection to ${env} closed with the ask in flight`));
    }
    if (!this.#peers.delete(env) || this.#stopped) return;
    this.#broadcast((ep) => ep.onDisconnected?.(env));
  }

  // ---- internals --------------------------------------------------------------------------------------

  /** Who a message to `env` goes to: undefined when it cannot be reached (a client-mode env only once it dialed). */
  #target(env: EnvId): MemoryTransport | undefined {
    if (env === this.id) return this;
    const target = this.#network.reach(this.id, env);
    if (target === undefined || target.#stopped) return undefined;
    if (isClientEnvId(env) && !this.#peers.has(env)) return undefined;
    this.#connect(target);
    return target;
  }

  #connect(peer: MemoryTransport): void {
    if (peer === this || this.#peers.has(peer.id)) return;
    this.#peers.add(peer.id);
    peer.#peers.add(this.id);
    this.#broadcast((ep) => ep.onConnected?.(peer.id));
    peer.#broadcast((ep) => ep.onConnected?.(this.id));
  }

  #broadcast(event: (endpoint: RpcEndpoint) => void | Promise<void>): void {
    for (const hosted of this.#endpoints.values()) hosted.inbox.post(() => event(hosted.endpoint));
  }

  #encode(kind: typeof Kind.SEND | typeof Kind.ASK, endpoint: string, body: { readonly type: string }): Uint8Array {
    // The codec's bytes are never written again (src/util/msgpack.ts hands out views of chunks it does not reuse).
    const bytes = encodeEnvelopeBody(kind === Kind.SEND ? { kind, endpoint, body } : { kind, askId: 0, endpoint, body });
    if (bytes.length > this.settings.maxFrameBytes) {
      throw new RpcConnectionError(
        `a message of ${bytes.length} bytes to ${endpoint} exceeds flint.rpc.message.maxSize (${this.settings.maxFrameBytes} bytes); raise it on both sides or send less`,
      );
    }
    return bytes;
  }

  /** A message from `from` arrives for endpoint `name`; `reply` when it is an ask. */
  #receive(from: MemoryTransport, name: string, bytes: Uint8Array, reply: ReplyContext | undefined): void {
    if (this.#stopped) {
      reply?.sendFailure(new RpcConnectionError(`${this.id} is stopped`));
      return;
    }
    const refuse = (code: string, reason: string): void => {
      this.#logger.warn({ peer: from.id, endpoint: name, code, reason }, 'rejected an inbound message');
      reply?.sendFailure(new FlintError(code, reason));
    };
    const hosted = this.#endpoints.get(name);
    if (hosted === undefined) return refuse('FLINT_RPC_ENDPOINT_NOT_FOUND', `no endpoint named "${name}" at ${this.id}`);
    const checked = hosted.endpoint.messages.check(roundTrip(bytes));
    if (!checked.ok) return refuse(checked.code, checked.reason);
    const senderRole = from === this ? this.role : from.role;
    if (!hosted.endpoint.messages.allows(checked.value.type, senderRole)) {
      return refuse('FLINT_RPC_FORBIDDEN', `${hosted.name} does not take ${checked.value.type} from ${senderRole === 'executor' ? 'an' : 'a'} ${senderRole}`);
    }
    const message = checked.value;
    const ep = hosted.endpoint;
    if (reply === undefined) {
      const context: CallContext = { senderAddress: from.id, senderRole };
      hosted.inbox.post(() => {
        if (!ep.receive) throw new Error(`endpoint ${name} does not take one-way messages (got ${message.type})`);
        return ep.receive(message, context);
      });
      return;
    }
    const context: ReplyContext = { ...reply, senderAddress: from.id, senderRole };
    const fail = (err: unknown): void => context.sendFailure(err instanceof Error ? err : new Error(String(err)));
    hosted.inbox.post(
      () => {
        try {
          if (!ep.receiveAndReply) throw new Error(`endpoint ${name} does not answer asks (got ${message.type})`);
          const result = ep.receiveAndReply(message, context);
          return result === undefined ? undefined : result.catch(fail);
        } catch (err) {
          fail(err);
          return undefined;
        }
      },
      () => context.sendFailure(new RpcEnvStoppedError(`endpoint ${name} stopped before handling the message`)),
    );
  }
}

/** What a frame's body decodes back to on the other side. */
function roundTrip(bytes: Uint8Array): unknown {
  const decoded = decodeEnvelope(bytes);
  if (!decoded.ok) throw new Error(`the wire codec could not read back its own frame: ${decoded.reason}`);
  const envelope = decoded.envelope;
  return 'body' in envelope ? envelope.body : undefined;
}
