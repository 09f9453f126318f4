// Two narrow operations the API adds on the user's behalf, as pulls: `zipWithIndex` (each record with its
// index in the whole dataset, from the partition's first index) and `sample` (Spark's BernoulliSampler, and
// PoissonSampler with replacement), seeded per partition so a retried task samples the same records.

import { mulberry32 } from '../kit/rng.ts';
import { DONE, isThenable, type RecordPull, type Step } from './record-stream.ts';

/** `[record, start + i]` for the i-th record of the partition. */
export function zipWithIndexPull(up: RecordPull<unknown>, start: number): RecordPull<unknown> {
  let index = start;
  const wrap = (s: Step<unknown>): Step<unknown> => (s.done ? DONE : { done: false, value: [s.value, index++] });
  return {
    next() {
      const s = up.next();
      return isThenable(s) ? Promise.resolve(s).then(wrap) : wrap(s);
    },
    close: () => up.close(),
  };
}

/** How many copies of a record to keep: Bernoulli(fraction), or Poisson(fraction) with replacement. */
function copies(random: () => number, withReplacement: boolean, fraction: number): number {
  if (!withReplacement) return random() < fraction ? 1 : 0;
  // Knuth's method; fractions are small in practice (Spark's PoissonSampler is used with fraction ≤ a few).
  const limit = Math.exp(-fraction);
  let k = 0;
  let p = random();
  while (p > limit && k < 10_000) {
    k += 1;
    p *= random();
  }
  return k;
}

export function samplePull(up: RecordPull<unknown>, withReplacement: boolean, fraction: number, seed: number): RecordPull<unknown> {
  const random = mulberry32(seed);
  let pending = 0;
  let held: unknown;
  const pick = (s: Step<unknown>): Step<unknown> | undefined => {
    if (s.done) return DONE;
    const n = copies(random, withReplacement, fraction);
    if (n === 0) return undefined;
    pending = n - 1;
    held = s.value;
    return s;
  };
  const next = (): Step<unknown> | Promise<Step<unknown>> => {
    if (pending > 0) {
      pending -= 1;
      return { done: false, value: held };
    }
    for (;;) {
      const s = up.next();
      if (isThenable(s)) return Promise.resolve(s).then((r) => pick(r) ?? next());
      const picked = pick(s);
      if (picked !== undefined) return picked;
    }
  };
  return { next, close: () => up.close() };
}
