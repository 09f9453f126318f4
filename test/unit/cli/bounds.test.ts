// Command-line numbers are range-checked once, where they are parsed (issue "Trust at the edges", finding 1:
// `flint worker … --cores 9007199254740991` was accepted, registered, and the next submit hung the master).
// Each refusal is a ConfigError naming the flag, the value and the allowed range; bin/flint prints it as one
// `flint: …` line and exits 1 (test/integration/daemons/bad-input.test.ts runs the real program).
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { after, describe, test } from 'node:test';
import { parseCores, parseIntIn, parseMemoryMb, parsePort } from '../../../src/cli/daemon-options.ts';
import { demoCommand } from '../../../src/cli/demo-command.ts';
import { submitCommand } from '../../../src/cli/submit-command.ts';
import { workerCommand } from '../../../src/cli/worker-command.ts';
import { parseExecutorArgs } from '../../../src/entry/executor-args.ts';
import { ConfigError } from '../../../src/errors.ts';
import { LIMITS } from '../../../src/protocol/limits.ts';
import { tempDir } from '../../helpers/temp-dir.ts';

function refusal(fn: () => unknown, key: string, ...mentions: RegExp[]): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof ConfigError, `expected ConfigError, got ${String(err)}`);
    assert.equal(err.key, key);
    for (const m of mentions) assert.match(err.message, m);
    return true;
  });
}

async function refusalAsync(run: Promise<unknown>, key: string, ...mentions: RegExp[]): Promise<void> {
  await assert.rejects(run, (err: unknown) => {
    assert.ok(err instanceof ConfigError, `expected ConfigError, got ${String(err)}`);
    assert.equal(err.key, key);
    for (const m of mentions) assert.match(err.message, m);
    return true;
  });
}

const flag = (value: string, what = '--cores') => ({ value, what });

describe('daemon flags', () => {
  test('--cores 9007199254740991 (finding 1) and every other out-of-range core count is refused, naming flag, value and range', () => {
    refusal(() => parseCores(flag('9007199254740991'), 1), '--cores', /--cores "9007199254740991" is not a number of cores; expected a whole number from 1 to 1048576/);
    for (const bad of ['1e300', 'NaN', 'Infinity', '-1', '0', '1.5', '1048577', '', 'four', '0x10']) {
      refusal(() => parseCores(flag(bad), 1), '--cores', new RegExp(`"${bad.replace('.', '\\.')}" is not a number of cores`), /from 1 to 1048576/);
    }
    refusal(() => parseCores(flag('2097152', 'FLINT_WORKER_CORES'), 1), 'FLINT_WORKER_CORES', /^FLINT_WORKER_CORES "2097152" is not a number of cores/);
    assert.equal(parseCores(flag(String(LIMITS.cores.max)), 1), LIMITS.cores.max);
    assert.equal(parseCores(flag(' 8 '), 1), 8);
    assert.equal(parseCores(undefined, 3), 3);
  });

  test('ports: 0 to 65535', () => {
    refusal(() => parsePort(flag('65536', '--port'), 0), '--port', /"65536" is not a port; expected a whole number from 0 to 65535 \(0: any free port\)/);
    refusal(() => parsePort(flag('-1', '--webui-port'), 0), '--webui-port', /not a port/);
    assert.equal(parsePort(flag('0', '--port'), 7077), 0);
    assert.equal(parsePort(flag('65535', '--port'), 7077), 65_535);
  });

  test('--memory: from 1 MB to 2^31 − 1 MB', () => {
    refusal(() => parseMemoryMb(flag('3p', '--memory'), 1), '--memory', /"3p" is \d+ MB; expected from 1 MB .* to 2147483647 MB/);
    refusal(() => parseMemoryMb(flag('1k', '--memory'), 1), '--memory', /is 0 MB/);
    refusal(() => parseMemoryMb(flag('9007199254740991g', '--memory'), 1), '--memory', /not an amount of memory/);
    assert.equal(parseMemoryMb(flag('2g', '--memory'), 1), 2048);
  });

  test('parseIntIn takes any range of limits.ts', () => {
    refusal(() => parseIntIn(flag('2147483648', '--x'), 0, LIMITS.count, 'a count'), '--x', /from 0 to 2147483647/);
  });
});

describe('the commands refuse before starting anything', () => {
  const home = tempDir('flint-cli-bounds-');
  after(() => rmSync(home, { recursive: true, force: true }));

  test('flint worker … --cores 9007199254740991', async () => {
    const command = workerCommand(home, {}).exitOverride();
    await refusalAsync(
      command.parseAsync(['flint://127.0.0.1:7077', '--host', '127.0.0.1', '--cores', '9007199254740991', '--conf', 'flint.authenticate=false'], { from: 'user' }),
      '--cores',
      /9007199254740991/,
      /from 1 to 1048576/,
    );
  });

  test('flint worker with FLINT_PUBLIC_DNS that is no host name (a space, a slash)', async () => {
    for (const bad of ['two words', 'http://w1']) {
      const command = workerCommand(home, { FLINT_PUBLIC_DNS: bad }).exitOverride();
      await refusalAsync(
        command.parseAsync(['flint://127.0.0.1:7077', '--host', '127.0.0.1', '--conf', 'flint.authenticate=false'], { from: 'user' }),
        'FLINT_PUBLIC_DNS',
        new RegExp(`^FLINT_PUBLIC_DNS ${JSON.stringify(bad).replace(/[/.]/g, '\\$&')} is not a host name or address; expected one without spaces, '/' or '@', e\\.g\\. 10\\.0\\.0\\.5 or node1\\.example\\.com$`),
      );
    }
  });

  test('flint submit --executor-cores / --total-executor-cores / --driver-cores / --executor-memory out of range', async () => {
    const run = (...args: string[]) => submitCommand(home, {}).exitOverride().parseAsync(['--master', 'flint://127.0.0.1:7077', ...args, 'app.ts'], { from: 'user' });
    await refusalAsync(run('--executor-cores', '9007199254740991'), '--executor-cores', /from 1 to 1048576/);
    await refusalAsync(run('--total-executor-cores', '1e300'), '--total-executor-cores', /"1e300"/, /from 1 to 2147483647/);
    await refusalAsync(run('--driver-cores', '0'), '--driver-cores', /from 1 to 1048576/);
    await refusalAsync(run('--executor-memory', '3p'), 'flint.executor.memory', /too large/);
    await refusalAsync(run('--conf', 'flint.executor.cores=1048577'), 'flint.executor.cores', /from 1 to 1048576/);
  });

  test('flint demo --workers / --cores / --slices out of range', async () => {
    const run = (...args: string[]) => demoCommand(home).exitOverride().parseAsync(args, { from: 'user' });
    await refusalAsync(run('--workers', '65'), '--workers', /"65" is not a number of workers; expected a whole number from 1 to 64/);
    await refusalAsync(run('--cores', '9007199254740991'), '--cores', /from 1 to 1048576/);
    await refusalAsync(run('--slices', '0'), '--slices', /from 1 to 2147483647/);
  });

  test('the executor program: --cores up to 1048576, the most a worker can give one executor', () => {
    const args = ['--driver-url', 'flint://CoarseGrainedScheduler@h:1', '--executor-id', '1', '--app-id', 'app-1', '--cores'];
    assert.equal(parseExecutorArgs([...args, String(LIMITS.cores.max)], 'h').cores, LIMITS.cores.max);
    refusal(() => parseExecutorArgs([...args, '1048577'], 'h'), '--cores', /at most 1048576/);
    refusal(() => parseExecutorArgs([...args, '9007199254740991'], 'h'), '--cores', /at most 1048576/);
  });
});
