// Who gets into a web UI (docs/security.md, "The web UIs"): the login URL starts a cookie session and sends
// the browser on without the token; scripts use the bearer token; everything else is 401 (a page for pages,
// JSON for the rest) except /healthz and /readyz. Every POST needs a same-origin request and, from a session,
// its CSRF token. Through all of it the secret never leaves the process, and the token goes only where it must.

import assert from 'node:assert/strict';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { FlintConf } from '../../../../src/conf/flint-conf.ts';
import { readSslOptions } from '../../../../src/io/tls/ssl-options.ts';
import { deriveUiToken, issueTicket, TICKET_TTL_MS, verifyTicket } from '../../../../src/io/http/ui-auth.ts';
import { UiReply, type UiRoute } from '../../../../src/io/http/ui-server.ts';
import { attr, html } from '../../../../src/ui/html.ts';
import { makeTestCerts, tlsConfPairs } from '../../../helpers/certs.ts';
import { responseText, startHarness, type Harness } from './ui-harness.ts';
import { tempDir } from '../../../helpers/temp-dir.ts';

const SECRET = 'cluster-secret-Zq8v1Lw3-never-print-me';
const TOKEN = deriveUiToken(SECRET);

const routes: UiRoute[] = [
  {
    kind: 'page',
    path: '/',
    handler: (req) => html`<form method="post" action="/app/kill"><input type="hidden" name="csrfToken"${attr('value', req.csrfToken)}></form>`,
  },
  { kind: 'page', path: '/app/:appId', handler: (req) => html`<p>${req.params['appId']} ${req.query.toString()}</p>` },
  { kind: 'json', path: '/json', handler: (req) => ({ access: req.access }) },
  { kind: 'json', path: '/healthz', handler: () => ({ status: 'ok' }) },
  { kind: 'json', path: '/readyz', handler: () => ({ status: 'ALIVE' }) },
  { kind: 'events', path: '/events', handler: (_req, stream) => void stream.send('hello', {}) },
  { kind: 'action', path: '/app/kill', handler: (req) => (req.access === 'session' ? UiReply.redirect('/') : { killed: true }) },
];

/** The session cookie `res` set, as `name=value` for a Cookie header. */
function sessionCookie(res: Response): string {
  const [cookie] = res.headers.getSetCookie();
  assert.ok(cookie, 'a session cookie was set');
  return cookie.split(';')[0] as string;
}

async function login(h: Harness): Promise<{ cookie: string; csrf: string }> {
  const res = await h.get(`/?token=${encodeURIComponent(TOKEN)}`);
  assert.equal(res.status, 303);
  const cookie = sessionCookie(res);
  const page = await (await h.get('/', { headers: { cookie } })).text();
  const csrf = /name="csrfToken" value="([^"]+)"/.exec(page)?.[1];
  assert.ok(csrf, `the page embeds the CSRF token: ${page}`);
  return { cookie, csrf };
}

/** GET with a raw request target (fetch would resolve `//host/` against the base URL). */
function rawGet(port: number, target: string): Promise<{ status: number; location: string | undefined }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: '127.0.0.1', port, path: target, method: 'GET' }, (res) => {
      res.resume();
      resolve({ status: res.statusCode ?? 0, location: res.headers.location });
    });
    req.on('error', reject);
    req.end();
  });
}

describe('tickets from another UI of the cluster (the master\'s /goto/)', () => {
  let h: Harness;
  before(async () => {
    h = await startHarness({ routes, secret: SECRET });
  });
  after(() => h.server.close());

  test('a ticket signed with the shared token lets one browser in once, and is gone from the URL it lands on', async () => {
    const ticket = issueTicket(TOKEN, Date.now());
    assert.ok(!ticket.includes(TOKEN), 'the token itself is not in the ticket');
    const res = await h.get(`/app/app-1?x=1&ticket=${encodeURIComponent(ticket)}`);
    assert.equal(res.status, 303);
    assert.equal(res.headers.get('location'), '/app/app-1?x=1');
    const cookie = sessionCookie(res);
    assert.equal((await h.get('/json', { headers: { cookie } })).status, 200);
    const again = await h.get(`/app/app-1?ticket=${encodeURIComponent(ticket)}`);
    assert.equal(again.status, 401, 'a ticket is taken once');
    assert.match(await again.text(), /expired or was used already/);
  });

  test('a ticket made with another token, tampered with or expired is refused', async () => {
    const now = Date.now();
    assert.equal(verifyTicket(TOKEN, issueTicket('some-other-cluster-token', now), now), undefined);
    const good = issueTicket(TOKEN, now);
    assert.ok(verifyTicket(TOKEN, good, now) !== undefined);
    assert.equal(verifyTicket(TOKEN, good, now + TICKET_TTL_MS + 1), undefined, 'expired');
    const [expires, nonce, mac] = good.split('.') as [string, string, string];
    assert.equal(verifyTicket(TOKEN, `${Number(expires) + 1000}.${nonce}.${mac}`, now), undefined, 'its expiry moved');
    const otherFirst = mac.startsWith('A') ? 'B' : 'A'; // a character that differs, whatever the MAC begins with
    assert.equal(verifyTicket(TOKEN, `${expires}.${nonce}.${otherFirst}${mac.slice(1)}`, now), undefined, 'its MAC changed');
    assert.equal((await h.get(`/json?ticket=${encodeURIComponent(issueTicket('other-token-abcdefgh', now))}`)).status, 401);
  });
});

describe('a UI with a token derived from the cluster secret', () => {
  let h: Harness;
  const seen: string[] = [];
  const keep = async (res: Response): Promise<Response> => {
    seen.push(await responseText(res.clone()));
    return res;
  };
  before(async () => {
    h = await startHarness({ routes, secret: SECRET, maxSessions: 3 });
  });
  after(() => h.server.close());

  test('the login URL holds the derived token, never the secret', () => {
    assert.notEqual(TOKEN, SECRET);
    assert.equal(h.server.loginUrl, `http://127.0.0.1:${h.server.port}/?token=${encodeURIComponent(TOKEN)}`);
    assert.ok(!h.server.loginUrl?.includes(SECRET));
    assert.equal(deriveUiToken(SECRET), TOKEN, 'the same secret gives every daemon the same token');
    assert.notEqual(deriveUiToken(`${SECRET}x`), TOKEN);
  });

  test('without a login: 401, a page saying how to log in for pages, JSON for the rest', async () => {
    const page = await keep(await h.get('/app/a1'));
    assert.equal(page.status, 401);
    assert.equal(page.headers.get('www-authenticate'), 'Bearer realm="flint"');
    const text = await page.text();
    assert.match(text, /<h1>Login needed<\/h1>/);
    assert.match(text, /\/\?token=/);
    assert.match(text, /Authorization: Bearer &lt;token&gt;/);
    for (const path of ['/json', '/events', '/api/x']) {
      const res = await keep(await h.get(path));
      assert.equal(res.status, 401, path);
      assert.deepEqual(await res.json(), { error: 'This UI needs a login.' }, path);
    }
    const post = await keep(await h.post('/app/kill', { headers: { 'content-type': 'application/json' }, body: '{}' }));
    assert.equal(post.status, 401);
  });

  test('/healthz and /readyz answer without a login', async () => {
    for (const path of ['/healthz', '/readyz']) assert.equal((await keep(await h.get(path))).status, 200, path);
  });

  test('the login URL starts a session (HttpOnly, SameSite=Strict) and redirects to the same URL without the token', async () => {
    const res = await keep(await h.get(`/app/a1?keep=1&token=${encodeURIComponent(TOKEN)}&also=2`));
    assert.equal(res.status, 303);
    assert.equal(res.headers.get('location'), '/app/a1?keep=1&also=2');
    const [setCookie] = res.headers.getSetCookie();
    assert.match(setCookie ?? '', new RegExp(`^flint-ui-session-${h.server.port}=[A-Za-z0-9_-]{43}; Max-Age=43200; Path=/; HttpOnly; SameSite=Strict$`));
    const cookie = sessionCookie(res);
    const page = await keep(await h.get('/app/a1?keep=1&also=2', { headers: { cookie } }));
    assert.equal(page.status, 200);
    assert.equal(await page.text(), '<p>a1 keep=1&amp;also=2</p>');
    const json = await keep(await h.get('/json', { headers: { cookie } }));
    assert.deepEqual(await json.json(), { access: 'session' });
    assert.ok(h.log.some((l) => l.msg === 'a web UI login started a session'));
  });

  test('the redirect after login cannot leave this server', async () => {
    for (const target of [`//evil.example/?token=${TOKEN}`, `/\\evil.example/?token=${TOKEN}`, `///evil.example/x?token=${TOKEN}`]) {
      const res = await rawGet(h.server.port, target);
      assert.equal(res.status, 303, target);
      assert.match(res.location ?? '', /^\/[^/\\]/, `${target} → ${res.location}`);
    }
  });

  test('a wrong token in the URL is 401 and starts nothing', async () => {
    const wrong = `${TOKEN.startsWith('A') ? 'B' : 'A'}${TOKEN.slice(1)}`; // differs from the token, whatever it is
    const res = await keep(await h.get(`/?token=${encodeURIComponent(wrong)}`));
    assert.equal(res.status, 401);
    assert.deepEqual(res.headers.getSetCookie(), []);
    assert.match(await res.text(), /The token in this URL is not this UI&#39;s token/);
    assert.ok(h.log.some((l) => l.level === 'warn' && l.msg === 'a web UI login with a wrong token'));
  });

  test('wrong tokens by the hundred write a bounded number of warnings (LogLimiter)', async () => {
    const warnings = () => h.log.filter((l) => l.msg.startsWith('a web UI login with a wrong token')).length;
    const before = warnings();
    for (let i = 0; i < 40; i++) assert.equal((await h.get(`/?token=wrong-${i}`)).status, 401);
    assert.ok(warnings() - before <= 20, `${warnings() - before} warnings`);
  });

  test('scripts get in with Authorization: Bearer <token>; a wrong or other scheme is 401', async () => {
    const ok = await keep(await h.get('/json', { headers: { authorization: `Bearer ${TOKEN}` } }));
    assert.deepEqual(await ok.json(), { access: 'bearer' });
    for (const authorization of [`Bearer ${TOKEN}x`, `Bearer ${SECRET}`, `Basic ${Buffer.from(`u:${TOKEN}`).toString('base64')}`, 'Bearer']) {
      const res = await keep(await h.get('/json', { headers: { authorization } }));
      assert.equal(res.status, 401, authorization);
      assert.match(((await res.json()) as { error: string }).error, /Authorization header/);
    }
  });

  test('a session ends after flint.ui.session.timeout (12h)', async () => {
    const { cookie } = await login(h);
    h.advance(12 * 3600_000 - 1);
    assert.equal((await keep(await h.get('/json', { headers: { cookie } }))).status, 200);
    h.advance(1);
    const res = await keep(await h.get('/json', { headers: { cookie } }));
    assert.equal(res.status, 401);
    assert.match(((await res.json()) as { error: string }).error, /session has expired/);
  });

  test('at most maxSessions live at once: a new login past it ends the oldest', async () => {
    const first = await login(h);
    await login(h);
    await login(h);
    await login(h);
    assert.equal((await keep(await h.get('/json', { headers: { cookie: first.cookie } }))).status, 401);
  });

  describe('POST from a session', () => {
    let s: { cookie: string; csrf: string };
    before(async () => {
      s = await login(h);
    });
    const post = (headers: Record<string, string>, body: URLSearchParams | string = new URLSearchParams({ id: 'a1' })) =>
      h.post('/app/kill', { headers: { cookie: s.cookie, ...headers }, body }).then(keep);

    test('without a CSRF token: 403 naming what is missing', async () => {
      const res = await post({});
      assert.equal(res.status, 403);
      assert.match(await res.text(), /carries no CSRF token: send the page&#39;s csrfToken form field or an X-CSRF-Token header/);
    });

    test('with a wrong CSRF token: 403', async () => {
      const res = await post({ 'x-csrf-token': `${s.csrf}x` });
      assert.equal(res.status, 403);
      assert.match(await res.text(), /not this session&#39;s/);
      const other = await login(h);
      assert.equal((await post({ 'x-csrf-token': other.csrf })).status, 403, "another session's token does not do");
    });

    test("with the session's token, in the form or the header: done", async () => {
      const field = await post({}, new URLSearchParams({ id: 'a1', csrfToken: s.csrf }));
      assert.equal(field.status, 303);
      const header = await post({ 'x-csrf-token': s.csrf, 'content-type': 'application/json' }, '{"id":"a1"}');
      assert.equal(header.status, 303);
    });

    test('from another origin, even with the right token: 403 naming the header', async () => {
      const origin = await post({ 'x-csrf-token': s.csrf, origin: 'http://evil.example' });
      assert.equal(origin.status, 403);
      assert.match(await origin.text(), /The Origin header \(http:\/\/evil.example\) is not this server/);
      const https = await post({ 'x-csrf-token': s.csrf, origin: `https://127.0.0.1:${h.server.port}` });
      assert.equal(https.status, 403, 'another scheme is another origin');
      const nullOrigin = await post({ 'x-csrf-token': s.csrf, origin: 'null' });
      assert.equal(nullOrigin.status, 403);
      const referer = await post({ 'x-csrf-token': s.csrf, referer: 'http://evil.example/page' });
      assert.equal(referer.status, 403);
      assert.match(await referer.text(), /The Referer header/);
      const same = await post({ 'x-csrf-token': s.csrf, origin: h.base });
      assert.equal(same.status, 303);
    });

    test('a bearer POST needs no CSRF token, but a foreign Origin is still refused', async () => {
      const bearer = { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' };
      const ok = await keep(await h.post('/app/kill', { headers: bearer, body: '{}' }));
      assert.deepEqual(await ok.json(), { killed: true });
      const foreign = await keep(await h.post('/app/kill', { headers: { ...bearer, origin: 'http://evil.example' }, body: '{}' }));
      assert.equal(foreign.status, 403);
      assert.match(((await foreign.json()) as { error: string }).error, /Origin header/);
    });
  });

  test('the secret is in no response, header, cookie or log line; the token only in the login redirect request', () => {
    assert.ok(seen.length > 20, `responses were recorded: ${seen.length}`);
    for (const text of seen) assert.ok(!text.includes(SECRET), text);
    for (const text of seen) assert.ok(!text.includes(TOKEN), `the token is not echoed back: ${text}`);
    const logged = h.log.map((l) => JSON.stringify(l));
    assert.ok(logged.length > 5);
    for (const line of logged) {
      assert.ok(!line.includes(SECRET), line);
      assert.ok(!line.includes(TOKEN), line);
      assert.ok(!line.includes('token='), line);
    }
  });
});

describe('what a UI with a token leaves open', () => {
  const staticDir = tempDir('flint-ui-static-');
  writeFileSync(join(staticDir, 'style.css'), 'body { margin: 0 }\n');
  let h: Harness;
  before(async () => {
    h = await startHarness({ routes, secret: SECRET, staticDir });
  });
  after(async () => {
    await h.server.close();
    rmSync(staticDir, { recursive: true, force: true });
  });

  test('static files and the probes answer without a login; nothing else does, however the path is spelled', async () => {
    for (const path of ['/static/style.css', '/healthz', '/readyz']) assert.equal((await h.get(path)).status, 200, path);
    for (const path of ['/static/../json', '/static/%2e%2e/json', '/static/x/../../json']) {
      const res = await rawGet(h.server.port, path);
      assert.notEqual(res.status, 200, path);
    }
    for (const path of ['//healthz/../json', '/json', '/nowhere', '/healthz/x']) {
      assert.equal((await rawGet(h.server.port, path)).status, 401, path);
    }
  });
});

describe('a UI with flint.ui.token, over TLS', () => {
  const dir = tempDir('flint-ui-tls-');
  const token = 'operator-chosen-token-0123456789';
  let h: Harness;
  let ca: Buffer;
  before(async () => {
    const certs = await makeTestCerts(dir);
    ca = readFileSync(certs.caFile);
    const tls = readSslOptions(new FlintConf(tlsConfPairs(certs)), 'ui', { listens: true });
    h = await startHarness({ routes, tls, publicHost: 'localhost', secret: SECRET, conf: [['flint.ui.token', token]] });
  });
  after(async () => {
    await h.server.close();
    rmSync(dir, { recursive: true, force: true });
  });

  test('the URLs say https, the token is flint.ui.token, and the session cookie is Secure', async () => {
    assert.equal(h.server.scheme, 'https');
    assert.equal(h.server.loginUrl, `https://localhost:${h.server.port}/?token=${token}`);
    const res = await new Promise<{ status: number; cookie: string; location: string }>((resolve, reject) => {
      const req = httpsRequest({ host: '127.0.0.1', servername: 'localhost', port: h.server.port, path: `/?token=${token}`, ca }, (r) => {
        r.resume();
        resolve({ status: r.statusCode ?? 0, cookie: r.headers['set-cookie']?.[0] ?? '', location: r.headers.location ?? '' });
      });
      req.on('error', reject);
      req.end();
    });
    assert.equal(res.status, 303);
    assert.equal(res.location, '/');
    assert.match(res.cookie, /; HttpOnly; Secure; SameSite=Strict$/);
  });
});
