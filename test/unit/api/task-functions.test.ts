// Inline task functions between the driver (src/api/task-functions.ts: names, captured values encoded, refusals)
// and an executor (src/task/closures.ts: the factory applied to the decoded values), without a cluster. The
// registry is driven as transformed code drives it (src/io/bundle/transform-inline.ts).
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { setMainNamespace } from '../../../src/api/app-exports.ts';
import { inlineSite } from '../../../src/api/inline-registry.ts';
import { InlineFunctionError, closuresFor, taskFunctionName } from '../../../src/api/task-functions.ts';
import { InlineFunctionNotFoundError, closureFunctions, recordCodec } from '../../../src/task/index.ts';

interface Registry {
  define(id: string, factory: (...a: unknown[]) => unknown, where: string, names: readonly string[]): void;
  explain(id: string, why: string): void;
  tag<F>(fn: F, id: string, values: readonly unknown[]): F;
  refuse<F>(fn: F, id: string): F;
}
const registry = (globalThis as unknown as Record<symbol, Registry>)[Symbol.for('flint.inline')] as Registry;

export function square(x: number): number {
  return x * x;
}
setMainNamespace({ square });
const EXPORTS = new Set(['square']);

const ID_SCALE = '00000000000000a1';
const ID_ADD = '00000000000000a2';
const ID_BAD = '00000000000000a3';
function scaleFactory(k: unknown, table: unknown, sq: unknown, add: unknown) {
  return (x: number) => (add as (v: number) => number)((sq as (v: number) => number)(x) * (k as number)) + ((table as Map<number, number>).get(x) ?? 0);
}
registry.define(ID_SCALE, scaleFactory as (...a: unknown[]) => unknown, 'app.ts:12', ['k', 'table', 'sq', 'add']);
registry.define(ID_ADD, ((n: unknown) => (x: number) => x + (n as number)) as (...a: unknown[]) => unknown, 'app.ts:9', ['n']);
registry.explain(ID_BAD, 'the inline function at app.ts:20 cannot be sent to executors: it uses "this" (line 20) of the enclosing function');

function made(k: number, table: Map<number, number>, add: unknown): (x: number) => number {
  return registry.tag(scaleFactory(k, table, square, add), ID_SCALE, [k, table, square, add]);
}

const onExecutor = {
  factory: (id: string) => inlineSite(id)?.factory,
  exported: (name: string) => ({ square })[name],
  decode: (bytes: Uint8Array) => recordCodec.decode(bytes),
};

describe('an inline function travels as its id and captured values', () => {
  test('the executor builds the same function from the factory and the decoded values, captured functions included', () => {
    const add = registry.tag(((n: number) => (x: number) => x + n)(100), ID_ADD, [100]);
    const fn = made(3, new Map([[2, 1000]]), add);
    const name = taskFunctionName(fn, 'map', EXPORTS, 'app.ts');
    assert.match(name, /^app\.ts:12#\d+$/);
    assert.equal(taskFunctionName(fn, 'map', EXPORTS, 'app.ts'), name, 'the same function keeps its name');
    const closures = closuresFor([name, 'square', 'flint$add']);
    assert.equal(closures.length, 1);
    assert.equal(closures[0]?.id, ID_SCALE);
    const rebuilt = closureFunctions(closures, onExecutor).get(name) as (x: number) => number;
    assert.equal(rebuilt(2), fn(2));
    assert.equal(rebuilt(2), 4 * 3 + 100 + 1000);
    assert.equal(rebuilt(5), 25 * 3 + 100);
  });

  test('values are taken when the Dataset method is called: made again with other values, another name; with the same, the same', () => {
    const a = taskFunctionName(made(1, new Map(), square), 'map', EXPORTS, 'app.ts');
    const b = taskFunctionName(made(2, new Map(), square), 'map', EXPORTS, 'app.ts');
    assert.notEqual(a, b);
    assert.equal(taskFunctionName(made(2, new Map(), square), 'map', EXPORTS, 'app.ts'), b);
    const built = closureFunctions(closuresFor([a, b]), onExecutor);
    assert.equal((built.get(a) as (x: number) => number)(3), (9 * 1) ** 2);
    assert.equal((built.get(b) as (x: number) => number)(3), (9 * 2) ** 2);
  });

  test('an id the bundle did not register fails the task with the cause', () => {
    assert.throws(
      () => closureFunctions([{ name: 'app.ts:3#0', id: 'ffffffffffffffff', captures: recordCodec.encode([]) }], onExecutor),
      (err: unknown) => err instanceof InlineFunctionNotFoundError && /app\.ts:3#0 \(id ffffffffffffffff\) is not in the application bundle/.test(err.message),
    );
  });
});

describe('refusals on the driver name the variable and the line', () => {
  test('a class instance with methods', () => {
    class Counter {
      n = 0;
      bump(): number {
        return ++this.n;
      }
    }
    assert.throws(
      () => taskFunctionName(made(1, new Counter() as unknown as Map<number, number>, square), 'map', EXPORTS, 'app.ts'),
      (err: unknown) =>
        err instanceof InlineFunctionError &&
        err.code === 'FLINT_INLINE_FUNCTION_REFUSED' &&
        /^map: the inline function at app\.ts:12 captures "table", a Counter instance, which cannot be sent to executors\. Fix: capture plain data/.test(err.message),
    );
  });

  test('a value nested in a capture', () => {
    const table = new Map<number, unknown>([[1, { socket: new (class Socket {})() }]]);
    assert.throws(
      () => taskFunctionName(made(1, table as Map<number, number>, square), 'filter', EXPORTS, 'app.ts'),
      (err: unknown) => err instanceof InlineFunctionError && /captures "table", whose .*Socket instance/.test(err.message),
    );
  });

  test('a function that is neither exported nor inline', () => {
    const local = (x: number): number => x;
    assert.throws(
      () => taskFunctionName(made(1, new Map(), local), 'map', EXPORTS, 'app.ts'),
      (err: unknown) => err instanceof InlineFunctionError && /captures "add", a function that is neither exported nor written inline/.test(err.message),
    );
  });

  test('a function the transform refused, with its reason', () => {
    const fn = registry.refuse((x: number) => x, ID_BAD);
    assert.throws(
      () => taskFunctionName(fn, 'reduceByKey', EXPORTS, 'app.ts'),
      (err: unknown) => err instanceof InlineFunctionError && err.message === 'reduceByKey: the inline function at app.ts:20 cannot be sent to executors: it uses "this" (line 20) of the enclosing function.',
    );
  });

  test('an untagged anonymous function is still NotExportedError, which now mentions inline functions', () => {
    assert.throws(() => taskFunctionName((x: number) => x, 'map', EXPORTS, 'app.ts'), /not exported by the application's main module, and was not written inline.*write it inline in the call/s);
  });
});
