// Refusals no retry mends, for the machines that register with masters (the app client, the worker): a `Dial` that
// failed with one of these codes (src/errors.ts) will fail the same way at every later attempt. Spark retries
// them as it retries an unreachable master and then reports only that no master answered
// (docs/differences-from-spark.md).

import type { DialFailed } from './messaging.ts';

/** The fixes a machine names for a wrong secret and another protocol version (an HTTP server's error names its own). */
export interface RefusalFixes {
  readonly auth: string;
  readonly version: string;
}

function fixFor(code: string | undefined, fixes: RefusalFixes): string | undefined {
  if (code === 'FLINT_RPC_AUTH_FAILED') return fixes.auth;
  if (code === 'FLINT_RPC_PROTOCOL_VERSION') return fixes.version;
  if (code === 'FLINT_RPC_NOT_FLINT') return ''; // its message names the fix
  return undefined;
}

/**
 * Notes in `refused` (master → its error and fix) a failed dial no retry mends. Returns the reason to give up with
 * once every one of `masters` has refused so, with each cause; undefined while one may still answer.
 */
export function noteRefusal(refused: Map<string, string>, masters: readonly string[], failed: DialFailed, fixes: RefusalFixes): string | undefined {
  const fix = fixFor(failed.code, fixes);
  if (fix === undefined) return undefined;
  refused.set(failed.envUrl, fix === '' ? failed.error : `${failed.error}. ${fix}`);
  if (!masters.every((m) => refused.has(m))) return undefined;
  const reasons = masters.map((m) => (masters.length === 1 ? refused.get(m) : `${m}: ${refused.get(m)}`));
  return `Cannot register with ${masters.length === 1 ? 'the master' : 'any master'}, and retrying will not help: ${reasons.join('; ')}`;
}
