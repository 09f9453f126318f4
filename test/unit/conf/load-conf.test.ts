import assert from 'node:assert/strict';
import { writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { loadConf, parseConfPair, parseDaemonOpts, parseProperties } from '../../../src/conf/load-conf.ts';
import { ConfigError } from '../../../src/errors.ts';
import { tempDir } from '../../helpers/temp-dir.ts';

test('parseProperties reads key value, key=value, key: value, comments and continuations', () => {
  const text = ['# comment', '! also a comment', '', 'flint.a  1', 'flint.b=two words', 'flint.c: 3', 'flint.d  x\\', '   y', 'flint.e'].join('\n');
  assert.deepEqual(parseProperties(text, 'f.conf'), [
    ['flint.a', '1'],
    ['flint.b', 'two words'],
    ['flint.c', '3'],
    ['flint.d', 'xy'],
    ['flint.e', ''],
  ]);
});

test('parseProperties names the file and line of a bad entry', () => {
  assert.throws(
    () => parseProperties('flint.ok 1\n=nokey\n', '/etc/flint.conf'),
    (err: unknown) => err instanceof ConfigError && err.message.startsWith('/etc/flint.conf:2:') && err.message.includes('key=value'),
  );
});

test('parseConfPair splits on the first = and refuses a missing key', () => {
  assert.deepEqual(parseConfPair('flint.x=a=b'), ['flint.x', 'a=b']);
  assert.deepEqual(parseConfPair('flint.empty='), ['flint.empty', '']);
  assert.throws(() => parseConfPair('novalue'), /--conf "novalue": expected key=value/);
  assert.throws(() => parseConfPair('=v'), ConfigError);
});

test('parseDaemonOpts takes -D pairs and leaves other words', () => {
  const { conf, other } = parseDaemonOpts('  -Dflint.deploy.defaultCores=4 --max-old-space-size=512 -Dspark.worker.timeout=30 ', 'FLINT_MASTER_OPTS');
  assert.deepEqual(conf, [
    ['flint.deploy.defaultCores', '4'],
    ['spark.worker.timeout', '30'],
  ]);
  assert.deepEqual(other, ['--max-old-space-size=512']);
  assert.throws(() => parseDaemonOpts('-Dbad', 'FLINT_MASTER_OPTS'), /FLINT_MASTER_OPTS "bad"/);
});

test('loadConf precedence: file < -D in opts variables < --conf', () => {
  const dir = tempDir('flint-conf-');
  const file = join(dir, 'my.conf');
  writeFileSync(file, 'flint.a file\nflint.b file\nflint.c file\n');
  const conf = loadConf({
    propertiesFile: file,
    optsVariables: ['FLINT_DAEMON_OPTS', 'FLINT_MASTER_OPTS'],
    env: { FLINT_DAEMON_OPTS: '-Dflint.b=daemon -Dflint.c=daemon', FLINT_MASTER_OPTS: '-Dflint.c=master' },
    confPairs: ['flint.d=flag'],
  });
  assert.equal(conf.get('flint.a'), 'file');
  assert.equal(conf.get('flint.b'), 'daemon');
  assert.equal(conf.get('flint.c'), 'master');
  assert.equal(conf.get('flint.d'), 'flag');
});

test('loadConf finds conf/flint-defaults.conf under FLINT_CONF_DIR or flint home, and is empty without one', () => {
  const home = tempDir('flint-home-');
  assert.deepEqual(loadConf({ env: {}, flintHome: home }).entries(), []);
  mkdirSync(join(home, 'conf'));
  writeFileSync(join(home, 'conf', 'flint-defaults.conf'), 'flint.from home\n');
  assert.equal(loadConf({ env: {}, flintHome: home }).get('flint.from'), 'home');
  const other = tempDir('flint-confdir-');
  writeFileSync(join(other, 'flint-defaults.conf'), 'flint.from confdir\n');
  assert.equal(loadConf({ env: { FLINT_CONF_DIR: other }, flintHome: home }).get('flint.from'), 'confdir');
});

test('loadConf reports an unreadable properties file with its path', () => {
  assert.throws(
    () => loadConf({ propertiesFile: '/nonexistent/flint.conf', env: {} }),
    (err: unknown) => err instanceof ConfigError && err.message.includes('/nonexistent/flint.conf') && err.message.includes('ENOENT'),
  );
});
