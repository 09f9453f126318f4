import { isAlive } from './filter-usable-workers.ts';
import { shuffle } from './shuffle.ts';
import { addressesFor, hasResourcesFor, needsResources, withoutAddresses, type AssignedResources, type ResourceRequirement, type ResourcesFree } from './resources.ts';
import type { Rng, WorkerView } from './types.ts';

/** A waiting driver (cluster deploy mode) and what it needs from a worker. */
export interface DriverRequest {
  readonly id: string;
  readonly cores: number;
  readonly memoryMb: number;
  /** Custom resources the driver needs (`DriverDescription.resourceReqs`). Absent or empty: none. */
  readonly resources?: ReadonlyArray<ResourceRequirement> | undefined;
}

/** A worker as driver placement sees it: whether it already runs anything decides the "idle" warning. */
export interface DriverHostView extends WorkerView {
  readonly driverCount: number;
  readonly executorCount: number;
}

export interface DriverPlacementInput {
  /** In submission order; placement follows it. */
  readonly waitingDrivers: ReadonlyArray<DriverRequest>;
  readonly workers: ReadonlyArray<DriverHostView>;
  /** Drivers already launched and not finished: Spark's `drivers.size − waitingDrivers.size`. */
  readonly runningDrivers: number;
  /** `spark.deploy.maxDrivers` (SPARK-45174). Absent: unlimited. */
  readonly maxDrivers?: number;
  /** `spark.deploy.spreadOutDrivers` (SPARK-46800). */
  readonly spreadOut: boolean;
}

export interface DriverPlacement {
  readonly driverId: string;
  readonly workerId: string;
  /** The addresses the driver gets, first free ones of its worker; absent when it needs none. */
  readonly resources?: AssignedResources;
}

/** Spark logs this as a warning; the Master decides how to surface it. */
export interface DriverPlacementWarning {
  readonly type: 'DriverRequiresMoreResource';
  readonly driverId: string;
  readonly message: string;
}

export interface DriverPlan {
  /** In the order the drivers were placed. Drivers not listed stay waiting. */
  readonly placements: ReadonlyArray<DriverPlacement>;
  readonly warnings: ReadonlyArray<DriverPlacementWarning>;
}

/** Per-call ledger of one ALIVE worker, so later drivers see what earlier ones in this call took. */
interface Host {
  readonly id: string;
  coresFree: number;
  memoryFreeMb: number;
  resourcesFree: ResourcesFree | undefined;
  idle: boolean;
}

interface PlanBuilder {
  readonly placements: DriverPlacement[];
  readonly warnings: DriverPlacementWarning[];
  running: number;
  readonly maxDrivers: number;
}

/**
 * Places waiting drivers on ALIVE workers (reference §5.2). Drivers take strict precedence over executors, so
 * the Master runs this first and gives `placeExecutors` the worker views minus what this plan takes. Pure:
 * the input is never mutated, and `rng` is only drawn from when spreading out.
 *
 * Spread out (default): shuffle the ALIVE workers once per call, then hand drivers out round-robin. Each driver
 * starts at the worker after the last one visited and tries every worker at most once. Consolidate: workers
 * sorted by ID (deterministic), and each driver goes to the first that fits. Either way, no new driver starts
 * while `runningDrivers` has reached `maxDrivers`; such drivers are skipped without a warning.
 */
export function placeDrivers(input: DriverPlacementInput, rng: Rng): DriverPlan {
  const alive: Host[] = input.workers.filter(isAlive).map((w) => ({
    id: w.id,
    coresFree: w.coresFree,
    memoryFreeMb: w.memoryFreeMb,
    resourcesFree: w.resourcesFree,
    idle: w.driverCount === 0 && w.executorCount === 0,
  }));
  const plan: PlanBuilder = {
    placements: [],
    warnings: [],
    running: input.runningDrivers,
    maxDrivers: input.maxDrivers ?? Number.POSITIVE_INFINITY,
  };
  if (input.spreadOut) {
    placeRoundRobin(input.waitingDrivers, shuffle(alive, rng), plan);
  } else {
    const byId = alive.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
    placeFirstFit(input.waitingDrivers, byId, plan);
  }
  return { placements: plan.placements, warnings: plan.warnings };
}

function placeRoundRobin(drivers: ReadonlyArray<DriverRequest>, hosts: Host[], plan: PlanBuilder): void {
  let cursor = 0;
  const most = mostFree(hosts);
  for (const driver of drivers) {
    const capped = plan.running >= plan.maxDrivers;
    let launched = false;
    // With no ALIVE worker at all Spark still warns, so "idle" starts true unless the cap stopped us.
    let lastVisitedIdle = !capped;
    if (!capped && hosts.length > 0 && !mayFit(most, driver)) {
      // No worker can take it: the loop below would visit every worker and end where it started, the last
      // one visited being the one before the cursor. Same outcome, without the scan (a storm of worker
      // removals runs this pass once per removal, with every waiting driver).
      lastVisitedIdle = (hosts[(cursor + hosts.length - 1) % hosts.length] as Host).idle;
      if (lastVisitedIdle) warn(driver, plan);
      continue;
    }
    for (let visited = 0; visited < hosts.length && !capped && !launched; visited += 1) {
      const host = hosts[cursor];
      if (host === undefined) throw new Error(`driver placement cursor ${cursor} out of ${hosts.length}`);
      lastVisitedIdle = host.idle;
      if (fits(host, driver)) {
        launch(host, driver, plan);
        launched = true;
      }
      cursor = (cursor + 1) % hosts.length;
    }
    // Only warn when the last worker tried was idle: a busy cluster may fit the driver later.
    if (!launched && lastVisitedIdle) warn(driver, plan);
  }
}

function placeFirstFit(drivers: ReadonlyArray<DriverRequest>, hosts: Host[], plan: PlanBuilder): void {
  const most = mostFree(hosts);
  for (const driver of drivers) {
    if (plan.running >= plan.maxDrivers) continue;
    const host = mayFit(most, driver) ? hosts.find((h) => fits(h, driver)) : undefined;
    if (host === undefined) warn(driver, plan);
    else launch(host, driver, plan);
  }
}

/** The most cores and memory free on any one worker at the start of the pass: launches only lower them. */
function mostFree(hosts: ReadonlyArray<Host>): { cores: number; memoryMb: number } {
  let cores = 0;
  let memoryMb = 0;
  for (const h of hosts) {
    cores = Math.max(cores, h.coresFree);
    memoryMb = Math.max(memoryMb, h.memoryFreeMb);
  }
  return { cores, memoryMb };
}

/** False when no worker can fit `driver` (an upper bound: true does not mean one can). */
function mayFit(most: { cores: number; memoryMb: number }, driver: DriverRequest): boolean {
  return driver.cores <= most.cores && driver.memoryMb <= most.memoryMb;
}

function fits(host: Host, driver: DriverRequest): boolean {
  return host.memoryFreeMb >= driver.memoryMb && host.coresFree >= driver.cores && hasResourcesFor(host.resourcesFree, driver.resources);
}

function launch(host: Host, driver: DriverRequest, plan: PlanBuilder): void {
  host.coresFree -= driver.cores;
  host.memoryFreeMb -= driver.memoryMb;
  host.idle = false;
  plan.running += 1;
  if (needsResources(driver.resources)) {
    const resources = addressesFor(host.resourcesFree, driver.resources, 0);
    host.resourcesFree = withoutAddresses(host.resourcesFree, resources);
    plan.placements.push({ driverId: driver.id, workerId: host.id, resources });
  } else {
    plan.placements.push({ driverId: driver.id, workerId: host.id });
  }
}

function warn(driver: DriverRequest, plan: PlanBuilder): void {
  plan.warnings.push({
    type: 'DriverRequiresMoreResource',
    driverId: driver.id,
    message: `Driver ${driver.id} requires more resource than any of Workers could have.`,
  });
}
