// Lazy record pipelines that stay synchronous until a function goes async.
//
// A `RecordPull` is an iterator whose `next()` returns a step directly, or a promise of one when a function on
// the way returned a promise. Stages await only when they are handed a thenable, so a pipeline of plain
// functions runs with no microtask per record, and an async function anywhere still works. Pulling is lazy:
// a stage asks its upstream for one record at a time, so `take(1)` of a huge range computes one record.
//
// Contracts: `next()` must not be called again before the previous step has settled (the action loop awaits
// each step); after a `done` step, `next()` keeps returning `done`; `close()` is idempotent and closes user
// iterators (their `finally` blocks run) and every upstream stage.
//
// Pushing: a chain of sources and `map`, `filter` and `flatMap` stages also offers `push(visit)`, which hands
// every record to `visit` from one loop per stage instead of a `next()` call per record and stage (about an
// eighth of a word count's map task: docs/benchmarks.md, bench:shuffle). The order, the one-at-a-time awaiting of
// promises and the laziness are the same: `visit` returns STOP to end early, a thenable to pause until it
// settles. A stage that cannot push (mapPartitions, sample, …) leaves `push` out, and so do the stages after
// it; the actions then pull (pushRecords does either).

import { TaskInputError } from './task-errors.ts';

export type MaybePromise<T> = T | PromiseLike<T>;
export type Step<T> = { readonly done: false; readonly value: T } | { readonly done: true; readonly value?: undefined };

/**
 * A pull of records. A step it returns may be reused for its next record (no allocation per record and stage on
 * the hot path): read `value` before calling `next()` again, and never hand a step to code that may keep it
 * (PartitionRecords copies it for the application's iterators).
 */
export interface RecordPull<T> {
  next(): MaybePromise<Step<T>>;
  close(): MaybePromise<void>;
  /**
   * Hands each remaining record to `visit`, in order; returns (or resolves to) STOP when `visit` stopped it,
   * else undefined once the records are all visited. A thenable from `visit` is awaited before the next record.
   * Call it on a fresh pull, once, instead of `next()`; `close()` afterwards as always.
   */
  push?: (visit: Visit) => MaybePromise<unknown>;
}

/** What `visit` returns: STOP ends a push, a thenable pauses it, anything else goes on. */
export type Visit = (record: unknown) => unknown;

/** Returned by a `visit` (or by an action's visitor) to stop taking records. */
export const STOP: unique symbol = Symbol('stop');

/** A function the application's main module exports. Called with records (and, for runJob, the partition). */
export type TaskFn = (...args: unknown[]) => unknown;

export const DONE: Step<never> = Object.freeze({ done: true as const });

/** A step a pull fills in again for each record it yields. */
interface ReusedStep<T> {
  done: false;
  value: T;
}

function reusedStep<T>(): ReusedStep<T> {
  return { done: false, value: undefined as T };
}

export function isThenable(value: unknown): value is PromiseLike<unknown> {
  return (
    value !== null &&
    (typeof value === 'object' || typeof value === 'function') &&
    typeof (value as { then?: unknown }).then === 'function'
  );
}

/** Applies `f` to a value now, or once the promise settles. */
function then<A, B>(value: MaybePromise<A>, f: (a: A) => MaybePromise<B>): MaybePromise<B> {
  return isThenable(value) ? Promise.resolve(value).then(f) : f(value);
}

const noop = (): void => {};

/** What a push step returns when its records are all visited. */
const END: unique symbol = Symbol('end');

/**
 * A push after its first pause: each step visits one record (or returns END) and its outcome is awaited before
 * the next, in one loop, so a long asynchronous run holds one promise at a time rather than a chain of them.
 */
async function goOnAsync(pending: PromiseLike<unknown>, step: () => unknown): Promise<unknown> {
  let outcome = await pending;
  for (;;) {
    if (outcome === STOP) return STOP;
    if (outcome === END) return undefined;
    outcome = step();
    if (isThenable(outcome)) outcome = await outcome;
  }
}

/**
 * Runs `step` (visit one record and return its outcome, or END when there is none left) until the records end,
 * `visit` stops, or it pauses; then goes on in goOnAsync.
 */
function pushSteps(step: () => unknown): MaybePromise<unknown> {
  for (;;) {
    const outcome = step();
    if (outcome === undefined) continue;
    if (outcome === END) return undefined;
    if (outcome === STOP) return STOP;
    if (isThenable(outcome)) return goOnAsync(outcome, step);
  }
}

/** Every record of `pull` to `visit`: by its `push` when it has one, else by `next()`. See RecordPull.push. */
export function pushRecords(pull: RecordPull<unknown>, visit: Visit): MaybePromise<unknown> {
  if (pull.push !== undefined) return pull.push(visit);
  return pushSteps(() => {
    const s = pull.next();
    if (isThenable(s)) return Promise.resolve(s).then((settled) => (settled.done ? END : visit(settled.value)));
    return s.done ? END : visit(s.value);
  });
}

/**
 * items[from…] to `visit`: pushSteps's loop written out, as this is the hottest one (every item of every array
 * a flatMap returns).
 */
function pushArray(items: ArrayLike<unknown>, visit: Visit, from = 0): MaybePromise<unknown> {
  let i = from;
  while (i < items.length) {
    const outcome = visit(items[i++]);
    if (outcome !== undefined) {
      if (outcome === STOP) return STOP;
      if (isThenable(outcome)) return goOnAsync(outcome, () => (i < items.length ? visit(items[i++]) : END));
    }
  }
  return undefined;
}

// ---- Sources -----------------------------------------------------------------------------------------------

export function arrayPull<T>(items: ArrayLike<T>): RecordPull<T> {
  let index = 0;
  const step = reusedStep<T>();
  return {
    next() {
      if (index >= items.length) return DONE;
      step.value = items[index++] as T;
      return step;
    },
    close() {
      index = items.length;
    },
    push(visit) {
      const from = index;
      index = items.length;
      return pushArray(items, visit, from);
    },
  };
}

/** How many values `range(start, end, step)` has (step not 0): rangePull's, and the partitions' of a range. */
export function rangeCount(start: number, end: number, step: number): number {
  return Math.max(0, Math.ceil((end - start) / step));
}

/** `start, start+step, …` while below `end` (or above it, for a negative step). Never materialised. */
export function rangePull(start: number, end: number, step: number): RecordPull<number> {
  let index = 0;
  let finished = false;
  const out = reusedStep<number>();
  /** The next value, or END. */
  const following = (): number | typeof END => {
    if (finished) return END;
    const value = start + index * step;
    if (step > 0 ? value >= end : value <= end) {
      finished = true;
      return END;
    }
    index += 1;
    return value;
  };
  return {
    next() {
      const value = following();
      if (value === END) return DONE;
      out.value = value;
      return out;
    },
    close() {
      finished = true;
    },
    push: (visit) =>
      pushSteps(() => {
        const value = following();
        return value === END ? END : visit(value);
      }),
  };
}

function iteratorPull<T>(iterator: Iterator<T>): RecordPull<T> {
  return new IteratorPull(iterator);
}

/**
 * A pull of a synchronous iterator. A class, as the other pulls a consumer loops over are (CheckedPull,
 * PartitionRecords' iterator): its methods are the same functions in every task, so code V8 optimised for one
 * task's loop, with these calls inlined, still fits the next task's. An object literal's methods and arrow
 * functions are new functions each time, and such code was thrown away and compiled again (docs/benchmarks.md).
 */
class IteratorPull<T> implements RecordPull<T> {
  readonly #iterator: Iterator<T>;
  #finished = false;
  readonly #step = reusedStep<T>();
  readonly push: (visit: Visit) => MaybePromise<unknown>;

  constructor(iterator: Iterator<T>) {
    this.#iterator = iterator;
    this.push = (visit) => pushSteps(() => this.#visitNext(visit));
  }

  /** Visits the next item, or returns END. */
  #visitNext(visit: Visit): unknown {
    if (this.#finished) return END;
    const r = this.#iterator.next();
    if (r.done === true) {
      this.#finished = true;
      return END;
    }
    return visit(r.value);
  }

  next(): Step<T> {
    if (this.#finished) return DONE;
    const r = this.#iterator.next();
    if (r.done === true) {
      this.#finished = true;
      return DONE;
    }
    // The iterator's own result when it says done: false (a generator's, the shuffle readers'): nothing is stored
    // in #step, which lives as long as the task, so no write barrier's slow path per record (CursorRecords).
    if (r.done === false) return r as Step<T>;
    this.#step.value = r.value;
    return this.#step;
  }

  close(): void {
    if (this.#finished) return;
    this.#finished = true;
    this.#iterator.return?.();
  }
}

function asyncIteratorPull<T>(iterator: AsyncIterator<T>): RecordPull<T> {
  let finished = false;
  return {
    next() {
      if (finished) return DONE;
      return iterator.next().then((r): Step<T> => {
        if (r.done === true) {
          finished = true;
          return DONE;
        }
        return { done: false, value: r.value };
      });
    },
    close() {
      if (finished) return;
      finished = true;
      const closing = iterator.return?.();
      return closing === undefined ? undefined : Promise.resolve(closing).then(noop);
    },
  };
}

function describeValue(value: unknown): string {
  if (value === null) return 'null';
  if (typeof value === 'object') return `an object (${Object.prototype.toString.call(value)})`;
  return `${typeof value} ${String(value).slice(0, 80)}`;
}

/**
 * What a flatMap function or a mapPartitions function returned, as a pull: an array, any iterable (Set,
 * generator, string), or an async iterable (async generator). `usedBy` names the function for the error.
 */
export function pullOf(value: unknown, usedBy: string): RecordPull<unknown> {
  if (value instanceof PartitionRecords) return value.detach();
  if (Array.isArray(value)) return arrayPull(value);
  if (value !== null && value !== undefined) {
    const boxed = value as { [Symbol.iterator]?: unknown; [Symbol.asyncIterator]?: unknown };
    if (typeof boxed[Symbol.iterator] === 'function') return iteratorPull((value as Iterable<unknown>)[Symbol.iterator]());
    if (typeof boxed[Symbol.asyncIterator] === 'function') {
      return asyncIteratorPull((value as AsyncIterable<unknown>)[Symbol.asyncIterator]());
    }
  }
  throw new TaskInputError(
    `${usedBy} must return an iterable (an array, a Set, a generator, an async generator…); ` +
      `it returned ${describeValue(value)}`,
  );
}

/** `up`'s records with `check` run before each, pulled or pushed: a source's kill check (see evaluate-task). */
export function checkedPull(up: RecordPull<unknown>, check: () => void): RecordPull<unknown> {
  return new CheckedPull(up, check);
}

/** checkedPull's pull: a class for the reason IteratorPull is one. */
class CheckedPull implements RecordPull<unknown> {
  readonly #up: RecordPull<unknown>;
  readonly #check: () => void;
  readonly push?: (visit: Visit) => MaybePromise<unknown>;

  constructor(up: RecordPull<unknown>, check: () => void) {
    this.#up = up;
    this.#check = check;
    const upPush = up.push;
    if (upPush !== undefined) {
      this.push = (visit) =>
        upPush((record) => {
          check();
          return visit(record);
        });
    }
  }

  next(): MaybePromise<Step<unknown>> {
    this.#check();
    return this.#up.next();
  }

  close(): MaybePromise<void> {
    return this.#up.close();
  }
}

// ---- Narrow transformations ---------------------------------------------------------------------------------

export function mapPull(up: RecordPull<unknown>, fn: TaskFn): RecordPull<unknown> {
  const step = reusedStep<unknown>();
  const apply = (s: Step<unknown>): MaybePromise<Step<unknown>> => {
    if (s.done) return s;
    const out = fn(s.value);
    if (isThenable(out)) return Promise.resolve(out).then((value) => ({ done: false, value }));
    step.value = out;
    return step;
  };
  const pull: RecordPull<unknown> = {
    next: () => {
      const s = up.next();
      return isThenable(s) ? Promise.resolve(s).then(apply) : apply(s);
    },
    close: () => up.close(),
  };
  const upPush = up.push;
  if (upPush !== undefined) {
    pull.push = (visit) =>
      upPush((record) => {
        const out = fn(record);
        return isThenable(out) ? Promise.resolve(out).then(visit) : visit(out);
      });
  }
  return pull;
}

export function filterPull(up: RecordPull<unknown>, fn: TaskFn): RecordPull<unknown> {
  /** The step to return, or undefined when the record was dropped and the next one must be pulled. */
  const decide = (s: Step<unknown>): MaybePromise<Step<unknown>> | undefined => {
    if (s.done) return s;
    const keep = fn(s.value);
    if (isThenable(keep)) return Promise.resolve(keep).then((k) => (k ? s : next()));
    return keep ? s : undefined;
  };
  const next = (): MaybePromise<Step<unknown>> => {
    for (;;) {
      const s = up.next();
      if (isThenable(s)) return Promise.resolve(s).then((settled) => decide(settled) ?? next());
      const decided = decide(s);
      if (decided !== undefined) return decided;
    }
  };
  const pull: RecordPull<unknown> = { next, close: () => up.close() };
  const upPush = up.push;
  if (upPush !== undefined) {
    pull.push = (visit) =>
      upPush((record) => {
        const keep = fn(record);
        if (isThenable(keep)) return Promise.resolve(keep).then((k) => (k ? visit(record) : undefined));
        return keep ? visit(record) : undefined;
      });
  }
  return pull;
}

export function flatMapPull(up: RecordPull<unknown>, fn: TaskFn, usedBy: string): RecordPull<unknown> {
  let inner: RecordPull<unknown> | undefined;
  // An array returned by fn (the common case: `line.split(' ')`) is walked here, with no pull made for it.
  let items: readonly unknown[] = [];
  let index = 0;
  const step = reusedStep<unknown>();
  const adoptSync = (out: unknown): void => {
    if (Array.isArray(out)) {
      items = out;
      index = 0;
    } else inner = pullOf(out, usedBy);
  };
  const fromInner = (s: Step<unknown>): MaybePromise<Step<unknown>> => {
    if (!s.done) return s;
    inner = undefined;
    return next();
  };
  const adopt = (out: unknown): MaybePromise<Step<unknown>> => {
    adoptSync(out);
    return next();
  };
  const open = (s: Step<unknown>): MaybePromise<Step<unknown>> => (s.done ? s : then(fn(s.value), adopt));
  const next = (): MaybePromise<Step<unknown>> => {
    for (;;) {
      if (index < items.length) {
        step.value = items[index++];
        return step;
      }
      if (inner !== undefined) {
        const r = inner.next();
        if (isThenable(r)) return Promise.resolve(r).then(fromInner);
        if (!r.done) return r;
        inner = undefined;
      }
      const s = up.next();
      if (isThenable(s)) return Promise.resolve(s).then(open);
      if (s.done) return s;
      const out = fn(s.value);
      if (isThenable(out)) return Promise.resolve(out).then(adopt);
      adoptSync(out);
    }
  };
  const close = (): MaybePromise<void> => {
    const closing = inner?.close();
    inner = undefined;
    items = [];
    return then(closing, () => up.close());
  };
  const pull: RecordPull<unknown> = { next, close };
  const upPush = up.push;
  if (upPush !== undefined) {
    // What fn returned, to `visit`: an array in a loop here; anything else as a pull, closed when done or
    // stopped (and by close() when the task fails meanwhile).
    const pushOut = (out: unknown, visit: Visit): MaybePromise<unknown> => {
      if (Array.isArray(out)) return pushArray(out, visit);
      const pulled = pullOf(out, usedBy);
      inner = pulled;
      return then(pushRecords(pulled, visit), (outcome) => {
        if (inner === pulled) inner = undefined;
        return then(pulled.close(), () => (outcome === STOP ? STOP : undefined));
      });
    };
    pull.push = (visit) =>
      upPush((record) => {
        const out = fn(record);
        return isThenable(out) ? Promise.resolve(out).then((settled) => pushOut(settled, visit)) : pushOut(out, visit);
      });
  }
  return pull;
}

/** `fn(records, partition)` is called on the first pull, with the upstream records as a `PartitionRecords`. */
export function mapPartitionsPull(up: RecordPull<unknown>, fn: TaskFn, usedBy: string, partition = 0): RecordPull<unknown> {
  let inner: RecordPull<unknown> | undefined;
  const next = (): MaybePromise<Step<unknown>> => {
    if (inner !== undefined) return inner.next();
    return then(fn(new PartitionRecords(up, usedBy), partition), (out) => {
      inner = pullOf(out, usedBy);
      return inner.next();
    });
  };
  const close = (): MaybePromise<void> => then(inner?.close(), () => up.close());
  return { next, close };
}

// ---- The records a mapPartitions or runJob function receives -----------------------------------------------

/**
 * A partition's records, handed to `mapPartitions(fn)` and `runJob(fn)` functions. Single pass, lazy. Iterate it
 * with `for (const r of records)` when every function before it is synchronous, or with `for await` always.
 */
export class PartitionRecords<T = unknown> implements Iterable<T>, AsyncIterable<T> {
  readonly #pull: RecordPull<T>;
  readonly #usedBy: string;
  #claimed = false;
  /** Records handed out so far. */
  count = 0;

  constructor(pull: RecordPull<T>, usedBy: string) {
    this.#pull = pull;
    this.#usedBy = usedBy;
  }

  #claim(): void {
    if (this.#claimed) throw new TypeError(`The records given to ${this.#usedBy} can be iterated only once`);
    this.#claimed = true;
  }

  /** The underlying pull, when a mapPartitions function returns its input unchanged. */
  detach(): RecordPull<T> {
    this.#claim();
    return this.#pull;
  }

  [Symbol.iterator](): Iterator<T> {
    this.#claim();
    return new RecordsIterator(this, this.#pull, this.#usedBy);
  }

  [Symbol.asyncIterator](): AsyncIterator<T> {
    this.#claim();
    return {
      next: async (): Promise<IteratorResult<T>> => {
        const s = await this.#pull.next();
        if (s.done) return { done: true, value: undefined };
        this.count += 1;
        return { done: false, value: s.value };
      },
      return: async (): Promise<IteratorResult<T>> => {
        await this.#pull.close();
        return { done: true, value: undefined };
      },
    };
  }
}

/**
 * PartitionRecords' synchronous iterator: a class for the reason IteratorPull is one (the application's loop
 * over its records calls `next` once per record).
 */
class RecordsIterator<T> implements Iterator<T> {
  readonly #records: PartitionRecords<T>;
  readonly #pull: RecordPull<T>;
  readonly #usedBy: string;

  constructor(records: PartitionRecords<T>, pull: RecordPull<T>, usedBy: string) {
    this.#records = records;
    this.#pull = pull;
    this.#usedBy = usedBy;
  }

  next(): IteratorResult<T> {
    const s = this.#pull.next();
    if (isThenable(s)) {
      Promise.resolve(s).then(noop, noop);
      throw new TypeError(
        `The records given to ${this.#usedBy} arrive asynchronously (a function before it returned a Promise); ` +
          'iterate them with `for await (const record of records)`',
      );
    }
    if (s.done) return { done: true, value: undefined };
    this.#records.count += 1;
    return { done: false, value: s.value }; // the pull's step may be reused: the application may keep this
  }

  return(): IteratorResult<T> {
    const closing = this.#pull.close();
    if (isThenable(closing)) Promise.resolve(closing).then(noop, noop);
    return { done: true, value: undefined };
  }
}
