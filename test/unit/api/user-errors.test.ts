// What an application developer can get wrong with the API, and the message that says so (issue 15: every error
// a user can cause has a test of its message): a Dataset method's bad argument, a job on an empty dataset or on
// datasets of two contexts, a stopped context, shared variables used the wrong way. The contexts run in local
// mode (no daemon); their task functions are those of test/fixtures/local-mode/word-jobs.ts.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { FlintContext } from '../../../src/api/index.ts';
import { exportNameOf } from '../../../src/api/app-exports.ts';
import { beginTask, broadcastVariable, accumulator, sharedVariables } from '../../../src/api/shared-variables.ts';
import { NODE_BIN, spawnChild } from '../../helpers/process.ts';
import { add } from '../../fixtures/local-mode/word-jobs.ts';

const main = new URL('../../fixtures/local-mode/word-jobs.ts', import.meta.url).pathname;
const localContext = (): Promise<FlintContext> => FlintContext.create({ master: 'local[1]', main, conf: { 'flint.ui.enabled': false } });

describe('Dataset and context methods', () => {
  let flint: FlintContext;
  before(async () => {
    flint = await localContext();
  });
  after(() => flint.stop());

  test('sample() needs a fraction from 0 to 1 (≥ 0 with replacement) and a whole seed', () => {
    const ds = flint.parallelize([1, 2, 3]);
    assert.throws(() => ds.sample(false, 1.5), { name: 'RangeError', message: 'sample(): fraction must be ≥ 0 and ≤ 1 without replacement, got 1.5' });
    assert.throws(() => ds.sample(true, -1), { name: 'RangeError', message: 'sample(): fraction must be ≥ 0, got -1' });
    assert.throws(() => ds.sample(true, 2, 0.5), { name: 'RangeError', message: 'sample(): seed must be a whole number, got 0.5' });
  });

  test('take(n) needs a whole number ≥ 0', async () => {
    await assert.rejects(flint.parallelize([1]).take(-1), { name: 'RangeError', message: 'take(n) needs a whole number ≥ 0, got -1' });
  });

  test('reduce() of an empty dataset says to use fold', async () => {
    await assert.rejects(flint.parallelize<number>([]).reduce(add), { message: 'reduce() of an empty dataset: it has no records (use fold with a zero value)' });
  });

  test('a task function that is not a function names the call and the module to export it from', () => {
    assert.throws(() => flint.parallelize(['a']).map(42 as unknown as (word: string) => string), { name: 'TypeError', message: `map expects a function exported by ${main}, got number` });
    assert.throws(() => exportNameOf(null, 'reduce', new Set(), 'app.ts'), { name: 'TypeError', message: 'reduce expects a function exported by app.ts, got null' });
  });

  test('runJob on a partition the dataset does not have names it and the count', async () => {
    await assert.rejects(flint.runJob(flint.parallelize([1, 2], 2), add as never, [5]), { name: 'RangeError', message: 'partition 5 does not exist: the dataset has 2' });
  });

  test('two datasets of different contexts cannot be combined', async () => {
    const other = await localContext();
    await other.awaitExecutors(1); // stopped before its executor registers, a context logs the refused registration
    try {
      assert.throws(() => flint.parallelize([1]).union(other.parallelize([2])), { message: 'union: both datasets must belong to the same FlintContext' });
    } finally {
      await other.stop();
    }
  });
});

test('a stopped context refuses jobs and says to create a new one', async () => {
  const flint = await localContext();
  const ds = flint.parallelize([1, 2]);
  await flint.awaitExecutors(1);
  await flint.stop();
  await assert.rejects(ds.collect(), { code: 'FLINT_CONTEXT_STOPPED', message: 'this FlintContext has been stopped; create a new one' });
});

test('a context created where no script runs (node -e) asks for main', { timeout: 60_000 }, async () => {
  const code = `import('./src/api/index.ts').then((m) => m.FlintContext.create({ master: 'local' })).catch((err) => { console.log(JSON.stringify({ code: err.code, message: err.message })); })`;
  const child = spawnChild(NODE_BIN, ['--input-type=module', '-e', code]);
  await child.exited;
  assert.deepEqual(child.messages.map((m) => m.value), [{ code: 'FLINT_CONFIG_INVALID', message: 'cannot tell which module is the application: pass { main: import.meta.filename }' }]);
});

describe('broadcast variables and accumulators', () => {
  after(() => {
    sharedVariables().inTask = false;
  });

  test('a name must be a letter followed by letters, digits, _ $ . -', () => {
    const expected = 'name must be a letter followed by up to 127 letters, digits, _ $ . -; got 1st';
    assert.throws(() => broadcastVariable('1st'), { name: 'TypeError', message: `a broadcast variable ${expected}` });
    assert.throws(() => accumulator('1st'), { name: 'TypeError', message: `an accumulator ${expected}` });
  });

  test('a broadcast variable read before flint.broadcast set it says to set it on the driver', () => {
    assert.throws(() => broadcastVariable<number>('lookup').value, {
      message: 'broadcast variable "lookup" has no value: call flint.broadcast(lookup, value) on the driver before the job that uses it',
    });
  });

  test('an accumulator takes finite numbers, and its value is read on the driver only', () => {
    const seen = accumulator('seen');
    assert.throws(() => seen.add(Number.NaN), { name: 'TypeError', message: 'accumulator "seen": add() takes a finite number, got NaN' });
    beginTask([]);
    assert.throws(() => seen.value, { message: 'accumulator "seen": its value can be read only on the driver; tasks may only add to it' });
  });
});
