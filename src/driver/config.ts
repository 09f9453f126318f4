// The driver-side task scheduler's configuration: a plain typed object (docs/configuration.md). The driver
// builds it from `flint.*` keys with `driverConfigFromConf`; the machine only reads it. Nothing here reads the
// environment or a clock.

import type { FlintConf } from '../conf/flint-conf.ts';
import { ConfigError } from '../errors.ts';

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
   * `flint.task.prefetch` (32, Flint only): at most this many tasks per core that an executor may be sent
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
}

export const DRIVER_CONFIG_DEFAULTS: DriverConfig = {
  maxFailures: 4,
  maxResultSizeBytes: 1024 ** 3,
  executorTimeoutMs: 120_000,
  heartbeatCheckIntervalMs: 60_000,
  prefetchPerCore: 32,
  prefetchQueueTimeMs: 5,
};

/** The `flint.*` key behind each field, for error messages. */
export const DRIVER_CONFIG_KEYS: Readonly<Record<keyof DriverConfig, string>> = {
  maxFailures: 'flint.task.maxFailures',
  maxResultSizeBytes: 'flint.driver.maxResultSize',
  executorTimeoutMs: 'flint.network.timeout',
  heartbeatCheckIntervalMs: 'flint.network.timeoutInterval',
  prefetchPerCore: 'flint.task.prefetch',
  prefetchQueueTimeMs: 'flint.task.prefetch.queueTime',
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
  };
  check('maxFailures', config.maxFailures, 1);
  check('maxResultSizeBytes', config.maxResultSizeBytes, 0);
  check('executorTimeoutMs', config.executorTimeoutMs, 1);
  check('heartbeatCheckIntervalMs', config.heartbeatCheckIntervalMs, 1);
  check('prefetchPerCore', config.prefetchPerCore, 0);
  check('prefetchQueueTimeMs', config.prefetchQueueTimeMs, 0);
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
  });
}
