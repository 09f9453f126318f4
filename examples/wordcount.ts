// Word count over text files (by default one that ships with Flint: Charles Dickens, "A Tale of Two Cities",
// chapter 1), written out as text and then ranked.
//
//   bin/flint submit --master flint://127.0.0.1:7077 examples/wordcount.ts [file|dir|glob] [top] [outDir]
//
// The executors read the file in byte ranges (`textFile`), split lines into words (`words`), pair each word
// with 1 (`toPair`) and sum the pairs by word (`reduceByKey(add)`: summed on the map side first, then shuffled).
// The counts are saved as `word<TAB>count` lines in outDir (default: a new temp dir, printed first); then the
// same counts, whose shuffle output is reused, are sorted by count (descending, ties by word) and the top
// words printed.

import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FlintContext, runApp } from 'flint';

/** Lower-cased words of one line: letters and apostrophes. */
export function words(line: string): string[] {
  return line.toLowerCase().match(/[a-z']+/g) ?? [];
}

export function toPair(word: string): [string, number] {
  return [word, 1];
}

export function add(a: number, b: number): number {
  return a + b;
}

/** One line of the saved output. */
export function formatCount([word, n]: [string, number]): string {
  return `${word}\t${n}`;
}

/** The sort key: the highest count first, then words in order (arrays sort element by element). */
export function byCountDescending([word, n]: [string, number]): [number, string] {
  return [-n, word];
}

runApp(async (args) => {
  const input = args[0] ?? new URL('./data/two-cities.txt', import.meta.url).pathname;
  const top = Number(args[1] ?? 10);
  if (!Number.isSafeInteger(top) || top < 0) throw new Error(`usage: wordcount.ts [file|dir|glob] [top ≥ 0] [outDir], got: ${args.join(' ')}`);
  const outDir = args[2] ?? join(mkdtempSync(join(tmpdir(), 'flint-wordcount-')), 'counts');
  const flint = await FlintContext.create({ appName: 'Flint WordCount' });
  try {
    const counts = flint.textFile(input).flatMap(words).map(toPair).reduceByKey(add);
    await counts.map(formatCount).saveAsTextFile(outDir);
    console.log(`Counts written to ${outDir}`);
    const distinct = await counts.count();
    const total = await counts.values().fold(0, add);
    const ranked = await counts.sortBy(byCountDescending).take(top);
    console.log(`${distinct} distinct words, ${total} in all; the ${ranked.length} most frequent:`);
    for (const [word, n] of ranked) console.log(`${String(n).padStart(6)}  ${word}`);
  } finally {
    await flint.stop();
  }
});
