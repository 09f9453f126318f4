// Edges of the placement functions that the Spark ports and the property tests do not reach: the exact draws of
// the shuffle (Scala's `Random.shuffle`) and the checks on the generator, the policy and the request, with the
// messages they give. Found by mutation testing (docs/testing.md).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  orderUsableWorkers,
  placeExecutors,
  placeExecutorsInTurn,
  shuffle,
  type Rng,
  type WorkerSelectionPolicy,
} from '../../../src/scheduling/index.ts';

/** An Rng that answers `nextInt` from `answers` in turn and records every bound it was asked for. */
function scriptedRng(answers: ReadonlyArray<number>): Rng & { bounds: number[] } {
  const bounds: number[] = [];
  let at = 0;
  return {
    bounds,
    next: () => 0,
    nextInt: (n: number) => {
      bounds.push(n);
      const answer = answers[at++];
      return answer ?? 0;
    },
  };
}

test('shuffle draws as Scala Random.shuffle does: nextInt(n), nextInt(n − 1), …, nextInt(2), and swaps', () => {
  const rng = scriptedRng([0, 0, 1]);
  // i = 3 swaps with 0: [d, b, c, a]; i = 2 swaps with 0: [c, b, d, a]; i = 1 swaps with itself.
  assert.deepEqual(shuffle(['a', 'b', 'c', 'd'], rng), ['c', 'b', 'd', 'a']);
  assert.deepEqual(rng.bounds, [4, 3, 2]);
  const one = scriptedRng([]);
  assert.deepEqual(shuffle(['only'], one), ['only']);
  assert.deepEqual(one.bounds, [], 'one item: nothing to draw');
});

test('shuffle refuses a draw outside [0, n): negative, fractional or too large, naming the bound', () => {
  for (const bad of [-1, 0.5, 3]) {
    assert.throws(
      () => shuffle(['a', 'b', 'c'], scriptedRng([bad])),
      (err: unknown) => err instanceof RangeError && err.message === `Rng.nextInt(3) returned ${bad}, outside [0, 3)`,
      `draw ${bad}`,
    );
  }
});

test('an unknown worker selection policy (one that slipped past the config check) throws, naming it', () => {
  assert.throws(
    () => orderUsableWorkers([{ id: 'w1', coresFree: 1, memoryFreeMb: 1 }], 'RANDOM' as WorkerSelectionPolicy),
    (err: unknown) => err instanceof RangeError && err.message === 'unknown worker selection policy: RANDOM',
  );
});

test('a bad coresPerExecutor is refused with its value in the message', () => {
  const request = { coresLeft: 4, coresPerExecutor: 0, memoryMbPerExecutor: 1, existingExecutors: 0 };
  const workers = [{ id: 'w1', state: 'ALIVE' as const, coresFree: 4, memoryFreeMb: 16 }];
  const expected = (err: unknown) => err instanceof RangeError && err.message === 'coresPerExecutor must be a positive integer, got 0';
  assert.throws(() => placeExecutors(request, workers, { spreadOut: true, policy: 'CORES_FREE_DESC' }), expected);
  assert.throws(() => placeExecutorsInTurn([request], workers, { spreadOut: true, policy: 'CORES_FREE_DESC' }), expected);
});

test('two ALIVE workers with one ID: the RangeError names the ID', () => {
  const worker = { id: 'w7', state: 'ALIVE' as const, coresFree: 4, memoryFreeMb: 16 };
  assert.throws(
    () => placeExecutorsInTurn([], [worker, { ...worker }], { spreadOut: false, policy: 'WORKER_ID' }),
    (err: unknown) => err instanceof RangeError && err.message === 'two ALIVE workers have the ID w7',
  );
});
