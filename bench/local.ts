// Flint's local-mode benchmark: `npm run bench:local` (issue 15, docs/local-mode.md, docs/benchmarks.md).
//
// What local mode costs against a plain loop: 1,000,000 records in the driver's memory mapped by one function, the
// results back in the driver's memory.
//   - plain: `records.map(fn)` in this process;
//   - local mode: `flint.parallelize(records).map(fn).collect()` on a context of `local[N]` in this process, for
//     N = 1 (the same one core as the loop) and N = FLINT_BENCH_THREADS (default: the cores, local[*]).
// Two kinds of records: numbers (`double`) and small objects (`{ id, name, score }` → `rescore`). Each context
// first runs FLINT_BENCH_WARMUP (2) rounds that are not counted (V8 optimises both sides), then FLINT_BENCH_ROUNDS
// (7) rounds, each the loop then the job, back to back; the figure is the median over rounds of job ÷ loop.
// Target (issue 15): ≤ 3× for numbers on local[*]. Prints a table, then, as the last line, one JSON object with
// the figures, the CPU model and a calibration.

import { availableParallelism } from 'node:os';
import { FlintContext, runApp } from 'flint';
import { benchJson, measureMachine } from './lib/machine.ts';
import { exitAfter, formatTable, intFromEnv, median } from './lib/stats.ts';

const RECORDS = intFromEnv('FLINT_BENCH_RECORDS', 1_000_000);
const ROUNDS = intFromEnv('FLINT_BENCH_ROUNDS', 7);
const WARMUP = intFromEnv('FLINT_BENCH_WARMUP', 2);
const THREADS = intFromEnv('FLINT_BENCH_THREADS', availableParallelism());

export function double(x: number): number {
  return x * 2;
}

interface Player {
  readonly id: number;
  readonly name: string;
  readonly score: number;
}

export function rescore(p: Player): Player {
  return { id: p.id, name: p.name, score: p.score * 1.5 + 1 };
}

interface Kind<T> {
  readonly name: string;
  readonly records: readonly T[];
  readonly fn: (record: T) => T;
}

interface Row {
  readonly kind: string;
  readonly threads: number;
  readonly loopMs: number;
  readonly jobMs: number;
  readonly ratio: number;
}

/** The loop, then the job, `WARMUP + ROUNDS` times; checks the job's result equals the loop's each round. */
async function measure<T>(flint: FlintContext, threads: number, kind: Kind<T>): Promise<Row> {
  const loops: number[] = [];
  const jobs: number[] = [];
  const ratios: number[] = [];
  for (let round = 0; round < WARMUP + ROUNDS; round++) {
    let start = performance.now();
    const plain = kind.records.map(kind.fn);
    const loopMs = performance.now() - start;
    start = performance.now();
    const collected = await flint.parallelize(kind.records, threads).map(kind.fn).collect();
    const jobMs = performance.now() - start;
    if (collected.length !== plain.length || JSON.stringify(collected[RECORDS - 1]) !== JSON.stringify(plain[RECORDS - 1])) {
      throw new Error(`local[${threads}] ${kind.name}: the job's result differs from the loop's`);
    }
    if (round < WARMUP) continue;
    loops.push(loopMs);
    jobs.push(jobMs);
    ratios.push(jobMs / loopMs);
  }
  return { kind: kind.name, threads, loopMs: median(loops), jobMs: median(jobs), ratio: median(ratios) };
}

runApp(async () => {
  exitAfter(600_000, 'bench:local');
  const machine = await measureMachine();
  const numbers = Array.from({ length: RECORDS }, (_, i) => i);
  const players = Array.from({ length: RECORDS }, (_, i): Player => ({ id: i, name: `player-${i % 1000}`, score: i % 97 }));
  const kinds = [
    { name: 'numbers', records: numbers, fn: double },
    { name: 'objects', records: players, fn: rescore },
  ] as const;
  const rows: Row[] = [];
  for (const threads of [...new Set([1, THREADS])]) {
    const flint = await FlintContext.create({ master: `local[${threads}]`, appName: 'bench:local', conf: { 'flint.ui.enabled': false }, progress: false });
    try {
      rows.push(await measure(flint, threads, kinds[0]));
      rows.push(await measure(flint, threads, kinds[1]));
    } finally {
      await flint.stop();
    }
  }
  const fixed = (n: number, digits = 1): string => n.toFixed(digits);
  console.log(
    formatTable(
      ['records', 'master', 'plain loop ms', 'local mode ms', 'local ÷ loop'],
      rows.map((r) => [r.kind, `local[${r.threads}]`, fixed(r.loopMs), fixed(r.jobMs), `${fixed(r.ratio, 2)}×`]),
    ),
  );
  console.log(`${RECORDS} records, medians of ${ROUNDS} rounds after ${WARMUP} not counted; target ≤ 3× for numbers on local[${THREADS}]`);
  const figure = (kind: string, threads: number): Row => rows.find((r) => r.kind === kind && r.threads === threads) as Row;
  const figures = {
    records: RECORDS,
    threads: THREADS,
    numbersLoopMs: Number(fixed(figure('numbers', THREADS).loopMs)),
    numbersLocalMs: Number(fixed(figure('numbers', THREADS).jobMs)),
    numbersOverhead: Number(fixed(figure('numbers', THREADS).ratio, 2)),
    numbersOneThreadOverhead: Number(fixed(figure('numbers', 1).ratio, 2)),
    objectsLoopMs: Number(fixed(figure('objects', THREADS).loopMs)),
    objectsLocalMs: Number(fixed(figure('objects', THREADS).jobMs)),
    objectsOverhead: Number(fixed(figure('objects', THREADS).ratio, 2)),
    objectsOneThreadOverhead: Number(fixed(figure('objects', 1).ratio, 2)),
  };
  console.log(benchJson(figures, machine));
});
