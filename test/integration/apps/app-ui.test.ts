// The application UI on a real driver (Spark's SparkUI on spark.ui.port): an app submitted to a local cluster runs a
// job held open by a gate file while the test reads its UI over HTTP: the jobs, a job's tasks, the executors and
// the environment (the secret nowhere), 401 without the token, a kill through the form with the session's CSRF
// token, and a taken port stepped over as Spark's Utils.startServiceOnPort does.
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { LocalCluster } from '../../../src/daemons/local-cluster.ts';
import { ChildGroup, waitFor, type ChildHandle } from '../../helpers/process.ts';
import { tempDir } from '../../helpers/temp-dir.ts';

const MAIN = 'src/cli/main.ts';
const APP = 'test/fixtures/apps/test-app.ts';
const children = new ChildGroup();

function listenAnywhere(): Promise<Server> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve(server));
  });
}

/** The URLs the driver printed on stderr at start: "Application UI at …" and the login URL with the token. */
function uiLines(app: ChildHandle): { url: string | undefined; login: string | undefined } {
  const stderr = app.stderr();
  return { url: /Application UI at (http:\/\/\S+)/.exec(stderr)?.[1], login: /Application UI login[^:]*: (http:\/\/\S+)/.exec(stderr)?.[1] };
}

describe('the application UI of a running app', () => {
  let cluster: LocalCluster;
  let taken: Server;
  before(async () => {
    cluster = await LocalCluster.start({ workers: 1, coresPerWorker: 2, memoryPerWorker: '1g' });
    taken = await listenAnywhere();
  });
  after(async () => {
    await children.killAll();
    await cluster?.stop();
    taken?.close();
  });

  test('pages, authentication, redaction, a kill through the form, and a taken port stepped over', async () => {
    const dir = tempDir('flint-app-ui-');
    const gate = join(dir, 'gate');
    const takenPort = (taken.address() as { port: number }).port;
    const app = children.spawnNodeScript(
      MAIN,
      [
        'submit',
        '--master',
        cluster.masterUrl,
        '--conf',
        `flint.authenticate.secret.file=${cluster.secretFile}`,
        '--conf',
        `flint.ui.port=${takenPort}`,
        '--conf',
        'my.service.password=hunter2-visible-nowhere',
        '--total-executor-cores',
        '2',
        APP,
        'sum',
        '8',
        '4',
        '0',
        dir,
        gate,
      ],
      { label: 'app-ui sum' },
    );
    try {
      const { url, login } = await waitFor(() => {
        const lines = uiLines(app);
        if (app.exit !== undefined) assert.fail(`the app exited: ${app.stderr()}`);
        return lines.url !== undefined && lines.login !== undefined ? { url: lines.url, login: lines.login } : undefined;
      }, { timeoutMs: 30_000, what: 'the app to print its UI URLs' });
      const port = Number(new URL(url).port);
      assert.ok(port > takenPort && port <= takenPort + 16, `the taken port ${takenPort} was stepped over (got ${port})`);
      const token = new URL(login).searchParams.get('token') as string;
      const bearer = { authorization: `Bearer ${token}` };

      const anonymous = await fetch(`${url}/jobs/`);
      assert.equal(anonymous.status, 401, 'no token, no page');
      assert.equal((await fetch(`${url}/json`)).status, 401);

      // The job runs (half its records wait for the gate): it is listed as active with its tasks.
      const jobs = await waitFor(async () => {
        const text = await (await fetch(`${url}/jobs/`, { headers: bearer })).text();
        return text.includes('Active jobs (1)') && text.includes('RUNNING') ? text : undefined;
      }, { timeoutMs: 30_000, intervalMs: 100, what: 'the job to be listed as active' });
      assert.match(jobs, /map\(slowDouble\) → reduce\(plus\)/, 'the job is described by its ops and action');
      assert.match(jobs, /src="\/static\/timeline.js"/);
      const timeline = (await (await fetch(`${url}/api/timeline`, { headers: bearer })).json()) as { executors: unknown[]; jobs: Array<{ state: string }> };
      assert.equal(timeline.jobs[0]?.state, 'RUNNING');
      // Its attempts appear as executors register and take them; the gated half keeps running.
      const job = await waitFor(async () => {
        const text = await (await fetch(`${url}/jobs/job/?id=0`, { headers: bearer })).text();
        return /data-label="State"><span class="badge warn">RUNNING/.test(text) ? text : undefined;
      }, { timeoutMs: 30_000, intervalMs: 100, what: 'a running attempt on the job page' });
      assert.match(job, /Tasks \([1-9]\d*\)/);
      assert.match(job, /data-label="Executor">\d+</);
      assert.equal((await fetch(`${url}/jobs/job/?id=77`, { headers: bearer })).status, 404);
      const executors = await (await fetch(`${url}/executors/`, { headers: bearer })).text();
      assert.match(executors, /Active executors<\/dt><dd>[12]</);
      assert.match(executors, /href="http:\/\/[^"]+\/logPage\/\?[^"]*logType=stdout"/, 'stdout log links from the executors\' registration');
      const environment = await (await fetch(`${url}/environment/`, { headers: bearer })).text();
      const secret = readFileSync(cluster.secretFile, 'utf8').trim();
      assert.ok(!environment.includes(secret), 'the secret is nowhere on the page');
      assert.ok(!environment.includes('hunter2-visible-nowhere'), 'a password setting is redacted');
      assert.match(environment, /my\.service\.password/);
      assert.match(environment, /\*{9}\(redacted\)/);
      const streamed = await fetch(`${url}/events/jobs`, { headers: bearer });
      assert.equal(streamed.headers.get('content-type'), 'text/event-stream; charset=utf-8');
      await streamed.body?.cancel();

      // A browser's way: log in with the token, then kill the job with the form and the session's CSRF token.
      const loggedIn = await fetch(login, { redirect: 'manual' });
      const cookie = (loggedIn.headers.get('set-cookie') ?? '').split(';')[0] as string;
      assert.match(cookie, /^flint-ui-session-\d+=/);
      const page = await (await fetch(`${url}/jobs/`, { headers: { cookie } })).text();
      const csrf = /name="csrfToken" value="([^"]+)"/.exec(page)?.[1];
      assert.ok(csrf !== undefined, 'the running job has a kill form with the CSRF token');
      const refused = await fetch(`${url}/jobs/job/kill/`, { method: 'POST', redirect: 'manual', headers: { cookie, origin: url, 'content-type': 'application/x-www-form-urlencoded' }, body: 'id=0' });
      assert.equal(refused.status, 403, 'no CSRF token, no kill');
      const killed = await fetch(`${url}/jobs/job/kill/`, {
        method: 'POST',
        redirect: 'manual',
        headers: { cookie, origin: url, 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ id: '0', csrfToken: csrf }).toString(),
      });
      assert.equal(killed.status, 303);
      assert.equal(killed.headers.get('location'), '/jobs/');
      const exit = await Promise.race([app.exited, new Promise<undefined>((r) => setTimeout(() => r(undefined), 30_000).unref())]);
      assert.ok(exit !== undefined, 'the app ends once its job is killed');
      assert.equal(exit.code, 1);
      assert.match(app.stderr(), /Job 0 cancelled: killed via the web UI/);
      await assert.rejects(fetch(`${url}/jobs/`, { headers: bearer }), 'the UI closed with the app');
    } finally {
      writeFileSync(gate, 'open');
    }
  });
});
