import type { Rng } from './types.ts';

/**
 * A Fisher–Yates shuffle into a new array, drawing from the injected `Rng` so the same seed gives the same
 * order (STYLE.md §6). The draw sequence matches Scala's `Random.shuffle`: from the last position down to the
 * second, swap it with a position drawn from `[0, i]`.
 */
export function shuffle<T>(items: ReadonlyArray<T>, rng: Rng): T[] {
  const out = [...items];
  for (let i = out.length - 1; i > 0; i -= 1) {
    const j = rng.nextInt(i + 1);
    if (!Number.isInteger(j) || j < 0 || j > i) {
      throw new RangeError(`Rng.nextInt(${i + 1}) returned ${j}, outside [0, ${i + 1})`);
    }
    const a = out[i] as T;
    out[i] = out[j] as T;
    out[j] = a;
  }
  return out;
}
