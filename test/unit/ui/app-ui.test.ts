// The application UI's pages (src/ui/app-*.ts), rendered from a scheduler driven by the driver tests' harness:
// values from the application (a job's description, a task's error, an executor's log URL, a setting) come out
// as text; secrets are redacted as Spark's Utils.redact; kill forms appear only for running jobs, only when
// flint.ui.killEnabled, and carry the session's CSRF token.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { REDACTED } from '../../../src/conf/flint-conf.ts';
import { DEFAULT_REDACTION_REGEX, environmentPage, executorsPage, redact, redactionPattern } from '../../../src/ui/app-executors.ts';
import { jobMain, jobPage, jobsPage, timelineData } from '../../../src/ui/app-jobs.ts';
import type { AppUiModel } from '../../../src/ui/app-ui.ts';
import { launches, T0, tasks, TestDriver, type Launch } from '../driver/harness.ts';

const EVIL = '<script>alert(1)</script>';

function scheduler(): TestDriver {
  const d = new TestDriver({ maxFailures: 1 });
  d.handle({ kind: 'RegisterExecutor', token: d.token(), executorId: '1', executorAddress: 'flint://Executor@h:1', hostname: 'h', cores: 2, logUrls: { stdout: 'http://w:8081/logPage/?logType=stdout', stderr: 'javascript:alert(1)' } });
  d.handle({ kind: 'ExecutorLaunched', executorId: '1' });
  d.handle({ kind: 'SubmitJob', jobId: 0, tasks: tasks(1), description: `map(${EVIL}) → collect` });
  const [a] = launches(d.log) as [Launch];
  d.advance(250);
  d.fail(a, { name: 'Error', message: EVIL, stack: '' });
  d.handle({ kind: 'SubmitJob', jobId: 1, tasks: tasks(2), description: 'count' });
  return d;
}

function model(d: TestDriver, over: Partial<AppUiModel> = {}, jobId?: number): AppUiModel {
  return {
    appName: `app ${EVIL}`,
    appId: 'app-1',
    user: 'me',
    master: 'flint://m:7077',
    startedMs: T0,
    nowMs: d.now,
    clockOffsetMs: 0,
    stopped: false,
    history: d.machine.historySnapshot(jobId),
    killEnabled: true,
    csrfToken: 'csrf-123',
    query: new URLSearchParams(),
    ...over,
  };
}

describe('application UI pages', () => {
  test('a job description and a task error holding a script come out as text', () => {
    const d = scheduler();
    const jobs = jobsPage(model(d)).toString();
    assert.ok(!jobs.includes(EVIL), 'no raw script on /jobs/');
    assert.ok(jobs.includes('map(&lt;script&gt;alert(1)&lt;/script&gt;) → collect'));
    assert.ok(jobs.includes('app &lt;script&gt;'), 'the app name too');
    const job = jobPage(model(d, {}, 0), 0, jobMain(model(d, {}, 0), 0) ?? assert.fail('job 0 is known')).toString();
    assert.ok(!job.includes(EVIL));
    assert.match(job, /Error: &lt;script&gt;alert\(1\)&lt;\/script&gt;/, 'the attempt error, escaped');
    assert.match(job, /FAILED/);
    assert.equal(jobMain(model(d), 99), undefined, 'an unknown job has no page');
  });

  test('the job page lists each attempt with its executor, state and duration', () => {
    const d = scheduler();
    const main = jobMain(model(d, {}, 0), 0)?.toString() ?? '';
    assert.match(main, /<td class="num" data-label="Task Id">0<\/td>/);
    assert.match(main, /data-label="Executor">1</);
    assert.match(main, /data-label="Duration">250 ms</);
  });

  test('kill forms: only for running jobs, only when enabled, with the CSRF token', () => {
    const d = scheduler();
    const on = jobsPage(model(d)).toString();
    assert.equal(on.match(/action="\/jobs\/job\/kill\/"/g)?.length, 1, 'one running job, one form');
    assert.match(on, /name="id" value="1"/);
    assert.match(on, /name="csrfToken" value="csrf-123"/);
    assert.doesNotMatch(jobsPage(model(d, { killEnabled: false })).toString(), /kill\//);
    assert.doesNotMatch(jobsPage(model(d, { stopped: true })).toString(), /kill\//);
    assert.doesNotMatch(jobsPage(model(d, { csrfToken: undefined })).toString(), /csrfToken/, 'bearer access: no token to embed');
    assert.doesNotMatch(jobMain(model(d, {}, 0), 0)?.toString() ?? '', /kill\//, 'a failed job has no kill button');
  });

  test('executors: task counts, heartbeat age, log links (a hostile one goes nowhere)', () => {
    const d = scheduler();
    d.advance(1000);
    const page = executorsPage(model(d)).toString();
    assert.match(page, /data-label="Failed Tasks">1</);
    assert.match(page, /data-label="Active Tasks">2</);
    assert.match(page, /data-label="Last Heartbeat">1.3 s ago</);
    assert.match(page, /data-label="Removed"><\/td>/, 'a live executor has no removal time');
    assert.match(page, /href="http:\/\/w:8081\/logPage\/\?logType=stdout">stdout</);
    assert.doesNotMatch(page, /javascript:/);
  });

  test('executors are listed by id, as numbers, whatever the order they registered in', () => {
    const d = new TestDriver({ maxFailures: 1 });
    for (const id of ['10', '1', '2', '0']) {
      d.handle({ kind: 'RegisterExecutor', token: d.token(), executorId: id, executorAddress: `flint://Executor@h:${id}`, hostname: 'h', cores: 1, logUrls: {} });
    }
    const ids = [...executorsPage(model(d)).toString().matchAll(/data-label="Executor Id">(\d+)</g)].map((m) => m[1]);
    assert.deepEqual(ids, ['0', '1', '2', '10']);
    const reversed = executorsPage(model(d, { query: new URLSearchParams({ 'executors.sort': 'id', 'executors.desc': '1' }) })).toString();
    assert.deepEqual([...reversed.matchAll(/data-label="Executor Id">(\d+)</g)].map((m) => m[1]), ['10', '2', '1', '0']);
  });

  test('the timeline data is wall-clock times of executors and jobs', () => {
    const d = scheduler();
    const data = timelineData(model(d, { clockOffsetMs: 5 }));
    assert.deepEqual(data.executors, [{ id: '1', addedMs: T0 + 5, removedMs: null, reason: null }]);
    assert.deepEqual(data.jobs.map((j) => [j.id, j.state, j.endedMs]), [[0, 'FAILED', T0 + 255], [1, 'RUNNING', null]]);
  });
});

describe('redaction (Spark Utils.redact)', () => {
  const pattern = redactionPattern(DEFAULT_REDACTION_REGEX);

  test('keys or values that look secret are replaced; others kept', () => {
    assert.deepEqual(
      redact(
        [
          ['flint.app.name', 'pi'],
          ['my.Password', 'hunter2'],
          ['s3.access.key', 'AKIA'],
          ['some.url', 'http://x/?token=abc'],
          ['flint.executor.memory', '1g'],
        ],
        pattern,
      ),
      [
        ['flint.app.name', 'pi'],
        ['my.Password', REDACTED],
        ['s3.access.key', REDACTED],
        ['some.url', REDACTED],
        ['flint.executor.memory', '1g'],
      ],
    );
  });

  test('(?i) is read as Java does; the environment page shows what it is given, escaped', () => {
    assert.ok(redactionPattern('(?i)SECRET').test('my.secret'));
    assert.ok(!redactionPattern('SECRET').test('my.secret'));
    const d = scheduler();
    const page = environmentPage(model(d), { runtime: [['Node version', 'v24']], settings: [['x', EVIL], ['flint.authenticate.secret', REDACTED]] }).toString();
    assert.ok(!page.includes(EVIL));
    assert.ok(page.includes(REDACTED));
  });
});
