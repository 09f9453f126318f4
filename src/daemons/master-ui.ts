// The master's web UI routes (docs/ui.md): Spark's `MasterWebUI.initialize`, which attaches `MasterPage` at `/`
// (with its `renderJson` at `/json`), `ApplicationPage` at `/app`, and the kill handlers `/app/kill` and
// `/driver/kill`. The pages are pure renderers (src/ui/master-page.ts, app-page.ts); this file only routes,
// reads the state, and turns a kill into the master's input.

import { liveEvents, type ChangeSignal } from '../io/http/live-page.ts';
import { UiReply, type UiRequest, type UiRoute } from '../io/http/ui-server.ts';
import { clusterUtilizationJson, masterJson, masterJsonField } from '../master/json.ts';
import type { MasterState } from '../master/state.ts';
import { APP_EVENTS_PATH, appPage, appPageMain } from '../ui/app-page.ts';
import { APP_KILL_PATH, DRIVER_KILL_PATH, type KillControls } from '../ui/kill-form.ts';
import { MASTER_EVENTS_PATH, masterPage, masterPageMain, type MasterPageInput } from '../ui/master-page.ts';
import { forbiddenPage, plainPage } from '../ui/plain-pages.ts';
import { html } from '../ui/html.ts';
import { GOTO_PATH } from '../ui/layout.ts';
import { issueTicket } from '../io/http/ui-auth.ts';
import type { UtilizationHistory } from '../ui/utilization.ts';

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
  /** The UI token (undefined: an open UI), which the cluster's other UIs share: `/goto/` signs tickets with it. */
  readonly uiToken: string | undefined;
}

/** `flint.ui.killEnabled`'s answer when it is false. */
export const KILL_DISABLED_REASON = 'Kill buttons are turned off on this master (flint.ui.killEnabled=false).';

export function masterUiRoutes(options: MasterUiOptions): UiRoute[] {
  const { state, now, signal } = options;
  const pageInput = (req: UiRequest): MasterPageInput => ({
    state: state(),
    nowMs: now(),
    query: req.query,
    kill: killControls(options.killEnabled, req),
    utilization: options.utilization.samples(),
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
  for (const path of [GOTO_PATH, GOTO_PATH.slice(0, -1)]) routes.push({ kind: 'page', path, handler: gotoHandler(options) });
  for (const path of [APP_KILL_PATH, APP_KILL_PATH.slice(0, -1)]) routes.push({ kind: 'action', path, handler: killHandler(options, options.killApplication) });
  for (const path of [DRIVER_KILL_PATH, DRIVER_KILL_PATH.slice(0, -1)]) routes.push({ kind: 'action', path, handler: killHandler(options, options.killDriver) });
  return routes;
}

function killControls(enabled: boolean, req: UiRequest): KillControls {
  return { enabled, csrfToken: req.csrfToken };
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

/**
 * `/goto/?to=<url>`: to a page of one of this master's workers (its page, an executor's log), with a one-minute
 * ticket (src/io/http/ui-auth.ts `issueTicket`) so the user is let in there without the token in any link. Only
 * the web UIs of workers the master knows are destinations: anything else is refused, so this is no open redirect.
 */
function gotoHandler(options: MasterUiOptions): (req: UiRequest) => UiReply {
  return (req) => {
    const to = req.query.get('to') ?? '';
    let url: URL | undefined;
    try {
      url = new URL(to);
    } catch {
      url = undefined;
    }
    const known =
      url !== undefined &&
      (url.protocol === 'http:' || url.protocol === 'https:') &&
      [...options.state().workers].some((w) => sameOrigin(w.webUiUrl, url));
    if (url === undefined || !known) {
      return UiReply.page(400, plainPage('Not a page of this cluster', html`<p>This master leads only to its workers' pages; <code>${to.slice(0, 200)}</code> is not one.</p><p><a href="/">Back to the master</a></p>`));
    }
    if (options.uiToken !== undefined) url.searchParams.set('ticket', issueTicket(options.uiToken, Date.now()));
    return UiReply.elsewhere(url.toString());
  };
}

function sameOrigin(base: string, url: URL): boolean {
  try {
    return new URL(base).origin === url.origin;
  } catch {
    return false;
  }
}
