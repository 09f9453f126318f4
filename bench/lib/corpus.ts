// The data of bench:shuffle, generated from fixed seeds so that every run and every machine sees the same bytes:
//
// - a text corpus: a vocabulary of 50,000 pseudo-words (lowercase letters, 2–12 long, shortest first so that the
//   frequent words are the short ones, as in real text), words drawn with Zipf(s = 1.0) by rank through a
//   precomputed CDF and a binary search, lines of 8–16 words separated by single spaces, in CORPUS_FILES files.
//   It is written once to bench/.cache/corpus-<seed>-<mb>/ (gitignored) and reused while its manifest, written
//   last, matches the files;
// - key-value pairs as pure functions of an index, so the Flint jobs (`range(…).map(toPair)`) and the
//   single-threaded baselines build the same pairs without a 10-million-pair file.

import { mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { mulberry32 } from '../../src/kit/rng.ts';

export const CORPUS_SEED = 20_260_101;
export const VOCABULARY_SIZE = 50_000;
export const CORPUS_FILES = 8;
const ZIPF_S = 1.0;
/** Bump when the generator changes, so an old cache is not mistaken for the new corpus. */
const GENERATOR_VERSION = 1;

/**
 * The bench's cache directory (bench/.cache), gitignored. A function, not a constant: executors load this module
 * inside the app's bundle, where import.meta.url is the bundle's.
 */
export function benchCacheDir(): string {
  return join(dirname(fileURLToPath(import.meta.url)), '..', '.cache');
}


/** `size` distinct pseudo-words of lowercase letters, 2–12 long, sorted by length (stable): rank 0 is the shortest. */
export function vocabulary(random: () => number, size: number): string[] {
  const seen = new Set<string>();
  const words: string[] = [];
  while (words.length < size) {
    const length = 2 + Math.floor(random() * 11);
    let word = '';
    for (let i = 0; i < length; i++) word += String.fromCharCode(97 + Math.floor(random() * 26));
    if (seen.has(word)) continue;
    seen.add(word);
    words.push(word);
  }
  return words.sort((a, b) => a.length - b.length);
}

/** The CDF of Zipf(s) over ranks 0…n−1 (rank r has weight 1/(r+1)^s); the last entry is exactly 1. */
export function zipfCdf(n: number, s: number): Float64Array {
  const cdf = new Float64Array(n);
  let sum = 0;
  for (let r = 0; r < n; r++) cdf[r] = sum += 1 / Math.pow(r + 1, s);
  for (let r = 0; r < n; r++) cdf[r] = (cdf[r] as number) / sum;
  cdf[n - 1] = 1;
  return cdf;
}

/** The first rank whose CDF entry exceeds u (u in [0, 1)). */
export function sampleRank(cdf: Float64Array, u: number): number {
  let lo = 0;
  let hi = cdf.length - 1;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((cdf[mid] as number) > u) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}

export interface CorpusManifest {
  readonly version: number;
  readonly seed: number;
  readonly mb: number;
  readonly files: ReadonlyArray<{ readonly name: string; readonly bytes: number }>;
  /** Words written in all, and distinct words among them: what every word count must find. */
  readonly words: number;
  readonly distinctWords: number;
  readonly generateMs: number;
}

export interface Corpus extends CorpusManifest {
  readonly dir: string;
  /** Absolute paths of the files, in order. */
  readonly paths: readonly string[];
  /** A glob matching exactly the corpus files (for textFile and Dask's read_text). */
  readonly glob: string;
  /** False when the files came from the cache. */
  readonly generated: boolean;
}

const MANIFEST = 'manifest.json';
const fileName = (i: number): string => `corpus-${String(i).padStart(2, '0')}.txt`;

function cached(dir: string, seed: number, mb: number): CorpusManifest | undefined {
  try {
    const m = JSON.parse(readFileSync(join(dir, MANIFEST), 'utf8')) as CorpusManifest;
    if (m.version !== GENERATOR_VERSION || m.seed !== seed || m.mb !== mb) return undefined;
    return m.files.every((f) => statSync(join(dir, f.name)).size === f.bytes) ? m : undefined;
  } catch {
    return undefined;
  }
}

/** The corpus of `mb` MiB (in CORPUS_FILES files of mb/CORPUS_FILES MiB or a line more): from the cache, or generated. */
export function ensureCorpus(mb: number, seed: number = CORPUS_SEED, cacheDir: string = benchCacheDir()): Corpus {
  const dir = join(cacheDir, `corpus-${seed}-${mb}`);
  let manifest = cached(dir, seed, mb);
  const generated = manifest === undefined;
  if (manifest === undefined) {
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir, { recursive: true });
    manifest = generateCorpus(dir, mb, seed);
    writeFileSync(join(dir, MANIFEST), `${JSON.stringify(manifest, null, 2)}\n`); // last: it marks the corpus complete
  }
  const paths = manifest.files.map((f) => join(dir, f.name));
  return { ...manifest, dir, paths, glob: join(dir, 'corpus-*.txt'), generated };
}

function generateCorpus(dir: string, mb: number, seed: number): CorpusManifest {
  const start = performance.now();
  const random = mulberry32(seed);
  const words = vocabulary(random, VOCABULARY_SIZE);
  // All words' bytes back to back, with offsets: copying bytes from here is the generator's inner loop.
  const bytes = Buffer.from(words.join(''), 'latin1');
  const offsets = new Int32Array(words.length + 1);
  for (let r = 0; r < words.length; r++) offsets[r + 1] = (offsets[r] as number) + (words[r] as string).length;
  const cdf = zipfCdf(words.length, ZIPF_S);
  const seen = new Uint8Array(words.length);
  const targetBytes = Math.ceil((mb * 1024 * 1024) / CORPUS_FILES);
  const files: Array<{ name: string; bytes: number }> = [];
  let total = 0;
  for (let f = 0; f < CORPUS_FILES; f++) {
    // A line is at most 16 × 13 bytes: room for one more past the target.
    const out = Buffer.allocUnsafe(targetBytes + 16 * 13);
    let at = 0;
    while (at < targetBytes) {
      const n = 8 + Math.floor(random() * 9);
      for (let w = 0; w < n; w++) {
        const r = sampleRank(cdf, random());
        seen[r] = 1;
        const end = offsets[r + 1] as number;
        for (let b = offsets[r] as number; b < end; b++) out[at++] = bytes[b] as number;
        out[at++] = w === n - 1 ? 10 : 32;
      }
      total += n;
    }
    writeFileSync(join(dir, fileName(f)), out.subarray(0, at));
    files.push({ name: fileName(f), bytes: at });
  }
  const distinctWords = seen.reduce((n, s) => n + s, 0);
  return { version: GENERATOR_VERSION, seed, mb, files, words: total, distinctWords, generateMs: Math.round(performance.now() - start) };
}

// ---- key-value pairs ----------------------------------------------------------------------------------------

/** murmur3's 32-bit finaliser: a bijection on 32-bit integers that mixes every bit. */
export function hash32(i: number): number {
  let h = i >>> 0;
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

/** Pairs sorted by (b): 10 million. */
export const SORT_PAIRS = 10_000_000;
/** The join's sides: JOIN_LEFT pairs keyed in [0, JOIN_RIGHT), and JOIN_RIGHT pairs keyed 0…JOIN_RIGHT−1. */
export const JOIN_LEFT = 10_000_000;
export const JOIN_RIGHT = 1_000_000;

/**
 * The sort's key of pair i: 29 bits of a hash of i (a small integer to V8, and key · 2^24 + i stays an exact
 * double for i < 2^24, which the typed-array baseline uses). Its value is i.
 */
export function pairKey(i: number): number {
  return hash32(i) >>> 3;
}

/** The key of the join's left pair i, in [0, JOIN_RIGHT); its value is i. */
export function joinLeftKey(i: number): number {
  return hash32(i ^ 0x5bd1e995) % JOIN_RIGHT;
}

/** The value of the join's right pair keyed k (k in [0, JOIN_RIGHT)). */
export function joinRightValue(k: number): number {
  return k * 2 + 1;
}
