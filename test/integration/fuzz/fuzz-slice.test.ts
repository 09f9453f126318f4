// A slice of the fuzzer (test/fuzz/, docs/fuzzing.md) in every `npm test`: 20,000 inputs of a fixed seed
// against a real master and worker with authentication on, while a legitimate worker and application work.
// The same code as `npm run fuzz`; a failure names the input range to replay with it.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { runFuzz } from '../../fuzz/harness.ts';

const SEED = 20_261_202;
const INPUTS = 20_000;
/**
 * The peak growth of a fuzzed daemon's RSS this slice tolerates. It catches a balloon (the pre-authentication
 * flood of finding 2 took a master from 132 MB to 1.7 GB), not V8's heap sizing: under this flood of garbage V8
 * grows its old space by 60 to 170 MB before it collects, more when the machine is loaded (a run with both CPUs
 * busy saw 67 MB over 20,000 inputs), and a million inputs peak at 168 MB (docs/fuzzing.md). `npm run fuzz`
 * reports the growth against the 64 MB target.
 */
const RSS_GROWTH_MB = 192;

test(`${INPUTS} fuzz inputs (seed ${SEED}): no crash, no hang, bounded RSS, and the legit app's jobs complete`, { timeout: 120_000 }, async () => {
  const lines: string[] = [];
  const report = await runFuzz({ seed: SEED, from: 0, inputs: INPUTS, batch: 5_000, connections: 16, syncEvery: 32, log: (l) => lines.push(l) });
  const replay = report.findings.map((f) => `${f.kind}: ${f.what} (FLINT_FUZZ_SEED=${SEED} FLINT_FUZZ_FROM=${f.from} FLINT_FUZZ_INPUTS=${f.to - f.from + 1} npm run fuzz)`);
  assert.deepEqual(replay, [], `findings:\n${replay.join('\n')}\n${lines.join('\n')}`);
  assert.equal(report.inputs, INPUTS);
  assert.equal(report.legitJobs, INPUTS / 5_000, "one legit job completed after every batch");
  for (const name of ['master', 'worker'] as const) {
    const { baseMb, peakMb } = report.rss[name];
    assert.ok(peakMb - baseMb <= RSS_GROWTH_MB, `the ${name}'s RSS grew from ${baseMb.toFixed(1)} to ${peakMb.toFixed(1)} MB (bound ${RSS_GROWTH_MB} MB)`);
  }
});
