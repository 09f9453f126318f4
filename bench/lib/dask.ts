// Dask, run for comparison by bench:shuffle and bench:tasks: Debian's python3-distributed (installed with apt-get
// when missing), and bench/lib/dask_wordcount.py (a Dask bag word count) and bench/lib/dask_tasks.py (no-op tasks
// through client.map), each on a LocalCluster of 2 one-thread processes.

import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ensureDebianPackage } from './debian.ts';

/** Debian's Python, where apt-get installs python3-distributed; `python3` on PATH may be another (pyenv). */
export function debianPython(): string {
  return existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3';
}

function canImportDistributed(python: string): boolean {
  return spawnSync(python, ['-c', 'import dask.bag, distributed'], { stdio: 'ignore' }).status === 0;
}

/**
 * Makes sure `python` can import dask.bag and distributed: if not, `apt-get update && apt-get install -y
 * python3-distributed` (as root; apt's output goes to stderr). Returns the installed versions.
 */
export function ensureDask(python: string = debianPython()): string {
  ensureDebianPackage('python3-distributed', () => canImportDistributed(python), `${python} cannot import distributed`);
  return execFileSync(python, ['-c', 'import dask, distributed; print(f"dask {dask.__version__}, distributed {distributed.__version__}")'], { encoding: 'utf8' }).trim();
}

export interface DaskWordCount {
  /** The compute alone (`frequencies().compute()`), in ms; the cluster's start is apart. */
  readonly ms: number;
  readonly clusterStartMs: number;
  readonly words: number;
  readonly distinct: number;
}

/** Runs bench/lib/dask_wordcount.py on `files` in `cwd` (Dask writes its scratch dir there). */
export function daskWordCount(files: readonly string[], cwd: string, python: string = debianPython()): DaskWordCount {
  const script = join(dirname(fileURLToPath(import.meta.url)), 'dask_wordcount.py');
  const out = execFileSync(python, [script, ...files], { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], maxBuffer: 1 << 20 });
  const last = out.trim().split('\n').at(-1) ?? '';
  const r = JSON.parse(last) as { seconds: number; clusterStartSeconds: number; words: number; distinct: number };
  return { ms: r.seconds * 1000, clusterStartMs: r.clusterStartSeconds * 1000, words: r.words, distinct: r.distinct };
}

export interface DaskTasks {
  /** The timed job alone (client.map of `tasks` no-op tasks, then gather), in ms; the cluster's start is apart. */
  readonly ms: number;
  readonly clusterStartMs: number;
  readonly tasks: number;
  /** Σ of the results: n(n-1)/2 when every task ran. */
  readonly sum: number;
}

/** Runs bench/lib/dask_tasks.py for `tasks` no-op tasks in `cwd` (Dask writes its scratch dir there). */
export function daskNoopTasks(tasks: number, cwd: string, python: string = debianPython()): DaskTasks {
  const script = join(dirname(fileURLToPath(import.meta.url)), 'dask_tasks.py');
  const out = execFileSync(python, [script, String(tasks)], { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], maxBuffer: 1 << 20 });
  const last = out.trim().split('\n').at(-1) ?? '';
  const r = JSON.parse(last) as { seconds: number; clusterStartSeconds: number; tasks: number; sum: number };
  return { ms: r.seconds * 1000, clusterStartMs: r.clusterStartSeconds * 1000, tasks: r.tasks, sum: r.sum };
}
