// Every route of the application UI (src/daemons/driver-ui.ts) over HTTP, on a scheduler driven by the driver
// tests' harness, in this process: the redirect from /, the pages, 404 for an unknown job, JSON, the event
// streams, the kill action (and 403 when flint.ui.killEnabled=false), the settings it reads, and the token it
// takes from the app secret.
import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { FlintConf } from '../../../src/conf/flint-conf.ts';
import { readDriverUiSettings, startDriverUi, UI_KILL_REASON, type DriverUi } from '../../../src/daemons/driver-ui.ts';
import { ConfigError } from '../../../src/errors.ts';
import { ChangeSignal } from '../../../src/io/http/live-page.ts';
import { silentLogger } from '../../../src/util/logger.ts';
import { TestDriver } from '../driver/harness.ts';

const started: DriverUi[] = [];
after(async () => {
  for (const ui of started) await ui.close();
});

async function start(conf: Record<string, string>, appSecret?: string): Promise<{ ui: DriverUi; driver: TestDriver; printed: string[]; cancelled: Array<[number, string]> }> {
  const driver = new TestDriver();
  driver.addExecutor('1', 1);
  driver.handle({ kind: 'SubmitJob', jobId: 0, tasks: [{ partition: 0, source: { kind: 'range', start: 0, end: 1, step: 1 }, ops: [], action: { kind: 'count' } }], description: 'count' });
  const printed: string[] = [];
  const cancelled: Array<[number, string]> = [];
  const ui = await startDriverUi({
    conf: new FlintConf(Object.entries({ 'flint.ui.port': '0', ...conf })),
    appSecret,
    host: '127.0.0.1',
    publicHost: '127.0.0.1',
    machine: driver.machine,
    changes: new ChangeSignal(),
    cancelJob: async (jobId, reason) => {
      cancelled.push([jobId, reason]);
      driver.handle({ kind: 'CancelJob', jobId, reason });
    },
    info: { appName: 'ui test', appId: () => 'app-1', user: 'me', master: 'flint://m:7077', mainModule: '/app.ts', driverUrl: 'flint://d:1', startedMs: Date.now(), stopped: () => false },
    logger: silentLogger,
    monotonicNow: () => driver.now,
    print: (line) => printed.push(line),
  });
  assert.ok(ui !== undefined);
  started.push(ui);
  await ui.build(); // the driver builds the pages once its app has registered (context.ts)
  return { ui, driver, printed, cancelled };
}

describe('the application UI server', () => {
  test('an open UI (no secret, no token): every route answers', async () => {
    const { ui, printed, cancelled } = await start({ 'flint.ui.killEnabled': 'true' });
    assert.deepEqual(printed, [`Application UI at ${ui.url}`], 'no login URL for an open UI');
    const root = await fetch(`${ui.url}/`, { redirect: 'manual' });
    assert.equal(root.status, 303);
    assert.equal(root.headers.get('location'), '/jobs/');
    for (const path of ['/jobs/', '/jobs/job/?id=0', '/executors/', '/environment/']) {
      const res = await fetch(`${ui.url}${path}`);
      assert.equal(res.status, 200, path);
      assert.match(await res.text(), /<main id="main" data-live="\/events\//, path);
    }
    assert.equal((await fetch(`${ui.url}/jobs/job/?id=9`)).status, 404);
    assert.equal((await fetch(`${ui.url}/jobs/job/?id=x`)).status, 404);
    const json = (await (await fetch(`${ui.url}/json`)).json()) as { appId: string; jobs: Array<{ description: string }> };
    assert.equal(json.appId, 'app-1');
    assert.equal(json.jobs[0]?.description, 'count');
    const timeline = (await (await fetch(`${ui.url}/api/timeline`)).json()) as { jobs: unknown[]; executors: unknown[] };
    assert.equal(timeline.jobs.length, 1);
    assert.equal(timeline.executors.length, 1);
    for (const path of ['/events/jobs', '/events/job?id=0', '/events/executors', '/events/environment']) {
      const res = await fetch(`${ui.url}${path}`);
      assert.equal(res.headers.get('content-type'), 'text/event-stream; charset=utf-8', path);
      const reader = (res.body as ReadableStream<Uint8Array>).getReader();
      let text = '';
      while (!text.includes('event: update')) text += new TextDecoder().decode((await reader.read()).value);
      await reader.cancel();
    }
    const static_ = await fetch(`${ui.url}/static/timeline.js`);
    assert.equal(static_.status, 200);
    const bad = await fetch(`${ui.url}/jobs/job/kill/`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'id=abc' });
    assert.equal(bad.status, 400);
    const kill = await fetch(`${ui.url}/jobs/job/kill/`, { method: 'POST', redirect: 'manual', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'id=0' });
    assert.equal(kill.status, 303);
    assert.deepEqual(cancelled, [[0, UI_KILL_REASON]]);
    const after = await (await fetch(`${ui.url}/jobs/`)).text();
    assert.match(after, /Failed jobs \(1\)/);
    assert.doesNotMatch(after, /kill\//, 'no running job, no kill form');
  });

  test('with the app secret: 401 without the token, the login URL printed, and kills refused when disabled', async () => {
    const { ui, printed, cancelled } = await start({ 'flint.ui.killEnabled': 'false' }, 'app-secret-that-is-long');
    assert.equal(printed.length, 2);
    assert.ok(ui.loginUrl !== undefined && printed[1]?.endsWith(ui.loginUrl));
    assert.ok(!printed.join('\n').includes('app-secret-that-is-long'), 'the secret is never printed');
    assert.equal((await fetch(`${ui.url}/jobs/`)).status, 401);
    const token = new URL(ui.loginUrl).searchParams.get('token') as string;
    const headers = { authorization: `Bearer ${token}` };
    const page = await (await fetch(`${ui.url}/jobs/`, { headers })).text();
    assert.doesNotMatch(page, /kill\//);
    const refused = await fetch(`${ui.url}/jobs/job/kill/`, { method: 'POST', headers: { ...headers, 'content-type': 'application/x-www-form-urlencoded' }, body: 'id=0' });
    assert.equal(refused.status, 403);
    assert.deepEqual(cancelled, []);
  });

  test('settings: off, a bad redaction pattern is a ConfigError', async () => {
    assert.equal(await startDriverUi({ conf: new FlintConf([['flint.ui.enabled', 'false']]) } as Parameters<typeof startDriverUi>[0]), undefined);
    assert.throws(() => readDriverUiSettings(new FlintConf([['flint.redaction.regex', '(']])), (err) => err instanceof ConfigError && err.key === 'flint.redaction.regex');
    const settings = readDriverUiSettings(new FlintConf([['spark.redaction.regex', '(?i)apikey']]));
    assert.ok(settings.redaction.test('my.APIKEY'));
    assert.deepEqual([settings.port, settings.enabled, settings.killEnabled], [4040, true, true]);
  });
});
