// bench:shuffle's runs of the single-threaded baselines (bench/lib/baselines.ts, each in a child process) and
// its checks of every result against the corpus's manifest and against each other.

import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { BaselineResult } from './baselines.ts';

const BASELINES = join(dirname(fileURLToPath(import.meta.url)), 'baselines.ts');

/** Runs `node bench/lib/baselines.ts <args…>` (a fresh process, its own heap) and returns its JSON line. */
export function runBaseline(args: readonly string[]): BaselineResult {
  const out = execFileSync(process.execPath, [BASELINES, ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], maxBuffer: 1 << 20 });
  return JSON.parse(out.trim().split('\n').at(-1) ?? '') as BaselineResult;
}

export function expectEqual(what: string, got: number | undefined, expected: number): void {
  if (got !== expected) throw new Error(`${what}: got ${got}, expected ${expected}`);
}

/** `word,count` lines (String([word, count]), as saveAsTextFile writes a pair) into a map; a word twice is an error. */
function parseCounts(text: string, into: Map<string, number>, where: string): void {
  for (const line of text.split('\n')) {
    if (line === '') continue;
    const comma = line.lastIndexOf(',');
    const word = line.slice(0, comma);
    const n = Number(line.slice(comma + 1));
    if (comma <= 0 || !Number.isSafeInteger(n) || n <= 0) throw new Error(`${where}: a malformed line ${JSON.stringify(line.slice(0, 80))}`);
    if (into.has(word)) throw new Error(`${where}: the word ${JSON.stringify(word)} appears twice`);
    into.set(word, n);
  }
}

/** The counts a saveAsTextFile wrote into `dir` (its part-NNNNN files, after checking its _SUCCESS marker). */
export function readSavedCounts(dir: string): Map<string, number> {
  if (!existsSync(join(dir, '_SUCCESS'))) throw new Error(`${dir} has no _SUCCESS marker`);
  const parts = readdirSync(dir).filter((f) => /^part-\d{5}$/.test(f));
  if (parts.length === 0) throw new Error(`${dir} has no part files`);
  const counts = new Map<string, number>();
  for (const part of parts) parseCounts(readFileSync(join(dir, part), 'utf8'), counts, join(dir, part));
  return counts;
}

export function readCountsFile(file: string): Map<string, number> {
  const counts = new Map<string, number>();
  parseCounts(readFileSync(file, 'utf8'), counts, file);
  return counts;
}

/** Throws unless both word counts hold the same words with the same counts. */
export function expectSameCounts(what: string, got: ReadonlyMap<string, number>, expected: ReadonlyMap<string, number>): void {
  expectEqual(`${what}: distinct words`, got.size, expected.size);
  for (const [word, n] of expected) {
    if (got.get(word) !== n) throw new Error(`${what}: ${JSON.stringify(word)} counted ${got.get(word)}, expected ${n}`);
  }
}

/** What checkSorted (bench/shuffle.ts) reports for one partition of the sorted pairs. */
export type SortedPartition = [count: number, firstKey: number, lastKey: number, sorted: boolean, valueSum: number];

/** Throws unless the partitions, in collect's order (partition order), hold `n` pairs in key order whose values sum to `valueSum`. */
export function expectSorted(parts: readonly SortedPartition[], n: number, valueSum: number): void {
  let count = 0;
  let sum = 0;
  let lastKey = -1;
  parts.forEach(([c, first, last, sorted, values], partition) => {
    if (!sorted) throw new Error(`sortByKey: partition ${partition} is out of order`);
    if (c > 0 && first < lastKey) throw new Error(`sortByKey: partition ${partition} starts at key ${first}, below the previous partition's ${lastKey}`);
    if (c > 0) lastKey = last;
    count += c;
    sum += values;
  });
  expectEqual('sortByKey: pairs', count, n);
  expectEqual('sortByKey: the sum of the values', sum, valueSum);
}
