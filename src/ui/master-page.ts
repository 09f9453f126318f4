// The master's `/`: Spark's `MasterPage.render` (deploy/master/ui/MasterPage.scala). The summary (URL, REST
// URL, workers by state, cores and memory, applications and drivers, the master's status), the utilization
// chart, and the tables of workers, running and completed applications, running and completed drivers, with
// Spark's columns (the workers' Resources column, free/total per custom resource, only when a worker has any).
// Each table sorts, filters and pages on the server with its state in the URL (table.ts).
//
// A pure renderer: a read-only view of the master's state and the request's query in, markup out.

import type { ApplicationInfo, DriverInfo, MasterState, WorkerInfo } from '../master/state.ts';
import { hasResources, resourcesUsed } from '../master/resources.ts';
import { formatDate, formatDuration, formatMb, resourcesFreeText } from './format.ts';
import { attr, href, html, type SafeHtml } from './html.ts';
import { APP_KILL_PATH, DRIVER_KILL_PATH, decommissionForm, killForm, type KillControls } from './kill-form.ts';
import { badge, crossUiHref, pageShell, section, summary, toneOf } from './layout.ts';
import { dataTable, type Column } from './table.ts';
import { utilizationChart, type UtilizationSample } from './utilization.ts';

/** The event stream that keeps `/` live (live-page.ts). */
export const MASTER_EVENTS_PATH = '/events/master';
/** The master UI's own stylesheet (the chart), after flint.css. */
export const MASTER_STYLESHEET = '/static/master.css';

export interface MasterPageInput {
  readonly state: Readonly<MasterState>;
  readonly nowMs: number;
  /** The request's query: each table's sort, filter and page. */
  readonly query: URLSearchParams;
  readonly kill: KillControls;
  /** The utilization samples, oldest first. */
  readonly utilization: readonly UtilizationSample[];
  /** The REST submission URL; undefined shows "disabled" (Flint has no REST server yet). */
  readonly restUrl?: string | undefined;
}

/** The whole document. */
export function masterPage(input: MasterPageInput): SafeHtml {
  return pageShell({
    title: `Master at ${input.state.config.masterUrl}`,
    daemon: 'Master',
    status: { text: input.state.recoveryState, tone: toneOf(input.state.recoveryState) },
    nav: [
      { label: 'Workers', href: '#workers' },
      { label: 'Applications', href: '#running-apps' },
      { label: 'JSON', href: '/json' },
      { label: 'Log', href: '/logPage/?self' },
    ],
    live: MASTER_EVENTS_PATH,
    styles: [MASTER_STYLESHEET],
    body: masterPageMain(input),
  });
}

/** The page's <main>: what the live stream re-renders and sends. */
export function masterPageMain(input: MasterPageInput): SafeHtml {
  const { state } = input;
  const drivers = [...state.drivers];
  const anyDrivers = drivers.length > 0 || state.completedDrivers.length > 0;
  return html`${masterSummary(input)}
${section('Cluster utilization (last hour)', utilizationChart(input.utilization, input.nowMs), 'utilization')}
${section('Workers', workersTable(input), 'workers-section')}
${section('Running Applications', appsTable(input, 'running-apps', [...state.apps], true), 'running-apps-section')}
${anyDrivers ? section('Running Drivers', driversTable(input, 'running-drivers', drivers, true), 'running-drivers-section') : ''}
${section('Completed Applications', appsTable(input, 'completed-apps', [...state.completedApps].reverse(), false), 'completed-apps-section')}
${anyDrivers ? section('Completed Drivers', driversTable(input, 'completed-drivers', [...state.completedDrivers].reverse(), false), 'completed-drivers-section') : ''}`;
}

function count<T>(items: Iterable<T>, ok: (item: T) => boolean): number {
  let n = 0;
  for (const item of items) if (ok(item)) n++;
  return n;
}

/** Spark's MasterPage header: the sums cover ALIVE workers only, as its `/json` does. */
function masterSummary({ state, restUrl }: MasterPageInput): SafeHtml {
  const workers = [...state.workers];
  const alive = workers.filter((w) => w.state === 'ALIVE');
  const sum = (f: (w: WorkerInfo) => number) => alive.reduce((a, w) => a + f(w), 0);
  const byState = (s: WorkerInfo['state']) => count(workers, (w) => w.state === s);
  const drivers = [...state.drivers];
  const done = state.completedDrivers;
  const doneIn = (s: DriverInfo['state']) => count(done, (d) => d.state === s);
  return summary([
    ['URL', state.config.masterUrl],
    ['REST URL', restUrl === undefined ? 'disabled' : html`${restUrl} (cluster mode)`],
    ['Workers', `${byState('ALIVE')} Alive, ${byState('DEAD')} Dead, ${byState('DECOMMISSIONED')} Decommissioned, ${byState('UNKNOWN')} Unknown`],
    ['Cores in use', `${sum((w) => w.cores)} Total, ${sum((w) => w.coresUsed)} Used`],
    ['Memory in use', `${formatMb(sum((w) => w.memoryMb))} Total, ${formatMb(sum((w) => w.memoryUsedMb))} Used`],
    ['Applications', `${state.apps.size} Running, ${state.completedApps.length} Completed`],
    [
      'Drivers',
      `${drivers.length} Running (${count(drivers, (d) => d.state === 'SUBMITTED')} Waiting), ${done.length} Completed ` +
        `(${doneIn('KILLED')} Killed, ${doneIn('FAILED')} Failed, ${doneIn('ERROR')} Error, ${doneIn('RELAUNCHING')} Relaunching)`,
    ],
    ['Status', badge(state.recoveryState, toneOf(state.recoveryState))],
  ]);
}

/** Spark links a worker only while it is ALIVE (its UI is gone otherwise). */
function workerLink(w: WorkerInfo): SafeHtml {
  return w.state === 'ALIVE' ? html`<a${attr('href', crossUiHref(w.webUiUrl))}>${w.id}</a>` : html`${w.id}`;
}

function workersTable({ state, query, kill }: MasterPageInput): SafeHtml {
  const decommission = (w: WorkerInfo): SafeHtml | string =>
    w.state === 'ALIVE' ? decommissionForm(kill, w.id, `Decommission worker ${w.id} on ${w.host}? It takes no new executors; its running tasks finish.`) : '';
  const columns: Array<Column<WorkerInfo>> = [
    { key: 'id', label: 'Worker Id', value: (w) => w.id, cell: (w) => html`${workerLink(w)}${decommission(w)}` },
    { key: 'address', label: 'Address', value: (w) => `${w.host}:${w.port}` },
    { key: 'state', label: 'State', value: (w) => w.state, cell: (w) => badge(w.state, toneOf(w.state)) },
    { key: 'cores', label: 'Cores', value: (w) => w.cores, cell: (w) => `${w.cores} (${w.coresUsed} Used)`, numeric: true },
    { key: 'memory', label: 'Memory', value: (w) => w.memoryMb, cell: (w) => `${formatMb(w.memoryMb)} (${formatMb(w.memoryUsedMb)} Used)`, numeric: true },
  ];
  if ([...state.workers].some((w) => hasResources(w.resources))) {
    columns.push({ key: 'resources', label: 'Resources', value: (w) => resourcesFreeText(w.resources.addresses, resourcesUsed(w.resources)) });
  }
  return dataTable({ id: 'workers', columns, rows: [...state.workers], query, defaultSort: { key: 'id', desc: false }, empty: 'No workers have registered.' });
}

const appDurationMs = (app: ApplicationInfo, nowMs: number): number => (app.endTimeMs >= 0 ? app.endTimeMs : nowMs) - app.startTimeMs;

function appsTable(input: MasterPageInput, id: string, rows: ApplicationInfo[], active: boolean): SafeHtml {
  const { nowMs, kill } = input;
  const columns: Array<Column<ApplicationInfo>> = [
    {
      key: 'id',
      label: 'Application ID',
      value: (a) => a.id,
      cell: (a) =>
        html`<a${attr('href', href`/app/?appId=${a.id}`)}>${a.id}</a>${active ? killForm(kill, APP_KILL_PATH, a.id, `Kill application ${a.id} (${a.desc.name})?`) : ''}`,
    },
    {
      key: 'name',
      label: 'Name',
      value: (a) => a.desc.name,
      // Spark links the name to the application's own UI unless the app has finished (its UI is gone then).
      cell: (a) => (active && a.desc.appUiUrl !== '' ? html`<a${attr('href', a.desc.appUiUrl)}>${a.desc.name}</a>` : html`${a.desc.name}`),
    },
    { key: 'cores', label: 'Cores', value: (a) => a.coresGranted, numeric: true },
    { key: 'memory', label: 'Memory per Executor', value: (a) => a.desc.memoryMbPerExecutor, cell: (a) => formatMb(a.desc.memoryMbPerExecutor), numeric: true },
    { key: 'submitted', label: 'Submitted Time', value: (a) => a.submitDateMs, cell: (a) => formatDate(a.submitDateMs) },
    { key: 'user', label: 'User', value: (a) => a.desc.user },
    { key: 'state', label: 'State', value: (a) => a.state, cell: (a) => badge(a.state, toneOf(a.state)) },
    { key: 'duration', label: 'Duration', value: (a) => appDurationMs(a, nowMs), cell: (a) => formatDuration(appDurationMs(a, nowMs)), numeric: true },
  ];
  // Running: newest start first (Spark). Completed rows come newest end first (the list is reversed), unsorted.
  const defaultSort = active ? { key: 'submitted', desc: true } : undefined;
  const empty = active ? 'No applications are running.' : 'No applications have completed.';
  return dataTable({ id, columns, rows, query: input.query, ...(defaultSort === undefined ? {} : { defaultSort }), empty });
}

function driversTable(input: MasterPageInput, id: string, rows: DriverInfo[], active: boolean): SafeHtml {
  const { nowMs, kill } = input;
  const columns: Array<Column<DriverInfo>> = [
    {
      key: 'id',
      label: 'Submission ID',
      value: (d) => d.id,
      cell: (d) => html`${d.id}${active ? killForm(kill, DRIVER_KILL_PATH, d.id, `Kill driver ${d.id}?`) : ''}`,
    },
    { key: 'submitted', label: 'Submitted Time', value: (d) => d.submitDateMs, cell: (d) => formatDate(d.submitDateMs) },
    {
      key: 'worker',
      label: 'Worker',
      value: (d) => d.worker?.id ?? 'None',
      cell: (d) => (d.worker === undefined ? 'None' : html`<a${attr('href', crossUiHref(d.worker.webUiUrl))}>${d.worker.id}</a>`),
    },
    { key: 'state', label: 'State', value: (d) => d.state, cell: (d) => badge(d.state, toneOf(d.state)) },
    { key: 'cores', label: 'Cores', value: (d) => d.desc.cores, numeric: true },
    { key: 'memory', label: 'Memory', value: (d) => d.desc.memoryMb, cell: (d) => formatMb(d.desc.memoryMb), numeric: true },
    { key: 'main', label: 'Main Class', value: (d) => d.desc.command.mainModule },
  ];
  if (active) {
    // Spark shows a duration for running drivers only.
    columns.push({ key: 'duration', label: 'Duration', value: (d) => nowMs - d.startTimeMs, cell: (d) => formatDuration(nowMs - d.startTimeMs), numeric: true });
  }
  const empty = active ? 'No drivers are running.' : 'No drivers have completed.';
  return dataTable({ id, columns, rows, query: input.query, ...(active ? { defaultSort: { key: 'submitted', desc: true } } : {}), empty });
}
