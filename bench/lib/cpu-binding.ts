// How bench:tasks binds its workers' executors to CPUs (flint.worker.executorCpus, src/worker/cpu-binding.ts;
// docs/operations.md, "Latency on virtual machines"): the workers of the benchmark's cluster share one machine,
// so each prefers a CPU of its own, worker i the CPU i of those this process may run on (round the list when there
// are more workers than CPUs), and lists the others after it. Where no binding is possible (another system than
// Linux, no taskset) or wanted (FLINT_BENCH_NO_CPU_BINDING=1), the workers bind nothing and `reason` says why.
//
// `unbound` measures the same executors without their binding, for a comparison in the same run: it lets every
// thread of each run on all CPUs, then puts back the CPUs each had.

import { allowedCpus, bindRunningProcess, findTaskset, processCpus } from '../../src/io/child-process/cpu-affinity.ts';

export type BenchCpuBinding =
  | { readonly ok: true; readonly taskset: string; readonly allowed: readonly number[]; workerConf(index: number): string[]; cpusOf(index: number): number }
  | { readonly ok: false; readonly reason: string };

export function benchCpuBinding(): BenchCpuBinding {
  if (process.env['FLINT_BENCH_NO_CPU_BINDING'] === '1') return { ok: false, reason: 'FLINT_BENCH_NO_CPU_BINDING=1' };
  if (process.platform !== 'linux') return { ok: false, reason: `binding needs Linux; this is ${process.platform}` };
  const taskset = findTaskset();
  if (taskset === undefined) return { ok: false, reason: 'no taskset on PATH' };
  const allowed = allowedCpus();
  if (allowed === undefined || allowed.length === 0) return { ok: false, reason: 'cannot read this process\'s CPUs (/proc/self/status)' };
  const cpusOf = (index: number): number => allowed[index % allowed.length] as number;
  // Worker i lists every CPU, from its own on: its executors take the others only while its own is held (a
  // replacement for the executors of a worker that was killed, (e)).
  const preference = (index: number): number[] => allowed.map((_, k) => allowed[(index + k) % allowed.length] as number);
  return { ok: true, taskset, allowed, cpusOf, workerConf: (index) => [`flint.worker.executorCpus=${preference(index).join(',')}`] };
}

/** Runs `measure` with the processes `pids` free to run on every CPU this process may use, then binds them back. */
export async function unbound<T>(binding: BenchCpuBinding & { ok: true }, pids: readonly number[], measure: () => Promise<T>): Promise<T> {
  const own = pids.map((pid) => {
    const cpus = processCpus(pid);
    if (cpus === undefined) throw new Error(`executor process ${pid} is not running`);
    return [pid, cpus] as const;
  });
  for (const [pid] of own) bindRunningProcess(binding.taskset, binding.allowed, pid);
  try {
    return await measure();
  } finally {
    for (const [pid, cpus] of own) bindRunningProcess(binding.taskset, cpus, pid);
  }
}
