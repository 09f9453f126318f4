// Task slots and the custom-resource addresses tasks hold on their executor (reference §5.6; docs/resources.md,
// "Tasks"). After Spark's `ExecutorResourcesAmounts` / `ExecutorResourceInfo` (the driver's book of which of an
// executor's addresses are free), `TaskSchedulerImpl.resourceOfferSingleTaskSet` (a task needs
// `spark.task.cpus` free cores and its `spark.task.resource.*` addresses) and `ResourceProfile`'s limiting
// resource: an executor runs at most min(cores / task.cpus, min over resources of addresses / task amount)
// tasks at once. Whole addresses only: an address is held by one running task at a time.

import { addressesFor, hasResourcesFor, holdersWithin, needsResources, type AssignedResources, type ResourceRequirement } from '../scheduling/resources.ts';
import type { DriverConfig } from './config.ts';

/** An executor's addresses by resource, as the scheduler books them. */
export interface ExecutorAddressBook {
  /** Every address the executor registered with, in its order (RegisterExecutor.resources). */
  readonly resources: Readonly<Record<string, readonly string[]>>;
  /** The addresses no running task holds, in the executor's order: the first free ones are handed out. */
  readonly freeAddresses: Record<string, string[]>;
}

/** A fresh book for an executor that registered with `resources` (all free). */
export function addressBook(resources: Readonly<Record<string, readonly string[]>> | undefined): ExecutorAddressBook {
  const all = resources ?? {};
  const freeAddresses: Record<string, string[]> = {};
  for (const [name, addresses] of Object.entries(all)) freeAddresses[name] = [...addresses];
  return { resources: all, freeAddresses };
}

/**
 * How many tasks an executor with `cores` cores and `resources` can run at once: Spark's
 * `ResourceProfile.maxTasksPerExecutor`, limited by cores (`flint.task.cpus` each) or by the scarcest resource
 * a task needs. 0 when it lacks a resource tasks need.
 */
export function taskSlots(cores: number, resources: Readonly<Record<string, readonly string[]>> | undefined, config: Pick<DriverConfig, 'taskCpus' | 'taskResourceReqs'>): number {
  const byCores = Math.floor(cores / config.taskCpus);
  return Math.min(byCores, holdersWithin(resources, config.taskResourceReqs));
}

/** The executor has the free addresses one more task needs (always, when tasks need none). */
export function hasTaskResources(book: ExecutorAddressBook, reqs: readonly ResourceRequirement[]): boolean {
  return !needsResources(reqs) || hasResourcesFor(book.freeAddresses, reqs);
}

/**
 * Takes the first free addresses of each resource a task needs off the executor's free list and returns them
 * (undefined when tasks need none). The caller has checked `hasTaskResources`.
 */
export function acquireTaskResources(book: ExecutorAddressBook, reqs: readonly ResourceRequirement[]): AssignedResources | undefined {
  if (!needsResources(reqs)) return undefined;
  const taken = addressesFor(book.freeAddresses, reqs, 0);
  for (const [name, addresses] of Object.entries(taken)) {
    book.freeAddresses[name] = (book.freeAddresses[name] ?? []).slice(addresses.length);
  }
  return taken;
}

/**
 * Gives a task's addresses back to the executor's free list, keeping the executor's own order (so the next task
 * gets the lowest free ones, deterministically). An address already free or not the executor's is a broken
 * invariant: it would let two tasks hold one address.
 */
export function releaseTaskResources(book: ExecutorAddressBook, held: AssignedResources | undefined): void {
  for (const [name, addresses] of Object.entries(held ?? {})) {
    const order = book.resources[name] ?? [];
    const free = new Set(book.freeAddresses[name] ?? []);
    for (const address of addresses) {
      if (free.has(address) || !order.includes(address)) {
        throw new Error(`task resource ${name} address ${address} released twice or not the executor's`);
      }
      free.add(address);
    }
    book.freeAddresses[name] = order.filter((address) => free.has(address));
  }
}
