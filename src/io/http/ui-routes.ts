// The kinds of route a web UI registers, what their handlers return, and how each kind is answered: HTML
// pages, JSON, server-sent event streams and POST actions. Spark's counterparts are `JettyUtils.createServletHandler`
// with its `htmlResponderToServlet`/`jsonResponderToServlet`, and `WebUI.attachPage` for each `WebUIPage`.

import type { Readable } from 'node:stream';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { SafeHtml } from '../../ui/html.ts';
import { forbiddenPage, internalErrorPage, loginNeededPage, notFoundPage, plainPage } from '../../ui/plain-pages.ts';
import { html } from '../../ui/html.ts';
import type { SseStream } from './sse.ts';

/** How a request got in: with a login session, a bearer token, or to an open UI (no token configured). */
export type UiAccessKind = 'session' | 'bearer' | 'open';

/** What a handler sees of a request. */
export interface UiRequest {
  /** The path, as sent (percent-encoded). */
  readonly path: string;
  /** Named route parameters (`/app/:appId`), decoded. */
  readonly params: Readonly<Record<string, string>>;
  readonly query: URLSearchParams;
  /** POST only: the form fields (application/x-www-form-urlencoded) or the parsed JSON body. */
  readonly body: unknown;
  /**
   * The session's CSRF token, for pages to embed in each form as a hidden field named `csrfToken` (and for
   * scripts to send as `X-CSRF-Token`); undefined when the request came with a bearer token or to an open UI.
   */
  readonly csrfToken: string | undefined;
  readonly access: UiAccessKind;
}

const kReply = Symbol('flint.uiReply');

/** A response with a status other than 200, or a redirect. Made by `UiReply.json`, `.page` and `.redirect`. */
export interface UiReply {
  readonly [kReply]: true;
  readonly status: number;
  readonly json?: unknown;
  readonly html?: SafeHtml;
  readonly location?: string;
}

export const UiReply = {
  json: (status: number, body: unknown): UiReply => ({ [kReply]: true, status, json: body }),
  page: (status: number, page: SafeHtml): UiReply => ({ [kReply]: true, status, html: page }),
  /** 303 See Other to a path on this server (after a form's POST): `location` must start with one `/`. */
  redirect: (location: string): UiReply => {
    if (!/^\/(?![/\\])/.test(location)) throw new TypeError(`a UI redirect goes to a path on this server, not ${JSON.stringify(location)}`);
    return { [kReply]: true, status: 303, location };
  },
  /** 303 See Other to another UI of the cluster: an absolute http(s) URL that the caller checked is one of its. */
  elsewhere: (url: string): UiReply => {
    if (!/^https?:\/\/[^/\\]/.test(url)) throw new TypeError(`a UI redirect elsewhere goes to an http(s) URL, not ${JSON.stringify(url)}`);
    return { [kReply]: true, status: 303, location: url };
  },
};

function isUiReply(value: unknown): value is UiReply {
  return typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[kReply] === true;
}

type Awaitable<T> = T | Promise<T>;

/** A file to save: sent as `contentType` with `Content-Disposition: attachment; filename="<fileName>"`. */
export interface UiDownload {
  readonly contentType: string;
  /** Letters, digits, `.`, `_` and `-` only (it goes into a header unquoted by anything else). */
  readonly fileName: string;
  readonly body: Readable | string;
}

/** A text document shown in place (a Prometheus scrape): sent as `contentType`, with no disposition. */
export interface UiText {
  readonly contentType: string;
  readonly body: string;
}

/**
 * A route. `page`: GET, answers a whole HTML document. `json`: GET, answers its result as JSON. `events`: GET,
 * a server-sent event stream (see sse.ts). `action`: POST, form or JSON body, CSRF-checked; answers its result
 * as JSON, or a UiReply (a redirect back to a page, for forms). `download`: GET, answers a file to save (a log), streamed.
 * `text`: GET, answers a text document in place with its own content type (the Prometheus scrapes, docs/metrics.md). Paths use
 * fastify's syntax (`/app/:appId`).
 */
export type UiRoute =
  | { readonly kind: 'page'; readonly path: string; readonly handler: (req: UiRequest) => Awaitable<SafeHtml | UiReply> }
  | { readonly kind: 'json'; readonly path: string; readonly handler: (req: UiRequest) => Awaitable<unknown> }
  | { readonly kind: 'events'; readonly path: string; readonly handler: (req: UiRequest, stream: SseStream) => Awaitable<void> }
  | { readonly kind: 'action'; readonly path: string; readonly handler: (req: UiRequest) => Awaitable<unknown> }
  | { readonly kind: 'download'; readonly path: string; readonly handler: (req: UiRequest) => Awaitable<UiDownload | UiReply> }
  | { readonly kind: 'text'; readonly path: string; readonly handler: (req: UiRequest) => Awaitable<UiText | UiReply> };

export type UiRouteKind = UiRoute['kind'];

/** The kind of the route that matched `request`; undefined for 404s, 405s, probes and static files. */
export function routeKind(request: FastifyRequest): UiRouteKind | undefined {
  return (request.routeOptions.config as { uiKind?: UiRouteKind } | undefined)?.uiKind;
}

/** Paths that are an API by their name: their 404s are JSON whatever the client accepts. */
const API_PATH = /^\/(api|json)(\/|$)/;

/** Whether a refusal or failure of `request` is answered with a page (else with JSON). */
export function wantsHtml(request: FastifyRequest): boolean {
  switch (routeKind(request)) {
    case 'page':
      return true;
    case 'json':
    case 'events':
    case 'download':
    case 'text':
      return false;
    case 'action':
      return (request.headers['content-type'] ?? '').startsWith('application/x-www-form-urlencoded');
    case undefined: {
      if (API_PATH.test(request.url)) return false;
      const accept = request.headers.accept ?? '';
      return accept.includes('text/html') || !accept.includes('application/json');
    }
  }
}

const HTML = 'text/html; charset=utf-8';
const JSON_TYPE = 'application/json; charset=utf-8';

export function sendJson(reply: FastifyReply, status: number, body: unknown): FastifyReply {
  return reply.code(status).type(JSON_TYPE).send(JSON.stringify(body ?? null, null, 2));
}

export function sendPage(reply: FastifyReply, status: number, page: SafeHtml): FastifyReply {
  return reply.code(status).type(HTML).send(page.toString());
}

const FILE_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,200}$/;

/** Sends what a download handler returned: a UiReply as it says, else the file as an attachment. */
export function sendDownload(reply: FastifyReply, result: UiDownload | UiReply): FastifyReply {
  if (isUiReply(result)) return sendResult(reply, result, 'json');
  if (!FILE_NAME.test(result.fileName)) throw new TypeError(`a download's file name must be a plain name, not ${JSON.stringify(result.fileName)}`);
  return reply.code(200).type(result.contentType).header('content-disposition', `attachment; filename="${result.fileName}"`).send(result.body);
}

/** Sends what a text handler returned: a UiReply as it says, else the text with its content type. */
export function sendText(reply: FastifyReply, result: UiText | UiReply): FastifyReply {
  if (isUiReply(result)) return sendResult(reply, result, 'json');
  return reply.code(200).type(result.contentType).send(result.body);
}

/** Sends what a handler returned: a UiReply as it says, else a page or JSON by the route's kind. */
export function sendResult(reply: FastifyReply, result: unknown, kind: 'page' | 'json'): FastifyReply {
  if (isUiReply(result)) {
    if (result.location !== undefined) return reply.code(result.status).header('location', result.location).send();
    return result.html !== undefined ? sendPage(reply, result.status, result.html) : sendJson(reply, result.status, result.json);
  }
  return kind === 'page' ? sendPage(reply, 200, result as SafeHtml) : sendJson(reply, 200, result);
}

export type ProblemStatus = 400 | 401 | 403 | 404 | 405 | 413 | 415 | 500 | 503;

const TITLES: Readonly<Record<ProblemStatus, string>> = {
  400: 'Bad request',
  401: 'Login needed',
  403: 'Refused',
  404: 'Not found',
  405: 'Method not allowed',
  413: 'Request too large',
  415: 'Unsupported media type',
  500: 'Internal error',
  503: 'Busy',
};

/** A refusal or failure, as a page or as `{ "error": message }` by `wantsHtml`. */
export function sendProblem(request: FastifyRequest, reply: FastifyReply, status: ProblemStatus, message: string): FastifyReply {
  if (status === 401) reply.header('www-authenticate', 'Bearer realm="flint"');
  if (!wantsHtml(request)) return sendJson(reply, status, { error: message });
  return sendPage(reply, status, pageFor(status, message, request));
}

function pageFor(status: ProblemStatus, message: string, request: FastifyRequest): SafeHtml {
  switch (status) {
    case 401:
      return loginNeededPage(message);
    case 403:
      return forbiddenPage(message);
    case 404:
      return notFoundPage(request.url.split('?')[0] ?? '/');
    case 500:
      return internalErrorPage();
    default:
      return plainPage(TITLES[status], html`<p>${message}</p>`);
  }
}

const METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS'] as const;

/** For every path, routes that answer 405 (with Allow) to the methods no route on that path takes. */
export function addMethodNotAllowedRoutes(app: FastifyInstance, routes: readonly UiRoute[]): void {
  const byPath = new Map<string, Set<string>>();
  for (const route of routes) {
    const methods = byPath.get(route.path) ?? new Set<string>();
    if (route.kind === 'action') methods.add('POST');
    else if (route.kind === 'events' || route.kind === 'download') methods.add('GET'); // no HEAD: it would open a stream to send nothing
    else methods.add('GET').add('HEAD');
    byPath.set(route.path, methods);
  }
  for (const [path, allowed] of byPath) {
    const others = METHODS.filter((m) => !allowed.has(m));
    const allow = [...allowed].join(', ');
    app.route({
      method: others,
      url: path,
      handler: (request, reply) => sendProblem(request, reply.header('allow', allow), 405, `${request.method} is not allowed on ${request.url.split('?')[0]}; use ${allow}`),
    });
  }
}
