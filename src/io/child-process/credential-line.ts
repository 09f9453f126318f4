// How a worker hands its executors and drivers their credentials: as the first line on their stdin, the pipe
// the worker holds for their lifetime anyway (its end tells them that the worker is gone). Unlike an
// environment variable or an argument, a pipe's contents show in neither `/proc/<pid>/environ` nor `ps`, and
// nothing is written to disk or sent in a message (docs/security.md, "The secret never travels").
//
// The line is JSON: `{"principal":"executor:<appId>","key":"…"}`, or `{}` when the cluster does not
// authenticate. Spark passes `spark.authenticate.secret` to executors in their environment
// (`_SPARK_AUTH_SECRET`), readable by anyone who may read the process's environ.

import type { Readable } from 'node:stream';
import { ConfigError } from '../../errors.ts';
import type { Credential } from '../../rpc/auth.ts';

const MAX_LINE_BYTES = 4096;

/** The first line a worker writes to a child's stdin. */
export function formatCredentialLine(credential: Credential | undefined): string {
  return `${JSON.stringify(credential === undefined ? {} : { principal: credential.principal, key: credential.key })}\n`;
}

/**
 * Reads the credential line from `stdin` and leaves the stream paused after it, so that its end can still be
 * watched. Resolves undefined at once for a TTY, and for a stream that ends before any line (no worker: run
 * by hand without authentication). Rejects with ConfigError on a malformed line or after `timeoutMs`.
 */
export async function readCredentialLine(stdin: Readable & { isTTY?: boolean }, timeoutMs: number): Promise<Credential | undefined> {
  if (stdin.isTTY === true) return undefined;
  const line = await readStdinLine(stdin, {
    maxBytes: MAX_LINE_BYTES,
    timeoutMs,
    tooLong: () => malformed('the line is too long'),
    noNewline: () => malformed('no newline before the end'),
    timedOut: () => new ConfigError('stdin', `no credential line on stdin within ${timeoutMs} ms (a worker writes it first)`),
  });
  return line === undefined ? undefined : parse(line);
}

export interface LineReadOptions {
  readonly maxBytes: number;
  /** Undefined: wait for as long as it takes (the stream's end still ends the wait). */
  readonly timeoutMs?: number;
  readonly tooLong: () => Error;
  readonly noNewline: () => Error;
  readonly timedOut?: () => Error;
}

/**
 * The next line of `stdin` (without its newline), leaving the stream paused after it with anything after the
 * line pushed back, so that a later reader sees it and the stream's end. Undefined when the stream ends before
 * any byte; the errors the options make when the line is longer than `maxBytes`, ends without a newline, or
 * does not come within `timeoutMs`.
 */
export function readStdinLine(stdin: Readable, opts: LineReadOptions): Promise<string | undefined> {
  return new Promise((resolve, reject) => {
    let buffered = Buffer.alloc(0);
    const done = (fn: () => void): void => {
      clearTimeout(timer);
      stdin.off('data', onData);
      stdin.off('end', onEnd);
      stdin.pause();
      fn();
    };
    const onData = (chunk: Buffer): void => {
      buffered = Buffer.concat([buffered, chunk]);
      const newline = buffered.indexOf(10);
      if (newline < 0) {
        if (buffered.length > opts.maxBytes) done(() => reject(opts.tooLong()));
        return;
      }
      if (newline > opts.maxBytes) {
        done(() => reject(opts.tooLong()));
        return;
      }
      const line = buffered.subarray(0, newline).toString('utf8');
      const rest = buffered.subarray(newline + 1);
      done(() => {
        // Only once this reader is off and the stream paused: a flowing stream hands an unshifted chunk straight
        // back to its 'data' listeners, which would read the same line again.
        if (rest.length > 0) stdin.unshift(rest);
        resolve(line);
      });
    };
    const onEnd = (): void => done(() => (buffered.length === 0 ? resolve(undefined) : reject(opts.noNewline())));
    const timer =
      opts.timeoutMs === undefined ? undefined : setTimeout(() => done(() => reject((opts.timedOut ?? opts.noNewline)())), opts.timeoutMs);
    stdin.on('data', onData);
    stdin.once('end', onEnd);
    stdin.resume();
  });
}

function malformed(why: string): ConfigError {
  return new ConfigError('stdin', `the credential line on stdin is malformed: ${why}; expected {"principal":…,"key":…} or {}`);
}

/** The JSON object a stdin line holds; else the error `malformed` makes of what is wrong. */
export function jsonObjectOf(line: string, malformed: (why: string) => Error): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    throw malformed('not JSON');
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw malformed('not an object');
  return value as Record<string, unknown>;
}

function parse(line: string): Credential | undefined {
  const { principal, key } = jsonObjectOf(line, malformed);
  if (principal === undefined && key === undefined) return undefined;
  if (typeof principal !== 'string' || typeof key !== 'string' || key.length === 0) throw malformed('principal and key must be strings');
  return { principal, key };
}
