// What an app client is built with. The host parses the master URLs and knows its own address; the numbers
// come from `flint.app.registrationTimeout` and `flint.app.registrationRetries` (src/api/context.ts).

import type { ApplicationDescription } from '../protocol/messages.ts';

export interface AppClientConfig {
  /** The masters' RPC envs (`flint://host:port`), as listed in the master URL; registration goes to all of them. */
  readonly masters: readonly string[];
  /** This client's `AppClient` endpoint (`flint+client://AppClient@<id>`): where the master sends MasterToApp. */
  readonly driverAddress: string;
  readonly description: ApplicationDescription;
  /** How long one registration round waits for a master to answer (Spark's `REGISTRATION_TIMEOUT_SECONDS`, 20 s). */
  readonly registrationTimeoutMs: number;
  /** Rounds before the app is declared dead (Spark's `REGISTRATION_RETRIES`, 3). At least 1. */
  readonly registrationRetries: number;
  /** While the master is unreachable, how often every master is dialled and told this app is here (1 s). */
  readonly reconnectIntervalMs: number;
}

export const APP_CLIENT_DEFAULTS = {
  registrationTimeoutMs: 20_000,
  registrationRetries: 3,
  reconnectIntervalMs: 1_000,
} as const;

type Required = Pick<AppClientConfig, 'masters' | 'driverAddress' | 'description'>;

/** A config with the defaults filled in; throws a RangeError on a value no caller should pass. */
export function appClientConfig(base: Required & Partial<AppClientConfig>): AppClientConfig {
  const config: AppClientConfig = { ...APP_CLIENT_DEFAULTS, ...base };
  if (config.masters.length === 0) throw new RangeError('an app client needs at least one master');
  if (!Number.isSafeInteger(config.registrationRetries) || config.registrationRetries < 1) {
    throw new RangeError(`registrationRetries must be a positive integer, not ${config.registrationRetries}`);
  }
  for (const key of ['registrationTimeoutMs', 'reconnectIntervalMs'] as const) {
    if (!Number.isFinite(config[key]) || config[key] < 0) throw new RangeError(`${key} must be a non-negative number, not ${config[key]}`);
  }
  return config;
}
