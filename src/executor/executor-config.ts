// The executor's configuration: a plain typed object. Two parts, as in Spark's CoarseGrainedExecutorBackend
// (reference §7.3): the launch arguments the worker put on the command line (`ExecutorLaunchArgs`), and the
// application's `flint.*` keys, which the executor learns from the driver (`RetrieveAppConfig`) — so a key the
// user sets on the driver reaches every executor. `executorConfigFromConf` merges them and throws ConfigError
// naming the key. Nothing here reads the environment, a clock or a random source.

import type { FlintConf } from '../conf/flint-conf.ts';
import { ConfigError } from '../errors.ts';

/** What the worker passes on the command line (`--executor-id {{EXECUTOR_ID}} --cores {{CORES}} …`). */
export interface ExecutorLaunchArgs {
  readonly executorId: string;
  readonly appId: string;
  /** `{{HOSTNAME}}`: reported to the driver in RegisterExecutor. */
  readonly hostname: string;
  /** `{{CORES}}`: the number of tasks run at once. */
  readonly cores: number;
  /** The driver's scheduler endpoint, `flint://CoarseGrainedScheduler@host:port`. For logs. */
  readonly driverUrl: string;
  /** This executor's own endpoint address (`flint+client://Executor@<id>`), sent in RegisterExecutor. */
  readonly executorAddress: string;
  /** `{{WORKER_URL}}`: the worker whose exit this executor shares (reported as `ParentGone`). For logs. */
  readonly workerUrl?: string;
  /** Links to this executor's stdout/stderr in the worker UI, sent in RegisterExecutor. */
  readonly logUrls?: Readonly<Record<string, string>>;
  /** The custom-resource addresses the worker gave it (`FLINT_RESOURCES`), sent in RegisterExecutor. */
  readonly resources?: Readonly<Record<string, readonly string[]>>;
}

export interface ExecutorConfig extends ExecutorLaunchArgs {
  readonly logUrls: Readonly<Record<string, string>>;
  /** `flint.executor.heartbeatInterval` (10 s; a bare number is ms): also the heartbeat ask's timeout. */
  readonly heartbeatIntervalMs: number;
  /** `flint.executor.heartbeat.maxFailures` (60): consecutive failed heartbeats before exit 56. */
  readonly heartbeatMaxFailures: number;
  /**
   * `flint.task.maxDirectResultSize` (1 MiB; a bare number is bytes), capped at `flint.rpc.message.maxSize`
   * less a margin, as Spark caps it: results up to this size travel inside the FINISHED StatusUpdate.
   */
  readonly maxDirectResultSizeBytes: number;
  /** `flint.task.resultChunkSize` (4 MiB, Flint's own key): the size of each fetched chunk of a larger result. */
  readonly resultChunkBytes: number;
  /**
   * `flint.driver.maxResultSize` (1 GiB; 0 = unlimited): a larger result is dropped at once, as Spark's
   * executor does; the driver fails the job (it compares `indirectResult.bytes` with the same key).
   */
  readonly maxResultSizeBytes: number;
}

export const EXECUTOR_CONFIG_DEFAULTS = {
  heartbeatIntervalMs: 10_000,
  heartbeatMaxFailures: 60,
  maxDirectResultSizeBytes: 1024 * 1024,
  resultChunkBytes: 4 * 1024 * 1024,
  maxResultSizeBytes: 1024 ** 3,
} as const;

type Tunable = keyof typeof EXECUTOR_CONFIG_DEFAULTS;

/** The `flint.*` key behind each tunable field, for error messages. */
export const EXECUTOR_CONFIG_KEYS: Readonly<Record<Tunable, string>> = {
  heartbeatIntervalMs: 'flint.executor.heartbeatInterval',
  heartbeatMaxFailures: 'flint.executor.heartbeat.maxFailures',
  maxDirectResultSizeBytes: 'flint.task.maxDirectResultSize',
  resultChunkBytes: 'flint.task.resultChunkSize',
  maxResultSizeBytes: 'flint.driver.maxResultSize',
};

/** Room left in a frame for the message around a result or a chunk. */
export const FRAME_MARGIN_BYTES = 64 * 1024;

function requireInt(key: string, value: number, min: number): void {
  if (!Number.isSafeInteger(value) || value < min) {
    throw new ConfigError(key, `${key}=${value} is invalid; expected a whole number of at least ${min}`);
  }
}

function requireText(key: string, value: string): void {
  if (value.length === 0) throw new ConfigError(key, `${key} must not be empty`);
}

/** Fills in defaults and checks every field; a bad value is a ConfigError naming the key (or the flag). */
export function executorConfig(input: ExecutorLaunchArgs & Partial<Pick<ExecutorConfig, Tunable>>): ExecutorConfig {
  const config: ExecutorConfig = { ...EXECUTOR_CONFIG_DEFAULTS, ...input, logUrls: input.logUrls ?? {} };
  requireText('--executor-id', config.executorId);
  requireText('--app-id', config.appId);
  requireText('--hostname', config.hostname);
  requireText('--driver-url', config.driverUrl);
  requireInt('--cores', config.cores, 1);
  if (!/^(flint|spark|flint\+client):\/\//.test(config.executorAddress)) {
    throw new ConfigError('executorAddress', `"${config.executorAddress}" is not an endpoint address`);
  }
  const k = EXECUTOR_CONFIG_KEYS;
  requireInt(k.heartbeatIntervalMs, config.heartbeatIntervalMs, 1);
  requireInt(k.heartbeatMaxFailures, config.heartbeatMaxFailures, 1);
  requireInt(k.maxDirectResultSizeBytes, config.maxDirectResultSizeBytes, 0);
  requireInt(k.resultChunkBytes, config.resultChunkBytes, 1);
  requireInt(k.maxResultSizeBytes, config.maxResultSizeBytes, 0);
  return config;
}

/**
 * Reads the application's keys as Spark reads them (`spark.*` spellings accepted through FlintConf):
 * durations and sizes with Spark's default units, Spark's check that `flint.network.timeout` exceeds the
 * heartbeat interval, and the frame-size cap on direct results and chunks.
 */
export function executorConfigFromConf(conf: FlintConf, args: ExecutorLaunchArgs): ExecutorConfig {
  const k = EXECUTOR_CONFIG_KEYS;
  const d = EXECUTOR_CONFIG_DEFAULTS;
  const heartbeatIntervalMs = conf.getDurationMs(k.heartbeatIntervalMs, `${d.heartbeatIntervalMs}ms`, 'ms');
  const networkTimeoutMs = conf.getDurationMs('flint.network.timeout', '120s', 's');
  if (networkTimeoutMs <= heartbeatIntervalMs) {
    throw new ConfigError(
      'flint.network.timeout',
      `The value of flint.network.timeout=${networkTimeoutMs}ms must be greater than the value of ` +
        `${k.heartbeatIntervalMs}=${heartbeatIntervalMs}ms.`,
    );
  }
  const frameBytes = conf.getSizeBytes('flint.rpc.message.maxSize', '128', 'm');
  const frameRoom = Math.max(1, frameBytes - FRAME_MARGIN_BYTES);
  const resultChunkBytes = conf.getSizeBytes(k.resultChunkBytes, `${d.resultChunkBytes}b`, 'b');
  if (resultChunkBytes > frameRoom) {
    throw new ConfigError(
      k.resultChunkBytes,
      `${k.resultChunkBytes}=${resultChunkBytes} does not fit in a frame: it must be at most ` +
        `flint.rpc.message.maxSize (${frameBytes} bytes) less ${FRAME_MARGIN_BYTES} bytes`,
    );
  }
  const directBytes = conf.getSizeBytes(k.maxDirectResultSizeBytes, `${d.maxDirectResultSizeBytes}b`, 'b');
  return executorConfig({
    ...args,
    heartbeatIntervalMs,
    heartbeatMaxFailures: conf.getInt(k.heartbeatMaxFailures, d.heartbeatMaxFailures, { min: 1 }),
    maxDirectResultSizeBytes: Math.min(directBytes, frameRoom),
    resultChunkBytes,
    maxResultSizeBytes: conf.getSizeBytes(k.maxResultSizeBytes, '1g', 'b'),
  });
}
