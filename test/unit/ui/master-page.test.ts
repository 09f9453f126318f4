// The master's pages as pure renderers (src/ui/master-page.ts, app-page.ts, utilization.ts): Spark's MasterPage
// and ApplicationPage shapes, escaping of what applications report, the tables' links, the kill forms, the 404.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { appPage, appPageMain, executorLogUrl } from '../../../src/ui/app-page.ts';
import { masterPage, masterPageMain, type MasterPageInput } from '../../../src/ui/master-page.ts';
import { UtilizationHistory, utilizationChart } from '../../../src/ui/utilization.ts';
import type { KillControls } from '../../../src/ui/kill-form.ts';
import { aliveMaster, type TestMaster } from '../master/harness.ts';

const EVIL = '<script>alert(1)</script>';

function cluster(): { m: TestMaster; appId: string; doneId: string } {
  const m = aliveMaster();
  m.registerWorker('w1');
  m.registerWorker('w2', { cores: 4 });
  const { appId } = m.registerApp('c1', { name: EVIL, user: '"><img src=x>', appUiUrl: 'javascript:alert(1)', maxCores: 2 });
  const done = m.registerApp('c2', { name: 'finished-app' });
  m.advance(5_000);
  m.send({ type: 'UnregisterApplication', appId: done.appId });
  return { m, appId, doneId: done.appId };
}

const input = (m: TestMaster, query = '', kill: KillControls = { enabled: true, csrfToken: 'csrf-123' }): MasterPageInput => ({
  state: m.state,
  nowMs: m.now,
  query: new URLSearchParams(query),
  kill,
  utilization: [],
});

test('the summary has Spark MasterPage\'s figures: URL, REST URL, workers by state, cores, memory, apps, drivers, status', () => {
  const { m } = cluster();
  const page = masterPage(input(m)).toString();
  for (const text of [
    'flint://master:7077',
    '<dt>REST URL</dt><dd>disabled</dd>',
    '2 Alive, 0 Dead, 0 Decommissioned, 0 Unknown',
    '14 Total, ',
    '8.0 GiB Total',
    '1 Running, 1 Completed',
    '<span class="badge ok">ALIVE</span>',
    'data-live="/events/master"',
    'href="/static/master.css"',
  ]) {
    assert.ok(page.includes(text), `the page shows ${text}`);
  }
});

test('an application named <script> shows as text, and a javascript: app UI URL goes nowhere', () => {
  const { m } = cluster();
  const page = masterPage(input(m)).toString();
  assert.ok(!page.includes(EVIL), 'no raw script tag');
  assert.ok(page.includes('&lt;script&gt;alert(1)&lt;/script&gt;'));
  assert.ok(!page.includes('"><img'), 'the user is escaped');
  assert.ok(!page.includes('href="javascript:'), 'no javascript: link');
  assert.ok(page.includes('about:invalid#flint-unsafe-url'));
});

test('worker ids link to the worker UI, app ids to /app/?appId=, and the tables sort and filter from the URL', () => {
  const { m, appId } = cluster();
  const page = masterPageMain(input(m, 'workers.sort=cores&workers.desc=1')).toString();
  assert.ok(page.includes(`<a href="/goto/?to=${encodeURIComponent('http://10.0.0.1:8081')}">w1</a>`), 'through /goto/, with a ticket');
  assert.ok(page.includes(`<a href="/app/?appId=${appId}">${appId}</a>`));
  assert.ok(page.includes('href="?workers.sort=cores&amp;workers.desc=0#workers"'), 'the sorted column links to the other direction');
  assert.ok(page.indexOf('>w1<') < page.indexOf('>w2<'), 'by cores, descending: w1 (10 cores) before w2 (4)');
  const filtered = masterPageMain(input(m, 'workers.q=w2')).toString();
  assert.ok(filtered.includes('>1 of 2<'), 'the filter counts what matches');
  assert.ok(filtered.includes('name="workers.q" value="w2"'));
});

test('kill forms: a POST with id, terminate=true and the session\'s CSRF token, and none when kills are off', () => {
  const { m, appId, doneId } = cluster();
  const page = masterPageMain(input(m)).toString();
  assert.ok(page.includes('action="/app/kill/"'));
  assert.ok(page.includes(`name="id" value="${appId}"`));
  assert.ok(page.includes('name="terminate" value="true"'));
  assert.ok(page.includes('name="csrfToken" value="csrf-123"'));
  assert.ok(page.includes('data-confirm="Kill application'));
  assert.ok(!page.includes(`name="id" value="${doneId}"`), 'no kill for a completed application');
  const bearer = masterPageMain(input(m, '', { enabled: true, csrfToken: undefined })).toString();
  assert.ok(bearer.includes('action="/app/kill/"') && !bearer.includes('csrfToken'), 'no CSRF field without a session');
  const off = masterPageMain(input(m, '', { enabled: false, csrfToken: 'csrf-123' })).toString();
  assert.ok(!off.includes('/kill/'), 'no kill buttons when flint.ui.killEnabled=false');
});

test('decommission buttons: one per ALIVE worker when flint.decommission.enabled, POSTing its id to /workers/kill/ with the CSRF token', () => {
  const { m } = cluster();
  const on = masterPageMain(input(m, '', { enabled: true, csrfToken: 'csrf-123', decommissionEnabled: true })).toString();
  const alive = [...m.state.workers].filter((w) => w.state === 'ALIVE');
  assert.ok(alive.length > 0);
  const forms = on.split('action="/workers/kill/"').length - 1;
  assert.equal(forms, alive.length, 'one form per ALIVE worker');
  for (const w of alive) assert.ok(on.includes(`name="id" value="${w.id}"`), w.id);
  assert.ok(on.includes('data-confirm="Decommission worker') && on.includes('>decommission</button>'));
  const off = masterPageMain(input(m, '', { enabled: true, csrfToken: 'csrf-123' })).toString();
  assert.ok(!off.includes('/workers/kill/'), 'no decommission buttons when flint.decommission.enabled is off');
});

test('drivers: tables only once there are drivers, with a kill form for a running one', () => {
  const { m } = cluster();
  assert.ok(!masterPageMain(input(m)).toString().includes('Running Drivers'));
  const { driverId } = m.submitDriver();
  const page = masterPageMain(input(m)).toString();
  assert.ok(page.includes('Running Drivers') && page.includes('Completed Drivers'));
  assert.ok(page.includes('action="/driver/kill/"') && page.includes(`name="id" value="${driverId}"`));
});

test('the application page: summary, executors with worker links and log links; removed executors', () => {
  const { m, appId } = cluster();
  const app = m.app(appId);
  const exec = [...app.executors.values()][0];
  assert.ok(exec, 'the app got an executor');
  const { status, page } = appPage({ state: m.state, nowMs: m.now, query: new URLSearchParams({ appId }) });
  assert.equal(status, 200);
  const text = page.toString();
  assert.ok(text.includes('&lt;script&gt;') && !text.includes(EVIL));
  assert.ok(text.includes('2 (2 Granted)') || text.includes('2 ('), 'cores: max and granted');
  assert.ok(text.includes(`href="/goto/?to=${encodeURIComponent(executorLogUrl(exec, 'stdout'))}"`), 'log links go through /goto/');
  assert.equal(executorLogUrl(exec, 'stderr'), `http://10.0.0.1:8081/logPage/?appId=${appId}&executorId=${exec.id}&logType=stderr`);
  assert.ok(text.includes('Executor Summary (') && text.includes('Removed Executors (0)'));
  m.executorStateChanged(appId, exec.id, 'FAILED', 1);
  const after = appPageMain({ state: m.state, nowMs: m.now, query: new URLSearchParams({ appId }) }).toString();
  assert.ok(after.includes('Removed Executors (1)'));
});

test('an unknown, empty or malformed appId is a 404 page, escaped', () => {
  const { m, doneId } = cluster();
  for (const query of ['appId=app-nope', '', 'appId=%00x', `appId=${'x'.repeat(300)}`, `appId=${encodeURIComponent(EVIL)}`]) {
    const { status, page } = appPage({ state: m.state, nowMs: m.now, query: new URLSearchParams(query) });
    assert.equal(status, 404, query);
    assert.ok(!page.toString().includes(EVIL));
  }
  assert.equal(appPage({ state: m.state, nowMs: m.now, query: new URLSearchParams({ appId: doneId }) }).status, 200, 'a completed app is found too');
});

test('the utilization history is a bounded ring, and the chart is an SVG without inline styles', () => {
  const history = new UtilizationHistory(3);
  for (let i = 1; i <= 5; i++) history.record({ atMs: i * 10_000, cores: 10, coresUsed: i, memoryMb: 1024, memoryUsedMb: 512 });
  assert.deepEqual(history.samples().map((s) => s.coresUsed), [3, 4, 5]);
  const chart = utilizationChart(history.samples(), 50_000).toString();
  assert.ok(chart.includes('<svg') && chart.includes('class="line cores"') && chart.includes('class="line memory"'));
  assert.ok(!chart.includes('style='), 'no style attribute');
  assert.ok(chart.includes('Cores 5 of 10 in use'));
  assert.ok(utilizationChart([], 0).toString().includes('No samples yet'));
});
