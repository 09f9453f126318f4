// The Worker's configuration: a plain typed object (reference §6, §9.2). The daemon builds it from the command
// line and `flint.*` keys (`workerConfigFromConf`) after it has bound its ports, so `port` and `webUiPort` are
// the bound ones. Nothing here reads the environment, a clock or a random source.

import type { FlintConf } from '../conf/flint-conf.ts';
import { ConfigError } from '../errors.ts';
import { LIMITS } from '../protocol/limits.ts';
import type { Rng } from '../kit/rng.ts';
import type { ResourceAddresses } from '../protocol/messages.ts';
import { EXECUTOR_CPUS_KEY, MAX_CPU, parseCpuList } from './cpu-binding.ts';

/** Randomness, injected (STYLE.md §6; src/kit/rng.ts): the worker draws its registration jitter with `next()`. */
export type { Rng };

export interface WorkerCleanupConfig {
  /** `flint.worker.cleanup.enabled` (Spark 4.0 default: true). */
  readonly enabled: boolean;
  /** `flint.worker.cleanup.interval`: how often old directories under `workDir` are swept. */
  readonly intervalMs: number;
  /** `flint.worker.cleanup.appDataTtl`: a directory with no file newer than this is old. */
  readonly appDataTtlMs: number;
  /**
   * `flint.worker.cleanup.compileCacheMaxSize` (Flint's own, 1 GiB): each sweep also trims Node's compile cache to
   * this, oldest entries first (src/io/compile-cache/prune.ts).
   */
  readonly compileCacheMaxBytes: number;
}

export interface WorkerConfig {
  /** The host the worker's RPC env listens on; also `{{HOSTNAME}}` for executors. */
  readonly host: string;
  /** The bound RPC port. */
  readonly port: number;
  /** The bound web UI port. */
  readonly webUiPort: number;
  /** `https` when the web UI speaks TLS (flint.ssl.ui): the scheme of the web UI URL and the log URLs. */
  readonly webUiScheme: 'http' | 'https';
  /** `SPARK_PUBLIC_DNS`: the host name put in the web UI URL. Defaults to `host`. */
  readonly publicAddress: string;
  readonly cores: number;
  readonly memoryMb: number;
  /** Custom resources found at startup (src/io/worker-resources), reported in RegisterWorker; absent: none. */
  readonly resources?: ResourceAddresses | undefined;
  /** Executors run in `<workDir>/<appId>/<execId>/`, drivers in `<workDir>/<driverId>/`. */
  readonly workDir: string;
  /** Every candidate master (HA), each `flint://host:port` (`spark://` accepted). */
  readonly masterUrls: readonly string[];
  /** `flint.worker.timeout`: the master's heartbeat timeout. The worker sends a heartbeat every quarter of it. */
  readonly workerTimeoutMs: number;
  /** `flint.worker.initialRegistrationRetries` (6): retries at the initial interval. */
  readonly initialRegistrationRetries: number;
  /** `flint.worker.maxRegistrationRetries` (16): all retries; after the last one the worker exits. */
  readonly totalRegistrationRetries: number;
  /**
   * `flint.worker.registrationRetryInterval` (10 s, Flint only: Spark hard-codes it): base of the initial retry
   * interval, multiplied by a fuzz factor in [0.5, 1.5): 5–15 s.
   */
  readonly initialRegistrationRetryIntervalMs: number;
  /** Base of the prolonged retry interval (60 s), multiplied by the same fuzz factor: 30–90 s. */
  readonly prolongedRegistrationRetryIntervalMs: number;
  /** `flint.worker.preferConfiguredMasterAddress`: re-register to the configured URL, not the advertised one. */
  readonly preferConfiguredMasterAddress: boolean;
  readonly cleanup: WorkerCleanupConfig;
  /** `flint.worker.ui.retainedExecutors` / `retainedDrivers` (1000): finished entries kept for the UI. */
  readonly retainedExecutors: number;
  readonly retainedDrivers: number;
  /** `flint.worker.executorStateSync.maxAttempts` (5): consecutive failed state syncs before the worker exits. */
  readonly executorStateSyncMaxAttempts: number;
  /** `flint.rpc.askTimeout`: after a failed (not timed-out) state sync the worker waits this long to retry. */
  readonly askTimeoutMs: number;
  /** `flint.decommission.enabled`. */
  readonly decommissionEnabled: boolean;
  /** The program that runs executors and drivers (argv[0]); the daemon passes its own Node binary. */
  readonly nodeExecutable: string;
  /**
   * The Flint install this worker runs from (the daemon passes its own). A main module `flint:<entry>` runs
   * that install's program (flintEntries); without it, such a main module cannot be launched.
   */
  readonly flintHome?: string;
  /**
   * The programs `flint:<entry>` names, relative to flintHome (default FLINT_ENTRIES, the sources). A worker
   * that runs from a build passes that build's programs, so its executors and drivers run the same build.
   */
  readonly flintEntries?: Readonly<Record<string, string>>;
  /** A fixed worker id (tests, simulation); otherwise generated from the construction time. */
  readonly workerId?: string;
  /**
   * `flint.worker.executorCpus` (Flint only; unset by default): the CPUs this worker binds its executors to, each
   * to as many as it has cores (cpu-binding.ts). Absent: executors are not bound, as in Spark.
   */
  readonly executorCpus?: readonly number[] | undefined;
}

type Required_ = 'host' | 'port' | 'cores' | 'memoryMb' | 'workDir' | 'masterUrls';
export type WorkerConfigInput = Pick<WorkerConfig, Required_> &
  Partial<Omit<WorkerConfig, Required_ | 'cleanup'>> & { readonly cleanup?: Partial<WorkerCleanupConfig> };

export const WORKER_CONFIG_DEFAULTS = {
  webUiPort: 8081,
  webUiScheme: 'http',
  workerTimeoutMs: 60_000,
  initialRegistrationRetries: 6,
  totalRegistrationRetries: 16,
  initialRegistrationRetryIntervalMs: 10_000,
  prolongedRegistrationRetryIntervalMs: 60_000,
  preferConfiguredMasterAddress: false,
  cleanup: { enabled: true, intervalMs: 1_800_000, appDataTtlMs: 604_800_000, compileCacheMaxBytes: 1024 ** 3 },
  retainedExecutors: 1000,
  retainedDrivers: 1000,
  executorStateSyncMaxAttempts: 5,
  askTimeoutMs: 120_000,
  decommissionEnabled: false,
  nodeExecutable: 'node',
} as const;

function requireInt(key: string, value: number, min: number): void {
  if (!Number.isSafeInteger(value) || value < min) {
    throw new ConfigError(key, `${key}=${value} is invalid; expected a whole number of at least ${min}`);
  }
}

/** Fills in defaults and checks every field; a bad value is a ConfigError naming the key. */
export function workerConfig(input: WorkerConfigInput): WorkerConfig {
  const config: WorkerConfig = {
    ...WORKER_CONFIG_DEFAULTS,
    publicAddress: input.host,
    ...input,
    cleanup: { ...WORKER_CONFIG_DEFAULTS.cleanup, ...input.cleanup },
  };
  if (config.host.length === 0) throw new ConfigError('host', 'the worker host must not be empty');
  requireInt('port', config.port, 1);
  requireInt('webUiPort', config.webUiPort, 0);
  requireInt('--cores', config.cores, 1);
  requireInt('--memory', config.memoryMb, 1);
  if (config.workDir.length === 0) throw new ConfigError('--work-dir', 'the work directory (--work-dir) must not be empty');
  if (config.flintHome !== undefined && !config.flintHome.startsWith('/')) {
    throw new ConfigError('flintHome', `the Flint home ${JSON.stringify(config.flintHome)} must be an absolute path`);
  }
  if (config.masterUrls.length === 0) throw new ConfigError('masters', 'a worker needs at least one master URL');
  for (const url of config.masterUrls) {
    if (!/^(flint|spark):\/\/[^/@\s]+:\d{1,5}\/?$/.test(url.trim())) {
      throw new ConfigError('masters', `"${url}" is not a master URL; expected flint://host:port`);
    }
  }
  requireInt('flint.worker.timeout', config.workerTimeoutMs, 4);
  requireInt('flint.worker.initialRegistrationRetries', config.initialRegistrationRetries, 0);
  requireInt('flint.worker.maxRegistrationRetries', config.totalRegistrationRetries, 0);
  requireInt('initialRegistrationRetryIntervalMs', config.initialRegistrationRetryIntervalMs, 1);
  requireInt('prolongedRegistrationRetryIntervalMs', config.prolongedRegistrationRetryIntervalMs, 1);
  requireInt('flint.worker.cleanup.interval', config.cleanup.intervalMs, 1);
  requireInt('flint.worker.cleanup.appDataTtl', config.cleanup.appDataTtlMs, 0);
  requireInt('flint.worker.cleanup.compileCacheMaxSize', config.cleanup.compileCacheMaxBytes, 0);
  requireInt('flint.worker.ui.retainedExecutors', config.retainedExecutors, 0);
  requireInt('flint.worker.ui.retainedDrivers', config.retainedDrivers, 0);
  requireInt('flint.worker.executorStateSync.maxAttempts', config.executorStateSyncMaxAttempts, 1);
  requireInt('flint.rpc.askTimeout', config.askTimeoutMs, 1);
  if (config.executorCpus !== undefined) {
    const cpus = config.executorCpus;
    if (cpus.length === 0 || cpus.some((cpu) => !Number.isSafeInteger(cpu) || cpu < 0 || cpu > MAX_CPU)) {
      throw new ConfigError(EXECUTOR_CPUS_KEY, `${EXECUTOR_CPUS_KEY} must name at least one CPU, each from 0 to ${MAX_CPU}; got [${cpus.join(', ')}]`);
    }
  }
  return config;
}

/**
 * Reads the worker's `flint.*` keys (Spark's `spark.*` spellings are accepted by FlintConf). `base` carries
 * what comes from the command line and the bound ports; a key that is set overrides the same field of `base`.
 */
export function workerConfigFromConf(conf: FlintConf, base: WorkerConfigInput): WorkerConfig {
  const d = WORKER_CONFIG_DEFAULTS;
  const ms = (value: number): string => `${value}ms`;
  // flint.rpc.askTimeout defaults to flint.network.timeout, as in the RPC layer.
  const networkTimeout = conf.getDurationMs('flint.network.timeout', ms(base.askTimeoutMs ?? d.askTimeoutMs), 's');
  const askTimeoutMs = conf.getDurationMs('flint.rpc.askTimeout', ms(networkTimeout), 's');
  const int = (key: string, fallback: number, min: number): number => conf.getInt(key, fallback, { min });
  const bool = (key: string, fallback: boolean): boolean => conf.getBoolean(key, fallback);
  const cpuList = conf.get(EXECUTOR_CPUS_KEY);
  return workerConfig({
    ...base,
    workerTimeoutMs: conf.getDurationMs('flint.worker.timeout', ms(base.workerTimeoutMs ?? d.workerTimeoutMs), 's'),
    initialRegistrationRetries: int(
      'flint.worker.initialRegistrationRetries',
      base.initialRegistrationRetries ?? d.initialRegistrationRetries,
      0,
    ),
    totalRegistrationRetries: int(
      'flint.worker.maxRegistrationRetries',
      base.totalRegistrationRetries ?? d.totalRegistrationRetries,
      0,
    ),
    initialRegistrationRetryIntervalMs: conf.getDurationMs(
      'flint.worker.registrationRetryInterval',
      ms(base.initialRegistrationRetryIntervalMs ?? d.initialRegistrationRetryIntervalMs),
      's',
    ),
    preferConfiguredMasterAddress: bool(
      'flint.worker.preferConfiguredMasterAddress',
      base.preferConfiguredMasterAddress ?? d.preferConfiguredMasterAddress,
    ),
    cleanup: {
      enabled: bool('flint.worker.cleanup.enabled', base.cleanup?.enabled ?? d.cleanup.enabled),
      intervalMs: conf.getDurationMs(
        'flint.worker.cleanup.interval',
        ms(base.cleanup?.intervalMs ?? d.cleanup.intervalMs),
        's',
      ),
      appDataTtlMs: conf.getDurationMs(
        'flint.worker.cleanup.appDataTtl',
        ms(base.cleanup?.appDataTtlMs ?? d.cleanup.appDataTtlMs),
        's',
        // Compared with file ages, never armed as a timer.
        { max: LIMITS.durationMs.max },
      ),
      compileCacheMaxBytes: conf.getSizeBytes(
        'flint.worker.cleanup.compileCacheMaxSize',
        `${base.cleanup?.compileCacheMaxBytes ?? d.cleanup.compileCacheMaxBytes}b`,
        'b',
      ),
    },
    retainedExecutors: int('flint.worker.ui.retainedExecutors', base.retainedExecutors ?? d.retainedExecutors, 0),
    retainedDrivers: int('flint.worker.ui.retainedDrivers', base.retainedDrivers ?? d.retainedDrivers, 0),
    executorStateSyncMaxAttempts: int(
      'flint.worker.executorStateSync.maxAttempts',
      base.executorStateSyncMaxAttempts ?? d.executorStateSyncMaxAttempts,
      1,
    ),
    askTimeoutMs,
    decommissionEnabled: bool('flint.decommission.enabled', base.decommissionEnabled ?? d.decommissionEnabled),
    ...(cpuList === undefined ? {} : { executorCpus: parseCpuList(cpuList) }),
  });
}

/** Heartbeats go out every `workerTimeoutMs / 4` (Spark: `spark.worker.timeout * 1000 / 4`). */
export function heartbeatIntervalMs(config: WorkerConfig): number {
  return Math.floor(config.workerTimeoutMs / 4);
}

export interface RegistrationIntervals {
  /** The fuzz multiplier, drawn once per worker: `rng.next() + 0.5`, in [0.5, 1.5). */
  readonly fuzz: number;
  readonly initialMs: number;
  readonly prolongedMs: number;
}

/**
 * Spark draws one fuzz factor per worker process so that workers restarted together do not retry in lockstep
 * (Hadoop's model), and uses it for both intervals. Spark rounds to whole seconds; Flint rounds to
 * milliseconds so that small test intervals keep their jitter.
 */
export function registrationIntervals(config: WorkerConfig, rng: Rng): RegistrationIntervals {
  const draw = rng.next();
  if (!(draw >= 0 && draw < 1)) throw new RangeError(`Rng.next() returned ${draw}, outside [0, 1)`);
  const fuzz = draw + 0.5;
  return {
    fuzz,
    initialMs: Math.max(1, Math.round(config.initialRegistrationRetryIntervalMs * fuzz)),
    prolongedMs: Math.max(1, Math.round(config.prolongedRegistrationRetryIntervalMs * fuzz)),
  };
}
