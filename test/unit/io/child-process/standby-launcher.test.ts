// StandbyExecutorLauncher (docs/standby-executors.md) over the in-memory twin of the process launcher, with real
// files in a temporary work dir: which launches a standby serves, what it writes on the standby's stdin, how the
// adopted process is known afterwards, and how standbys are replaced. The real processes are in
// test/integration/daemons/standby-executors.test.ts.

import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { after, describe, test } from 'node:test';
import { ConfigError } from '../../../../src/errors.ts';
import { STANDBY_FLAG, formatAdoptionLine, parseAdoptionLine, readAdoptionLine } from '../../../../src/io/child-process/adoption-line.ts';
import { readStdinLine } from '../../../../src/io/child-process/credential-line.ts';
import { MemoryProcessLauncher } from '../../../../src/io/child-process/memory-process-launcher.ts';
import { IDLE_CHECKS, IDLE_CHECK_MS, IDLE_WAIT_MAX_MS, StandbyExecutorLauncher } from '../../../../src/io/child-process/standby-launcher.ts';
import { ProcessCpu, readProcTicks } from '../../../../src/io/child-process/process-cpu.ts';
import type { ProcessExit, ProcessSpec } from '../../../../src/ports/process-launcher.ts';
import { memoryLogger, type LogLine } from '../../../../src/util/logger.ts';
import { tempDir } from '../../../helpers/temp-dir.ts';

const NODE = '/usr/bin/node';
const PROGRAM = '/opt/flint/executor.mjs';
const WORKER_ENV = { PATH: '/usr/bin', HOME: '/home/flint' };
const dirs: string[] = [];
after(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

/** The cores the worker's processes kept busy, as the test sets them, and the pids each sample was asked about. */
class FakeCpu {
  busy = 0;
  readonly asked: number[][] = [];
  sample(pids: readonly number[]): number {
    this.asked.push([...pids]);
    return this.busy;
  }
}

/** A pool of one standby on the twin; timers run when the test says (`fire`). */
function pool(count = 1, cpu?: { cores: number; processCpu: FakeCpu; now: () => number }) {
  const workDir = tempDir('flint-standby-unit-');
  dirs.push(workDir);
  const base = new MemoryProcessLauncher();
  const timers: Array<() => void> = [];
  const lines: LogLine[] = [];
  const standbys = new StandbyExecutorLauncher(base, {
    count,
    memoryMb: 1024,
    nodeExecutable: NODE,
    programPath: PROGRAM,
    dir: join(workDir, '.standby'),
    env: WORKER_ENV,
    logger: memoryLogger(lines),
    setTimer: (fn) => {
      timers.push(fn);
      return setTimeout(() => {}, 0);
    },
    ...(cpu ?? {}),
  });
  const fire = (): void => {
    for (const fn of timers.splice(0)) fn();
  };
  /** The standby processes the twin runs, with the output files a real launch would have opened. */
  const started = (): void => {
    for (const p of base.launched) {
      if (!p.spec.key.startsWith('standby:')) continue;
      for (const path of [p.spec.stdoutPath, p.spec.stderrPath]) {
        try {
          readFileSync(path);
        } catch {
          writeFileSync(path, '');
        }
      }
    }
  };
  return { workDir, base, standbys, fire, started, lines };
}

/** An executor launch as the worker makes it (process-specs.ts), its dir prepared with the header. */
function executorSpec(workDir: string, execId: number, overrides: Partial<ProcessSpec> = {}): ProcessSpec {
  const cwd = join(workDir, 'app-1', String(execId));
  mkdirSync(cwd, { recursive: true });
  writeFileSync(join(cwd, 'stderr'), 'Flint Executor Command: …\n========================================\n\n');
  return {
    key: `executor:app-1/${execId}`,
    argv: [NODE, '--max-old-space-size=1024', PROGRAM, '--driver-url', 'flint://CoarseGrainedScheduler@127.0.0.1:4000', '--executor-id', String(execId)],
    env: { ...WORKER_ENV, FLINT_LOG_URL_STDOUT: 'http://w/logPage/?appId=app-1&executorId=0&logType=stdout' },
    cwd: `${cwd}/`,
    stdoutPath: join(cwd, 'stdout'),
    stderrPath: join(cwd, 'stderr'),
    stdin: '{"principal":"executor:app-1","key":"k"}\n',
    ...overrides,
  };
}

describe('standby executors over the launcher twin', () => {
  test('a standby starts only after the delay, as the executor program with --standby and the worker environment', () => {
    const { base, standbys, fire } = pool();
    standbys.start();
    assert.equal(base.launched.length, 0, 'nothing before the start delay');
    fire();
    assert.equal(base.launched.length, 1);
    const spec = base.launched[0]?.spec as ProcessSpec;
    assert.deepEqual(spec.argv, [NODE, '--max-old-space-size=1024', PROGRAM, STANDBY_FLAG]);
    assert.deepEqual(spec.env, WORKER_ENV);
    assert.deepEqual(standbys.status(), { ready: 0, starting: 1, adopted: 0 });
    base.ready(spec.key);
    assert.deepEqual(standbys.status(), { ready: 1, starting: 0, adopted: 0 });
    assert.deepEqual(standbys.running(), [], 'a waiting standby is no process of the worker');
  });

  test('an executor launch adopts it: files moved under the header, adoption and credential lines on stdin, known by its key', async () => {
    const { workDir, base, standbys, fire, started } = pool();
    standbys.start();
    fire();
    started();
    const standby = base.launched[0];
    writeFileSync(standby?.spec.stderrPath as string, 'a warning before the adoption\n');
    const spec = executorSpec(workDir, 0);
    const exits: ProcessExit[] = [];
    const launched = standbys.launch(spec, (exit) => exits.push(exit));
    assert.deepEqual(launched, { key: spec.key, pid: standby?.pid });
    assert.equal(base.launched.length, 1, 'no process started');
    assert.deepEqual(standby?.stdin, [
      formatAdoptionLine({ args: spec.argv.slice(3), env: { FLINT_LOG_URL_STDOUT: spec.env['FLINT_LOG_URL_STDOUT'] as string }, cwd: spec.cwd }) + spec.stdin,
    ]);
    const stderr = readFileSync(spec.stderrPath, 'utf8');
    assert.equal(stderr, `a warning before the adoption\nFlint Executor Command: …\n========================================\n\n(standby executor process ${standby?.pid}, adopted for ${spec.key})\n`);
    assert.deepEqual(standbys.running(), [spec.key]);
    assert.deepEqual(standbys.status(), { ready: 0, starting: 0, adopted: 1 });
    // Killed by its executor's key; the exit is reported under it.
    assert.equal(standbys.kill(spec.key, 'SIGTERM'), true);
    assert.deepEqual(standby?.signals, ['SIGTERM']);
    await new Promise((resolve) => setImmediate(resolve));
    assert.deepEqual(exits, [{ key: spec.key, code: null, signal: 'SIGTERM' }]);
    assert.deepEqual(standbys.running(), []);
    // Replaced after the adoption's delay.
    fire();
    assert.equal(base.launched.length, 2);
    assert.equal(base.launched[1]?.spec.argv.at(-1), STANDBY_FLAG);
  });

  test("a start waits while the worker's processes keep half its cores busy, at most IDLE_WAIT_MAX_MS", () => {
    const processCpu = new FakeCpu();
    let nowMs = 0;
    const { workDir, base, standbys, fire, started, lines } = pool(1, { cores: 2, processCpu, now: () => nowMs });
    standbys.start();
    fire();
    started();
    // An executor (adopting the standby) and a process started for a second executor.
    const adopted = standbys.launch(executorSpec(workDir, 0), () => {});
    const fresh = standbys.launch(executorSpec(workDir, 1, { argv: [NODE, '--max-old-space-size=2048', PROGRAM] }), () => {});
    assert.equal(base.launched.length, 2);
    /** `n` more checks, each a second after the one before. */
    const checks = (n: number): void => {
      for (let i = 0; i < n; i++) {
        nowMs += IDLE_CHECK_MS;
        fire();
      }
    };
    processCpu.busy = 1.0; // half of two cores
    fire(); // the replacement is due: the worker's processes are busy
    assert.equal(base.launched.length, 2, 'no standby while the executors keep a core busy');
    assert.deepEqual(processCpu.asked.at(-1)?.sort(), [adopted.pid, fresh.pid].sort(), "the worker's own processes are measured, not the standbys");
    checks(1);
    assert.equal(base.launched.length, 2, 'still busy a second later');
    // Free for fewer than IDLE_CHECKS checks in a row (a pause between two stages), then busy again: no start.
    processCpu.busy = 0.9;
    checks(IDLE_CHECKS - 1);
    processCpu.busy = 1.5;
    checks(1);
    assert.equal(base.launched.length, 2, 'a short pause of the executors starts nothing');
    processCpu.busy = 0.9;
    checks(IDLE_CHECKS - 1);
    assert.equal(base.launched.length, 2);
    checks(1);
    assert.equal(base.launched.length, 3, `a core free ${IDLE_CHECKS} checks in a row: the replacement starts`);
    const waited = (1 + 2 * IDLE_CHECKS) * IDLE_CHECK_MS;
    assert.ok(lines.some((l) => l.msg.includes('now that the worker') && l.fields['waitedMs'] === waited), JSON.stringify(lines.map((l) => [l.msg, l.fields])));
    // Busy for ever: the start goes ahead after the longest wait.
    started();
    standbys.launch(executorSpec(workDir, 2), () => {});
    assert.deepEqual(standbys.status(), { ready: 0, starting: 0, adopted: 2 });
    processCpu.busy = 2;
    fire();
    assert.equal(base.launched.length, 3);
    nowMs += IDLE_WAIT_MAX_MS - 1;
    fire();
    assert.equal(base.launched.length, 3);
    nowMs += 1;
    fire();
    assert.equal(base.launched.length, 4, 'started after IDLE_WAIT_MAX_MS');
    assert.ok(lines.some((l) => l.msg.includes('although')));
  });

  test('a worker that runs no process of its own starts its standby as soon as it is due, whatever the machine does', () => {
    const processCpu = new FakeCpu();
    processCpu.busy = 2; // cannot be the worker's processes: it has none
    const { base, standbys, fire } = pool(1, { cores: 2, processCpu, now: () => 0 });
    standbys.start();
    fire();
    assert.equal(base.launched.length, 1);
  });

  test('ProcessCpu: the cores processes kept busy between samples, from /proc/<pid>/stat', async () => {
    let nowMs = 0;
    const ticks = new Map([[10, 500], [11, 0]]);
    const cpu = new ProcessCpu({ now: () => nowMs, readTicks: (pid) => ticks.get(pid) });
    nowMs = 2_000;
    // Seen for the first time: all 5 s of pid 10 count, over the 2 s since the sampler was made.
    assert.equal(cpu.sample([10, 11]), 2.5);
    ticks.set(10, 600).set(11, 50);
    nowMs = 3_000;
    assert.equal(cpu.sample([10, 11, 12]), 1.5, '1 s + 0.5 s in one second; pid 12 cannot be read and counts nothing');
    nowMs = 4_000;
    ticks.delete(11);
    assert.equal(cpu.sample([10, 11]), 0, 'idle, and a process that is gone counts nothing');
    // The real file: this process, busy for a while.
    const real = new ProcessCpu();
    const own = readProcTicks(process.pid);
    assert.ok(own !== undefined && own >= 0);
    const until = performance.now() + 300;
    let spin = 0;
    while (performance.now() < until) spin += Math.sqrt(spin + 1);
    assert.ok(real.sample([process.pid]) > 0.1, `a busy loop shows (${spin > 0})`);
    assert.equal(readProcTicks(2 ** 22 + 12345), undefined);
  });

  test('launches a standby cannot serve are started as before, and leave it waiting', () => {
    const { workDir, base, standbys, fire, started } = pool();
    standbys.start();
    fire();
    started();
    const cases: Array<[string, Partial<ProcessSpec>]> = [
      ['other executor memory', { argv: [NODE, '--max-old-space-size=512', PROGRAM, '--executor-id', '1'] }],
      ['a Node option of the app', { argv: [NODE, '--max-old-space-size=1024', '--trace-warnings', PROGRAM, '--executor-id', '1'] }],
      ['another program', { argv: [NODE, '--max-old-space-size=1024', '/tmp/mine.mjs', '--executor-id', '1'] }],
      ['a variable Node reads at start', { env: { ...WORKER_ENV, NODE_OPTIONS: '--inspect' } }],
      ['a changed worker variable', { env: { ...WORKER_ENV, PATH: '/opt/bin' } }],
      ['a worker variable removed', { env: { PATH: '/usr/bin' } }],
      ['a driver', { key: 'driver:driver-1' }],
    ];
    cases.forEach(([what, overrides], i) => {
      const spec = executorSpec(workDir, 10 + i, { ...overrides, key: overrides.key ?? `executor:app-1/${10 + i}` });
      const launched = standbys.launch(spec, () => {});
      assert.notEqual(launched.pid, base.launched[0]?.pid, what);
      assert.deepEqual(base.launched.at(-1)?.spec, spec, `${what}: started as given`);
    });
    assert.deepEqual(standbys.status(), { ready: 0, starting: 1, adopted: 0 });
  });

  test('a standby that exits while it waits is restarted after a back-off, its output in the log; killAll ends the pool', async () => {
    const { base, standbys, fire, started, lines } = pool();
    standbys.start();
    fire();
    started();
    const first = base.launched[0];
    writeFileSync(first?.spec.stderrPath as string, 'Error: cannot find module\n');
    base.exit(first?.spec.key as string, 1);
    await new Promise((resolve) => setImmediate(resolve));
    const warning = lines.find((l) => l.msg.startsWith('a standby executor process exited before it was adopted'));
    assert.ok(warning, JSON.stringify(lines));
    assert.equal(warning.level, 'warn');
    assert.match(String(warning.fields['stderr']), /cannot find module/);
    assert.throws(() => readFileSync(first?.spec.stderrPath as string), /ENOENT/, 'its files are removed');
    assert.equal(base.launched.length, 1, 'not restarted at once');
    fire();
    assert.equal(base.launched.length, 2, 'restarted once the back-off passed');
    await standbys.killAll(1_000);
    fire();
    assert.equal(base.launched.length, 2, 'nothing started after killAll');
    assert.deepEqual(base.running(), []);
  });

  test('a standby directory that cannot be made leaves the worker without standbys, with a warning', () => {
    const { workDir, base, lines } = pool();
    writeFileSync(join(workDir, '.standby'), 'a file where a directory is needed');
    const blocked = new StandbyExecutorLauncher(base, { count: 1, memoryMb: 1024, nodeExecutable: NODE, programPath: PROGRAM, dir: join(workDir, '.standby', 'sub'), env: WORKER_ENV, logger: memoryLogger(lines) });
    blocked.start(0);
    assert.ok(lines.some((l) => l.level === 'warn' && l.msg.includes('running without standbys')), JSON.stringify(lines));
    assert.deepEqual(blocked.status(), { ready: 0, starting: 0, adopted: 0 });
    assert.equal(base.launched.length, 0);
  });

  test('a standby that is gone when adopted leaves the launch to a fresh process', async () => {
    const { workDir, base, standbys, fire } = pool();
    standbys.start();
    fire(); // its output files were never made: the adoption cannot move them
    const spec = executorSpec(workDir, 0);
    const launched = standbys.launch(spec, () => {});
    assert.equal(base.launched.length, 2);
    assert.deepEqual(base.launched[1]?.spec, spec);
    assert.equal(launched.pid, base.launched[1]?.pid);
  });
});

describe('the adoption line', () => {
  test('round-trips, and a malformed line is a ConfigError naming what is expected', () => {
    const adoption = { args: ['--executor-id', '3'], env: { FLINT_X: 'y' }, cwd: '/w/app/3/' };
    assert.deepEqual(parseAdoptionLine(formatAdoptionLine(adoption).trimEnd()), adoption);
    for (const [line, why] of [
      ['{', /not JSON/],
      ['[]', /not an object/],
      ['{"args":[1],"env":{},"cwd":"/"}', /args must be an array of strings/],
      ['{"args":[],"env":{"A":1},"cwd":"/"}', /env must be an object of strings/],
      ['{"args":[],"env":{},"cwd":""}', /cwd must be a non-empty string/],
    ] as const) {
      assert.throws(
        () => parseAdoptionLine(line),
        (err: unknown) => err instanceof ConfigError && why.test(err.message) && err.message.includes('expected {"args":[…],"env":{…},"cwd":"…"}'),
        line,
      );
    }
  });

  test('the adoption and the credential line may come in one chunk: each reader takes its own line', async () => {
    const stdin = new PassThrough();
    stdin.write(`${formatAdoptionLine({ args: ['--cores', '1'], env: {}, cwd: '/w/' })}{"principal":"executor:a","key":"k"}\n`);
    const adoption = await readAdoptionLine(stdin);
    assert.deepEqual(adoption, { args: ['--cores', '1'], env: {}, cwd: '/w/' });
    const opts = { maxBytes: 4096, tooLong: () => new Error('long'), noNewline: () => new Error('no newline') };
    assert.equal(await readStdinLine(stdin, opts), '{"principal":"executor:a","key":"k"}');
    stdin.end();
    assert.equal(await readStdinLine(stdin, opts), undefined, 'the end, once the lines are read');
  });

  test('a line split over chunks is joined; an end without a newline and an overlong line are errors', async () => {
    const opts = { maxBytes: 16, tooLong: () => new Error('too long'), noNewline: () => new Error('no newline') };
    const split = new PassThrough();
    const reading = readStdinLine(split, opts);
    split.write('abc');
    split.write('def\nrest');
    assert.equal(await reading, 'abcdef');
    const cut = new PassThrough();
    const cutReading = readStdinLine(cut, opts);
    cut.end('partial');
    await assert.rejects(cutReading, /no newline/);
    const long = new PassThrough();
    const longReading = readStdinLine(long, opts);
    long.write('x'.repeat(40));
    await assert.rejects(longReading, /too long/);
  });
});
