// Flag and environment parsing shared by the daemon commands. Precedence, lowest first: built-in default,
// environment variable, command-line flag (reference §10.5). Each bad value is a ConfigError naming the
// flag or variable and what is expected; the CLI turns it into exit code 1.

import { hostname } from 'node:os';
import { ConfigError } from '../errors.ts';
import type { FlintConf } from '../conf/flint-conf.ts';
import { parseSizeBytes } from '../conf/units.ts';
import type { Logger } from '../util/logger.ts';

export type Env = Readonly<Record<string, string | undefined>>;

/** The flag's value, else the variable's, else undefined; `what` names where it came from. */
export function pick(flag: string | undefined, flagName: string, env: Env, variable: string): { value: string; what: string } | undefined {
  if (flag !== undefined) return { value: flag, what: flagName };
  const fromEnv = env[variable];
  return fromEnv !== undefined && fromEnv !== '' ? { value: fromEnv, what: variable } : undefined;
}

export function parsePort(raw: { value: string; what: string } | undefined, fallback: number): number {
  if (raw === undefined) return fallback;
  const port = Number(raw.value);
  if (!/^\d+$/.test(raw.value.trim()) || port > 65535) {
    throw new ConfigError(raw.what, `${raw.what} ${JSON.stringify(raw.value)} is not a port; expected a whole number from 0 to 65535 (0: any free port)`);
  }
  return port;
}

export function parsePositiveInt(raw: { value: string; what: string } | undefined, fallback: number): number {
  if (raw === undefined) return fallback;
  const n = Number(raw.value);
  if (!/^\d+$/.test(raw.value.trim()) || n < 1 || !Number.isSafeInteger(n)) {
    throw new ConfigError(raw.what, `${raw.what} ${JSON.stringify(raw.value)} is not a positive whole number`);
  }
  return n;
}

/** Memory as Spark writes it for workers (`1000M`, `2G`, `512m`; a bare number is MB). Returns MB. */
export function parseMemoryMb(raw: { value: string; what: string } | undefined, fallback: number): number {
  if (raw === undefined) return fallback;
  let bytes: number;
  try {
    bytes = parseSizeBytes(raw.value, 'm');
  } catch {
    throw new ConfigError(raw.what, `${raw.what} ${JSON.stringify(raw.value)} is not an amount of memory; expected e.g. 512m, 1000M or 2g`);
  }
  const mb = Math.floor(bytes / (1024 * 1024));
  if (mb < 1) throw new ConfigError(raw.what, `${raw.what} ${JSON.stringify(raw.value)} is less than 1 MB; give a worker some memory, e.g. 1g`);
  return mb;
}

export function parseHost(raw: { value: string; what: string } | undefined): string {
  const host = raw?.value.trim() ?? hostname();
  if (host === '' || /\s|\/|@/.test(host)) {
    throw new ConfigError(raw?.what ?? 'host', `${raw?.what ?? 'host'} ${JSON.stringify(raw?.value)} is not a host name or address`);
  }
  return host;
}

/** Commander collector for repeatable flags. */
export function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

/**
 * Daemons launch processes on request, so they authenticate by default: without `flint.authenticate` in the
 * configuration it is taken as true, and a secret must be configured. `flint.authenticate=false` runs an open
 * cluster, with a warning in the log.
 */
export function requireAuthenticationByDefault(conf: FlintConf, logger: Logger): void {
  if (!conf.has('flint.authenticate')) conf.set('flint.authenticate', 'true');
  if (!conf.getBoolean('flint.authenticate', true)) {
    logger.warn({}, 'flint.authenticate=false: anyone who can reach this daemon\'s RPC port can run programs on the workers');
    return;
  }
  if (!conf.has('flint.authenticate.secret') && !conf.has('flint.authenticate.secret.file')) {
    throw new ConfigError(
      'flint.authenticate.secret',
      'Flint daemons require authentication by default: set the same flint.authenticate.secret.file (or ' +
        'flint.authenticate.secret) on every node, or flint.authenticate=false to run an open cluster on a trusted network',
    );
  }
}

/**
 * SIGTERM and SIGINT handlers installed before a daemon starts, so a signal that arrives while it is still
 * loading or binding stops it cleanly (exit 0) instead of killing the process: once `attach` hands over the
 * daemon, a signal that came earlier shuts it down at once.
 */
export function stopOnSignals(): { attach(daemon: { shutdown(reason: string): Promise<unknown> }): void } {
  let daemon: { shutdown(reason: string): Promise<unknown> } | undefined;
  let early: string | undefined;
  const onSignal = (signal: string): void => {
    if (daemon !== undefined) void daemon.shutdown(`received ${signal}`);
    else early ??= signal;
  };
  process.once('SIGTERM', () => onSignal('SIGTERM'));
  process.once('SIGINT', () => onSignal('SIGINT'));
  return {
    attach(started) {
      daemon = started;
      if (early !== undefined) void started.shutdown(`received ${early}`);
    },
  };
}
