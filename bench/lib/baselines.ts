// The single-threaded baselines of bench:shuffle (McSherry et al.'s COST: a cluster must first beat one good
// thread). Each runs in a child process of its own, a fresh Node with its own heap, as Flint's executors are:
//
//   node bench/lib/baselines.ts wordcount <out file> <files…>   [FLINT_BENCH_TOKENIZER=scan|lines|regex]
//   node bench/lib/baselines.ts sort packed|tuples
//   node bench/lib/baselines.ts join
//
// and prints one JSON line (a BaselineResult) on stdout. `ms` is the work alone, timed inside the child (not
// Node's start-up), as Flint's figures are a job's time on running executors.

import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { JOIN_LEFT, JOIN_RIGHT, SORT_PAIRS, joinLeftKey, joinRightValue, pairKey } from './corpus.ts';

export interface BaselineResult {
  readonly ms: number;
  /** The child's peak RSS, in MiB. */
  readonly maxRssMb: number;
  /** wordcount: words counted and distinct words; sort: pairs; join: output pairs. */
  readonly count: number;
  readonly distinct?: number;
  /** sort: the sum of the values in sorted order checked (every pair there once); join: Σ (left value + right value). */
  readonly checksum?: number;
  readonly variant: string;
}

// ---- (a) word count ---------------------------------------------------------------------------------------

/** Counts the words of `text` (separated by single spaces and newlines) into `counts`: one pass over char codes. */
export function countWordsScan(text: string, counts: Map<string, number>): void {
  let start = 0;
  const n = text.length;
  for (let i = 0; i < n; i++) {
    const c = text.charCodeAt(i);
    if (c === 32 || c === 10) {
      if (i > start) {
        const word = text.slice(start, i);
        counts.set(word, (counts.get(word) ?? 0) + 1);
      }
      start = i + 1;
    }
  }
  if (n > start) {
    const word = text.slice(start);
    counts.set(word, (counts.get(word) ?? 0) + 1);
  }
}

/** The same with `split('\n')`, then `split(' ')` per line. */
export function countWordsLines(text: string, counts: Map<string, number>): void {
  for (const line of text.split('\n')) {
    if (line === '') continue;
    for (const word of line.split(' ')) {
      if (word !== '') counts.set(word, (counts.get(word) ?? 0) + 1);
    }
  }
}

/** The same with one `split(/\s+/)` of the whole file. */
export function countWordsRegex(text: string, counts: Map<string, number>): void {
  for (const word of text.split(/\s+/)) {
    if (word !== '') counts.set(word, (counts.get(word) ?? 0) + 1);
  }
}

const TOKENIZERS = { scan: countWordsScan, lines: countWordsLines, regex: countWordsRegex } as const;
export type Tokenizer = keyof typeof TOKENIZERS;
/** The fastest of the three on the development machine (docs/benchmarks.md, bench:shuffle). */
export const DEFAULT_TOKENIZER: Tokenizer = 'scan';

/** Word count over whole files read at once, one Map; writes `word,count` lines, as saveAsTextFile writes `[word, count]`. */
function wordCount(outFile: string, files: readonly string[], tokenizer: Tokenizer): BaselineResult {
  const count = TOKENIZERS[tokenizer];
  const start = performance.now();
  const counts = new Map<string, number>();
  for (const file of files) count(readFileSync(file, 'utf8'), counts);
  const lines: string[] = [];
  let total = 0;
  for (const [word, n] of counts) {
    lines.push(`${word},${n}\n`);
    total += n;
  }
  writeFileSync(outFile, lines.join(''));
  return { ms: performance.now() - start, maxRssMb: maxRssMb(), count: total, distinct: counts.size, variant: tokenizer };
}

// ---- (b) sort ---------------------------------------------------------------------------------------------

/**
 * `packed`: key · 2^24 + value in a Float64Array (exact: keys have 29 bits, values are below 2^24), sorted by
 * the typed array's native numeric sort, then unpacked into keys and values. `tuples`: an array of [key, value]
 * sorted with a comparator. Both check the order and sum the values as they read the result back.
 */
function sort(variant: 'packed' | 'tuples'): BaselineResult {
  const n = SORT_PAIRS;
  if (n > 2 ** 24) throw new Error('the packed sort needs values below 2^24');
  const start = performance.now();
  let ok = true;
  let checksum = 0;
  if (variant === 'packed') {
    const packed = new Float64Array(n);
    for (let i = 0; i < n; i++) packed[i] = pairKey(i) * 16_777_216 + i;
    packed.sort();
    const keys = new Uint32Array(n);
    const values = new Uint32Array(n);
    for (let i = 0; i < n; i++) {
      const x = packed[i] as number;
      const key = Math.floor(x / 16_777_216);
      keys[i] = key;
      values[i] = x - key * 16_777_216;
    }
    for (let i = 0; i < n; i++) {
      if (i > 0 && (keys[i - 1] as number) > (keys[i] as number)) ok = false;
      checksum += values[i] as number;
    }
  } else {
    const pairs: Array<[number, number]> = new Array(n);
    for (let i = 0; i < n; i++) pairs[i] = [pairKey(i), i];
    pairs.sort((a, b) => a[0] - b[0]);
    for (let i = 0; i < n; i++) {
      const p = pairs[i] as [number, number];
      if (i > 0 && (pairs[i - 1] as [number, number])[0] > p[0]) ok = false;
      checksum += p[1];
    }
  }
  const ms = performance.now() - start;
  if (!ok) throw new Error(`the ${variant} sort is out of order`);
  return { ms, maxRssMb: maxRssMb(), count: n, checksum, variant };
}

// ---- (c) hash join ----------------------------------------------------------------------------------------

/** Builds a Map from the 1M side, streams the 10M side through it; counts the output pairs, sums their values. */
function join(): BaselineResult {
  const start = performance.now();
  const right = new Map<number, number>();
  for (let k = 0; k < JOIN_RIGHT; k++) right.set(k, joinRightValue(k));
  let count = 0;
  let checksum = 0;
  for (let i = 0; i < JOIN_LEFT; i++) {
    const w = right.get(joinLeftKey(i));
    if (w !== undefined) {
      count++;
      checksum += i + w;
    }
  }
  return { ms: performance.now() - start, maxRssMb: maxRssMb(), count, checksum, variant: 'Map' };
}

function maxRssMb(): number {
  return process.resourceUsage().maxRSS / 1024;
}

function main(argv: readonly string[]): BaselineResult {
  const [kind, ...rest] = argv;
  if (kind === 'wordcount') {
    const [outFile, ...files] = rest;
    const tokenizer = (process.env['FLINT_BENCH_TOKENIZER'] ?? DEFAULT_TOKENIZER) as Tokenizer;
    if (outFile === undefined || files.length === 0 || !(tokenizer in TOKENIZERS)) throw new Error('usage: wordcount <out file> <files…>');
    return wordCount(outFile, files, tokenizer);
  }
  if (kind === 'sort' && (rest[0] === 'packed' || rest[0] === 'tuples')) return sort(rest[0]);
  if (kind === 'join') return join();
  throw new Error(`unknown baseline ${JSON.stringify(argv)}`);
}

if (process.argv[1] === fileURLToPath(import.meta.url)) console.log(JSON.stringify(main(process.argv.slice(2))));
