// A cluster with TLS on (docs/security.md, "TLS"): a real master and worker started through the CLI with the
// flint.ssl.* block, RPC with mutual TLS (flint.ssl.rpc.needClientAuth), web UIs over HTTPS, and an app run by
// `flint submit` whose executors, started by the worker, dial their driver over TLS with the settings the
// driver passed them; then the same in cluster mode, with the driver started by the worker. Every process uses
// the encrypted copy of the key with flint.ssl.keyPasswordFile, so the password file's path must travel too.
// Certificates are made at run time (test/helpers/certs.ts).

import assert from 'node:assert/strict';
import { readFileSync, rmSync } from 'node:fs';
import type { IncomingMessage } from 'node:http';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { makeTestCerts, tlsConfPairs, type TestCerts } from '../../helpers/certs.ts';
import { newSecret, startMaster, startWorker, uiAuthHeaders, uiBearer, writeSecretFile, type MasterDaemon, type MasterJson, type WorkerDaemon, type WorkerJson } from '../../helpers/daemons.ts';
import { ChildGroup, waitFor, type ChildHandle } from '../../helpers/process.ts';
import { tempDir } from '../../helpers/temp-dir.ts';

const { get: httpsGet } = process.getBuiltinModule('node:https');
const { get: httpGet } = process.getBuiltinModule('node:http');
const APP = 'test/fixtures/apps/test-app.ts';
const APP_TIMEOUT_MS = 60_000;

/** GET `path` on 127.0.0.1:port over HTTPS, trusting `ca`; resolves with the status and the parsed body. */
function getHttps<T>(port: number, path: string, ca: string, headers: Record<string, string> = {}): Promise<{ status: number; body: T }> {
  return new Promise((resolve, reject) => {
    const req = httpsGet({ host: '127.0.0.1', port, path, ca, headers: { ...uiAuthHeaders(port), ...headers }, timeout: 3_000 }, (res: IncomingMessage) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (text += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(text) as T }));
    });
    req.on('timeout', () => req.destroy(new Error(`GET https://127.0.0.1:${port}${path} timed out`)));
    req.on('error', reject);
  });
}

/** A plain-HTTP GET: must fail (the port speaks only TLS). Resolves with the error. */
function plainGetFails(port: number): Promise<Error> {
  return new Promise((resolve, reject) => {
    const req = httpGet({ host: '127.0.0.1', port, path: '/json', timeout: 3_000 }, (res: IncomingMessage) => {
      res.resume();
      reject(new Error(`plain HTTP was answered with ${res.statusCode}`));
    });
    req.on('timeout', () => req.destroy(new Error('timed out')));
    req.on('error', resolve);
  });
}

describe('a cluster with TLS on RPC (mutual) and on the web UIs', { timeout: 120_000 }, () => {
  const children = new ChildGroup();
  let dir: string;
  let certs: TestCerts;
  let ca: string;
  let tlsConf: string[];
  let secretFile: string;
  let master: MasterDaemon;
  let worker: WorkerDaemon;

  before(async () => {
    dir = tempDir('flint-tls-cluster-');
    certs = await makeTestCerts(dir);
    ca = readFileSync(certs.caFile, 'utf8');
    // The server certificate also allows client authentication: every process presents it.
    tlsConf = tlsConfPairs(certs, {
      'flint.ssl.rpc.needClientAuth': 'true',
      'flint.ssl.keyFile': certs.encryptedServerKeyFile,
      'flint.ssl.keyPasswordFile': certs.keyPasswordFile,
    }).map(([k, v]) => `${k}=${v}`);
    secretFile = writeSecretFile(join(dir, 'secret'), newSecret());
    master = await startMaster(children, { label: 'tls master', secretFile, conf: tlsConf });
    worker = await startWorker(children, { label: 'tls worker', masterUrl: master.url, secretFile, workDir: join(dir, 'work'), cores: 2, memory: '2g', conf: tlsConf });
  });

  after(async () => {
    await children.killAll();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  test('the worker registers over TLS; both UIs answer /json over HTTPS, with https:// URLs', async () => {
    const json = await waitFor(
      async () => {
        const { body } = await getHttps<MasterJson>(master.webUiPort, '/json', ca);
        return body.aliveworkers === 1 && body;
      },
      { timeoutMs: 15_000, intervalMs: 100, what: 'the worker to register with the master' },
    );
    assert.equal(json.workers[0]?.webuiaddress, `https://127.0.0.1:${worker.webUiPort}`);
    assert.match(String(master.started['msg']), new RegExp(`web UI https://127\\.0\\.0\\.1:${master.webUiPort}`));
    const own = await getHttps<WorkerJson>(worker.webUiPort, '/json', ca, uiBearer(secretFile));
    assert.equal(own.status, 200);
    assert.equal(own.body.masterwebuiurl, `https://127.0.0.1:${master.webUiPort}`);
  });

  test('plain HTTP to a UI port gets no answer', async () => {
    const err = await plainGetFails(master.webUiPort);
    assert.ok(err instanceof Error);
    await plainGetFails(worker.webUiPort);
  });

  test('an app submitted with the same block runs a job on executors that dial their driver over TLS', async () => {
    const app = await submit(['--total-executor-cores', '2', '--executor-memory', '256m', APP, 'sum', '20', '4', '0'], 'tls app');
    assert.ok(app.stdoutLines.includes('RESULT 380'), app.stdoutLines.join('\n'));
  });

  test('cluster mode: the driver the worker starts listens and dials with TLS too', async () => {
    const run = await submit(['--deploy-mode', 'cluster', '--conf', 'flint.driver.memory=256m', '--executor-memory', '256m', APP, 'sum', '10', '2', '0'], 'tls cluster app');
    const driverId = /Driver successfully submitted as (driver-\S+)/.exec(run.stdoutLines.join('\n'))?.[1];
    assert.ok(driverId, run.stdoutLines.join('\n'));
    const stdoutFile = join(worker.workDir, driverId, 'stdout');
    await waitFor(
      async () => {
        const status = await submit(['--status', driverId], 'status');
        const text = status.stdoutLines.join('\n');
        if (/is (FAILED|ERROR|KILLED)/.test(text)) assert.fail(`${text}\n${readFileSync(join(worker.workDir, driverId, 'stderr'), 'utf8')}`);
        return /State of driver-\S+ is FINISHED/.test(text);
      },
      { timeoutMs: APP_TIMEOUT_MS, intervalMs: 500, what: `${driverId} to finish` },
    );
    assert.match(readFileSync(stdoutFile, 'utf8'), /RESULT 90/);
  });

  /** Runs `flint submit` with the TLS block and the secret; waits (bounded) for it to exit 0. */
  async function submit(args: readonly string[], label: string): Promise<ChildHandle> {
    const common = ['submit', '--master', master.url, '--conf', `flint.authenticate.secret.file=${secretFile}`, ...tlsConf.flatMap((c) => ['--conf', c])];
    const child = children.spawnNodeScript('src/cli/main.ts', [...common, ...args], { label });
    const exit = await Promise.race([child.exited, new Promise<undefined>((r) => setTimeout(() => r(undefined), APP_TIMEOUT_MS).unref())]);
    assert.ok(exit !== undefined, `${label} did not finish:\n${child.stdoutLines.join('\n')}\n${child.stderr()}`);
    assert.equal(exit.code, 0, child.stderr());
    return child;
  }
});
