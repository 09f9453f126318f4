// Binding executors to CPUs (`flint.worker.executorCpus`, docs/configuration.md; docs/operations.md, "Latency on
// virtual machines"). Spark's standalone Worker binds nothing: an executor's cores are task slots, and its threads
// run wherever the kernel puts them. Flint's worker may be given a list of CPUs; each executor it launches is then
// bound to as many of them as it has cores, the ones the fewest of this worker's running executors hold, the
// earlier in the list on a tie: workers that share a machine can list its CPUs in different orders, each then
// preferring its own and taking another's only while its own are held. The CPUs of an executor that has ended are
// free again, as nothing but the running executors is counted. An executor's main thread and its task threads then
// wake each other on the CPUs it holds instead of on whichever CPU is idle, which on a virtual machine whose idle
// vCPUs halt costs a wake-up of the hypervisor each time (docs/benchmarks.md, "Wake-ups on idle CPUs").
//
// Pure: the list's syntax (Linux's cpu list, as taskset, cpusets and /proc/<pid>/status's Cpus_allowed_list write
// it) and the choice. Applying it is the process launcher's (src/io/child-process/cpu-affinity.ts).

import { ConfigError } from '../errors.ts';

/** The configuration key. */
export const EXECUTOR_CPUS_KEY = 'flint.worker.executorCpus';
/** The highest CPU number accepted (Linux's NR_CPUS is at most 8,192). */
export const MAX_CPU = 8_191;

/**
 * Parses a cpu list such as `0-3,8` into its CPU numbers, each once, in the order written (a range ascending): the
 * order is the worker's preference when it chooses (chooseCpus). A bad list is a ConfigError naming `key` and the
 * part that is wrong.
 */
export function parseCpuList(text: string, key: string = EXECUTOR_CPUS_KEY): readonly number[] {
  const bad = (why: string): ConfigError =>
    new ConfigError(key, `${key}=${JSON.stringify(text)} is invalid: ${why}; expected a list of CPU numbers and ranges such as 0-3,8`);
  const cpus = new Set<number>();
  const parts = text.split(',');
  if (text.trim().length === 0) throw bad('it is empty');
  for (const raw of parts) {
    const part = raw.trim();
    const match = /^(\d{1,4})(?:-(\d{1,4}))?$/.exec(part);
    if (match === null) throw bad(`${JSON.stringify(part)} is neither a CPU number nor a range first-last`);
    const first = Number(match[1]);
    const last = match[2] === undefined ? first : Number(match[2]);
    if (last > MAX_CPU) throw bad(`CPU ${last} is above ${MAX_CPU}`);
    if (last < first) throw bad(`the range ${part} ends before it starts`);
    for (let cpu = first; cpu <= last; cpu++) cpus.add(cpu);
  }
  return [...cpus];
}

/** The cpu list of `cpus` (ascending, each once), runs written as ranges: [0, 1, 2, 5] is `0-2,5`. */
export function formatCpuList(cpus: readonly number[]): string {
  const sorted = [...new Set(cpus)].sort((a, b) => a - b);
  const parts: string[] = [];
  for (let i = 0; i < sorted.length; ) {
    let j = i;
    while (j + 1 < sorted.length && sorted[j + 1] === (sorted[j] as number) + 1) j++;
    parts.push(i === j ? String(sorted[i]) : `${sorted[i]}-${sorted[j]}`);
    i = j + 1;
  }
  return parts.join(',');
}

/**
 * The CPUs of `list` an executor of `cores` cores is bound to, given the CPUs the running executors hold
 * (`held`, one list each): the `min(cores, list.length)` CPUs held by the fewest of them, the earlier in `list`
 * on a tie; ascending. With more cores than CPUs every CPU of the list is shared.
 */
export function chooseCpus(list: readonly number[], held: Iterable<readonly number[]>, cores: number): number[] {
  const count = new Map<number, number>(list.map((cpu) => [cpu, 0]));
  for (const cpus of held) for (const cpu of cpus) if (count.has(cpu)) count.set(cpu, (count.get(cpu) as number) + 1);
  const order = list.map((cpu, index) => ({ cpu, index, holders: count.get(cpu) as number }));
  order.sort((a, b) => a.holders - b.holders || a.index - b.index);
  return order
    .slice(0, Math.min(cores, list.length))
    .map((c) => c.cpu)
    .sort((a, b) => a - b);
}
