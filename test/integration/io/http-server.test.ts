import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { json, startHttpServer, type StartedHttpServer } from '../../../src/io/http/http-server.ts';
import { memoryLogger } from '../../../src/util/logger.ts';

const logger = memoryLogger();
let server: StartedHttpServer;
let base: string;

before(async () => {
  server = await startHttpServer(
    [
      { method: 'GET', path: '/json', handler: () => json(200, { status: 'ALIVE', '<b>': '</script>' }) },
      { method: 'GET', path: '/boom', handler: () => { throw new Error('secret detail'); } },
      { method: 'POST', path: '/json', handler: () => json(202, { ok: true }) },
    ],
    { host: '127.0.0.1', port: 0, logger },
  );
  base = `http://127.0.0.1:${server.port}`;
});
after(() => server.close());

test('GET answers JSON with no-sniff and no-store headers', async () => {
  const res = await fetch(`${base}/json`);
  assert.equal(res.status, 200);
  assert.equal(res.headers.get('content-type'), 'application/json; charset=utf-8');
  assert.equal(res.headers.get('x-content-type-options'), 'nosniff');
  assert.deepEqual(await res.json(), { status: 'ALIVE', '<b>': '</script>' });
});

test('HEAD is answered for GET routes, without a body', async () => {
  const res = await fetch(`${base}/json`, { method: 'HEAD' });
  assert.equal(res.status, 200);
  assert.equal(await res.text(), '');
});

test('unknown path gets 404 naming it, wrong method gets 405 with Allow', async () => {
  const missing = await fetch(`${base}/nope?x=1`);
  assert.equal(missing.status, 404);
  assert.match(((await missing.json()) as { error: string }).error, /no such path: \/nope/);
  const wrong = await fetch(`${base}/boom`, { method: 'POST' });
  assert.equal(wrong.status, 405);
  assert.equal(wrong.headers.get('allow'), 'GET');
});

test('a throwing handler gets 500 with a generic body; the detail goes to the log only', async () => {
  const res = await fetch(`${base}/boom`);
  assert.equal(res.status, 500);
  const text = await res.text();
  assert.doesNotMatch(text, /secret detail/);
  assert.ok(logger.lines.some((l) => l.level === 'error' && JSON.stringify(l.fields).includes('secret detail')));
  const again = await fetch(`${base}/json`);
  assert.equal(again.status, 200);
});
