// A small seeded generator for tests (mulberry32), so shuffles are reproducible without Math.random.
import { rngFrom } from '../../../src/kit/rng.ts';
import type { Rng } from '../../../src/scheduling/index.ts';

export function seededRng(seed: number): Rng {
  let state = seed >>> 0;
  const next = (): number => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return rngFrom(next);
}

/** Draws nothing useful: every shuffle it drives leaves the order as it was (`nextInt(n)` is always n − 1). */
export const identityRng: Rng = rngFrom(() => 1 - Number.EPSILON);
