// The Master's configuration: a plain typed object (reference §9.1). The daemon builds it from `flint.*` keys
// once it has bound its ports; the machine only reads it. Nothing here reads the environment or a clock.

import { ConfigError } from '../errors.ts';
import { DEFAULT_WORKER_SELECTION_POLICY, type WorkerSelectionPolicy } from '../scheduling/index.ts';

export interface MasterConfig {
  /** The host the master's RPC env listens on. */
  readonly host: string;
  /** The bound RPC port. */
  readonly port: number;
  /** `flint://host:port`: what workers and clients are told to use (Spark's `masterUrl`). */
  readonly masterUrl: string;
  /** `flint://Master@host:port`: the master endpoint, carried in RegisteredWorker, MasterChanged, … */
  readonly masterAddress: string;
  /** The web UI's URL, sent to workers and apps. */
  readonly masterWebUiUrl: string;
  /** The bound web UI port (BoundPortsResponse). */
  readonly webUiPort: number;
  /** The bound REST port, when the REST gateway runs. */
  readonly restPort?: number;
  /** `flint.worker.timeout` (60 s): silence after which a worker is removed; also the sweep period. */
  readonly workerTimeoutMs: number;
  /** `flint.dead.worker.persistence` (15): DEAD workers stay listed for (this + 1) × the timeout. */
  readonly deadWorkerPersistence: number;
  /** `flint.deploy.spreadOutApps` (true). */
  readonly spreadOutApps: boolean;
  /** `flint.deploy.spreadOutDrivers` (true). */
  readonly spreadOutDrivers: boolean;
  /** `flint.deploy.defaultCores`: maxCores for apps that set none. Absent: unlimited (Spark's Int.MaxValue). */
  readonly defaultCores?: number;
  /**
   * `flint.deploy.maxExecutorRetries` (10): executor failures in a row before an app with no executor RUNNING
   * for `executorMinUptimeMs` fails; −1 disables.
   */
  readonly maxExecutorRetries: number;
  /**
   * `flint.deploy.executorMinUptime` (10 s): an executor RUNNING this long (by the master's clock) proves the app
   * can run, and clears the failures counted before; one that fails sooner counts even though it ran.
   */
  readonly executorMinUptimeMs: number;
  /**
   * `flint.deploy.executorRelaunchBackoff` (1 s): after an app's executor fails on a worker, the app's next
   * executor on that worker waits this long, doubled for each further failure there; 0 disables.
   */
  readonly executorRelaunchBackoffMs: number;
  /** `flint.deploy.executorRelaunchBackoffMax` (60 s): the cap of that doubling. */
  readonly executorRelaunchBackoffMaxMs: number;
  /** `flint.deploy.retainedApplications` (200): completed apps kept for the UI. */
  readonly retainedApplications: number;
  /** `flint.deploy.retainedDrivers` (200): completed drivers kept for the UI. */
  readonly retainedDrivers: number;
  /** `flint.deploy.maxDrivers`: running drivers at most. Absent: unlimited. */
  readonly maxDrivers?: number;
  /** `flint.deploy.workerSelectionPolicy` (CORES_FREE_DESC). */
  readonly workerSelectionPolicy: WorkerSelectionPolicy;
  /** `flint.deploy.recoveryTimeout`: how long recovery waits for workers and apps. Defaults to the worker timeout. */
  readonly recoveryTimeoutMs: number;
}

type Required_ = 'host' | 'port';
export type MasterConfigInput = Pick<MasterConfig, Required_> & Partial<Omit<MasterConfig, Required_>>;

export const MASTER_CONFIG_DEFAULTS = {
  webUiPort: 8080,
  workerTimeoutMs: 60_000,
  deadWorkerPersistence: 15,
  spreadOutApps: true,
  spreadOutDrivers: true,
  maxExecutorRetries: 10,
  executorMinUptimeMs: 10_000,
  executorRelaunchBackoffMs: 1_000,
  executorRelaunchBackoffMaxMs: 60_000,
  retainedApplications: 200,
  retainedDrivers: 200,
  workerSelectionPolicy: DEFAULT_WORKER_SELECTION_POLICY,
} as const;

const hostPort = (host: string, port: number): string => (host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`);

/** Drops keys set to `undefined`, so they do not hide a default. */
function definedOnly<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}

function positiveInt(key: string, value: number | undefined): void {
  if (value !== undefined && !(Number.isInteger(value) && value > 0)) {
    throw new ConfigError(key, `${key} must be a positive integer, got ${value}`);
  }
}

function nonNegativeInt(key: string, value: number): void {
  if (!(Number.isInteger(value) && value >= 0)) {
    throw new ConfigError(key, `${key} must be an integer ≥ 0, got ${value}`);
  }
}

/** Fills in defaults and checks values (reference §4.3: defaultCores < 1 is rejected, and so on). */
export function masterConfig(input: MasterConfigInput): MasterConfig {
  const workerTimeoutMs = input.workerTimeoutMs ?? MASTER_CONFIG_DEFAULTS.workerTimeoutMs;
  const webUiPort = input.webUiPort ?? MASTER_CONFIG_DEFAULTS.webUiPort;
  const config: MasterConfig = {
    ...MASTER_CONFIG_DEFAULTS,
    masterUrl: `flint://${hostPort(input.host, input.port)}`,
    masterAddress: `flint://Master@${hostPort(input.host, input.port)}`,
    masterWebUiUrl: `http://${hostPort(input.host, webUiPort)}`,
    recoveryTimeoutMs: workerTimeoutMs,
    ...definedOnly(input),
  } as MasterConfig;
  positiveInt('flint.worker.timeout', config.workerTimeoutMs);
  positiveInt('flint.deploy.recoveryTimeout', config.recoveryTimeoutMs);
  positiveInt('flint.deploy.defaultCores', config.defaultCores);
  positiveInt('flint.deploy.maxDrivers', config.maxDrivers);
  positiveInt('flint.deploy.retainedApplications', config.retainedApplications);
  positiveInt('flint.deploy.retainedDrivers', config.retainedDrivers);
  nonNegativeInt('flint.dead.worker.persistence', config.deadWorkerPersistence);
  nonNegativeInt('flint.deploy.executorMinUptime', config.executorMinUptimeMs);
  nonNegativeInt('flint.deploy.executorRelaunchBackoff', config.executorRelaunchBackoffMs);
  nonNegativeInt('flint.deploy.executorRelaunchBackoffMax', config.executorRelaunchBackoffMaxMs);
  if (config.executorRelaunchBackoffMaxMs < config.executorRelaunchBackoffMs) {
    throw new ConfigError(
      'flint.deploy.executorRelaunchBackoffMax',
      `flint.deploy.executorRelaunchBackoffMax (${config.executorRelaunchBackoffMaxMs} ms) must be ≥ flint.deploy.executorRelaunchBackoff (${config.executorRelaunchBackoffMs} ms)`,
    );
  }
  if (!Number.isInteger(config.maxExecutorRetries)) {
    throw new ConfigError(
      'flint.deploy.maxExecutorRetries',
      `flint.deploy.maxExecutorRetries must be an integer (−1 disables), got ${config.maxExecutorRetries}`,
    );
  }
  return config;
}
