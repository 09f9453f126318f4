// The worker's web UI over HTTP, against a real master and worker in this process (loopback TCP) on a cluster
// with a secret: the start page (Spark's `WorkerPage`) and its event stream, `/json`, the probes, and the log
// pages (Spark's `LogPage`) of a real executor's stdout: ranges, download, follow, and every refusal, path
// escapes included. Every route the worker registers is requested here at least once.

import assert from 'node:assert/strict';
import { appendFileSync, existsSync, readFileSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { FlintConf } from '../../../src/conf/flint-conf.ts';
import { startMasterDaemon, type MasterDaemon } from '../../../src/daemons/master-daemon.ts';
import { startWorkerDaemon, type WorkerDaemon } from '../../../src/daemons/worker-daemon.ts';
import { deriveUiToken } from '../../../src/io/http/ui-auth.ts';
import { ownLogFile } from '../../../src/io/logs/own-log-file.ts';
import { memoryLogger, type LogLine } from '../../../src/util/logger.ts';
import { AppClient } from '../../fixtures/app-client.ts';
import { newSecret } from '../../helpers/daemons.ts';
import { waitFor } from '../../helpers/process.ts';
import { tempDir } from '../../helpers/temp-dir.ts';

const secret = newSecret();
const token = deriveUiToken(secret);
const conf = (): FlintConf =>
  new FlintConf([
    ['flint.authenticate', 'true'],
    ['flint.authenticate.secret', secret],
    ['flint.worker.timeout', '10s'],
  ]);
const bearer = { authorization: `Bearer ${token}` };

/** Reads an event stream until `done(text so far)` holds (bounded), then aborts it. */
async function readEvents(url: string, done: (text: string) => boolean, what: string, headers: Record<string, string> = bearer): Promise<string> {
  const abort = new AbortController();
  const timer = setTimeout(() => abort.abort(), 10_000);
  const res = await fetch(url, { headers, signal: abort.signal });
  assert.equal(res.status, 200, `GET ${url}`);
  assert.match(res.headers.get('content-type') ?? '', /^text\/event-stream/);
  let text = '';
  const decoder = new TextDecoder();
  try {
    for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
      text += decoder.decode(chunk, { stream: true });
      if (done(text)) return text;
    }
  } catch (err) {
    if (!abort.signal.aborted) throw err;
  } finally {
    clearTimeout(timer);
    abort.abort();
  }
  throw new Error(`the stream ended or timed out before ${what}; got:\n${text}`);
}

/** The JSON data of every `event` in a stream's text. */
function eventsOf(text: string, event: string): unknown[] {
  return [...text.matchAll(new RegExp(`event: ${event}\\ndata: (.*)\\n`, 'g'))].map((m) => JSON.parse(m[1] as string));
}

describe('the worker web UI', { timeout: 90_000 }, () => {
  let master: MasterDaemon;
  let worker: WorkerDaemon;
  let workDir: string;
  let base: string;
  let app: AppClient;
  let stdoutPath: string;
  const workerLines: LogLine[] = [];
  const get = (path: string, headers: Record<string, string> = bearer) => fetch(`${base}${path}`, { headers, signal: AbortSignal.timeout(5_000) });

  before(async () => {
    workDir = tempDir('flint-worker-ui-');
    master = await startMasterDaemon({ conf: conf(), logger: memoryLogger(), host: '127.0.0.1', port: 0, webUiPort: 0 });
    worker = await startWorkerDaemon({
      conf: conf(),
      logger: memoryLogger(workerLines),
      base: { host: '127.0.0.1', port: 0, webUiPort: 0, cores: 2, memoryMb: 1024, workDir, masterUrls: [master.masterUrl] },
    });
    base = `http://127.0.0.1:${worker.webUiPort}`;
    await waitFor(async () => (await get('/readyz', {})).status === 200, { timeoutMs: 10_000, intervalMs: 50, what: 'the worker to register' });
    app = await AppClient.register({ masterUrl: master.masterUrl, conf: conf(), maxCores: 1, memoryMbPerExecutor: 128 });
    stdoutPath = join(workDir, app.appId, '0', 'stdout');
    await waitFor(() => existsSync(stdoutPath) && statSync(stdoutPath).size > 0, { timeoutMs: 15_000, intervalMs: 50, what: "the executor's first stdout line" });
  });

  after(async () => {
    await app?.stop();
    await worker?.shutdown('test over');
    await master?.shutdown('test over');
    rmSync(workDir, { recursive: true, force: true });
  });

  test('prints its login URL once, holding the UI token and never the secret', () => {
    const lines = workerLines.filter((l) => typeof l.fields['loginUrl'] === 'string');
    assert.equal(lines.length, 1);
    assert.equal(lines[0]?.level, 'info');
    assert.equal(lines[0]?.fields['loginUrl'], `${base}/?token=${encodeURIComponent(token)}`);
    assert.ok(!JSON.stringify(workerLines).includes(secret), 'the secret is in no log line');
  });

  test('/ and /json need a login or the bearer token; /healthz and /readyz are open', async () => {
    for (const path of ['/', '/json', '/logPage/?self', '/log?self', '/events/worker']) {
      const res = await get(path, {});
      assert.equal(res.status, 401, `${path} without a token`);
      await res.body?.cancel();
    }
    assert.equal((await get('/', { authorization: 'Bearer not-the-token-at-all' })).status, 401);
    assert.equal((await get('/healthz', {})).status, 200);
    const script = await get('/static/log.js', {});
    assert.equal(script.status, 200, "the log page's script is served from FLINT_HOME/static, open");
    assert.match(script.headers.get('content-type') ?? '', /javascript/);
    await script.body?.cancel();
    const ready = await get('/readyz', {});
    assert.equal(ready.status, 200);
    assert.deepEqual(await ready.json(), { status: 'ready' });
    const json = (await (await get('/json')).json()) as { id: string; masterurl: string; masterwebuiurl: string };
    assert.equal(json.id, worker.workerId);
    assert.equal(json.masterurl, master.masterUrl);
  });

  test('a browser logs in with the login URL and then sees the page', async () => {
    const login = await fetch(`${base}/?token=${encodeURIComponent(token)}`, { redirect: 'manual' });
    assert.equal(login.status, 303);
    const cookie = (login.headers.get('set-cookie') ?? '').split(';')[0] ?? '';
    const page = await get('/', { cookie });
    assert.equal(page.status, 200);
    assert.match(await page.text(), new RegExp(worker.workerId));
  });

  test('/ shows the worker, its master and the running executor with its log links', async () => {
    const res = await get('/');
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-security-policy') ?? '', /script-src 'self'/);
    const page = await res.text();
    assert.ok(page.includes(worker.workerId));
    assert.ok(page.includes(`href="${master.webUiUrl}"`), 'the master URL links to its web UI');
    assert.ok(page.includes(`/logPage/?appId=${app.appId}&amp;executorId=0&amp;logType=stdout`));
    assert.ok(page.includes(`/logPage/?appId=${app.appId}&amp;executorId=0&amp;logType=stderr`));
    assert.match(page, /2 \(1 used\)/);
  });

  test("/events/worker sends the page's <main> at once", async () => {
    const text = await readEvents(`${base}/events/worker`, (t) => t.includes('event: update'), 'an update');
    const main = eventsOf(text, 'update')[0] as string;
    assert.ok(main.includes(worker.workerId) && main.includes('Running Executors'));
  });

  test("the executor's FLINT_LOG_URL_STDOUT opens its stdout log page", async () => {
    const started = JSON.parse(readFileSync(stdoutPath, 'utf8').split('\n')[0] as string) as { pid: number };
    const environ = readFileSync(`/proc/${started.pid}/environ`, 'utf8').split('\0');
    const logUrl = environ.find((e) => e.startsWith('FLINT_LOG_URL_STDOUT='))?.slice('FLINT_LOG_URL_STDOUT='.length);
    assert.equal(logUrl, `${base}/logPage/?appId=${app.appId}&executorId=0&logType=stdout`);
    const res = await fetch(logUrl, { headers: bearer });
    assert.equal(res.status, 200);
    const page = await res.text();
    assert.match(page, /&quot;started&quot;:true/);
    assert.match(page, new RegExp(`bytes 0 – ${statSync(stdoutPath).size} of ${statSync(stdoutPath).size}`));
    const stderr = await get(`/logPage/?appId=${app.appId}&executorId=0&logType=stderr`);
    assert.match(await stderr.text(), /test executor: started/);
  });

  test('offset and byteLength choose the bytes shown, as Spark\'s LogPage', async () => {
    const content = readFileSync(stdoutPath, 'utf8');
    const page = await (await get(`/logPage/?appId=${app.appId}&executorId=0&logType=stdout&offset=2&byteLength=7`)).text();
    assert.match(page, new RegExp(`bytes 2 – 9 of ${content.length}`));
    const shown = /<pre class="log" id="log-text">([^<]*)<\/pre>/.exec(page)?.[1];
    assert.equal(shown, content.slice(2, 9).replaceAll('"', '&quot;'));
    assert.ok(page.includes(`offset=0&amp;byteLength=9`), 'Load more: from the start, up to what is shown');
    assert.ok(page.includes(`offset=9&amp;byteLength=7`), 'Load new: from the end shown');
    const tail = await (await get(`/logPage/?appId=${app.appId}&executorId=0&logType=stdout&byteLength=5`)).text();
    assert.match(tail, new RegExp(`bytes ${content.length - 5} – ${content.length} of ${content.length}`), 'no offset: the last byteLength bytes');
  });

  test('bad parameters are a 400 page naming the problem; a missing log is a 404', async () => {
    const bad: Array<[string, RegExp]> = [
      [`appId=${app.appId}&executorId=0&logType=stdin`, /logType=&quot;stdin&quot; is not a log type/],
      [`appId=${app.appId}&executorId=0`, /is not a log type/],
      ['appId=../..&executorId=0&logType=stdout', /appId=&quot;..\/..&quot; is not a plain id/],
      [`appId=${app.appId}&executorId=..%2F..&logType=stdout`, /executorId=&quot;..\/..&quot; is not a plain id/],
      ['appId=%2Fetc&executorId=passwd&logType=stdout', /appId=&quot;\/etc&quot; is not a plain id/],
      ['driverId=%2Fetc%2Fpasswd&logType=stdout', /driverId=&quot;\/etc\/passwd&quot; is not a plain id/],
      ['driverId=..&logType=stdout', /is not a plain id/],
      [`appId=${app.appId}&logType=stdout`, /either appId and executorId, or driverId, or self/],
      [`appId=${app.appId}&executorId=0&logType=stdout&offset=-1`, /offset=&quot;-1&quot; is not a byte count/],
      [`appId=${app.appId}&executorId=0&logType=stdout&byteLength=lots`, /byteLength=&quot;lots&quot; is not a byte count/],
    ];
    for (const [query, message] of bad) {
      const res = await get(`/logPage/?${query}`);
      assert.equal(res.status, 400, query);
      const page = await res.text();
      assert.match(page, message, query);
      assert.doesNotMatch(page, /root:/, 'no file outside the work dir');
    }
    const missing = await get('/logPage/?appId=app-00000000000000-9999&executorId=0&logType=stdout');
    assert.equal(missing.status, 404);
    assert.match(await missing.text(), /No such log/);
    assert.equal((await get('/logPage?driverId=driver-none&logType=stderr')).status, 404, '/logPage without the slash too');
  });

  test("?self shows the worker's own log, or says why it cannot", async () => {
    const res = await get('/logPage/?self');
    if (ownLogFile() === undefined) {
      assert.equal(res.status, 404);
      assert.match(await res.text(), /does not go to a file it can show/);
    } else {
      assert.equal(res.status, 200);
    }
  });

  test('/log downloads the whole log as a text file; its refusals are JSON', async () => {
    const res = await get(`/log?appId=${app.appId}&executorId=0&logType=stdout`);
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('content-type'), 'text/plain; charset=utf-8');
    assert.equal(res.headers.get('content-disposition'), `attachment; filename="${app.appId}-0-stdout.log"`);
    assert.equal(await res.text(), readFileSync(stdoutPath, 'utf8'));
    const escape = await get('/log?appId=..&executorId=..&logType=stdout');
    assert.equal(escape.status, 400);
    assert.match(((await escape.json()) as { error: string }).error, /is not a plain id/);
    const missing = await get('/log?driverId=driver-none&logType=stdout');
    assert.equal(missing.status, 404);
    assert.equal((await fetch(`${base}/log?driverId=x&logType=stdout`, { method: 'HEAD', headers: bearer })).status, 405);
  });

  test('/events/log follows the log: text appended to it arrives as append events', async () => {
    const size = statSync(stdoutPath).size;
    const marker = `appended ${Date.now()} <b>\n`;
    const url = `${base}/events/log?appId=${app.appId}&executorId=0&logType=stdout&offset=${size}`;
    let appended = false;
    const text = await readEvents(
      url,
      (t) => {
        if (!appended && t.includes('retry:')) {
          appended = true;
          appendFileSync(stdoutPath, marker);
        }
        return t.includes('appended');
      },
      'the appended text',
    );
    const chunks = eventsOf(text, 'append') as Array<{ text: string; startByte: number; endByte: number; totalLength: number }>;
    assert.equal(chunks[0]?.startByte, size);
    assert.equal(chunks.map((c) => c.text).join(''), marker);
    const problem = await readEvents(`${base}/events/log?appId=..&executorId=0&logType=stdout`, (t) => t.includes('event: problem'), 'a problem event');
    assert.match(problem, /is not a plain id/);
  });

  test('/events/worker sends the change when the executor ends (the application stopped)', async () => {
    let stopping = false;
    const text = await readEvents(
      `${base}/events/worker`,
      (t) => {
        if (!stopping && t.includes('event: update')) {
          stopping = true;
          void app.stop();
        }
        return eventsOf(t, 'update').some((main) => /No executors are running on this worker/.test(main as string));
      },
      'an update without running executors',
    );
    const last = eventsOf(text, 'update').at(-1) as string;
    assert.match(last, /KILLED|EXITED/, 'the executor is listed as finished');
    assert.ok(existsSync(stdoutPath), 'its log stays after the application ended');
    assert.equal((await get(`/logPage/?appId=${app.appId}&executorId=0&logType=stdout`)).status, 200);
  });
});

describe('a worker that has not registered, on an open cluster', { timeout: 30_000 }, () => {
  test('/readyz is 503 and / says REGISTERING; with no secret the UI is open and no login URL is printed', async () => {
    const workDir = tempDir('flint-worker-ui-open-');
    const lines: LogLine[] = [];
    const worker = await startWorkerDaemon({
      conf: new FlintConf([['flint.authenticate', 'false']]),
      logger: memoryLogger(lines),
      // Port 1 on loopback: nothing listens there, so registration keeps failing.
      base: { host: '127.0.0.1', port: 0, webUiPort: 0, cores: 1, memoryMb: 256, workDir, masterUrls: ['flint://127.0.0.1:1'] },
    });
    try {
      const base = `http://127.0.0.1:${worker.webUiPort}`;
      const ready = await fetch(`${base}/readyz`);
      assert.equal(ready.status, 503);
      assert.deepEqual(await ready.json(), { status: 'not registered with a master' });
      const page = await fetch(`${base}/`);
      assert.equal(page.status, 200);
      const text = await page.text();
      assert.match(text, /REGISTERING/);
      assert.match(text, /none yet \(registering\)/);
      assert.ok(!lines.some((l) => 'loginUrl' in l.fields), 'an open UI has no login URL');
    } finally {
      await worker.shutdown('test over');
      rmSync(workDir, { recursive: true, force: true });
    }
  });
});
