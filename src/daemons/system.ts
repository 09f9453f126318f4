// The real implementations of the kit's ports (src/kit/), for the daemons, drivers and executors: the system
// clock and randomness seeded from node:crypto. The simulator gives the same machines its own (src/sim/).

import { randomBytes } from 'node:crypto';
import type { Clock } from '../kit/clock.ts';
import { RngStreams } from '../kit/rng.ts';

/** `Date.now()` for the wall clock, `performance.now()` for the monotonic one. */
export const systemClock: Clock = {
  now: () => Date.now(),
  monotonic: () => performance.now(),
};

/** Named streams over a fresh 128-bit seed from node:crypto: every process draws differently. */
export function systemRngStreams(): RngStreams {
  return new RngStreams(randomBytes(16).toString('hex'));
}
