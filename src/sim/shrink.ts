// Shrinking a failing run (after QuickCheck's shrinking and Zeller's delta debugging): the same seed is run again
// with parts of its fault schedule left out, and a part stays out when the run still breaks the same invariant.
// Chunks of half the schedule are tried first, then smaller ones down to single faults, so a schedule of n faults
// shrinks in O(n log n) runs at most. What is left is a schedule in which every fault is needed for the failure.

import { runSimulation, type Fault, type SimOptions, type SimResult } from './cluster.ts';

export interface Shrunk {
  readonly schedule: readonly Fault[];
  /** The failing run of the shrunk schedule. */
  readonly result: SimResult;
  readonly runs: number;
}

/** At most this many runs are spent shrinking. */
const MAX_RUNS = 400;

export async function shrinkSchedule(options: SimOptions, failed: SimResult): Promise<Shrunk> {
  const invariant = failed.violations[0]?.invariant;
  if (invariant === undefined) throw new Error(`seed ${options.seed} did not fail: nothing to shrink`);
  let schedule = [...failed.schedule];
  let result = failed;
  let runs = 0;
  for (let chunk = Math.max(1, Math.ceil(schedule.length / 2)); chunk >= 1 && runs < MAX_RUNS; chunk = chunk === 1 ? 0 : Math.ceil(chunk / 2)) {
    for (let i = 0; i < schedule.length && runs < MAX_RUNS; ) {
      const candidate = [...schedule.slice(0, i), ...schedule.slice(i + chunk)];
      runs += 1;
      const run = await runSimulation({ ...options, schedule: candidate, keepTrace: false });
      if (run.violations[0]?.invariant === invariant) {
        schedule = candidate;
        result = run;
      } else {
        i += chunk;
      }
    }
  }
  return { schedule, result, runs };
}
