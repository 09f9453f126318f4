// The UI server's gate: which request gets in (login URL, session cookie, bearer token) and which POST may
// act (Origin/Referer and the session's CSRF token). The policy is in docs/security.md, "The web UIs"; the
// tokens and sessions are in ui-auth.ts.
//
// In Spark this is the job of the servlet filters `JettyUtils` installs in front of every UI handler
// (`spark.ui.filters`) and of `SecurityManager.checkUIViewPermissions`/`checkModifyPermissions`; Spark's own
// CSRF defence is to accept kill actions only as POST (`spark.ui.killEnabled`). Here every POST also needs a
// same-origin request and, from a browser session, the session's CSRF token.

import type { FastifyReply, FastifyRequest } from 'fastify';
import { LogLimiter } from '../../util/log-limiter.ts';
import { truncateForLog, type Logger } from '../../util/logger.ts';
import { secretsEqual, TICKET_TTL_MS, verifyTicket, type SessionStore, type UiSession } from './ui-auth.ts';

/** How a request got in. `open`: the UI has no token, anyone who reaches it gets in. */
export type UiAccess = { readonly kind: 'open' } | { readonly kind: 'bearer' } | { readonly kind: 'session'; readonly session: UiSession };

/** Paths that answer without a login: probes for load balancers and service managers. */
export const OPEN_PATHS: ReadonlySet<string> = new Set(['/healthz', '/readyz']);

/** A refusal: the status, and the sentence a person or a script is shown. */
export interface Refusal {
  readonly status: 401 | 403;
  readonly reason: string;
}

export interface UiGuardOptions {
  /** The UI token; undefined leaves the UI open. */
  readonly token: string | undefined;
  readonly sessions: SessionStore;
  /** The session cookie's name (it holds the bound port, known once the server listens). */
  readonly cookieName: () => string;
  /** The server speaks TLS: the cookie is Secure and a same-origin request says https. */
  readonly tls: boolean;
  /** The static files' route prefix: they (the UI's CSS and JS) answer without a login, holding no cluster state. */
  readonly staticPrefix: string | undefined;
  readonly logger: Logger;
  /** Sends a refusal in the request's format (an HTML page or JSON). */
  readonly refuse: (request: FastifyRequest, reply: FastifyReply, refusal: Refusal) => FastifyReply;
}

/** `raw` (a request target) split into its path, with leading slashes and backslashes folded to one `/`, and its query. */
export function splitTarget(raw: string): { path: string; query: URLSearchParams } {
  const at = raw.indexOf('?');
  const path = (at < 0 ? raw : raw.slice(0, at)).replace(/^[/\\]+/, '/');
  return { path: path.startsWith('/') ? path : `/${path}`, query: new URLSearchParams(at < 0 ? '' : raw.slice(at + 1)) };
}

export class UiGuard {
  readonly #options: UiGuardOptions;
  readonly #access = new WeakMap<FastifyRequest, UiAccess>();
  /** Anyone who reaches the port can trigger the warnings: they go through a LogLimiter. */
  readonly #limiter: LogLimiter;
  /** Tickets already taken (by nonce) with when they expire: each lets in one browser, once. Bounded. */
  readonly #usedTickets = new Map<string, number>();

  constructor(options: UiGuardOptions) {
    this.#options = options;
    this.#limiter = new LogLimiter(options.logger);
  }

  /** How `request` got in; undefined for the open paths and static files, which need no access. */
  access(request: FastifyRequest): UiAccess | undefined {
    return this.#access.get(request);
  }

  /** onRequest: lets the request in, starts a session from a login URL (and redirects), or refuses it. */
  async admit(request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply | undefined> {
    // Decided on the route that matched, not on the path as sent: `/static/../json` matched the static
    // route (which refuses it), and an unmatched path needs a login before it learns that it is a 404.
    const route = request.routeOptions.url;
    if (route !== undefined && (OPEN_PATHS.has(route) || (this.#options.staticPrefix !== undefined && route.startsWith(this.#options.staticPrefix)))) {
      return undefined;
    }
    const { path, query } = splitTarget(request.url);
    const token = this.#options.token;
    if (token === undefined) {
      this.#access.set(request, { kind: 'open' });
      return undefined;
    }
    const offered = query.get('token');
    if (offered !== null && (request.method === 'GET' || request.method === 'HEAD')) return this.#login(request, reply, token, offered, path, query);
    const ticket = query.get('ticket');
    if (ticket !== null && (request.method === 'GET' || request.method === 'HEAD')) return this.#loginWithTicket(request, reply, token, ticket, path, query);
    const authorization = request.headers.authorization;
    if (authorization !== undefined) {
      const bearer = /^Bearer +(\S+) *$/i.exec(authorization);
      if (bearer === null || !secretsEqual(token, bearer[1] as string)) {
        return this.#options.refuse(request, reply, { status: 401, reason: 'The Authorization header does not carry this UI\'s token (expected "Bearer <token>").' });
      }
      this.#access.set(request, { kind: 'bearer' });
      return undefined;
    }
    const cookie = request.cookies[this.#options.cookieName()];
    const session = cookie === undefined ? undefined : this.#options.sessions.find(cookie);
    if (session === undefined) {
      const reason = cookie === undefined ? 'This UI needs a login.' : 'Your session has expired or was ended (the daemon may have restarted); log in again.';
      return this.#options.refuse(request, reply, { status: 401, reason });
    }
    this.#access.set(request, { kind: 'session', session });
    return undefined;
  }

  #login(request: FastifyRequest, reply: FastifyReply, token: string, offered: string, path: string, query: URLSearchParams): FastifyReply {
    if (!secretsEqual(token, offered)) {
      this.#limiter.warn('a web UI login with a wrong token', { remote: request.ip }, 'a web UI login with a wrong token');
      return this.#options.refuse(request, reply, { status: 401, reason: 'The token in this URL is not this UI\'s token.' });
    }
    query.delete('token');
    return this.#startSession(request, reply, path, query);
  }

  /** A ticket from another UI of the cluster (ui-auth.ts `issueTicket`): a login, once, within its minute. */
  #loginWithTicket(request: FastifyRequest, reply: FastifyReply, token: string, ticket: string, path: string, query: URLSearchParams): FastifyReply {
    const now = Date.now();
    for (const [nonce, expires] of this.#usedTickets) if (expires <= now) this.#usedTickets.delete(nonce);
    const nonce = verifyTicket(token, ticket, now);
    if (nonce === undefined || this.#usedTickets.has(nonce) || this.#usedTickets.size >= 10_000) {
      this.#limiter.warn('a web UI login with a bad or used ticket', { remote: request.ip }, 'a web UI login with a bad or used ticket');
      return this.#options.refuse(request, reply, {
        status: 401,
        reason: 'This link\'s ticket has expired or was used already (they last a minute). Go back and follow the link again, or log in with this daemon\'s login URL.',
      });
    }
    this.#usedTickets.set(nonce, now + TICKET_TTL_MS + 5_000);
    query.delete('ticket');
    return this.#startSession(request, reply, path, query);
  }

  #startSession(request: FastifyRequest, reply: FastifyReply, path: string, query: URLSearchParams): FastifyReply {
    const session = this.#options.sessions.create();
    reply.setCookie(this.#options.cookieName(), session.id, {
      path: '/',
      httpOnly: true,
      sameSite: 'strict',
      secure: this.#options.tls,
      maxAge: Math.floor(this.#options.sessions.timeoutMs / 1000),
    });
    this.#options.logger.info({ remote: request.ip, sessions: this.#options.sessions.size }, 'a web UI login started a session');
    const rest = query.toString();
    // `path` has one leading slash, so the Location cannot name another host (`//evil.example`).
    return reply.code(303).header('location', rest === '' ? path : `${path}?${rest}`).send();
  }

  /**
   * preHandler of POST routes: the request must come from this server's own pages (Origin, else Referer, when
   * the browser sends one) and, when it got in with a session cookie, carry that session's CSRF token. A bearer
   * token cannot be sent by another site's page, so bearer requests need no CSRF token.
   */
  async checkPost(request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply | undefined> {
    const problem = this.#originProblem(request) ?? this.#csrfProblem(request);
    if (problem === undefined) return undefined;
    this.#limiter.warn('a web UI POST was refused', { remote: request.ip, path: splitTarget(request.url).path, problem }, 'a web UI POST was refused');
    return this.#options.refuse(request, reply, { status: 403, reason: problem });
  }

  #originProblem(request: FastifyRequest): string | undefined {
    const scheme = this.#options.tls ? 'https' : 'http';
    const ours = hostOf(`${scheme}://${request.headers.host ?? ''}`);
    for (const header of ['origin', 'referer'] as const) {
      const value = request.headers[header];
      if (value === undefined) continue;
      const theirs = value.startsWith(`${scheme}://`) ? hostOf(value) : undefined;
      if (ours === undefined || theirs !== ours) {
        const name = header === 'origin' ? 'Origin' : 'Referer';
        return `The ${name} header (${truncateForLog(value, 100)}) is not this server (${scheme}://${request.headers.host ?? '?'}): a POST must come from this UI's own pages.`;
      }
      return undefined; // Origin, when present, decides; Referer only stands in for it.
    }
    return undefined;
  }

  #csrfProblem(request: FastifyRequest): string | undefined {
    const access = this.#access.get(request);
    if (access?.kind !== 'session') return undefined;
    const header = request.headers['x-csrf-token'];
    const field = (request.body as Record<string, unknown> | undefined)?.['csrfToken'];
    const offered = typeof header === 'string' ? header : typeof field === 'string' ? field : undefined;
    if (offered === undefined) return 'This POST carries no CSRF token: send the page\'s csrfToken form field or an X-CSRF-Token header.';
    if (!secretsEqual(access.session.csrfToken, offered)) return 'The CSRF token of this POST is not this session\'s.';
    return undefined;
  }
}

function hostOf(url: string): string | undefined {
  try {
    return new URL(url).host.toLowerCase();
  } catch {
    return undefined;
  }
}
