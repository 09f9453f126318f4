// Why a worker cannot take one more executor of a request: the named filters of filter-usable-workers.ts, asked
// one at a time so that the first failing one can be reported (Nomad's `job plan` lists the dimension that was
// exhausted on each node). Pure: the planner (src/master/plan.ts) calls it on the views left after placement.

import { hasCoresFor, hasMemoryFor, isAlive, isNotExcluded, type ExecutorFootprint } from './filter-usable-workers.ts';
import type { WorkerView } from './types.ts';

export type UnusableReason =
  | { readonly code: 'WORKER_NOT_READY'; readonly detail: string }
  | { readonly code: 'EXCLUDED'; readonly detail: string }
  | { readonly code: 'CORES'; readonly detail: string }
  | { readonly code: 'MEMORY'; readonly detail: string }
  | { readonly code: 'RESOURCE'; readonly detail: string; readonly resource: string };

/** The first reason `worker` cannot host one executor of `need`, or undefined when it can. */
export function whyNotUsable(worker: WorkerView, need: ExecutorFootprint): UnusableReason | undefined {
  if (!isAlive(worker)) return { code: 'WORKER_NOT_READY', detail: `is ${worker.state}` };
  if (!isNotExcluded(worker, need)) return { code: 'EXCLUDED', detail: 'is in the relaunch backoff of this app' };
  if (!hasCoresFor(worker, need)) return { code: 'CORES', detail: `has ${worker.coresFree} cores free, ${need.minCores} needed` };
  if (!hasMemoryFor(worker, need)) {
    return { code: 'MEMORY', detail: `has ${worker.memoryFreeMb} MB free, ${need.memoryMbPerExecutor} MB needed` };
  }
  for (const r of need.resources ?? []) {
    const free = worker.resourcesFree?.[r.name]?.length ?? 0;
    if (free < r.amount) return { code: 'RESOURCE', resource: r.name, detail: `has ${free} ${r.name} free, ${r.amount} needed` };
  }
  return undefined;
}
