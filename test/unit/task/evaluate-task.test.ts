// evaluateTask: every source, op and action, async functions, laziness, empty partitions and the missing-export
// error. The codec is the real one (recordCodec), as the executor program uses it.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import {
  RecordEncodeError,
  TaskFunctionNotFoundError,
  TaskInputError,
  TaskKilledError,
  evaluateTask,
  recordCodec,
  taskFailureOf,
  type LaunchTaskMessage,
  type TaskCodec,
} from '../../../src/task/index.ts';
import type { TaskIo } from '../../../src/task/evaluate-task.ts';
import type { TaskAction, TaskOp, TaskSource } from '../../../src/protocol/task-messages.ts';

const codec: TaskCodec = recordCodec;
const { encode, decode } = recordCodec;

const range = (start: number, end: number, step = 1): TaskSource => ({ kind: 'range', start, end, step });
const slice = (records: unknown): TaskSource => ({ kind: 'slice', data: encode(records) });
const op = (kind: Extract<TaskOp, { fn: string }>['op'], fn: string): TaskOp => ({ op: kind, fn });

function task(source: TaskSource, ops: TaskOp[], action: TaskAction, partition = 7): LaunchTaskMessage {
  return { type: 'LaunchTask', taskId: 42, jobId: 1, partition, attempt: 0, source, ops, action };
}

async function run(
  t: LaunchTaskMessage,
  exports: Record<string, unknown> = {},
  signal?: { aborted: boolean },
): Promise<{ value: unknown; records: number }> {
  const env = signal === undefined ? { resolve: (n: string) => exports[n], codec } : { resolve: (n: string) => exports[n], codec, signal };
  const out = await evaluateTask(t, env);
  return { value: decode(out.result), records: out.records };
}

const collect: TaskAction = { kind: 'collect' };
const sleep0 = <T>(v: T): Promise<T> => new Promise((resolve) => queueMicrotask(() => resolve(v)));

describe('sources', () => {
  test('a slice decodes to its records', async () => {
    assert.deepEqual(await run(task(slice(['a', { b: 1 }, null]), [], collect)), { value: ['a', { b: 1 }, null], records: 3 });
  });

  test('a range counts up by step below end, and down for a negative step', async () => {
    assert.deepEqual((await run(task(range(0, 10, 3), [], collect))).value, [0, 3, 6, 9]);
    assert.deepEqual((await run(task(range(10, 0, -3), [], collect))).value, [10, 7, 4, 1]);
    assert.deepEqual((await run(task(range(5, 5), [], collect))).value, []);
    assert.deepEqual((await run(task(range(5, 0), [], collect))).value, [], 'a positive step above end is empty');
  });

  test('range bounds are checked: step 0, fractions, unsafe integers, NaN', async () => {
    for (const [src, pattern] of [
      [range(0, 10, 0), /step must not be 0/],
      [range(0.5, 10, 1), /range start must be a safe integer/],
      [range(0, 2 ** 60, 1), /range end must be a safe integer/],
      [range(0, 10, Number.NaN), /range step must be a safe integer/],
    ] as const) {
      await assert.rejects(run(task(src, [], collect)), (err: unknown) => err instanceof TaskInputError && pattern.test(err.message));
    }
  });

  test('a slice that is not an array is refused', async () => {
    await assert.rejects(run(task(slice({ not: 'an array' }), [], collect)), /A slice must decode to an array/);
  });
});

describe('ops, applied in order', () => {
  const fns = {
    square: (x: number) => x * x,
    isEven: (x: number) => x % 2 === 0,
    twice: (x: number) => [x, x],
    plusOne: (x: number) => x + 1,
  };

  test('map, filter, flatMap compose in the order given', async () => {
    const ops = [op('map', 'plusOne'), op('filter', 'isEven'), op('flatMap', 'twice'), op('map', 'square')];
    assert.deepEqual(await run(task(range(0, 6), ops, collect), fns), { value: [4, 4, 16, 16, 36, 36], records: 6 });
    const swapped = [op('map', 'square'), op('map', 'plusOne')];
    assert.deepEqual((await run(task(range(0, 3), swapped, collect), fns)).value, [1, 2, 5]);
  });

  test('flatMap accepts any iterable: arrays, Sets, generators, strings, async generators', async () => {
    const exports = {
      asSet: (x: number) => new Set([x, x + 100]),
      gen: function* (x: number) {
        yield x;
        yield -x;
      },
      chars: (s: string) => s,
      none: () => [],
      agen: async function* (x: number) {
        yield await sleep0(x * 10);
      },
    };
    assert.deepEqual((await run(task(range(1, 3), [op('flatMap', 'asSet')], collect), exports)).value, [1, 101, 2, 102]);
    assert.deepEqual((await run(task(range(1, 3), [op('flatMap', 'gen')], collect), exports)).value, [1, -1, 2, -2]);
    assert.deepEqual((await run(task(slice(['ab', 'c']), [op('flatMap', 'chars')], collect), exports)).value, ['a', 'b', 'c']);
    assert.deepEqual(await run(task(range(0, 1000), [op('flatMap', 'none')], collect), exports), { value: [], records: 0 });
    assert.deepEqual((await run(task(range(1, 4), [op('flatMap', 'agen')], collect), exports)).value, [10, 20, 30]);
  });

  test('flatMap of a non-iterable names the function', async () => {
    await assert.rejects(
      run(task(range(0, 2), [op('flatMap', 'bad')], collect), { bad: (x: number) => x }),
      /flatMap\(bad\) must return an iterable .* it returned number 0/,
    );
  });

  test('mapPartitions gets the partition once and may return an array, a generator, or a promise of either', async () => {
    let calls = 0;
    const exports = {
      sumAll: (records: Iterable<number>) => {
        calls += 1;
        let sum = 0;
        for (const r of records) sum += r;
        return [sum];
      },
      pairs: function* (records: Iterable<number>) {
        let prev: number | undefined;
        for (const r of records) {
          if (prev !== undefined) yield [prev, r];
          prev = r;
        }
      },
      asyncCount: async (records: AsyncIterable<number>) => {
        let n = 0;
        for await (const _ of records) n += 1;
        return [n];
      },
      identity: (records: Iterable<number>) => records,
      partitionOf: (_records: Iterable<number>, partition: number) => [partition],
    };
    assert.deepEqual((await run(task(range(0, 5), [op('mapPartitions', 'sumAll')], collect), exports)).value, [10]);
    assert.equal(calls, 1);
    assert.deepEqual((await run(task(range(0, 3), [op('mapPartitions', 'pairs')], collect), exports)).value, [[0, 1], [1, 2]]);
    assert.deepEqual((await run(task(range(0, 7), [op('mapPartitions', 'asyncCount')], collect), exports)).value, [7]);
    assert.deepEqual((await run(task(range(0, 3), [op('mapPartitions', 'identity')], collect), exports)).value, [0, 1, 2]);
    // Its second argument is the task's partition (7, from task()).
    assert.deepEqual((await run(task(range(0, 3), [op('mapPartitions', 'partitionOf')], collect), exports)).value, [7]);
  });

  test('mapPartitions iterating synchronously over records made by an async map explains `for await`', async () => {
    const exports = { slowDouble: async (x: number) => x * 2, sumAll: (records: Iterable<number>) => [[...records].length] };
    await assert.rejects(
      run(task(range(0, 3), [op('map', 'slowDouble'), op('mapPartitions', 'sumAll')], collect), exports),
      (err: unknown) => err instanceof TypeError && /mapPartitions\(sumAll\).*for await/.test(err.message),
    );
  });

  test('async functions are awaited in every op', async () => {
    const exports = {
      slowSquare: async (x: number) => sleep0(x * x),
      slowOdd: async (x: number) => sleep0(x % 2 === 1),
      slowPair: async (x: number) => sleep0([x, -x]),
      slowPartition: async (records: AsyncIterable<number>) => {
        const out: number[] = [];
        for await (const r of records) out.push(r + 0.5);
        return sleep0(out);
      },
    };
    const ops = [op('map', 'slowSquare'), op('filter', 'slowOdd'), op('flatMap', 'slowPair'), op('mapPartitions', 'slowPartition')];
    assert.deepEqual((await run(task(range(0, 4), ops, collect), exports)).value, [1.5, -0.5, 9.5, -8.5]);
  });
});

describe('actions', () => {
  const add = (a: number, b: number) => a + b;

  test('collect, count and take', async () => {
    assert.deepEqual(await run(task(range(0, 4), [], collect)), { value: [0, 1, 2, 3], records: 4 });
    assert.deepEqual(await run(task(range(0, 1234), [], { kind: 'count' })), { value: 1234, records: 1234 });
    assert.deepEqual(await run(task(range(0, 10), [], { kind: 'take', n: 3 })), { value: [0, 1, 2], records: 3 });
    assert.deepEqual(await run(task(range(0, 2), [], { kind: 'take', n: 5 })), { value: [0, 1], records: 2 });
  });

  test('take evaluates lazily: take(3) of 10^15 records maps 3 of them', async () => {
    let seen = 0;
    const exports = { counted: (x: number) => ((seen += 1), x * 2) };
    const t = task(range(0, 1e15), [op('map', 'counted')], { kind: 'take', n: 3 });
    assert.deepEqual((await run(t, exports)).value, [0, 2, 4]);
    assert.equal(seen, 3);
  });

  test('take stops early through filter, flatMap and a mapPartitions generator, and closes the generator', async () => {
    let mapped = 0;
    let closed = false;
    const exports = {
      counted: (x: number) => ((mapped += 1), x),
      isEven: (x: number) => x % 2 === 0,
      triple: (x: number) => [x, x, x],
      passThrough: function* (records: Iterable<number>) {
        try {
          yield* records;
        } finally {
          closed = true;
        }
      },
    };
    const ops = [op('map', 'counted'), op('filter', 'isEven'), op('flatMap', 'triple'), op('mapPartitions', 'passThrough')];
    const out = await run(task(range(0, 1e15), ops, { kind: 'take', n: 4 }), exports);
    assert.deepEqual(out.value, [0, 0, 0, 2]);
    assert.equal(mapped, 3, 'records 0, 1, 2 were mapped; 1 was filtered out');
    assert.equal(closed, true, "the generator's finally block ran");
  });

  test('take(0) calls no function', async () => {
    let seen = 0;
    const out = await run(task(range(0, 10), [op('map', 'f')], { kind: 'take', n: 0 }), { f: () => (seen += 1) });
    assert.deepEqual(out, { value: [], records: 0 });
    assert.equal(seen, 0);
  });

  test('reduce folds the partition, and an empty partition is [] (no value), not an error or a zero', async () => {
    assert.deepEqual(await run(task(range(1, 5), [], { kind: 'reduce', fn: 'add' }), { add }), { value: [10], records: 4 });
    assert.deepEqual(await run(task(range(3, 3), [], { kind: 'reduce', fn: 'add' }), { add }), { value: [], records: 0 });
    assert.deepEqual((await run(task(slice([]), [], { kind: 'reduce', fn: 'add' }), { add })).value, []);
    let calls = 0;
    const one = await run(task(slice([null]), [], { kind: 'reduce', fn: 'f' }), { f: () => (calls += 1) });
    assert.deepEqual(one.value, [null], 'a single null record is a value, distinct from an empty partition');
    assert.equal(calls, 0, 'one record needs no call');
  });

  test('reduce keeps the order of records (a non-commutative function)', async () => {
    const concat = (a: string, b: string) => a + b;
    assert.deepEqual((await run(task(slice(['a', 'b', 'c']), [], { kind: 'reduce', fn: 'concat' }), { concat })).value, ['abc']);
  });

  test('fold starts from the decoded zero, and an empty partition gives the zero', async () => {
    const merge = (acc: { n: number }, x: number) => ({ n: acc.n + x });
    const zero = encode({ n: 100 });
    assert.deepEqual((await run(task(range(0, 4), [], { kind: 'fold', fn: 'merge', zero }), { merge })).value, { n: 106 });
    assert.deepEqual((await run(task(range(0, 0), [], { kind: 'fold', fn: 'merge', zero }), { merge })).value, { n: 100 });
  });

  test('foreach calls fn on every record and returns null', async () => {
    const seen: number[] = [];
    const out = await run(task(range(0, 3), [], { kind: 'foreach', fn: 'note' }), { note: (x: number) => void seen.push(x) });
    assert.deepEqual(out, { value: null, records: 3 });
    assert.deepEqual(seen, [0, 1, 2]);
  });

  test('runJob passes the records and the partition index and returns what fn returns', async () => {
    const summary = (records: Iterable<number>, partition: number) => {
      let sum = 0;
      for (const r of records) sum += r;
      return { partition, sum };
    };
    const out = await run(task(range(0, 5), [op('map', 'square')], { kind: 'runJob', fn: 'summary' }, 9), {
      summary,
      square: (x: number) => x * x,
    });
    assert.deepEqual(out, { value: { partition: 9, sum: 30 }, records: 5 });
  });

  test('runJob may read only part of the records; records counts what it read; undefined becomes null', async () => {
    const firstTwo = (records: Iterable<number>) => {
      const it = records[Symbol.iterator]();
      it.next();
      it.next();
    };
    assert.deepEqual(await run(task(range(0, 1e12), [], { kind: 'runJob', fn: 'firstTwo' }), { firstTwo }), {
      value: null,
      records: 2,
    });
  });

  test('async functions are awaited in reduce, fold, foreach and runJob', async () => {
    const slowAdd = async (a: number, b: number) => sleep0(a + b);
    const seen: number[] = [];
    const slowNote = async (x: number) => {
      await sleep0(0);
      seen.push(x);
    };
    const slowJob = async (records: AsyncIterable<number>, p: number) => {
      let n = 0;
      for await (const r of records) n += r;
      return sleep0([p, n]);
    };
    assert.deepEqual((await run(task(range(0, 5), [], { kind: 'reduce', fn: 'slowAdd' }), { slowAdd })).value, [10]);
    const zero = encode(1);
    assert.deepEqual((await run(task(range(0, 5), [], { kind: 'fold', fn: 'slowAdd', zero }), { slowAdd })).value, 11);
    await run(task(range(0, 3), [], { kind: 'foreach', fn: 'slowNote' }), { slowNote });
    assert.deepEqual(seen, [0, 1, 2], 'each promise settled before the next record');
    assert.deepEqual((await run(task(range(0, 4), [], { kind: 'runJob', fn: 'slowJob' }, 2), { slowJob })).value, [2, 6]);
  });
});

describe('errors', () => {
  test('a function the main module does not export fails before any record is read, saying how to fix it', async () => {
    let seen = 0;
    const t = task(range(0, 10), [op('map', 'counted'), op('filter', 'isPrime')], collect);
    await assert.rejects(run(t, { counted: () => (seen += 1) }), (err: unknown) => {
      assert.ok(err instanceof TaskFunctionNotFoundError);
      assert.equal(err.code, 'FLINT_TASK_FUNCTION_NOT_EXPORTED');
      assert.equal(err.fnName, 'isPrime');
      assert.match(err.message, /no export named "isPrime" \(needed by filter\(isPrime\)\)/);
      assert.match(err.message, /export function isPrime from your app's main module/);
      return true;
    });
    assert.equal(seen, 0);
  });

  test('an action function that is missing, or exported but not a function, is named too', async () => {
    await assert.rejects(run(task(range(0, 1), [], { kind: 'reduce', fn: 'sum' })), /needed by reduce\(sum\).*export function sum/);
    await assert.rejects(
      run(task(range(0, 1), [], { kind: 'runJob', fn: 'limit' }), { limit: 3 }),
      /The export "limit" of the application's main module is a number, not a function \(needed by runJob\(limit\)\)/,
    );
  });

  test('an error thrown by a task function rejects with that error', async () => {
    const boom = new RangeError('bad record 2');
    const fail = (x: number) => {
      if (x === 2) throw boom;
      return x;
    };
    await assert.rejects(run(task(range(0, 5), [op('map', 'fail')], collect), { fail }), (err) => err === boom);
    const slowFail = async () => Promise.reject(new Error('async boom'));
    await assert.rejects(run(task(range(0, 5), [], { kind: 'foreach', fn: 'slowFail' }), { slowFail }), /async boom/);
  });

  test('a generator is closed when a later function throws', async () => {
    let closed = false;
    const exports = {
      gen: function* (records: Iterable<number>) {
        try {
          yield* records;
        } finally {
          closed = true;
        }
      },
      fail: () => {
        throw new Error('stop');
      },
    };
    await assert.rejects(run(task(range(0, 5), [op('mapPartitions', 'gen'), op('map', 'fail')], collect), exports), /stop/);
    assert.equal(closed, true);
  });

  test('an AbortFlag in shared memory stops the task at the next record once its slot holds the id; another id does not', async () => {
    const flags = new Int32Array(new SharedArrayBuffer(12));
    let seen = 0;
    const exports = {
      watch: (x: number) => {
        seen += 1;
        if (x === 2) flags[1] = 99; // another task's kill: ignored
        if (x === 4) flags[1] = 7;
        return x;
      },
    };
    const signal = { flags, slot: 1, id: 7 };
    const env = { resolve: (n: string) => (exports as Record<string, unknown>)[n], codec, signal };
    await assert.rejects(evaluateTask(task(range(0, 1e9), [op('map', 'watch')], { kind: 'count' }), env), TaskKilledError);
    assert.equal(seen, 5);
    // Past the first 1,024 records (where the read is atomic), still at the next record.
    flags[1] = 0;
    seen = 0;
    const late = {
      watch: (x: number) => {
        seen += 1;
        if (x === 3000) flags[1] = 7;
        return x;
      },
    };
    await assert.rejects(evaluateTask(task(range(0, 1e9), [op('map', 'watch')], { kind: 'count' }), { ...env, resolve: (n: string) => (late as Record<string, unknown>)[n] }), TaskKilledError);
    assert.equal(seen, 3001);
  });

  test('the kill signal stops the task between records', async () => {
    const signal = { aborted: false };
    let seen = 0;
    const exports = {
      watch: (x: number) => {
        seen += 1;
        if (x === 4) signal.aborted = true;
        return x;
      },
    };
    await assert.rejects(run(task(range(0, 1e9), [op('map', 'watch')], { kind: 'count' }), exports, signal), (err) => {
      assert.ok(err instanceof TaskKilledError);
      assert.match(err.message, /Task 42 was killed/);
      return true;
    });
    assert.equal(seen, 5);
    await assert.rejects(run(task(range(0, 3), [], collect), {}, { aborted: true }), TaskKilledError);
    // A file's lines and a shuffle's records are checked too: kill at the 5th of a million.
    const endless = function* (): Generator<string> {
      for (let i = 0; i < 1e6; i++) yield String(i);
    };
    const io = { readFile: () => endless(), openShuffle: async () => endless() } as unknown as TaskIo;
    const sources = [
      { kind: 'textFile', path: '/lines.txt', start: 0, length: 1e7, gzip: false, json: false },
      { kind: 'shuffle', reads: [{ shuffleId: 1, startPartition: 0, endPartition: 1 }], locations: [], mode: { kind: 'plain' } },
    ] as unknown as TaskSource[];
    for (const source of sources) {
      const killer = { aborted: false };
      let lines = 0;
      const watchLine = (line: string) => {
        lines += 1;
        if (line === '4') killer.aborted = true;
        return line;
      };
      await assert.rejects(
        evaluateTask(task(source, [op('map', 'watchLine')], { kind: 'count' }), { resolve: (n) => ({ watchLine })[n as 'watchLine'], codec, signal: killer, io }),
        TaskKilledError,
        source.kind,
      );
      assert.equal(lines, 5, source.kind);
    }
    // A task killed before it starts ends even when its action would read nothing.
    await assert.rejects(run(task(range(0, 3), [], { kind: 'take', n: 0 }), {}, { aborted: true }), TaskKilledError);
  });
});

describe('records keep their types (record-codec.ts)', () => {
  test('a slice of Maps, Sets, Dates, BigInts and typed arrays comes back exactly through map and collect', async () => {
    const records = [
      { m: new Map([['a', 1n]]), s: new Set([undefined]), d: new Date(86_400_000), t: new Float32Array([1.5, -0]) },
      [new BigUint64Array([2n ** 64n - 1n]), -(2n ** 80n), { gone: undefined }],
    ];
    const { value } = await run(task(slice(records), [op('map', 'same')], collect), { same: (x: unknown) => x });
    assert.deepStrictEqual(value, records);
  });

  test('a result that cannot be encoded fails with the type, the path in the partition and retryable false', async () => {
    const exports = { wrap: (x: number) => (x === 2 ? { user: { socket: () => x } } : { user: x }) };
    await assert.rejects(run(task(range(0, 4), [op('map', 'wrap')], collect), exports), (err: unknown) => {
      assert.ok(err instanceof RecordEncodeError);
      assert.equal(err.path, 'records[2].user.socket');
      assert.equal(taskFailureOf(err).retryable, false);
      return true;
    });
    await assert.rejects(run(task(range(0, 4), [], { kind: 'runJob', fn: 'job' }), { job: () => Symbol('x') }), /^.*result is a symbol Symbol\(x\)/);
  });
});
