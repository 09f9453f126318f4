// The application UI's executors and environment tabs. Executors: Spark's `ExecutorsPage` (id, address, cores,
// active/completed/failed tasks, task time, log links), with the age of each executor's last heartbeat
// (Spark's `HeartbeatReceiver` keeps it, its page does not show it), and when each was added and removed (Spark's
// event timeline on its jobs page draws the same: executors coming with dynamic allocation and going). Environment: Spark's `EnvironmentPage`,
// with values redacted as `Utils.redact` does.

import type { ExecutorHistorySnapshot } from '../driver/index.ts';
import { appPage, appSummary, dateOf, type AppUiModel } from './app-ui.ts';
import { formatDuration } from './format.ts';
import { attr, html, joinHtml, type SafeHtml } from './html.ts';
import { badge, section } from './layout.ts';
import { dataTable } from './table.ts';
import { REDACTED } from '../conf/flint-conf.ts';

function logLinks(e: ExecutorHistorySnapshot): SafeHtml {
  const links = Object.entries(e.logUrls).sort(([a], [b]) => a.localeCompare(b));
  return joinHtml(
    links.map(([name, url]) => html`<a${attr('href', url)}>${name}</a>`),
    ' ',
  );
}

function heartbeatAge(model: AppUiModel, e: ExecutorHistorySnapshot): number {
  return Math.max(0, (e.removedMs ?? model.nowMs) - e.lastHeartbeatMs);
}

/** The <main> of /executors/. */
export function executorsMain(model: AppUiModel): SafeHtml {
  const executors = model.history.executors;
  const active = executors.filter((e) => e.removedMs === undefined);
  const sum = (pick: (e: ExecutorHistorySnapshot) => number) => executors.reduce((total, e) => total + pick(e), 0);
  const table = dataTable({
    id: 'executors',
    columns: [
      { key: 'id', label: 'Executor Id', value: (e: ExecutorHistorySnapshot) => e.executorId },
      { key: 'address', label: 'Address', value: (e) => e.address },
      { key: 'host', label: 'Host', value: (e) => e.host },
      { key: 'state', label: 'Status', value: (e) => (e.removedMs === undefined ? 'Active' : 'Dead'), cell: (e) => (e.removedMs === undefined ? badge('Active', 'ok') : html`${badge('Dead', 'bad')} <span class="muted">${e.removedReason ?? ''}</span>`) },
      { key: 'logs', label: 'Logs', value: (e) => Object.keys(e.logUrls).join(' '), cell: logLinks },
      { key: 'cores', label: 'Cores', value: (e) => e.cores, numeric: true },
      { key: 'active', label: 'Active Tasks', value: (e) => e.activeTasks, numeric: true },
      { key: 'completed', label: 'Completed Tasks', value: (e) => e.completedTasks, numeric: true },
      { key: 'failed', label: 'Failed Tasks', value: (e) => e.failedTasks, numeric: true },
      { key: 'time', label: 'Task Time', value: (e) => e.totalTaskTimeMs, cell: (e) => formatDuration(e.totalTaskTimeMs), numeric: true },
      { key: 'heartbeat', label: 'Last Heartbeat', value: (e) => heartbeatAge(model, e), cell: (e) => `${formatDuration(heartbeatAge(model, e))} ago`, numeric: true },
      { key: 'added', label: 'Added', value: (e) => dateOf(model, e.addedMs) },
      // When it left (lost, decommissioned, or released by dynamic allocation): with Added, the executor timeline.
      { key: 'removed', label: 'Removed', value: (e) => (e.removedMs === undefined ? '' : dateOf(model, e.removedMs)) },
    ],
    rows: executors,
    query: model.query,
    // By id, as numbers (0, 1, 2, 10), as the master lists its workers: not in the order they registered.
    defaultSort: { key: 'id', desc: false },
    empty: 'No executor has registered yet.',
  });
  return html`${appSummary(model, [
    ['Active executors', active.length],
    ['Dead executors', executors.length - active.length],
    ['Cores', active.reduce((total, e) => total + e.cores, 0)],
    ['Active tasks', sum((e) => e.activeTasks)],
    ['Completed tasks', sum((e) => e.completedTasks)],
    ['Failed tasks', sum((e) => e.failedTasks)],
  ])}
${section(`Executors (${executors.length})`, table, 'executors-section')}`;
}

export function executorsPage(model: AppUiModel): SafeHtml {
  return appPage(model, 'executors', { title: 'Executors', live: '/events/executors', body: executorsMain(model) });
}

/** What Spark's `spark.redaction.regex` is by default; Flint's `flint.redaction.regex` the same. */
export const DEFAULT_REDACTION_REGEX = '(?i)secret|password|token|access[.]?key';

/**
 * The pattern of a redaction setting, as Java writes it: a leading `(?i)` means ignore case (JavaScript takes it as
 * a flag). Throws a SyntaxError for a pattern that does not compile.
 */
export function redactionPattern(source: string): RegExp {
  return source.startsWith('(?i)') ? new RegExp(source.slice(4), 'i') : new RegExp(source);
}

/** Spark's `Utils.redact(regex, kvs)`: a value whose key or value matches the pattern is replaced. */
export function redact(entries: ReadonlyArray<readonly [string, string]>, pattern: RegExp): Array<[string, string]> {
  return entries.map(([key, value]) => [key, pattern.test(key) || pattern.test(value) ? REDACTED : value]);
}

export interface EnvironmentModel {
  /** Runtime information (Node version, platform, main module, …): shown as is. */
  readonly runtime: ReadonlyArray<readonly [string, string]>;
  /** The application's settings, already redacted (`redact`). */
  readonly settings: ReadonlyArray<readonly [string, string]>;
}

function pairs(id: string, rows: ReadonlyArray<readonly [string, string]>, model: AppUiModel, empty: string): SafeHtml {
  return dataTable({
    id,
    columns: [
      { key: 'name', label: 'Name', value: (r: readonly [string, string]) => r[0] },
      { key: 'value', label: 'Value', value: (r) => r[1], cell: (r) => html`<span class="value">${r[1]}</span>` },
    ],
    rows,
    query: model.query,
    defaultSort: { key: 'name', desc: false },
    empty,
  });
}

/** The <main> of /environment/. */
export function environmentMain(model: AppUiModel, env: EnvironmentModel): SafeHtml {
  return html`${section('Runtime information', pairs('runtime', env.runtime, model, 'Nothing known.'), 'runtime-section')}
${section('Flint properties', pairs('properties', env.settings, model, 'No setting was given.'), 'properties-section')}`;
}

export function environmentPage(model: AppUiModel, env: EnvironmentModel): SafeHtml {
  return appPage(model, 'environment', { title: 'Environment', live: '/events/environment', body: environmentMain(model, env) });
}
