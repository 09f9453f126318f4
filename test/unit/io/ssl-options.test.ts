// flint.ssl.* lookup without files (docs/security.md "TLS"): namespaces inherit from the shared block and win
// over it, Spark's spark.ssl.* spelling is read, and what is passed on to executors and drivers holds no password.
// The file-reading side (readSslOptions) is tested with real certificates in test/integration/rpc/tls.test.ts.

import assert from 'node:assert/strict';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { FlintConf } from '../../../src/conf/flint-conf.ts';
import { ConfigError } from '../../../src/errors.ts';
import { readSslOptions, sslConfToPassOn, sslEnabled } from '../../../src/io/tls/ssl-options.ts';
import { tempDir } from '../../helpers/temp-dir.ts';

test('TLS is off by default, and off means no settings are read', () => {
  const conf = new FlintConf([['flint.ssl.keyFile', '/does/not/exist']]);
  assert.equal(sslEnabled(conf, 'rpc'), false);
  assert.equal(sslEnabled(conf, 'ui'), false);
  assert.equal(readSslOptions(conf, 'rpc', { listens: true }), undefined);
});

test('rpc and ui inherit flint.ssl.enabled; a namespace key wins; spark.ssl.* is read too', () => {
  assert.deepEqual(
    [
      new FlintConf([['flint.ssl.enabled', 'true']]),
      new FlintConf([['flint.ssl.enabled', 'true'], ['flint.ssl.ui.enabled', 'false']]),
      new FlintConf([['flint.ssl.rpc.enabled', 'true']]),
      new FlintConf([['spark.ssl.enabled', 'true'], ['flint.ssl.enabled', 'false']]),
      new FlintConf([['spark.ssl.enabled', 'true'], ['spark.ssl.standalone.enabled', 'false']]),
    ].map((conf) => [sslEnabled(conf, 'rpc'), sslEnabled(conf, 'ui')]),
    [
      [true, true],
      [true, false],
      [true, false],
      [false, false],
      [true, false],
    ],
  );
});

test('a bad enabled value is a ConfigError naming the key that holds it', () => {
  assert.throws(
    () => sslEnabled(new FlintConf([['flint.ssl.rpc.enabled', 'yes']]), 'rpc'),
    (err: unknown) => err instanceof ConfigError && err.key === 'flint.ssl.rpc.enabled',
  );
});

test('a client-mode env with TLS on needs no key; a listening one does', () => {
  const conf = new FlintConf([['flint.ssl.enabled', 'true']]);
  assert.equal(readSslOptions(conf, 'rpc', { listens: false })?.needClientAuth, false);
  assert.throws(() => readSslOptions(conf, 'rpc', { listens: true }), (err: unknown) => err instanceof ConfigError && err.key === 'flint.ssl.rpc.keyFile');
  const half = new FlintConf([['flint.ssl.enabled', 'true'], ['flint.ssl.certFile', '/x.pem']]);
  assert.throws(() => readSslOptions(half, 'rpc', { listens: false }), (err: unknown) => err instanceof ConfigError && err.key === 'flint.ssl.rpc.keyFile');
});

test('what is passed on: every flint.ssl.* / spark.ssl.* entry but passwords; the password file path travels', () => {
  const conf = new FlintConf([
    ['flint.ssl.enabled', 'true'],
    ['flint.ssl.keyFile', '/etc/flint/node.key'],
    ['flint.ssl.keyPasswordFile', '/etc/flint/key-password'],
    ['flint.ssl.keyPassword', 'hunter2'],
    ['spark.ssl.rpc.trustStorePassword', 'hunter3'],
    ['spark.ssl.rpc.needClientAuth', 'true'],
    ['flint.executor.memory', '1g'],
  ]);
  assert.deepEqual(sslConfToPassOn(conf), [
    ['flint.ssl.enabled', 'true'],
    ['flint.ssl.keyFile', '/etc/flint/node.key'],
    ['flint.ssl.keyPasswordFile', '/etc/flint/key-password'],
    ['spark.ssl.rpc.needClientAuth', 'true'],
  ]);
});

test('each TLS setting that cannot be used is refused with what to set instead', () => {
  const dir = tempDir('flint-ssl-options-');
  try {
    const broken = join(dir, 'broken.pem');
    writeFileSync(broken, '-----BEGIN CERTIFICATE-----\nbm90IGEgY2VydGlmaWNhdGU=\n-----END CERTIFICATE-----\n');
    const read = (pairs: Array<[string, string]>, listens: boolean) => () => readSslOptions(new FlintConf([['flint.ssl.enabled', 'true'], ...pairs]), 'rpc', { listens });
    assert.throws(read([], true), {
      key: 'flint.ssl.rpc.keyFile',
      message: 'TLS is on for rpc (flint.ssl.rpc.enabled) but no private key and certificate are set: set flint.ssl.keyFile and flint.ssl.certFile (PEM files), or flint.ssl.rpc.keyFile and flint.ssl.rpc.certFile',
    });
    assert.throws(read([['flint.ssl.certFile', broken]], false), {
      key: 'flint.ssl.rpc.keyFile',
      message: 'TLS is on for rpc with only one of flint.ssl.keyFile and flint.ssl.certFile; set both (or flint.ssl.rpc.*)',
    });
    assert.throws(read([['flint.ssl.protocol', 'SSLv3']], false), {
      key: 'flint.ssl.protocol',
      message: 'flint.ssl.protocol="SSLv3" is not a TLS version Flint accepts; expected TLSv1.2 or TLSv1.3 (the lowest version allowed)',
    });
    const emptyPassword = join(dir, 'empty-password');
    writeFileSync(emptyPassword, '\n');
    assert.throws(read([['flint.ssl.keyPasswordFile', emptyPassword]], false), {
      key: 'flint.ssl.keyPasswordFile',
      message: `flint.ssl.keyPasswordFile=${emptyPassword} is empty; expected the private key's password`,
    });
    assert.throws(read([['flint.ssl.trustedCaFile', broken]], false), {
      key: 'flint.ssl.trustedCaFile',
      message: new RegExp(`^flint\\.ssl\\.trustedCaFile=${broken.replace(/[.]/g, '\\.')}: certificate 1 cannot be parsed \\(`),
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
