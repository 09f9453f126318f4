// Logging. Daemons log through pino: one JSON line per event that matters. Code that logs takes a `Logger`
// (this small interface) so tests can capture lines, and libraries never pick a destination themselves.

import type { WriteStream } from 'node:tty';
import { pino, type DestinationStream } from 'pino';
import { ConfigError } from '../errors.ts';
import type { LogLevel } from '../kit/log.ts';

export interface Logger {
  debug(fields: object, msg: string): void;
  info(fields: object, msg: string): void;
  warn(fields: object, msg: string): void;
  error(fields: object, msg: string): void;
  child(bindings: object): Logger;
}

/** A logger's threshold: a machine's `LogLevel` (src/kit/log.ts), or `silent` for none. */
export type LogThreshold = LogLevel | 'silent';

const LEVELS: readonly string[] = ['debug', 'info', 'warn', 'error', 'silent'];

/** The level named by FLINT_LOG_LEVEL (default info); a bad value is a ConfigError. */
export function logLevelFromEnv(env: NodeJS.ProcessEnv = process.env): LogThreshold {
  const level = env['FLINT_LOG_LEVEL'] ?? 'info';
  if (!LEVELS.includes(level)) {
    throw new ConfigError('FLINT_LOG_LEVEL', `FLINT_LOG_LEVEL=${JSON.stringify(level)} is not a level; expected one of ${LEVELS.join(', ')}`);
  }
  return level as LogThreshold;
}

/** The longest string field written as is; longer ones are cut (values from peers can be megabytes). */
export const MAX_LOGGED_FIELD_CHARS = 200;
/** The longest message (`msg`) written as is: messages embed values from outside too. */
export const MAX_LOGGED_MESSAGE_CHARS = 500;
/** Stack traces are ours, but their first line is an error message that may quote a peer. */
const MAX_LOGGED_STACK_CHARS = 4_000;
const MAX_DEPTH = 4;

/** `text` cut to `max` characters, with a marker saying how many were left out. */
export function truncateForLog(text: string, max = MAX_LOGGED_FIELD_CHARS): string {
  return text.length <= max ? text : `${text.slice(0, max)}…(${text.length - max} more chars)`;
}

/**
 * The fields of a log line with every string cut to MAX_LOGGED_FIELD_CHARS (stack traces to 4,000), arrays
 * to their first 20 items, nesting to 4 levels. Every logger made here applies it to every line, so a call
 * site cannot forget: whatever a peer sent (env ids, endpoint names, reasons, message types) is bounded.
 */
export function boundLogFields(value: unknown, key = '', depth = 0): unknown {
  if (typeof value === 'string') return truncateForLog(value, key === 'stack' ? MAX_LOGGED_STACK_CHARS : MAX_LOGGED_FIELD_CHARS);
  if (typeof value !== 'object' || value === null) return value;
  if (depth >= MAX_DEPTH) return '[…]';
  if (Array.isArray(value)) {
    const items = value.slice(0, 20).map((v) => boundLogFields(v, key, depth + 1));
    return value.length > 20 ? [...items, `…(${value.length - 20} more items)`] : items;
  }
  if (value instanceof Error) return boundLogFields({ message: value.message, stack: value.stack }, key, depth);
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) out[k] = boundLogFields(v, k, depth + 1);
  return out;
}

/**
 * A pino logger writing JSON lines to stderr (stdout stays free for command output), values bounded; or to
 * `destination`, a stream of pino's (createConsoleLogger's readable lines).
 */
export function createLogger(name: string, level: LogThreshold = logLevelFromEnv(), destination: DestinationStream = pino.destination({ fd: 2, sync: true })): Logger {
  return pino(
    {
      name,
      level,
      base: { pid: process.pid },
      formatters: { log: (fields) => boundLogFields(fields) as Record<string, unknown> },
      hooks: {
        logMethod(args, method) {
          const at = args.findIndex((a) => typeof a === 'string');
          if (at >= 0) args[at] = truncateForLog(args[at] as string, MAX_LOGGED_MESSAGE_CHARS);
          method.apply(this, args);
        },
      },
    },
    destination,
  );
}

/**
 * A driver's logger: on a terminal, one short readable line per entry on stderr (pino-pretty: the time, the level,
 * the message, then the fields), apart from the application's own output on stdout; elsewhere (a file, a pipe, a
 * worker running the driver) the JSON lines every daemon writes, for tools to read.
 */
export async function createConsoleLogger(name: string, level: LogThreshold, stderr: WriteStream = process.stderr as WriteStream): Promise<Logger> {
  if (stderr.isTTY !== true) return createLogger(name, level);
  const { default: pretty } = await import('pino-pretty');
  const readable = pretty({
    destination: (stderr as WriteStream & { fd: number }).fd,
    sync: true,
    colorize: stderr.hasColors?.() ?? false,
    translateTime: 'SYS:HH:MM:ss',
    ignore: 'pid,hostname,name',
    singleLine: true,
    errorLikeObjectKeys: [], // an `err` field stays on the entry's line, with the other fields
  });
  return createLogger(name, level, readable);
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
      const bounded = boundLogFields({ ...bindings, ...fields }) as Record<string, unknown>;
      lines.push({ level, msg: truncateForLog(msg, MAX_LOGGED_MESSAGE_CHARS), fields: bounded });
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
