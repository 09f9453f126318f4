// A small HTTP server for the daemons' UI ports: exact-path routes answered with JSON.
//
// Unknown paths get 404 and wrong methods 405, each with a JSON body naming what was wrong. A handler that
// throws gets a 500 with a generic body (the details go to the log, not to the client). HEAD is answered
// for every GET route. No route here starts a process.
//
// With `tls` (flint.ssl.ui.*, see src/io/tls/ssl-options.ts) the server speaks HTTPS only, and with
// needClientAuth it asks every client for a certificate signed by a trusted CA. URLs given out for the port
// must then say https (`urlScheme`).

import type { IncomingMessage, Server, ServerResponse } from 'node:http';

// `import … from 'node:http'` makes Node build the module's ESM namespace, which touches its lazy getters and
// loads undici (fetch) too: 20–45 ms of every daemon's start. The CommonJS object avoids that.
const { createServer } = process.getBuiltinModule('node:http');
import type { Logger } from '../../util/logger.ts';
import type { SslOptions } from '../tls/ssl-options.ts';

export interface HttpResult {
  readonly status: number;
  readonly body: unknown;
  readonly headers?: Readonly<Record<string, string>>;
}

export type HttpHandler = (req: IncomingMessage, url: URL) => HttpResult | Promise<HttpResult>;

export interface HttpRoute {
  readonly method: 'GET' | 'POST';
  readonly path: string;
  readonly handler: HttpHandler;
}

export interface StartedHttpServer {
  readonly server: Server;
  readonly port: number;
  /** `https` when the server speaks TLS. */
  readonly scheme: 'http' | 'https';
  close(): Promise<void>;
}

const SECURITY_HEADERS = {
  'x-content-type-options': 'nosniff',
  'cache-control': 'no-store',
} as const;

export function json(status: number, body: unknown): HttpResult {
  return { status, body };
}

/** `https` with TLS settings, `http` without: the scheme of URLs that name a server started with them. */
export function urlScheme(tls: SslOptions | undefined): 'http' | 'https' {
  return tls === undefined ? 'http' : 'https';
}

/**
 * Node's HTTP server for `handler`, or its HTTPS server with `tls` (asking clients for a certificate with
 * needClientAuth), with the timeouts every UI port keeps: 5 s keep-alive, 10 s for the headers, 30 s for a request.
 */
export function createNodeServer(handler: (req: IncomingMessage, res: ServerResponse) => void, { tls, logger }: { tls: SslOptions | undefined; logger: Logger }): Server {
  const server: Server =
    tls === undefined
      ? createServer(handler)
      : process.getBuiltinModule('node:https').createServer(
          { ...tls.secureContext, requestCert: tls.needClientAuth, rejectUnauthorized: tls.needClientAuth },
          handler,
        );
  // A browser that does not trust the certificate hangs up mid-handshake: worth a debug line, not a warning.
  server.on('tlsClientError', (err: Error) => logger.debug({ err: err.message }, 'an HTTPS client failed the TLS handshake'));
  server.keepAliveTimeout = 5_000;
  server.headersTimeout = 10_000;
  server.requestTimeout = 30_000;
  return server;
}

/** Listens on `host:port`; on failure (a taken port) rejects with the error, the server closed. */
export function listenOn(server: Server, host: string, port: number): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const failed = (err: Error): void => {
      server.close();
      reject(err);
    };
    server.once('error', failed);
    server.listen(port, host, () => {
      server.off('error', failed);
      resolve();
    });
  });
}

export async function startHttpServer(
  routes: readonly HttpRoute[],
  { host, port, logger, tls }: { host: string; port: number; logger: Logger; tls?: SslOptions | undefined },
): Promise<StartedHttpServer> {
  const server = createNodeServer((req, res) => void serve(routes, req, res, logger), { tls, logger });
  await listenOn(server, host, port);
  const address = server.address();
  const bound = typeof address === 'object' && address !== null ? address.port : port;
  return {
    server,
    port: bound,
    scheme: urlScheme(tls),
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

async function serve(routes: readonly HttpRoute[], req: IncomingMessage, res: ServerResponse, logger: Logger): Promise<void> {
  let url: URL;
  try {
    url = new URL(req.url ?? '/', 'http://localhost');
  } catch {
    send(res, req, { status: 400, body: { error: 'malformed request URL' } });
    return;
  }
  const method = req.method === 'HEAD' ? 'GET' : req.method;
  const onPath = routes.filter((r) => r.path === url.pathname);
  const route = onPath.find((r) => r.method === method);
  if (route === undefined) {
    if (onPath.length === 0) send(res, req, { status: 404, body: { error: `no such path: ${url.pathname}` } });
    else {
      const allowed = onPath.map((r) => r.method).join(', ');
      send(res, req, { status: 405, body: { error: `${req.method} is not allowed on ${url.pathname}; use ${allowed}` }, headers: { allow: allowed } });
    }
    return;
  }
  try {
    send(res, req, await route.handler(req, url));
  } catch (err) {
    logger.error({ path: url.pathname, err: (err as Error).message }, 'an HTTP handler failed');
    send(res, req, { status: 500, body: { error: 'internal error; see the daemon log' } });
  }
}

function send(res: ServerResponse, req: IncomingMessage, result: HttpResult): void {
  const text = typeof result.body === 'string' ? result.body : JSON.stringify(result.body, null, 2);
  const type = typeof result.body === 'string' ? 'text/plain; charset=utf-8' : 'application/json; charset=utf-8';
  res.writeHead(result.status, {
    ...SECURITY_HEADERS,
    'content-type': type,
    'content-length': Buffer.byteLength(text),
    ...result.headers,
  });
  res.end(req.method === 'HEAD' ? undefined : text);
}
