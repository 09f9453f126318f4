// A worker's custom resources as the Master books them (reference §4.1, §5.6): Spark's `WorkerResourceInfo`, a
// `ResourceAllocator` per resource name. Every address belongs to at most one holder (an executor `appId/execId`,
// a driver id, or an orphan executor) at a time; `acquire` on a held address is a broken invariant for what the
// Master placed itself, and is skipped with a conflict for what a worker reports (recovery, orphans).

import type { ResourceAddresses } from '../protocol/messages.ts';
import { copyResources, type AssignedResources, type ResourcesFree } from '../scheduling/index.ts';

export interface WorkerResourceBook {
  /** Every address the worker has, by resource name, in the order it reported them. */
  readonly addresses: Readonly<ResourceAddresses>;
  /** By resource name: address → the holder's id. */
  readonly held: Map<string, Map<string, string>>;
}

/**
 * The book of every worker without custom resources (most of them): one for all, as `held` is never written for a
 * worker that has no addresses (`acquire` takes only addresses the worker has). A map and an object less per
 * worker: about 270 bytes of a master's memory each (docs/benchmarks.md, bench:master (d)).
 */
const NO_RESOURCES: WorkerResourceBook = Object.freeze({ addresses: Object.freeze({}), held: new Map<string, Map<string, string>>() });

export function newResourceBook(addresses: Readonly<ResourceAddresses> | undefined): WorkerResourceBook {
  if (addresses === undefined || Object.keys(addresses).length === 0) return NO_RESOURCES;
  return { addresses, held: new Map() };
}

export const hasResources = (book: WorkerResourceBook): boolean => Object.keys(book.addresses).length > 0;

/** The free addresses of each resource, in the worker's order; undefined when it has none (the common case). */
export function resourcesFree(book: WorkerResourceBook): ResourcesFree | undefined {
  if (!hasResources(book)) return undefined;
  const free: Record<string, ReadonlyArray<string>> = {};
  for (const [name, all] of Object.entries(book.addresses)) {
    const held = book.held.get(name);
    free[name] = held === undefined ? all : all.filter((address) => !held.has(address));
  }
  return free;
}

/** The held addresses of each resource (every resource named, empty when none is held). */
export function resourcesUsed(book: WorkerResourceBook): Record<string, string[]> {
  const used: Record<string, string[]> = {};
  for (const [name, all] of Object.entries(book.addresses)) {
    const held = book.held.get(name);
    used[name] = all.filter((address) => held?.has(address) === true);
  }
  return used;
}

/**
 * Marks `resources` as held by `holder`. Returns the addresses it could not take ("gpu 3": unknown to the worker
 * or held by another holder); those are left as they were.
 */
export function acquire(book: WorkerResourceBook, holder: string, resources: AssignedResources | undefined): string[] {
  const conflicts: string[] = [];
  for (const [name, addresses] of Object.entries(resources ?? {})) {
    const known = book.addresses[name];
    let held = book.held.get(name);
    for (const address of addresses) {
      const owner = held?.get(address);
      if (known?.includes(address) !== true || (owner !== undefined && owner !== holder)) {
        conflicts.push(`${name} ${address}`);
        continue;
      }
      if (held === undefined) book.held.set(name, (held = new Map()));
      held.set(address, holder);
    }
  }
  return conflicts;
}

/** `acquire` for a placement the Master made itself: a conflict is a bug (an address given twice), so it throws. */
export function acquireOrThrow(book: WorkerResourceBook, holder: string, resources: AssignedResources | undefined): void {
  const conflicts = acquire(book, holder, resources);
  if (conflicts.length > 0) throw new Error(`${holder} was placed on addresses that are not free: ${conflicts.join(', ')}`);
}

/** Frees the addresses `holder` holds among `resources`; addresses another holder took meanwhile stay held. */
export function release(book: WorkerResourceBook, holder: string, resources: AssignedResources | undefined): void {
  for (const [name, addresses] of Object.entries(resources ?? {})) {
    const held = book.held.get(name);
    for (const address of addresses) if (held?.get(address) === holder) held.delete(address);
  }
}

/**
 * The part of `reported` that `holder` may take: addresses the worker has that no other holder holds (Spark's
 * `recoverResources`, which trusts the report). What a worker reports after a master change is taken back this
 * way, so a report naming someone else's address, or an address the worker never had, cannot make two holders
 * share one; the dropped addresses are listed for a warning.
 */
export function recoverable(
  book: WorkerResourceBook,
  holder: string,
  reported: AssignedResources | undefined,
): { readonly resources: AssignedResources; readonly dropped: string[] } {
  const resources: Record<string, ReadonlyArray<string>> = {};
  const dropped: string[] = [];
  for (const [name, addresses] of Object.entries(reported ?? {})) {
    const known = book.addresses[name];
    const held = book.held.get(name);
    const ok = addresses.filter((address) => {
      const owner = held?.get(address);
      const fine = known?.includes(address) === true && (owner === undefined || owner === holder);
      if (!fine) dropped.push(`${name} ${address}`);
      return fine;
    });
    if (ok.length > 0) resources[name] = ok;
  }
  return { resources, dropped };
}

/** `resources` as a wire field: absent when empty, so messages without resources stay as they were. */
export const resourcesField = (resources: AssignedResources): { resources?: ResourceAddresses } =>
  Object.keys(resources).length === 0 ? {} : { resources: copyResources(resources) };
