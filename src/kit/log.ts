// The one log vocabulary of the machines (master, worker, executor, driver, app client): a machine never writes a log
// line; it returns a `Log` effect, and its host writes it through pino (src/util/logger.ts).

/** How loud a log effect is. The host's own logger adds `silent` for its threshold, never for an effect. */
export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

/** Structured fields of a log line: flat, and only values a JSON log line shows as they are. */
export type LogFields = Readonly<Record<string, string | number | boolean>>;

/** A log line a machine asks its host to write. */
export interface LogEffect {
  readonly kind: 'Log';
  readonly level: LogLevel;
  readonly msg: string;
  readonly fields?: LogFields;
}

/** A `Log` effect; `fields` are left out when there are none, so the line carries no empty object. */
export function logEffect(level: LogLevel, msg: string, fields?: LogFields): LogEffect {
  return fields === undefined ? { kind: 'Log', level, msg } : { kind: 'Log', level, msg, fields };
}
