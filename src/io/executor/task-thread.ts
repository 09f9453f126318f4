// What each thread of the executor's task pool runs (a node:worker_threads entry, see task-pool.ts): import
// the application bundle once per thread, then run the tasks the pool hands it, one at a time, from a short
// queue of its own, so the next task starts without waiting for the main thread. Every task gets exactly one
// answer, a value, never a throw, so a task's error keeps its name, message and stack on the way to the driver.
//
// The pool and the thread share three Int32 slots (ThreadSlot): the task the thread is on (CURRENT, as
// slotIdOf(taskId); 0 when between tasks), the task to abort (ABORT, checked by evaluateTask between records) and a count of cancel
// messages (CANCEL_SEQ). Starting a task stores CURRENT, then reads CANCEL_SEQ; cancelling a queued task posts
// a cancel message, adds to CANCEL_SEQ, then reads CURRENT. Both sides use sequentially consistent atomics, so
// at least one sees the other: either the pool sees the task started (and waits for its answer), or the
// thread sees the cancel before starting it (and answers `skipped` without running it).

import { ownsItsBuffer } from '../../util/own-buffer.ts';
import { pathToFileURL } from 'node:url';
import { receiveMessageOnPort, workerData, type MessagePort } from 'node:worker_threads';
import { closureFunctions, evaluateTask, recordCodec, taskFailureOf, type LaunchTaskMessage, type TaskCodec } from '../../task/index.ts';
import { inlineSite } from '../../api/inline-registry.ts';
import type { AbortFlag } from '../../task/evaluate-task.ts';
import type { BlockId, ShuffleEnv } from './shuffle-task.ts';
import { taskIo } from './task-io.ts';
import { stackInSources } from './bundle-stack.ts';
import { limitPool } from '../../shuffle/column-pool.ts';
import { beginTask, endTask } from '../../api/shared-variables.ts';
import { TaskContext } from '../../api/task-context.ts';
import { BlockStore } from './block-store.ts';
import type { TaskIo } from '../../task/evaluate-task.ts';
import { ThreadSlot, slotIdOf } from './thread-slot.ts';
import { isCompletedReply, isRunRequest, taskOf, type RunRequest, type StageParts, type TaskReply } from './thread-messages.ts';


export interface ThreadData {
  /** The thread's end of its channel: arrays of requests in (those of one turn), replies out. */
  readonly port: MessagePort;
  /** An Int32Array's buffer with `ThreadSlot.LENGTH` elements. */
  readonly shared: SharedArrayBuffer;
  /** The executor's shuffle settings and the thread's end of the channel for block fetches (ShuffleChannel). */
  readonly shuffle?: ThreadShuffleData;
}

/** What a thread needs to run shuffle tasks. Fetches go through the pool's main thread, which holds the RPC env. */
export interface ThreadShuffleData {
  readonly settings: Omit<ShuffleEnv, 'fetchChunk'>;
  /** This thread's share of the executor's memory for cached partitions (block-store.ts). */
  readonly storageLimitBytes: number;
  readonly port: MessagePort;
}

/** Thread → pool: fetch bytes of a block from a shuffle service. */
export interface FetchRequest {
  readonly id: number;
  readonly service: string;
  readonly block: BlockId;
  readonly offset: number;
  readonly length: number;
}

/** Pool → thread: the answer to the FetchRequest with the same id. */
export type FetchAnswer =
  | { readonly id: number; readonly data: Uint8Array; readonly blockLength: number }
  | { readonly id: number; readonly error: string };

export type ThreadRequest =
  /**
   * What a thread started before its executor had an application (task-pool.ts WarmThread) must take on: the
   * executor's environment (a thread's process.env is a copy made when it starts, and the worker gave the executor
   * its own when it adopted the standby) and its shuffle settings.
   */
  | { readonly kind: 'configure'; readonly env: Readonly<Record<string, string | undefined>>; readonly shuffle?: ThreadShuffleData }
  /** The parts the next run requests' tasks share (thread-messages.ts). */
  | StageParts
  | RunRequest
  /** Import the application's bundle now, ahead of the first task that needs it (task-pool.ts preload). */
  | { readonly kind: 'load'; readonly bundlePath: string }
  | { readonly kind: 'cancel'; readonly taskId: number }
  /** Drop the cached partitions of a dataset (unpersist). */
  | { readonly kind: 'uncache'; readonly id: number };

export type { TaskReply } from './thread-messages.ts';

/** Read by the app's `runApp(main)`: in an executor the module is imported for its exports only. */
const EXECUTOR_FLAG = Symbol.for('flint.executor');

/** Records keep their types both ways (src/task/record-codec.ts). */
const codec: TaskCodec = recordCodec;

let bundle: { readonly path: string; readonly exports: Promise<Record<string, unknown>> } | undefined;

function bundleExports(path: string): Promise<Record<string, unknown>> {
  if (bundle?.path !== path) {
    (globalThis as Record<symbol, unknown>)[EXECUTOR_FLAG] = true;
    const entry = { path, exports: importBundle(path) };
    bundle = entry;
    // A failed import is not kept: the thread's next task tries again (its executor may have fetched the bundle anew).
    entry.exports.catch(() => {
      if (bundle === entry) bundle = undefined;
    });
  }
  return bundle.exports;
}

/** How often a thread tries to import a bundle that is not there, and how long it waits in between. */
export const BUNDLE_IMPORT_ATTEMPTS = 5;
const BUNDLE_IMPORT_RETRY_MS = 20;
const pause = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, BUNDLE_IMPORT_RETRY_MS));

/**
 * Imports the bundle at `path`. While the worker's cleanup checks a bundle one last time it holds it aside for a
 * moment (src/io/worker-files/app-code-dir.ts), and puts it back if an executor has just marked it as used: a thread
 * that looks for it in that moment finds nothing, so a missing bundle is looked for again a few times. Anything else
 * (a bundle that fails to evaluate, or one that imports a module that is missing) fails at once. `beforeRetry`
 * waits between attempts (tests pass their own).
 */
export async function importBundle(path: string, beforeRetry: () => Promise<void> = pause): Promise<Record<string, unknown>> {
  const url = pathToFileURL(path).href;
  for (let attempt = 1; ; attempt++) {
    try {
      return (await import(url)) as Record<string, unknown>;
    } catch (err) {
      // Node names the module it could not find in `url`: the bundle itself, or a module the bundle imports.
      const missing = (err as NodeJS.ErrnoException).code === 'ERR_MODULE_NOT_FOUND' && (err as { url?: unknown }).url === url;
      if (!missing || attempt >= BUNDLE_IMPORT_ATTEMPTS) throw err;
      await beforeRetry();
    }
  }
}

/** The thread's ShuffleEnv: its settings, and fetches asked of the pool over the shuffle channel. */
function shuffleEnvOf(data: ThreadShuffleData | undefined): ShuffleEnv | undefined {
  if (data === undefined) return undefined;
  const waiting = new Map<number, { resolve(v: { data: Uint8Array; blockLength: number }): void; reject(e: Error): void }>();
  let nextId = 1;
  data.port.on('message', (answer: FetchAnswer) => {
    const waiter = waiting.get(answer.id);
    if (waiter === undefined) return;
    waiting.delete(answer.id);
    if ('error' in answer) waiter.reject(new Error(answer.error));
    else waiter.resolve({ data: answer.data, blockLength: answer.blockLength });
  });
  // Only while a fetch waits does the channel keep the thread's loop alive.
  data.port.unref();
  limitPool(data.settings.memoryLimitBytes);
  return {
    ...data.settings,
    fetchChunk(service, block, offset, length) {
      const id = nextId++;
      return new Promise((resolve, reject) => {
        if (waiting.size === 0) data.port.ref();
        waiting.set(id, {
          resolve: (v) => {
            if (waiting.size === 0) data.port.unref();
            resolve(v);
          },
          reject: (e) => {
            if (waiting.size === 0) data.port.unref();
            reject(e);
          },
        });
        data.port.postMessage({ id, service, block, offset, length } satisfies FetchRequest);
      });
    },
  };
}

/** The thread's file and shuffle I/O, made once from its ThreadData. */
let threadIo: TaskIo = taskIo(undefined);

/** Broadcast values this thread has decoded, by id. */
const broadcastValues = new Map<number, unknown>();

/** The values of the task's broadcast variables, decoding those it brings for the first time. */
function broadcastsOf(task: LaunchTaskMessage): Array<{ name: string; id: number; value: unknown }> {
  return (task.broadcasts ?? []).map(({ name, id, data }) => {
    if (data !== undefined && !broadcastValues.has(id)) broadcastValues.set(id, codec.decode(data));
    if (!broadcastValues.has(id)) throw new Error(`broadcast variable "${name}" (id ${id}) never reached this executor`);
    return { name, id, value: broadcastValues.get(id) };
  });
}

/** The executor's own CUDA_VISIBLE_DEVICES (all its gpus, set by the worker), put back after each task. */
let executorCudaDevices = process.env['CUDA_VISIBLE_DEVICES'];

/**
 * The task's context (TaskContext.get()) and, when it holds gpus, CUDA_VISIBLE_DEVICES set to them alone. A
 * worker thread's `process.env` is its own copy (node:worker_threads), so tasks on other threads keep theirs,
 * and child processes the task starts inherit its gpus only.
 */
function enterTask(task: LaunchTaskMessage): void {
  TaskContext.set({ partitionId: task.partition, attemptNumber: task.attempt, taskAttemptId: task.taskId, stageId: task.jobId, ...(task.resources === undefined ? {} : { resources: task.resources }) });
  const gpus = task.resources?.['gpu'];
  if (gpus !== undefined) process.env['CUDA_VISIBLE_DEVICES'] = gpus.join(',');
}

function leaveTask(): void {
  TaskContext.set(undefined);
  if (executorCudaDevices === undefined) delete process.env['CUDA_VISIBLE_DEVICES'];
  else process.env['CUDA_VISIBLE_DEVICES'] = executorCudaDevices;
}

/**
 * The task's functions by name: its inline functions, built once for this task from their factories in the
 * bundle and their captured values (src/task/closures.ts), then the bundle's exports.
 */
function taskResolver(task: LaunchTaskMessage, exports: Record<string, unknown>): (name: string) => unknown {
  if (task.closures === undefined) return (name) => exports[name];
  const inline = closureFunctions(task.closures, {
    factory: (id) => inlineSite(id)?.factory,
    exported: (name) => exports[name],
    decode: (bytes) => codec.decode(bytes),
  });
  return (name) => inline.get(name) ?? exports[name];
}

/** Runs one task; resolves (never rejects) with its reply. */
export async function runTask(task: LaunchTaskMessage, bundlePath: string, signal: { readonly aborted: boolean } | AbortFlag): Promise<TaskReply> {
  const startedMs = performance.now();
  const taskId = task.taskId;
  try {
    const exports = await bundleExports(bundlePath);
    beginTask(broadcastsOf(task));
    enterTask(task);
    const resolve = taskResolver(task, exports);
    const output = await evaluateTask(task, { resolve, codec, signal, io: threadIo });
    const accumulators = endTask();
    const runTimeMs = performance.now() - startedMs;
    if (accumulators === undefined) return [taskId, output.records, runTimeMs, output.result];
    return { kind: 'completed', taskId, result: output.result, records: output.records, runTimeMs, accumulators };
  } catch (err) {
    endTask(); // a failed task's updates never count
    // The stack in the application's own files, lines and columns (the driver shows it: JobFailedError).
    const failure = taskFailureOf(err);
    return { kind: 'errored', taskId, failure: { ...failure, stack: stackInSources(failure.stack, bundlePath) }, runTimeMs: performance.now() - startedMs };
  } finally {
    leaveTask();
  }
}

/**
 * A completed task's result bytes are moved to the pool, not copied, when they hold an array buffer alone (as the
 * record codec makes them: ownsItsBuffer): a task's result can be megabytes (a collected partition). Small ones are
 * copied with the reply: V8 keeps a typed array of up to 64 bytes inside its object, and reading its `buffer` makes
 * it allocate one and move the bytes there, which cost a no-op task's thread about 0.5 µs (a count, a sum) to save
 * a copy of a few bytes.
 */
export function transferable(reply: TaskReply): ArrayBuffer[] {
  const result = isCompletedReply(reply) ? reply[3] : reply.kind === 'completed' ? reply.result : undefined;
  if (result === undefined || result.byteLength < TRANSFER_MIN_BYTES) return [];
  return ownsItsBuffer(result) ? [result.buffer as ArrayBuffer] : [];
}

/** Results shorter than this are copied into the reply rather than moved (`transferable`). */
export const TRANSFER_MIN_BYTES = 1024;

/** The thread's loop: a queue of run requests, drained in order; cancels mark queued tasks to skip. */
function serve({ port, shared: buffer, shuffle }: ThreadData): void {
  let blocks = new BlockStore(shuffle?.storageLimitBytes ?? 0);
  threadIo = taskIo(shuffleEnvOf(shuffle), blocks);
  const shared = new Int32Array(buffer);
  const queue: Array<{ readonly task: LaunchTaskMessage; readonly bundlePath: string }> = [];
  /** The stage parts the pool sent last: the run requests that follow are its tasks (thread-messages.ts). */
  let stage: StageParts | undefined;
  const cancelled = new Set<number>();
  let seenCancels = 0;
  /** The task taken off the queue and about to start: a cancel that arrives now still finds it. */
  let starting = 0;
  let busy = false;
  // evaluateTask checks the ABORT slot before every record: the task is killed once it holds the task's slotIdOf
  // (the pool stores it there, task-pool.ts kill).
  const abortFlag = (taskId: number): AbortFlag => ({ flags: shared, slot: ThreadSlot.ABORT, id: slotIdOf(taskId) });
  const accept = (requests: readonly ThreadRequest[]): void => {
    for (const request of requests) {
      if (isRunRequest(request)) {
        if (stage === undefined) throw new Error(`task ${request[0]} came before the parts of its stage`);
        queue.push({ task: taskOf(request, stage), bundlePath: stage.bundlePath });
      } else if (request.kind === 'stage') stage = request;
      else if (request.kind === 'configure') {
        for (const name of Object.keys(process.env)) if (!(name in request.env)) delete process.env[name];
        Object.assign(process.env, request.env);
        executorCudaDevices = process.env['CUDA_VISIBLE_DEVICES'];
        blocks = new BlockStore(request.shuffle?.storageLimitBytes ?? 0);
        threadIo = taskIo(shuffleEnvOf(request.shuffle), blocks);
      } else if (request.kind === 'load') void bundleExports(request.bundlePath).catch(() => {}); // a task reports a failure
      else if (request.kind === 'uncache') blocks.remove(request.id);
      else if (request.taskId === starting || queue.some((queued) => queued.task.taskId === request.taskId)) cancelled.add(request.taskId);
    }
  };
  const drain = (): void => {
    for (let got = receiveMessageOnPort(port); got !== undefined; got = receiveMessageOnPort(port)) accept(got.message as ThreadRequest[]);
  };
  const pump = async (): Promise<void> => {
    if (busy) return;
    busy = true;
    try {
      for (drain(); queue.length > 0; drain()) {
        const { task, bundlePath } = queue.shift() as (typeof queue)[number];
        starting = task.taskId;
        Atomics.store(shared, ThreadSlot.CURRENT, slotIdOf(task.taskId));
        const cancels = Atomics.load(shared, ThreadSlot.CANCEL_SEQ);
        if (cancels !== seenCancels) {
          seenCancels = cancels;
          drain();
        }
        starting = 0;
        const reply = cancelled.delete(task.taskId) ? { kind: 'skipped' as const, taskId: task.taskId } : await runTask(task, bundlePath, abortFlag(task.taskId));
        Atomics.store(shared, ThreadSlot.CURRENT, 0);
        port.postMessage(reply, transferable(reply));
      }
    } finally {
      busy = false;
    }
  };
  port.on('message', (requests: ThreadRequest[]) => {
    accept(requests);
    void pump();
  });
}

if (workerData !== null && typeof workerData === 'object' && 'port' in workerData) serve(workerData as ThreadData);
