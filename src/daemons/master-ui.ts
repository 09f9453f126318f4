// The master's web UI routes (docs/ui.md): Spark's `MasterWebUI.initialize`, which attaches `MasterPage` at `/`
// (with its `renderJson` at `/json`), `ApplicationPage` at `/app`, and the kill handlers `/app/kill` and
// `/driver/kill`. The pages are pure renderers (src/ui/master-page.ts, app-page.ts); this file only routes,
// reads the state, and turns a kill into the master's input.

import { liveEvents, type ChangeSignal } from '../io/http/live-page.ts';
import { UiReply, type UiRequest, type UiRoute } from '../io/http/ui-server.ts';
import { clusterUtilizationJson, masterJson, masterJsonField } from '../master/json.ts';
import type { MasterState } from '../master/state.ts';
import { planApplication } from '../master/plan.ts';
import { MasterQueries } from '../protocol/messages.ts';
import { APP_EVENTS_PATH, appPage, appPageMain } from '../ui/app-page.ts';
import { APP_KILL_PATH, DRIVER_KILL_PATH, WORKERS_KILL_PATH, type KillControls } from '../ui/kill-form.ts';
import { MASTER_EVENTS_PATH, masterPage, masterPageMain, type MasterPageInput } from '../ui/master-page.ts';
import { forbiddenPage } from '../ui/plain-pages.ts';
import { gotoRoutes } from './ui-goto.ts';
import { logRoutes } from './log-routes.ts';
import type { Logger } from '../util/logger.ts';
import type { UtilizationHistory, UtilizationSample } from '../ui/utilization.ts';

export interface MasterUiOptions {
  /** The machine's state, read-only, as it is now. */
  readonly state: () => Readonly<MasterState>;
  readonly now: () => number;
  /** Notified after every input the master handled: the live pages re-render. */
  readonly signal: ChangeSignal;
  /** `flint.ui.killEnabled`. */
  readonly killEnabled: boolean;
  readonly utilization: UtilizationHistory;
  /** Feeds the master `KillApplication` (Spark: `master.removeApplication(app, KILLED)`); resolves once handled. */
  readonly killApplication: (appId: string) => Promise<void>;
  /** Feeds the master the `RequestKillDriver` ask an operator's `flint kill` sends; resolves once handled. */
  readonly killDriver: (driverId: string) => Promise<void>;
  /** `flint.decommission.enabled`: without it `/workers/kill/` is not routed (405), as in Spark 4.0. */
  readonly decommissionEnabled: boolean;
  /** Feeds the master a decommission ask (by host or by worker id) and resolves with the workers it matched. */
  readonly decommissionWorkers: (
    message: { type: 'DecommissionWorkersOnHosts'; hostnames: string[] } | { type: 'DecommissionWorkers'; ids: string[] },
  ) => Promise<number>;
  /** The UI token (undefined: an open UI), which the cluster's other UIs share: `/goto/` signs tickets with it. */
  readonly uiToken: string | undefined;
  /** The master's own log file, when its output goes to one (src/io/logs/own-log-file.ts): `/logPage/?self`. */
  readonly daemonLogFile: string | undefined;
  readonly logger: Logger;
}

/** `flint.ui.killEnabled`'s answer when it is false. */
export const KILL_DISABLED_REASON = 'Kill buttons are turned off on this master (flint.ui.killEnabled=false).';

export function masterUiRoutes(options: MasterUiOptions): UiRoute[] {
  const { state, now, signal } = options;
  const pageInput = (req: UiRequest): MasterPageInput => ({
    state: state(),
    nowMs: now(),
    query: req.query,
    kill: killControls(options, req),
    // The samples taken every 10 s, and the figures of this moment as the chart's last point.
    utilization: [...options.utilization.samples(), utilizationNow(state(), now())],
  });
  const app = (req: UiRequest) => {
    const { status, page } = appPage({ state: state(), nowMs: now(), query: req.query });
    return status === 200 ? page : UiReply.page(404, page);
  };
  const everything = () => masterJson(state(), now());
  const routes: UiRoute[] = [
    { kind: 'page', path: '/', handler: (req) => masterPage(pageInput(req)) },
    { kind: 'events', path: MASTER_EVENTS_PATH, handler: liveEvents({ signal, render: (req) => masterPageMain(pageInput(req)) }) },
    { kind: 'page', path: '/app', handler: app },
    { kind: 'page', path: '/app/', handler: app },
    { kind: 'events', path: APP_EVENTS_PATH, handler: liveEvents({ signal, render: (req) => appPageMain({ state: state(), nowMs: now(), query: req.query }) }) },
    { kind: 'json', path: '/json', handler: everything },
    { kind: 'json', path: '/json/', handler: everything },
    // Spark 4's MasterPage.renderJson: `clusterutilization` is its own document, any other name one field of /json.
    { kind: 'json', path: '/json/clusterutilization', handler: () => clusterUtilizationJson(state()) },
    { kind: 'json', path: '/json/:field', handler: (req) => masterJsonField(state(), now(), req.params['field'] ?? '') },
    { kind: 'json', path: '/healthz', handler: () => ({ status: 'ok' }) },
    {
      kind: 'json',
      path: '/readyz',
      handler: () => (state().recoveryState === 'ALIVE' ? { status: 'ALIVE' } : UiReply.json(503, { status: state().recoveryState })),
    },
  ];
  const roots = options.daemonLogFile === undefined ? { workDir: undefined } : { workDir: undefined, daemonLogFile: options.daemonLogFile };
  routes.push(...logRoutes({ roots, logger: options.logger, daemon: 'master', masterWebUiUrl: () => '' }));
  routes.push(...gotoRoutes({ destinations: () => [...state().workers].map((w) => w.webUiUrl), uiToken: options.uiToken, leadsTo: "its workers' pages" }));
  routes.push({ kind: 'action', path: PLAN_PATH, handler: (req) => planHandler(state(), now(), req.body) });
  for (const path of [APP_KILL_PATH, APP_KILL_PATH.slice(0, -1)]) routes.push({ kind: 'action', path, handler: killHandler(options, options.killApplication) });
  for (const path of [DRIVER_KILL_PATH, DRIVER_KILL_PATH.slice(0, -1)]) routes.push({ kind: 'action', path, handler: killHandler(options, options.killDriver) });
  if (options.decommissionEnabled) {
    for (const path of [WORKERS_KILL_PATH, WORKERS_KILL_PATH.slice(0, -1)]) routes.push({ kind: 'action', path, handler: decommissionHandler(options) });
  }
  return routes;
}

/** `POST /api/v1/plan` (docs/resources.md): the what-if planner for scripts and the UI. */
export const PLAN_PATH = '/api/v1/plan';

/**
 * The body is a RequestPlan without its `type` (JSON); it is checked against the wire schema, and a bad one is
 * answered 400 with the field and what was expected. The plan is read from the state as it is now.
 */
function planHandler(state: Readonly<MasterState>, nowMs: number, body: unknown): unknown {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    return UiReply.json(400, { error: 'the body must be a JSON object such as {"maxCores": 8, "memoryMbPerExecutor": 1024}' });
  }
  const checked = MasterQueries.check({ ...body, type: 'RequestPlan' });
  if (!checked.ok || checked.value.type !== 'RequestPlan') {
    return UiReply.json(400, { error: checked.ok ? 'not a plan request' : checked.reason.replace(/^RequestPlan is malformed at /, 'the plan request is malformed at ') });
  }
  return planApplication(state, nowMs, checked.value);
}

function killControls(options: MasterUiOptions, req: UiRequest): KillControls {
  return { enabled: options.killEnabled, csrfToken: req.csrfToken, decommissionEnabled: options.decommissionEnabled };
}

/**
 * Spark's `handleAppKillRequest`/`handleDriverKillRequest`: acts only when kills are on, `terminate` is true
 * and `id` is given, then sends the browser back to `/` (303). Where Spark sleeps 100 ms so the page shows the
 * kill, this waits until the master has handled it.
 */
function killHandler(options: MasterUiOptions, kill: (id: string) => Promise<void>): (req: UiRequest) => Promise<unknown> {
  return async (req) => {
    if (!options.killEnabled) {
      return req.access === 'bearer' ? UiReply.json(403, { error: KILL_DISABLED_REASON }) : UiReply.page(403, forbiddenPage(KILL_DISABLED_REASON));
    }
    const body = (typeof req.body === 'object' && req.body !== null ? req.body : {}) as Record<string, unknown>;
    const id = body['id'];
    const terminate = body['terminate'] === 'true' || body['terminate'] === true;
    if (terminate && typeof id === 'string' && id !== '') await kill(id);
    return UiReply.redirect('/');
  };
}

/** The values of a form field or query parameter given once or repeated (`?host=a&host=b`). */
function valuesOf(req: UiRequest, name: string): string[] {
  const body = (typeof req.body === 'object' && req.body !== null ? req.body : {}) as Record<string, unknown>;
  const fromBody = body[name];
  const listed = Array.isArray(fromBody) ? fromBody : fromBody === undefined ? [] : [fromBody];
  return [...req.query.getAll(name), ...listed.filter((v): v is string => typeof v === 'string')].map((v) => v.trim()).filter((v) => v !== '');
}

/**
 * Spark's `/workers/kill/` (MasterWebUI's DecommissionWorkersOnHosts handler): `host` values (query or form,
 * repeatable) decommission every worker on those hosts; Flint also takes worker `id`s (the master page's
 * button). 200 with the count when any matched, 404 when none did (Spark's statuses); a browser form (session)
 * is sent back to `/` instead. Authenticated and CSRF-checked like every action (docs/security.md).
 */
function decommissionHandler(options: MasterUiOptions): (req: UiRequest) => Promise<unknown> {
  return async (req) => {
    const hostnames = valuesOf(req, 'host');
    const ids = valuesOf(req, 'id');
    if (hostnames.length === 0 && ids.length === 0) {
      return UiReply.json(400, { error: 'name the workers to decommission: host=<hostname> (repeatable) or id=<workerId> (repeatable)' });
    }
    let count = 0;
    if (hostnames.length > 0) count += await options.decommissionWorkers({ type: 'DecommissionWorkersOnHosts', hostnames });
    if (ids.length > 0) count += await options.decommissionWorkers({ type: 'DecommissionWorkers', ids });
    if (req.access === 'session') return UiReply.redirect('/');
    return count > 0 ? UiReply.json(200, { decommissioned: count }) : UiReply.json(404, { error: `no registered worker matches ${[...hostnames, ...ids].join(', ')}`, decommissioned: 0 });
  };
}

/** The figures of `/json/clusterutilization` now, as a sample. */
export function utilizationNow(state: Readonly<MasterState>, nowMs: number): UtilizationSample {
  const u = clusterUtilizationJson(state);
  return { atMs: nowMs, cores: Number(u['cores']), coresUsed: Number(u['coresused']), memoryMb: Number(u['memory']), memoryUsedMb: Number(u['memoryused']) };
}
