// Evaluates one task: read the partition's source, apply the narrow ops in order, run the action, encode the
// partition's result. Pure apart from the functions it calls: the application's exports come through
// `env.resolve`, the codec is injected (the adapter passes recordCodec, record-codec.ts), and nothing here does I/O. It
// runs on a pool thread; the executor machine never calls it.
//
// Evaluation is lazy and pull-based (record-stream.ts): `take(n)` stops after n records, even on a range of a
// trillion. Every task function may be async; its promise is awaited before the next record is pulled, so
// records are processed one at a time, in order.
//
// The encoded result of each action (what the driver decodes from `StatusUpdate.result` or the fetched chunks):
//   collect, take → an array of records        count → a number          fold → the folded value
//   reduce → `[]` for an empty partition, `[value]` otherwise (the driver skips `[]`, as Spark skips None)
//   foreach → null                             runJob → whatever fn(records, partitionIndex) returned

import type { Static } from '@sinclair/typebox';
import type { LaunchTask, TaskAction, TaskOp, TaskSource } from '../protocol/task-messages.ts';
import {
  PartitionRecords,
  arrayPull,
  filterPull,
  flatMapPull,
  isThenable,
  mapPartitionsPull,
  mapPull,
  rangePull,
  type RecordPull,
  type TaskFn,
} from './record-stream.ts';
import { TaskFunctionNotFoundError, TaskInputError, TaskKilledError } from './task-errors.ts';

export type LaunchTaskMessage = Static<typeof LaunchTask>;

/**
 * Encodes a partition's result and decodes slices and fold zeros. The adapters pass `recordCodec`
 * (record-codec.ts). `root` names the value in an encoding error's path: `records` for collect/take (so
 * `records[3]` is the partition's fourth record out), `result` for the other actions.
 */
export interface TaskCodec {
  encode(value: unknown, root?: string): Uint8Array;
  decode(bytes: Uint8Array): unknown;
}

export interface TaskEnv {
  /** An export of the application's main module by name (re-exports included); undefined when absent. */
  resolve(name: string): unknown;
  readonly codec: TaskCodec;
  /**
   * Checked before every source record; once `aborted` is true the task ends with TaskKilledError. An
   * AbortSignal fits. A function stuck inside one record is not reached: the pool must end its thread.
   */
  readonly signal?: { readonly aborted: boolean };
}

export interface TaskOutput {
  /** The encoded partition result (see the table above). */
  readonly result: Uint8Array;
  /** Records that reached the action (for runJob: that fn pulled from its records). The `records` metric. */
  readonly records: number;
}

interface TaskFunctions {
  readonly ops: readonly TaskFn[];
  readonly action: TaskFn | undefined;
}

/** Resolves every function the task names before any record is read, so a missing export fails first. */
export function resolveTaskFunctions(task: LaunchTaskMessage, resolve: (name: string) => unknown): TaskFunctions {
  const lookup = (name: string, usedBy: string): TaskFn => {
    const found = resolve(name);
    if (typeof found === 'function') return found as TaskFn;
    const what = found === undefined ? undefined : found === null ? 'null' : `a ${typeof found}`;
    throw new TaskFunctionNotFoundError(name, usedBy, what);
  };
  const ops = task.ops.map((op) => lookup(op.fn, `${op.op}(${op.fn})`));
  const action = 'fn' in task.action ? lookup(task.action.fn, `${task.action.kind}(${task.action.fn})`) : undefined;
  return { ops, action };
}

export async function evaluateTask(task: LaunchTaskMessage, env: TaskEnv): Promise<TaskOutput> {
  const fns = resolveTaskFunctions(task, (name) => env.resolve(name));
  const signal = env.signal;
  const check =
    signal === undefined
      ? undefined
      : (): void => {
          if (signal.aborted) throw new TaskKilledError(task.taskId);
        };
  check?.();
  let pull = sourcePull(task.source, env.codec, check);
  task.ops.forEach((op, i) => {
    pull = applyOp(pull, op, fns.ops[i] as TaskFn);
  });
  const { value, records } = await runAction(task, task.action, pull, fns.action, env.codec);
  const root = task.action.kind === 'collect' || task.action.kind === 'take' ? 'records' : 'result';
  return { result: env.codec.encode(value, root), records };
}

// ---- Source and ops ------------------------------------------------------------------------------------------

function sourcePull(source: TaskSource, codec: TaskCodec, check?: () => void): RecordPull<unknown> {
  switch (source.kind) {
    case 'slice': {
      const items = codec.decode(source.data);
      if (!Array.isArray(items)) {
        throw new TaskInputError(`A slice must decode to an array of records; it decoded to ${typeof items}`);
      }
      return arrayPull(items, check);
    }
    case 'range': {
      const { start, end, step } = source;
      for (const [name, value] of [['start', start], ['end', end], ['step', step]] as const) {
        if (!Number.isSafeInteger(value)) {
          throw new TaskInputError(`range ${name} must be a safe integer (|n| ≤ 2^53 − 1); got ${value}`);
        }
      }
      if (step === 0) throw new TaskInputError('range step must not be 0');
      return rangePull(start, end, step, check);
    }
    default: {
      const never: never = source;
      throw new TaskInputError(`unknown task source ${JSON.stringify(never)}`);
    }
  }
}

function applyOp(up: RecordPull<unknown>, op: TaskOp, fn: TaskFn): RecordPull<unknown> {
  const usedBy = `${op.op}(${op.fn})`;
  switch (op.op) {
    case 'map':
      return mapPull(up, fn);
    case 'filter':
      return filterPull(up, fn);
    case 'flatMap':
      return flatMapPull(up, fn, usedBy);
    case 'mapPartitions':
      return mapPartitionsPull(up, fn, usedBy);
    default: {
      const never: never = op.op;
      throw new TaskInputError(`unknown op ${String(never)}`);
    }
  }
}

// ---- Actions -------------------------------------------------------------------------------------------------

const STOP = Symbol('stop');

/**
 * Pulls records into `visit` until the source ends or `visit` returns STOP; awaits only thenables. Closes the
 * pipeline on the way out (quietly when it is already failing). Returns how many records were visited.
 */
async function drain(pull: RecordPull<unknown>, visit: (record: unknown) => unknown): Promise<number> {
  let visited = 0;
  try {
    for (;;) {
      let s = pull.next();
      if (isThenable(s)) s = await s;
      if (s.done) break;
      visited += 1;
      let outcome = visit(s.value);
      if (isThenable(outcome)) outcome = await outcome;
      if (outcome === STOP) break;
    }
  } catch (err) {
    await closeQuietly(pull);
    throw err;
  }
  await pull.close();
  return visited;
}

async function closeQuietly(pull: RecordPull<unknown>): Promise<void> {
  try {
    await pull.close();
  } catch {
    // The task is already failing with a more useful error.
  }
}

/** Calls `fn(acc, record)` for every record, keeping the (awaited) result as the accumulator. */
async function aggregate(pull: RecordPull<unknown>, fn: TaskFn, first: { has: boolean; acc: unknown }) {
  const state = first;
  const records = await drain(pull, (record) => {
    if (!state.has) {
      state.has = true;
      state.acc = record;
      return undefined;
    }
    const next = fn(state.acc, record);
    if (!isThenable(next)) {
      state.acc = next;
      return undefined;
    }
    return Promise.resolve(next).then((value) => {
      state.acc = value;
    });
  });
  return { state, records };
}

async function runAction(
  task: LaunchTaskMessage,
  action: TaskAction,
  pull: RecordPull<unknown>,
  fn: TaskFn | undefined,
  codec: TaskCodec,
): Promise<{ value: unknown; records: number }> {
  switch (action.kind) {
    case 'collect': {
      const out: unknown[] = [];
      const records = await drain(pull, (record) => void out.push(record));
      return { value: out, records };
    }
    case 'count': {
      const records = await drain(pull, () => undefined);
      return { value: records, records };
    }
    case 'take': {
      const out: unknown[] = [];
      if (action.n === 0) {
        await pull.close();
        return { value: out, records: 0 };
      }
      const records = await drain(pull, (record) => (out.push(record) >= action.n ? STOP : undefined));
      return { value: out, records };
    }
    case 'reduce': {
      const { state, records } = await aggregate(pull, fn as TaskFn, { has: false, acc: undefined });
      return { value: state.has ? [state.acc] : [], records };
    }
    case 'fold': {
      const { state, records } = await aggregate(pull, fn as TaskFn, { has: true, acc: codec.decode(action.zero) });
      return { value: state.acc, records };
    }
    case 'foreach': {
      const each = fn as TaskFn;
      const records = await drain(pull, (record) => each(record));
      return { value: null, records };
    }
    case 'runJob': {
      const view = new PartitionRecords(pull, `runJob(${action.fn})`);
      try {
        const value = await (fn as TaskFn)(view, task.partition);
        await pull.close();
        return { value: value === undefined ? null : value, records: view.count };
      } catch (err) {
        await closeQuietly(pull);
        throw err;
      }
    }
    default: {
      const never: never = action;
      throw new TaskInputError(`unknown task action ${JSON.stringify(never)}`);
    }
  }
}
