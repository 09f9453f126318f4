// Which REST action a request path names, or the error Spark answers for it: Spark's servlet mapping in
// `RestSubmissionServer` (`/v1/submissions/create/*`, `/kill/*`, `/killall/*`, `/status/*`, `/clear/*`,
// `/readyz/*`) and its `ErrorServlet` for every other path (reference §12.1). Pure.

import { REST_PROTOCOL_VERSION, SC_UNKNOWN_PROTOCOL_VERSION } from '../protocol/rest-messages.ts';

export type RestAction = 'create' | 'kill' | 'killall' | 'status' | 'clear' | 'readyz';

/** The method each action is served on, as Spark's servlets define doPost/doGet. */
export const ACTION_METHODS: Readonly<Record<RestAction, 'GET' | 'POST'>> = {
  create: 'POST',
  kill: 'POST',
  killall: 'POST',
  status: 'GET',
  clear: 'POST',
  readyz: 'GET',
};

const ACTIONS = Object.keys(ACTION_METHODS) as RestAction[];

/** Submission (driver) ids: what the master's messages take (messages.ts `Id`). */
const MAX_ID_CHARS = 512;

export type RestRoute =
  | { readonly ok: true; readonly action: RestAction; readonly submissionId?: string }
  | { readonly ok: false; readonly status: number; readonly message: string; readonly highestProtocolVersion?: string };

const SUFFIX = ` Please submit requests through http://[host]:[port]/${REST_PROTOCOL_VERSION}/submissions/...`;
const ACTION_LIST = '/create, /kill, /killall, /clear, /status, or /readyz';

/**
 * Routes `path` (no query string). Spark answers 400 for every path it does not serve; Flint answers 404 for a
 * path that names no action (docs/differences-from-spark.md), and keeps Spark's 400 for what is missing from
 * a path that is otherwise right, and its 468 for an unknown protocol version.
 */
export function routeRestPath(path: string): RestRoute {
  const parts = path.split('/').filter((p) => p.length > 0);
  const [version, prefix, action, id] = parts;
  if (version === undefined) return fail(400, 'Missing protocol version.');
  if (version !== REST_PROTOCOL_VERSION) {
    return { ...fail(SC_UNKNOWN_PROTOCOL_VERSION, `Unknown protocol version '${safe(version)}'.`), highestProtocolVersion: REST_PROTOCOL_VERSION };
  }
  if (prefix === undefined) return fail(400, 'Missing the /submissions prefix.');
  if (prefix !== 'submissions') return fail(404, `No such path: /${REST_PROTOCOL_VERSION}/${safe(prefix)}.`);
  if (action === undefined) return fail(400, `Missing an action: please specify one of ${ACTION_LIST}.`);
  if (!(ACTIONS as string[]).includes(action)) return fail(404, `Unknown action '${safe(action)}': please specify one of ${ACTION_LIST}.`);
  const known = action as RestAction;
  if (known !== 'kill' && known !== 'status') return { ok: true, action: known };
  // Spark takes only the first segment after the action as the id: /kill/any/thing kills "any".
  if (id === undefined) return fail(400, `Submission ID is missing in ${known} request.`);
  const decoded = decode(id);
  if (decoded === undefined || decoded.length > MAX_ID_CHARS) return fail(400, `The submission ID in this ${known} request is not an ID (at most ${MAX_ID_CHARS} characters).`);
  return { ok: true, action: known, submissionId: decoded };
}

function decode(segment: string): string | undefined {
  try {
    const text = decodeURIComponent(segment);
    return text.length > 0 && ![...text].some((c) => c.trim() === '' || c.charCodeAt(0) < 0x20) ? text : undefined;
  } catch {
    return undefined;
  }
}

/** A path segment as shown back in a message: at most 100 characters. */
function safe(segment: string): string {
  return segment.slice(0, 100);
}

type RouteError = Extract<RestRoute, { ok: false }>;

function fail(status: number, message: string): RouteError {
  return { ok: false, status, message: `${message}${SUFFIX}` };
}
