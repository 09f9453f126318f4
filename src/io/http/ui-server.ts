// The web UI server of the master, the workers and the drivers: Spark's `WebUI.bind` on `JettyUtils.startJettyServer`,
// on fastify. It replaces startHttpServer (http-server.ts) for the UI ports.
//
// What every server does, whatever routes its daemon registers (ui-routes.ts):
// - binds `port`, or the next free one up to `flint.port.maxRetries` more (port-retry.ts, Spark's
//   `Utils.startServiceOnPort`); with `tls` (flint.ssl.ui.*) it speaks HTTPS only, as startHttpServer does;
// - lets a request in only with a login session or the bearer token when the UI has a token, and checks every
//   POST's origin and CSRF token (ui-guard.ts; docs/security.md, "The web UIs"); /healthz and /readyz and the
//   static files stay open;
// - sends @fastify/helmet's headers with a Content-Security-Policy that allows only this server's own scripts,
//   styles, images and connections, no framing and no referrer; dynamic answers are `Cache-Control: no-store`;
// - answers unknown paths 404 (a page, or JSON for API paths), wrong methods 405 with Allow, bodies over
//   `maxBodyBytes` 413, a failing handler 500 with a generic body (the details go to the log), more event
//   streams than `maxEventStreams` 503;
// - logs through the daemon's logger only: fastify's own logger is off, and no line holds a query string, a
//   header, a cookie, the token or the secret.

import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { Logger } from '../../util/logger.ts';
import type { SslOptions } from '../tls/ssl-options.ts';
import { createNodeServer, listenOn, urlScheme } from './http-server.ts';
import { DEFAULT_PORT_MAX_RETRIES, listenWithRetries } from './port-retry.ts';
import { DEFAULT_HEARTBEAT_MS, DEFAULT_MAX_EVENT_STREAMS, SseLimiter, openSseStream } from './sse.ts';
import { SessionStore, type UiAuthSettings } from './ui-auth.ts';
import { UiGuard, splitTarget } from './ui-guard.ts';
import { addMethodNotAllowedRoutes, routeKind, sendDownload, sendProblem, sendResult, sendText, type UiRequest, type UiRoute } from './ui-routes.ts';

export type { UiDownload, UiRequest, UiRoute, UiText } from './ui-routes.ts';
export { UiReply } from './ui-routes.ts';

/** Largest request body accepted (forms and JSON actions are small). */
export const DEFAULT_MAX_BODY_BYTES = 64 * 1024;
/** The path under which `staticDir`'s files are served. */
export const STATIC_PREFIX = '/static/';

export interface UiServerOptions {
  /** For log lines and errors: `master web UI`, `worker web UI`, … */
  readonly serviceName: string;
  readonly host: string;
  /** Host in the URLs given out (the login URL), when it differs from the bind host (0.0.0.0). Default `host`. */
  readonly publicHost?: string;
  /** The first port to try; 0 picks any free port. */
  readonly port: number;
  /** `flint.port.maxRetries` (readPortMaxRetries): ports tried after `port` while each is in use. Default 16. */
  readonly maxRetries?: number;
  readonly tls?: SslOptions | undefined;
  readonly logger: Logger;
  /** readUiAuthSettings: the token (undefined: an open UI) and the session timeout. */
  readonly auth: UiAuthSettings;
  readonly routes: readonly UiRoute[];
  /** A directory whose files are served under /static/ (the pages' CSS and JS), open to all. */
  readonly staticDir?: string;
  readonly maxBodyBytes?: number;
  readonly maxEventStreams?: number;
  readonly heartbeatMs?: number;
  /**
   * bindUiServer only: the first request starts the build when the caller has not (a driver's UI, which most
   * applications run without anyone looking at: docs/ui.md, "Ports").
   */
  readonly buildOnFirstRequest?: boolean;
  readonly maxSessions?: number;
  /** The clock of session expiry; Date.now by default. */
  readonly now?: () => number;
}

export interface StartedUiServer {
  readonly port: number;
  readonly scheme: 'http' | 'https';
  /** `scheme://publicHost:port`: the UI's address without a token. */
  readonly url: string;
  /**
   * `url` + `/?token=<token>`: the URL that logs a browser in, for the daemon to print once when it starts.
   * Undefined for an open UI. It is a credential: it goes nowhere else (not in this server's log lines).
   */
  readonly loginUrl: string | undefined;
  /** The event streams open now. */
  readonly openEventStreams: number;
  close(): Promise<void>;
}

/** A UI server whose port is bound and whose routes may still be being built (bindUiServer). */
export interface BoundUiServer extends StartedUiServer {
  /**
   * Builds the routes, once (a second call returns the first call's promise); until they are built requests
   * wait (at most MAX_EARLY_REQUESTS of them; more get 503). Rejects when building fails, after the port is
   * closed, or when the server was closed before.
   */
  build(): Promise<void>;
}

/** Static files whose name holds a content hash (`app.3f9a1c2b.js`) never change under that name. */
const HASHED_NAME = /[.-][0-9a-f]{8,}\.[a-z0-9]+$/i;

/** Requests held while the routes are built; past this many, a request is answered 503 at once. */
const MAX_EARLY_REQUESTS = 64;

type NodeHandler = (req: IncomingMessage, res: ServerResponse) => void;

/** Binds the port, builds the routes, then resolves: what the master and the workers use. */
export async function startUiServer(options: UiServerOptions): Promise<StartedUiServer> {
  const server = await bindUiServer(options);
  await server.build();
  return server;
}

/**
 * Binds the port first (with its retries) and builds the fastify app behind it later: the address is known in
 * the time of a `listen`, where loading fastify and building the app (its plugins and routes) takes 140–250 ms of
 * CPU on a 2-vCPU machine. The routes are built when `build()` is called (the master calls it once it has
 * started), or with `buildOnFirstRequest` when the first request comes (the workers' and the drivers' UIs:
 * docs/ui.md, "Ports"). Requests that come before the routes are ready wait for them.
 */
export async function bindUiServer(options: UiServerOptions): Promise<BoundUiServer> {
  const sessions = new SessionStore({ timeoutMs: options.auth.sessionTimeoutMs, maxSessions: options.maxSessions, now: options.now });
  const scheme = urlScheme(options.tls);
  let handle: NodeHandler | undefined;
  const early: Array<[IncomingMessage, ServerResponse]> = [];
  let served: Promise<void> | undefined;
  let build: () => Promise<void> = () => Promise.reject(new Error('not bound yet'));
  const dispatch: NodeHandler = (req, res) => {
    if (handle !== undefined) handle(req, res);
    else if (early.length < MAX_EARLY_REQUESTS) {
      early.push([req, res]);
      if (options.buildOnFirstRequest === true && served === undefined) {
        void build().catch((err: unknown) => options.logger.error({ service: options.serviceName, err: String(err) }, `${options.serviceName} could not be built`));
      }
    } else res.writeHead(503, { 'retry-after': '1', 'content-type': 'text/plain; charset=utf-8' }).end('the web UI is starting; retry\n');
  };
  const server = await listenWithRetries(
    options.port,
    async (port) => {
      const candidate = createNodeServer(dispatch, { tls: options.tls, logger: options.logger });
      await listenOn(candidate, options.host, port);
      return candidate;
    },
    { serviceName: options.serviceName, maxRetries: options.maxRetries ?? DEFAULT_PORT_MAX_RETRIES, logger: options.logger },
  );
  const address = server.address();
  const port = typeof address === 'object' && address !== null ? address.port : options.port;
  const host = options.publicHost ?? options.host;
  const url = `${scheme}://${host.includes(':') ? `[${host}]` : host}:${port}`;
  const token = options.auth.token;
  let app: BuiltApp | undefined;
  const closeServer = async (): Promise<void> => {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  };
  // Building is CPU work of tens of milliseconds that would hold up the caller's own network round trips (a
  // driver's registration): the caller starts it (build).
  let closed = false;
  const serve = async (): Promise<void> => {
    try {
      if (closed) throw new Error(`${options.serviceName} was closed before it was built`);
      const built = await buildApp(options, sessions, port, server);
      await built.instance.ready();
      app = built;
      handle = built.handler;
      options.logger.info({ service: options.serviceName, url, login: token === undefined ? 'open' : 'token' }, `${options.serviceName} listening`);
      for (const [req, res] of early.splice(0)) built.handler(req, res);
    } catch (err) {
      for (const [, res] of early.splice(0)) res.writeHead(503).end();
      await closeServer();
      throw err;
    }
  };
  build = () => (served ??= serve());
  return {
    port,
    scheme,
    url,
    loginUrl: token === undefined ? undefined : `${url}/?token=${encodeURIComponent(token)}`,
    build,
    get openEventStreams() {
      return app?.streams.open ?? 0;
    },
    close: async () => {
      closed = true;
      await served?.catch(() => {});
      app?.streams.closeAll();
      await app?.instance.close();
      await closeServer();
      sessions.clear();
    },
  };
}

interface BuiltApp {
  readonly instance: FastifyInstance;
  readonly streams: SseLimiter;
  /** fastify's request handler, given to the bound server once the app is ready. */
  readonly handler: NodeHandler;
}

/**
 * Browsers keep cookies per host, not per port, so the master's and a worker's UI on one machine would
 * overwrite each other's session cookie under one name.
 */
function cookieName(port: number): string {
  return `flint-ui-session-${port}`;
}

async function buildApp(options: UiServerOptions, sessions: SessionStore, port: number, server: Server): Promise<BuiltApp> {
  // fastify and its plugins, imported on the first build: a worker starts without them (about 2 MB of modules,
  // ajv and fast-json-stringify among them), and a driver whose UI nobody opens never loads them. The master has
  // them loaded already (master-daemon.ts).
  const { fastify, fastifyCookie, fastifyFormbody, fastifyHelmet, fastifyStatic } = await import('./fastify-modules.ts');
  const { logger } = options;
  const maxBodyBytes = options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
  let handler: NodeHandler | undefined;
  // fastify serves the server bound already: it never listens or closes it itself (bindUiServer does).
  const app = fastify({
    logger: false,
    bodyLimit: maxBodyBytes,
    serverFactory: (fastifyHandler) => {
      handler = fastifyHandler;
      return server;
    },
  });
  const streams = new SseLimiter(options.maxEventStreams ?? DEFAULT_MAX_EVENT_STREAMS);
  const guard = new UiGuard({
    token: options.auth.token,
    sessions,
    cookieName: () => cookieName(port),
    tls: options.tls !== undefined,
    staticPrefix: options.staticDir === undefined ? undefined : STATIC_PREFIX,
    logger,
    refuse: (request, reply, refusal) => sendProblem(request, reply, refusal.status, refusal.reason),
  });
  await app.register(fastifyHelmet, HELMET_OPTIONS);
  await app.register(fastifyCookie);
  await app.register(fastifyFormbody, { bodyLimit: maxBodyBytes });
  app.addHook('onRequest', (request, reply) => guard.admit(request, reply));
  app.addHook('onSend', async (_request, reply, payload) => {
    if (!reply.hasHeader('cache-control')) reply.header('cache-control', 'no-store');
    return payload;
  });
  app.addHook('onResponse', async (request, reply) => {
    logger.debug({ method: request.method, path: splitTarget(request.url).path, status: reply.statusCode, ms: Math.round(reply.elapsedTime) }, 'web UI request');
  });
  app.setNotFoundHandler((request, reply) => sendProblem(request, reply, 404, `no such path: ${splitTarget(request.url).path}`));
  app.setErrorHandler((err: FastifyError, request, reply) => answerError(err, request, reply, { logger, maxBodyBytes }));
  if (options.staticDir !== undefined) {
    await app.register(fastifyStatic, {
      root: options.staticDir,
      prefix: STATIC_PREFIX,
      cacheControl: false,
      dotfiles: 'deny',
      index: false,
      list: false,
      setHeaders: (reply, path) => void reply.header('cache-control', HASHED_NAME.test(path) ? 'public, max-age=31536000, immutable' : 'no-cache'),
    });
  }
  const toRequest = (request: FastifyRequest): UiRequest => {
    const { path, query } = splitTarget(request.url);
    query.delete('token');
    const access = guard.access(request);
    return {
      path,
      params: (request.params ?? {}) as Record<string, string>,
      query,
      body: request.body,
      csrfToken: access?.kind === 'session' ? access.session.csrfToken : undefined,
      access: access?.kind ?? 'open',
    };
  };
  for (const route of options.routes) registerRoute(app, route, { toRequest, guard, streams, logger, heartbeatMs: options.heartbeatMs ?? DEFAULT_HEARTBEAT_MS });
  addMethodNotAllowedRoutes(app, options.routes);
  if (handler === undefined) throw new Error('fastify did not call its serverFactory');
  return { instance: app, streams, handler };
}

/** The headers of docs/security.md, "The web UIs". No HSTS: it would hold for every port of the host. */
const HELMET_OPTIONS = {
  contentSecurityPolicy: {
    useDefaults: false,
    directives: {
      defaultSrc: ["'self'"],
      scriptSrc: ["'self'"],
      styleSrc: ["'self'"],
      imgSrc: ["'self'", 'data:'],
      connectSrc: ["'self'"],
      fontSrc: ["'self'"],
      objectSrc: ["'none'"],
      baseUri: ["'none'"],
      formAction: ["'self'"],
      frameAncestors: ["'none'"],
    },
  },
  frameguard: { action: 'deny' as const },
  // same-origin, not no-referrer: under no-referrer Chromium sends `Origin: null` with a page's own form POSTs, which
  // the same-origin check (ui-guard.ts) must then refuse (test/ui/web-ui.test.ts found it). same-origin still sends
  // nothing to any other site: a page's URL (with a log's offset, say) never leaves the UI.
  referrerPolicy: { policy: 'same-origin' as const },
  strictTransportSecurity: false,
  global: true,
};

interface RouteContext {
  readonly toRequest: (request: FastifyRequest) => UiRequest;
  readonly guard: UiGuard;
  readonly streams: SseLimiter;
  readonly logger: Logger;
  readonly heartbeatMs: number;
}

function registerRoute(app: FastifyInstance, route: UiRoute, ctx: RouteContext): void {
  const config = { uiKind: route.kind };
  switch (route.kind) {
    case 'page':
      app.get(route.path, { config }, async (request, reply) => sendResult(reply, await route.handler(ctx.toRequest(request)), 'page'));
      return;
    case 'json':
      app.get(route.path, { config }, async (request, reply) => sendResult(reply, await route.handler(ctx.toRequest(request)), 'json'));
      return;
    case 'action':
      app.post(route.path, { config, preHandler: (request, reply) => ctx.guard.checkPost(request, reply) }, async (request, reply) =>
        sendResult(reply, await route.handler(ctx.toRequest(request)), 'json'),
      );
      return;
    case 'events':
      app.get(route.path, { config, exposeHeadRoute: false }, (request, reply) => serveEvents(route.handler, request, reply, ctx));
      return;
    case 'download':
      app.get(route.path, { config, exposeHeadRoute: false }, async (request, reply) => sendDownload(reply, await route.handler(ctx.toRequest(request))));
      return;
    case 'text':
      app.get(route.path, { config }, async (request, reply) => sendText(reply, await route.handler(ctx.toRequest(request))));
      return;
  }
}

async function serveEvents(
  handler: Extract<UiRoute, { kind: 'events' }>['handler'],
  request: FastifyRequest,
  reply: FastifyReply,
  ctx: RouteContext,
): Promise<FastifyReply> {
  if (!ctx.streams.hasRoom()) {
    reply.header('retry-after', '5');
    return sendProblem(request, reply, 503, `this server has ${ctx.streams.max} event streams open, its most; close a page that follows it and retry`);
  }
  const opened = openSseStream({ heartbeatMs: ctx.heartbeatMs, logger: ctx.logger, onEnded: () => ctx.streams.delete(opened.stream) });
  ctx.streams.add(opened.stream);
  // The response's 'close' comes when the client goes away. fastify then destroys the body too, which closes the
  // stream as well; closing twice is a no-op, and this does not depend on that.
  reply.raw.once('close', () => opened.stream.close());
  try {
    await handler(ctx.toRequest(request), opened.stream);
  } catch (err) {
    opened.stream.close();
    throw err;
  }
  return reply
    .header('content-type', 'text/event-stream; charset=utf-8')
    .header('cache-control', 'no-store')
    .header('x-accel-buffering', 'no')
    .send(opened.body);
}

function answerError(err: FastifyError, request: FastifyRequest, reply: FastifyReply, ctx: { logger: Logger; maxBodyBytes: number }): FastifyReply {
  const status = err.statusCode ?? 500;
  if (status === 413) return sendProblem(request, reply, 413, `the request body is over ${ctx.maxBodyBytes} bytes, the most this server reads`);
  if (status === 415) return sendProblem(request, reply, 415, 'send a form (application/x-www-form-urlencoded) or JSON (application/json)');
  if (status === 403 || status === 404) return sendProblem(request, reply, status, status === 403 ? 'this file may not be served' : 'no such file');
  if (status >= 400 && status < 500) return sendProblem(request, reply, 400, err.message);
  ctx.logger.error(
    { path: splitTarget(request.url).path, kind: routeKind(request), err: err.message, stack: err.stack },
    'a web UI handler failed',
  );
  return sendProblem(request, reply, 500, 'internal error; see the daemon log');
}
