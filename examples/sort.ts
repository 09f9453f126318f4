// A distributed sort: N generated key-value records sorted by key across partitions, checked on the executors.
//
//   bin/flint submit --master flint://127.0.0.1:7077 examples/sort.ts [records] [partitions]
//
// `flint.range(0, N)` makes the numbers 0 … N-1 on the executors, and `toRecord` turns each into
// [pseudo-random key below 1,000,000, the number]. `sortByKey` samples the keys to find P key ranges (Spark's
// RangePartitioner), shuffles each record to its range and sorts every range. `summarize` then runs on each
// sorted partition, on its executor, and returns one line about it: its count, first and last key, whether its
// keys are in order and the sum of its values; the driver checks that each partition's keys come before the
// next one's and that no record was lost or doubled. Last, `sortBy` orders a few strings two ways.

import { FlintContext, runApp, type PartitionRecords } from 'flint';

export interface PartitionSummary {
  readonly partition: number;
  readonly count: number;
  readonly first: number | undefined;
  readonly last: number | undefined;
  readonly inOrder: boolean;
  readonly valueSum: number;
}

/** [key, i]: a multiplicative hash of i spreads the keys (some repeat) over 0 … 999,999. */
export function toRecord(i: number): [number, number] {
  return [(Math.imul(i + 1, 0x9e3779b1) >>> 0) % 1_000_000, i];
}

export function summarize(records: PartitionRecords<[number, number]>, partition: number): PartitionSummary[] {
  let count = 0;
  let first: number | undefined;
  let last: number | undefined;
  let inOrder = true;
  let valueSum = 0;
  for (const [key, value] of records) {
    if (last !== undefined && key < last) inOrder = false;
    first ??= key;
    last = key;
    count++;
    valueSum += value;
  }
  return [{ partition, count, first, last, inOrder, valueSum }];
}

export function identity(s: string): string {
  return s;
}

export function lowerCase(s: string): string {
  return s.toLowerCase();
}

const FRUIT = ['pear', 'Apple', 'fig', 'banana', 'Cherry', 'apricot', 'date', 'Elderberry', 'grape', 'kiwi', 'Lime', 'mango'];

runApp(async (args) => {
  const records = Number(args[0] ?? 200_000);
  const partitions = Number(args[1] ?? 4);
  if (!Number.isSafeInteger(records) || records < 1 || !Number.isSafeInteger(partitions) || partitions < 1) {
    throw new Error(`usage: sort.ts [records ≥ 1] [partitions ≥ 1], got: ${args.join(' ')}`);
  }
  const flint = await FlintContext.create({ appName: 'Flint Sort' });
  try {
    const sorted = flint.range(0, records, 1, partitions).map(toRecord).sortByKey(true, partitions);
    const summaries = await sorted.mapPartitions(summarize).collect();
    console.log(`sortByKey of ${records} records into ${partitions} partitions:`);
    for (const s of summaries) {
      console.log(`  partition ${s.partition}: ${s.count} records, keys ${s.first ?? '-'} … ${s.last ?? '-'}${s.inOrder ? '' : ', OUT OF ORDER'}`);
    }
    const problems = checkSummaries(summaries, records);
    if (problems.length > 0) throw new Error(`the sort is wrong: ${problems.join('; ')}`);
    const nonEmpty = summaries.filter((s) => s.count > 0);
    console.log(
      `Sorted: every partition in order, each before the next; ${records} records, none lost or doubled; keys ${nonEmpty[0]?.first} … ${nonEmpty.at(-1)?.last}`,
    );

    const fruit = flint.parallelize(FRUIT, 3);
    console.log(`sortBy(identity): ${(await fruit.sortBy(identity, true, 2).collect()).join(' ')}`);
    console.log(`sortBy(lowerCase, descending): ${(await fruit.sortBy(lowerCase, false, 2).collect()).join(' ')}`);
  } finally {
    await flint.stop();
  }
});

/** What is wrong with the sorted partitions: order within and across them, and the records they hold. */
function checkSummaries(summaries: readonly PartitionSummary[], records: number): string[] {
  const problems = summaries.filter((s) => !s.inOrder).map((s) => `partition ${s.partition} is out of order`);
  const nonEmpty = summaries.filter((s) => s.count > 0);
  for (let i = 1; i < nonEmpty.length; i++) {
    const [before, after] = [nonEmpty[i - 1] as PartitionSummary, nonEmpty[i] as PartitionSummary];
    // Equal keys go to the same range, so the next partition's first key is strictly greater.
    if (!((after.first as number) > (before.last as number))) problems.push(`partition ${after.partition} starts at ${after.first}, not after ${before.last}`);
  }
  const count = summaries.reduce((n, s) => n + s.count, 0);
  if (count !== records) problems.push(`${count} records instead of ${records}`);
  const valueSum = summaries.reduce((n, s) => n + s.valueSum, 0);
  if (valueSum !== (records * (records - 1)) / 2) problems.push(`the values sum to ${valueSum}, not 0 + 1 + … + ${records - 1}`);
  return problems;
}
