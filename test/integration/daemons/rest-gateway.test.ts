// The REST submission gateway (docs/rest.md; Spark's StandaloneRestServer, reference §12) on a real master and
// worker, each its own process: curl-shaped requests (fetch with a bearer token) to every endpoint, a driver
// created over REST that runs on the worker to completion, one killed while it runs, the refusals (401, 403,
// 400 naming the field, 468, 404, 405, 413), the gateway off by default, and `flint submit --master rest://…`
// as a real process, with --status and --kill.

import assert from 'node:assert/strict';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { after, before, describe, test } from 'node:test';
import { bundleApp } from '../../../src/io/bundle/bundle-app.ts';
import { deriveRestToken } from '../../../src/io/http/rest-server.ts';
import { deriveUiToken } from '../../../src/io/http/ui-auth.ts';
import { MAIN, newSecret, startMaster, startWorker, writeSecretFile, type MasterDaemon } from '../../helpers/daemons.ts';
import { finished } from '../../helpers/submit.ts';
import { ChildGroup, waitFor } from '../../helpers/process.ts';
import { tempDir } from '../../helpers/temp-dir.ts';

const children = new ChildGroup();
const APP = 'test/fixtures/apps/test-app.ts';

type Body = Record<string, unknown>;

describe('the REST submission gateway on a real master and worker', () => {
  let dir: string;
  let master: MasterDaemon;
  let restPort: number;
  let clusterSecret: string;
  let appSecretFile: string;
  /** The token of the application secret (role app) and of the cluster secret (role daemon). */
  let appToken: string;
  let adminToken: string;
  let bundleUrl: string;

  before(async () => {
    dir = tempDir('flint-rest-');
    clusterSecret = newSecret();
    const appSecret = newSecret();
    const secretFile = writeSecretFile(join(dir, 'secret'), clusterSecret);
    appSecretFile = writeSecretFile(join(dir, 'app-secret'), appSecret);
    appToken = deriveRestToken(appSecret);
    adminToken = deriveRestToken(clusterSecret);
    master = await startMaster(children, {
      label: 'master',
      secretFile,
      conf: ['flint.master.rest.enabled=true', 'flint.master.rest.port=0', `flint.authenticate.appSecret.file=${appSecretFile}`],
    });
    restPort = Number(master.started['restPort']);
    assert.ok(restPort > 0, `the started line names the REST port: ${JSON.stringify(master.started)}`);
    await startWorker(children, { label: 'worker', masterUrl: master.url, secretFile, workDir: join(dir, 'work'), cores: 4, memory: '2g' });
    const bundle = await bundleApp(APP, { flintEntry: 'external' });
    const bundlePath = join(dir, `${bundle.hash}.mjs`);
    writeFileSync(bundlePath, bundle.code);
    bundleUrl = pathToFileURL(bundlePath).href;
  });

  after(async () => {
    await children.killAll();
    if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  });

  async function call(method: string, path: string, { token = appToken, body }: { token?: string | null; body?: string } = {}): Promise<{ status: number; json: Body; headers: Headers }> {
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    if (token !== null) headers['authorization'] = `Bearer ${token}`;
    const res = await fetch(`http://127.0.0.1:${restPort}${path}`, { method, headers, body, signal: AbortSignal.timeout(10_000) });
    return { status: res.status, json: (await res.json()) as Body, headers: res.headers };
  }

  /**
   * A POST that declares `bytes` of body but sends only its first kilobyte, and resolves with the answer: the
   * gateway refuses by Content-Length before it reads the body, then closes the connection, so a client still
   * writing the rest (as fetch does) may get EPIPE instead of the answer.
   */
  function postDeclaringBody(path: string, bytes: number): Promise<{ status: number; json: Body }> {
    return new Promise((resolve, reject) => {
      const req = request(
        { host: '127.0.0.1', port: restPort, path, method: 'POST', timeout: 10_000, headers: { 'content-type': 'application/json', 'content-length': String(bytes), authorization: `Bearer ${appToken}` } },
        (res) => {
          let text = '';
          res.setEncoding('utf8');
          res.on('data', (chunk: string) => (text += chunk));
          res.on('end', () => {
            req.destroy();
            resolve({ status: res.statusCode ?? 0, json: JSON.parse(text) as Body });
          });
        },
      );
      req.on('timeout', () => req.destroy(new Error('no answer within 10 s')));
      req.on('error', reject);
      req.write(`{"pad":"${'x'.repeat(1024)}`);
    });
  }

  function createBody(args: string[], extra: Record<string, string> = {}): string {
    return JSON.stringify({
      action: 'CreateSubmissionRequest',
      clientSparkVersion: '4.0.0',
      appResource: bundleUrl,
      mainClass: 'flint:driver',
      appArgs: args,
      sparkProperties: { 'spark.app.name': 'rest-test', 'spark.driver.memory': '256m', 'spark.executor.memory': '256m', 'spark.cores.max': '1', ...extra },
      environmentVariables: { SPARK_LOCAL_IP: 'dropped' },
    });
  }

  async function create(args: string[]): Promise<string> {
    const { status, json } = await call('POST', '/v1/submissions/create', { body: createBody(args) });
    assert.equal(status, 200, JSON.stringify(json));
    assert.equal(json['action'], 'CreateSubmissionResponse');
    assert.equal(json['success'], true);
    const id = json['submissionId'];
    assert.match(String(id), /^driver-\d{14}-\d{4}$/);
    assert.equal(json['message'], `Driver successfully submitted as ${String(id)}`);
    return String(id);
  }

  async function untilState(id: string, state: string, timeoutMs = 90_000): Promise<Body> {
    let last: Body = {};
    return waitFor(
      async () => {
        const { status, json } = await call('GET', `/v1/submissions/status/${id}`);
        assert.equal(status, 200);
        last = json;
        const now = json['driverState'];
        if (now !== state && ['FAILED', 'ERROR', 'KILLED', 'FINISHED'].includes(String(now))) assert.fail(`${id} ended ${String(now)}, expected ${state}: ${JSON.stringify(json)}`);
        return now === state ? json : undefined;
      },
      { timeoutMs, intervalMs: 200, what: `${id} to be ${state} (last: ${JSON.stringify(last)})` },
    );
  }

  test('create: the driver runs on the worker (RUNNING, then FINISHED once it is let go); clear then forgets it', async () => {
    const marker = join(dir, 'let-go-1');
    const id = await create(['hold', marker]);
    const running = await untilState(id, 'RUNNING');
    assert.equal(running['action'], 'SubmissionStatusResponse');
    assert.equal(running['success'], true);
    assert.match(String(running['workerId']), /^worker-/);
    assert.match(String(running['workerHostPort']), /^127\.0\.0\.1:\d+$/);
    writeFileSync(marker, '');
    await untilState(id, 'FINISHED');
    const stdout = readFileSync(join(dir, 'work', id, 'stdout'), 'utf8');
    assert.match(stdout, /RESULT 100/, 'the driver ran its job on the cluster');
    // Only an operator (the cluster secret's token) may clear; it forgets finished drivers.
    assert.equal((await call('POST', '/v1/submissions/clear')).status, 403);
    const cleared = await call('POST', '/v1/submissions/clear', { token: adminToken });
    assert.deepEqual([cleared.status, cleared.json['action'], cleared.json['success']], [200, 'ClearResponse', true]);
    const gone = await call('GET', `/v1/submissions/status/${id}`);
    assert.deepEqual([gone.status, gone.json['success'], gone.json['driverState']], [200, false, undefined]);
  });

  test('kill: a running driver is KILLED; an unknown id is refused with success false', async () => {
    const id = await create(['hold', join(dir, 'never-1')]);
    await untilState(id, 'RUNNING');
    const killed = await call('POST', `/v1/submissions/kill/${id}`);
    assert.equal(killed.status, 200);
    assert.deepEqual([killed.json['action'], killed.json['success'], killed.json['submissionId']], ['KillSubmissionResponse', true, id]);
    await untilState(id, 'KILLED');
    const unknown = await call('POST', '/v1/submissions/kill/driver-00000000000000-9999');
    assert.deepEqual([unknown.status, unknown.json['success']], [200, false]);
    assert.match(String(unknown.json['message']), /already finished or does not exist/);
  });

  test('killall: refused to the application token, kills every driver for the operator', async () => {
    const a = await create(['hold', join(dir, 'never-2')]);
    const b = await create(['hold', join(dir, 'never-3')]);
    await untilState(a, 'RUNNING');
    const refused = await call('POST', '/v1/submissions/killall');
    assert.equal(refused.status, 403);
    assert.equal(refused.json['action'], 'ErrorResponse');
    const all = await call('POST', '/v1/submissions/killall', { token: adminToken });
    assert.deepEqual([all.status, all.json['action'], all.json['success']], [200, 'KillAllSubmissionResponse', true]);
    await untilState(a, 'KILLED');
    await untilState(b, 'KILLED');
  });

  test('readyz: 200 with a ReadyzResponse on the leading master', async () => {
    const { status, json, headers } = await call('GET', '/v1/submissions/readyz');
    assert.deepEqual([status, json['action'], json['success']], [200, 'ReadyzResponse', true]);
    assert.equal(headers.get('content-type'), 'application/json;charset=UTF-8');
    assert.equal(typeof json['serverSparkVersion'], 'string');
  });

  test('401 without a bearer, with a wrong one, and with the web UI token; nothing is created', async () => {
    for (const token of [null, 'not-the-token', deriveUiToken(clusterSecret), clusterSecret]) {
      const res = await call('POST', '/v1/submissions/create', { token, body: createBody(['hold', join(dir, 'never-4')]) });
      assert.equal(res.status, 401, `token ${String(token)}`);
      assert.equal(res.json['action'], 'ErrorResponse');
      assert.match(res.headers.get('www-authenticate') ?? '', /^Bearer/);
      assert.equal((await call('GET', '/v1/submissions/readyz', { token })).status, 401);
      assert.equal((await call('GET', '/v1/submissions/status/driver-x', { token })).status, 401);
    }
    // The last driver created so far is the killall test's second one: nothing was added since.
    const json = (await (await fetch(`http://127.0.0.1:${master.webUiPort}/json`, { headers: { authorization: `Bearer ${deriveUiToken(clusterSecret)}` } })).json()) as {
      activedrivers: unknown[];
    };
    assert.deepEqual(json.activedrivers, []);
  });

  test('400 with an ErrorResponse that names the bad field', async () => {
    const cases: Array<[string, RegExp]> = [
      [createBody(['x'], { 'spark.driver.memory': 'lots' }), /sparkProperties\.spark\.driver\.memory/],
      [createBody(['x'], { 'spark.driver.supervise': 'maybe' }), /sparkProperties\.spark\.driver\.supervise/],
      [createBody(['x'], { 'spark.driver.cores': 'two' }), /sparkProperties\.spark\.driver\.cores/],
      [createBody(['x'], { 'flint.ui.token': 'abcdefabcdefabcdef' }), /sparkProperties\.flint\.ui\.token: a secret/],
      [JSON.stringify({ ...JSON.parse(createBody([])), appResource: undefined }), /appResource: is required/],
      [JSON.stringify({ ...JSON.parse(createBody([])), appArgs: [1] }), /appArgs\.0/],
      [JSON.stringify({ ...JSON.parse(createBody([])), sparkProperties: {} }), /sparkProperties\.spark\.app\.name/],
      [JSON.stringify({ ...JSON.parse(createBody([])), mainClass: 'org.example.Main' }), /mainClass/],
      [JSON.stringify({ ...JSON.parse(createBody([])), action: 'KillSubmissionRequest' }), /unexpected type KillSubmissionRequest/],
      ['{ not json', /not JSON/],
    ];
    for (const [body, field] of cases) {
      const { status, json } = await call('POST', '/v1/submissions/create', { body });
      assert.equal(status, 400, body);
      assert.equal(json['action'], 'ErrorResponse');
      assert.match(String(json['message']), field);
    }
  });

  test('468 for an unknown protocol version, 404 for an unknown path, 400 for a missing id, 405 for a wrong method, 413 for an oversize body', async () => {
    const v2 = await call('GET', '/v2/submissions/status/driver-1');
    assert.deepEqual([v2.status, v2.json['action'], v2.json['highestProtocolVersion']], [468, 'ErrorResponse', 'v1']);
    assert.match(String(v2.json['message']), /Unknown protocol version 'v2'/);
    assert.equal((await call('GET', '/v1/submissions/frobnicate')).status, 404);
    assert.equal((await call('GET', '/v1/other')).status, 404);
    const noId = await call('POST', '/v1/submissions/kill');
    assert.equal(noId.status, 400);
    assert.match(String(noId.json['message']), /Submission ID is missing in kill request/);
    assert.equal((await call('GET', '/')).status, 400);
    const wrong = await call('GET', '/v1/submissions/create');
    assert.equal(wrong.status, 405);
    const big = await postDeclaringBody('/v1/submissions/create', 2 * 1024 * 1024);
    assert.deepEqual([big.status, big.json['action']], [413, 'ErrorResponse']);
    // The gateway still answers after all that.
    assert.equal((await call('GET', '/v1/submissions/readyz')).status, 200);
  });

  test('flint submit --master rest://… runs a driver in cluster mode; --status and --kill go through the gateway', async () => {
    const rest = `rest://127.0.0.1:${restPort}`;
    const submit = (args: string[], label: string) =>
      children.spawnNodeScript(MAIN, ['submit', '--master', rest, '--conf', `flint.authenticate.appSecret.file=${appSecretFile}`, ...args], { label });
    const run = await finished(
      submit(['--driver-memory', '256m', '--executor-memory', '256m', '--total-executor-cores', '1', '--name', 'via-rest', APP, 'hold', join(dir, 'never-5')], 'submit over REST'),
    );
    assert.equal(run.code, 0, run.stderr);
    const id = /Driver successfully submitted as (driver-\S+)/.exec(run.stdout)?.[1];
    assert.ok(id !== undefined, run.stdout);
    assert.match(run.stdout, new RegExp(`State of ${id} is (SUBMITTED|RUNNING)`));
    await waitFor(async () => /is RUNNING/.test((await finished(submit(['--status', id], 'status'))).stdout), { timeoutMs: 90_000, intervalMs: 500, what: `${id} RUNNING by flint submit --status` });
    const kill = await finished(submit(['--kill', id], 'kill'));
    assert.equal(kill.code, 0, kill.stderr);
    assert.match(kill.stdout, new RegExp(`Kill request for ${id} submitted`));
    await untilState(id, 'KILLED');
    // Without the secret there is no token: flint submit says what it needs and starts nothing.
    const bare = await finished(children.spawnNodeScript(MAIN, ['submit', '--master', rest, APP], { label: 'no secret' }));
    assert.equal(bare.code, 1);
    assert.match(bare.stderr, /needs the secret/);
  });

  test('off by default: a master without flint.master.rest.enabled does not listen on its REST port', async () => {
    // The port is held by this test while the master starts with it as its REST port: a port freed before the master
    // starts could be taken by any other process meanwhile (then a connection there is not refused, whatever the
    // master does). A master that listened would have found it taken and moved on (flint.port.maxRetries), and say so.
    let reachedTheTest = 0;
    const holder = createServer((socket) => {
      reachedTheTest += 1;
      socket.destroy();
    });
    const held = await new Promise<number>((resolve) => holder.listen(0, '127.0.0.1', () => resolve((holder.address() as { port: number }).port)));
    try {
      const other = await startMaster(children, { label: 'master without REST', secretFile: join(dir, 'secret'), conf: [`flint.master.rest.port=${held}`] });
      assert.equal(other.started['restPort'], undefined);
      await assert.rejects(fetch(`http://127.0.0.1:${held}/v1/submissions/readyz`, { headers: { authorization: `Bearer ${adminToken}` } }));
      assert.equal(reachedTheTest, 1, 'the REST port is still the test\'s');
    } finally {
      await new Promise((resolve) => holder.close(resolve));
    }
    assert.ok(!existsSync(join(dir, 'never-5')));
  });
});
