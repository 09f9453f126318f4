// Who may use a web UI: the UI token, login sessions and CSRF tokens (docs/security.md, "The web UIs").
//
// Spark guards its UIs with servlet filters and ACLs (`SecurityManager.checkUIViewPermissions`, `spark.ui.filters`)
// and leaves the login itself to a filter the operator brings. Flint logs in the way Jupyter does: the daemon
// prints a login URL holding the UI token once; opening it starts a session kept in this process, named by a
// random id in a cookie, and the browser is sent on to the same URL without the token. Scripts send the token
// as `Authorization: Bearer <token>` instead.
//
// The UI token is `flint.ui.token` when set, else derived from the secret the process holds (the cluster secret
// for masters and workers) with its own HMAC label (rpc/auth.ts `deriveKey(secret, 'ui', 'token')`): knowing
// the token gives the UI, never the secret, and the secret itself never appears in a URL, cookie, header or log
// line. Every token, session id and CSRF token is compared in constant time.

import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { FlintConf } from '../../conf/flint-conf.ts';
import { ConfigError } from '../../errors.ts';
import { deriveKey } from '../../rpc/auth.ts';

/** `flint.ui.token`'s shortest accepted length: a token in a URL must not be guessable. */
export const MIN_UI_TOKEN_CHARS = 16;
/** Sessions kept at once per server; past it the oldest is ended (its browser logs in again). */
export const DEFAULT_MAX_SESSIONS = 1000;

export interface UiAuthSettings {
  /**
   * The UI token, or undefined when the UI is OPEN: with neither a secret nor `flint.ui.token`, anyone who can
   * reach the port may see and do everything the UI offers, as anyone may use the RPC port of such a cluster.
   */
  readonly token: string | undefined;
  /** Where the token comes from, for the log line that announces the login URL. */
  readonly tokenSource: 'flint.ui.token' | 'derived from the secret' | undefined;
  /** `flint.ui.session.timeout` (12h): a session ends this long after its login, used or not. */
  readonly sessionTimeoutMs: number;
}

/** The token derived from `secret`: HMAC-SHA256(secret, "flint-ui-key" ‖ "token"), base64url. */
export function deriveUiToken(secret: string): string {
  return deriveKey(secret, 'ui', 'token');
}

/**
 * Reads `flint.ui.token` and `flint.ui.session.timeout`. `secret` is the secret this process holds, as
 * `readRpcSettings(conf)` read it: `.secret` (set iff flint.authenticate=true) for masters and workers,
 * `.appSecret` for a driver. Undefined with no `flint.ui.token` leaves the UI open.
 */
export function readUiAuthSettings(conf: FlintConf, secret: string | undefined): UiAuthSettings {
  const sessionTimeoutMs = conf.getDurationMs('flint.ui.session.timeout', '12h', 's');
  if (sessionTimeoutMs < 1000) throw new ConfigError('flint.ui.session.timeout', 'flint.ui.session.timeout must be at least 1s');
  const configured = conf.get('flint.ui.token');
  if (configured !== undefined) {
    if (configured.length < MIN_UI_TOKEN_CHARS || /\s/.test(configured)) {
      // The message must not quote the value: it is a credential.
      throw new ConfigError('flint.ui.token', `flint.ui.token must be at least ${MIN_UI_TOKEN_CHARS} characters with no spaces`);
    }
    return { token: configured, tokenSource: 'flint.ui.token', sessionTimeoutMs };
  }
  if (secret !== undefined) return { token: deriveUiToken(secret), tokenSource: 'derived from the secret', sessionTimeoutMs };
  return { token: undefined, tokenSource: undefined, sessionTimeoutMs };
}

function digest(text: string): Buffer {
  return createHash('sha256').update(text, 'utf8').digest();
}

/** Whether two secrets are equal, in time that does not depend on where they differ or on their lengths. */
export function secretsEqual(expected: string, actual: string): boolean {
  return timingSafeEqual(digest(expected), digest(actual));
}

function randomToken(): string {
  return randomBytes(32).toString('base64url');
}

export interface UiSession {
  /** The cookie's value: 256 random bits. Kept in the store only as its SHA-256. */
  readonly id: string;
  /** What a POST of this session must carry (form field `csrfToken` or header `X-CSRF-Token`). */
  readonly csrfToken: string;
  readonly expiresAtMs: number;
}

export interface SessionStoreOptions {
  readonly timeoutMs: number;
  readonly maxSessions?: number;
  /** The clock; Date.now by default. Tests move it to expire sessions. */
  readonly now?: () => number;
}

/**
 * Login sessions of one UI server, in memory: a restarted daemon forgets them and browsers log in again.
 * Sessions are looked up by the SHA-256 of their id, so a lookup's timing tells nothing about stored ids.
 * At most `maxSessions` live at once; a new login past that ends the oldest.
 */
export class SessionStore {
  readonly #byDigest = new Map<string, UiSession>();
  readonly #timeoutMs: number;
  readonly #maxSessions: number;
  readonly #now: () => number;

  constructor({ timeoutMs, maxSessions = DEFAULT_MAX_SESSIONS, now = Date.now }: SessionStoreOptions) {
    this.#timeoutMs = timeoutMs;
    this.#maxSessions = Math.max(1, maxSessions);
    this.#now = now;
  }

  get size(): number {
    return this.#byDigest.size;
  }

  get timeoutMs(): number {
    return this.#timeoutMs;
  }

  create(): UiSession {
    const now = this.#now();
    for (const [key, session] of this.#byDigest) if (session.expiresAtMs <= now) this.#byDigest.delete(key);
    while (this.#byDigest.size >= this.#maxSessions) {
      const oldest = this.#byDigest.keys().next().value as string;
      this.#byDigest.delete(oldest);
    }
    const session: UiSession = { id: randomToken(), csrfToken: randomToken(), expiresAtMs: now + this.#timeoutMs };
    this.#byDigest.set(digest(session.id).toString('hex'), session);
    return session;
  }

  /** The live session with this id; undefined when there is none or it expired (then it is forgotten). */
  find(id: string): UiSession | undefined {
    const key = digest(id).toString('hex');
    const session = this.#byDigest.get(key);
    if (session === undefined) return undefined;
    if (session.expiresAtMs <= this.#now()) {
      this.#byDigest.delete(key);
      return undefined;
    }
    return session;
  }

  clear(): void {
    this.#byDigest.clear();
  }
}

/**
 * How long a ticket lets a browser in: one click from one UI of the cluster to another. The UIs of one cluster
 * share their token (derived from the same secret), so a master can hand its logged-in user to a worker's pages
 * without the token itself ever appearing in a link: the master's `/goto/` answers with a redirect to the worker's
 * page carrying a fresh ticket, an HMAC of its expiry and a nonce under the token, which the worker checks (and
 * takes once) as it would the token in a login URL.
 */
export const TICKET_TTL_MS = 60_000;

/** A ticket for the UIs that share `token`, valid for TICKET_TTL_MS from `nowMs`: `<expiresMs>.<nonce>.<mac>`. */
export function issueTicket(token: string, nowMs: number): string {
  const body = `${nowMs + TICKET_TTL_MS}.${randomBytes(12).toString('base64url')}`;
  return `${body}.${ticketMac(token, body)}`;
}

/** The ticket's nonce when it was made with `token` and has not expired at `nowMs`; undefined otherwise. */
export function verifyTicket(token: string, ticket: string, nowMs: number): string | undefined {
  const match = /^(\d{1,16})\.([A-Za-z0-9_-]{16})\.([A-Za-z0-9_-]{43})$/.exec(ticket);
  if (match === null) return undefined;
  const expiresMs = Number(match[1]);
  if (expiresMs <= nowMs || expiresMs > nowMs + TICKET_TTL_MS + 5_000) return undefined;
  const body = `${match[1]}.${match[2]}`;
  return secretsEqual(ticketMac(token, body), match[3] as string) ? (match[2] as string) : undefined;
}

function ticketMac(token: string, body: string): string {
  return createHmac('sha256', token).update(`flint-ui-ticket:${body}`).digest('base64url');
}
