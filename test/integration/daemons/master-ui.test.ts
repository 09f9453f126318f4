// The master's web UI over HTTP (docs/ui.md), against a real master and worker, each its own process with a shared
// secret: every route of src/daemons/master-ui.ts, the login (401 without a session or the bearer token; the
// login URL sets a cookie), a kill through the page's form with the session's CSRF token (refused without it),
// the live stream of `/` showing a worker within a second of its registration, flint.ui.killEnabled=false, and
// a taken UI port moving on (Spark's Utils.startServiceOnPort).

import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { AppClient } from '../../fixtures/app-client.ts';
import {
  authConf,
  logLine,
  newSecret,
  startMaster,
  startWorker,
  uiAuthHeaders,
  untilMasterJson,
  writeSecretFile,
  type MasterDaemon,
} from '../../helpers/daemons.ts';
import { ChildGroup, waitFor } from '../../helpers/process.ts';
import { tempDir } from '../../helpers/temp-dir.ts';

/** One server-sent event stream, read as it arrives: each `update` with the time it came. */
class EventReader {
  readonly updates: Array<{ atMs: number; data: string }> = [];
  readonly #abort = new AbortController();
  readonly done: Promise<void>;

  constructor(url: string, headers: Record<string, string>) {
    this.done = this.#read(url, headers).catch(() => {});
  }

  async #read(url: string, headers: Record<string, string>): Promise<void> {
    const res = await fetch(url, { headers, signal: this.#abort.signal });
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /^text\/event-stream/);
    const decoder = new TextDecoder();
    let buffered = '';
    for await (const chunk of res.body as AsyncIterable<Uint8Array>) {
      buffered += decoder.decode(chunk, { stream: true });
      let end: number;
      while ((end = buffered.indexOf('\n\n')) >= 0) {
        const event = buffered.slice(0, end);
        buffered = buffered.slice(end + 2);
        if (!event.split('\n').includes('event: update')) continue;
        const data = event.split('\n').filter((l) => l.startsWith('data: ')).map((l) => l.slice(6)).join('\n');
        this.updates.push({ atMs: Date.now(), data: JSON.parse(data) as string });
      }
    }
  }

  close(): void {
    this.#abort.abort();
  }
}

describe('the master web UI', { timeout: 90_000 }, () => {
  const children = new ChildGroup();
  const secret = newSecret();
  let dir: string;
  let secretFile: string;
  let master: MasterDaemon;
  let base: string;
  let bearer: Record<string, string>;
  let app: AppClient | undefined;
  let workerId = '';

  before(async () => {
    dir = tempDir('flint-master-ui-');
    secretFile = writeSecretFile(join(dir, 'secret'), secret);
    master = await startMaster(children, { label: 'master', secretFile });
    base = `http://127.0.0.1:${master.webUiPort}`;
    bearer = uiAuthHeaders(master.webUiPort);
    assert.ok(bearer['authorization'], 'the master logged its login URL');
  });

  after(async () => {
    await app?.stop();
    await children.killAll();
    rmSync(dir, { recursive: true, force: true });
  });

  test('the login URL is logged once; / is 401 without a session or bearer, and the login URL sets a cookie', async () => {
    const logins = master.child.stderrJson().filter((l) => typeof l['loginUrl'] === 'string');
    assert.equal(logins.length, 1, 'one login line');
    const loginUrl = String(logins[0]?.['loginUrl']);
    assert.equal(new URL(loginUrl).port, String(master.webUiPort));
    const anonymous = await fetch(`${base}/`);
    assert.equal(anonymous.status, 401);
    assert.equal((await fetch(`${base}/json`)).status, 401);
    assert.equal((await fetch(`${base}/`, { headers: { authorization: 'Bearer wrong-token-wrong-token' } })).status, 401);
    const login = await fetch(loginUrl, { redirect: 'manual' });
    assert.equal(login.status, 303);
    assert.equal(login.headers.get('location'), '/');
    const cookie = (login.headers.get('set-cookie') ?? '').split(';')[0] ?? '';
    assert.match(cookie, new RegExp(`^flint-ui-session-${master.webUiPort}=`));
    const page = await fetch(`${base}/`, { headers: { cookie } });
    assert.equal(page.status, 200);
    assert.match(await page.text(), /Master at flint:\/\/127\.0\.0\.1/);
    const withBearer = await fetch(`${base}/`, { headers: bearer });
    assert.equal(withBearer.status, 200);
    assert.match(withBearer.headers.get('content-security-policy') ?? '', /script-src 'self'/);
  });

  test('/healthz, /readyz and /static/ stay open', async () => {
    assert.equal((await fetch(`${base}/healthz`)).status, 200);
    assert.deepEqual(await (await fetch(`${base}/readyz`)).json(), { status: 'ALIVE' });
    const css = await fetch(`${base}/static/master.css`);
    assert.equal(css.status, 200);
    assert.match(await css.text(), /utilization/);
  });

  test('the live stream of / shows a worker within a second of its registration', async () => {
    const events = new EventReader(`${base}/events/master?workers.q=worker`, bearer);
    try {
      await waitFor(() => (events.updates.length > 0 ? true : undefined), { timeoutMs: 5_000, what: 'the first update' });
      const worker = await startWorker(children, { label: 'worker', masterUrl: master.url, secretFile, workDir: join(dir, 'work') });
      workerId = worker.workerId;
      const registered = await logLine(master.child, (l) => String(l['msg']).startsWith('Registering worker'), 'the master to register the worker');
      const update = await waitFor(() => events.updates.find((u) => u.data.includes(workerId)), { timeoutMs: 5_000, what: 'an update naming the worker' });
      const lagMs = update.atMs - Number(registered['time']);
      assert.ok(lagMs < 1_000, `the page showed the worker ${lagMs} ms after it registered`);
      assert.ok(!update.data.startsWith('<!DOCTYPE'), 'an update is the <main> only');
    } finally {
      events.close();
      await events.done;
    }
  });

  test('/goto/ leads to a worker\'s page with a one-use ticket the worker takes as a login, and nowhere else', async () => {
    assert.ok(workerId !== '', 'a worker registered in the test before');
    const json = (await (await fetch(`${base}/json`, { headers: bearer })).json()) as { workers: Array<{ id: string; webuiaddress: string }> };
    const workerUi = json.workers.find((w) => w.id === workerId)?.webuiaddress ?? '';
    const go = await fetch(`${base}/goto/?to=${encodeURIComponent(`${workerUi}/logPage/?self`)}`, { headers: bearer, redirect: 'manual' });
    assert.equal(go.status, 303);
    const location = new URL(go.headers.get('location') ?? '');
    assert.equal(location.origin, new URL(workerUi).origin);
    assert.equal(location.pathname, '/logPage/');
    const ticket = location.searchParams.get('ticket') ?? '';
    assert.match(ticket, /^\d+\.[A-Za-z0-9_-]{16}\.[A-Za-z0-9_-]{43}$/);
    assert.ok(!location.href.includes(bearer['authorization']?.slice('Bearer '.length) ?? '@@'), 'the token itself is not in the link');
    const atWorker = await fetch(location, { redirect: 'manual' });
    assert.equal(atWorker.status, 303, 'the worker takes the ticket as a login');
    assert.match(atWorker.headers.get('location') ?? '', /^\/logPage\/\?self=?$/, 'on to the page, without the ticket');
    const cookie = (atWorker.headers.get('set-cookie') ?? '').split(';')[0] ?? '';
    assert.equal((await fetch(`${workerUi}/json`, { headers: { cookie } })).status, 200, 'and the session it started works');
    assert.equal((await fetch(location, { redirect: 'manual' })).status, 401, 'a ticket is taken once');
    for (const to of ['https://evil.example/', 'javascript:alert(1)', '', `${base}/`]) {
      const refused = await fetch(`${base}/goto/?to=${encodeURIComponent(to)}`, { headers: bearer, redirect: 'manual' });
      assert.equal(refused.status, 400, `goto ${to}`);
    }
    assert.equal((await fetch(`${base}/goto/?to=${encodeURIComponent(workerUi)}`, { redirect: 'manual' })).status, 401, 'only for a logged-in user');
  });

  test('/json, /json/<field> and /json/clusterutilization', async () => {
    await untilMasterJson(master.webUiPort, (j) => j.aliveworkers === 1, 'the worker ALIVE');
    const field = (await (await fetch(`${base}/json/aliveworkers`, { headers: bearer })).json()) as Record<string, unknown>;
    assert.deepEqual(field, { aliveworkers: 1 });
    const unknown = await fetch(`${base}/json/nosuchfield`, { headers: bearer });
    assert.equal(unknown.status, 200, 'Spark 4 answers an unknown field with an empty string');
    assert.deepEqual(await unknown.json(), { nosuchfield: '' });
    const slash = (await (await fetch(`${base}/json/`, { headers: bearer })).json()) as Record<string, unknown>;
    assert.equal(slash['status'], 'ALIVE');
    const util = (await (await fetch(`${base}/json/clusterutilization`, { headers: bearer })).json()) as Record<string, unknown>;
    assert.deepEqual(Object.keys(util), ['waitingDrivers', 'cores', 'coresused', 'coresutilization', 'memory', 'memoryused', 'memoryutilization']);
    assert.equal(util['cores'], 1);
  });

  test('/app/?appId= shows an application; an unknown one is 404; a kill needs the session\'s CSRF token', async () => {
    app = await AppClient.register({ masterUrl: master.url, conf: authConf(secret), name: '<script>alert(1)</script>', maxCores: 1, memoryMbPerExecutor: 128 });
    const appId = app.appId;
    const page = await fetch(`${base}/app/?appId=${appId}`, { headers: bearer });
    assert.equal(page.status, 200);
    const text = await page.text();
    assert.ok(text.includes(appId) && text.includes('&lt;script&gt;alert(1)&lt;/script&gt;') && !text.includes('<script>alert(1)'));
    assert.equal((await fetch(`${base}/app/?appId=app-00000000000000-9999`, { headers: bearer })).status, 404);
    assert.equal((await fetch(`${base}/app/`, { headers: bearer })).status, 404);
    const appEvents = new EventReader(`${base}/events/app?appId=${appId}`, bearer);
    await waitFor(() => (appEvents.updates.some((u) => u.data.includes(appId)) ? true : undefined), { timeoutMs: 5_000, what: 'the app page stream' });
    appEvents.close();
    await appEvents.done;

    // A browser session: log in, read the kill form's CSRF token off the page.
    const login = await fetch(`${base}/?token=${encodeURIComponent((bearer['authorization'] ?? '').slice(7))}`, { redirect: 'manual' });
    const cookie = (login.headers.get('set-cookie') ?? '').split(';')[0] ?? '';
    const home = await (await fetch(`${base}/`, { headers: { cookie } })).text();
    const csrf = /name="csrfToken" value="([^"]+)"/.exec(home)?.[1];
    assert.ok(csrf, 'the page has a kill form with the CSRF token');
    assert.ok(home.includes(`action="/app/kill/"`) && home.includes(`value="${appId}"`));
    const form = (fields: Record<string, string>) => ({
      method: 'POST',
      redirect: 'manual' as const,
      headers: { cookie, 'content-type': 'application/x-www-form-urlencoded', origin: base },
      body: new URLSearchParams(fields).toString(),
    });
    const refused = await fetch(`${base}/app/kill/`, form({ id: appId, terminate: 'true' }));
    assert.equal(refused.status, 403, 'no CSRF token');
    assert.equal((await untilMasterJson(master.webUiPort, () => true, 'the state')).activeapps.length, 1, 'still running');
    const killed = await fetch(`${base}/app/kill/`, form({ id: appId, terminate: 'true', csrfToken: csrf }));
    assert.equal(killed.status, 303);
    assert.equal(killed.headers.get('location'), '/');
    await untilMasterJson(master.webUiPort, (j) => j.activeapps.length === 0, 'the app gone');
    const json = (await (await fetch(`${base}/json/completedapps`, { headers: bearer })).json()) as { completedapps: Array<{ id: string; state: string }> };
    assert.equal(json.completedapps.find((a) => a.id === appId)?.state, 'KILLED');
    const killedPage = await (await fetch(`${base}/app/?appId=${appId}`, { headers: bearer })).text();
    assert.match(killedPage, /KILLED/, 'a completed app still has its page');
  });

  test('/driver/kill/ with the bearer token: an unknown driver changes nothing, and GET is 405', async () => {
    const res = await fetch(`${base}/driver/kill/`, {
      method: 'POST',
      redirect: 'manual',
      headers: { ...bearer, 'content-type': 'application/x-www-form-urlencoded' },
      body: 'id=driver-00000000000000-0000&terminate=true',
    });
    assert.equal(res.status, 303);
    assert.equal((await fetch(`${base}/driver/kill/`, { headers: bearer })).status, 405);
    assert.equal((await fetch(`${base}/app/kill`, { headers: bearer })).status, 405);
  });

  test('flint.ui.killEnabled=false: no kill buttons, and a kill is 403 with the reason; a taken UI port moves on', async () => {
    const taken = createServer();
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
    const port = (taken.address() as { port: number }).port;
    try {
      const other = await startMaster(children, { label: 'master without kills', secretFile, conf: ['flint.ui.killEnabled=false', `flint.master.ui.port=${port}`] });
      assert.ok(other.webUiPort > port, `the UI moved on from the taken port ${port} to ${other.webUiPort}`);
      const otherBase = `http://127.0.0.1:${other.webUiPort}`;
      const headers = uiAuthHeaders(other.webUiPort);
      const res = await fetch(`${otherBase}/app/kill/`, { method: 'POST', headers: { ...headers, 'content-type': 'application/json' }, body: JSON.stringify({ id: 'x', terminate: 'true' }) });
      assert.equal(res.status, 403);
      assert.match(String(((await res.json()) as { error: string }).error), /flint\.ui\.killEnabled=false/);
      assert.ok(!(await (await fetch(`${otherBase}/`, { headers })).text()).includes('/kill/'));
    } finally {
      taken.close();
    }
  });
});
