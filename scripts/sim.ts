// The deterministic simulator of the whole cluster (src/sim, docs/architecture.md):
//
//   npm run sim -- --seed N           replays one seed, prints its faults and its whole trace, and when it fails,
//                                     shrinks its fault schedule to the faults the failure needs
//   npm run sim -- --seeds A..B       sweeps seeds A to B and prints each failing seed with its trace's end
//   npm run sim -- --seeds A..B --faults crash-worker,partition-worker   only these kinds of fault
//   --bench-shape                     the shape `npm run bench:sim` runs (3 masters, 20 workers, 5 apps, 10 min)
//
// The last line is one JSON object: seeds, violations, failingSeeds, wallSeconds, simSecondsPerWallSecond.

import { parseArgs } from 'node:util';
import { benchOptions, FAULT_KINDS, runSimulation, type Fault, type FaultKind, type SimOptions } from '../src/sim/cluster.ts';
import { shrinkSchedule } from '../src/sim/shrink.ts';

const { values } = parseArgs({
  options: {
    seed: { type: 'string' },
    seeds: { type: 'string' },
    faults: { type: 'string' },
    quiet: { type: 'boolean', default: false },
    'bench-shape': { type: 'boolean', default: false },
    'no-shrink': { type: 'boolean', default: false },
  },
  strict: true,
});

// A reader that stops early (`| head`) is not an error.
process.stdout.on('error', (err: NodeJS.ErrnoException) => {
  if (err.code === 'EPIPE') process.exit(process.exitCode ?? 0);
  throw err;
});

function fail(message: string): never {
  process.stderr.write(`sim: ${message}\n`);
  process.exit(2);
}

function range(): [number, number] {
  if (values.seed !== undefined) {
    const n = Number(values.seed);
    if (!Number.isSafeInteger(n) || n < 0) fail(`--seed ${values.seed}: expected a non-negative integer`);
    return [n, n];
  }
  const match = /^(\d+)\.\.(\d+)$/.exec(values.seeds ?? '1..100');
  if (match === null) fail(`--seeds ${values.seeds}: expected A..B, e.g. 1..10000`);
  const [from, to] = [Number(match[1]), Number(match[2])];
  if (to < from || to - from > 10_000_000) fail(`--seeds ${values.seeds}: expected A ≤ B, at most 10,000,000 seeds`);
  return [from, to];
}

const faultKinds = values.faults?.split(',').map((k) => {
  if (!(FAULT_KINDS as readonly string[]).includes(k)) fail(`--faults: "${k}" is not one of ${FAULT_KINDS.join(', ')}`);
  return k as FaultKind;
});
const describe = (f: Fault): string => `at ${(f.atMs / 1000).toFixed(3)} s ${f.kind} for ${f.forMs} ms (target ${f.target}, pick ${f.pick}${f.oneWay ? ', one way' : ''})`;
const [from, to] = range();
const single = values.seed !== undefined;
const started = performance.now();
let simulatedMs = 0;
let violations = 0;
const failingSeeds: number[] = [];
for (let seed = from; seed <= to; seed++) {
  const options: SimOptions = {
    ...(values['bench-shape'] ? benchOptions(seed) : { seed }),
    keepTrace: single,
    ...(faultKinds === undefined ? {} : { faultKinds }),
  };
  const result = await runSimulation(options);
  simulatedMs += result.simulatedMs;
  if (single) {
    const { masters, workers, cores, apps } = result.shape;
    process.stdout.write(
      `seed ${seed}: ${masters} master(s), ${workers} workers (${cores} cores), ${apps} apps, ${result.steps} steps, ${result.messages.sent} messages (${result.messages.lost} lost), ` +
        `${result.jobs.submitted} jobs (${result.jobs.succeeded} right, ${result.jobs.failed} failed)\nfaults:\n${result.faults.map((f) => `  ${f}`).join('\n')}\ntrace:\n${result.trace.join('\n')}\n`,
    );
  }
  if (result.violations.length > 0) {
    violations += result.violations.length;
    failingSeeds.push(seed);
    for (const v of result.violations) {
      process.stdout.write(`seed ${seed}: VIOLATION of "${v.invariant}" at ${(v.atMs / 1000).toFixed(3)} s, after ${v.step}\n  ${v.detail}\n`);
      if (!single && values.quiet !== true) process.stdout.write(`  last steps:\n${v.trace.map((l) => `    ${l}`).join('\n')}\n  replay: npm run sim -- --seed ${seed}\n`);
    }
    if (single && values['no-shrink'] !== true) {
      const shrunk = await shrinkSchedule(options, result);
      process.stdout.write(
        `shrunk in ${shrunk.runs} runs: ${result.schedule.length} faults down to ${shrunk.schedule.length} that still break "${shrunk.result.violations[0]?.invariant}":\n` +
          `${shrunk.schedule.map((f) => `  ${describe(f)}`).join('\n')}\n  and then: ${shrunk.result.violations[0]?.detail}\n` +
          `  the shrunk schedule, for runSimulation({ seed: ${seed}, schedule }): ${JSON.stringify(shrunk.schedule)}\n`,
      );
    }
  }
}
const wallSeconds = (performance.now() - started) / 1000;
const seeds = to - from + 1;
process.stdout.write(`${seeds} seed(s), ${failingSeeds.length} failing, ${(simulatedMs / 1000).toFixed(0)} simulated s in ${wallSeconds.toFixed(1)} s of wall time\n`);
process.stdout.write(`${JSON.stringify({ seeds, violations, failingSeeds: failingSeeds.slice(0, 100), wallSeconds: Math.round(wallSeconds * 10) / 10, simSecondsPerWallSecond: Math.round(simulatedMs / 1000 / wallSeconds) })}\n`);
process.exitCode = failingSeeds.length > 0 ? 1 : 0;
