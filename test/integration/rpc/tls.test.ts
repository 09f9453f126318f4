// RPC over TLS (flint.ssl.*, flint.ssl.rpc.*; docs/security.md "TLS"). Certificates are made at run time
// with openssl (test/helpers/certs.ts). A peer process (test/fixtures/rpc-peer.ts) serves Echo over TLS with
// flint.authenticate on, so the HMAC handshake runs inside TLS; in-process envs dial it with the right and the
// wrong settings. Every refusal must reach the asker promptly, with a message naming what to fix.

import assert from 'node:assert/strict';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { FlintConf } from '../../../src/conf/flint-conf.ts';
import { ConfigError, RpcConnectionError } from '../../../src/errors.ts';
import { RpcEnv } from '../../../src/rpc/index.ts';
import { memoryLogger, type LogLine } from '../../../src/util/logger.ts';
import { EchoReplies, type EchoMessage } from '../../fixtures/rpc-peer.ts';
import { makeTestCerts, tlsConfPairs, type TestCerts } from '../../helpers/certs.ts';
import { ChildGroup, readReadyLine, waitFor, type ChildHandle } from '../../helpers/process.ts';
import { tempDir } from '../../helpers/temp-dir.ts';

const PEER = 'test/fixtures/rpc-peer.ts';
const SECRET = 'tls-test-secret-Hx4pQ9';
/** A TLS refusal must arrive well before the ask timeout. */
const PROMPT_MS = 3_000;
const ASK_TIMEOUT_MS = 10_000;

describe('RPC over TLS', { timeout: 60_000 }, () => {
  const children = new ChildGroup();
  const envs: RpcEnv[] = [];
  const lines: LogLine[] = [];
  let dir: string;
  let certs: TestCerts;
  let peer: ChildHandle;
  let peerId: string;

  const auth: Array<[string, string]> = [
    ['flint.authenticate', 'true'],
    ['flint.authenticate.secret', SECRET],
  ];

  async function clientEnv(pairs: Array<[string, string]>): Promise<RpcEnv> {
    const env = await RpcEnv.create({ name: 'tlsClient', clientMode: true, conf: new FlintConf([...auth, ...pairs]), logger: memoryLogger(lines) });
    envs.push(env);
    return env;
  }

  async function failedPing(env: RpcEnv, target: string): Promise<{ err: unknown; ms: number }> {
    const started = performance.now();
    const ref = env.endpointRef<EchoMessage>(`flint://Echo@${target.slice('flint://'.length)}`);
    const err = await ref.ask({ type: 'Ping', n: 1 }, ASK_TIMEOUT_MS).then(
      (reply) => assert.fail(`the ask should have failed, got ${JSON.stringify(reply)}`),
      (e: unknown) => e,
    );
    return { err, ms: performance.now() - started };
  }

  before(async () => {
    dir = tempDir('flint-tls-');
    certs = await makeTestCerts(dir);
    const secretFile = join(dir, 'secret');
    writeFileSync(secretFile, SECRET, { mode: 0o600 });
    const conf = [...tlsConfPairs(certs), ['flint.authenticate', 'true'], ['flint.authenticate.secret.file', secretFile]].flatMap(([k, v]) => ['--conf', `${k}=${v}`]);
    peer = children.spawnNodeScript(PEER, ['--name', 'tlsPeer', ...conf]);
    peerId = String((await readReadyLine(peer))['id']);
  });

  after(async () => {
    for (const env of envs) await env.shutdown();
    await children.killAll();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  test('a client trusting the CA asks and gets the reply, over TLS and with the HMAC handshake inside it', async () => {
    const env = await clientEnv([
      ['flint.ssl.enabled', 'true'],
      ['flint.ssl.trustedCaFile', certs.caFile],
    ]);
    const echo = await env.setupEndpointRef<EchoMessage>(peerId, 'Echo');
    const reply = await echo.ask({ type: 'Ping', n: 41 }, { timeoutMs: ASK_TIMEOUT_MS, expect: EchoReplies });
    assert.deepEqual(reply, { type: 'Pong', n: 42 });
  });

  test('the same client dials localhost by name too: the certificate names it', async () => {
    const env = await clientEnv([
      ['flint.ssl.rpc.enabled', 'true'],
      ['flint.ssl.rpc.trustedCaFile', certs.caFile],
    ]);
    const port = peerId.slice(peerId.lastIndexOf(':') + 1);
    const echo = await env.setupEndpointRef<EchoMessage>(`flint://localhost:${port}`, 'Echo');
    assert.deepEqual(await echo.ask({ type: 'Ping', n: 1 }, ASK_TIMEOUT_MS), { type: 'Pong', n: 2 });
  });

  test('a plain client to the TLS server fails promptly, and the server logs why', async () => {
    const env = await clientEnv([]);
    const { err, ms } = await failedPing(env, peerId);
    assert.ok(err instanceof RpcConnectionError, `expected RpcConnectionError, got ${String(err)}`);
    assert.match((err as Error).message, /closed the connection without answering; if it has TLS on, set flint\.ssl\.rpc\.enabled=true/);
    assert.ok(ms < PROMPT_MS, `the refusal took ${ms} ms`);
    await waitFor(() => /the peer does not speak TLS/.test(peer.stderr()), { what: 'the peer to log the TLS refusal' });
  });

  test('a client that does not trust the CA fails, naming flint.ssl.trustedCaFile', async () => {
    const env = await clientEnv([
      ['flint.ssl.enabled', 'true'],
      ['flint.ssl.trustedCaFile', certs.otherCaFile],
    ]);
    const { err, ms } = await failedPing(env, peerId);
    assert.ok(err instanceof RpcConnectionError, String(err));
    assert.match((err as Error).message, /not signed by a CA in flint\.ssl\.trustedCaFile/);
    assert.ok(ms < PROMPT_MS, `the refusal took ${ms} ms`);
  });

  test('a TLS client to a plain server fails promptly, saying the peer does not answer in TLS', async () => {
    const plainLog = memoryLogger();
    const plain = await RpcEnv.create({ name: 'plainServer', conf: new FlintConf(auth), logger: plainLog });
    envs.push(plain);
    const env = await clientEnv([
      ['flint.ssl.enabled', 'true'],
      ['flint.ssl.trustedCaFile', certs.caFile],
    ]);
    const { err, ms } = await failedPing(env, plain.id);
    assert.ok(err instanceof RpcConnectionError, String(err));
    assert.match((err as Error).message, /the peer did not answer in TLS/);
    assert.ok(ms < PROMPT_MS, `the refusal took ${ms} ms`);
    await waitFor(() => plainLog.lines.some((l) => /opened TLS on this plain RPC port/.test(l.msg)), { what: 'the plain server to log the TLS hello' });
  });

  test('a server whose certificate names another host is refused (host names are checked)', async () => {
    const server = await RpcEnv.create({
      name: 'wrongHost',
      conf: new FlintConf([
        ...auth,
        ...tlsConfPairs(certs, { 'flint.ssl.keyFile': certs.wrongHostKeyFile, 'flint.ssl.certFile': certs.wrongHostCertFile }),
      ]),
    });
    envs.push(server);
    const env = await clientEnv([
      ['flint.ssl.enabled', 'true'],
      ['flint.ssl.trustedCaFile', certs.caFile],
    ]);
    const { err } = await failedPing(env, server.id);
    assert.ok(err instanceof RpcConnectionError, String(err));
    assert.match((err as Error).message, /does not name the host/);
  });

  describe('mutual TLS (flint.ssl.needClientAuth)', () => {
    let server: RpcEnv;
    const serverLog = memoryLogger();

    before(async () => {
      server = await RpcEnv.create({
        name: 'mtlsServer',
        conf: new FlintConf([...auth, ...tlsConfPairs(certs, { 'flint.ssl.needClientAuth': 'true' })]),
        logger: serverLog,
      });
      envs.push(server);
      server.setupEndpoint('Echo', {
        messages: (await import('../../fixtures/rpc-peer.ts')).EchoMessages,
        receiveAndReply: (m, ctx) => {
          if (m.type === 'Ping') ctx.reply({ type: 'Pong', n: m.n + 1 });
        },
      });
    });

    test('a client with a certificate signed by the CA is served', async () => {
      const env = await clientEnv([
        ['flint.ssl.enabled', 'true'],
        ['flint.ssl.trustedCaFile', certs.caFile],
        ['flint.ssl.keyFile', certs.clientKeyFile],
        ['flint.ssl.certFile', certs.clientCertFile],
      ]);
      const echo = env.endpointRef<EchoMessage>(`flint://Echo@${server.id.slice('flint://'.length)}`);
      assert.deepEqual(await echo.ask({ type: 'Ping', n: 6 }, ASK_TIMEOUT_MS), { type: 'Pong', n: 7 });
    });

    test('a client without a certificate is refused, and the server logs that it sent none', async () => {
      const env = await clientEnv([
        ['flint.ssl.enabled', 'true'],
        ['flint.ssl.trustedCaFile', certs.caFile],
      ]);
      const { err, ms } = await failedPing(env, server.id);
      assert.ok(err instanceof RpcConnectionError, String(err));
      assert.match((err as Error).message, /requires mutual TLS/);
      assert.ok(ms < PROMPT_MS, `the refusal took ${ms} ms`);
      await waitFor(() => serverLog.lines.some((l) => /sent no certificate/.test(l.msg)), { what: 'the server to log the missing certificate' });
    });
  });

  describe('configuration is checked at start, with errors naming the key', () => {
    const create = (pairs: Array<[string, string]>, clientMode = false) =>
      RpcEnv.create({ name: 'bad', clientMode, conf: new FlintConf(pairs) }).then(
        (env) => {
          envs.push(env);
          assert.fail('the env should not have started');
        },
        (e: unknown) => e,
      );

    test('a missing key file', async () => {
      const err = await create(tlsConfPairs(certs, { 'flint.ssl.keyFile': join(dir, 'nope.key') }));
      assert.ok(err instanceof ConfigError);
      assert.equal(err.key, 'flint.ssl.keyFile');
      assert.match(err.message, /nope\.key cannot be read \(ENOENT\)/);
    });

    test('a key that does not match the certificate names the key file', async () => {
      const err = await create(tlsConfPairs(certs, { 'flint.ssl.rpc.keyFile': certs.clientKeyFile }));
      assert.ok(err instanceof ConfigError);
      assert.equal(err.key, 'flint.ssl.rpc.keyFile');
      assert.match(err.message, /does not match the certificate/);
    });

    test('a file that is not PEM names its key', async () => {
      const junk = join(dir, 'junk.pem');
      writeFileSync(junk, 'not a certificate\n');
      const err = await create(tlsConfPairs(certs, { 'flint.ssl.trustedCaFile': junk }));
      assert.ok(err instanceof ConfigError);
      assert.equal(err.key, 'flint.ssl.trustedCaFile');
    });

    test('a key file that is not a key, a wrong key password, a cipher list Node does not know', async () => {
      const junk = join(dir, 'junk.key');
      writeFileSync(junk, 'not a key\n');
      const wrongPassword = join(dir, 'wrong-password');
      writeFileSync(wrongPassword, 'not-the-password\n');
      const cases: Array<[Record<string, string>, string, RegExp]> = [
        [{ 'flint.ssl.keyFile': junk }, 'flint.ssl.keyFile', /expected a PEM private key/],
        [{ 'flint.ssl.keyFile': certs.encryptedServerKeyFile, 'flint.ssl.keyPasswordFile': wrongPassword }, 'flint.ssl.keyPasswordFile', /cannot be decrypted/],
        [{ 'flint.ssl.enabledAlgorithms': 'NO-SUCH-CIPHER' }, 'flint.ssl.enabledAlgorithms', /names no cipher suite/],
        [{ 'flint.ssl.rpc.certFile': certs.caFile.replace('.pem', '.key') }, 'flint.ssl.rpc.certFile', /holds no PEM certificate/],
        // Spark's spelling is read too (spark.ssl.* for flint.ssl.*), and a Java key store is refused with what to set.
        [{ 'spark.ssl.keyStore': '/etc/spark/keystore.jks' }, 'flint.ssl.keyStore', /PEM files, not Java key stores/],
      ];
      for (const [extra, key, message] of cases) {
        const err = await create(tlsConfPairs(certs, extra));
        assert.ok(err instanceof ConfigError, `${JSON.stringify(extra)}: ${String(err)}`);
        assert.equal(err.key, key);
        assert.match(err.message, message);
        assert.doesNotMatch(err.message, /not-the-password|test-key-pass/);
      }
    });

    test('a server without a key and certificate', async () => {
      const err = await create([['flint.ssl.enabled', 'true']]);
      assert.ok(err instanceof ConfigError);
      assert.equal(err.key, 'flint.ssl.rpc.keyFile');
    });

    test('a password in the conf is refused, pointing at keyPasswordFile, and is not echoed', async () => {
      const err = await create(tlsConfPairs(certs, { 'flint.ssl.keyPassword': 'hunter2-Qz' }));
      assert.ok(err instanceof ConfigError);
      assert.match(err.message, /keyPasswordFile/);
      assert.doesNotMatch(err.message, /hunter2/);
    });

    test('an encrypted key needs flint.ssl.keyPasswordFile; with it the env starts', async () => {
      const encrypted = { 'flint.ssl.keyFile': certs.encryptedServerKeyFile };
      const err = await create(tlsConfPairs(certs, encrypted));
      assert.ok(err instanceof ConfigError);
      assert.equal(err.key, 'flint.ssl.keyPasswordFile');
      const env = await RpcEnv.create({ name: 'encrypted', conf: new FlintConf(tlsConfPairs(certs, { ...encrypted, 'flint.ssl.keyPasswordFile': certs.keyPasswordFile })) });
      envs.push(env);
      assert.ok(env.address);
    });

    test('an unknown protocol', async () => {
      const err = await create(tlsConfPairs(certs, { 'flint.ssl.protocol': 'SSLv3' }));
      assert.ok(err instanceof ConfigError);
      assert.equal(err.key, 'flint.ssl.protocol');
    });

    test('needClientAuth without trusted CAs', async () => {
      const pairs = tlsConfPairs(certs, { 'flint.ssl.needClientAuth': 'true' }).filter(([k]) => k !== 'flint.ssl.trustedCaFile');
      const err = await create(pairs);
      assert.ok(err instanceof ConfigError);
      assert.equal(err.key, 'flint.ssl.rpc.trustedCaFile');
    });

    test('the ui namespace does not affect RPC: flint.ssl.ui.enabled alone leaves RPC plain', async () => {
      const env = await RpcEnv.create({ name: 'uiOnly', conf: new FlintConf([['flint.ssl.ui.enabled', 'true']]) });
      envs.push(env);
      assert.ok(env.address);
    });
  });
});
