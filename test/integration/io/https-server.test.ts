// The UI's HTTP server with TLS (flint.ssl.ui.*; docs/security.md "TLS"): HTTPS only, the scheme given out is
// https, and with needClientAuth a client without a certificate signed by the trusted CA gets no answer.
// Certificates are made at run time (test/helpers/certs.ts).

import assert from 'node:assert/strict';
import { readFileSync, rmSync } from 'node:fs';
import type { IncomingMessage } from 'node:http';
import { after, before, describe, test } from 'node:test';
import { FlintConf } from '../../../src/conf/flint-conf.ts';
import { json, startHttpServer, urlScheme, type StartedHttpServer } from '../../../src/io/http/http-server.ts';
import { readSslOptions } from '../../../src/io/tls/ssl-options.ts';
import { memoryLogger } from '../../../src/util/logger.ts';
import { makeTestCerts, tlsConfPairs, type TestCerts } from '../../helpers/certs.ts';
import { tempDir } from '../../helpers/temp-dir.ts';

const { get: httpsGet } = process.getBuiltinModule('node:https');
const { get: httpGet } = process.getBuiltinModule('node:http');

type Get = typeof httpsGet;

/** One GET; resolves with the status, or rejects with the socket's error. */
function status(get: Get | typeof httpGet, options: Record<string, unknown>): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = (get as Get)({ host: '127.0.0.1', path: '/json', timeout: 3_000, ...options }, (res: IncomingMessage) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('timeout', () => req.destroy(new Error('timed out')));
    req.on('error', reject);
  });
}

describe('the UI server over HTTPS', { timeout: 30_000 }, () => {
  let dir: string;
  let certs: TestCerts;
  let ca: string;
  const servers: StartedHttpServer[] = [];

  async function start(extra: Record<string, string>): Promise<StartedHttpServer> {
    const tls = readSslOptions(new FlintConf(tlsConfPairs(certs, extra)), 'ui', { listens: true });
    assert.ok(tls);
    const server = await startHttpServer([{ method: 'GET', path: '/json', handler: () => json(200, { ok: true }) }], { host: '127.0.0.1', port: 0, logger: memoryLogger(), tls });
    servers.push(server);
    return server;
  }

  before(async () => {
    dir = tempDir('flint-https-');
    certs = await makeTestCerts(dir);
    ca = readFileSync(certs.caFile, 'utf8');
  });
  after(async () => {
    for (const s of servers) await s.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  test('answers over HTTPS for a client trusting the CA, and says its scheme is https', async () => {
    const server = await start({});
    assert.equal(server.scheme, 'https');
    assert.equal(await status(httpsGet, { port: server.port, ca }), 200);
    assert.equal(await status(httpsGet, { port: server.port, ca, host: 'localhost' }), 200);
  });

  test('plain HTTP and a client not trusting the CA get no answer', async () => {
    const server = await start({});
    await assert.rejects(status(httpGet, { port: server.port }));
    await assert.rejects(status(httpsGet, { port: server.port, ca: readFileSync(certs.otherCaFile, 'utf8') }), /self[- ]signed|unable to verify|issuer/i);
  });

  test('with flint.ssl.ui.needClientAuth a client needs a certificate signed by the CA', async () => {
    const server = await start({ 'flint.ssl.ui.needClientAuth': 'true' });
    await assert.rejects(status(httpsGet, { port: server.port, ca }));
    const withCert = { port: server.port, ca, key: readFileSync(certs.clientKeyFile), cert: readFileSync(certs.clientCertFile) };
    assert.equal(await status(httpsGet, withCert), 200);
  });

  test('without TLS settings the scheme stays http; flint.ssl.ui.enabled=false overrides flint.ssl.enabled', () => {
    assert.equal(urlScheme(undefined), 'http');
    assert.equal(readSslOptions(new FlintConf(tlsConfPairs(certs, { 'flint.ssl.ui.enabled': 'false' })), 'ui', { listens: true }), undefined);
    assert.ok(readSslOptions(new FlintConf(tlsConfPairs(certs, { 'flint.ssl.ui.enabled': 'false' })), 'rpc', { listens: true }));
    // Spark's spark.ssl.standalone.* (master and worker UIs) is read for the ui namespace, after flint.ssl.ui.*.
    const standalone = new FlintConf(tlsConfPairs(certs, { 'spark.ssl.standalone.needClientAuth': 'true' }));
    assert.equal(readSslOptions(standalone, 'ui', { listens: true })?.needClientAuth, true);
    assert.equal(readSslOptions(standalone, 'rpc', { listens: true })?.needClientAuth, false);
    standalone.set('flint.ssl.ui.needClientAuth', 'false');
    assert.equal(readSslOptions(standalone, 'ui', { listens: true })?.needClientAuth, false);
  });
});
