// `/goto/?to=<url>`: from one web UI of the cluster to another without a second login (docs/security.md, "From one UI
// of the cluster to another"). The daemon answers with a redirect to that page carrying a one-minute, single-use
// ticket signed with the UI token the cluster's UIs share (src/io/http/ui-auth.ts `issueTicket`). Only pages of the
// UIs this daemon knows (a master's workers, a worker's master) are destinations: anything else is refused, so this
// is no open redirect.

import { issueTicket } from '../io/http/ui-auth.ts';
import { UiReply, type UiRequest, type UiRoute } from '../io/http/ui-server.ts';
import { html } from '../ui/html.ts';
import { GOTO_PATH } from '../ui/layout.ts';
import { plainPage } from '../ui/plain-pages.ts';

export interface GotoOptions {
  /** The web UI URLs (`http://host:port`) this daemon may send a user to, as they are now. */
  readonly destinations: () => Iterable<string>;
  /** The UI token; undefined for an open UI (the redirect then carries no ticket). */
  readonly uiToken: string | undefined;
  /** What the refusal says this daemon leads to: "its workers' pages". */
  readonly leadsTo: string;
}

export function gotoRoutes(options: GotoOptions): UiRoute[] {
  const handler = gotoHandler(options);
  return [GOTO_PATH, GOTO_PATH.slice(0, -1)].map((path): UiRoute => ({ kind: 'page', path, handler }));
}

function gotoHandler(options: GotoOptions): (req: UiRequest) => UiReply {
  return (req) => {
    const to = req.query.get('to') ?? '';
    const url = parseUrl(to);
    const known =
      url !== undefined && (url.protocol === 'http:' || url.protocol === 'https:') && [...options.destinations()].some((d) => parseUrl(d)?.origin === url.origin);
    if (url === undefined || !known) {
      return UiReply.page(
        400,
        plainPage('Not a page of this cluster', html`<p>This UI leads only to ${options.leadsTo}; <code>${to.slice(0, 200)}</code> is not one.</p><p><a href="/">Back</a></p>`),
      );
    }
    if (options.uiToken !== undefined) url.searchParams.set('ticket', issueTicket(options.uiToken, Date.now()));
    return UiReply.elsewhere(url.toString());
  };
}

function parseUrl(text: string): URL | undefined {
  try {
    return new URL(text);
  } catch {
    return undefined;
  }
}
