// A job whose tasks fail, to watch Flint retry them (flint.task.maxFailures, 4 by default).
//
//   bin/flint submit --master flint://127.0.0.1:7077 examples/failing-task.ts [once|always] [markerDir]
//
// `once`: every task fails on its first attempt and succeeds when retried, so the job completes.
// `always`: task 3 fails every attempt, so the job fails with that task's error and stack from the executor.
// The first attempt leaves a marker file per record in markerDir (a temp dir by default, removed at the end), so
// a retry on the same machine knows it is a retry.

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FlintContext, runApp } from 'flint';

export interface Work {
  readonly n: number;
  readonly markerDir: string;
  readonly always: boolean;
}

/** Doubles `n`, failing the first attempt (or, with `always`, every attempt on n = 3). */
export function flakyDouble(work: Work): number {
  if (work.always && work.n === 3) throw new Error(`record ${work.n} always fails`);
  try {
    writeFileSync(join(work.markerDir, `record-${work.n}`), 'tried', { flag: 'wx' });
  } catch {
    return work.n * 2; // the marker exists: this is a retry
  }
  throw new Error(`simulated failure of record ${work.n} on its first attempt`);
}

export function sum(a: number, b: number): number {
  return a + b;
}

runApp(async (args) => {
  const mode = args[0] ?? 'once';
  if (mode !== 'once' && mode !== 'always') throw new Error(`usage: failing-task.ts [once|always] [markerDir], got ${mode}`);
  const markerDir = args[1] ?? mkdtempSync(join(tmpdir(), 'flint-flaky-'));
  try {
    const flint = await FlintContext.create({ appName: `Flint failing tasks (${mode})` });
    try {
      const work: Work[] = Array.from({ length: 8 }, (_, n) => ({ n, markerDir, always: mode === 'always' }));
      const total = await flint.parallelize(work, 8).map(flakyDouble).reduce(sum);
      console.log(`Sum of doubles: ${total} (expected ${8 * 7})`);
    } finally {
      await flint.stop();
    }
  } finally {
    // The markers of a directory this app made; one given on the command line is the caller's.
    if (args[1] === undefined) rmSync(markerDir, { recursive: true, force: true });
  }
});
