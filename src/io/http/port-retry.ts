// Binding a server to a port, and to the next ones when it is taken: Spark's `Utils.startServiceOnPort`.
//
// Spark tries `startPort`, then `startPort + 1`, … up to `spark.port.maxRetries` (16) more times, moving on only
// when the bind failed because the port is in use (`Utils.isBindCollision`); any other failure (no permission
// for a port below 1024, an address not on this host) ends the search at once. Port 0 means any free port: the
// kernel picks one, so there is nothing to move on to. Past 65535 the search wraps around to 1024, as Spark's
// does, so it never lands on a privileged port.
//
// Generic over what is bound (`bind(port) => Promise<T>`), so the web UI servers and the RPC listener share it.

import type { FlintConf } from '../../conf/flint-conf.ts';
import { PortInUseError } from '../../errors.ts';
import type { Logger } from '../../util/logger.ts';

/** `flint.port.maxRetries`' default: Spark's `spark.port.maxRetries`. */
export const DEFAULT_PORT_MAX_RETRIES = 16;
const MAX_PORT = 65_535;
const FIRST_UNPRIVILEGED_PORT = 1024;

/** `flint.port.maxRetries` (16): how many ports after the first a server tries before it gives up. */
export function readPortMaxRetries(conf: FlintConf): number {
  return conf.getInt('flint.port.maxRetries', DEFAULT_PORT_MAX_RETRIES, { min: 0, max: MAX_PORT });
}

export interface ListenWithRetriesOptions {
  /** For messages: `web UI`, `RPC`, … */
  readonly serviceName: string;
  /** Ports tried after the first one (`flint.port.maxRetries`). */
  readonly maxRetries: number;
  readonly logger?: Logger | undefined;
}

/** The port tried `offset` ports after `startPort`: Spark's arithmetic, wrapping past 65535 to 1024. */
export function portAfter(startPort: number, offset: number): number {
  if (startPort === 0) return 0;
  const port = startPort + offset;
  return port <= MAX_PORT ? port : ((port - FIRST_UNPRIVILEGED_PORT) % (MAX_PORT + 1 - FIRST_UNPRIVILEGED_PORT)) + FIRST_UNPRIVILEGED_PORT;
}

/** Whether `err` (or one of its causes) says the address was in use: Spark's `Utils.isBindCollision`. */
export function isBindCollision(err: unknown): boolean {
  for (let e = err, depth = 0; typeof e === 'object' && e !== null && depth < 8; e = (e as Error).cause, depth++) {
    if ((e as NodeJS.ErrnoException).code === 'EADDRINUSE') return true;
  }
  return false;
}

/**
 * `bind(port)` on `startPort`, then on the next ports while each is in use, `maxRetries` times at most.
 * Resolves with what the first successful bind returned; rejects with that bind's error when it failed for
 * another reason than a taken port, or with a PortInUseError naming the first and last port tried and
 * `flint.port.maxRetries` when all were taken. `bind` must release whatever it opened before it rejects.
 */
export async function listenWithRetries<T>(startPort: number, bind: (port: number) => Promise<T>, options: ListenWithRetriesOptions): Promise<T> {
  if (!Number.isInteger(startPort) || startPort < 0 || startPort > MAX_PORT) {
    throw new RangeError(`${options.serviceName}: port ${startPort} is not 0 (any free port) or 1 to ${MAX_PORT}`);
  }
  const attempts = startPort === 0 ? 1 : options.maxRetries + 1;
  for (let offset = 0; ; offset++) {
    const port = portAfter(startPort, offset);
    try {
      return await bind(port);
    } catch (err) {
      if (!isBindCollision(err)) throw err;
      if (offset + 1 >= attempts) {
        throw new PortInUseError(
          `${options.serviceName} could not bind: ${describeTried(startPort, port, attempts)} in use. ` +
            `Set a free port for it, or raise flint.port.maxRetries (now ${options.maxRetries}) to try more ports`,
          startPort,
          port,
          { cause: err },
        );
      }
      options.logger?.warn(
        { service: options.serviceName, port, next: portAfter(startPort, offset + 1) },
        `${options.serviceName} could not bind port ${port} (in use); trying the next port`,
      );
    }
  }
}

function describeTried(first: number, last: number, attempts: number): string {
  if (attempts === 1) return first === 0 ? 'no free port was' : `port ${first} was`;
  return `every port from ${first} to ${last} (${attempts} ports) was`;
}
