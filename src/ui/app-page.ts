// The master's `/app/?appId=…`: Spark's `ApplicationPage.render` (deploy/master/ui/ApplicationPage.scala). The
// application's summary, its executors (worker, cores, memory, state, links to their stdout and stderr on the
// worker's LogPage) and the executors it lost. An active application is found among the active ones, then among
// the completed ones (Spark's order); an id that names neither, or no id at all, is a 404 page.
//
// A pure renderer: a read-only view of the master's state and the request's query in, markup out.

import { planApplication } from '../master/plan.ts';
import type { ApplicationInfo, ExecutorInfo, MasterState } from '../master/state.ts';
import { isAppFinished, isExecutorFinished } from '../master/state.ts';
import { formatDate, formatDuration, formatMb, resourcesText } from './format.ts';
import { attr, href, html, type SafeHtml } from './html.ts';
import { badge, crossUiHref, pageShell, section, summary, toneOf } from './layout.ts';
import { MASTER_STYLESHEET } from './master-page.ts';
import { dataTable, type Column } from './table.ts';

/** The event stream that keeps an application page live (with the page's own query: `?appId=…`). */
export const APP_EVENTS_PATH = '/events/app';
/** Longer ids are not an application's (`app-20261202130509-0001`), whatever they hold. */
const MAX_APP_ID_CHARS = 256;

export interface AppPageInput {
  readonly state: Readonly<MasterState>;
  readonly nowMs: number;
  /** The request's query: `appId`, and each table's sort, filter and page. */
  readonly query: URLSearchParams;
}

/** The application `appId` names: an active one first, then a completed one, as Spark's ApplicationPage looks. */
export function findApplication(state: Readonly<MasterState>, appId: string): ApplicationInfo | undefined {
  return state.idToApp.get(appId) ?? state.completedApps.find((a) => a.id === appId);
}

/** The whole document, and its status: 404 when the query names no known application. */
export function appPage(input: AppPageInput): { readonly status: 200 | 404; readonly page: SafeHtml } {
  const appId = input.query.get('appId') ?? '';
  const app = wellFormed(appId) ? findApplication(input.state, appId) : undefined;
  const title = app === undefined ? 'Application not found' : `Application: ${app.desc.name}`;
  const page = pageShell({
    title,
    daemon: 'Master',
    subtitle: app?.id,
    ...(app === undefined ? {} : { status: { text: app.state, tone: toneOf(app.state) } }),
    nav: [{ label: 'Back to Master', href: '/' }],
    ...(app === undefined ? {} : { live: APP_EVENTS_PATH }),
    styles: [MASTER_STYLESHEET],
    body: appPageMain(input),
  });
  return { status: app === undefined ? 404 : 200, page };
}

function wellFormed(appId: string): boolean {
  // eslint-disable-next-line no-control-regex -- an id holds no control characters
  return appId !== '' && appId.length <= MAX_APP_ID_CHARS && !/[\u0000-\u001f\u007f]/.test(appId);
}

/** The page's <main>: what the live stream re-renders and sends. */
export function appPageMain(input: AppPageInput): SafeHtml {
  const appId = input.query.get('appId') ?? '';
  if (!wellFormed(appId)) {
    return html`<p class="notice">${appId === '' ? 'This page needs an application id: /app/?appId=<id>.' : 'That is not an application id.'}</p><p><a href="/">Back to the master</a></p>`;
  }
  const app = findApplication(input.state, appId);
  if (app === undefined) {
    return html`<p class="notice">No application with id <code>${appId}</code> is running or among the completed ones this master keeps.</p><p><a href="/">Back to the master</a></p>`;
  }
  // Spark: every executor the app had, split by whether it has finished.
  const all = [...new Set([...app.executors.values(), ...app.removedExecutors])];
  const running = all.filter((e) => !isExecutorFinished(e.state));
  const removed = all.filter((e) => isExecutorFinished(e.state));
  return html`${appSummary(app, input.nowMs)}
${app.state === 'WAITING' ? whyWaiting(input.state, input.nowMs, app) : html``}
${section(`Executor Summary (${running.length})`, executorsTable('executors', running, input.query, 'This application has no executors.'), 'executors-section')}
${section(`Removed Executors (${removed.length})`, executorsTable('removed-executors', removed, input.query, 'No executor has been removed.'), 'removed-executors-section')}`;
}

/**
 * "Why is it waiting?": the planner (src/master/plan.ts) on this app's own request, as schedule() sees it. Every
 * piece of text is escaped by `html`.
 */
function whyWaiting(state: Readonly<MasterState>, nowMs: number, app: ApplicationInfo): SafeHtml {
  const plan = planApplication(state, nowMs, { appId: app.id });
  const reasons = plan.reasons.length === 0
    ? html`<p>Nothing holds it back now: the master places its executors at its next scheduling pass.</p>`
    : html`<ul class="plan-reasons">${plan.reasons.map((r) => html`<li><strong>${r.code}</strong>: ${r.message}</li>`)}</ul>`;
  return section('Why is it waiting?', html`<div id="why-waiting">${reasons}</div>`, 'why-waiting-section');
}

function appSummary(app: ApplicationInfo, nowMs: number): SafeHtml {
  const max = app.desc.maxCores ?? app.defaultCores;
  const durationMs = (app.endTimeMs >= 0 ? app.endTimeMs : nowMs) - app.startTimeMs;
  return summary([
    ['ID', app.id],
    ['Name', app.desc.name],
    ['User', app.desc.user],
    ['Cores', `${max === undefined ? 'Unlimited' : max} (${app.coresGranted} Granted)`],
    ['Executor Limit', Number.isFinite(app.executorLimit) ? `${app.executorLimit} (${app.executors.size} Granted)` : 'Unlimited'],
    ['Executor Memory', formatMb(app.desc.memoryMbPerExecutor)],
    ['Resources per Executor', (app.desc.resourceReqsPerExecutor ?? []).map((r) => `${r.name} ×${r.amount}`).join(', ') || 'none'],
    ['Submit Date', formatDate(app.submitDateMs)],
    ['State', badge(app.state, toneOf(app.state))],
    ['Duration', formatDuration(durationMs)],
    // Spark links the application's own UI while it runs; once it finished that UI is gone.
    ['Application UI', !isAppFinished(app) && app.desc.appUiUrl !== '' ? html`<a${attr('href', app.desc.appUiUrl)}>Application Detail UI</a>` : 'none'],
  ]);
}

/** `<worker UI>/logPage/?appId=…&executorId=…&logType=…`: Spark's link to an executor's log on its worker. */
export function executorLogUrl(exec: ExecutorInfo, logType: 'stdout' | 'stderr'): string {
  return `${exec.worker.webUiUrl.replace(/\/+$/, '')}${href`/logPage/?appId=${exec.app.id}&executorId=${exec.id}&logType=${logType}`}`;
}

function executorsTable(id: string, rows: ExecutorInfo[], query: URLSearchParams, empty: string): SafeHtml {
  const columns: Array<Column<ExecutorInfo>> = [
    { key: 'id', label: 'ExecutorID', value: (e) => e.id, numeric: true },
    { key: 'worker', label: 'Worker', value: (e) => e.worker.id, cell: (e) => html`<a${attr('href', crossUiHref(e.worker.webUiUrl))}>${e.worker.id}</a>` },
    { key: 'cores', label: 'Cores', value: (e) => e.cores, numeric: true },
    { key: 'memory', label: 'Memory', value: (e) => e.memoryMb, cell: (e) => formatMb(e.memoryMb), numeric: true },
    { key: 'state', label: 'State', value: (e) => e.state, cell: (e) => badge(e.state, toneOf(e.state)) },
    { key: 'resources', label: 'Resources', value: (e) => resourcesText(e.resources) },
    {
      key: 'logs',
      label: 'Logs',
      value: () => '',
      cell: (e) => html`<a${attr('href', crossUiHref(executorLogUrl(e, 'stdout')))}>stdout</a> <a${attr('href', crossUiHref(executorLogUrl(e, 'stderr')))}>stderr</a>`,
    },
  ];
  return dataTable({ id, columns, rows, query, defaultSort: { key: 'id', desc: false }, empty });
}
