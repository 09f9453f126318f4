// The simulator of the whole cluster (src/sim, docs/architecture.md): one seed is one run, event for event; the
// seeds that found bugs stay fixed; and a sweep of the first 300 seeds, each about eight simulated minutes of 1 or 3
// masters, 3 to 6 workers and 1 to 3 apps running jobs under crashes, restarts, partitions and store failures,
// breaks no invariant, and every job that ends returns what a local evaluation gives.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { runSimulation } from '../../../src/sim/cluster.ts';

test('one seed gives the same run every time', async () => {
  const a = await runSimulation({ seed: 42, keepTrace: true });
  const b = await runSimulation({ seed: 42, keepTrace: true });
  assert.ok(a.trace.length > 100, `a run of ${a.trace.length} trace lines`);
  assert.ok(a.faults.length > 0, 'with faults');
  assert.deepEqual(b.trace, a.trace);
  assert.deepEqual([b.steps, b.messages, b.faults], [a.steps, a.messages, a.faults]);
  assert.notDeepEqual((await runSimulation({ seed: 43, keepTrace: true })).trace, a.trace, 'another seed, another run');
});

test('the seeds that found bugs run clean', async () => {
  // 7: a master kept the state it could not write to its store; 141: a killed executor's cores were given again
  // before it ended; 222: a worker retried for ever a master that had become a standby; 1101: a driver whose app was
  // removed while it was cut off was never told (docs/architecture.md).
  // (Seeds 11, 14, 15, 19, 70 and 74 found six more in the simulator's first version, whose draws differ; the unit
  // tests named in docs/architecture.md hold those.)
  for (const seed of [7, 141, 222, 1101]) {
    const { violations } = await runSimulation({ seed });
    assert.deepEqual(violations.map((v) => `${v.invariant}: ${v.detail}`), [], `seed ${seed} (npm run sim -- --seed ${seed})`);
  }
});

test('seeds 1 to 300 break no invariant', async () => {
  const failing: string[] = [];
  let simulatedMs = 0;
  let succeeded = 0;
  for (let seed = 1; seed <= 300; seed++) {
    const result = await runSimulation({ seed });
    simulatedMs += result.simulatedMs;
    succeeded += result.jobs.succeeded;
    for (const v of result.violations) failing.push(`seed ${seed}: ${v.invariant} at ${(v.atMs / 1000).toFixed(1)} s: ${v.detail}`);
  }
  assert.deepEqual(failing, []);
  assert.ok(simulatedMs >= 300 * 460_000, `each seed ran its whole course (${simulatedMs} ms simulated)`);
  assert.ok(succeeded >= 300 * 5, `jobs ran and returned checked answers (${succeeded} of them)`);
});
