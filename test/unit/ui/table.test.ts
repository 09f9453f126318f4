// The pages' tables: sort, filter and page from the URL, links that keep the rest of the query, escaping.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { dataTable, tableView, viewRows, type Column } from '../../../src/ui/table.ts';
import { pageShell, toneOf } from '../../../src/ui/layout.ts';
import { html } from '../../../src/ui/html.ts';
import { formatDate, formatDuration, formatMb } from '../../../src/ui/format.ts';

interface Row {
  readonly id: string;
  readonly cores: number;
}
const columns: ReadonlyArray<Column<Row>> = [
  { key: 'id', label: 'Worker Id', value: (r) => r.id },
  { key: 'cores', label: 'Cores', value: (r) => r.cores, numeric: true },
];
const rows: Row[] = Array.from({ length: 250 }, (_, i) => ({ id: `worker-${i}`, cores: (i * 7) % 13 }));

test('the view comes from the URL: sort, direction, filter and page; nonsense falls back to the default', () => {
  const q = new URLSearchParams('workers.sort=cores&workers.desc=1&workers.q=worker-1&workers.page=2&other.sort=x');
  assert.deepEqual(tableView({ id: 'workers', columns, query: q }), { sort: 'cores', desc: true, q: 'worker-1', page: 2 });
  const bad = new URLSearchParams('workers.sort=nope&workers.page=-3');
  assert.deepEqual(tableView({ id: 'workers', columns, query: bad, defaultSort: { key: 'id', desc: false } }), { sort: 'id', desc: false, q: '', page: 1 });
});

test('rows are filtered on any column, sorted numerically or naturally, and cut into pages of 100', () => {
  const spec = { id: 'w', columns, rows, query: new URLSearchParams(), empty: 'none' };
  const sorted = viewRows(spec, { sort: 'id', desc: false, q: '', page: 1 });
  assert.equal(sorted.rows[2]?.id, 'worker-2', 'natural order: worker-2 before worker-10');
  assert.equal(sorted.pages, 3);
  const last = viewRows(spec, { sort: 'cores', desc: true, q: '', page: 9 });
  assert.equal(last.page, 3, 'a page past the end shows the last');
  assert.equal(last.rows.length, 50);
  const filtered = viewRows(spec, { sort: undefined, desc: false, q: 'WORKER-24', page: 1 });
  assert.deepEqual(filtered.rows.map((r) => r.id), ['worker-24', 'worker-240', 'worker-241', 'worker-242', 'worker-243', 'worker-244', 'worker-245', 'worker-246', 'worker-247', 'worker-248', 'worker-249']);
});

test('the table\'s links keep the other tables\' state, and everything from outside is escaped', () => {
  const evil: Row[] = [{ id: '<script>alert(1)</script>', cores: 1 }];
  const query = new URLSearchParams('apps.sort=name&w.q="><b>');
  const shown = dataTable({ id: 'w', columns, rows: evil, query: new URLSearchParams(), empty: 'No workers' }).toString();
  assert.ok(!shown.includes('<script>alert(1)'), 'a value is text, not markup');
  assert.ok(shown.includes('&lt;script&gt;alert(1)&lt;/script&gt;'));
  const out = dataTable({ id: 'w', columns, rows: evil, query, empty: 'No workers' }).toString();
  assert.ok(!out.includes('"><b>'), 'the filter text is escaped in the input');
  assert.match(out, /href="\?apps\.sort=name&amp;w\.q=[^"]*&amp;w\.sort=cores&amp;w\.desc=1#w"/, 'sorting by cores keeps apps.sort and the filter');
  assert.match(out, /Nothing matches/);
  assert.match(dataTable({ id: 'w', columns, rows: [], query: new URLSearchParams(), empty: 'No workers' }).toString(), /No workers/);
});

test('the page shell: one stylesheet and one module script from /static, no inline script or style, a live region', () => {
  const page = pageShell({ title: 'a <b>title</b>', daemon: 'Master', live: '/events/master', body: html`<p>hi</p>` }).toString();
  assert.ok(page.includes('<title>a &lt;b&gt;title&lt;/b&gt; · Flint Master</title>'));
  assert.ok(page.includes('<main id="main" data-live="/events/master">'));
  assert.equal((page.match(/<script/g) ?? []).length, 1);
  assert.ok(page.includes('<script type="module" src="/static/live.js"></script>'));
  assert.ok(!/ style=|<style/.test(page), 'no inline style');
  assert.equal(toneOf('ALIVE'), 'ok');
  assert.equal(toneOf('DEAD'), 'bad');
  assert.equal(toneOf('STANDBY'), 'warn');
});

test('figures are written as Spark\'s UI writes them, in UTC', () => {
  assert.equal(formatMb(512), '512.0 MiB');
  assert.equal(formatMb(8192), '8.0 GiB');
  assert.equal(formatDate(Date.UTC(2026, 11, 2, 13, 5, 9)), '2026/12/02 13:05:09');
  assert.equal(formatDuration(850), '850 ms');
  assert.equal(formatDuration(90_000), '1.5 min');
});
