// The kill buttons of the master's page: Spark's MasterPage puts a "(kill)" link beside each running
// application and driver that POSTs `id` and `terminate=true` to `/app/kill/` or `/driver/kill/`
// (`handleAppKillRequest`, `handleDriverKillRequest`). Here each is a form with the session's CSRF token
// (docs/security.md, "The web UIs") and a `data-confirm` question that static/live.js asks before it submits.

import { attr, html, type SafeHtml } from './html.ts';

/** What a page needs to offer kill buttons: whether they are on, and the request's CSRF token (if a session). */
export interface KillControls {
  /** `flint.ui.killEnabled`: false hides every kill button. */
  readonly enabled: boolean;
  /** The session's CSRF token; undefined with a bearer token or an open UI (the form then carries none). */
  readonly csrfToken: string | undefined;
  /** `flint.decommission.enabled` on the master: the workers table offers a decommission button per ALIVE worker. */
  readonly decommissionEnabled?: boolean;
}

export const APP_KILL_PATH = '/app/kill/';
export const DRIVER_KILL_PATH = '/driver/kill/';
/** Spark's MasterWebUI path for decommissioning workers (DecommissionWorkersOnHosts); Flint also takes `id`. */
export const WORKERS_KILL_PATH = '/workers/kill/';

/** A kill button for `id`, POSTed to `action`; nothing when kills are off. */
export function killForm(controls: KillControls, action: typeof APP_KILL_PATH | typeof DRIVER_KILL_PATH, id: string, question: string): SafeHtml {
  if (!controls.enabled) return html``;
  return html`<form method="post" class="kill"${attr('action', action)}${attr('data-confirm', question)}>
<input type="hidden" name="id"${attr('value', id)}><input type="hidden" name="terminate" value="true">${csrfField(controls)}<button type="submit" class="danger">kill</button></form>`;
}

/** A decommission button for worker `id`, POSTed to WORKERS_KILL_PATH; nothing when decommissioning is off. */
export function decommissionForm(controls: KillControls, id: string, question: string): SafeHtml {
  if (controls.decommissionEnabled !== true) return html``;
  return html`<form method="post" class="kill"${attr('action', WORKERS_KILL_PATH)}${attr('data-confirm', question)}>
<input type="hidden" name="id"${attr('value', id)}>${csrfField(controls)}<button type="submit" class="danger">decommission</button></form>`;
}

function csrfField(controls: KillControls): SafeHtml | string {
  return controls.csrfToken === undefined ? '' : html`<input type="hidden" name="csrfToken"${attr('value', controls.csrfToken)}>`;
}
