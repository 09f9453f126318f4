// RpcEnv: Flint's counterpart of Spark's NettyRpcEnv, on node:net.
//
// An env hosts named endpoints and routes messages to and from other envs. A server env listens on a port
// and is known by `flint://host:port`; a client-mode env (apps, executors) listens nowhere and is reached
// over the connections it opened. There is one connection per pair of envs, used in both directions.
// Inbound messages are decoded and checked against the receiving endpoint's catalog here, once, before any
// handler sees them; bad ones are logged with the peer and refused, and the env goes on serving others.

import type { Transport } from '../ports/transport.ts';
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { Server, Socket } from 'node:net';
import { FlintConf } from '../conf/flint-conf.ts';
import { readSslOptions } from '../io/tls/ssl-options.ts';
import {
  ConfigError,
  EndpointNotFoundError,
  InvalidMessageError,
  RpcConnectionError,
  RpcEnvStoppedError,
  RpcRemoteError,
  RpcTimeoutError,
  isFlintError,
  type FlintError,
} from '../errors.ts';
import { LogLimiter } from '../util/log-limiter.ts';
import { silentLogger, type Logger } from '../util/logger.ts';
import {
  assertEndpointName,
  clientEnvId,
  envIdOfAddress,
  formatRpcAddress,
  isClientEnvId,
  parseEndpointAddress,
  parseRpcAddress,
  type EnvId,
  type RpcAddress,
} from './address.ts';
import { type Credential, type Keyring, type Principal, type Role, roleOf } from './auth.ts';
import { AskTimeouts, TimedAsk } from './ask-timeouts.ts';
import { Connection, type ConnectionHooks } from './connection.ts';
import { keyringOf } from './handshake.ts';
import type { CallContext, ReplyContext, RpcEndpoint } from './endpoint.ts';
import { RpcEndpointRef, type AskOptions, type RefTransport } from './endpoint-ref.ts';
import { Inbox, type InboxJob } from './inbox.ts';
import { rpcTransport, type RpcTransport } from './transport.ts';
import { Kind, type Envelope } from './wire.ts';

export interface RpcEnvOptions {
  /** The system name, e.g. `flintMaster`; used in logs. */
  readonly name: string;
  /** Interface to bind. Default 127.0.0.1. */
  readonly host?: string;
  /** Port to bind; 0 picks a free one (see `address`). Default 0. */
  readonly port?: number;
  /** Host that peers should use to reach this env, when it differs from the bind host. */
  readonly advertiseHost?: string;
  readonly conf?: FlintConf;
  /** A client-mode env opens no port. */
  readonly clientMode?: boolean;
  /** `flint.rpc.io.coalesceWrites` when the conf does not set it (default false): drivers and executors. */
  readonly coalesceWritesByDefault?: boolean;
  /**
   * Who this env speaks for when it dials (auth.ts `Principal`; default `daemon`). Its key is `credentialKey`,
   * else the conf's: the cluster secret for `daemon`, `flint.authenticate.appSecret` for `app`.
   */
  readonly principal?: Principal;
  /** The key of `principal` when it is not in the conf (a driver's or executor's, given by its worker). */
  readonly credentialKey?: string;
  /** Whom this env lets in, with their keys (auth.ts `Keyring`). Default: `daemon` with the cluster secret. */
  readonly keyring?: Keyring;
  readonly logger?: Logger;
}

interface Hosted {
  readonly name: string;
  readonly endpoint: RpcEndpoint;
  readonly inbox: Inbox;
}

/** Settings read from conf once, when the env is created. */
export interface RpcSettings {
  readonly askTimeoutMs: number;
  readonly networkTimeoutMs: number;
  readonly connectTimeoutMs: number;
  readonly maxFrameBytes: number;
  /**
   * The listen backlog: connections the kernel queues for a server env before it accepts them. Node's default
   * (511) overflows when thousands of workers connect at once (a master restart, a cluster start); each
   * dropped SYN is retried by the client only after 1 s or more. Linux caps it at net.core.somaxconn.
   */
  readonly listenBacklog: number;
  /** `flint.rpc.io.coalesceWrites` (false; true in drivers and executors): see Connection. */
  readonly coalesceWrites: boolean;
  /** `flint.rpc.io.maxQueuedBytes` (64m): a peer with more than this queued for it is disconnected. */
  readonly maxQueuedBytes: number;
  /** `flint.rpc.handshake.maxConnections` (256): inbound connections in the handshake at once, per env. */
  readonly maxHandshaking: number;
  /** `flint.rpc.handshake.maxConnectionsPerAddress` (64): the same, from one remote IP address. */
  readonly maxHandshakingPerAddress: number;
  /** `flint.rpc.handshake.maxWaiting` (16384): inbound connections waiting for a handshake slot, per env. */
  readonly maxHandshakeWaiting: number;
  /** The cluster secret (`flint.authenticate.secret[.file]`), set iff flint.authenticate=true. */
  readonly secret: string | undefined;
  /** Applications' secret (`flint.authenticate.appSecret[.file]`), by default the cluster secret. */
  readonly appSecret: string | undefined;
}

const WRITE_HIGH_WATER_BYTES = 16 * 1024 * 1024;
/** `flint.rpc.io.backLog`'s default: Linux's default net.core.somaxconn since 5.4. */
const DEFAULT_LISTEN_BACKLOG = 4096;
/** setTimeout's largest delay (about 24.8 days); a longer timeout waits this long. */
export const MAX_TIMER_MS = 2 ** 31 - 1;

/** Reads the RPC keys; throws ConfigError naming the key. Never puts the secret in a message. */
export function readRpcSettings(conf: FlintConf, coalesceWritesByDefault = false): RpcSettings {
  const networkTimeoutMs = conf.getDurationMs('flint.network.timeout', '120s', 's');
  const askTimeoutMs = conf.getDurationMs('flint.rpc.askTimeout', `${networkTimeoutMs}ms`, 's');
  const connectTimeoutMs = conf.getDurationMs('flint.rpc.connect.timeout', '10s', 's');
  const maxFrameBytes = conf.getSizeBytes('flint.rpc.message.maxSize', '128', 'm');
  if (maxFrameBytes > 2 ** 31 - 1 || maxFrameBytes < 1024) {
    throw new ConfigError('flint.rpc.message.maxSize', 'flint.rpc.message.maxSize must be between 1k and 2047m');
  }
  const listenBacklog = conf.getInt('flint.rpc.io.backLog', DEFAULT_LISTEN_BACKLOG, { min: 1 });
  if (listenBacklog > 2 ** 31 - 1) {
    throw new ConfigError('flint.rpc.io.backLog', 'flint.rpc.io.backLog must be between 1 and 2147483647');
  }
  const coalesceWrites = conf.getBoolean('flint.rpc.io.coalesceWrites', coalesceWritesByDefault);
  const maxQueuedBytes = conf.getSizeBytes('flint.rpc.io.maxQueuedBytes', '64', 'm');
  if (maxQueuedBytes < 1024 * 1024) {
    throw new ConfigError('flint.rpc.io.maxQueuedBytes', 'flint.rpc.io.maxQueuedBytes must be at least 1m');
  }
  const maxHandshaking = conf.getInt('flint.rpc.handshake.maxConnections', 256, { min: 1 });
  const maxHandshakingPerAddress = conf.getInt('flint.rpc.handshake.maxConnectionsPerAddress', 64, { min: 1 });
  const maxHandshakeWaiting = conf.getInt('flint.rpc.handshake.maxWaiting', 16_384, { min: 0 });
  let secret: string | undefined;
  let appSecret: string | undefined;
  if (conf.getBoolean('flint.authenticate', false)) {
    secret = readSecret(conf, 'flint.authenticate.secret');
    appSecret = readSecret(conf, 'flint.authenticate.appSecret') ?? secret;
    if (secret === undefined && appSecret === undefined) {
      throw new ConfigError(
        'flint.authenticate.secret',
        'flint.authenticate=true needs a non-empty flint.authenticate.secret or flint.authenticate.secret.file',
      );
    }
  }
  return {
    askTimeoutMs,
    networkTimeoutMs,
    connectTimeoutMs,
    maxFrameBytes,
    listenBacklog,
    coalesceWrites,
    maxQueuedBytes,
    maxHandshaking,
    maxHandshakingPerAddress,
    maxHandshakeWaiting,
    secret,
    appSecret,
  };
}

/** `key`, else the contents of the file `key.file`; undefined when neither is set. An empty secret is an error. */
function readSecret(conf: FlintConf, key: string): string | undefined {
  let secret = conf.get(key);
  const file = conf.get(`${key}.file`);
  if (secret === undefined && file !== undefined) {
    try {
      secret = readFileSync(file, 'utf8').trim();
    } catch (err) {
      throw new ConfigError(`${key}.file`, `cannot read ${key}.file ${file}: ${(err as NodeJS.ErrnoException).code ?? 'error'}`);
    }
  }
  if (secret !== undefined && secret.length === 0) throw new ConfigError(key, `${key} is empty: give a non-empty secret (or ${key}.file)`);
  return secret;
}

/** A socket waiting for a handshake slot is not read; an error on it (a reset) only ends its wait. */
function ignoreWhileWaiting(): void {}

export class RpcEnv implements RefTransport, Transport {
  readonly name: string;
  /** This env's id: `flint://host:port`, or `flint+client://<id>` in client mode. */
  readonly id: EnvId;
  /** The bound address; undefined in client mode. */
  readonly address: RpcAddress | undefined;
  readonly conf: FlintConf;
  readonly settings: RpcSettings;
  /** What this env claims when it dials; its role is what peers see in `CallContext.senderRole`. */
  readonly principal: Principal;

  readonly #logger: Logger;
  readonly #credential: Credential | undefined;
  readonly #keyring: Keyring | undefined;
  readonly #server: Server | undefined;
  readonly #transport: RpcTransport;
  readonly #endpoints = new Map<string, Hosted>();
  readonly #connections = new Map<EnvId, Connection>();
  readonly #all = new Set<Connection>();
  /** Inbound connections still in the handshake. */
  readonly #handshaking = new Set<Connection>();
  /** Accepted sockets waiting for a handshake slot, oldest first, with when each was accepted (see #accept). */
  readonly #waiting = new Map<Socket, number>();
  /** Unauthenticated inbound connections (in the handshake or waiting for it) per remote IP address. */
  readonly #handshakingPerAddress = new Map<string, number>();
  /** Every warning a peer can trigger goes through it: see LogLimiter. */
  readonly #limiter: LogLimiter;
  readonly #idleTimer: NodeJS.Timeout | undefined;
  readonly #timeouts = new AskTimeouts();
  /** One set of hooks for every connection: each hook is told which connection calls it. */
  readonly #hooks: ConnectionHooks = {
    onOpen: (conn) => this.#onOpen(conn),
    onRequest: (conn, envelope) => this.#onRequest(conn, envelope),
    onClose: (conn, failure, graceful) => this.#onClose(conn, failure, graceful),
  };
  #stopped = false;
  #handshakeFailures = 0;

  private constructor(
    opts: RpcEnvOptions,
    settings: RpcSettings,
    transport: RpcTransport,
    server: Server | undefined,
    address: RpcAddress | undefined,
  ) {
    this.name = opts.name;
    this.#transport = transport;
    this.conf = opts.conf ?? new FlintConf();
    this.settings = settings;
    this.#server = server;
    this.address = address;
    this.id = address ? formatRpcAddress(address) : clientEnvId(randomUUID().replaceAll('-', ''));
    this.#logger = (opts.logger ?? silentLogger).child({ rpcEnv: opts.name });
    this.principal = opts.principal ?? 'daemon';
    if (roleOf(this.principal) === undefined) throw new Error(`${opts.name}: malformed principal ${this.principal}`);
    const ownKey = opts.credentialKey ?? (this.principal === 'daemon' ? settings.secret : this.principal === 'app' ? settings.appSecret : undefined);
    this.#credential = ownKey === undefined ? undefined : { principal: this.principal, key: ownKey };
    this.#keyring = opts.keyring ?? keyringOf(settings.secret);
    this.#limiter = new LogLimiter(this.#logger);
    if (!opts.clientMode) {
      const every = Math.max(50, Math.min(settings.networkTimeoutMs / 4, 30_000));
      this.#idleTimer = setInterval(() => this.#closeIdleConnections(), every);
      this.#idleTimer.unref();
    }
  }

  /** Creates an env; a server env is listening when the promise resolves. */
  static async create(opts: RpcEnvOptions): Promise<RpcEnv> {
    const conf = opts.conf ?? new FlintConf();
    const settings = readRpcSettings(conf, opts.coalesceWritesByDefault);
    // TLS (flint.ssl.rpc.*): files are read and checked here, so a bad block fails before anything listens.
    const ssl = readSslOptions(conf, 'rpc', { listens: opts.clientMode !== true });
    const transport = rpcTransport(ssl, Math.min(settings.connectTimeoutMs, MAX_TIMER_MS), (opts.logger ?? silentLogger).child({ rpcEnv: opts.name }));
    if (opts.clientMode) return new RpcEnv(opts, settings, transport, undefined, undefined);
    const host = opts.host ?? '127.0.0.1';
    const holder: { env?: RpcEnv } = {};
    const server = transport.createServer((socket) => (holder.env ? holder.env.#accept(socket) : socket.destroy()));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen({ port: opts.port ?? 0, host, backlog: settings.listenBacklog }, () => {
        server.off('error', reject);
        resolve();
      });
    }).catch((err: NodeJS.ErrnoException) => {
      throw new RpcConnectionError(`${opts.name} cannot listen on ${host}:${opts.port ?? 0}: ${err.code ?? err.message}`, { cause: err });
    });
    const bound = server.address();
    const port = typeof bound === 'object' && bound !== null ? bound.port : 0;
    holder.env = new RpcEnv(opts, settings, transport, server, { host: opts.advertiseHost ?? host, port });
    return holder.env;
  }

  // ---- endpoints -------------------------------------------------------------------------------------

  /** Hosts `endpoint` under `name`; its onStart runs before any message reaches it. */
  setupEndpoint<M extends { readonly type: string }>(name: string, endpoint: RpcEndpoint<M>): RpcEndpointRef<M> {
    assertEndpointName(name);
    if (this.#stopped) throw new RpcEnvStoppedError(`${this.name} is stopped; cannot set up endpoint ${name}`);
    if (this.#endpoints.has(name)) throw new Error(`an endpoint named ${name} already exists in ${this.name}`);
    const inbox = new Inbox((err) => {
      const msg = `endpoint ${name} threw while handling a message; it goes on with the next one`;
      this.#limiter.log('error', msg, { endpoint: name, err: describe(err) }, msg);
    });
    const hosted: Hosted = { name, endpoint: endpoint as unknown as RpcEndpoint, inbox };
    this.#endpoints.set(name, hosted);
    if (endpoint.onStart) inbox.post(() => endpoint.onStart?.());
    return new RpcEndpointRef<M>(this, this.id, name);
  }

  /** Stops one endpoint: queued messages are dropped (their asks fail), then its onStop runs. */
  async stop(endpoint: RpcEndpointRef | string): Promise<void> {
    const name = typeof endpoint === 'string' ? endpoint : endpoint.name;
    const hosted = this.#endpoints.get(name);
    if (!hosted) return;
    this.#endpoints.delete(name);
    hosted.inbox.close();
    await hosted.inbox.idle();
    try {
      await hosted.endpoint.onStop?.();
    } catch (err) {
      this.#logger.error({ endpoint: name, err: describe(err) }, `endpoint ${name} threw in onStop`);
    }
  }

  /** A ref from an endpoint address found in a message (`flint://Name@host:port`); no round trip. */
  endpointRef<M extends { readonly type: string } = { readonly type: string }>(endpointAddress: string): RpcEndpointRef<M> {
    const { env, name } = parseEndpointAddress(endpointAddress);
    return new RpcEndpointRef<M>(this, env, name);
  }

  /**
   * A ref to endpoint `name` of the env at `address` (`flint://host:port`), after checking that it exists.
   * Fails with EndpointNotFoundError when the remote has no such endpoint.
   */
  async setupEndpointRef<M extends { readonly type: string } = { readonly type: string }>(
    address: string | RpcAddress,
    name: string,
  ): Promise<RpcEndpointRef<M>> {
    assertEndpointName(name);
    const env = envIdOfAddress(address);
    if (env === this.id) {
      if (!this.#endpoints.has(name)) throw new EndpointNotFoundError(env, name);
      return new RpcEndpointRef<M>(this, env, name);
    }
    const exists = await this.#askRaw(env, name, 'VerifyEndpoint', this.settings.askTimeoutMs, (conn, askId) =>
      conn.send({ kind: Kind.VERIFY, askId, endpoint: name }),
    );
    if (exists !== true) throw new EndpointNotFoundError(env, name);
    return new RpcEndpointRef<M>(this, env, name);
  }

  // ---- RefTransport -----------------------------------------------------------------------------------

  sendTo(env: EnvId, name: string, message: { readonly type: string }): boolean {
    if (this.#stopped) throw new RpcEnvStoppedError(`${this.name} is stopped; cannot send ${message.type} to ${name}`);
    if (env === this.id) {
      queueMicrotask(() => this.#deliverLocal(name, message, undefined));
      return true;
    }
    const conn = this.#connectionTo(env);
    if (conn === undefined) {
      const msg = 'dropped a message: the client-mode peer is not connected';
      this.#limiter.warn(msg, { peer: env, endpoint: name, type: message.type }, msg);
      return true;
    }
    conn.send({ kind: Kind.SEND, endpoint: name, body: message });
    return !conn.needsDrain;
  }

  askTo(env: EnvId, name: string, message: { readonly type: string }, options: AskOptions | number | undefined): Promise<unknown> {
    const opts = typeof options === 'number' ? { timeoutMs: options } : (options ?? {});
    const timeoutMs = opts.timeoutMs ?? this.settings.askTimeoutMs;
    const target = `${name}@${env}`;
    const raw =
      env === this.id
        ? this.#askLocal(name, message, timeoutMs)
        : this.#askRaw(env, name, message.type, timeoutMs, (conn, askId) =>
            conn.send({ kind: Kind.ASK, askId, endpoint: name, body: message }),
          );
    if (!opts.expect) return raw;
    const expect = opts.expect;
    return raw.then((reply) => {
      const checked = expect.check(reply);
      if (checked.ok) return checked.value;
      this.#limiter.warn('rejected a bad reply', { peer: env, endpoint: name, reason: checked.reason }, 'rejected a bad reply');
      throw new InvalidMessageError(checked.code, `reply to ${message.type} from ${target}: ${checked.reason}`);
    });
  }

  whenWritable(env: EnvId): Promise<void> {
    return this.#connections.get(env)?.whenWritable() ?? Promise.resolve();
  }

  // ---- lifecycle --------------------------------------------------------------------------------------

  /** Stops every endpoint, closes every connection and the listening socket. */
  async shutdown(): Promise<void> {
    if (this.#stopped) return;
    this.#stopped = true;
    clearInterval(this.#idleTimer);
    for (const name of [...this.#endpoints.keys()]) await this.stop(name);
    for (const conn of this.#all) conn.close();
    this.#timeouts.stop();
    for (const socket of this.#waiting.keys()) socket.destroy();
    this.#waiting.clear();
    this.#limiter.close();
    // A graceful close waits for the peer to acknowledge it. A peer whose host vanished (power, cable, partition)
    // never does, and neither the server's close nor the process's exit would ever come: after
    // flint.rpc.connect.timeout, whatever is still open is dropped (Spark's RpcEnv shutdown does not wait at all).
    const dropLeft = setTimeout(() => {
      for (const conn of this.#all) conn.close(new RpcConnectionError(`connection to ${conn.peerEnv ?? conn.remoteSocketAddress} dropped: the peer did not acknowledge the close within ${this.settings.connectTimeoutMs} ms of shutdown`));
    }, Math.min(this.settings.connectTimeoutMs, MAX_TIMER_MS));
    if (this.#server) await new Promise<void>((resolve) => this.#server?.close(() => resolve()));
    if (this.#all.size === 0) clearTimeout(dropLeft);
    else dropLeft.unref();
  }

  /** Who the open connection to `env` speaks for (auth.ts); undefined when there is none. */
  peerOf(env: EnvId): { readonly principal: Principal; readonly role: Role } | undefined {
    const conn = this.#connections.get(env);
    if (conn === undefined || !conn.isOpen || conn.peerPrincipal === undefined || conn.peerRole === undefined) return undefined;
    return { principal: conn.peerPrincipal, role: conn.peerRole };
  }

  /** Whom this env lets in (auth.ts `Keyring`); undefined when it does not authenticate. */
  get keyring(): Keyring | undefined {
    return this.#keyring;
  }

  /** The key this env dials with, for opening what a peer sealed for it (auth.ts `unseal`). */
  get credentialKey(): string | undefined {
    return this.#credential?.key;
  }

  /**
   * Inbound connections that failed their handshake (a wrong secret, a refused principal, a bad version, a
   * timeout) or were refused before it by the limits on unauthenticated connections: the metrics' counter.
   */
  get handshakeFailures(): number {
    return this.#handshakeFailures;
  }

  /** Open connections by peer id, for status pages and tests. */
  connectedPeers(): EnvId[] {
    return [...this.#connections].filter(([, c]) => c.isOpen).map(([env]) => env);
  }

  // ---- connections ------------------------------------------------------------------------------------

  #connectionOptions(socket: Socket, role: 'client' | 'server', dialed?: EnvId) {
    const s = this.settings;
    return {
      socket,
      role,
      dialed,
      localEnv: this.id,
      credential: this.#credential,
      principal: this.principal,
      keyring: this.#keyring,
      maxFrameBytes: s.maxFrameBytes,
      handshakeTimeoutMs: Math.min(s.connectTimeoutMs, MAX_TIMER_MS),
      writeHighWaterBytes: WRITE_HIGH_WATER_BYTES,
      maxQueuedBytes: s.maxQueuedBytes,
      coalesceWrites: s.coalesceWrites,
      logger: this.#logger,
      limiter: this.#limiter,
      hooks: this.#hooks,
    } as const;
  }

  /**
   * Caps on connections that have not authenticated yet (docs/security.md "Limits before authentication"). One
   * remote address may hold `maxHandshakingPerAddress` of them; past that a new one is closed at once. At most
   * `maxHandshaking` are in the handshake; the next ones wait for a slot, unread, oldest first (at most
   * `maxHandshakeWaiting` of them), so that thousands of workers registering at once (a cluster start, a master
   * failover) are served in turn rather than closed and left to their retry timers. Past that too, a new
   * connection is closed.
   */
  #accept(socket: Socket): void {
    if (this.#stopped) {
      socket.destroy();
      return;
    }
    const ip = socket.remoteAddress ?? '?';
    const fromIp = this.#handshakingPerAddress.get(ip) ?? 0;
    const s = this.settings;
    const slotFree = this.#handshaking.size < s.maxHandshaking && this.#waiting.size === 0;
    if (fromIp >= s.maxHandshakingPerAddress || (!slotFree && this.#waiting.size >= s.maxHandshakeWaiting)) {
      socket.destroy();
      this.#handshakeFailures++;
      const [key, limit] =
        fromIp >= s.maxHandshakingPerAddress
          ? ['flint.rpc.handshake.maxConnectionsPerAddress', s.maxHandshakingPerAddress]
          : ['flint.rpc.handshake.maxConnections', s.maxHandshaking];
      const msg = `refused a connection: ${limit} connections are in the handshake already (${key})`;
      const context = { remote: `${ip}:${socket.remotePort ?? '?'}`, handshaking: this.#handshaking.size, waiting: this.#waiting.size, fromAddress: fromIp };
      this.#limiter.warn(msg, context, msg);
      return;
    }
    this.#handshakingPerAddress.set(ip, fromIp + 1);
    if (slotFree) {
      this.#startHandshake(socket);
      return;
    }
    // Not read while it waits: what the peer sends stays in the kernel's buffers.
    socket.pause();
    this.#waiting.set(socket, performance.now());
    socket.on('error', ignoreWhileWaiting);
    socket.once('close', () => {
      if (this.#waiting.delete(socket)) this.#forgetUnauthenticated(ip);
    });
  }

  #startHandshake(socket: Socket): void {
    const conn = new Connection(this.#connectionOptions(socket, 'server'));
    this.#all.add(conn);
    if (conn.isClosed) {
      this.#forgetUnauthenticated(socket.remoteAddress ?? '?');
      return;
    }
    this.#handshaking.add(conn);
  }

  /** The inbound connection `conn` left the handshake (done or closed): its slot goes to the oldest waiter. */
  #leftHandshake(conn: Connection): void {
    if (!this.#handshaking.delete(conn)) return;
    this.#forgetUnauthenticated(conn.remoteIp);
    const expiredBefore = performance.now() - this.settings.connectTimeoutMs;
    for (const [socket, acceptedAt] of this.#waiting) {
      if (this.#stopped || this.#handshaking.size >= this.settings.maxHandshaking) break;
      this.#waiting.delete(socket);
      socket.removeListener('error', ignoreWhileWaiting);
      if (socket.destroyed || acceptedAt < expiredBefore) {
        // Its peer has given up on the handshake by now (the same timeout on its side).
        socket.destroy();
        this.#forgetUnauthenticated(socket.remoteAddress ?? '?');
        continue;
      }
      this.#startHandshake(socket);
      socket.resume(); // Connection listens for 'data' now
    }
  }

  #forgetUnauthenticated(ip: string): void {
    const left = (this.#handshakingPerAddress.get(ip) ?? 1) - 1;
    if (left > 0) this.#handshakingPerAddress.set(ip, left);
    else this.#handshakingPerAddress.delete(ip);
  }

  /** The connection to `env`, dialing it when needed. Undefined for a client-mode env that is not connected. */
  #connectionTo(env: EnvId): Connection | undefined {
    const existing = this.#connections.get(env);
    if (existing && !existing.isClosed) return existing;
    if (isClientEnvId(env)) return undefined;
    const { host, port } = parseRpcAddress(env);
    // The transport hands the bytes over itself (transport.ts, READ_BUFFER); none arrive before `conn` is set.
    const socket = this.#transport.connect(host, port, (chunk) => conn.receive(chunk));
    const conn = new Connection({ ...this.#connectionOptions(socket, 'client', env), dataFromTransport: true });
    this.#connections.set(env, conn);
    this.#all.add(conn);
    return conn;
  }

  #onOpen(conn: Connection): void {
    this.#leftHandshake(conn);
    const peer = conn.peerEnv as EnvId;
    if (conn.role === 'server') {
      const existing = this.#connections.get(peer);
      // Both sides dialed at once: keep the first; the second still serves what arrives on it.
      if (existing && !existing.isClosed && existing !== conn) return;
      this.#connections.set(peer, conn);
    }
    this.#logger.debug({ peer, via: conn.remoteSocketAddress }, 'connection open');
    this.#broadcast((ep) => ep.onConnected?.(peer));
  }

  #onClose(conn: Connection, failure: FlintError | undefined, graceful: boolean): void {
    this.#all.delete(conn);
    if (conn.role === 'server' && !conn.wasOpen && failure !== undefined) this.#handshakeFailures++;
    this.#leftHandshake(conn);
    const peer = conn.peerEnv;
    if (peer === undefined) return; // a server-side connection that never said who it is
    const registered = this.#connections.get(peer) === conn;
    if (registered) this.#connections.delete(peer);
    if (this.#stopped || graceful || !registered) return;
    if (failure) this.#broadcast((ep) => ep.onNetworkError?.(failure, peer));
    if (conn.wasOpen) this.#broadcast((ep) => ep.onDisconnected?.(peer));
  }

  #closeIdleConnections(): void {
    const now = performance.now();
    for (const conn of this.#all) {
      if (conn.role === 'client' && conn.isOpen && conn.pendingAsks === 0 && now - conn.lastActivityMs > this.settings.networkTimeoutMs) {
        this.#logger.debug({ peer: conn.peerEnv }, 'closing an idle connection');
        conn.closeIdle();
      }
    }
  }

  #broadcast(event: (endpoint: RpcEndpoint) => void | Promise<void>): void {
    for (const hosted of this.#endpoints.values()) hosted.inbox.post(() => event(hosted.endpoint));
  }

  // ---- inbound ----------------------------------------------------------------------------------------

  #onRequest(conn: Connection, envelope: Envelope): void {
    const peer = conn.peerEnv as EnvId;
    if (envelope.kind === Kind.VERIFY) {
      conn.send({ kind: Kind.REPLY, askId: envelope.askId, body: this.#endpoints.has(envelope.endpoint) });
      return;
    }
    if (envelope.kind !== Kind.SEND && envelope.kind !== Kind.ASK) return;
    const askId = envelope.kind === Kind.ASK ? envelope.askId : undefined;
    const hosted = this.#endpoints.get(envelope.endpoint);
    if (!hosted) {
      this.#refuse(conn, envelope.endpoint, askId, 'FLINT_RPC_ENDPOINT_NOT_FOUND', `no endpoint named "${String(envelope.endpoint).slice(0, 100)}" at ${this.id}`);
      return;
    }
    const checked = hosted.endpoint.messages.check(envelope.body);
    if (!checked.ok) {
      this.#refuse(conn, envelope.endpoint, askId, checked.code, checked.reason);
      return;
    }
    const senderRole = conn.peerRole as Role;
    if (!hosted.endpoint.messages.allows(checked.value.type, senderRole)) {
      this.#refuse(conn, envelope.endpoint, askId, 'FLINT_RPC_FORBIDDEN', `${hosted.name} does not take ${checked.value.type} from ${senderRole === 'executor' ? 'an' : 'a'} ${senderRole}`);
      return;
    }
    conn.dispatched();
    const context = askId === undefined ? { senderAddress: peer, senderRole } : new RemoteReply(conn, peer, senderRole, askId, hosted.name, this.#logger);
    hosted.inbox.postJob(new Delivery(hosted, checked.value, context, askId !== undefined, conn, this.#limiter));
  }

  /** Logs a message refused before any handler saw it; an ask is answered with the failure. */
  #refuse(conn: Connection, endpoint: string, askId: number | undefined, code: string, reason: string): void {
    const msg = 'rejected an inbound message';
    this.#limiter.warn(msg, { peer: conn.peerEnv, remote: conn.remoteSocketAddress, endpoint, code, reason }, msg);
    if (askId !== undefined) conn.send({ kind: Kind.FAILURE, askId, code, message: reason, stack: null });
  }

  // ---- local delivery and asks ------------------------------------------------------------------------

  #deliverLocal(name: string, message: { readonly type: string }, context: ReplyContext | undefined): void {
    const hosted = this.#endpoints.get(name);
    if (!hosted) {
      const err = new EndpointNotFoundError(this.id, name);
      if (context) context.sendFailure(err);
      else this.#limiter.warn('dropped a local message: no such endpoint', { endpoint: name, type: message.type }, 'dropped a local message: no such endpoint');
      return;
    }
    const ctx = context ?? { senderAddress: this.id, senderRole: this.#ownRole() };
    hosted.inbox.postJob(new Delivery(hosted, message, ctx, context !== undefined, undefined, this.#limiter));
  }

  /** An ask of an endpoint of this env: delivered in the next microtask, its deadline kept as a remote ask's is. */
  #askLocal(name: string, message: { readonly type: string }, timeoutMs: number): Promise<unknown> {
    return new Promise((resolve, reject) => {
      const ask = new LocalAsk(this.id, this.#ownRole(), name, message.type, timeoutMs, resolve, reject);
      this.#timeouts.add(ask, timeoutMs);
      queueMicrotask(() => this.#deliverLocal(name, message, ask));
    });
  }

  #ownRole(): Role {
    return roleOf(this.principal) as Role;
  }

  /** Sends one request over the connection to `env` and waits for its REPLY or FAILURE. */
  #askRaw(env: EnvId, name: string, type: string, timeoutMs: number, write: (conn: Connection, askId: number) => void): Promise<unknown> {
    if (this.#stopped) return Promise.reject(new RpcEnvStoppedError(`${this.name} is stopped; cannot ask ${type} of ${name}`));
    const conn = this.#connectionTo(env);
    if (conn === undefined) {
      return Promise.reject(new RpcConnectionError(`cannot ask ${type} of ${name}@${env}: that client-mode env is not connected`));
    }
    return new Promise((resolve, reject) => {
      const ask = new RemoteAsk(conn, env, name, type, timeoutMs, resolve, reject);
      ask.askId = conn.registerAsk(ask);
      this.#timeouts.add(ask, timeoutMs);
      try {
        write(conn, ask.askId);
      } catch (err) {
        conn.forgetAsk(ask.askId);
        ask.settle();
        reject(err);
      }
    });
  }
}

/**
 * An ask this env made, settled once: by its answer, its failure, its deadline (the env's lanes, ask-timeouts.ts)
 * or the env's shutdown. `target` (`endpoint@env`) names it in the errors.
 */
abstract class OutgoingAsk extends TimedAsk {
  protected readonly target: string;
  protected readonly type: string;
  readonly #timeoutMs: number;
  readonly #resolve: (value: unknown) => void;
  readonly #reject: (err: Error) => void;

  constructor(target: string, type: string, timeoutMs: number, resolve: (value: unknown) => void, reject: (err: Error) => void) {
    super();
    this.target = target;
    this.type = type;
    this.#timeoutMs = timeoutMs;
    this.#resolve = resolve;
    this.#reject = reject;
  }

  protected answer(value: unknown): void {
    if (this.settle()) this.#resolve(value);
  }

  protected fail(err: Error): void {
    if (this.settle()) this.#reject(err);
  }

  /** Called by the lane, which has settled the ask. */
  expire(): void {
    this.#reject(new RpcTimeoutError(this.target, this.type, this.#timeoutMs, 'flint.rpc.askTimeout'));
  }
}

/** One ask over a connection: the connection settles it with the REPLY or FAILURE, or its deadline does. */
class RemoteAsk extends OutgoingAsk {
  askId = 0;
  readonly #conn: Connection;
  readonly #env: EnvId;
  readonly #name: string;

  constructor(conn: Connection, env: EnvId, name: string, type: string, timeoutMs: number, resolve: (value: unknown) => void, reject: (err: Error) => void) {
    super(`${name}@${env}`, type, timeoutMs, resolve, reject);
    this.#conn = conn;
    this.#env = env;
    this.#name = name;
  }

  resolve(value: unknown): void {
    this.answer(value);
  }

  reject(err: Error): void {
    if (!this.settled) this.fail(remoteError(err, this.target, this.#env, this.#name));
  }

  override expire(): void {
    this.#conn.forgetAsk(this.askId);
    super.expire();
  }
}

/**
 * An ask of an endpoint of this env (local mode's driver and executor share one): the endpoint answers it through
 * the ask itself, its ReplyContext, as a remote endpoint answers through RemoteReply. An ask still waiting when the
 * env shuts down fails then; a remote one fails as its connection closes.
 */
class LocalAsk extends OutgoingAsk implements ReplyContext {
  readonly senderAddress: EnvId;
  readonly senderRole: Role;

  constructor(env: EnvId, role: Role, name: string, type: string, timeoutMs: number, resolve: (value: unknown) => void, reject: (err: Error) => void) {
    super(`${name}@${env}`, type, timeoutMs, resolve, reject);
    this.senderAddress = env;
    this.senderRole = role;
  }

  reply(value: unknown): void {
    this.answer(value);
  }

  sendFailure(err: Error): void {
    if (!this.settled) this.fail(err instanceof EndpointNotFoundError ? err : new RpcRemoteError(this.target, codeOf(err), err.message, err.stack));
  }

  override abandoned(): void {
    this.fail(new RpcEnvStoppedError(`the env stopped before ${this.target} answered ${this.type}`));
  }
}

/**
 * One message for an endpoint's inbox, from a connection or from this env. An ask whose handler throws (or whose
 * promise rejects) before replying fails with that error; one dropped unhandled (the endpoint stopped) fails with
 * RpcEnvStoppedError. A message from a connection counts against that connection's reads until handled
 * (Connection.dispatched).
 */
class Delivery implements InboxJob {
  readonly #hosted: Hosted;
  readonly #message: { readonly type: string };
  readonly #context: CallContext;
  readonly #isAsk: boolean;
  readonly #conn: Connection | undefined;
  readonly #limiter: LogLimiter;

  constructor(hosted: Hosted, message: { readonly type: string }, context: CallContext, isAsk: boolean, conn: Connection | undefined, limiter: LogLimiter) {
    this.#hosted = hosted;
    this.#message = message;
    this.#context = context;
    this.#isAsk = isAsk;
    this.#conn = conn;
    this.#limiter = limiter;
  }

  run(): void | Promise<void> {
    let result: void | Promise<void>;
    try {
      result = this.#isAsk ? this.#ask() : this.#receive();
    } catch (err) {
      this.#conn?.handled();
      throw err;
    }
    if (result === undefined || this.#conn === undefined) {
      this.#conn?.handled();
      return result;
    }
    const conn = this.#conn;
    return result.finally(() => conn.handled());
  }

  drop(): void {
    this.#conn?.handled();
    if (this.#isAsk) (this.#context as ReplyContext).sendFailure(new RpcEnvStoppedError(`endpoint ${this.#hosted.name} stopped before handling the message`));
  }

  #receive(): void | Promise<void> {
    const ep = this.#hosted.endpoint;
    if (!ep.receive) throw new Error(`endpoint ${this.#hosted.name} does not take one-way messages (got ${this.#message.type})`);
    return ep.receive(this.#message, this.#context);
  }

  #ask(): void | Promise<void> {
    const ep = this.#hosted.endpoint;
    try {
      if (!ep.receiveAndReply) throw new Error(`endpoint ${this.#hosted.name} does not answer asks (got ${this.#message.type})`);
      const result = ep.receiveAndReply(this.#message, this.#context as ReplyContext);
      return result === undefined ? undefined : result.catch((err: unknown) => this.#fail(err));
    } catch (err) {
      this.#fail(err);
      return undefined;
    }
  }

  #fail(err: unknown): void {
    this.#limiter.warn('an ask handler failed', { endpoint: this.#hosted.name, type: this.#message.type, err: describe(err) }, 'an ask handler failed');
    (this.#context as ReplyContext).sendFailure(err instanceof Error ? err : new Error(String(err)));
  }
}

/** The reply side of an ask that came over `conn`: only the first reply or failure is sent. */
class RemoteReply implements ReplyContext {
  readonly senderAddress: EnvId;
  readonly senderRole: Role;
  readonly #conn: Connection;
  readonly #askId: number;
  readonly #endpoint: string;
  readonly #logger: Logger;
  #answered = false;

  constructor(conn: Connection, peer: EnvId, senderRole: Role, askId: number, endpoint: string, logger: Logger) {
    this.senderAddress = peer;
    this.senderRole = senderRole;
    this.#conn = conn;
    this.#askId = askId;
    this.#endpoint = endpoint;
    this.#logger = logger;
  }

  reply(value: unknown): void {
    this.#send({ kind: Kind.REPLY, askId: this.#askId, body: value });
  }

  sendFailure(err: Error): void {
    this.#send({ kind: Kind.FAILURE, askId: this.#askId, code: codeOf(err), message: err.message, stack: err.stack ?? null });
  }

  #send(envelope: Envelope): void {
    if (this.#answered) return;
    this.#answered = true;
    if (this.#conn.isClosed) {
      this.#logger.debug({ peer: this.senderAddress, endpoint: this.#endpoint }, 'dropped a reply: the asker has disconnected');
      return;
    }
    try {
      this.#conn.send(envelope);
    } catch (err) {
      this.#conn.send({ kind: Kind.FAILURE, askId: this.#askId, code: codeOf(err), message: (err as Error).message, stack: null });
    }
  }
}

function remoteError(err: Error, target: string, env: EnvId, name: string): Error {
  const remote = err as Error & { remoteCode?: string; remoteStack?: string | null };
  if (remote.remoteCode === undefined) return err;
  if (remote.remoteCode === 'FLINT_RPC_ENDPOINT_NOT_FOUND') return new EndpointNotFoundError(env, name);
  return new RpcRemoteError(target, remote.remoteCode, remote.message, remote.remoteStack ?? undefined);
}

function codeOf(err: unknown): string {
  return isFlintError(err) ? err.code : 'FLINT_REMOTE_HANDLER_ERROR';
}

function describe(err: unknown): { message: string; stack?: string } {
  return err instanceof Error ? { message: err.message, ...(err.stack ? { stack: err.stack } : {}) } : { message: String(err) };
}
