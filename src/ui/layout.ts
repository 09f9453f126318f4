// The shell every page of the three web UIs (master, worker, application) shares: a header with the daemon, its
// state and its links, and a `<main>` that a page fills. Spark's `UIUtils.headerSparkPage` plays this part. The
// document works without any script; with /static/live.js, a page that names a `live` event stream has its `<main>`
// brought up to date with each update the server sends (server-sent events), so it follows the cluster as it changes.
// No inline script or style anywhere: the Content-Security-Policy forbids both.

import { html, joinHtml, type HtmlValue, type SafeHtml } from './html.ts';

export type Tone = 'ok' | 'warn' | 'bad' | 'idle';

export interface NavLink {
  readonly label: string;
  readonly href: string;
  readonly current?: boolean;
}

export interface PageShell {
  /** The document's title and the page's heading. */
  readonly title: string;
  /** Which UI: shown before the title. */
  readonly daemon: 'Master' | 'Worker' | 'Application';
  /** A line under the heading (the daemon's URL, say). */
  readonly subtitle?: HtmlValue;
  /** The daemon's state as a badge (ALIVE, STANDBY, RUNNING, …). */
  readonly status?: { readonly text: string; readonly tone: Tone };
  readonly nav?: readonly NavLink[];
  /** The event stream of this page (`/events/…`); the page's query string is added to it by the client. */
  readonly live?: string;
  /** More stylesheets under /static/ for this UI's own pages (after flint.css). */
  readonly styles?: readonly string[];
  /** More module scripts under /static/ for this page alone (after live.js); the page must read well without them. */
  readonly scripts?: readonly string[];
  readonly body: SafeHtml;
}

/** The static files every page loads (served under /static/, from the repository's static/ directory). */
export const STYLESHEET = '/static/flint.css';
export const LIVE_SCRIPT = '/static/live.js';
export const FAVICON = '/static/favicon.svg';

export function pageShell(page: PageShell): SafeHtml {
  const nav = page.nav === undefined || page.nav.length === 0 ? '' : html`<nav class="links">${joinHtml(page.nav.map(navLink))}</nav>`;
  const status = page.status === undefined ? '' : html` ${badge(page.status.text, page.status.tone)}`;
  const live =
    page.live === undefined
      ? ''
      : html`<span class="live-state" id="live-state" data-state="static" title="Updates as the cluster changes">live</span>`;
  return html`<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="color-scheme" content="light dark">
<title>${page.title} · Flint ${page.daemon}</title>
<link rel="icon" href="${FAVICON}" type="image/svg+xml">
<link rel="stylesheet" href="${STYLESHEET}">
${joinHtml((page.styles ?? []).map((href) => html`<link rel="stylesheet" href="${href}">`))}
<script type="module" src="${LIVE_SCRIPT}"></script>
${joinHtml((page.scripts ?? []).map((src) => html`<script type="module" src="${src}"></script>`))}
</head>
<body>
<header class="top">
  <div class="brand"><a href="/" class="logo">Flint</a><span class="daemon">${page.daemon}</span></div>
  ${nav}
  ${live}
</header>
<div class="heading">
  <h1>${page.title}${status}</h1>
  ${page.subtitle === undefined ? '' : html`<p class="subtitle">${page.subtitle}</p>`}
</div>
<main id="main"${page.live === undefined ? '' : html` data-live="${page.live}"`}>
${page.body}
</main>
</body>
</html>
`;
}

function navLink(link: NavLink): SafeHtml {
  return html`<a href="${link.href}"${link.current === true ? html` aria-current="page"` : ''}>${link.label}</a>`;
}

/** A state as a coloured label: ALIVE, RUNNING, DEAD, … */
export function badge(text: string, tone: Tone): SafeHtml {
  return html`<span class="badge ${tone}">${text}</span>`;
}

/** The tone of a worker's, an app's, a driver's or an executor's state, as Spark's UI colours them. */
export function toneOf(state: string): Tone {
  switch (state) {
    case 'ALIVE':
    case 'RUNNING':
    case 'FINISHED':
    case 'SUCCEEDED':
      return 'ok';
    case 'WAITING':
    case 'LAUNCHING':
    case 'SUBMITTED':
    case 'RELAUNCHING':
    case 'RECOVERING':
    case 'COMPLETING_RECOVERY':
    case 'STANDBY':
    case 'DECOMMISSIONED':
    case 'UNKNOWN':
    case 'EXITED':
      return 'warn';
    case 'DEAD':
    case 'FAILED':
    case 'KILLED':
    case 'LOST':
    case 'ERROR':
      return 'bad';
    default:
      return 'idle';
  }
}

/** A row of headline figures (the summary at the top of a page). */
export function summary(items: ReadonlyArray<readonly [label: string, value: HtmlValue]>): SafeHtml {
  return html`<dl class="summary">${joinHtml(items.map(([label, value]) => html`<div><dt>${label}</dt><dd>${value}</dd></div>`))}</dl>`;
}

/** A titled section of a page. */
export function section(title: string, body: SafeHtml, id?: string): SafeHtml {
  return html`<section${id === undefined ? '' : html` id="${id}"`}><h2>${title}</h2>${body}</section>`;
}

/** The route of a UI that leads its logged-in user to another UI of the cluster (src/daemons/master-ui.ts). */
export const GOTO_PATH = '/goto/';

/**
 * A link to a page of another daemon of the cluster (a worker's page, an executor's log): through this UI's
 * `/goto/`, which sends the browser on with a one-minute ticket, so the user need not log in to each daemon.
 */
export function crossUiHref(url: string): string {
  return `${GOTO_PATH}?to=${encodeURIComponent(url)}`;
}
