// The application UI on the driver (default port 4040): what every page of it shares. Spark's `SparkUI` with its
// tabs (`JobsTab`, `StagesTab`, `ExecutorsTab`, `EnvironmentTab`), rendered here from a read-only snapshot of the
// driver's task scheduler (src/driver, `historySnapshot`) plus what the driver knows of itself. The pages are
// pure: the driver's UI server (src/daemons/driver-ui.ts) builds an AppUiModel per request and sends what comes
// back. Flint runs one task set per job, so Spark's stages tab folds into each job's page.

import type { SchedulerHistorySnapshot } from '../driver/index.ts';
import { formatDate, formatDuration } from './format.ts';
import { html, type HtmlValue, type SafeHtml } from './html.ts';
import { pageShell, summary, type Tone } from './layout.ts';

export interface AppUiModel {
  readonly appName: string;
  /** The master's id for the application; undefined until it has registered. */
  readonly appId: string | undefined;
  readonly user: string;
  readonly master: string;
  /** When the driver started, wall clock (ms since the epoch). */
  readonly startedMs: number;
  /** Now, on the scheduler's clock (the `now` of its inputs). */
  readonly nowMs: number;
  /** Added to a scheduler time, gives wall-clock ms since the epoch. */
  readonly clockOffsetMs: number;
  /** The application has stopped: the page shows its last state. */
  readonly stopped: boolean;
  readonly history: SchedulerHistorySnapshot;
  /** `flint.ui.killEnabled`: running jobs get a kill button. */
  readonly killEnabled: boolean;
  /** The session's CSRF token for the kill forms; undefined for bearer and open access. */
  readonly csrfToken: string | undefined;
  /** The request's query string: the tables' sort, filter and page. */
  readonly query: URLSearchParams;
}

export type AppTab = 'jobs' | 'executors' | 'environment';

const TABS: ReadonlyArray<readonly [AppTab, string, string]> = [
  ['jobs', 'Jobs', '/jobs/'],
  ['executors', 'Executors', '/executors/'],
  ['environment', 'Environment', '/environment/'],
];

/** A whole page of the application UI: `body` is its <main>, `live` its event stream. */
export function appPage(
  model: AppUiModel,
  tab: AppTab,
  page: { title?: string; live: string; body: SafeHtml; scripts?: readonly string[]; status?: { text: string; tone: Tone } },
): SafeHtml {
  const subtitle = model.appId === undefined ? `registering with ${model.master}` : `${model.appId} · ${model.master}`;
  return pageShell({
    title: page.title === undefined ? model.appName : `${model.appName}: ${page.title}`,
    daemon: 'Application',
    subtitle,
    status: page.status ?? (model.stopped ? { text: 'STOPPED', tone: 'idle' } : { text: 'RUNNING', tone: 'ok' }),
    nav: TABS.map(([key, label, href]) => ({ label, href, current: key === tab })),
    live: page.live,
    styles: [APP_STYLESHEET],
    ...(page.scripts === undefined ? {} : { scripts: page.scripts }),
    body: page.body,
  });
}

export const APP_STYLESHEET = '/static/app-ui.css';

/** A scheduler time as a wall-clock date, in Spark's format. */
export function dateOf(model: AppUiModel, machineMs: number): string {
  return formatDate(machineMs + model.clockOffsetMs);
}

/** From `startMs` to `endMs`, or to now while it runs. */
export function durationOf(model: AppUiModel, startMs: number, endMs: number | undefined): number {
  return Math.max(0, (endMs ?? model.nowMs) - startMs);
}

/** The headline figures every tab opens with. */
export function appSummary(model: AppUiModel, more: ReadonlyArray<readonly [string, HtmlValue]>): SafeHtml {
  return summary([
    ['User', model.user],
    ['Started', formatDate(model.startedMs)],
    ['Uptime', formatDuration(model.nowMs + model.clockOffsetMs - model.startedMs)],
    ...more,
  ]);
}

/** The kill button of a running job (Spark's `JobsTab.handleKillRequest` behind its "(kill)" link), or nothing. */
export function killJobForm(model: AppUiModel, jobId: number): SafeHtml | '' {
  if (!model.killEnabled || model.stopped) return '';
  const csrf = model.csrfToken === undefined ? '' : html`<input type="hidden" name="csrfToken" value="${model.csrfToken}">`;
  return html`<form method="post" action="/jobs/job/kill/" data-confirm="${`Kill job ${jobId}?`}"><input type="hidden" name="id" value="${jobId}">${csrf}<button type="submit" class="danger">Kill</button></form>`;
}
