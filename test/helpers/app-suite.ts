// The applications every mode must run alike: the examples and the fixture apps, each with what its output must
// be. test/integration/apps/apps.test.ts (APP_SUITE) and shuffle.test.ts (SHUFFLE_SUITE) run them on a cluster
// of real daemons, local-mode.test.ts in local mode (docs/local-mode.md): the same apps, the same expectations.

import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from './temp-dir.ts';

export interface AppRun {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs `flint submit <mode's flags> <args…>` to its end. */
export type Submit = (args: string[], label: string) => Promise<AppRun>;

export interface SuiteCase {
  readonly name: string;
  readonly run: (submit: Submit) => Promise<void>;
}

export const TEST_APP = 'test/fixtures/apps/test-app.ts';
export const SHUFFLE_APP = 'test/fixtures/apps/shuffle-app.ts';
export const INLINE_APP = 'test/fixtures/apps/inline-app.ts';

/** inline-app.ts's `RESULT <name> <json>` lines, by name. */
export function inlineResults(stdout: string): Map<string, unknown> {
  const out = new Map<string, unknown>();
  for (const m of stdout.matchAll(/^RESULT (\S+) (.*)$/gm)) out.set(m[1] as string, JSON.parse(m[2] as string));
  return out;
}

/** The line of `needle` in the inline fixture app (1-based). */
function lineOf(needle: string): number {
  const lines = readFileSync(INLINE_APP, 'utf8').split('\n');
  const index = lines.findIndex((l) => l.includes(needle));
  assert.ok(index >= 0, needle);
  return index + 1;
}

/** The `APP <id>` line the fixture apps print once registered. */
export function appIdOf(stdout: string): string {
  const id = /^APP (\S+)$/m.exec(stdout)?.[1];
  assert.ok(id !== undefined, `the app printed its id:\n${stdout}`);
  return id;
}

/** shuffle-app.ts `ops`: every key-value operation and the text and JSON files, each compared with a plain evaluation. */
export async function shuffleOps(submit: Submit, flags: string[] = []): Promise<AppRun> {
  const dir = tempDir('flint-shuffle-ops-');
  const run = await submit([...flags, SHUFFLE_APP, 'ops', dir], 'shuffle ops');
  assert.equal(run.code, 0, run.stderr);
  const checks = run.stdout.split('\n').filter((l) => l.startsWith('CHECK '));
  assert.ok(checks.length >= 48, `all checks ran:\n${run.stdout}`);
  assert.deepEqual(checks.filter((l) => !l.endsWith(' ok')), [], run.stdout);
  assert.match(run.stdout, /^RESULT ok$/m);
  return run;
}

export const APP_SUITE: readonly SuiteCase[] = [
  {
    name: 'a task that throws is retried, and a task that always throws fails the job with its remote stack',
    async run(submit) {
      const once = await submit(['examples/failing-task.ts', 'once'], 'failing-task once');
      assert.equal(once.code, 0, once.stderr);
      assert.match(once.stdout, /Sum of doubles: 56 \(expected 56\)/);
      const always = await submit(['examples/failing-task.ts', 'always'], 'failing-task always');
      assert.equal(always.code, 1);
      assert.match(always.stderr, /failed 4 times/);
      assert.match(always.stderr, /record 3 always fails/);
      assert.match(always.stderr, /at flakyDouble/, 'the stack from the executor is shown');
    },
  },
  {
    name: 'examples/wordcount.ts: the counts it saves and the top words it prints equal a plain count of the file',
    async run(submit) {
      const file = 'examples/data/two-cities.txt';
      const expected = new Map<string, number>();
      for (const word of readFileSync(file, 'utf8').toLowerCase().match(/[a-z']+/g) ?? []) expected.set(word, (expected.get(word) ?? 0) + 1);
      const ranked = [...expected].sort(([a, m], [b, n]) => n - m || (a < b ? -1 : a > b ? 1 : 0));
      const outDir = join(tempDir('flint-wordcount-'), 'counts');
      const run = await submit(['examples/wordcount.ts', file, '12', outDir], 'wordcount');
      assert.equal(run.code, 0, run.stderr);
      const total = ranked.reduce((sum, [, n]) => sum + n, 0);
      assert.deepEqual(run.stdout.split('\n'), [
        `Counts written to ${outDir}`,
        `${expected.size} distinct words, ${total} in all; the 12 most frequent:`,
        ...ranked.slice(0, 12).map(([word, n]) => `${String(n).padStart(6)}  ${word}`),
      ]);
      const parts = readdirSync(outDir).filter((f) => f.startsWith('part-'));
      assert.ok(parts.length > 0 && existsSync(join(outDir, '_SUCCESS')), readdirSync(outDir).join(' '));
      const saved = parts.flatMap((f) => readFileSync(join(outDir, f), 'utf8').split('\n').filter(Boolean)).map((l) => l.split('\t'));
      assert.deepEqual(new Map(saved.map(([word, n]) => [word, Number(n)])), expected);
      assert.equal(saved.length, expected.size, 'each word once');
    },
  },
  {
    name: 'examples/join.ts prints the inner join, the per-customer totals with the customer who ordered nothing, and the unmatched order',
    async run(submit) {
      const run = await submit(['examples/join.ts'], 'join');
      assert.equal(run.code, 0, run.stderr);
      assert.deepEqual(run.stdout.split('\n'), [
        'Orders with their customer (join):',
        '  1001  customer 1 Ada       tea             12.50',
        '  1002  customer 2 Grace     compiler        99.00',
        '  1003  customer 1 Ada       engine        1200.00',
        '  1004  customer 3 Edsger    semaphore        4.50',
        '  1005  customer 5 Margaret  rope            29.99',
        '  1006  customer 2 Grace     moth             0.05',
        '  1008  customer 3 Edsger    pen              1.99',
        '  1009  customer 1 Ada       punch cards      8.00',
        'Customers and their orders (aggregateByKey, then leftOuterJoin):',
        '  customer 1 Ada       London     3 orders  1220.50',
        '  customer 2 Grace     New York   2 orders    99.05',
        '  customer 3 Edsger    Amsterdam  2 orders     6.49',
        '  customer 4 Barbara   Boston     no orders',
        '  customer 5 Margaret  Boston     1 order     29.99',
        'Orders whose customer is unknown (left out by the join): 1: 1007 of customer 9',
      ]);
    },
  },
  {
    name: 'examples/sort.ts sorts across partitions (checked on the executors) and sorts strings',
    async run(submit) {
      const records = 50_000;
      const keys = Array.from({ length: records }, (_, i) => (Math.imul(i + 1, 0x9e3779b1) >>> 0) % 1_000_000);
      const run = await submit(['examples/sort.ts', String(records), '4'], 'sort');
      assert.equal(run.code, 0, run.stderr);
      const lines = run.stdout.split('\n');
      assert.equal(lines[0], `sortByKey of ${records} records into 4 partitions:`);
      const partitions = lines.slice(1, 5).map((l) => /^ {2}partition (\d): (\d+) records, keys (\d+) … (\d+)$/.exec(l)?.slice(1).map(Number));
      assert.deepEqual(partitions.map((p) => p?.[0]), [0, 1, 2, 3], lines.join('\n'));
      assert.equal(partitions.reduce((sum, p) => sum + (p?.[1] ?? 0), 0), records);
      assert.deepEqual(lines.slice(5), [
        `Sorted: every partition in order, each before the next; ${records} records, none lost or doubled; keys ${Math.min(...keys)} … ${Math.max(...keys)}`,
        'sortBy(identity): Apple Cherry Elderberry Lime apricot banana date fig grape kiwi mango pear',
        'sortBy(lowerCase, descending): pear mango Lime kiwi grape fig Elderberry date Cherry banana apricot Apple',
      ]);
    },
  },
  {
    name: 'records keep their types through executors; a result that cannot be encoded fails the job after one attempt',
    async run(submit) {
      const dir = tempDir('flint-records-');
      const run = await submit([TEST_APP, 'records', dir], 'records');
      assert.equal(run.code, 0, run.stderr);
      assert.match(run.stdout, /^RESULT exact$/m, 'what came back is deepStrictEqual to what was sent');
      assert.match(run.stdout, /^DRIVER data\[1\]\.f is a function notExported, which cannot be sent between the driver and executors$/m);
      assert.match(run.stdout, /^JOB Job \d+ aborted: task 0 \(partition 0\) failed and will not be retried, .*RecordEncodeError: records\[0\] is a function sq/m);
      assert.equal(readFileSync(join(dir, 'attempts'), 'utf8'), 'attempt\n', 'one attempt, not flint.task.maxFailures');
    },
  },
  {
    name: "a task's error names the application's own file, line and column (source maps), not the bundle's",
    async run(submit) {
      const run = await submit([TEST_APP, 'throws'], 'throws');
      assert.equal(run.code, 0, run.stderr);
      const source = readFileSync(TEST_APP, 'utf8').split('\n');
      const line = source.findIndex((l) => l.includes("throw new Error('thrown by the application')")) + 1;
      const column = (source[line - 1] as string).indexOf('throw new Error') + 'throw '.length + 1;
      const frame = new RegExp(`^STACK +at throwsAtThree \\((?:.*/)?test/fixtures/apps/test-app\\.ts:${line}:${column}\\)$`, 'm');
      assert.match(run.stdout, frame);
    },
  },
  {
    name: 'a task function that is not exported fails on the driver, before anything runs, with the fix',
    async run(submit) {
      const run = await submit([TEST_APP, 'not-exported'], 'not-exported');
      assert.equal(run.code, 1);
      assert.match(run.stderr, /map: the function "notExported" is not exported by the application's main module/);
      assert.match(run.stderr, /add "export" in front of "function notExported"/);
    },
  },
  {
    name: 'inline functions: captured numbers, Maps, Sets, Dates, typed arrays, objects and functions reach the executors',
    async run(submit) {
      const run = await submit([INLINE_APP, 'captures'], 'inline captures');
      assert.equal(run.code, 0, run.stderr);
      assert.match(run.stdout, /^DONE$/m, run.stdout);
      const got = inlineResults(run.stdout);
      assert.deepEqual(got.get('factor'), [0, 3, 6, 9, 12, 15]);
      assert.deepEqual(got.get('map'), ['zero', 'one', 'two', 'zero', 'one', 'two']);
      assert.deepEqual(got.get('set'), [0, 2, 4]);
      assert.deepEqual(got.get('date'), ['2026-01-01', '2026-01-02', '2026-01-03', '2026-01-04', '2026-01-05', '2026-01-06']);
      assert.deepEqual(got.get('typed'), [0, 1.5, 5, 1.5, 6, 12.5]);
      assert.deepEqual(got.get('object'), ['n10', 'n11', 'n12', 'n13', 'n14', 'n15']);
      assert.deepEqual(got.get('exported'), [3, 4, 7, 12, 19, 28]);
      assert.deepEqual(got.get('const'), [1, 10, 19, 28, 37, 46]);
      assert.deepEqual(got.get('reduceByKey'), [[0, 18], [1, 27]]);
      assert.equal(got.get('reduce'), 33);
      assert.deepEqual(got.get('array'), [6, 9]);
    },
  },
  {
    name: 'inline functions: a captured class instance with methods is refused on the driver, naming the variable and line, before any job',
    async run(submit) {
      const run = await submit([INLINE_APP, 'instance'], 'inline instance');
      assert.equal(run.code, 0, run.stderr);
      const line = lineOf('counter.bump()');
      assert.match(run.stdout, new RegExp(`^REFUSED InlineFunctionError FLINT_INLINE_FUNCTION_REFUSED map: the inline function at inline-app\\.ts:${line} captures "counter", a Counter instance`, 'm'), run.stdout);
      assert.match(run.stdout, /^JOBS 0$/m);
    },
  },
  {
    name: 'inline functions: a captured let assigned after the call is refused on the driver, naming the variable and both lines, before any job',
    async run(submit) {
      const run = await submit([INLINE_APP, 'reassigned'], 'inline reassigned');
      assert.equal(run.code, 0, run.stderr);
      const line = lineOf('x + offset');
      const assigned = lineOf('offset = 2');
      assert.match(
        run.stdout,
        new RegExp(`^REFUSED InlineFunctionError FLINT_INLINE_FUNCTION_REFUSED map: the inline function at inline-app\\.ts:${line} cannot be sent to executors: it captures "offset", which is assigned again at line ${assigned}`, 'm'),
        run.stdout,
      );
      assert.match(run.stdout, /copy it into a const/);
      assert.match(run.stdout, /^JOBS 0$/m);
    },
  },
];

/** The shuffle apps (shuffle.test.ts runs them on a cluster with checks of the workers' files besides). */
export const SHUFFLE_SUITE: readonly SuiteCase[] = [
  {
    name: 'every key-value operation, text and JSON files, equal a plain evaluation',
    async run(submit) {
      await shuffleOps(submit, ['--executor-cores', '1']);
    },
  },
  {
    name: 'records keep their types through the shuffle service (remote fetches only)',
    async run(submit) {
      const run = await submit(['--executor-cores', '1', '--conf', 'flint.shuffle.readHostLocalDisk=false', '--conf', 'flint.shuffle.io.chunkSize=1k', SHUFFLE_APP, 'types'], 'shuffle types');
      assert.equal(run.code, 0, run.stderr);
      assert.match(run.stdout, /^RESULT typed$/m);
    },
  },
];
