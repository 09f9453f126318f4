// Word count over a text file that ships with Flint (Charles Dickens, "A Tale of Two Cities", chapter 1).
//
//   bin/flint submit --master flint://127.0.0.1:7077 examples/wordcount.ts [file] [top]
//
// The driver reads the lines and spreads them over the executors; each task counts the words of its lines
// (`countWords`), and the driver merges the partial counts and prints the most frequent words.

import { readFileSync } from 'node:fs';
import { FlintContext, runApp } from 'flint';

/** Lower-cased words of one line: letters and apostrophes. */
export function words(line: string): string[] {
  return line.toLowerCase().match(/[a-z']+/g) ?? [];
}

/** Counts the words of one partition's lines, as [word, count] pairs. */
export function countWords(lines: Iterable<string>): Array<[string, number]> {
  const counts = new Map<string, number>();
  for (const line of lines) for (const word of words(line)) counts.set(word, (counts.get(word) ?? 0) + 1);
  return [...counts];
}

runApp(async (args) => {
  const file = args[0] ?? new URL('./data/two-cities.txt', import.meta.url).pathname;
  const top = Number(args[1] ?? 10);
  const lines = readFileSync(file, 'utf8').split('\n');
  const flint = await FlintContext.create({ appName: 'Flint WordCount' });
  try {
    const partial = await flint.parallelize(lines, 4).mapPartitions(countWords).collect();
    const totals = new Map<string, number>();
    for (const [word, n] of partial) totals.set(word, (totals.get(word) ?? 0) + n);
    const sorted = [...totals].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));
    console.log(`${totals.size} distinct words, ${sorted.reduce((s, [, n]) => s + n, 0)} in all; the ${top} most frequent:`);
    for (const [word, n] of sorted.slice(0, top)) console.log(`${String(n).padStart(6)}  ${word}`);
  } finally {
    await flint.stop();
  }
});
