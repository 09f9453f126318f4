// One REST request, authenticated already, made into one ask of the master and its answer: Spark's
// `RestSubmissionServer` servlets over `StandaloneRestServer`'s handlers (reference §12). No I/O of its own:
// the HTTP server (src/io/http/rest-server.ts) authenticates, parses the body and writes the answer; the master
// daemon gives `ask`, which feeds the master's machine the same asks its RPC endpoint does.

import type { MasterAsk, MasterReplyMessage } from '../master/index.ts';
import { checkCreateRequest } from '../protocol/rest-messages.ts';
import { driverSubmission, type GatewayMaster } from './driver-submission.ts';
import { ACTION_METHODS, routeRestPath, type RestAction } from './rest-paths.ts';
import {
  clearResponse,
  createResponse,
  errorResponse,
  killAllResponse,
  killResponse,
  readyzAnswer,
  statusResponse,
  type RestAnswer,
} from './rest-responses.ts';

/**
 * Who a request proved to be (its bearer token, docs/rest.md): `app` with the token of the application secret,
 * `daemon` with the token of the cluster secret. As on RPC (docs/security.md, "Who may send what"), apps may
 * submit, kill and ask about drivers; killing all drivers and clearing the records is for operators.
 */
export type RestPrincipal = 'app' | 'daemon';

const ACTION_ROLES: Readonly<Record<RestAction, readonly RestPrincipal[]>> = {
  create: ['app', 'daemon'],
  kill: ['app', 'daemon'],
  status: ['app', 'daemon'],
  readyz: ['app', 'daemon'],
  killall: ['daemon'],
  clear: ['daemon'],
};

export interface RestRequest {
  readonly method: string;
  /** The path, without its query string. */
  readonly path: string;
  readonly principal: RestPrincipal;
  /** The parsed JSON body (undefined for none). */
  readonly body: unknown;
}

export interface RestGatewayDeps {
  /** Flint's version, sent as `serverSparkVersion`. */
  readonly serverVersion: string;
  readonly master: GatewayMaster;
  /** Feeds the master one ask; resolves with its reply, rejects when it failed or went unanswered. */
  ask(message: MasterAsk): Promise<MasterReplyMessage>;
}

/** The answer to one request. Never throws: a failed ask is a 500 with an ErrorResponse. */
export async function answerRestRequest(request: RestRequest, deps: RestGatewayDeps): Promise<RestAnswer> {
  const version = deps.serverVersion;
  const route = routeRestPath(request.path);
  if (!route.ok) return { status: route.status, body: errorResponse(version, route.message, route.highestProtocolVersion) };
  const method = ACTION_METHODS[route.action];
  if (request.method !== method && !(request.method === 'HEAD' && method === 'GET')) {
    return { status: 405, body: errorResponse(version, `${request.method} is not served on /${route.action}: use ${method}.`) };
  }
  if (!ACTION_ROLES[route.action].includes(request.principal)) {
    return { status: 403, body: errorResponse(version, `/${route.action} needs the token of the cluster secret (an operator's); the application secret's token may create, kill and ask about submissions.`) };
  }
  try {
    return await dispatch(route.action, route.submissionId ?? '', request.body, deps);
  } catch (err) {
    return { status: 500, body: errorResponse(version, `Internal server error: ${err instanceof Error ? err.message : String(err)}`) };
  }
}

async function dispatch(action: RestAction, submissionId: string, body: unknown, deps: RestGatewayDeps): Promise<RestAnswer> {
  const version = deps.serverVersion;
  const ok = (response: RestAnswer['body']): RestAnswer => ({ status: 200, body: response });
  switch (action) {
    case 'create': {
      const checked = checkCreateRequest(body);
      if (!checked.ok) return { status: 400, body: errorResponse(version, `Malformed request: ${checked.message}`) };
      const submission = driverSubmission(checked.request, deps.master);
      if (!submission.ok) return { status: 400, body: errorResponse(version, `Malformed request: ${submission.message}`) };
      return ok(createResponse(version, expect(await deps.ask(submission.message), 'SubmitDriverResponse'), checked.unknownFields));
    }
    case 'kill':
      return ok(killResponse(version, expect(await deps.ask({ type: 'RequestKillDriver', driverId: submissionId }), 'KillDriverResponse')));
    case 'status':
      return ok(statusResponse(version, submissionId, expect(await deps.ask({ type: 'RequestDriverStatus', driverId: submissionId }), 'DriverStatusResponse')));
    case 'killall':
      return ok(killAllResponse(version, expect(await deps.ask({ type: 'RequestKillAllDrivers' }), 'KillAllDriversResponse')));
    case 'clear':
      return ok(clearResponse(version, expect(await deps.ask({ type: 'RequestClearCompletedDriversAndApps' }), 'BooleanResponse')));
    case 'readyz':
      return readyzAnswer(version, expect(await deps.ask({ type: 'RequestReadyz' }), 'BooleanResponse'));
    default:
      return unreachable(action);
  }
}

function expect<T extends MasterReplyMessage['type']>(reply: MasterReplyMessage, type: T): Extract<MasterReplyMessage, { type: T }> {
  if (reply.type !== type) throw new Error(`the master answered ${reply.type}, expected ${type}`);
  return reply as Extract<MasterReplyMessage, { type: T }>;
}

function unreachable(value: never): never {
  throw new Error(`unhandled REST action ${String(value)}`);
}
