// Broadcast variables and accumulators (Spark's Broadcast and AccumulatorV2). Exported task functions, found by
// name on the executors, capture nothing (an inline function's captured values travel with each task instead),
// so the variables they use are declared at the top level of the app's module, by name, on both sides:
//
//   export const stopWords = broadcastVariable<Set<string>>('stopWords');
//   export const skipped = accumulator('skipped');
//   export function keep(w: string): boolean { if (stopWords.value.has(w)) { skipped.add(1); return false; } return true; }
//   // in main, on the driver:
//   flint.broadcast(stopWords, new Set(['the', 'a']));
//   await lines.flatMap(words).filter(keep).count();
//   console.log(skipped.value);
//
// The values live in one registry per thread, under a global symbol, because an executor's copy of this module
// (inside the app's bundle) and the task runner's copy are two module instances. On the driver, `value` is what
// `broadcast` set and what the tasks' updates added; on an executor, `value` is the broadcast value sent with the
// task, and `add` collects this task's update, sent back with its result and applied once per successful task.

/** The names the app declared, and each task's view of them. */
interface Registry {
  /** Broadcast values by name, on the driver (what `broadcast` set) and on an executor (for the running task). */
  readonly broadcasts: Map<string, { readonly id: number; readonly value: unknown }>;
  /** Driver: each accumulator's total. Executor: the running task's updates. */
  readonly accumulators: Map<string, number>;
  /** True in an executor's task thread: `add` records an update, `value` of an accumulator is refused. */
  inTask: boolean;
}

const KEY = Symbol.for('flint.sharedVariables');

export function sharedVariables(): Registry {
  const global = globalThis as Record<symbol, Registry | undefined>;
  global[KEY] ??= { broadcasts: new Map(), accumulators: new Map(), inTask: false };
  return global[KEY];
}

const NAME = /^[A-Za-z_$][\w$.-]{0,127}$/;

function checkName(name: string, what: string): void {
  if (typeof name !== 'string' || !NAME.test(name)) throw new TypeError(`${what} name must be a letter followed by up to 127 letters, digits, _ $ . -; got ${String(name)}`);
}

export class Broadcast<T> {
  readonly name: string;
  constructor(name: string) {
    checkName(name, 'a broadcast variable');
    this.name = name;
  }

  /** The value `flint.broadcast(this, value)` set on the driver: on an executor, the one sent with the task. */
  get value(): T {
    const entry = sharedVariables().broadcasts.get(this.name);
    if (entry === undefined) {
      throw new Error(`broadcast variable "${this.name}" has no value: call flint.broadcast(${this.name}, value) on the driver before the job that uses it`);
    }
    return entry.value as T;
  }
}

export class Accumulator {
  readonly name: string;
  constructor(name: string) {
    checkName(name, 'an accumulator');
    this.name = name;
  }

  /** Adds `n` (a finite number). In a task, the update reaches the driver with the task's result, once. */
  add(n: number): void {
    if (!Number.isFinite(n)) throw new TypeError(`accumulator "${this.name}": add() takes a finite number, got ${String(n)}`);
    const { accumulators } = sharedVariables();
    accumulators.set(this.name, (accumulators.get(this.name) ?? 0) + n);
  }

  /** The total on the driver: updates of the tasks that succeeded so far. Refused inside a task (as Spark). */
  get value(): number {
    const registry = sharedVariables();
    if (registry.inTask) throw new Error(`accumulator "${this.name}": its value can be read only on the driver; tasks may only add to it`);
    return registry.accumulators.get(this.name) ?? 0;
  }

  /** Sets the driver's total back to 0. */
  reset(): void {
    sharedVariables().accumulators.delete(this.name);
  }
}

/** A broadcast variable, declared at the top level of the app's module (see above). */
export function broadcastVariable<T>(name: string): Broadcast<T> {
  return new Broadcast<T>(name);
}

/** A numeric accumulator (Spark's LongAccumulator/DoubleAccumulator), declared at the top level of the app's module. */
export function accumulator(name: string): Accumulator {
  return new Accumulator(name);
}

/** Executor side: the broadcast values a task uses, then a clean slate of accumulator updates. */
export function beginTask(broadcasts: ReadonlyArray<{ readonly name: string; readonly id: number; readonly value: unknown }>): void {
  const registry = sharedVariables();
  registry.inTask = true;
  registry.broadcasts.clear();
  for (const b of broadcasts) registry.broadcasts.set(b.name, { id: b.id, value: b.value });
  registry.accumulators.clear();
}

/** Executor side: the task's accumulator updates (undefined when it made none). */
export function endTask(): Record<string, number> | undefined {
  const { accumulators } = sharedVariables();
  if (accumulators.size === 0) return undefined;
  const updates = Object.fromEntries(accumulators);
  accumulators.clear();
  return updates;
}

/** Driver side: adds a successful task's updates to the totals. */
export function applyAccumulatorUpdates(updates: Readonly<Record<string, number>>): void {
  const { accumulators } = sharedVariables();
  for (const [name, n] of Object.entries(updates)) accumulators.set(name, (accumulators.get(name) ?? 0) + n);
}
