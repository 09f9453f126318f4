// Pure placement for the master: (cluster view, requests, policy, rng) -> placement plan. See README.md.
export { scheduleExecutorsOnWorkers } from './schedule-executors-on-workers.ts';
export { orderUsableWorkers, parseWorkerSelectionPolicy } from './order-workers.ts';
export {
  filterUsableWorkers,
  hasCoresFor,
  hasMemoryFor,
  isAlive,
  isNotExcluded,
  isUsableWorker,
  hasResourcesForExecutor,
  type ExecutorFootprint,
} from './filter-usable-workers.ts';
export {
  placeExecutors,
  type ExecutorLaunch,
  type ExecutorPlacementOptions,
  type ExecutorPlan,
} from './place-executors.ts';
export { placeExecutorsInTurn, type ExecutorTurn } from './place-executors-in-turn.ts';
export {
  placeDrivers,
  type DriverHostView,
  type DriverPlacement,
  type DriverPlacementInput,
  type DriverPlacementWarning,
  type DriverPlan,
  type DriverRequest,
} from './place-drivers.ts';
export { shuffle } from './shuffle.ts';
export {
  addressesFor,
  copyResources,
  hasResourcesFor,
  holdersWithin,
  needsResources,
  withoutAddresses,
  type AssignedResources,
  type ResourceRequirement,
  type ResourcesFree,
} from './resources.ts';
export {
  DEFAULT_WORKER_SELECTION_POLICY,
  WORKER_SELECTION_POLICIES,
  type ExecutorRequest,
  type Rng,
  type WorkerCandidate,
  type WorkerResources,
  type WorkerSelectionPolicy,
  type WorkerState,
  type WorkerView,
} from './types.ts';
export { whyNotUsable, type UnusableReason } from './explain-placement.ts';
