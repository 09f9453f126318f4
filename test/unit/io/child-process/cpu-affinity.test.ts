// Binding child processes to CPUs through taskset (src/io/child-process/cpu-affinity.ts), on real processes: the
// worker's start-up checks, a process started bound (every thread of it, Node's own included), a running process
// bound with all its threads, and the errors. Needs Linux and util-linux's taskset, as flint.worker.executorCpus does.

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { chmodSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { ConfigError } from '../../../../src/errors.ts';
import { allowedCpus, bindRunningProcess, boundArgv, cpuBinder, findTaskset } from '../../../../src/io/child-process/cpu-affinity.ts';
import { NodeProcessLauncher } from '../../../../src/io/child-process/node-process-launcher.ts';
import type { ProcessExit } from '../../../../src/ports/process-launcher.ts';
import { formatCpuList } from '../../../../src/worker/cpu-binding.ts';
import { threadCpuLists, waitFor } from '../../../helpers/process.ts';
import { tempDir } from '../../../helpers/temp-dir.ts';


const allowed = allowedCpus() ?? [];
/** The last CPU this process may use: on a machine of two or more, binding to it differs from not binding. */
const target = allowed.at(-1) as number;

test('allowedCpus reads this process\'s CPUs, and the machine has two or more for these tests to tell binding apart', () => {
  assert.ok(allowed.length >= 2, `this process may run on CPUs ${formatCpuList(allowed)}`);
  assert.deepEqual(allowed, [...allowed].sort((a, b) => a - b));
});

test('cpuBinder: the taskset on PATH for a list this worker may use; a ConfigError naming what is missing otherwise', () => {
  assert.match(cpuBinder([target]), /\/taskset$/);
  assert.throws(() => cpuBinder([target], 'darwin'), (err: unknown) => err instanceof ConfigError && /binds executors to CPUs on Linux only; this worker runs on darwin/.test(err.message));
  assert.throws(() => cpuBinder([target], 'linux', tempDir('flint-cpu-affinity-')), /flint\.worker\.executorCpus binds executors with taskset \(Debian's util-linux\), which is not on this worker's PATH/);
  assert.throws(
    () => cpuBinder([target, 8191]),
    new RegExp(`flint\\.worker\\.executorCpus=${target},8191 names CPU 8191, but this worker may run on CPUs ${formatCpuList(allowed)} only`),
  );
});

test('findTaskset takes the first executable taskset on the PATH, skipping one that cannot run', () => {
  const [notExecutable, executable] = [tempDir('flint-cpu-affinity-'), tempDir('flint-cpu-affinity-')];
  writeFileSync(join(notExecutable, 'taskset'), '');
  writeFileSync(join(executable, 'taskset'), '#!/bin/sh\n');
  chmodSync(join(executable, 'taskset'), 0o755);
  assert.equal(findTaskset(`${notExecutable}:${executable}`), join(executable, 'taskset'));
  assert.equal(findTaskset(`:${notExecutable}`), undefined);
});

test('boundArgv runs the argv under taskset -c with the cpu list', () => {
  assert.deepEqual(boundArgv('/usr/bin/taskset', [0, 1, 2, 5], ['node', '--flag', 'main.js']), ['/usr/bin/taskset', '-c', '0-2,5', 'node', '--flag', 'main.js']);
});

test('NodeProcessLauncher starts a process bound to the spec\'s CPUs, each of its threads too', async () => {
  const dir = tempDir('flint-cpu-affinity-');
  const launcher = new NodeProcessLauncher({ taskset: cpuBinder([target]) });
  // The child reports every thread it has once a worker thread of its own runs; Node's threads started before.
  const program = `
    const { Worker } = require('node:worker_threads');
    const fs = require('node:fs');
    const w = new Worker('setInterval(() => {}, 1000)', { eval: true });
    w.on('online', () => {
      const lists = fs.readdirSync('/proc/self/task').map((t) => /Cpus_allowed_list:\\s*(\\S+)/.exec(fs.readFileSync('/proc/self/task/' + t + '/status', 'utf8'))[1]);
      process.stdout.write(lists.length + ' ' + [...new Set(lists)].join(' '));
      process.exit(0);
    });`;
  let exit: ProcessExit | undefined;
  const launched = launcher.launch(
    { key: 'executor:app-1/0', argv: [process.execPath, '-e', program], env: { PATH: process.env['PATH'] ?? '' }, cwd: dir, stdoutPath: join(dir, 'stdout'), stderrPath: join(dir, 'stderr'), cpus: [target] },
    (e) => (exit = e),
  );
  assert.ok(launched.pid > 0);
  await waitFor(() => exit, { timeoutMs: 30_000, what: 'the bound child to exit' });
  assert.equal(exit?.code, 0, readFileSync(join(dir, 'stderr'), 'utf8'));
  const [threads, ...lists] = readFileSync(join(dir, 'stdout'), 'utf8').split(' ');
  assert.ok(Number(threads) >= 3, `the child had ${threads} threads`);
  assert.deepEqual(lists, [String(target)], 'every thread on the one CPU');
});

test('NodeProcessLauncher without a taskset refuses a spec that names CPUs, and starts nothing', () => {
  const dir = tempDir('flint-cpu-affinity-');
  const launcher = new NodeProcessLauncher();
  assert.throws(
    () => launcher.launch({ key: 'executor:app-1/1', argv: [process.execPath, '-e', ''], env: {}, cwd: dir, stdoutPath: join(dir, 'o'), stderrPath: join(dir, 'e'), cpus: [target] }, () => {}),
    /cannot bind executor:app-1\/1 to CPUs: the launcher has no taskset/,
  );
  assert.deepEqual(launcher.running(), []);
});

test('bindRunningProcess binds every thread of a running process; a process that is gone is an error saying so', async () => {
  const child = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore' });
  try {
    const pid = child.pid as number;
    await waitFor(() => threadCpuLists(pid).length >= 3 || undefined, { timeoutMs: 30_000, what: 'Node to start its threads' });
    assert.ok(threadCpuLists(pid).every((list) => list === formatCpuList(allowed)), 'not bound before');
    bindRunningProcess(cpuBinder([target]), [target], pid);
    assert.deepEqual([...new Set(threadCpuLists(pid))], [String(target)]);
  } finally {
    child.kill('SIGKILL');
  }
  await new Promise((resolve) => child.once('exit', resolve));
  assert.throws(() => bindRunningProcess(cpuBinder([target]), [target], child.pid as number), new RegExp(`could not bind process ${child.pid} to CPUs ${target}: it is not running`));
});
