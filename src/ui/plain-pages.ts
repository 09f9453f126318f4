// The web UI server's own pages: not found, login needed, refused, internal error. Plain documents with no
// script and no inline style (the Content-Security-Policy allows neither), readable without the UI's CSS.

import { html, type SafeHtml } from './html.ts';

/** A whole document: a title and a body. `body` is markup from html`…`. */
export function plainPage(title: string, body: SafeHtml): SafeHtml {
  return html`<!DOCTYPE html>
<html lang="en">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><link rel="icon" href="/static/favicon.svg" type="image/svg+xml"><title>${title}</title></head>
<body>
<h1>${title}</h1>
${body}
</body>
</html>
`;
}

export function notFoundPage(path: string): SafeHtml {
  return plainPage('Not found', html`<p>There is no page at <code>${path}</code> on this server.</p><p><a href="/">Back to the start page</a></p>`);
}

export function internalErrorPage(): SafeHtml {
  return plainPage('Internal error', html`<p>This page failed to render. The daemon's log has the details.</p>`);
}

/** Why a request was not let in, as a sentence; the same reasons are the `error` of a JSON 401. */
export function loginNeededPage(reason: string): SafeHtml {
  return plainPage(
    'Login needed',
    html`<p>${reason}</p>
<p>To log in, open the login URL this daemon printed when it started (it ends in <code>/?token=…</code>).
Paste it into the address bar: because the session cookie is SameSite=Strict, following the link from another
site may not log you in.</p>
<p>Scripts send the token instead: <code>Authorization: Bearer &lt;token&gt;</code>.</p>`,
  );
}

export function forbiddenPage(reason: string): SafeHtml {
  return plainPage('Refused', html`<p>${reason}</p><p>Reload the page and try again.</p>`);
}
