// Units, FlintConf (spark.* fallback, typed getters, redaction) and readRpcSettings (the RPC keys, the secret).
import assert from 'node:assert/strict';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { FlintConf } from '../../../src/conf/flint-conf.ts';
import { parseDurationMs, parseSizeBytes } from '../../../src/conf/units.ts';
import { ConfigError } from '../../../src/errors.ts';
import { LIMITS } from '../../../src/protocol/limits.ts';
import { readRpcSettings } from '../../../src/rpc/rpc-env.ts';
import { tempDir } from '../../helpers/temp-dir.ts';

function configError(fn: () => unknown, key: string, ...mentions: RegExp[]): ConfigError {
  let caught: unknown;
  try {
    fn();
  } catch (err) {
    caught = err;
  }
  assert.ok(caught instanceof ConfigError, `expected ConfigError, got ${String(caught)}`);
  assert.equal(caught.code, 'FLINT_CONFIG_INVALID');
  assert.equal(caught.key, key);
  assert.ok(caught.message.includes(key), `"${caught.message}" names ${key}`);
  for (const m of mentions) assert.match(caught.message, m);
  return caught;
}

describe('parseDurationMs', () => {
  test('Spark spellings', () => {
    const cases: Array<[string, number]> = [
      ['60', 60_000],
      ['60s', 60_000],
      ['500ms', 500],
      ['2m', 120_000],
      ['2min', 120_000],
      ['1h', 3_600_000],
      ['1d', 86_400_000],
      ['1500us', 1.5],
      ['0', 0],
      [' 10 s ', 10_000],
      ['10S', 10_000],
    ];
    for (const [text, ms] of cases) assert.equal(parseDurationMs(text, 's'), ms, text);
  });

  test('a bare number is in the default unit', () => {
    assert.equal(parseDurationMs('60', 'ms'), 60);
    assert.equal(parseDurationMs('60', 'm'), 3_600_000);
    assert.equal(parseDurationMs('60ms', 'm'), 60, 'an explicit unit wins');
  });

  test('bad values', () => {
    for (const text of ['', 'abc', '-1s', '1.5s', '10x', '1 h 2', 's', '1e3', '0x10', '10 seconds']) {
      assert.throws(() => parseDurationMs(text, 's'), /is not a duration/, JSON.stringify(text));
    }
  });
});

describe('parseSizeBytes', () => {
  test('Spark spellings', () => {
    const cases: Array<[string, string, number]> = [
      ['1g', 'b', 1024 ** 3],
      ['512m', 'b', 512 * 1024 ** 2],
      ['64k', 'b', 65_536],
      ['64kb', 'b', 65_536],
      ['128mb', 'b', 128 * 1024 ** 2],
      ['2t', 'b', 2 * 1024 ** 4],
      ['100b', 'm', 100],
      ['128', 'm', 128 * 1024 ** 2],
      ['128', 'b', 128],
      ['1G', 'b', 1024 ** 3],
    ];
    for (const [text, unit, bytes] of cases) assert.equal(parseSizeBytes(text, unit as 'b' | 'm'), bytes, text);
  });

  test('bad and overflowing values', () => {
    for (const text of ['', 'big', '-1m', '1.5g', '10q', 'm']) {
      assert.throws(() => parseSizeBytes(text, 'b'), /is not a size/, JSON.stringify(text));
    }
    assert.throws(() => parseSizeBytes('99999999p', 'b'), /too large/);
  });
});

describe('FlintConf', () => {
  test('flint.x falls back to spark.x; flint.x wins when both are set; other keys are read as written', () => {
    const conf = new FlintConf([
      ['spark.network.timeout', '30s'],
      ['spark.rpc.askTimeout', '5s'],
      ['flint.rpc.askTimeout', '7s'],
      ['custom.key', 'v'],
    ]);
    assert.equal(conf.get('flint.network.timeout'), '30s');
    assert.equal(conf.get('flint.rpc.askTimeout'), '7s');
    assert.equal(conf.get('spark.rpc.askTimeout'), '5s', 'spark keys read as written');
    assert.equal(conf.get('custom.key'), 'v');
    assert.equal(conf.get('flint.custom.key'), undefined);
    assert.equal(conf.has('flint.network.timeout'), true);
    assert.equal(conf.has('flint.nothing'), false);
    assert.equal(conf.getDurationMs('flint.network.timeout', '120s', 's'), 30_000);
    assert.equal(conf.getString('flint.nothing', 'dflt'), 'dflt');
  });

  test('spark.* does not fall back to flint.*', () => {
    assert.equal(new FlintConf([['flint.a', '1']]).get('spark.a'), undefined);
  });

  test('later set() of the same key wins; clone is independent', () => {
    const conf = new FlintConf([['flint.a', '1']]).set('flint.a', '2');
    assert.equal(conf.get('flint.a'), '2');
    const copy = conf.clone().set('flint.a', '3');
    assert.equal(conf.get('flint.a'), '2');
    assert.equal(copy.get('flint.a'), '3');
    assert.deepEqual(conf.entries(), [['flint.a', '2']]);
  });

  test('getBoolean: true/false in any case and spacing, default when unset, ConfigError otherwise', () => {
    const conf = new FlintConf([
      ['flint.a', 'TRUE'],
      ['flint.b', ' false '],
      ['flint.c', 'yes'],
      ['spark.d', '1'],
    ]);
    assert.equal(conf.getBoolean('flint.a', false), true);
    assert.equal(conf.getBoolean('flint.b', true), false);
    assert.equal(conf.getBoolean('flint.unset', true), true);
    configError(() => conf.getBoolean('flint.c', false), 'flint.c', /"yes"/, /true or false/);
    configError(() => conf.getBoolean('flint.d', false), 'flint.d', /not a boolean/);
  });

  test('getInt: whole numbers, default, min, ConfigError otherwise', () => {
    const conf = new FlintConf([
      ['flint.a', ' 42 '],
      ['flint.neg', '-3'],
      ['flint.frac', '1.5'],
      ['flint.word', 'four'],
      ['flint.huge', '99999999999999999999'],
      ['flint.empty', ''],
    ]);
    assert.equal(conf.getInt('flint.a', 0), 42);
    assert.equal(conf.getInt('flint.neg', 0), -3);
    assert.equal(conf.getInt('flint.unset', 7), 7);
    configError(() => conf.getInt('flint.frac', 0), 'flint.frac', /not a whole number/);
    configError(() => conf.getInt('flint.word', 0), 'flint.word', /"four"/);
    configError(() => conf.getInt('flint.huge', 0), 'flint.huge', /not a whole number/);
    configError(() => conf.getInt('flint.empty', 0), 'flint.empty', /not a whole number/);
    configError(() => conf.getInt('flint.neg', 0, { min: 0 }), 'flint.neg', /too small; expected a whole number from 0 to 2147483647/);
  });

  test('ranges (issue "Trust at the edges"): getInt beyond its range, durations beyond a timer, sizes and memory beyond their max', () => {
    const conf = new FlintConf([
      ['flint.executor.cores', '9007199254740991'],
      ['flint.cores.max', '2147483648'],
      ['flint.int', '2147483648'],
      ['flint.network.timeout', '30d'],
      ['flint.worker.cleanup.appDataTtl', '365d'],
      ['flint.executor.memory', '3p'],
      ['flint.driver.memory', '0'],
      ['flint.rpc.message.maxSize', '2g'],
    ]);
    configError(() => conf.getInt('flint.executor.cores', 1, LIMITS.cores), 'flint.executor.cores', /9007199254740991 is too large; expected a whole number from 1 to 1048576/);
    configError(() => conf.getInt('flint.cores.max', 1, LIMITS.appCores), 'flint.cores.max', /from 1 to 2147483647/);
    configError(() => conf.getInt('flint.int', 1), 'flint.int', /too large; expected a whole number from -2147483648 to 2147483647/);
    configError(() => conf.getDurationMs('flint.network.timeout', '120s', 's'), 'flint.network.timeout', /"30d" is too long; expected at most 2147483647 ms/);
    assert.equal(conf.getDurationMs('flint.worker.cleanup.appDataTtl', '7d', 's', { max: LIMITS.durationMs.max }), 365 * 86_400_000);
    configError(() => conf.getMemoryMb('flint.executor.memory', '1g'), 'flint.executor.memory', /"3p" is too large/);
    configError(() => conf.getMemoryMb('flint.driver.memory', '1g'), 'flint.driver.memory', /too small; expected at least 1m/);
    assert.equal(new FlintConf().getMemoryMb('flint.executor.memory', '1g'), 1024);
    configError(() => conf.getSizeBytes('flint.rpc.message.maxSize', '128', 'm', { max: 2 ** 30 }), 'flint.rpc.message.maxSize', /"2g" is too large; expected at most 1073741824 bytes/);
  });

  test('getDurationMs / getSizeBytes: bad values give ConfigError naming the key (also when set as spark.*)', () => {
    const conf = new FlintConf([
      ['flint.network.timeout', 'soon'],
      ['spark.rpc.askTimeout', '-5s'],
      ['flint.rpc.message.maxSize', 'huge'],
    ]);
    configError(() => conf.getDurationMs('flint.network.timeout', '120s', 's'), 'flint.network.timeout', /"soon"/, /not a duration/);
    configError(() => conf.getDurationMs('flint.rpc.askTimeout', '120s', 's'), 'flint.rpc.askTimeout', /"-5s"/);
    configError(() => conf.getSizeBytes('flint.rpc.message.maxSize', '128', 'm'), 'flint.rpc.message.maxSize', /"huge"/, /not a size/);
    assert.equal(new FlintConf().getDurationMs('flint.x', '2m', 's'), 120_000, 'the default is parsed too');
    assert.equal(new FlintConf().getSizeBytes('flint.x', '128', 'm'), 128 * 1024 ** 2);
  });

  test('redacted() hides secret-looking values and keeps the rest', () => {
    const conf = new FlintConf([
      ['flint.authenticate', 'true'],
      ['flint.authenticate.secret', 'hunter2'],
      ['spark.authenticate.secret', 'hunter3'],
      ['flint.ssl.keyPassword', 'v-pw1'],
      ['flint.some.apiToken', 'v-tok'],
      ['flint.cloud.credentials', 'v-cred'],
      ['flint.master.port', '7077'],
    ]);
    const redacted = new Map(conf.redacted());
    const text = JSON.stringify(conf.redacted());
    for (const secret of ['hunter2', 'hunter3', 'v-pw1', 'v-tok', 'v-cred']) assert.ok(!text.includes(secret), `${secret} leaked`);
    assert.equal(redacted.get('flint.authenticate'), 'true');
    assert.equal(redacted.get('flint.master.port'), '7077');
    assert.equal(redacted.size, 7, 'every key is listed');
    assert.notEqual(redacted.get('flint.authenticate.secret'), undefined);
    assert.equal(conf.get('flint.authenticate.secret'), 'hunter2', 'redaction does not change the conf');
  });
});

describe('readRpcSettings', () => {
  const dir = tempDir('flint-rpc-conf-');
  after(() => rmSync(dir, { recursive: true, force: true }));

  test('defaults: 120 s network and ask timeouts, 10 s connect, 128 MiB frames, a 4096 backlog, no coalescing, edge limits, no secret', () => {
    assert.deepEqual(readRpcSettings(new FlintConf()), {
      askTimeoutMs: 120_000,
      networkTimeoutMs: 120_000,
      connectTimeoutMs: 10_000,
      maxFrameBytes: 128 * 1024 ** 2,
      listenBacklog: 4096,
      coalesceWrites: false,
      maxQueuedBytes: 64 * 1024 ** 2,
      maxHandshaking: 256,
      maxHandshakingPerAddress: 64,
      maxHandshakeWaiting: 16_384,
      secret: undefined,
      appSecret: undefined,
    });
  });

  test('flint.authenticate.appSecret: the applications\' secret, by default the cluster secret; either one alone will do', () => {
    const file = join(dir, 'app-secret');
    writeFileSync(file, 'from-a-file\n');
    const both = readRpcSettings(new FlintConf([['flint.authenticate', 'true'], ['flint.authenticate.secret', 'cluster'], ['flint.authenticate.appSecret', 'apps']]));
    assert.deepEqual([both.secret, both.appSecret], ['cluster', 'apps']);
    const clusterOnly = readRpcSettings(new FlintConf([['flint.authenticate', 'true'], ['flint.authenticate.secret', 'cluster']]));
    assert.deepEqual([clusterOnly.secret, clusterOnly.appSecret], ['cluster', 'cluster']);
    const appOnly = readRpcSettings(new FlintConf([['flint.authenticate', 'true'], ['flint.authenticate.appSecret.file', file]]));
    assert.deepEqual([appOnly.secret, appOnly.appSecret], [undefined, 'from-a-file']);
    configError(() => readRpcSettings(new FlintConf([['flint.authenticate', 'true'], ['flint.authenticate.appSecret', '']])), 'flint.authenticate.appSecret');
  });

  test('the edge limits: flint.rpc.io.maxQueuedBytes (at least 1m) and the handshake caps (from 1; the waiting room from 0)', () => {
    const s = readRpcSettings(
      new FlintConf([
        ['flint.rpc.io.maxQueuedBytes', '8m'],
        ['flint.rpc.handshake.maxConnections', '10'],
        ['flint.rpc.handshake.maxConnectionsPerAddress', '2'],
        ['flint.rpc.handshake.maxWaiting', '0'],
      ]),
    );
    assert.deepEqual([s.maxQueuedBytes, s.maxHandshaking, s.maxHandshakingPerAddress, s.maxHandshakeWaiting], [8 * 1024 ** 2, 10, 2, 0]);
    configError(() => readRpcSettings(new FlintConf([['flint.rpc.io.maxQueuedBytes', '100k']])), 'flint.rpc.io.maxQueuedBytes', /at least 1m/);
    configError(() => readRpcSettings(new FlintConf([['flint.rpc.handshake.maxConnections', '0']])), 'flint.rpc.handshake.maxConnections');
    configError(() => readRpcSettings(new FlintConf([['flint.rpc.handshake.maxConnectionsPerAddress', 'x']])), 'flint.rpc.handshake.maxConnectionsPerAddress');
    configError(() => readRpcSettings(new FlintConf([['flint.rpc.handshake.maxWaiting', '-1']])), 'flint.rpc.handshake.maxWaiting');
  });

  test('flint.rpc.io.coalesceWrites: the conf wins over the default the env asks for (drivers and executors: true)', () => {
    assert.equal(readRpcSettings(new FlintConf(), true).coalesceWrites, true);
    assert.equal(readRpcSettings(new FlintConf([['flint.rpc.io.coalesceWrites', 'false']]), true).coalesceWrites, false);
    assert.equal(readRpcSettings(new FlintConf([['spark.rpc.io.coalesceWrites', 'true']])).coalesceWrites, true);
    configError(() => readRpcSettings(new FlintConf([['flint.rpc.io.coalesceWrites', 'sometimes']])), 'flint.rpc.io.coalesceWrites');
  });

  test('flint.rpc.io.backLog (spark.rpc.io.backLog): a whole number from 1', () => {
    assert.equal(readRpcSettings(new FlintConf([['flint.rpc.io.backLog', '128']])).listenBacklog, 128);
    assert.equal(readRpcSettings(new FlintConf([['spark.rpc.io.backLog', '65535']])).listenBacklog, 65_535);
    configError(() => readRpcSettings(new FlintConf([['flint.rpc.io.backLog', '0']])), 'flint.rpc.io.backLog');
    configError(() => readRpcSettings(new FlintConf([['flint.rpc.io.backLog', '1k']])), 'flint.rpc.io.backLog');
    configError(() => readRpcSettings(new FlintConf([['flint.rpc.io.backLog', '4294967296']])), 'flint.rpc.io.backLog');
  });

  test('askTimeout defaults to network.timeout; explicit values, bare numbers in seconds / MiB, spark.* spellings', () => {
    const s = readRpcSettings(
      new FlintConf([
        ['spark.network.timeout', '30'],
        ['flint.rpc.connect.timeout', '500ms'],
        ['spark.rpc.message.maxSize', '1'],
      ]),
    );
    assert.equal(s.networkTimeoutMs, 30_000);
    assert.equal(s.askTimeoutMs, 30_000);
    assert.equal(s.connectTimeoutMs, 500);
    assert.equal(s.maxFrameBytes, 1024 * 1024);
    assert.equal(readRpcSettings(new FlintConf([['flint.rpc.askTimeout', '2m']])).askTimeoutMs, 120_000);
    assert.equal(readRpcSettings(new FlintConf([['flint.rpc.message.maxSize', '64k']])).maxFrameBytes, 65_536);
  });

  test('bad values name their key', () => {
    configError(() => readRpcSettings(new FlintConf([['flint.rpc.askTimeout', 'x']])), 'flint.rpc.askTimeout');
    configError(() => readRpcSettings(new FlintConf([['flint.network.timeout', '1.5s']])), 'flint.network.timeout');
    configError(() => readRpcSettings(new FlintConf([['flint.rpc.message.maxSize', '2g']])), 'flint.rpc.message.maxSize', /between 1k and 2047m/);
    configError(() => readRpcSettings(new FlintConf([['flint.rpc.message.maxSize', '100b']])), 'flint.rpc.message.maxSize', /between/);
    configError(() => readRpcSettings(new FlintConf([['flint.authenticate', 'on']])), 'flint.authenticate');
  });

  test('auth without a secret → ConfigError naming the secret keys', () => {
    const err = configError(
      () => readRpcSettings(new FlintConf([['flint.authenticate', 'true']])),
      'flint.authenticate.secret',
      /flint\.authenticate\.secret\.file/,
    );
    assert.match(err.message, /non-empty/);
    configError(() => readRpcSettings(new FlintConf([['spark.authenticate', 'true'], ['flint.authenticate.secret', '']])), 'flint.authenticate.secret');
  });

  test('the secret from flint.authenticate.secret, or spark.authenticate.secret; ignored when auth is off', () => {
    assert.equal(readRpcSettings(new FlintConf([['flint.authenticate', 'true'], ['flint.authenticate.secret', 's3']])).secret, 's3');
    assert.equal(readRpcSettings(new FlintConf([['spark.authenticate', 'true'], ['spark.authenticate.secret', 's4']])).secret, 's4');
    assert.equal(readRpcSettings(new FlintConf([['flint.authenticate.secret', 's5']])).secret, undefined);
  });

  test('secret.file is read (trimmed); the inline secret wins over the file', () => {
    const file = join(dir, 'secret');
    writeFileSync(file, '  file-secret-value\n');
    assert.equal(
      readRpcSettings(new FlintConf([['flint.authenticate', 'true'], ['flint.authenticate.secret.file', file]])).secret,
      'file-secret-value',
    );
    assert.equal(
      readRpcSettings(
        new FlintConf([
          ['flint.authenticate', 'true'],
          ['flint.authenticate.secret', 'inline'],
          ['flint.authenticate.secret.file', file],
        ]),
      ).secret,
      'inline',
    );
    const empty = join(dir, 'empty');
    writeFileSync(empty, '\n');
    configError(
      () => readRpcSettings(new FlintConf([['flint.authenticate', 'true'], ['flint.authenticate.secret.file', empty]])),
      'flint.authenticate.secret',
      /non-empty/,
    );
  });

  test('an unreadable secret file → ConfigError naming the key, the file and the errno, never its contents', () => {
    const missing = join(dir, 'does-not-exist');
    const e1 = configError(
      () => readRpcSettings(new FlintConf([['flint.authenticate', 'true'], ['flint.authenticate.secret.file', missing]])),
      'flint.authenticate.secret.file',
      /ENOENT/,
    );
    assert.ok(e1.message.includes(missing));

    // A directory cannot be read as a file (this works even as root, where file permissions do not stop reads).
    const asDir = join(dir, 'secret-dir');
    mkdirSync(asDir);
    writeFileSync(join(asDir, 'inner-secret-text'), 'inner-secret-text');
    const e2 = configError(
      () => readRpcSettings(new FlintConf([['flint.authenticate', 'true'], ['flint.authenticate.secret.file', asDir]])),
      'flint.authenticate.secret.file',
      /EISDIR/,
    );
    assert.ok(!e2.message.includes('inner-secret-text'));
    assert.equal(e2.cause, undefined, 'the errno error (and anything it holds) is not attached');
  });
});
