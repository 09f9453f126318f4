// What each thread of the executor's task pool runs (tinypool's worker module): import the application bundle
// once per thread, then evaluate one task per call. Every outcome is a value, never a throw, so a task's
// error keeps its name, message and stack on the way to the driver.

import { decode, encode } from '@msgpack/msgpack';
import { pathToFileURL } from 'node:url';
import { evaluateTask, taskFailureOf, type LaunchTaskMessage, type TaskCodec } from '../../executor/index.ts';
import type { TaskFailure } from '../../protocol/task-messages.ts';

export interface TaskRequest {
  readonly task: LaunchTaskMessage;
  /** The verified bundle on disk (`<hash>.mjs`). */
  readonly bundlePath: string;
  /** An Int32Array's SharedArrayBuffer: element 0 becomes non-zero when the task is to stop. */
  readonly abortFlag: SharedArrayBuffer;
}

export type TaskReply =
  | { readonly kind: 'completed'; readonly result: Uint8Array; readonly records: number; readonly runTimeMs: number }
  | { readonly kind: 'errored'; readonly failure: TaskFailure; readonly runTimeMs: number };

/** Read by the app's `runApp(main)`: in an executor the module is imported for its exports only. */
const EXECUTOR_FLAG = Symbol.for('flint.executor');

const codec: TaskCodec = { encode: (value) => encode(value), decode: (bytes) => decode(bytes) };

let bundle: { readonly path: string; readonly exports: Promise<Record<string, unknown>> } | undefined;

function bundleExports(path: string): Promise<Record<string, unknown>> {
  if (bundle?.path !== path) {
    (globalThis as Record<symbol, unknown>)[EXECUTOR_FLAG] = true;
    bundle = { path, exports: import(pathToFileURL(path).href) as Promise<Record<string, unknown>> };
  }
  return bundle.exports;
}

export default async function runTask(request: TaskRequest): Promise<TaskReply> {
  const startedMs = performance.now();
  const flag = new Int32Array(request.abortFlag);
  const signal = {
    get aborted(): boolean {
      return Atomics.load(flag, 0) !== 0;
    },
  };
  try {
    const exports = await bundleExports(request.bundlePath);
    const output = await evaluateTask(request.task, { resolve: (name) => exports[name], codec, signal });
    return { kind: 'completed', result: output.result, records: output.records, runTimeMs: performance.now() - startedMs };
  } catch (err) {
    return { kind: 'errored', failure: taskFailureOf(err), runTimeMs: performance.now() - startedMs };
  }
}
