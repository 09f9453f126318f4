// Binding a child process to CPUs (flint.worker.executorCpus; the choice of CPUs is src/worker/cpu-binding.ts).
// Node has no call for sched_setaffinity, so this goes through util-linux's taskset, found on PATH when the worker
// starts and run with an argv, never a shell:
// - a process about to start runs as `taskset -c <list> <argv…>`, which binds itself and then execs argv: the
//   process keeps taskset's pid and is bound before Node starts, so every thread it makes inherits the binding;
// - a process already running (a standby executor being adopted: standby-launcher.ts) gets `taskset -a -p -c
//   <list> <pid>`, which binds each of its threads; the threads it starts later inherit it from them.

import { execFileSync } from 'node:child_process';
import { accessSync, constants, readFileSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { ConfigError } from '../../errors.ts';
import { EXECUTOR_CPUS_KEY, formatCpuList, parseCpuList } from '../../worker/cpu-binding.ts';

/** How long binding a running process may take before it counts as failed. */
const BIND_TIMEOUT_MS = 5_000;

/** The first executable `taskset` on `path` (a PATH value), or undefined. */
export function findTaskset(path: string | undefined = process.env['PATH']): string | undefined {
  for (const dir of (path ?? '').split(delimiter)) {
    if (dir.length === 0) continue;
    const file = join(dir, 'taskset');
    try {
      accessSync(file, constants.X_OK);
      return file;
    } catch {
      // not here
    }
  }
  return undefined;
}

/** The CPUs this process may run on (its own affinity: /proc/self/status's Cpus_allowed_list), or undefined. */
export function allowedCpus(): readonly number[] | undefined {
  return processCpus('self');
}

/**
 * Checks, when the worker starts, that it can bind its executors to `cpus`, and returns the taskset to do it
 * with. A ConfigError, naming what is missing, when it runs on another system than Linux, when no taskset is on
 * PATH, or when a CPU of the list is not one this worker may run on.
 */
export function cpuBinder(cpus: readonly number[], platform: NodeJS.Platform = process.platform, path?: string): string {
  const key = EXECUTOR_CPUS_KEY;
  if (platform !== 'linux') throw new ConfigError(key, `${key} binds executors to CPUs on Linux only; this worker runs on ${platform}: leave it unset`);
  const taskset = findTaskset(path ?? process.env['PATH']);
  if (taskset === undefined) throw new ConfigError(key, `${key} binds executors with taskset (Debian's util-linux), which is not on this worker's PATH`);
  const allowed = allowedCpus();
  const outside = allowed === undefined ? [] : cpus.filter((cpu) => !allowed.includes(cpu));
  if (outside.length > 0) {
    throw new ConfigError(key, `${key}=${formatCpuList(cpus)} names CPU ${formatCpuList(outside)}, but this worker may run on CPUs ${formatCpuList(allowed ?? [])} only`);
  }
  return taskset;
}

/** The taskset a launcher was given, for binding the process `key`; throws when it was given none. */
export function requireTaskset(taskset: string | undefined, key: string): string {
  if (taskset === undefined) throw new Error(`cannot bind ${key} to CPUs: the launcher has no taskset`);
  return taskset;
}

/** The argv that starts `argv` bound to `cpus`. */
export function boundArgv(taskset: string, cpus: readonly number[], argv: readonly string[]): string[] {
  return [taskset, '-c', formatCpuList(cpus), ...argv];
}

/**
 * Binds every thread of the running process `pid` to `cpus`; throws, with taskset's message, when it cannot. The
 * binding is read back: `taskset -a -p` exits 0 for a process that has gone.
 */
export function bindRunningProcess(taskset: string, cpus: readonly number[], pid: number): void {
  const list = formatCpuList(cpus);
  try {
    execFileSync(taskset, ['-a', '-p', '-c', list, String(pid)], { stdio: ['ignore', 'ignore', 'pipe'], timeout: BIND_TIMEOUT_MS });
  } catch (err) {
    const stderr = String((err as { stderr?: Buffer }).stderr ?? '').trim();
    throw new Error(`could not bind process ${pid} to CPUs ${list}: ${stderr.length > 0 ? stderr : (err as Error).message}`, { cause: err });
  }
  const now = processCpus(pid);
  if (now === undefined) throw new Error(`could not bind process ${pid} to CPUs ${list}: it is not running`);
  if (formatCpuList(now) !== list) throw new Error(`could not bind process ${pid} to CPUs ${list}: it runs on CPUs ${formatCpuList(now)}`);
}

/** The CPUs the process `pid` (its main thread) may run on, or undefined when it is not running. */
export function processCpus(pid: number | 'self'): readonly number[] | undefined {
  try {
    const line = /^Cpus_allowed_list:\s*(\S+)\s*$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return line === null ? undefined : parseCpuList(line[1] as string, 'Cpus_allowed_list');
  } catch {
    return undefined;
  }
}
