// The fuzzer's seeded randomness. Every input is drawn from its own stream, seeded from (run seed, input
// index), so input #i of seed S is the same bytes whatever ran before it: a finding is replayed with
// FLINT_FUZZ_SEED=S FLINT_FUZZ_FROM=i FLINT_FUZZ_INPUTS=1 (docs/fuzzing.md). Never Math.random.

/** sfc32 (Chris Doty-Humphrey's small fast counting generator): 32-bit state words, period ≥ 2^32. */
export class FuzzRng {
  #a: number;
  #b: number;
  #c: number;
  #d = 1;

  constructor(seed: number, stream: number) {
    // splitmix32 spreads (seed, stream) over the three state words.
    let x = (seed ^ Math.imul(stream + 0x9e3779b9, 0x85ebca6b)) >>> 0;
    const next = (): number => {
      x = (x + 0x9e3779b9) >>> 0;
      let z = x;
      z = Math.imul(z ^ (z >>> 16), 0x21f0aaad);
      z = Math.imul(z ^ (z >>> 15), 0x735a2d97);
      return (z ^ (z >>> 15)) >>> 0;
    };
    this.#a = next();
    this.#b = next();
    this.#c = next() ^ (stream >>> 0);
    for (let i = 0; i < 12; i++) this.u32();
  }

  /** A uniform 32-bit unsigned integer. */
  u32(): number {
    const t = (((this.#a + this.#b) >>> 0) + this.#d) >>> 0;
    this.#d = (this.#d + 1) >>> 0;
    this.#a = this.#b ^ (this.#b >>> 9);
    this.#b = (this.#c + (this.#c << 3)) >>> 0;
    this.#c = ((this.#c << 21) | (this.#c >>> 11)) >>> 0;
    this.#c = (this.#c + t) >>> 0;
    return t;
  }

  /** A uniform float in [0, 1). */
  float(): number {
    return this.u32() / 4294967296;
  }

  /** A uniform integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.float() * n);
  }

  /** A uniform integer in [lo, hi]. */
  between(lo: number, hi: number): number {
    return lo + this.int(hi - lo + 1);
  }

  /** True with probability p. */
  chance(p: number): boolean {
    return this.float() < p;
  }

  pick<T>(items: readonly T[]): T {
    if (items.length === 0) throw new Error('pick from an empty list');
    return items[this.int(items.length)] as T;
  }

  bytes(n: number): Buffer {
    const out = Buffer.allocUnsafe(n);
    for (let i = 0; i < n; i += 4) {
      const v = this.u32();
      for (let j = 0; j < 4 && i + j < n; j++) out[i + j] = (v >>> (8 * j)) & 0xff;
    }
    return out;
  }
}

/** A run seed from the environment text, else a fresh one from the clock and pid (printed, so replayable). */
export function parseSeed(text: string | undefined): number {
  if (text === undefined || text === '') return (Date.now() ^ (process.pid << 16)) >>> 0;
  const n = Number(text);
  if (!Number.isSafeInteger(n) || n < 0 || n > 0xffffffff) throw new Error(`FLINT_FUZZ_SEED=${JSON.stringify(text)} is not an integer in [0, 2^32)`);
  return n;
}
