// The driver-side task scheduler's configuration: a plain typed object (docs/configuration.md). The driver
// builds it from `flint.*` keys with `driverConfigFromConf`; the machine only reads it. Nothing here reads the
// environment or a clock.

import type { FlintConf } from '../conf/flint-conf.ts';
import { resourceRequests } from '../conf/resource-requests.ts';
import { ConfigError } from '../errors.ts';
import { LIMITS } from '../protocol/limits.ts';
import type { ResourceRequirement } from '../scheduling/resources.ts';

export interface DriverConfig {
  /**
   * `flint.task.maxFailures` (4): a job fails once any one of its tasks has failed this many times. Failures
   * spread across different tasks never fail the job (Spark's `spark.task.maxFailures`).
   */
  readonly maxFailures: number;
  /**
   * `flint.driver.maxResultSize` (1g): the limit on the summed serialized results of one job, in bytes.
   * 0 means unlimited (Spark's `spark.driver.maxResultSize`).
   */
  readonly maxResultSizeBytes: number;
  /** `flint.network.timeout` (120 s): an executor silent for longer than this is killed and treated as lost. */
  readonly executorTimeoutMs: number;
  /** `flint.network.timeoutInterval` (60 s): how often executors are checked for that silence. */
  readonly heartbeatCheckIntervalMs: number;
  /**
   * `flint.task.prefetch` (128, Flint only): at most this many tasks per core that an executor may be sent
   * beyond its free cores, to wait in its queue, while the job's tasks are short. It hides the round trip
   * between two tasks on a core and lets tasks and results travel in batches. 0 gives Spark's behaviour: a
   * task only for a free core.
   */
  readonly prefetchPerCore: number;
  /**
   * `flint.task.prefetch.queueTime` (5 ms): how much work, by the mean run time of the job's finished tasks,
   * to keep queued per core: the depth is ⌊queueTime / mean⌋, capped by `prefetchPerCore`. Tasks as long as
   * this or longer are never queued, so a job's tail waits at most about this long behind a queue.
   */
  readonly prefetchQueueTimeMs: number;
  /**
   * `flint.ui.retainedJobs` (1000): ended jobs the application UI remembers (Spark's `spark.ui.retainedJobs`);
   * the oldest-ended is forgotten first, with its tasks. Running jobs are always kept.
   */
  readonly retainedJobs: number;
  /**
   * `flint.ui.retainedTasks` (100000): ended task attempts the application UI remembers, across the whole
   * application (Spark's `spark.ui.retainedTasks` counts per stage). Running attempts are always kept.
   */
  readonly retainedTasks: number;
  /** `flint.ui.retainedDeadExecutors` (100): removed executors the UI remembers (`spark.ui.retainedDeadExecutors`). */
  readonly retainedDeadExecutors: number;
  /**
   * `flint.executor.decommission.forceKillTimeout` (unset = 0: never, as Spark's
   * `spark.executor.decommission.forceKillTimeout`): a decommissioning executor still running tasks this long
   * after its decommission is stopped, and its tasks run again elsewhere without counting a failure.
   */
  readonly decommissionForceKillTimeoutMs: number;
  /** `flint.task.cpus` (1, Spark's `spark.task.cpus`): the cores one task occupies on its executor. */
  readonly taskCpus: number;
  /**
   * `flint.task.resource.<name>.amount` (Spark's `spark.task.resource.*`): the executor's addresses of each
   * resource one task holds while it runs, sorted by name. Empty: tasks need none. With any, a task needs free
   * addresses as well as free cores, and nothing is prefetched (docs/resources.md, "Tasks").
   */
  readonly taskResourceReqs: readonly ResourceRequirement[];
}

export const DRIVER_CONFIG_DEFAULTS: DriverConfig = {
  maxFailures: 4,
  maxResultSizeBytes: 1024 ** 3,
  executorTimeoutMs: 120_000,
  heartbeatCheckIntervalMs: 60_000,
  prefetchPerCore: 128,
  prefetchQueueTimeMs: 5,
  retainedJobs: 1000,
  retainedTasks: 100_000,
  retainedDeadExecutors: 100,
  decommissionForceKillTimeoutMs: 0,
  taskCpus: 1,
  taskResourceReqs: [],
};

/** The `flint.*` key behind each field, for error messages. */
export const DRIVER_CONFIG_KEYS: Readonly<Record<keyof DriverConfig, string>> = {
  maxFailures: 'flint.task.maxFailures',
  maxResultSizeBytes: 'flint.driver.maxResultSize',
  executorTimeoutMs: 'flint.network.timeout',
  heartbeatCheckIntervalMs: 'flint.network.timeoutInterval',
  prefetchPerCore: 'flint.task.prefetch',
  prefetchQueueTimeMs: 'flint.task.prefetch.queueTime',
  retainedJobs: 'flint.ui.retainedJobs',
  retainedTasks: 'flint.ui.retainedTasks',
  retainedDeadExecutors: 'flint.ui.retainedDeadExecutors',
  decommissionForceKillTimeoutMs: 'flint.executor.decommission.forceKillTimeout',
  taskCpus: 'flint.task.cpus',
  taskResourceReqs: 'flint.task.resource',
};

function check(field: keyof DriverConfig, value: number, min: number): void {
  const key = DRIVER_CONFIG_KEYS[field];
  if (!Number.isSafeInteger(value) || value < min) {
    throw new ConfigError(key, `${key} must be a whole number ≥ ${min}, got ${value}`);
  }
}

/** Fills in defaults and checks every value; throws ConfigError naming the key. */
export function driverConfig(input: Partial<DriverConfig> = {}): DriverConfig {
  const config: DriverConfig = {
    maxFailures: input.maxFailures ?? DRIVER_CONFIG_DEFAULTS.maxFailures,
    maxResultSizeBytes: input.maxResultSizeBytes ?? DRIVER_CONFIG_DEFAULTS.maxResultSizeBytes,
    executorTimeoutMs: input.executorTimeoutMs ?? DRIVER_CONFIG_DEFAULTS.executorTimeoutMs,
    heartbeatCheckIntervalMs: input.heartbeatCheckIntervalMs ?? DRIVER_CONFIG_DEFAULTS.heartbeatCheckIntervalMs,
    prefetchPerCore: input.prefetchPerCore ?? DRIVER_CONFIG_DEFAULTS.prefetchPerCore,
    prefetchQueueTimeMs: input.prefetchQueueTimeMs ?? DRIVER_CONFIG_DEFAULTS.prefetchQueueTimeMs,
    retainedJobs: input.retainedJobs ?? DRIVER_CONFIG_DEFAULTS.retainedJobs,
    retainedTasks: input.retainedTasks ?? DRIVER_CONFIG_DEFAULTS.retainedTasks,
    retainedDeadExecutors: input.retainedDeadExecutors ?? DRIVER_CONFIG_DEFAULTS.retainedDeadExecutors,
    decommissionForceKillTimeoutMs: input.decommissionForceKillTimeoutMs ?? DRIVER_CONFIG_DEFAULTS.decommissionForceKillTimeoutMs,
    taskCpus: input.taskCpus ?? DRIVER_CONFIG_DEFAULTS.taskCpus,
    taskResourceReqs: input.taskResourceReqs ?? DRIVER_CONFIG_DEFAULTS.taskResourceReqs,
  };
  check('maxFailures', config.maxFailures, 1);
  check('maxResultSizeBytes', config.maxResultSizeBytes, 0);
  check('executorTimeoutMs', config.executorTimeoutMs, 1);
  check('heartbeatCheckIntervalMs', config.heartbeatCheckIntervalMs, 1);
  check('prefetchPerCore', config.prefetchPerCore, 0);
  check('prefetchQueueTimeMs', config.prefetchQueueTimeMs, 0);
  check('retainedJobs', config.retainedJobs, 0);
  check('retainedTasks', config.retainedTasks, 0);
  check('retainedDeadExecutors', config.retainedDeadExecutors, 0);
  check('decommissionForceKillTimeoutMs', config.decommissionForceKillTimeoutMs, 0);
  check('taskCpus', config.taskCpus, 1);
  for (const req of config.taskResourceReqs) {
    if (!Number.isSafeInteger(req.amount) || req.amount < 1) {
      throw new ConfigError(`flint.task.resource.${req.name}.amount`, `flint.task.resource.${req.name}.amount must be a whole number ≥ 1, got ${req.amount}`);
    }
  }
  return config;
}

/**
 * Reads the scheduler's keys the way Spark reads them: `flint.task.maxFailures` (an integer ≥ 1),
 * `flint.driver.maxResultSize` (a size; a bare number is bytes), `flint.network.timeout` (a duration; a bare
 * number is seconds) and `flint.network.timeoutInterval` (a duration; a bare number is milliseconds).
 * `spark.*` spellings are accepted through FlintConf. Throws ConfigError naming the key.
 */
export function driverConfigFromConf(conf: FlintConf): DriverConfig {
  const d = DRIVER_CONFIG_DEFAULTS;
  return driverConfig({
    maxFailures: conf.getInt(DRIVER_CONFIG_KEYS.maxFailures, d.maxFailures, { min: 1 }),
    maxResultSizeBytes: conf.getSizeBytes(DRIVER_CONFIG_KEYS.maxResultSizeBytes, '1g', 'b'),
    executorTimeoutMs: conf.getDurationMs(DRIVER_CONFIG_KEYS.executorTimeoutMs, '120s', 's'),
    heartbeatCheckIntervalMs: conf.getDurationMs(DRIVER_CONFIG_KEYS.heartbeatCheckIntervalMs, '60s', 'ms'),
    prefetchPerCore: conf.getInt(DRIVER_CONFIG_KEYS.prefetchPerCore, d.prefetchPerCore, { min: 0 }),
    prefetchQueueTimeMs: conf.getDurationMs(DRIVER_CONFIG_KEYS.prefetchQueueTimeMs, '5ms', 'ms'),
    retainedJobs: conf.getInt(DRIVER_CONFIG_KEYS.retainedJobs, d.retainedJobs, { min: 0 }),
    retainedTasks: conf.getInt(DRIVER_CONFIG_KEYS.retainedTasks, d.retainedTasks, { min: 0 }),
    retainedDeadExecutors: conf.getInt(DRIVER_CONFIG_KEYS.retainedDeadExecutors, d.retainedDeadExecutors, { min: 0 }),
    decommissionForceKillTimeoutMs: conf.getDurationMs(DRIVER_CONFIG_KEYS.decommissionForceKillTimeoutMs, '0s', 's'),
    taskCpus: conf.getInt(DRIVER_CONFIG_KEYS.taskCpus, d.taskCpus, { min: 1, max: LIMITS.cores.max }),
    taskResourceReqs: taskResourceReqsFromConf(conf),
  });
}

/**
 * `flint.task.resource.*`, checked against the executor's request as Spark's `ResourceProfile` and
 * `SparkContext` check them at start: every resource a task needs must be asked for each executor
 * (`flint.executor.resource.<name>.amount`), at least as many as one task holds; `flint.task.cpus` must not
 * exceed `flint.executor.cores` when that is set. Otherwise no executor could ever run a task.
 */
function taskResourceReqsFromConf(conf: FlintConf): ResourceRequirement[] {
  const task = resourceRequests(conf, 'task');
  const executor = new Map(resourceRequests(conf, 'executor').map((r) => [r.name, r.amount]));
  for (const { name, amount } of task) {
    const key = `flint.task.resource.${name}.amount`;
    const perExecutor = executor.get(name);
    if (perExecutor === undefined) {
      throw new ConfigError(key, `${key}=${amount} needs flint.executor.resource.${name}.amount (each executor's ${name} addresses, at least ${amount}); it is not set`);
    }
    if (perExecutor < amount) {
      throw new ConfigError(key, `${key}=${amount} is more than flint.executor.resource.${name}.amount=${perExecutor}: no executor could run a task`);
    }
  }
  const taskCpus = conf.getInt(DRIVER_CONFIG_KEYS.taskCpus, 1, { min: 1, max: LIMITS.cores.max });
  if (conf.has('flint.executor.cores') && conf.getInt('flint.executor.cores', 1, LIMITS.cores) < taskCpus) {
    throw new ConfigError(DRIVER_CONFIG_KEYS.taskCpus, `flint.task.cpus=${taskCpus} is more than flint.executor.cores=${conf.get('flint.executor.cores') ?? ''}: no executor could run a task`);
  }
  return task;
}
