// Randomness for the machines, seeded and split into named streams (STYLE.md §6, after Temporal's
// `packages/workflow/src/alea.ts`). Each concern draws from its own stream, so adding a draw in one place does not
// shift the numbers every other place sees: a simulator seed keeps reproducing the same run of everything else.
//
// The generator is Johannes Baagøe's Alea (public domain), as Temporal uses it: three 32-bit fractions and a carry,
// seeded by hashing strings with his Mash function. It is fast and good enough for tie-breaks, jitter and fault
// schedules; it is not for secrets (those come from node:crypto, in the daemons).

/** A source of uniform numbers. Every implementation must keep both ranges; callers check them. */
export interface Rng {
  /** A number in `[0, 1)`. */
  next(): number;
  /** An integer in `[0, maxExclusive)`; `maxExclusive` is a positive integer. */
  nextInt(maxExclusive: number): number;
}

/**
 * The streams a Flint process draws from. A name is a concern, not a call site: the master's shuffle of workers
 * for drivers (Spark's `Random.shuffle` in `Master.schedule`), the registration retry jitter of a worker and of an
 * executor, and the simulator's and tests' own.
 */
export type StreamName = 'master.shuffle' | 'worker.registration' | 'executor.registration' | `sim.${string}` | `test.${string}`;

/** Alea over one seed string. */
export class Alea implements Rng {
  #s0: number;
  #s1: number;
  #s2: number;
  #c = 1;

  constructor(...seeds: readonly string[]) {
    const mash = new Mash();
    this.#s0 = mash.hash(' ');
    this.#s1 = mash.hash(' ');
    this.#s2 = mash.hash(' ');
    for (const seed of seeds) {
      this.#s0 -= mash.hash(seed);
      if (this.#s0 < 0) this.#s0 += 1;
      this.#s1 -= mash.hash(seed);
      if (this.#s1 < 0) this.#s1 += 1;
      this.#s2 -= mash.hash(seed);
      if (this.#s2 < 0) this.#s2 += 1;
    }
  }

  next(): number {
    const t = 2091639 * this.#s0 + this.#c * 2.3283064365386963e-10; // 2^-32
    this.#s0 = this.#s1;
    this.#s1 = this.#s2;
    this.#c = t | 0;
    this.#s2 = t - this.#c;
    return this.#s2;
  }

  nextInt(maxExclusive: number): number {
    if (!Number.isSafeInteger(maxExclusive) || maxExclusive < 1) {
      throw new RangeError(`Rng.nextInt(${maxExclusive}): the bound must be a positive safe integer`);
    }
    return Math.floor(this.next() * maxExclusive);
  }
}

/** Baagøe's Mash: folds a string into Alea's state, one 32-bit fraction per call. */
class Mash {
  #n = 0xefc8249d;

  hash(data: string): number {
    for (let i = 0; i < data.length; i++) {
      this.#n += data.charCodeAt(i);
      let h = 0.02519603282416938 * this.#n;
      this.#n = h >>> 0;
      h -= this.#n;
      h *= this.#n;
      this.#n = h >>> 0;
      h -= this.#n;
      this.#n += h * 0x100000000; // 2^32
    }
    return (this.#n >>> 0) * 2.3283064365386963e-10; // 2^-32
  }
}

/** Named streams over one seed: `stream(name)` is the same sequence for the same seed and name, every time. */
export class RngStreams {
  readonly seed: string;
  readonly #streams = new Map<StreamName, Rng>();

  constructor(seed: string | number) {
    this.seed = String(seed);
  }

  /** The stream `name`; asking twice gives the same object, which carries on where it was. */
  stream(name: StreamName): Rng {
    let rng = this.#streams.get(name);
    if (rng === undefined) {
      rng = new Alea(this.seed, name);
      this.#streams.set(name, rng);
    }
    return rng;
  }
}

/** An `Rng` over a function that returns numbers in `[0, 1)`: `nextInt` scales it. For scripted draws in tests. */
export function rngFrom(next: () => number): Rng {
  return {
    next,
    nextInt(maxExclusive: number): number {
      return Math.floor(next() * maxExclusive);
    },
  };
}

/**
 * mulberry32 over one 32-bit seed: numbers in `[0, 1)`, the same sequence for a seed in any process. For data, not
 * scheduling decisions: seeded samples (`sample`, a range partitioner's reservoir) and generated benchmark data,
 * where a partition's seed must give the same records on every attempt.
 */
export function mulberry32(seed: number): () => number {
  let state = seed | 0;
  return () => {
    state = (state + 0x6d2b79f5) | 0;
    let t = Math.imul(state ^ (state >>> 15), 1 | state);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
