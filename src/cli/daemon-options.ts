// Flag and environment parsing shared by the daemon commands. Precedence, lowest first: built-in default,
// environment variable, command-line flag (reference §10.5). Each bad value is a ConfigError naming the
// flag or variable and what is expected; the CLI turns it into exit code 1.

import { hostname } from 'node:os';
import { ConfigError } from '../errors.ts';
import type { FlintConf } from '../conf/flint-conf.ts';
import { parseSizeBytes } from '../conf/units.ts';
import { describeRange, LIMITS, outOfRange, type IntRange } from '../protocol/limits.ts';
import type { Logger } from '../util/logger.ts';

export type Env = Readonly<Record<string, string | undefined>>;

/** The flag's value, else the variable's, else undefined; `what` names where it came from. */
export function pick(flag: string | undefined, flagName: string, env: Env, variable: string): { value: string; what: string } | undefined {
  if (flag !== undefined) return { value: flag, what: flagName };
  const fromEnv = env[variable];
  return fromEnv !== undefined && fromEnv !== '' ? { value: fromEnv, what: variable } : undefined;
}

type Raw = { value: string; what: string } | undefined;

/**
 * A whole number within `range` (src/protocol/limits.ts), else a ConfigError naming the flag or variable, the
 * value and the allowed range: NaN, Infinity, fractions, negatives and values beyond the range are refused here,
 * once, so the daemon and the messages it sends only ever carry bounded numbers.
 */
export function parseIntIn(raw: Raw, fallback: number, range: IntRange, noun: string, hint = ''): number {
  if (raw === undefined) return fallback;
  const text = raw.value.trim();
  const n = /^\d+$/.test(text) ? Number(text) : Number.NaN;
  if (outOfRange(n, range) !== undefined) {
    throw new ConfigError(raw.what, `${raw.what} ${JSON.stringify(raw.value)} is not ${noun}; expected ${describeRange(range)}${hint}`);
  }
  return n;
}

export function parsePort(raw: Raw, fallback: number): number {
  return parseIntIn(raw, fallback, LIMITS.bindPort, 'a port', ' (0: any free port)');
}

/** A worker's core count: 1 to 1,048,576 (`LIMITS.cores`). */
export function parseCores(raw: Raw, fallback: number): number {
  return parseIntIn(raw, fallback, LIMITS.cores, 'a number of cores');
}

/** Memory as Spark writes it for workers (`1000M`, `2G`, `512m`; a bare number is MB). Returns MB, within `LIMITS.memoryMb`. */
export function parseMemoryMb(raw: Raw, fallback: number): number {
  if (raw === undefined) return fallback;
  let bytes: number;
  try {
    bytes = parseSizeBytes(raw.value, 'm');
  } catch {
    throw new ConfigError(raw.what, `${raw.what} ${JSON.stringify(raw.value)} is not an amount of memory; expected e.g. 512m, 1000M or 2g`);
  }
  const mb = Math.floor(bytes / (1024 * 1024));
  if (outOfRange(mb, LIMITS.memoryMb) !== undefined) {
    throw new ConfigError(
      raw.what,
      `${raw.what} ${JSON.stringify(raw.value)} is ${mb} MB; expected from ${LIMITS.memoryMb.min} MB (give a worker some memory, e.g. 1g) to ${LIMITS.memoryMb.max} MB`,
    );
  }
  return mb;
}

export function parseHost(raw: { value: string; what: string } | undefined): string {
  const host = raw?.value.trim() ?? hostname();
  if (host === '' || /\s|\/|@/.test(host)) {
    throw new ConfigError(raw?.what ?? 'host', `${raw?.what ?? 'host'} ${JSON.stringify(raw?.value)} is not a host name or address; expected one without spaces, '/' or '@', e.g. 10.0.0.5 or node1.example.com`);
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
 * daemon, a signal that came earlier shuts it down at once. `onFirstSigterm` (a worker with
 * `flint.decommission.enabled`) takes the first SIGTERM after attach instead: a graceful drain; any later
 * SIGTERM or SIGINT shuts the daemon down at once.
 */
export function stopOnSignals(): {
  attach(daemon: { shutdown(reason: string): Promise<unknown> }, opts?: { onFirstSigterm?: () => void }): void;
} {
  let daemon: { shutdown(reason: string): Promise<unknown> } | undefined;
  let early: string | undefined;
  let onFirstSigterm: (() => void) | undefined;
  const onSignal = (signal: string): void => {
    if (daemon === undefined) {
      early ??= signal;
      return;
    }
    const drain = signal === 'SIGTERM' ? onFirstSigterm : undefined;
    onFirstSigterm = undefined;
    if (drain !== undefined) drain();
    else void daemon.shutdown(`received ${signal}`);
  };
  process.on('SIGTERM', () => onSignal('SIGTERM'));
  process.on('SIGINT', () => onSignal('SIGINT'));
  return {
    attach(started, opts = {}) {
      daemon = started;
      onFirstSigterm = opts.onFirstSigterm;
      if (early !== undefined) void started.shutdown(`received ${early}`);
    },
  };
}
