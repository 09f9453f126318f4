// The executor program's command line (reference §7.3 step 1): required flags, defaults, and refusals that
// name the flag. The program prints the message with its usage and exits 1 (test/integration/executor).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { appCodeDirFromEnv, parseExecutorArgs, parseResourcesEnv } from '../../../src/entry/executor-args.ts';
import { ConfigError } from '../../../src/errors.ts';

const REQUIRED = ['--driver-url', 'flint://CoarseGrainedScheduler@10.0.0.5:40123', '--executor-id', '7', '--cores', '4', '--app-id', 'app-20240102030405-0001'];

test('what the worker passes is parsed; --worker-url is kept', () => {
  const args = parseExecutorArgs([...REQUIRED, '--hostname', 'wh1', '--worker-url', 'flint://Worker@wh1:7078', '--resourceProfileId', '0'], 'local');
  assert.deepEqual(args, {
    driverUrl: 'flint://CoarseGrainedScheduler@10.0.0.5:40123',
    executorId: '7',
    hostname: 'wh1',
    cores: 4,
    appId: 'app-20240102030405-0001',
    workerUrl: 'flint://Worker@wh1:7078',
  });
});

test('--hostname defaults to the local host name; without --worker-url there is none', () => {
  const args = parseExecutorArgs(REQUIRED, 'this-host');
  assert.equal(args.hostname, 'this-host');
  assert.equal('workerUrl' in args, false);
});

test("Spark's spark:// spelling of the driver URL is accepted", () => {
  assert.equal(parseExecutorArgs(['--driver-url', 'spark://CoarseGrainedScheduler@h:1', ...REQUIRED.slice(2)], 'h').driverUrl, 'spark://CoarseGrainedScheduler@h:1');
});

test('refusals are ConfigErrors naming the flag', () => {
  const cases: Array<[string[], string, RegExp]> = [
    [REQUIRED.slice(2), '--driver-url', /--driver-url is required/],
    [[...REQUIRED.slice(0, 4), ...REQUIRED.slice(6)], '--cores', /--cores is required/],
    [REQUIRED.map((a) => (a === '4' ? '-1' : a)), 'arguments', /Option '--cores' argument is ambiguous/],
    [REQUIRED.map((a) => (a === '4' ? '1.5' : a)), '--cores', /"1\.5" is not a whole number of at least 1/],
    [REQUIRED.map((a) => (a === '7' ? 'x'.repeat(513) : a)), '--executor-id', /^--executor-id is longer than 512 characters$/],
    [[...REQUIRED, '--resourceProfileId', '2'], '--resourceProfileId', /only the default profile 0/],
    [[...REQUIRED, '--hostname', ''], '--hostname', /^--hostname must not be empty$/],
    [[...REQUIRED, 'extra'], 'arguments', /extra/],
    [[...REQUIRED, '--conf', 'flint.executor.memory=1g'], '--conf', /only flint\.ssl\.\* settings/],
    [[...REQUIRED, '--conf', 'flint.ssl.keyPassword=hunter2'], '--conf', /no secrets/],
    [[...REQUIRED, '--conf', 'novalue'], '--conf', /expected key=value/],
  ];
  for (const [argv, key, message] of cases) {
    assert.throws(
      () => parseExecutorArgs(argv, 'h'),
      (err: unknown) => err instanceof ConfigError && err.key === key && message.test(err.message),
      `${argv.join(' ').slice(0, 120)} → ${key}`,
    );
  }
});

test('--conf carries the driver\'s flint.ssl.* block (paths, switches, the password file\'s path), in order', () => {
  const args = parseExecutorArgs(
    [...REQUIRED, '--conf', 'flint.ssl.enabled=true', '--conf', 'spark.ssl.rpc.trustedCaFile=/etc/flint/ca.pem', '--conf', 'flint.ssl.keyPasswordFile=/etc/flint/pw'],
    'h',
  );
  assert.deepEqual(args.startupConf, [
    ['flint.ssl.enabled', 'true'],
    ['spark.ssl.rpc.trustedCaFile', '/etc/flint/ca.pem'],
    ['flint.ssl.keyPasswordFile', '/etc/flint/pw'],
  ]);
  assert.equal(parseExecutorArgs(REQUIRED, 'h').startupConf, undefined);
});

test("FLINT_APP_CODE_DIR: the worker's bundle directory when absolute; unset, empty or relative is none", () => {
  assert.equal(appCodeDirFromEnv('/var/flint/work/.app-code'), '/var/flint/work/.app-code');
  for (const value of [undefined, '', 'work/.app-code', '../code']) assert.equal(appCodeDirFromEnv(value), undefined, String(value));
});

test('FLINT_RESOURCES: the addresses the worker gave; unset or {} is none; anything else names the variable', () => {
  assert.deepEqual(parseResourcesEnv('{"gpu":["0","1"],"fpga":["a"]}'), { gpu: ['0', '1'], fpga: ['a'] });
  assert.equal(parseResourcesEnv(undefined), undefined);
  assert.equal(parseResourcesEnv('{}'), undefined);
  const refused = (text: string, message: RegExp) =>
    assert.throws(() => parseResourcesEnv(text), (err: unknown) => err instanceof ConfigError && err.key === 'FLINT_RESOURCES' && message.test(err.message));
  refused('gpu=0,1', /FLINT_RESOURCES is not JSON .* expected \{"gpu": \["0", "1"\]/);
  refused('{"gpu":["0,1"]}', /FLINT_RESOURCES is malformed at \/gpu\/0/);
  refused('{"gpu":["0","0"]}', /FLINT_RESOURCES is malformed at \/gpu/);
  refused('["0"]', /FLINT_RESOURCES is malformed/);
});
