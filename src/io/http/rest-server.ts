// The REST submission gateway's HTTP server (Spark's `RestSubmissionServer` on Jetty), on fastify, on its own
// port (`flint.master.rest.port`, 6066). It does what is HTTP's and leaves the protocol to src/rest/:
//
// - every request must carry `Authorization: Bearer <token>`, where the token is derived from the application
//   secret or the cluster secret (`deriveRestToken`), compared in constant time; without it the answer is 401
//   before any body is read, so no unauthenticated request starts a process or reads the cluster's state;
// - bodies are read as text whatever their Content-Type (Spark's servlets do the same), up to `maxBodyBytes`
//   (413 past it), and parsed as JSON (400 when they are not);
// - every answer is a protocol message as Spark writes it (keys sorted, pretty-printed), `no-store`;
// - log lines hold the method, the path and the status: never a header, a token or a body.

import { timingSafeEqual, createHash } from 'node:crypto';
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { deriveKey } from '../../rpc/auth.ts';
import { renderRestJson, type RestResponse } from '../../protocol/rest-messages.ts';
import type { RestAnswer } from '../../rest/rest-responses.ts';
import { errorResponse } from '../../rest/rest-responses.ts';
import type { RestPrincipal, RestRequest } from '../../rest/rest-gateway.ts';
import type { Logger } from '../../util/logger.ts';
import type { SslOptions } from '../tls/ssl-options.ts';
import { createNodeServer, urlScheme } from './http-server.ts';
import { DEFAULT_PORT_MAX_RETRIES, listenWithRetries } from './port-retry.ts';

/** Largest create request read: a driver description is a few KiB; Spark sets no bound. */
export const DEFAULT_REST_MAX_BODY_BYTES = 1024 * 1024;

/** The bearer token of the REST gateway for `secret`: HMAC-SHA256(secret, "flint-rest-key" ‖ NUL ‖ "token"), base64url. */
export function deriveRestToken(secret: string): string {
  return deriveKey(secret, 'rest', 'token');
}

export interface RestServerOptions {
  readonly host: string;
  readonly port: number;
  readonly maxRetries?: number;
  readonly tls?: SslOptions | undefined;
  readonly logger: Logger;
  /** The cluster secret: its token proves `daemon`. */
  readonly secret: string;
  /** The application secret (the cluster secret when none is set): its token proves `app`. */
  readonly appSecret: string;
  /** Flint's version, for the ErrorResponses this server writes itself. */
  readonly serverVersion: string;
  readonly maxBodyBytes?: number;
  readonly answer: (request: RestRequest) => Promise<RestAnswer>;
}

export interface StartedRestServer {
  readonly port: number;
  readonly scheme: 'http' | 'https';
  close(): Promise<void>;
}

const digest = (text: string): Buffer => createHash('sha256').update(text, 'utf8').digest();

/** Who `authorization` proves to be, comparing against both tokens in constant time; undefined: no one. */
export function restPrincipal(authorization: string | undefined, tokens: { daemon: Buffer; app: Buffer }): RestPrincipal | undefined {
  const match = /^Bearer +(\S{1,512}) *$/i.exec(authorization ?? '');
  const given = digest(match?.[1] ?? '');
  const isDaemon = timingSafeEqual(given, tokens.daemon);
  const isApp = timingSafeEqual(given, tokens.app);
  if (match === null) return undefined;
  return isDaemon ? 'daemon' : isApp ? 'app' : undefined;
}

declare module 'fastify' {
  interface FastifyRequest {
    restPrincipal?: RestPrincipal;
  }
}

export async function startRestServer(options: RestServerOptions): Promise<StartedRestServer> {
  const { logger } = options;
  const maxBodyBytes = options.maxBodyBytes ?? DEFAULT_REST_MAX_BODY_BYTES;
  const tokens = { daemon: digest(deriveRestToken(options.secret)), app: digest(deriveRestToken(options.appSecret)) };
  const version = options.serverVersion;
  const send = (reply: FastifyReply, status: number, body: RestResponse): FastifyReply =>
    reply
      .code(status)
      .header('content-type', 'application/json;charset=UTF-8')
      .header('cache-control', 'no-store')
      .header('x-content-type-options', 'nosniff')
      .send(renderRestJson(body));
  // fastify is imported here, not at the top: a master with the gateway off (the default) never loads it.
  const { fastify } = await import('./fastify-modules.ts');
  const build = async (port: number) => {
    const app = fastify({
      logger: false,
      bodyLimit: maxBodyBytes,
      forceCloseConnections: true,
      serverFactory: (handler) => createNodeServer(handler, { tls: options.tls, logger }),
    });
    app.removeAllContentTypeParsers();
    app.addContentTypeParser('*', { parseAs: 'string', bodyLimit: maxBodyBytes }, (_request, body, done) => done(null, body));
    app.addHook('onRequest', async (request, reply) => {
      const principal = restPrincipal(request.headers.authorization, tokens);
      if (principal === undefined) {
        reply.header('www-authenticate', 'Bearer realm="flint-rest"');
        return send(reply, 401, errorResponse(version, 'Unauthorized: send Authorization: Bearer <token>, the REST token of the application or cluster secret (docs/rest.md).'));
      }
      request.restPrincipal = principal;
      return undefined;
    });
    app.addHook('onResponse', async (request, reply) => {
      logger.debug({ method: request.method, path: pathOf(request.url), status: reply.statusCode }, 'REST request');
    });
    const handle = async (request: FastifyRequest, reply: FastifyReply) => {
      const parsed = parseBody(request.body);
      if (!parsed.ok) return send(reply, 400, errorResponse(version, `Malformed request: ${parsed.message}`));
      const answer = await options.answer({ method: request.method, path: pathOf(request.url), principal: request.restPrincipal ?? 'app', body: parsed.value });
      if (answer.status >= 500) logger.warn({ path: pathOf(request.url), status: answer.status }, `REST request failed: ${'message' in answer.body ? (answer.body.message ?? '') : ''}`);
      return send(reply, answer.status, answer.body);
    };
    app.route({ method: ['GET', 'POST', 'PUT', 'DELETE', 'PATCH'], url: '/*', handler: handle });
    app.route({ method: ['GET', 'POST', 'PUT', 'DELETE', 'PATCH'], url: '/', handler: handle });
    app.setNotFoundHandler(handle);
    app.setErrorHandler((err: FastifyError, request, reply) => {
      const status = err.statusCode ?? 500;
      if (status === 413) return send(reply, 413, errorResponse(version, `Malformed request: the body is over ${maxBodyBytes} bytes, the most this gateway reads.`));
      if (status >= 400 && status < 500) return send(reply, 400, errorResponse(version, `Malformed request: ${err.message}`));
      logger.error({ path: pathOf(request.url), err: err.message }, 'a REST handler failed');
      return send(reply, 500, errorResponse(version, 'Internal server error; see the master log.'));
    });
    try {
      await app.listen({ host: options.host, port });
    } catch (err) {
      await app.close();
      throw err;
    }
    return app;
  };
  const app = await listenWithRetries(options.port, build, { serviceName: 'master REST gateway', maxRetries: options.maxRetries ?? DEFAULT_PORT_MAX_RETRIES, logger });
  const address = app.server.address();
  const port = typeof address === 'object' && address !== null ? address.port : options.port;
  return { port, scheme: urlScheme(options.tls), close: () => app.close() };
}

function pathOf(url: string): string {
  const q = url.indexOf('?');
  return q < 0 ? url : url.slice(0, q);
}

function parseBody(body: unknown): { ok: true; value: unknown } | { ok: false; message: string } {
  if (typeof body !== 'string' || body.trim() === '') return { ok: true, value: undefined };
  try {
    return { ok: true, value: JSON.parse(body) as unknown };
  } catch (err) {
    return { ok: false, message: `the body is not JSON: ${(err as Error).message.slice(0, 200)}` };
  }
}
