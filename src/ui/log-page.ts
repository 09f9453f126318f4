// The log page (`/logPage/`): Spark's worker `LogPage.render`. It shows bytes startByte–endByte of a log of
// totalLength bytes, with "Load more" (earlier bytes, added before what is shown) and "Load new" (the bytes after
// what is shown) as plain links that work with no script, where Spark's page needs its `loadMore()`/`loadNew()`
// scripts. Two more links: download (`/log?…`, the whole log as a file) and follow, whose page tails the log
// live through `/events/log?…` (static/log.js appends each `append` event to the <pre>; without the script the
// page still shows the log as of its load). The slice itself is read by src/io/logs (`readLog`).

import { formatBytes } from './format.ts';
import { attr, html, type SafeHtml } from './html.ts';
import { crossUiHref, pageShell } from './layout.ts';

/** Whose log a page shows (the same shape as src/io/logs' LogTarget). */
export type LogPageTarget =
  | { readonly kind: 'executor'; readonly appId: string; readonly executorId: string; readonly logType: 'stdout' | 'stderr' }
  | { readonly kind: 'driver'; readonly driverId: string; readonly logType: 'stdout' | 'stderr' }
  | { readonly kind: 'daemon' };

export interface LogPageView {
  readonly target: LogPageTarget;
  /** What src/io/logs `readLog` returned. */
  readonly slice: { readonly text: string; readonly startByte: number; readonly endByte: number; readonly totalLength: number };
  /** The window the request asked for (its `byteLength`, or Spark's 100 KiB default). */
  readonly byteLength: number;
  /** The most bytes one page shows (src/io/logs MAX_LOG_BYTES): "Load more" stops growing the window there. */
  readonly maxBytes: number;
  /** The page was asked to follow the log (`follow=1`). */
  readonly follow: boolean;
  /** The master's web UI, for a link back; "" when none is known. */
  readonly masterWebUiUrl: string;
}

/** The script of a following log page. */
export const LOG_SCRIPT = '/static/log.js';
/** Where a following page's text comes from. */
export const LOG_EVENTS_PATH = '/events/log';

/** The query parameters that name a log: `appId`+`executorId`, `driverId` or `self`, with `logType`. */
export function logTargetParams(target: LogPageTarget): URLSearchParams {
  switch (target.kind) {
    case 'executor':
      return new URLSearchParams({ appId: target.appId, executorId: target.executorId, logType: target.logType });
    case 'driver':
      return new URLSearchParams({ driverId: target.driverId, logType: target.logType });
    case 'daemon':
      return new URLSearchParams({ self: '' });
  }
}

/** `path?<target>&<more>`. */
export function logUrl(path: string, target: LogPageTarget, more: Readonly<Record<string, string | number>> = {}): string {
  const params = logTargetParams(target);
  for (const [name, value] of Object.entries(more)) params.set(name, String(value));
  return `${path}?${params.toString()}`;
}

/** `app-1/0 stdout`, `driver-1 stderr`, `the worker's own log`. */
export function logTitle(target: LogPageTarget): string {
  switch (target.kind) {
    case 'executor':
      return `${target.logType} log page for ${target.appId}/${target.executorId}`;
    case 'driver':
      return `${target.logType} log page for ${target.driverId}`;
    case 'daemon':
      return "The worker's own log";
  }
}

/** The file name a download is saved under: ids are plain ids (src/io/logs checks them), so the name is too. */
export function logFileName(target: LogPageTarget): string {
  switch (target.kind) {
    case 'executor':
      return `${target.appId}-${target.executorId}-${target.logType}.log`;
    case 'driver':
      return `${target.driverId}-${target.logType}.log`;
    case 'daemon':
      return 'worker.log';
  }
}

/** The links around the text: earlier, later, latest, download, follow. */
function actions(view: LogPageView): SafeHtml {
  const { target, slice, byteLength, maxBytes } = view;
  const from = Math.max(0, slice.startByte - byteLength);
  const more = slice.startByte > 0 ? html`<a${attr('href', logUrl('/logPage/', target, { offset: from, byteLength: Math.min(maxBytes, slice.endByte - from) }))}>Load more</a>` : html`<span>Start of log</span>`;
  const newer = html`<a${attr('href', logUrl('/logPage/', target, { offset: slice.endByte, byteLength }))}>Load new</a>`;
  const latest = html`<a${attr('href', logUrl('/logPage/', target, { byteLength }))}>Latest</a>`;
  const download = html`<a${attr('href', logUrl('/log', target))} download>Download</a>`;
  const follow = view.follow
    ? html`<a${attr('href', logUrl('/logPage/', target, { byteLength }))}>Stop following</a>`
    : html`<a${attr('href', logUrl('/logPage/', target, { byteLength, follow: 1 }))}>Follow</a>`;
  return html`<nav class="log-actions" aria-label="Log">${more} ${newer} ${latest} ${download} ${follow}</nav>`;
}

/** The page's <main>. */
export function logPageMain(view: LogPageView): SafeHtml {
  const { slice } = view;
  const shown = slice.endByte - slice.startByte;
  const range = html`<p id="log-range">Showing ${formatBytes(shown)}: bytes ${slice.startByte} – ${slice.endByte} of ${slice.totalLength}</p>`;
  const end = slice.endByte >= slice.totalLength ? html`<p class="log-end" id="log-end">End of log${view.follow ? ' (following: new output appears below)' : ''}</p>` : '';
  const followAttr = view.follow ? attr('data-follow', logUrl(LOG_EVENTS_PATH, view.target, { offset: slice.endByte })) : attr('data-follow', null);
  const back = view.masterWebUiUrl === '' ? '' : html`<p><a${attr('href', crossUiHref(view.masterWebUiUrl))}>Back to Master</a></p>`;
  return html`${back}${range}${actions(view)}
<pre class="log" id="log-text"${followAttr}>${slice.text}</pre>
${end}`;
}

/** The whole document. */
export function logPage(view: LogPageView): SafeHtml {
  return pageShell({
    title: logTitle(view.target),
    daemon: 'Worker',
    nav: [
      { label: 'Worker', href: '/' },
      { label: 'Log', href: '/logPage/?self', current: view.target.kind === 'daemon' },
    ],
    ...(view.follow ? { scripts: [LOG_SCRIPT] } : {}),
    body: logPageMain(view),
  });
}

/** A refused log request (400: a bad parameter; 404: no such log), naming the problem. */
export function logProblemPage(status: 400 | 404, message: string): SafeHtml {
  return pageShell({
    title: status === 400 ? 'Bad log request' : 'No such log',
    daemon: 'Worker',
    nav: [{ label: 'Worker', href: '/' }],
    body: html`<p class="notice">${message}</p>
<p>A log page names <code>appId</code> and <code>executorId</code>, or <code>driverId</code>, with <code>logType=stdout</code> or
<code>logType=stderr</code>; or <code>self</code> for the worker's own log. <code>offset</code> and <code>byteLength</code> are byte counts.</p>`,
  });
}
