// The `text` route kind (src/io/http/ui-routes.ts), which serves the Prometheus scrapes (docs/metrics.md): the
// document with its own content type, HEAD but no POST, a UiReply as it says, and behind the UI's token like any
// protected route (401 with WWW-Authenticate without it, JSON bodies on refusals).
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { UiReply, type UiRoute } from '../../../../src/io/http/ui-server.ts';
import { metricsRoutes } from '../../../../src/io/metrics/metrics-routes.ts';
import { newRegistry } from '../../../../src/io/metrics/registry.ts';
import { Counter } from 'prom-client';
import { startHarness, type Harness } from './ui-harness.ts';

const TOKEN = 'a-ui-token-of-enough-length';
const registry = newRegistry();
new Counter({ name: 'flint_test_events_total', help: 'Events of the test.', registers: [registry] }).inc(3);
const routes: UiRoute[] = [
  ...metricsRoutes(registry, '/metrics/prometheus', '/metrics/json'),
  { kind: 'text', path: '/metrics/none', handler: () => UiReply.json(404, { error: 'no such registry' }) },
];

describe('text routes', () => {
  let h: Harness;
  before(async () => {
    h = await startHarness({ routes, conf: [['flint.ui.token', TOKEN]] });
  });
  after(() => h.server.close());
  const bearer = { authorization: `Bearer ${TOKEN}` };

  test('the Prometheus text with its content type, and the JSON twin, with the bearer token', async () => {
    const text = await h.get('/metrics/prometheus', { headers: bearer });
    assert.equal(text.status, 200);
    assert.equal(text.headers.get('content-type'), 'text/plain; version=0.0.4; charset=utf-8');
    assert.equal(text.headers.get('cache-control'), 'no-store');
    assert.equal(text.headers.get('content-disposition'), null, 'shown in place, not a download');
    assert.match(await text.text(), /# HELP flint_test_events_total Events of the test\.\n# TYPE flint_test_events_total counter\nflint_test_events_total 3\n/);
    const json = await h.get('/metrics/json', { headers: bearer });
    assert.deepEqual((await json.json()) as unknown, [{ name: 'flint_test_events_total', help: 'Events of the test.', type: 'counter', values: [{ value: 3, labels: {} }], aggregator: 'sum' }]);
    const head = await h.get('/metrics/prometheus', { method: 'HEAD', headers: bearer });
    assert.equal(head.status, 200);
    const post = await h.post('/metrics/prometheus', { headers: bearer });
    assert.equal(post.status, 405);
    assert.equal(post.headers.get('allow'), 'GET, HEAD');
    assert.equal((await h.get('/metrics/none', { headers: bearer })).status, 404);
  });

  test('no token or a wrong one: 401, as JSON, naming what is expected', async () => {
    for (const headers of [{}, { authorization: 'Bearer wrong-token-wrong-token' }, { authorization: TOKEN }]) {
      const refused = await h.get('/metrics/prometheus', { headers });
      assert.equal(refused.status, 401);
      assert.equal(refused.headers.get('www-authenticate'), 'Bearer realm="flint"');
      assert.match(refused.headers.get('content-type') ?? '', /^application\/json/);
      assert.doesNotMatch(await refused.text(), /flint_test_events_total/);
    }
  });
});
