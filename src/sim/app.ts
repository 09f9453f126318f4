// The application the simulated drivers run: its exported task functions (what an app's main module exports, and
// executors resolve by name), and jobs drawn from the seed, each with the result a plain local evaluation gives.
// Records are few, so the real evaluation (src/task/evaluate-task.ts) costs little wall time; how long a task
// takes in simulated time is drawn separately (executor-process.ts).

import { decodeRecord } from '../task/index.ts';
import type { TaskSpec } from '../driver/index.ts';
import type { Rng } from '../kit/rng.ts';
import type { TaskAction, TaskOp } from '../protocol/task-messages.ts';

/** The app's exports, as executors resolve them (`TaskEnv.resolve`). */
export const SIM_APP_EXPORTS: Readonly<Record<string, unknown>> = {
  sq: (x: number) => x * x,
  add: (a: number, b: number) => a + b,
  even: (x: number) => x % 2 === 0,
  mult3: (x: number) => x % 3 === 0,
};

export interface SimJob {
  readonly name: string;
  readonly tasks: readonly TaskSpec[];
  /** The job's answer from the tasks' encoded results, in task order. */
  combine(results: readonly Uint8Array[]): unknown;
  /** What a plain local evaluation gives. */
  readonly expected: unknown;
}

function rangeTasks(n: number, partitions: number, ops: readonly TaskOp[], action: TaskAction): TaskSpec[] {
  const size = Math.ceil(n / partitions);
  return Array.from({ length: partitions }, (_, p) => ({
    partition: p,
    source: { kind: 'range', start: Math.min(n, p * size), end: Math.min(n, (p + 1) * size), step: 1 },
    ops,
    action,
  }));
}

const upTo = (n: number): number[] => Array.from({ length: n }, (_, i) => i);

/** One job: the sum of squares (map + reduce), the even numbers (filter + collect), or a count (filter + count). */
export function drawJob(rng: Rng, index: number): SimJob {
  const n = 20 + rng.nextInt(600);
  const partitions = 1 + rng.nextInt(8);
  switch (rng.nextInt(3)) {
    case 0:
      return {
        name: `job ${index}: sum of squares below ${n} in ${partitions} partitions`,
        tasks: rangeTasks(n, partitions, [{ op: 'map', fn: 'sq' }], { kind: 'reduce', fn: 'add' }),
        combine: (results) => results.flatMap((r) => decodeRecord(r) as number[]).reduce((a, b) => a + b, 0),
        expected: upTo(n).reduce((sum, i) => sum + i * i, 0),
      };
    case 1:
      return {
        name: `job ${index}: the even numbers below ${n} in ${partitions} partitions`,
        tasks: rangeTasks(n, partitions, [{ op: 'filter', fn: 'even' }], { kind: 'collect' }),
        combine: (results) => results.flatMap((r) => decodeRecord(r) as number[]),
        expected: upTo(n).filter((i) => i % 2 === 0),
      };
    default:
      return {
        name: `job ${index}: multiples of 3 below ${n} in ${partitions} partitions`,
        tasks: rangeTasks(n, partitions, [{ op: 'filter', fn: 'mult3' }], { kind: 'count' }),
        combine: (results) => results.reduce((sum, r) => sum + (decodeRecord(r) as number), 0),
        expected: upTo(n).filter((i) => i % 3 === 0).length,
      };
  }
}
