// Custom resources in placement (reference §5.6; Spark's `ResourceAllocator`, `WorkerInfo.acquireResources` and the
// `resOK` test of `Master.scheduleExecutorsOnWorkers`). A worker view lists the addresses of each resource it has
// free, in the order they are handed out; a request names how many of each one executor or driver needs. Whole
// addresses only: an address is given to one holder at a time.

/** Free addresses by resource name, in the order they are handed out. Read-only: placement never mutates it. */
export type ResourcesFree = Readonly<Record<string, ReadonlyArray<string>>>;

/** Addresses by resource name, as one executor or driver is given them. */
export type AssignedResources = Readonly<Record<string, ReadonlyArray<string>>>;

/** How many addresses of resource `name` one executor (or driver) needs: Spark's `ResourceRequirement`. */
export interface ResourceRequirement {
  readonly name: string;
  /** A whole number ≥ 1. */
  readonly amount: number;
}

const NONE: ResourcesFree = {};

/** How many holders of `needs` the free addresses can serve at once (Infinity when nothing is needed). */
export function holdersWithin(free: ResourcesFree | undefined, needs: ReadonlyArray<ResourceRequirement> | undefined): number {
  let most = Number.POSITIVE_INFINITY;
  for (const need of needs ?? []) {
    const have = (free ?? NONE)[need.name]?.length ?? 0;
    most = Math.min(most, Math.floor(have / need.amount));
  }
  return most;
}

/** The free addresses can serve one more holder of `needs`. */
export const hasResourcesFor = (free: ResourcesFree | undefined, needs: ReadonlyArray<ResourceRequirement> | undefined): boolean =>
  holdersWithin(free, needs) >= 1;

/**
 * The addresses the `nth` (0-based) of several holders placed on one worker in one go gets: the next `amount`
 * free addresses of each resource after those the earlier ones took (Spark acquires the first N available).
 * The caller has checked that `nth + 1` holders fit (`holdersWithin`).
 */
export function addressesFor(
  free: ResourcesFree | undefined,
  needs: ReadonlyArray<ResourceRequirement> | undefined,
  nth: number,
): AssignedResources {
  const taken: Record<string, ReadonlyArray<string>> = {};
  for (const need of needs ?? []) {
    const have = (free ?? NONE)[need.name] ?? [];
    const slice = have.slice(nth * need.amount, (nth + 1) * need.amount);
    if (slice.length !== need.amount) {
      throw new RangeError(`holder ${nth} needs ${need.amount} ${need.name} addresses; only ${have.length} are free`);
    }
    taken[need.name] = slice;
  }
  return taken;
}

/** `free` without the addresses in `taken`, as a new value (the input is not touched). */
export function withoutAddresses(free: ResourcesFree | undefined, taken: AssignedResources | undefined): ResourcesFree | undefined {
  if (free === undefined || taken === undefined) return free;
  const names = Object.keys(taken);
  if (names.length === 0) return free;
  const left: Record<string, ReadonlyArray<string>> = { ...free };
  for (const name of names) {
    const gone = new Set(taken[name]);
    left[name] = (free[name] ?? []).filter((address) => !gone.has(address));
  }
  return left;
}

/** Whether a request names any custom resource (the common case is none, and costs nothing). */
export const needsResources = (needs: ReadonlyArray<ResourceRequirement> | undefined): boolean =>
  needs !== undefined && needs.length > 0;

/**
 * `resources` as mutable arrays of its own, as a message carries them: the master's LaunchExecutor and snapshots,
 * the driver's LaunchTask. The addresses given stay the holder's; the copy is what leaves.
 */
export const copyResources = (resources: AssignedResources): Record<string, string[]> =>
  Object.fromEntries(Object.entries(resources).map(([name, addresses]) => [name, [...addresses]]));
