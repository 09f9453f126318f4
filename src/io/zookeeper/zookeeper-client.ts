// What the ZooKeeper store and leader election share: their options (with the conf keys that set them),
// the znode paths (Spark's layout under `flint.deploy.zookeeper.dir`), and a promise wrapper that bounds every
// call to the server by a timeout. node-zookeeper-client queues requests while it is disconnected and
// retries the connection forever, so an unbounded call would hang as long as the server is down.

import zookeeper, { type Client } from 'node-zookeeper-client';
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

/** A new, not yet connected client; `spinDelay` bounds the pause between its reconnection attempts. */
export function newZooKeeperClient(opts: ResolvedZooKeeperOptions): Client {
  return zookeeper.createClient(opts.url, { sessionTimeout: opts.sessionTimeoutMs, spinDelay: 200, retries: 0 });
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
 * Closes a client. node-zookeeper-client throws from `close()` when its socket never opened (the server was
 * down the whole time); there is nothing to close then, so that is not an error.
 */
export function closeClient(client: Client): void {
  try {
    client.close();
  } catch {
    // never connected: no session to end
  }
}
