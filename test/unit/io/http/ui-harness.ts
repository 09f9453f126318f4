// Real UI servers on free loopback ports for the tests of src/io/http/ui-server.ts. Each describe closes its
// server in its own after() (an after() registered inside before() would run as soon as before() ends).

import { startUiServer, type StartedUiServer, type UiRoute, type UiServerOptions } from '../../../../src/io/http/ui-server.ts';
import { readUiAuthSettings } from '../../../../src/io/http/ui-auth.ts';
import { FlintConf } from '../../../../src/conf/flint-conf.ts';
import { memoryLogger, type LogLine } from '../../../../src/util/logger.ts';

export interface Harness {
  readonly server: StartedUiServer;
  readonly base: string;
  readonly log: LogLine[];
  /** fetch on this server; redirects are not followed. */
  get(path: string, init?: RequestInit): Promise<Response>;
  post(path: string, init?: RequestInit): Promise<Response>;
  /** Moves the session clock. */
  advance(ms: number): void;
}

export interface HarnessOptions extends Partial<Omit<UiServerOptions, 'routes' | 'logger' | 'now'>> {
  readonly routes: readonly UiRoute[];
  /** flint.* settings for readUiAuthSettings, and the secret the process holds. */
  readonly conf?: ReadonlyArray<[string, string]>;
  readonly secret?: string;
}

export async function startHarness(options: HarnessOptions): Promise<Harness> {
  const log = memoryLogger();
  let now = 1_000_000;
  const server = await startUiServer({
    serviceName: 'test web UI',
    host: '127.0.0.1',
    port: 0,
    auth: readUiAuthSettings(new FlintConf(options.conf ?? []), options.secret),
    ...options,
    logger: log,
    now: () => now,
  });
  const base = server.url;
  const request = (method: string) => (path: string, init: RequestInit = {}) => fetch(new URL(path, base), { redirect: 'manual', method, ...init });
  return { server, base, log: log.lines, get: request('GET'), post: request('POST'), advance: (ms) => (now += ms) };
}

/** Everything the server said: status line parts, every header and the body. */
export async function responseText(res: Response): Promise<string> {
  const headers = [...res.headers].map(([k, v]) => `${k}: ${v}`).join('\n');
  return `${res.status}\n${headers}\n\n${await res.text()}`;
}

/** Polls `condition` every 5 ms until it holds; fails after `timeoutMs`. */
export async function waitFor(condition: () => boolean, what: string, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}
