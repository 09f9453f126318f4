// What the ZooKeeper store and leader election share: their options (with the conf keys that set them),
// the znode paths (Spark's layout under `flint.deploy.zookeeper.dir`), and a promise wrapper that bounds every
// call to the server by a timeout. node-zookeeper-client queues requests while it is disconnected and
// retries the connection forever, so an unbounded call would hang as long as the server is down.

import zookeeper, { type Client } from 'node-zookeeper-client';
import type { Socket } from 'node:net';
import type { Logger } from '../../util/logger.ts';

export { DEFAULT_ZK_DIR, DEFAULT_ZK_SESSION_TIMEOUT_MS, ZK_DIR_KEY, ZK_SESSION_TIMEOUT_KEY, ZK_URL_KEY } from './keys.ts';
import { DEFAULT_ZK_DIR, DEFAULT_ZK_SESSION_TIMEOUT_MS, ZK_DIR_KEY, ZK_SESSION_TIMEOUT_KEY, ZK_URL_KEY } from './keys.ts';

export interface ZooKeeperOptions {
  /** Connect string, `host:port[,host:port…]` (`flint.deploy.zookeeper.url`). */
  readonly url: string;
  /** Base znode (`flint.deploy.zookeeper.dir`, default `/flint`). */
  readonly dir?: string;
  /** Requested session timeout (`flint.deploy.zookeeper.sessionTimeout`); the server clamps it to [2, 20] ticks. */
  readonly sessionTimeoutMs?: number;
  /** Bound on each call to the server (default: the session timeout). */
  readonly operationTimeoutMs?: number;
  readonly logger?: Logger;
}

export interface ResolvedZooKeeperOptions {
  readonly url: string;
  readonly dir: string;
  readonly sessionTimeoutMs: number;
  readonly operationTimeoutMs: number;
}

export function resolveZooKeeperOptions(options: ZooKeeperOptions): ResolvedZooKeeperOptions {
  if (!/^[^\s/]+$/.test(options.url)) {
    throw new Error(`${ZK_URL_KEY}=${JSON.stringify(options.url)} is not a ZooKeeper connect string (host:port[,host:port...])`);
  }
  const dir = (options.dir ?? DEFAULT_ZK_DIR).replace(/\/+$/, '');
  if (!/^(\/[^/\s]+)+$/.test(dir) || dir.split('/').some((part) => part === '.' || part === '..')) {
    throw new Error(`${ZK_DIR_KEY}=${JSON.stringify(options.dir)} is not an absolute znode path such as /flint`);
  }
  const sessionTimeoutMs = options.sessionTimeoutMs ?? DEFAULT_ZK_SESSION_TIMEOUT_MS;
  if (!Number.isInteger(sessionTimeoutMs) || sessionTimeoutMs <= 0) {
    throw new Error(`${ZK_SESSION_TIMEOUT_KEY}=${sessionTimeoutMs} must be a positive number of milliseconds`);
  }
  return { url: options.url, dir, sessionTimeoutMs, operationTimeoutMs: options.operationTimeoutMs ?? sessionTimeoutMs };
}

/** The least time a server has to answer the handshake on a connection it accepted (see `boundHandshake`). */
export const MIN_HANDSHAKE_TIMEOUT_MS = 2_000;

/**
 * A new, not yet connected client; `spinDelay` bounds the pause between its reconnection attempts, and the
 * handshake on each connection is bounded by the session timeout (at least MIN_HANDSHAKE_TIMEOUT_MS).
 */
export function newZooKeeperClient(opts: ResolvedZooKeeperOptions, logger?: Logger): Client {
  const client = zookeeper.createClient(opts.url, { sessionTimeout: opts.sessionTimeoutMs, spinDelay: 200, retries: 0 });
  boundHandshake(client, Math.max(opts.sessionTimeoutMs, MIN_HANDSHAKE_TIMEOUT_MS), opts.url, logger);
  return client;
}

/** What `boundHandshake` and `closeClient` use of node-zookeeper-client 1.1.3's (untyped) ConnectionManager. */
interface ConnectionManagerInternals {
  state: number;
  socket: Socket | undefined;
  /** Bytes of an incomplete frame; the client keeps them across connections. */
  pendingBuffer: Buffer | null;
  onSocketConnected: () => void;
  setState: (state: number) => void;
}
// ConnectionManager.STATES: the socket is open and the session handshake not answered yet; the session is
// established; close() was called (a connection that closes then is not reopened).
const CONNECTING = 1;
const CONNECTED = 2;
const CLOSING = -1;

function connectionManagerOf(client: Client): ConnectionManagerInternals {
  const manager = (client as unknown as { connectionManager?: Partial<ConnectionManagerInternals> }).connectionManager;
  if (manager === undefined || typeof manager.onSocketConnected !== 'function' || typeof manager.setState !== 'function' || typeof manager.state !== 'number') {
    throw new Error('node-zookeeper-client is not the version Flint was built with (1.1.3): its ConnectionManager has changed');
  }
  return manager as ConnectionManagerInternals;
}

/**
 * Drops a connection whose handshake the server does not answer within `timeoutMs`, so that the client
 * connects again (in the same session, as after any connection loss).
 *
 * node-zookeeper-client 1.1.3 bounds the TCP connect but not the ConnectRequest/ConnectResponse exchange after
 * it. ZooKeeper 3.8.0 (Debian 12's) listens before its database is loaded; a client that connects in that
 * window is refused ("ZooKeeperServer not running") but the server fails to close the connection (a
 * NullPointerException in ZKDatabase.removeCnxn) and never answers it. The client then waited forever: every
 * call queued behind the handshake timed out, though the server was up (a master started before its
 * ZooKeeper stayed STANDBY). ZooKeeper's own Java client (ClientCnxn.SendThread) bounds the handshake by its
 * connect timeout; this does the same, with the socket's 'connect' listener that the client binds on connect.
 */
function boundHandshake(client: Client, timeoutMs: number, url: string, logger: Logger | undefined): void {
  const manager = connectionManagerOf(client);
  const onSocketConnected = manager.onSocketConnected;
  manager.onSocketConnected = function onSocketConnectedBounded(this: ConnectionManagerInternals): void {
    this.pendingBuffer = null; // a new connection: no part of a frame from a dropped one
    onSocketConnected.call(this);
    const socket = this.socket;
    if (socket === undefined) return;
    const timer = setTimeout(() => {
      if (this.socket !== socket || this.state !== CONNECTING || socket.destroyed) return;
      logger?.warn({ url, timeoutMs }, 'ZooKeeper accepted the connection but did not answer the handshake; connecting again');
      socket.destroy(); // 'close': the client reports a connection loss and connects again
    }, timeoutMs);
    timer.unref();
    socket.once('close', () => clearTimeout(timer));
  };
}

export const { CreateMode, Exception } = zookeeper;

/** True when `err` is a ZooKeeper exception with this code (e.g. `Exception.NO_NODE`). */
export function hasZkCode(err: unknown, code: number): boolean {
  return err instanceof zookeeper.Exception && err.getCode() === code;
}

type Callback<T> = (error: Error | InstanceType<typeof zookeeper.Exception> | null, result: T) => void;

/**
 * Runs one client call as a promise that rejects after `timeoutMs` (naming `what` and the session timeout key)
 * if the server has not answered: the session is lost or the server is down.
 */
export function zkCall<T>(what: string, timeoutMs: number, call: (callback: Callback<T>) => void): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => {
      reject(new Error(`ZooKeeper ${what} got no answer within ${timeoutMs} ms (server down or session lost; see ${ZK_SESSION_TIMEOUT_KEY})`));
    }, timeoutMs);
    call((error, result) => {
      clearTimeout(timer);
      if (error) reject(error instanceof Error ? error : new Error(`ZooKeeper ${what} failed: ${error.toString()}`, { cause: error }));
      else resolve(result);
    });
  });
}

/** Creates `path` and its missing parents (PERSISTENT, no data). */
export function mkdirp(client: Client, path: string, timeoutMs: number): Promise<string> {
  return zkCall<string>(`mkdirp ${path}`, timeoutMs, (cb) => client.mkdirp(path, cb));
}

/**
 * Closes a client: ends its session when it has one, else drops its connection attempt.
 *
 * node-zookeeper-client's `close()` is only safe on an established session. Before that it throws when no
 * socket was ever opened (the server down the whole time), and while a handshake is in flight it sends the
 * queued requests and CloseSession on the unestablished connection, then reads the late ConnectResponse as
 * the reply to them: an `Unknown code` error thrown from the socket's data handler (uncaught, it would end
 * the master). A client that is not connected is therefore put in CLOSING without sending anything and its
 * socket destroyed; the client does not reconnect from CLOSING. Requests still queued get no answer (their
 * `zkCall`s time out); a session the server may have opened for the abandoned handshake simply expires.
 */
export function closeClient(client: Client): void {
  const manager = connectionManagerOf(client);
  if (manager.state === CONNECTED) {
    client.close();
    return;
  }
  manager.setState(CLOSING);
  manager.socket?.destroy();
}
