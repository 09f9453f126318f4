// The UI server's routes and answers (src/io/http/ui-server.ts) on an OPEN UI (no token: authentication is
// in ui-login.test.ts): every route kind, the 404/405/413/415/500 bodies, static files and their caching, and
// the security headers on every kind of answer.

import assert from 'node:assert/strict';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { createServer, type Server } from 'node:net';
import { PortInUseError } from '../../../../src/errors.ts';
import { UiReply, bindUiServer, startUiServer, type UiRoute } from '../../../../src/io/http/ui-server.ts';
import { silentLogger } from '../../../../src/util/logger.ts';
import { html } from '../../../../src/ui/html.ts';
import { startHarness, type Harness } from './ui-harness.ts';
import { tempDir } from '../../../helpers/temp-dir.ts';

const staticDir = tempDir('flint-ui-static-');
writeFileSync(join(staticDir, 'app.3f9a1c2b.js'), 'console.log(1);\n');
writeFileSync(join(staticDir, 'style.css'), 'body { margin: 0 }\n');
writeFileSync(join(staticDir, '.secret'), 'hidden\n');
after(() => rmSync(staticDir, { recursive: true, force: true }));

const received: unknown[] = [];
const routes: UiRoute[] = [
  { kind: 'page', path: '/', handler: (req) => html`<!DOCTYPE html><title>Master</title><p>${req.query.get('name') ?? 'none'}</p>` },
  { kind: 'page', path: '/app/:appId', handler: (req) => html`<p>${req.params['appId']}</p>` },
  { kind: 'page', path: '/gone', handler: () => UiReply.page(410, html`<p>gone</p>`) },
  { kind: 'json', path: '/json', handler: () => ({ workers: [{ id: 'w-1', cores: 4 }] }) },
  { kind: 'json', path: '/healthz', handler: () => ({ status: 'ok' }) },
  { kind: 'json', path: '/readyz', handler: () => UiReply.json(503, { status: 'STANDBY' }) },
  {
    kind: 'action',
    path: '/app/kill',
    handler: (req) => {
      received.push(req.body);
      return (req.body as Record<string, string>)['redirect'] === 'yes' ? UiReply.redirect('/') : { killed: true };
    },
  },
  {
    kind: 'page',
    path: '/boom',
    handler: () => {
      throw new Error('renderer broke: detail 1234');
    },
  },
  {
    kind: 'json',
    path: '/api/boom',
    handler: async () => {
      throw new Error('json broke: detail 5678');
    },
  },
];

describe('the UI server, open (no token)', () => {
  let h: Harness;
  before(async () => {
    h = await startHarness({ routes, staticDir, maxBodyBytes: 1024 });
  });
  after(() => h.server.close());

  test('a page route answers its HTML with the query and params it was given', async () => {
    const res = await h.get('/?name=%3Cb%3E');
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('content-type'), 'text/html; charset=utf-8');
    assert.match(await res.text(), /<p>&lt;b&gt;<\/p>/);
    const app = await h.get('/app/app-1%20x');
    assert.equal(await app.text(), '<p>app-1 x</p>');
    assert.equal((await h.get('/gone')).status, 410);
  });

  test('a json route answers JSON; UiReply.json sets the status', async () => {
    const res = await h.get('/json');
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('content-type'), 'application/json; charset=utf-8');
    assert.deepEqual(await res.json(), { workers: [{ id: 'w-1', cores: 4 }] });
    const ready = await h.get('/readyz');
    assert.equal(ready.status, 503);
    assert.deepEqual(await ready.json(), { status: 'STANDBY' });
  });

  test('HEAD is answered for GET routes, without a body', async () => {
    const res = await h.get('/json', { method: 'HEAD' });
    assert.equal(res.status, 200);
    assert.equal(await res.text(), '');
  });

  test('an action takes a form or JSON, answers JSON or redirects (303) for a form', async () => {
    received.length = 0;
    const json = await h.post('/app/kill', { headers: { 'content-type': 'application/json' }, body: JSON.stringify({ id: 'app-1' }) });
    assert.equal(json.status, 200);
    assert.deepEqual(await json.json(), { killed: true });
    const form = await h.post('/app/kill', { body: new URLSearchParams({ id: 'app-2', redirect: 'yes' }) });
    assert.equal(form.status, 303);
    assert.equal(form.headers.get('location'), '/');
    assert.deepEqual(
      received.map((body) => ({ ...(body as object) })),
      [{ id: 'app-1' }, { id: 'app-2', redirect: 'yes' }],
    );
  });

  test('an unknown page is a readable HTML 404; an unknown API path is a JSON 404', async () => {
    const page = await h.get('/nowhere/<x>', { headers: { accept: 'text/html' } });
    assert.equal(page.status, 404);
    assert.equal(page.headers.get('content-type'), 'text/html; charset=utf-8');
    const text = await page.text();
    assert.match(text, /<h1>Not found<\/h1>/);
    assert.match(text, /There is no page at <code>\/nowhere\/%3Cx%3E<\/code>/);
    for (const path of ['/api/v1/nothing', '/json/nothing']) {
      const api = await h.get(path, { headers: { accept: 'text/html' } });
      assert.equal(api.status, 404);
      assert.deepEqual(await api.json(), { error: `no such path: ${path}` });
    }
    const script = await h.get('/nowhere', { headers: { accept: 'application/json' } });
    assert.deepEqual(await script.json(), { error: 'no such path: /nowhere' });
  });

  test('a wrong method is 405 with Allow, as JSON for a JSON route and a page for a page', async () => {
    const json = await h.post('/json');
    assert.equal(json.status, 405);
    assert.equal(json.headers.get('allow'), 'GET, HEAD');
    assert.deepEqual(await json.json(), { error: 'POST is not allowed on /json; use GET, HEAD' });
    const action = await h.get('/app/kill', { headers: { accept: 'application/json' } });
    assert.equal(action.status, 405);
    assert.equal(action.headers.get('allow'), 'POST');
    const del = await h.get('/', { method: 'DELETE', headers: { accept: 'text/html' } });
    assert.equal(del.status, 405);
    assert.match(await del.text(), /DELETE is not allowed on \/; use GET, HEAD/);
  });

  test('a body over the limit is 413 saying the limit; another media type is 415', async () => {
    const big = await h.post('/app/kill', { headers: { 'content-type': 'application/json' }, body: JSON.stringify({ pad: 'x'.repeat(2000) }) });
    assert.equal(big.status, 413);
    assert.deepEqual(await big.json(), { error: 'the request body is over 1024 bytes, the most this server reads' });
    const form = await h.post('/app/kill', { body: new URLSearchParams({ pad: 'x'.repeat(2000) }) });
    assert.equal(form.status, 413);
    assert.match(await form.text(), /over 1024 bytes/);
    const xml = await h.post('/app/kill', { headers: { 'content-type': 'application/xml' }, body: '<x/>' });
    assert.equal(xml.status, 415);
    assert.equal(received.length, 2, 'no refused body reached the handler');
  });

  test('a handler that throws is a 500 with a generic body; the detail is in the log only', async () => {
    const page = await h.get('/boom');
    assert.equal(page.status, 500);
    const text = await page.text();
    assert.match(text, /<h1>Internal error<\/h1>/);
    assert.doesNotMatch(text, /1234/);
    const api = await h.get('/api/boom');
    assert.equal(api.status, 500);
    assert.deepEqual(await api.json(), { error: 'internal error; see the daemon log' });
    const errors = h.log.filter((l) => l.level === 'error');
    assert.deepEqual(
      errors.map((l) => [l.msg, l.fields['path'], l.fields['err']]),
      [
        ['a web UI handler failed', '/boom', 'renderer broke: detail 1234'],
        ['a web UI handler failed', '/api/boom', 'json broke: detail 5678'],
      ],
    );
  });

  test('static files: hashed names cached for a year, others revalidated by ETag; no dotfiles, no listing', async () => {
    const hashed = await h.get('/static/app.3f9a1c2b.js');
    assert.equal(hashed.status, 200);
    assert.equal(hashed.headers.get('cache-control'), 'public, max-age=31536000, immutable');
    assert.match(hashed.headers.get('content-type') ?? '', /javascript/);
    assert.equal(await hashed.text(), 'console.log(1);\n');
    const css = await h.get('/static/style.css');
    assert.equal(css.headers.get('cache-control'), 'no-cache');
    const etag = css.headers.get('etag');
    assert.ok(etag);
    await css.text();
    // fetch adds `Cache-Control: no-cache` to a conditional request unless it has a Cache-Control already.
    const again = await h.get('/static/style.css', { headers: { 'if-none-match': etag, 'cache-control': 'max-age=0' } });
    assert.equal(again.status, 304);
    for (const path of ['/static/.secret', '/static/', '/static/../ui-harness.ts', '/static/%2e%2e/x']) {
      const res = await h.get(path, { headers: { accept: 'application/json' } });
      assert.ok([403, 404].includes(res.status), `${path}: ${res.status}`);
      assert.doesNotMatch(await res.text(), /hidden/);
    }
  });

  test('every answer carries the CSP and the other headers; dynamic ones are no-store', async () => {
    const answers = await Promise.all([
      h.get('/'),
      h.get('/json'),
      h.get('/nowhere'),
      h.post('/json'),
      h.get('/boom'),
      h.post('/app/kill', { headers: { 'content-type': 'application/json' }, body: '{"x":1}' }),
      h.get('/static/style.css'),
    ]);
    for (const res of answers) {
      const csp = res.headers.get('content-security-policy') ?? '';
      const where = `${res.url} ${res.status}`;
      for (const directive of [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
      ]) {
        assert.ok(csp.split(';').includes(directive), `${where}: ${directive} in ${csp}`);
      }
      assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval/, where);
      assert.equal(res.headers.get('x-frame-options'), 'DENY', where);
      assert.equal(res.headers.get('x-content-type-options'), 'nosniff', where);
      assert.equal(res.headers.get('referrer-policy'), 'same-origin', where);
      assert.equal(res.headers.get('strict-transport-security'), null, `${where}: no HSTS (it would bind every port of the host)`);
      if (!res.url.includes('/static/')) assert.equal(res.headers.get('cache-control'), 'no-store', where);
      await res.arrayBuffer();
    }
  });

  test('the URL given out is the bound port; an open UI has no login URL', () => {
    assert.equal(h.server.url, `http://127.0.0.1:${h.server.port}`);
    assert.equal(h.server.scheme, 'http');
    assert.equal(h.server.loginUrl, undefined);
    assert.ok(h.log.some((l) => l.msg === 'test web UI listening' && l.fields['login'] === 'open'));
  });
});

describe('binding the port', () => {
  const taken: Server[] = [];
  after(() => Promise.all(taken.map((s) => new Promise<void>((resolve) => s.close(() => resolve())))));
  const occupy = (port: number) =>
    new Promise<number>((resolve, reject) => {
      const server = createServer().once('error', reject);
      server.listen(port, '127.0.0.1', () => {
        taken.push(server);
        const address = server.address();
        resolve(typeof address === 'object' && address !== null ? address.port : port);
      });
    });
  const options = { serviceName: 'worker web UI', host: '127.0.0.1', logger: silentLogger, auth: { token: undefined, tokenSource: undefined, sessionTimeoutMs: 1000 }, routes };

  test('a taken port is stepped over (flint.port.maxRetries) and the server answers on the next one', async () => {
    const port = await occupy(0);
    let server;
    try {
      server = await startUiServer({ ...options, port, maxRetries: 16 });
    } catch (err) {
      // Only if other processes hold all 16 ports above ours; the error must then say all 17 were tried.
      if (err instanceof PortInUseError && err.firstPort === port && err.lastPort === port + 16) return;
      throw err;
    }
    try {
      assert.ok(server.port > port && server.port <= port + 16, `${server.port} after ${port}`);
      assert.equal((await fetch(`${server.url}/json`)).status, 200);
    } finally {
      await server.close();
    }
  });

  test('with no retries left the error names the port and flint.port.maxRetries', async () => {
    const port = await occupy(0);
    await assert.rejects(startUiServer({ ...options, port, maxRetries: 0 }), (err: unknown) => {
      assert.ok(err instanceof PortInUseError);
      assert.match(err.message, new RegExp(`worker web UI could not bind: port ${port} was in use.*flint\\.port\\.maxRetries \\(now 0\\)`));
      return true;
    });
  });
});

describe('bound before built (bindUiServer)', () => {
  const options = { serviceName: 'application UI', host: '127.0.0.1', port: 0, logger: silentLogger, auth: { token: undefined, tokenSource: undefined, sessionTimeoutMs: 1000 }, routes };
  test('the URL is known at once; a request made before the routes are built waits for them, then is answered', async () => {
    const server = await bindUiServer(options);
    try {
      assert.equal(server.url, `http://127.0.0.1:${server.port}`);
      let answered = false;
      const early = fetch(`${server.url}/json`).then(async (res) => {
        answered = true;
        return { status: res.status, body: await res.json() };
      });
      // The connection is accepted and the request read: it waits only for the routes.
      const probe = await fetch(`${server.url}/healthz`, { signal: AbortSignal.timeout(300) }).catch((err: unknown) => err);
      assert.ok(probe instanceof Error && probe.name === 'TimeoutError', `a request before the build was answered: ${String(probe)}`);
      assert.equal(answered, false);
      await server.build();
      assert.deepEqual(await early, { status: 200, body: { workers: [{ id: 'w-1', cores: 4 }] } });
      assert.equal((await fetch(`${server.url}/nowhere`)).status, 404);
    } finally {
      await server.close();
    }
  });

  test('past 64 waiting requests the rest are answered 503 at once, and the waiting ones are served once built', async () => {
    const server = await bindUiServer(options);
    try {
      let refused = 0;
      let allRefused!: () => void;
      const sixteenRefused = new Promise<void>((resolve) => (allRefused = resolve));
      const requests = Array.from({ length: 80 }, () =>
        fetch(`${server.url}/json`).then(async (res) => {
          const body = await res.text();
          if (res.status === 503) {
            assert.equal(res.headers.get('retry-after'), '1');
            assert.match(body, /the web UI is starting; retry/);
            refused += 1;
            if (refused === 16) allRefused();
          }
          return res.status;
        }),
      );
      await sixteenRefused; // so all 80 have arrived: 64 held, 16 refused
      await server.build();
      const statuses = await Promise.all(requests);
      assert.equal(statuses.filter((s) => s === 200).length, 64);
      assert.equal(statuses.filter((s) => s === 503).length, 16);
    } finally {
      await server.close();
    }
  });

  test('with buildOnFirstRequest, nothing is built until a request comes; that request starts the build and is answered', async () => {
    const server = await bindUiServer({ ...options, buildOnFirstRequest: true });
    try {
      // Without the option this request would wait for a build() that nobody calls (the test before).
      const res = await fetch(`${server.url}/json`, { signal: AbortSignal.timeout(20_000) });
      assert.equal(res.status, 200);
      assert.deepEqual(await res.json(), { workers: [{ id: 'w-1', cores: 4 }] });
      await server.build(); // the build the request started: resolves at once
      assert.equal((await fetch(`${server.url}/json`)).status, 200);
    } finally {
      await server.close();
    }
  });

  test('closed before its build started: close() resolves, build() rejects, and the port is free', async () => {
    const server = await bindUiServer(options);
    await server.close();
    await assert.rejects(server.build(), /application UI was closed before it was built/);
    await assert.rejects(fetch(`${server.url}/json`), TypeError);
  });
});
