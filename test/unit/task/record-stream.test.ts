// Pushing records through a pipeline (record-stream.ts, RecordPull.push and pushRecords) against pulling them
// with next(): for any chain of map, filter and flatMap, with synchronous and asynchronous functions and every
// kind of iterable a flatMap may return, the records, their order, the calls made (laziness under STOP) and the
// closing of iterators are the same.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { STOP, arrayPull, filterPull, flatMapPull, isThenable, mapPull, pushRecords, rangePull, type RecordPull, type TaskFn } from '../../../src/task/record-stream.ts';

type Stage = { kind: 'map' | 'filter'; async: boolean; k: number } | { kind: 'flatMap'; async: boolean; shape: 'array' | 'set' | 'generator' | 'asyncGenerator'; k: number };

const stage: fc.Arbitrary<Stage> = fc.oneof(
  fc.record({ kind: fc.constantFrom('map' as const, 'filter' as const), async: fc.boolean(), k: fc.integer({ min: 1, max: 5 }) }),
  fc.record({ kind: fc.constant('flatMap' as const), async: fc.boolean(), shape: fc.constantFrom('array' as const, 'set' as const, 'generator' as const, 'asyncGenerator' as const), k: fc.integer({ min: 0, max: 3 }) }),
);

interface Log {
  calls: string[];
  closed: number;
}

/** The pipeline, built fresh each time, logging every function call and every generator's closing. */
function build(source: { kind: 'range' | 'array'; n: number }, stages: readonly Stage[], log: Log): RecordPull<unknown> {
  let pull: RecordPull<unknown> = source.kind === 'range' ? rangePull(0, source.n, 1) : arrayPull(Array.from({ length: source.n }, (_, i) => i * 3));
  stages.forEach((s, at) => {
    const wrap = (f: (x: number) => unknown): TaskFn => ((x: number) => {
      log.calls.push(`${at}:${x}`);
      const out = f(x);
      return s.async ? Promise.resolve().then(() => out) : out;
    }) as TaskFn;
    if (s.kind === 'map') pull = mapPull(pull, wrap((x) => x * s.k + at));
    else if (s.kind === 'filter') pull = filterPull(pull, wrap((x) => x % (s.k + 1) !== 0));
    else {
      const { k, shape } = s as Extract<Stage, { kind: 'flatMap' }>;
      const items = (x: number): number[] => Array.from({ length: k }, (_, j) => x * 10 + j);
      const shaped = (x: number): unknown => {
        switch (shape) {
          case 'array':
            return items(x);
          case 'set':
            return new Set(items(x));
          case 'generator':
            return (function* () {
              try {
                yield* items(x);
              } finally {
                log.closed += 1;
              }
            })();
          default:
            return (async function* () {
              try {
                for (const item of items(x)) yield item;
              } finally {
                log.closed += 1;
              }
            })();
        }
      };
      pull = flatMapPull(pull, wrap(shaped), `flatMap ${at}`);
    }
  });
  return pull;
}

async function byNext(pull: RecordPull<unknown>, take: number): Promise<unknown[]> {
  const out: unknown[] = [];
  while (out.length < take) {
    let s = pull.next();
    if (isThenable(s)) s = await s;
    if (s.done) break;
    out.push(s.value);
  }
  await pull.close();
  return out;
}

async function byPush(pull: RecordPull<unknown>, take: number): Promise<unknown[]> {
  const out: unknown[] = [];
  if (take > 0) {
    const pushed = pushRecords(pull, (record) => (out.push(record) >= take ? STOP : undefined));
    if (isThenable(pushed)) assert.equal((await pushed) === STOP, out.length === take && out.length > 0);
  }
  await pull.close();
  return out;
}

test('pushing equals pulling: records, order, calls made and iterators closed, for any map/filter/flatMap chain (property)', async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.record({ kind: fc.constantFrom('range' as const, 'array' as const), n: fc.integer({ min: 0, max: 30 }) }),
      fc.array(stage, { maxLength: 5 }),
      fc.integer({ min: 1, max: 60 }),
      async (source, stages, take) => {
        const pulled: Log = { calls: [], closed: 0 };
        const pushed: Log = { calls: [], closed: 0 };
        const a = await byNext(build(source, stages, pulled), take);
        const b = await byPush(build(source, stages, pushed), take);
        assert.deepEqual(b, a);
        assert.deepEqual(pushed.calls, pulled.calls, 'the same function calls, in the same order');
        assert.equal(pushed.closed, pulled.closed, 'every generator opened was closed, early or at its end');
      },
    ),
    { numRuns: 400 },
  );
});

test('a chain that can push offers push; a stage that cannot (a plain RecordPull) leaves it out of those after it', () => {
  const pushable = mapPull(rangePull(0, 3, 1), ((x: number) => x) as TaskFn);
  assert.equal(typeof pushable.push, 'function');
  const plain: RecordPull<unknown> = { next: () => ({ done: true }), close: () => undefined };
  assert.equal(mapPull(plain, ((x: number) => x) as TaskFn).push, undefined);
  assert.equal(flatMapPull(filterPull(plain, (() => true) as TaskFn), ((x: number) => [x]) as TaskFn, 'f').push, undefined);
});

test('a function that throws mid-push rejects the push, and close() then closes the open generator', async () => {
  let closed = 0;
  const pull = mapPull(
    flatMapPull(
      rangePull(0, 5, 1),
      ((x: number) =>
        (function* () {
          try {
            yield x;
            yield x + 100;
          } finally {
            closed += 1;
          }
        })()) as TaskFn,
      'f',
    ),
    ((x: number) => {
      if (x === 102) throw new Error('boom at 102');
      return x;
    }) as TaskFn,
  );
  const seen: unknown[] = [];
  assert.throws(() => pushRecords(pull, (r) => void seen.push(r)), /boom at 102/);
  await pull.close();
  assert.deepEqual(seen, [0, 100, 1, 101, 2]);
  assert.equal(closed, 3, 'the generators of 0 and 1 ended; the one of 2 was closed by close()');
});

test('a long asynchronous push holds one pending promise at a time, not a chain of one per record', async () => {
  // Before the fix, each asynchronous record's continuation was chained to the last: 1M records held ~100 MB.
  setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc') as () => void;
  const n = 300_000;
  const heapAt: number[] = [];
  for (const [name, make] of [
    ['range and an async map', () => mapPull(rangePull(0, n, 1), ((x: number) => Promise.resolve(x)) as TaskFn)],
    ['an array flatMapped, async downstream', () => mapPull(flatMapPull(arrayPull([0]), (() => Array.from({ length: n }, (_, i) => i)) as TaskFn, 'f'), ((x: number) => Promise.resolve(x)) as TaskFn)],
    ['a pull that cannot push', () => ({ ...mapPull(rangePull(0, n, 1), ((x: number) => Promise.resolve(x)) as TaskFn), push: undefined })],
  ] as const) {
    heapAt.length = 0;
    let seen = 0;
    gc();
    const start = process.memoryUsage().heapUsed;
    await pushRecords(make(), () => {
      seen += 1;
      if (seen === n / 3 || seen === n) {
        gc();
        heapAt.push(process.memoryUsage().heapUsed - start);
      }
      return undefined;
    });
    assert.equal(seen, n, name);
    assert.ok(heapAt.every((bytes) => bytes < 8_000_000), `${name}: heap grew by ${heapAt.map((b) => (b / 1e6).toFixed(1)).join(', ')} MB`);
  }
});
