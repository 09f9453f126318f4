// MasterConfig from `flint.*` keys (reference §9.1), for the daemon. Bad values are ConfigErrors naming the key.

import type { FlintConf } from '../conf/flint-conf.ts';
import { ConfigError } from '../errors.ts';
import { masterConfig, type MasterConfig } from '../master/index.ts';
import { LIMITS, type IntRange } from '../protocol/limits.ts';
import { WORKER_SELECTION_POLICIES, parseWorkerSelectionPolicy } from '../scheduling/index.ts';

export interface MasterPorts {
  readonly host: string;
  /** Host put in URLs given to others (FLINT_PUBLIC_DNS); defaults to `host`. */
  readonly publicHost: string;
  readonly port: number;
  readonly webUiPort: number;
  /** `https` when the web UI speaks TLS (flint.ssl.ui). Default http. */
  readonly webUiScheme?: 'http' | 'https';
  /** The REST gateway's bound port, when it runs (src/daemons/rest-gateway.ts). */
  readonly restPort?: number;
}

export function masterConfigFromConf(conf: FlintConf, ports: MasterPorts): MasterConfig {
  const workerTimeoutMs = conf.getDurationMs('flint.worker.timeout', '60s', 's');
  const optionalInt = (key: string, range: IntRange): number | undefined => (conf.has(key) ? conf.getInt(key, 0, range) : undefined);
  const policyText = conf.getString('flint.deploy.workerSelectionPolicy', 'CORES_FREE_DESC');
  const workerSelectionPolicy = parseWorkerSelectionPolicy(policyText);
  if (workerSelectionPolicy === undefined) {
    throw new ConfigError(
      'flint.deploy.workerSelectionPolicy',
      `flint.deploy.workerSelectionPolicy=${JSON.stringify(policyText)} is not a policy; expected one of ${WORKER_SELECTION_POLICIES.join(', ')}`,
    );
  }
  // spreadOutApps is Spark 4's name; the older spreadOut is still accepted as its alternative.
  const spreadOutKey = conf.has('flint.deploy.spreadOutApps') ? 'flint.deploy.spreadOutApps' : 'flint.deploy.spreadOut';
  const hostPort = (port: number): string => (ports.publicHost.includes(':') ? `[${ports.publicHost}]:${port}` : `${ports.publicHost}:${port}`);
  return masterConfig({
    host: ports.host,
    port: ports.port,
    webUiPort: ports.webUiPort,
    restPort: ports.restPort,
    masterUrl: `flint://${hostPort(ports.port)}`,
    masterAddress: `flint://Master@${hostPort(ports.port)}`,
    masterWebUiUrl: `${ports.webUiScheme ?? 'http'}://${hostPort(ports.webUiPort)}`,
    workerTimeoutMs,
    deadWorkerPersistence: conf.getInt('flint.dead.worker.persistence', 15, { min: 0 }),
    spreadOutApps: conf.getBoolean(spreadOutKey, true),
    spreadOutDrivers: conf.getBoolean('flint.deploy.spreadOutDrivers', true),
    defaultCores: optionalInt('flint.deploy.defaultCores', LIMITS.appCores),
    maxExecutorRetries: conf.getInt('flint.deploy.maxExecutorRetries', 10, { min: -1 }),
    executorMinUptimeMs: conf.getDurationMs('flint.deploy.executorMinUptime', '10s', 's'),
    executorRelaunchBackoffMs: conf.getDurationMs('flint.deploy.executorRelaunchBackoff', '1s', 's'),
    executorRelaunchBackoffMaxMs: conf.getDurationMs('flint.deploy.executorRelaunchBackoffMax', '60s', 's'),
    retainedApplications: conf.getInt('flint.deploy.retainedApplications', 200, { min: 1 }),
    retainedDrivers: conf.getInt('flint.deploy.retainedDrivers', 200, { min: 1 }),
    maxDrivers: optionalInt('flint.deploy.maxDrivers', LIMITS.count),
    workerSelectionPolicy,
    recoveryTimeoutMs: conf.getDurationMs('flint.deploy.recoveryTimeout', `${workerTimeoutMs}ms`, 's'),
  });
}
