// The simulator's sweep as a benchmark (issue 10; docs/benchmarks.md, docs/architecture.md): seeds of a cluster
// with 3 masters (ZooKeeper), 20 workers and 5 applications, each run at least 10 simulated minutes long with
// faults through its first part, spread over one worker thread per core.
//
//   npm run bench:sim                         10,000 seeds (the target: ≤ 10 minutes, 0 violations)
//   SIM_SEEDS=400 npm run bench:sim           fewer seeds
//   SIM_THREADS=1 npm run bench:sim           one thread
//
// It prints a table, each failing seed with its replay command, and as its last line one JSON object: seeds,
// violations, failingSeeds, wallSeconds, seedsPerSecond, simSecondsPerWallSecond, the CPU model, the Node version
// and a calibration figure (a fixed CPU loop, in ms).

import { availableParallelism } from 'node:os';
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import { BENCH_SHAPE, benchOptions, runSimulation } from '../src/sim/cluster.ts';
import { benchJson, measureMachine } from './lib/machine.ts';
import { formatTable, intFromEnv } from './lib/stats.ts';

interface SeedOutcome {
  readonly seed: number;
  readonly simulatedMs: number;
  readonly steps: number;
  readonly jobs: number;
  readonly violation: string | undefined;
}

async function runSeeds(seeds: readonly number[]): Promise<SeedOutcome[]> {
  const out: SeedOutcome[] = [];
  for (const seed of seeds) {
    const r = await runSimulation(benchOptions(seed));
    const v = r.violations[0];
    out.push({ seed, simulatedMs: r.simulatedMs, steps: r.steps, jobs: r.jobs.submitted, violation: v === undefined ? undefined : `${v.invariant}: ${v.detail}` });
  }
  return out;
}

async function main(): Promise<void> {
  const seedCount = intFromEnv('SIM_SEEDS', 10_000);
  const threads = Math.max(1, Math.min(intFromEnv('SIM_THREADS', availableParallelism()), seedCount));
  const machine = await measureMachine();
  const started = performance.now();
  const parts = await Promise.all(
    Array.from({ length: threads }, (_, t) => {
      const seeds = Array.from({ length: seedCount }, (_, i) => i + 1).filter((s) => s % threads === t);
      return new Promise<SeedOutcome[]>((resolve, reject) => {
        const worker = new Worker(new URL(import.meta.url), { workerData: seeds });
        worker.once('message', resolve);
        worker.once('error', reject);
      });
    }),
  );
  const wallSeconds = (performance.now() - started) / 1000;
  const outcomes = parts.flat().sort((a, b) => a.seed - b.seed);
  const failing = outcomes.filter((o) => o.violation !== undefined);
  const simulatedS = outcomes.reduce((n, o) => n + o.simulatedMs, 0) / 1000;
  const minSimS = Math.min(...outcomes.map((o) => o.simulatedMs)) / 1000;
  const steps = outcomes.reduce((n, o) => n + o.steps, 0);
  const jobs = outcomes.reduce((n, o) => n + o.jobs, 0);
  for (const f of failing) console.log(`seed ${f.seed}: ${f.violation}\n  replay: npm run sim -- --seed ${f.seed} --bench-shape`);
  console.log(
    formatTable(
      ['seeds', 'threads', 'violations', 'wall s', 'seeds/s', 'sim s / wall s', 'shortest run (sim s)', 'steps', 'jobs'],
      [[String(outcomes.length), String(threads), String(failing.length), wallSeconds.toFixed(1), (outcomes.length / wallSeconds).toFixed(1), (simulatedS / wallSeconds).toFixed(0), minSimS.toFixed(0), String(steps), String(jobs)]],
    ),
  );
  console.log(
    benchJson({
      seeds: outcomes.length,
      violations: failing.length,
      failingSeeds: failing.slice(0, 100).map((f) => f.seed),
      wallSeconds: Math.round(wallSeconds * 10) / 10,
      seedsPerSecond: Math.round((outcomes.length / wallSeconds) * 100) / 100,
      simSecondsPerWallSecond: Math.round(simulatedS / wallSeconds),
      minSimulatedSeconds: Math.round(minSimS),
      shape: BENCH_SHAPE,
      threads,
      targetMet: outcomes.length >= 10_000 && failing.length === 0 && wallSeconds <= 600,
    }, machine),
  );
  process.exitCode = failing.length > 0 ? 1 : 0;
}

if (isMainThread) await main();
else parentPort?.postMessage(await runSeeds(workerData as number[]));
