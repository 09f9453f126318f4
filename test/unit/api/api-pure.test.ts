// The application API's pure parts: partitioning, the progress bar, and finding a task function's export name.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { exportNameOf, NotExportedError, setMainNamespace } from '../../../src/api/app-exports.ts';
import { DEFAULT_EXECUTOR_NODE_OPTIONS, executorNodeOptions } from '../../../src/api/context.ts';
import { HOT_CODE_V8_FLAGS, applyHotCodeFlags } from '../../../src/daemons/executor-backend.ts';
import { FlintConf } from '../../../src/conf/flint-conf.ts';
import { ConfigError } from '../../../src/errors.ts';
import { rangeSources, sliceBounds } from '../../../src/api/partitions.ts';
import { ConsoleProgressBar, renderProgressBar } from '../../../src/api/progress-bar.ts';

describe('partitions', () => {
  test('slices cover every position once, in order, with sizes differing by at most one', () => {
    fc.assert(
      fc.property(fc.nat(500), fc.integer({ min: 1, max: 64 }), (length, k) => {
        const bounds = sliceBounds(length, k);
        assert.equal(bounds.length, k);
        assert.equal(bounds[0]?.[0], 0);
        assert.equal(bounds.at(-1)?.[1], length);
        const sizes = bounds.map(([a, b]) => b - a);
        for (let i = 1; i < k; i++) assert.equal(bounds[i]?.[0], bounds[i - 1]?.[1]);
        assert.ok(Math.max(...sizes) - Math.min(...sizes) <= 1);
      }),
    );
  });

  test('range sources enumerate exactly start, start+step, … below end (or above, for a negative step)', () => {
    fc.assert(
      fc.property(fc.integer({ min: -200, max: 200 }), fc.integer({ min: -200, max: 200 }), fc.integer({ min: -7, max: 7 }).filter((s) => s !== 0), fc.integer({ min: 1, max: 9 }), (start, end, step, k) => {
        const expected: number[] = [];
        for (let v = start; step > 0 ? v < end : v > end; v += step) expected.push(v);
        const got: number[] = [];
        for (const src of rangeSources(start, end, step, k)) {
          assert.equal(src.kind, 'range');
          if (src.kind !== 'range') return;
          for (let v = src.start; step > 0 ? v < src.end : v > src.end; v += step) got.push(v);
        }
        assert.deepEqual(got, expected);
      }),
    );
  });

  test('bad slice counts and steps are refused with the value', () => {
    assert.throws(() => sliceBounds(10, 0), /numSlices must be a whole number ≥ 1, got 0/);
    assert.throws(() => rangeSources(0, 10, 0, 2), /^RangeError: range\(0, 10, 0\): start, end and step must be safe integers and step must not be 0$/);
    assert.throws(() => rangeSources(0, 1.5, 1, 2), /safe integers/);
  });
});

describe('progress bar', () => {
  test("renders Spark's shape: header, bar, (done + running) / total", () => {
    assert.equal(renderProgressBar({ jobId: 3, total: 10, done: 5, running: 2 }, 40), '[Stage 3:=========>        (5 + 2) / 10]');
    assert.equal(renderProgressBar({ jobId: 0, total: 4, done: 0, running: 0 }, 30).length, 30);
    assert.match(renderProgressBar({ jobId: 0, total: 4, done: 4, running: 0 }, 30), /^\[Stage 0:=+\(4 \+ 0\) \/ 4\]$/);
  });

  test('draws only for a job older than 500 ms, and erases itself when the job ends', async () => {
    const written: string[] = [];
    let now = 0;
    const bar = new ConsoleProgressBar({ isTTY: true, columns: 60, write: (t) => written.push(t) }, () => now);
    bar.update({ jobId: 1, total: 8, done: 1, running: 2 });
    // A draw happens on the bar's own 200 ms timer; await it rather than sleeping blindly.
    const drawn = async (count: number): Promise<void> => {
      for (let i = 0; i < 50 && written.length < count; i++) await new Promise((r) => setTimeout(r, 25));
    };
    await drawn(1);
    assert.equal(written.length, 0, 'nothing is drawn for a young job');
    now = 600;
    await drawn(1);
    assert.equal(written.length, 1);
    assert.match(written[0] ?? '', /^\r\[Stage 1:.*\(1 \+ 2\) \/ 8\]$/);
    bar.finish(1);
    assert.match(written.at(-1) ?? '', /^\r +\r$/);
    bar.stop();
  });
});

describe('task functions travel by export name', () => {
  function square(x: number): number {
    return x * x;
  }
  function hidden(x: number): number {
    return x;
  }
  const exportsOfBundle = new Set(['square', 'sq2']);

  test('found by identity in the main module, including under another name', () => {
    setMainNamespace({ square, sq2: hidden });
    assert.equal(exportNameOf(square, 'map', exportsOfBundle, 'app.ts'), 'square');
    assert.equal(exportNameOf(hidden, 'map', exportsOfBundle, 'app.ts'), 'sq2');
  });

  test('a function the module does not export fails on the driver with the fix', () => {
    setMainNamespace({ square });
    const err = (() => {
      try {
        exportNameOf(hidden, 'filter', exportsOfBundle, '/apps/app.ts');
      } catch (e) {
        return e;
      }
      return undefined;
    })();
    assert.ok(err instanceof NotExportedError);
    assert.equal(err.code, 'FLINT_TASK_FUNCTION_NOT_EXPORTED');
    assert.match(err.message, /filter: the function "hidden" is not exported/);
    assert.match(err.message, /add "export" in front of "function hidden" in \/apps\/app.ts/);
    assert.throws(() => exportNameOf((x: number) => x, 'map', exportsOfBundle, 'app.ts'), /anonymous function|declare it as a named function/);
    assert.throws(() => exportNameOf(42, 'map', exportsOfBundle, 'app.ts'), /expects a function/);
  });
});

describe('executor Node flags', () => {
  const conf = (entries: Record<string, string>) => new FlintConf(Object.entries(entries));

  test('the default options (none, as Spark), then the extra ones, split on spaces', () => {
    assert.equal(DEFAULT_EXECUTOR_NODE_OPTIONS, '');
    assert.deepEqual(executorNodeOptions(conf({})), []);
    assert.deepEqual(executorNodeOptions(conf({ 'flint.executor.defaultNodeOptions': '--a', 'flint.executor.extraNodeOptions': '  --max-old-space-size=4096   --trace-warnings ' })), [
      '--a',
      '--max-old-space-size=4096',
      '--trace-warnings',
    ]);
    assert.deepEqual(executorNodeOptions(conf({ 'flint.executor.defaultNodeOptions': '', 'flint.executor.extraNodeOptions': '--a --b' })), ['--a', '--b']);
    assert.deepEqual(executorNodeOptions(conf({ 'flint.executor.defaultNodeOptions': ' ' })), []);
  });

  test("an executor sets the hot-code V8 flags itself once registered, except those its command line sets", () => {
    assert.deepEqual(applyHotCodeFlags([]), [...HOT_CODE_V8_FLAGS]);
    assert.deepEqual(applyHotCodeFlags(['--max-old-space-size=300', '--invocation_count_for_turbofan=9000', '--invocation-count-for-maglev']), [
      '--minimum-invocations-after-ic-update=100',
    ]);
  });

  test('a word that is not a flag is a ConfigError naming the key and the word', () => {
    for (const key of ['flint.executor.defaultNodeOptions', 'flint.executor.extraNodeOptions']) {
      assert.throws(
        () => executorNodeOptions(conf({ [key]: '--ok rm' })),
        (err: unknown) => err instanceof ConfigError && err.message === `${key} holds 'rm', which is not a Node flag (flags start with -)`,
      );
    }
  });
});
