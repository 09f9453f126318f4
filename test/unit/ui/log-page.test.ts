// The log page (src/ui/log-page.ts, Spark's `LogPage`): the byte range it shows, "Load more" and "Load new" as
// plain links, download and follow, the log's text as text, and the 400/404 pages.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { logFileName, logPage, logProblemPage, logUrl, type LogPageView } from '../../../src/ui/log-page.ts';

const target = { kind: 'executor', appId: 'app-1', executorId: '0', logType: 'stdout' } as const;

function view(over: Partial<LogPageView> = {}): LogPageView {
  return {
    target,
    slice: { text: 'line 1\nline 2\n', startByte: 100, endByte: 114, totalLength: 114 },
    byteLength: 50,
    maxBytes: 1024 * 1024,
    follow: false,
    masterWebUiUrl: 'http://127.0.0.1:8080',
    ...over,
  };
}

const amp = (s: string) => s.replaceAll('&', '&amp;');

describe('the log page', () => {
  test('shows the range and the text, with links for earlier and later bytes that need no script', () => {
    const page = logPage(view()).toString();
    assert.match(page, /bytes 100 – 114 of 114/);
    assert.match(page, /<pre class="log" id="log-text">line 1\nline 2\n<\/pre>/);
    assert.ok(page.includes(`href="${amp(logUrl('/logPage/', target, { offset: 50, byteLength: 64 }))}"`), 'Load more: the 50 bytes before, and what is shown');
    assert.ok(page.includes(`href="${amp(logUrl('/logPage/', target, { offset: 114, byteLength: 50 }))}"`), 'Load new: from the end shown');
    assert.ok(page.includes('href="/log?appId=app-1&amp;executorId=0&amp;logType=stdout" download'));
    assert.match(page, /End of log/);
    assert.match(page, /Back to Master/);
    assert.ok(!page.includes('log.js'), 'no script unless following');
  });

  test('at the start of the log there is nothing more to load', () => {
    const page = logPage(view({ slice: { text: 'x', startByte: 0, endByte: 1, totalLength: 5 } })).toString();
    assert.match(page, /Start of log/);
    assert.doesNotMatch(page, /End of log/);
  });

  test('follow mode loads log.js and names the event stream from the end shown', () => {
    const page = logPage(view({ follow: true })).toString();
    assert.match(page, /<script type="module" src="\/static\/log\.js"><\/script>/);
    assert.ok(page.includes(`data-follow="${amp(logUrl('/events/log', target, { offset: 114 }))}"`), page);
    assert.match(page, /Stop following/);
  });

  test('log text holding markup is text', () => {
    const page = logPage(view({ slice: { text: '<script>alert(1)</script>', startByte: 0, endByte: 25, totalLength: 25 } })).toString();
    assert.ok(!page.includes('<script>alert'));
    assert.ok(page.includes('&lt;script&gt;alert(1)&lt;/script&gt;'));
  });

  test('drivers and the daemon have their own parameters and file names', () => {
    const driver = { kind: 'driver', driverId: 'driver-1', logType: 'stderr' } as const;
    assert.equal(logUrl('/log', driver), '/log?driverId=driver-1&logType=stderr');
    assert.equal(logUrl('/logPage/', { kind: 'daemon' }), '/logPage/?self=');
    assert.equal(logFileName(target), 'app-1-0-stdout.log');
    assert.equal(logFileName(driver), 'driver-1-stderr.log');
  });

  test('a refused request names the problem, escaped', () => {
    const page = logProblemPage(400, 'logType="<b>" is not a log type').toString();
    assert.match(page, /Bad log request/);
    assert.ok(page.includes('logType=&quot;&lt;b&gt;&quot; is not a log type'));
    assert.match(logProblemPage(404, 'gone').toString(), /No such log/);
  });
});
