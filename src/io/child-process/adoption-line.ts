// How a worker hands a standby executor process its executor (docs/standby-executors.md): a standby is the
// executor program started ahead of time with `--standby`, its modules loaded, waiting on stdin. The worker
// adopts it for an executor by writing one line there, then the credential line (credential-line.ts), as it
// would for an executor it spawned. The line is JSON:
//
//   {"args": ["--driver-url", …], "env": {"FLINT_LOG_URL_STDOUT": …}, "cwd": "/…/work/app-…/0/"}
//
// `args` are the executor's arguments (what follows the program in its argv), `env` the variables added to the
// worker's environment, `cwd` its directory. The standby applies them and goes on as that executor. Like the
// credential, the line travels on the pipe: nothing in `/proc/<pid>/environ` or `ps` changes.

import type { Readable } from 'node:stream';
import { ConfigError } from '../../errors.ts';
import { jsonObjectOf, readStdinLine } from './credential-line.ts';

/** The argument that starts the executor program as a standby. */
export const STANDBY_FLAG = '--standby';

/** The standby's descriptor for saying that it has loaded its modules and waits (a pipe the worker reads). */
export const READY_FD = 3;

/** Longest adoption line taken: arguments, a few variables and a path. */
const MAX_ADOPTION_BYTES = 64 * 1024;

export interface Adoption {
  readonly args: readonly string[];
  readonly env: Readonly<Record<string, string>>;
  readonly cwd: string;
}

export function formatAdoptionLine(adoption: Adoption): string {
  return `${JSON.stringify({ args: adoption.args, env: adoption.env, cwd: adoption.cwd })}\n`;
}

function malformed(why: string): ConfigError {
  return new ConfigError('stdin', `the adoption line on stdin is malformed: ${why}; expected {"args":[…],"env":{…},"cwd":"…"}`);
}

export function parseAdoptionLine(line: string): Adoption {
  const { args, env, cwd } = jsonObjectOf(line, malformed);
  if (!Array.isArray(args) || !args.every((a) => typeof a === 'string')) throw malformed('args must be an array of strings');
  if (typeof env !== 'object' || env === null || Array.isArray(env) || !Object.values(env).every((v) => typeof v === 'string')) {
    throw malformed('env must be an object of strings');
  }
  if (typeof cwd !== 'string' || cwd.length === 0) throw malformed('cwd must be a non-empty string');
  return { args: args as string[], env: env as Record<string, string>, cwd };
}

/**
 * The standby's side: waits for the adoption line on `stdin` for as long as the worker keeps the pipe open.
 * Undefined when the pipe ends first (the worker stopped, or retired this standby). The line's errors are
 * ConfigErrors.
 */
export function readAdoptionLine(stdin: Readable): Promise<Adoption | undefined> {
  return readStdinLine(stdin, {
    maxBytes: MAX_ADOPTION_BYTES,
    tooLong: () => malformed(`longer than ${MAX_ADOPTION_BYTES} bytes`),
    noNewline: () => malformed('no newline before the end'),
  }).then((line) => (line === undefined ? undefined : parseAdoptionLine(line)));
}
