// Dynamic allocation as a pure policy: Spark's `ExecutorAllocationManager` (with the idle tracking of its
// `ExecutorMonitor`) for one resource profile. It reads no clock and sets no timer: its host calls `schedule`
// with the time and a view of the task scheduler every `ALLOCATION_INTERVAL_MS` (Spark's `intervalMillis`, 100 ms)
// and carries out the decision: `requestTotal` through the app client's `RequestExecutors`, `release` by draining
// the executors (`DecommissionExecutor`) and asking the master to kill them (`KillExecutors`). See
// docs/applications.md, "Dynamic allocation".
//
// Adding (Spark's `updateAndSyncNumExecutorsTarget` / `addExecutors`): once tasks have waited for
// `schedulerBacklogTimeout`, the target grows by `numExecutorsToAdd` (1, then 2, 4, … each
// `sustainedSchedulerBacklogTimeout` while the backlog lasts), never above what the waiting and running tasks need
// nor `maxExecutors`. When fewer are needed than the target, the target drops at once (never below
// `minExecutors`) and the ramp starts again from 1.
//
// Removing (Spark's `ExecutorMonitor.timedOutExecutors` / `removeExecutors`): an executor running no task for
// `executorIdleTimeout` is released, unless that would leave fewer than `minExecutors` or than the target.
// An executor holding cached partitions waits `cachedExecutorIdleTimeout` (infinite by default) instead. Map
// output never keeps an executor: in Flint the worker's shuffle service serves it (docs/shuffles.md), as Spark's
// external shuffle service does, so it outlives the executor that wrote it.

import type { FlintConf } from '../conf/flint-conf.ts';
import { ConfigError } from '../errors.ts';

/** How often the host calls `schedule` (Spark's `ExecutorAllocationManager.intervalMillis`). */
export const ALLOCATION_INTERVAL_MS = 100;

export interface AllocationConfig {
  /** `flint.dynamicAllocation.enabled` (false). */
  readonly enabled: boolean;
  /** `flint.dynamicAllocation.minExecutors` (0). */
  readonly minExecutors: number;
  /** `flint.dynamicAllocation.maxExecutors` (unbounded: Infinity). */
  readonly maxExecutors: number;
  /** `flint.dynamicAllocation.initialExecutors` (minExecutors; Spark also takes the larger of it and executor.instances). */
  readonly initialExecutors: number;
  /** `flint.dynamicAllocation.schedulerBacklogTimeout` (1 s). */
  readonly schedulerBacklogTimeoutMs: number;
  /** `flint.dynamicAllocation.sustainedSchedulerBacklogTimeout` (schedulerBacklogTimeout). */
  readonly sustainedSchedulerBacklogTimeoutMs: number;
  /** `flint.dynamicAllocation.executorIdleTimeout` (60 s). */
  readonly executorIdleTimeoutMs: number;
  /** `flint.dynamicAllocation.cachedExecutorIdleTimeout` (infinity: executors with cached data stay). */
  readonly cachedExecutorIdleTimeoutMs: number;
  /** Tasks one executor runs at once: `flint.executor.cores` (1, as Spark assumes when unset) / `flint.task.cpus`. */
  readonly tasksPerExecutor: number;
}

export const ALLOCATION_DEFAULTS: AllocationConfig = {
  enabled: false,
  minExecutors: 0,
  maxExecutors: Number.POSITIVE_INFINITY,
  initialExecutors: 0,
  schedulerBacklogTimeoutMs: 1000,
  sustainedSchedulerBacklogTimeoutMs: 1000,
  executorIdleTimeoutMs: 60_000,
  cachedExecutorIdleTimeoutMs: Number.POSITIVE_INFINITY,
  tasksPerExecutor: 1,
};

const KEY = 'flint.dynamicAllocation';

/**
 * Reads `flint.dynamicAllocation.*` (or `spark.dynamicAllocation.*`) as Spark's `ExecutorAllocationManager`
 * does, and checks them as its `validateSettings`: min ≤ initial ≤ max, max > 0, timeouts > 0.
 * Throws ConfigError naming the key.
 */
export function allocationConfigFromConf(conf: FlintConf): AllocationConfig {
  const enabled = conf.getBoolean(`${KEY}.enabled`, false);
  const minExecutors = conf.getInt(`${KEY}.minExecutors`, 0, { min: 0 });
  const maxExecutors = conf.has(`${KEY}.maxExecutors`) ? conf.getInt(`${KEY}.maxExecutors`, 1, { min: 1 }) : Number.POSITIVE_INFINITY;
  const initialExecutors = conf.getInt(`${KEY}.initialExecutors`, minExecutors, { min: 0 });
  const backlog = conf.getDurationMs(`${KEY}.schedulerBacklogTimeout`, '1s', 's');
  const sustained = conf.has(`${KEY}.sustainedSchedulerBacklogTimeout`) ? conf.getDurationMs(`${KEY}.sustainedSchedulerBacklogTimeout`, '1s', 's') : backlog;
  const idle = conf.getDurationMs(`${KEY}.executorIdleTimeout`, '60s', 's');
  const cached = conf.has(`${KEY}.cachedExecutorIdleTimeout`) ? conf.getDurationMs(`${KEY}.cachedExecutorIdleTimeout`, '0s', 's') : Number.POSITIVE_INFINITY;
  const executorCores = conf.getInt('flint.executor.cores', 1, { min: 1 });
  const taskCpus = conf.getInt('flint.task.cpus', 1, { min: 1 });
  const config: AllocationConfig = {
    enabled,
    minExecutors,
    maxExecutors,
    initialExecutors,
    schedulerBacklogTimeoutMs: backlog,
    sustainedSchedulerBacklogTimeoutMs: sustained,
    executorIdleTimeoutMs: idle,
    cachedExecutorIdleTimeoutMs: cached,
    tasksPerExecutor: Math.max(1, Math.floor(executorCores / taskCpus)),
  };
  if (enabled) validate(config);
  return config;
}

function validate(c: AllocationConfig): void {
  if (c.minExecutors > c.maxExecutors) {
    throw new ConfigError(`${KEY}.minExecutors`, `${KEY}.minExecutors (${c.minExecutors}) must be less than or equal to ${KEY}.maxExecutors (${c.maxExecutors})`);
  }
  if (c.initialExecutors < c.minExecutors || c.initialExecutors > c.maxExecutors) {
    throw new ConfigError(`${KEY}.initialExecutors`, `${KEY}.initialExecutors (${c.initialExecutors}) must be between ${KEY}.minExecutors (${c.minExecutors}) and ${KEY}.maxExecutors (${c.maxExecutors})`);
  }
  for (const [key, value] of [
    ['schedulerBacklogTimeout', c.schedulerBacklogTimeoutMs],
    ['sustainedSchedulerBacklogTimeout', c.sustainedSchedulerBacklogTimeoutMs],
    ['executorIdleTimeout', c.executorIdleTimeoutMs],
  ] as const) {
    if (value <= 0) throw new ConfigError(`${KEY}.${key}`, `${KEY}.${key} must be greater than 0, got ${value} ms`);
  }
}

/** One executor as the policy sees it: from the task scheduler's snapshot and the DAG runner's cache locations. */
export interface AllocationExecutor {
  readonly executorId: string;
  readonly runningTasks: number;
  /** It holds persisted partitions: `cachedExecutorIdleTimeout` applies instead of `executorIdleTimeout`. */
  readonly hasCachedData: boolean;
}

export interface AllocationView {
  /** Tasks waiting for a core, across all jobs. */
  readonly pendingTasks: number;
  /** Tasks running (or with their result being fetched). */
  readonly runningTasks: number;
  /** The registered executors not already being released. */
  readonly executors: readonly AllocationExecutor[];
}

export interface AllocationDecision {
  /** A new total to ask the master for (RequestExecutors), when the target changed. */
  readonly requestTotal?: number;
  /** Executors to release now: idle past their timeout. */
  readonly release: readonly string[];
}

/**
 * Spark's `ExecutorAllocationManager`: one instance per application, fed `schedule(view, now)` periodically.
 * `start(now)` gives the initial target to request.
 */
export class ExecutorAllocationManager {
  readonly #config: AllocationConfig;
  #target: number;
  #toAdd = 1;
  /** When the next round of additions is due; undefined while no task waits (Spark's `addTime` NOT_SET). */
  #addTime: number | undefined;
  /** When each executor last became idle (Spark's `ExecutorMonitor.Tracker.idleStart`). */
  readonly #idleSince = new Map<string, number>();
  /** Executors released by this manager, until they leave the view (Spark's `pendingRemoval`). */
  readonly #released = new Set<string>();

  constructor(config: AllocationConfig) {
    this.#config = config;
    this.#target = Math.max(config.initialExecutors, config.minExecutors);
  }

  /** The executor total the manager wants now (Spark's `numExecutorsTarget`). */
  get target(): number {
    return this.#target;
  }

  /** The initial total to request when the app starts (Spark's `start` → `requestTotalExecutors`). */
  start(): number {
    return this.#target;
  }

  /** Spark's `maxNumExecutorsNeeded`: enough executors to run every waiting and running task at once. */
  maxNeeded(view: AllocationView): number {
    return Math.ceil((view.pendingTasks + view.runningTasks) / this.#config.tasksPerExecutor);
  }

  /** One round (Spark's `ExecutorAllocationManager.schedule`): adjust the target, then release idle executors. */
  schedule(view: AllocationView, now: number): AllocationDecision {
    const live = view.executors.filter((e) => !this.#released.has(e.executorId));
    this.#forgetGone(view);
    this.#trackBacklog(view, now);
    const before = this.#target;
    this.#updateTarget(view, live.length, now);
    const release = this.#timedOut(live, now);
    const decision: { requestTotal?: number; release: readonly string[] } = { release };
    if (this.#target !== before) decision.requestTotal = this.#target;
    return decision;
  }

  #forgetGone(view: AllocationView): void {
    const present = new Set(view.executors.map((e) => e.executorId));
    for (const id of this.#released) if (!present.has(id)) this.#released.delete(id);
    for (const id of this.#idleSince.keys()) if (!present.has(id)) this.#idleSince.delete(id);
  }

  /** Spark's `onSchedulerBacklogged` / `onSchedulerQueueEmpty`. */
  #trackBacklog(view: AllocationView, now: number): void {
    if (view.pendingTasks > 0) {
      this.#addTime ??= now + this.#config.schedulerBacklogTimeoutMs;
    } else {
      this.#addTime = undefined;
      this.#toAdd = 1;
    }
  }

  /** Spark's `updateAndSyncNumExecutorsTarget`. */
  #updateTarget(view: AllocationView, executorCount: number, now: number): void {
    const maxNeeded = this.maxNeeded(view);
    if (maxNeeded < this.#target) {
      // The target is more than we need now: lower it, so the master launches no more (Spark cancels the rest).
      this.#target = Math.max(maxNeeded, this.#config.minExecutors);
      this.#toAdd = 1;
    } else if (this.#addTime !== undefined && now >= this.#addTime) {
      this.#addExecutors(maxNeeded, executorCount);
      this.#addTime = now + this.#config.sustainedSchedulerBacklogTimeoutMs;
    }
  }

  /** Spark's `addExecutors`: the exponential ramp, bounded by need and by `maxExecutors`. */
  #addExecutors(maxNeeded: number, executorCount: number): void {
    const { minExecutors, maxExecutors } = this.#config;
    if (this.#target >= maxExecutors) {
      this.#toAdd = 1;
      return;
    }
    const old = this.#target;
    let target = Math.max(this.#target, executorCount) + this.#toAdd;
    target = Math.min(target, maxNeeded);
    target = Math.max(Math.min(target, maxExecutors), minExecutors);
    this.#target = target;
    const delta = target - old;
    // Doubling only while every executor asked for could be added (Spark: "delta == numExecutorsToAdd").
    this.#toAdd = delta === this.#toAdd ? this.#toAdd * 2 : 1;
  }

  /** Spark's `ExecutorMonitor.timedOutExecutors` + `removeExecutors`: never below min or the target. */
  #timedOut(live: readonly AllocationExecutor[], now: number): string[] {
    let remaining = live.length;
    const release: string[] = [];
    for (const executor of live) {
      const id = executor.executorId;
      if (executor.runningTasks > 0) {
        this.#idleSince.delete(id);
        continue;
      }
      const since = this.#idleSince.get(id) ?? now;
      this.#idleSince.set(id, since);
      const timeout = executor.hasCachedData ? this.#config.cachedExecutorIdleTimeoutMs : this.#config.executorIdleTimeoutMs;
      if (now - since < timeout) continue;
      if (remaining - 1 < this.#config.minExecutors || remaining - 1 < this.#target) continue;
      remaining--;
      this.#released.add(id);
      release.push(id);
    }
    return release;
  }
}
