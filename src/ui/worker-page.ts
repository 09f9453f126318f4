// The worker's start page (`/`): Spark's `WorkerPage.render`. A summary (the worker's id, its master with a link
// to the master's web UI, cores and memory used of the total) and four tables: running and finished executors,
// running and finished drivers, each with links to its stdout and stderr log pages (log-page.ts). Rendered from
// a read-only WorkerSnapshot; `workerPageMain` is the <main> alone, which the page's event stream
// (`/events/worker`, src/io/http/live-page.ts) re-renders as the worker changes.

import type { DriverSnapshot, ExecutorSnapshot, WorkerSnapshot } from '../worker/worker-snapshot.ts';
import { formatCpuList } from '../worker/cpu-binding.ts';
import { formatMb, resourcesFreeText, resourcesText } from './format.ts';
import { attr, href, html, safeUrl, type SafeHtml } from './html.ts';
import { badge, crossUiHref, pageShell, section, summary, toneOf } from './layout.ts';
import { dataTable, type Column } from './table.ts';

/** The event stream that keeps `/` live. */
export const WORKER_EVENTS_PATH = '/events/worker';

/** `/logPage/?appId=…&executorId=…&logType=…`: the page Spark's `WorkerPage` links each executor's logs to. */
export function executorLogHref(appId: string, executorId: number | string, logType: 'stdout' | 'stderr'): string {
  return href`/logPage/?appId=${appId}&executorId=${executorId}&logType=${logType}`;
}

/** `/logPage/?driverId=…&logType=…`. */
export function driverLogHref(driverId: string, logType: 'stdout' | 'stderr'): string {
  return href`/logPage/?driverId=${driverId}&logType=${logType}`;
}

function logLinks(link: (logType: 'stdout' | 'stderr') => string): SafeHtml {
  return html`<a${attr('href', link('stdout'))}>stdout</a> <a${attr('href', link('stderr'))}>stderr</a>`;
}

function masterLink(s: WorkerSnapshot): SafeHtml {
  if (s.activeMasterUrl === '') return html`<em>none yet (registering)</em>`;
  if (s.activeMasterWebUiUrl === '') return html`${s.activeMasterUrl}`;
  return html`<a${attr('href', crossUiHref(s.activeMasterWebUiUrl))}>${s.activeMasterUrl}</a>`;
}

/** What the worker is doing, as the header's badge: Spark's worker has no state of its own on the page. */
export function workerStatus(s: WorkerSnapshot): { readonly text: string; readonly tone: 'ok' | 'warn' | 'bad' | 'idle' } {
  if (s.decommissioned) return { text: 'DECOMMISSIONED', tone: 'warn' };
  if (s.phase === 'stopped') return { text: 'STOPPED', tone: 'bad' };
  if (s.registered && s.connected) return { text: 'REGISTERED', tone: 'ok' };
  return { text: 'REGISTERING', tone: 'warn' };
}

type LogType = 'stdout' | 'stderr';

/** What an executor's and a driver's rows share: a state, cores and memory, an exit when finished, log links. */
interface RunnerRow {
  readonly state: string;
  readonly cores: number;
  readonly memoryMb: number;
  readonly resources?: Readonly<Record<string, ReadonlyArray<string>>>;
  /** The CPUs it is bound to (flint.worker.executorCpus); absent: not bound. */
  readonly cpus?: readonly number[];
}

interface RunnerColumns<R> {
  /** The columns before the shared ones (the id, what runs). */
  readonly lead: Column<R>[];
  /** For the finished table: the exit status and a note (a message, an exception). */
  readonly finished?: { readonly exit: (row: R) => number | undefined; readonly noteLabel: string; readonly note: (row: R) => string | undefined };
  readonly logHref: (row: R, logType: LogType) => string;
}

function runnerColumns<R extends RunnerRow>({ lead, finished, logHref }: RunnerColumns<R>): Column<R>[] {
  const columns: Column<R>[] = [
    ...lead,
    { key: 'state', label: 'State', value: (r) => r.state, cell: (r) => badge(r.state, toneOf(r.state)) },
    // Under the cores, the CPUs the worker bound it to (flint.worker.executorCpus), when it did.
    { key: 'cores', label: 'Cores', value: (r) => r.cores, cell: (r) => (r.cpus === undefined ? String(r.cores) : html`${r.cores}<br><small>${r.cpus.length === 1 ? 'CPU' : 'CPUs'} ${formatCpuList(r.cpus)}</small>`), numeric: true },
    { key: 'memory', label: 'Memory', value: (r) => r.memoryMb, cell: (r) => formatMb(r.memoryMb), numeric: true },
    // Spark's WorkerPage has a Resources column: the addresses each executor and driver holds.
    { key: 'resources', label: 'Resources', value: (r) => resourcesText(r.resources ?? {}) },
  ];
  if (finished !== undefined) {
    columns.push(
      { key: 'exit', label: 'Exit status', value: (r) => finished.exit(r) ?? '', numeric: true },
      { key: 'note', label: finished.noteLabel, value: (r) => finished.note(r) ?? '' },
    );
  }
  columns.push({ key: 'logs', label: 'Logs', value: () => '', cell: (r) => logLinks((t) => logHref(r, t)) });
  return columns;
}

function executorColumns(finished: boolean): Column<ExecutorSnapshot>[] {
  return runnerColumns<ExecutorSnapshot>({
    lead: [
      { key: 'id', label: 'Executor ID', value: (e) => e.execId, numeric: true },
      { key: 'app', label: 'Application', value: (e) => e.appId, cell: (e) => html`${e.appId}<br><small>${e.appDesc.name} · ${e.appDesc.user}</small>` },
    ],
    ...(finished ? { finished: { exit: (e) => e.exitStatus, noteLabel: 'Message', note: (e) => e.message } } : {}),
    logHref: (e, t) => executorLogHref(e.appId, e.execId, t),
  });
}

function driverColumns(finished: boolean): Column<DriverSnapshot>[] {
  return runnerColumns<DriverSnapshot>({
    lead: [
      { key: 'id', label: 'Driver ID', value: (d) => d.driverId },
      { key: 'main', label: 'Main module', value: (d) => d.mainModule },
    ],
    ...(finished ? { finished: { exit: (d) => d.lastExitStatus, noteLabel: 'Notes', note: (d) => d.exception } } : {}),
    logHref: (d, t) => driverLogHref(d.driverId, t),
  });
}

/** The page's <main>: the summary and the four tables. `query` chooses each table's sort, filter and page. */
export function workerPageMain(s: WorkerSnapshot, query: URLSearchParams): SafeHtml {
  const head = summary([
    ['ID', s.workerId],
    ['Master URL', masterLink(s)],
    ['Cores', `${s.cores} (${s.coresUsed} used)`],
    ['Memory', `${formatMb(s.memoryMb)} (${formatMb(s.memoryUsedMb)} used)`],
    ...(Object.keys(s.resources).length === 0 ? [] : [['Resources', `${resourcesFreeText(s.resources, s.resourcesUsed)} (used: ${resourcesText(s.resourcesUsed) || 'none'})`] as const]),
    ['Executors', `${s.executors.length} running, ${s.finishedExecutors.length} finished`],
    ['Drivers', `${s.drivers.length} running, ${s.finishedDrivers.length} finished`],
  ]);
  const table = <R>(title: string, id: string, columns: Column<R>[], rows: readonly R[], empty: string): SafeHtml =>
    section(title, dataTable({ id, columns, rows, query, defaultSort: { key: 'id', desc: false }, empty }), `${id}-section`);
  return html`${head}
${table('Running Executors', 'executors', executorColumns(false), s.executors, 'No executors are running on this worker.')}
${table('Running Drivers', 'drivers', driverColumns(false), s.drivers, 'No drivers are running on this worker.')}
${table('Finished Executors', 'finishedExecutors', executorColumns(true), s.finishedExecutors, 'No executor has finished here yet.')}
${table('Finished Drivers', 'finishedDrivers', driverColumns(true), s.finishedDrivers, 'No driver has finished here yet.')}`;
}

/** The whole document for `/`. */
export function workerPage(s: WorkerSnapshot, query: URLSearchParams): SafeHtml {
  const nav = [
    { label: 'Worker', href: '/', current: true },
    { label: 'Log', href: '/logPage/?self' },
    ...(s.activeMasterWebUiUrl === '' ? [] : [{ label: 'Back to Master', href: safeUrl(s.activeMasterWebUiUrl) }]),
  ];
  return pageShell({
    title: `Worker at ${s.host}:${s.port}`,
    daemon: 'Worker',
    subtitle: s.workerWebUiUrl,
    status: workerStatus(s),
    nav,
    live: WORKER_EVENTS_PATH,
    body: workerPageMain(s, query),
  });
}
