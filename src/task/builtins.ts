// Task functions the API uses on the user's behalf, found by their `flint$` names before the application's
// exports are looked at (src/api/dataset.ts names them: `keys()` is `map(flint$key)`, `distinct` reduces with
// `flint$first`, …), and the pairs of a join made from cogrouped groups. Pure.

import type { TaskFn } from './record-stream.ts';

// ---- Joins -----------------------------------------------------------------------------------------------------

type Cogrouped = [unknown, [unknown[], unknown[]]];

function joinPairs(record: unknown, keepLeft: boolean, keepRight: boolean): unknown[] {
  const [k, [vs, ws]] = record as Cogrouped;
  const out: unknown[] = [];
  if (vs.length > 0 && ws.length > 0) {
    for (const v of vs) for (const w of ws) out.push([k, [v, w]]);
  } else if (vs.length > 0 && keepLeft) {
    for (const v of vs) out.push([k, [v, undefined]]);
  } else if (ws.length > 0 && keepRight) {
    for (const w of ws) out.push([k, [undefined, w]]);
  }
  return out;
}

/**
 * A cogrouped `[key, [values, others]]` as the pairs of a join of kind `how` (Spark's PairRDDFunctions.join and its
 * outer kinds): the reduce side's fallback when a hash join's build side does not fit (src/io/executor/shuffle-task.ts).
 */
export function joinedPairs(record: unknown, how: 'inner' | 'left' | 'right' | 'full'): unknown[] {
  return joinPairs(record, how === 'left' || how === 'full', how === 'right' || how === 'full');
}

const BASICS: Readonly<Record<string, TaskFn>> = {
  flint$add: (a, b) => (a as number) + (b as number),
  flint$one: () => 1,
  flint$first: (a) => a,
  flint$key: (pair) => (pair as [unknown, unknown])[0],
  flint$value: (pair) => (pair as [unknown, unknown])[1],
  flint$withNull: (record) => [record, null],
  flint$swap: (pair) => [(pair as [unknown, unknown])[1], (pair as [unknown, unknown])[0]],
  flint$identity: (record) => record,
};


/** Every built-in, by name. An export of the app with one of these names is shadowed (they all start `flint$`). */
export const BUILTIN_FUNCTIONS: Readonly<Record<string, TaskFn>> = BASICS;
