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
export function readCredentialLine(stdin: Readable & { isTTY?: boolean }, timeoutMs: number): Promise<Credential | undefined> {
  if (stdin.isTTY === true) return Promise.resolve(undefined);
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
        if (buffered.length > MAX_LINE_BYTES) done(() => reject(malformed('the line is too long')));
        return;
      }
      // Anything after the line is pushed back, so that a later reader sees it and the stream's end.
      if (newline + 1 < buffered.length) stdin.unshift(buffered.subarray(newline + 1));
      const line = buffered.subarray(0, newline).toString('utf8');
      done(() => {
        try {
          resolve(parse(line));
        } catch (err) {
          reject(err as Error);
        }
      });
    };
    const onEnd = (): void => done(() => (buffered.length === 0 ? resolve(undefined) : reject(malformed('no newline before the end'))));
    const timer = setTimeout(
      () => done(() => reject(new ConfigError('stdin', `no credential line on stdin within ${timeoutMs} ms (a worker writes it first)`))),
      timeoutMs,
    );
    stdin.on('data', onData);
    stdin.once('end', onEnd);
    stdin.resume();
  });
}

function malformed(why: string): ConfigError {
  return new ConfigError('stdin', `the credential line on stdin is malformed: ${why}; expected {"principal":…,"key":…} or {}`);
}

function parse(line: string): Credential | undefined {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    throw malformed('not JSON');
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw malformed('not an object');
  const { principal, key } = value as { principal?: unknown; key?: unknown };
  if (principal === undefined && key === undefined) return undefined;
  if (typeof principal !== 'string' || typeof key !== 'string' || key.length === 0) throw malformed('principal and key must be strings');
  return { principal, key };
}
