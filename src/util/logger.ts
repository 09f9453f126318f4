// Logging. Daemons log through pino: one JSON line per event that matters. Code that logs takes a `Logger`
// (this small interface) so tests can capture lines, and libraries never pick a destination themselves.

import { pino } from 'pino';
import { ConfigError } from '../errors.ts';

export interface Logger {
  debug(fields: object, msg: string): void;
  info(fields: object, msg: string): void;
  warn(fields: object, msg: string): void;
  error(fields: object, msg: string): void;
  child(bindings: object): Logger;
}

export type LogLevel = 'debug' | 'info' | 'warn' | 'error' | 'silent';

const LEVELS: readonly string[] = ['debug', 'info', 'warn', 'error', 'silent'];

/** The level named by FLINT_LOG_LEVEL (default info); a bad value is a ConfigError. */
export function logLevelFromEnv(env: NodeJS.ProcessEnv = process.env): LogLevel {
  const level = env['FLINT_LOG_LEVEL'] ?? 'info';
  if (!LEVELS.includes(level)) {
    throw new ConfigError('FLINT_LOG_LEVEL', `FLINT_LOG_LEVEL=${JSON.stringify(level)} is not a level; expected one of ${LEVELS.join(', ')}`);
  }
  return level as LogLevel;
}

/** A pino logger writing JSON lines to stderr (stdout stays free for command output). */
export function createLogger(name: string, level: LogLevel = logLevelFromEnv()): Logger {
  return pino({ name, level, base: { pid: process.pid } }, pino.destination({ fd: 2, sync: true }));
}

export interface LogLine {
  level: 'debug' | 'info' | 'warn' | 'error';
  msg: string;
  fields: Record<string, unknown>;
}

/** Collects log lines in memory, for tests. */
export function memoryLogger(lines: LogLine[] = [], bindings: Record<string, unknown> = {}): Logger & { lines: LogLine[] } {
  const at =
    (level: LogLine['level']) =>
    (fields: object, msg: string): void => {
      lines.push({ level, msg, fields: { ...bindings, ...fields } });
    };
  return {
    lines,
    debug: at('debug'),
    info: at('info'),
    warn: at('warn'),
    error: at('error'),
    child: (more: object) => memoryLogger(lines, { ...bindings, ...more }),
  };
}

export const silentLogger: Logger = {
  debug() {},
  info() {},
  warn() {},
  error() {},
  child: () => silentLogger,
};
