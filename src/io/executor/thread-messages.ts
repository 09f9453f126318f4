// The run requests and task replies between the executor's main thread and its task threads (task-pool.ts,
// task-thread.ts), in a form that is cheap to post. postMessage clones with V8's serializer, which writes the
// name of every property of every object, and the thread reads them back: a no-op task's run request as the
// LaunchTask object it arrived as (eight objects and arrays) cost 2.5–3.9 µs to post and receive, the same
// numbers in one array 0.45–0.9 µs (docs/benchmarks.md, "2026-12-05: task threads"). So:
//
// - The parts of a task that the tasks of a stage share (its job id, ops, action, inline closures and the
//   bundle) go to a thread only when they differ from the last ones it was sent, as a `stage` request. The pool
//   compares them by value (`sameStage`): each task arrives from the driver as objects of its own.
// - A run request is an array: `[taskId, partition, attempt, start, end, step]` for a range partition, else
//   `[taskId, partition, attempt, source, extras]` (a task with broadcast variables or custom resources takes
//   this form too). The thread rebuilds the LaunchTask from it and the stage it has (`taskOf`).
// - A completed task's reply is `[taskId, records, runTimeMs, result]`; the rarer replies (a failure, a skipped
//   task, a result with accumulator updates) stay objects.

import type { InlineClosure, TaskAction, TaskFailure, TaskOp, TaskSource } from '../../protocol/task-messages.ts';
import type { LaunchTaskMessage } from '../../task/index.ts';

/** What the tasks of one stage share: a thread keeps the last one it was sent and builds its tasks with it. */
export interface StageParts {
  readonly kind: 'stage';
  readonly jobId: number;
  readonly ops: LaunchTaskMessage['ops'];
  readonly action: TaskAction;
  readonly closures?: LaunchTaskMessage['closures'];
  readonly bundlePath: string;
}

/** What a run request carries besides its source, when the task has any of it. */
export interface RunExtras {
  readonly broadcasts?: LaunchTaskMessage['broadcasts'];
  readonly resources?: LaunchTaskMessage['resources'];
}

/** One task to run, with the stage its thread was last sent (see the top of this file). */
export type RunRequest =
  | readonly [taskId: number, partition: number, attempt: number, start: number, end: number, step: number]
  | readonly [taskId: number, partition: number, attempt: number, source: TaskSource, extras: RunExtras | 0];

/** The stage parts of `task`, to send when they differ from what the thread has (`sameStage`). */
export function stageOf(task: LaunchTaskMessage, bundlePath: string): StageParts {
  const { jobId, ops, action, closures } = task;
  return closures === undefined ? { kind: 'stage', jobId, ops, action, bundlePath } : { kind: 'stage', jobId, ops, action, closures, bundlePath };
}

/** Whether `task` (run from `bundlePath`) belongs to the stage `stage`: its shared parts are equal by value. */
export function sameStage(stage: StageParts | undefined, task: LaunchTaskMessage, bundlePath: string): boolean {
  return (
    stage !== undefined &&
    stage.jobId === task.jobId &&
    stage.bundlePath === bundlePath &&
    samePlain(stage.ops, task.ops) &&
    samePlain(stage.action, task.action) &&
    samePlain(stage.closures, task.closures)
  );
}

/** The run request of `task`: its stage parts are left out (the thread has them, `sameStage`). */
export function runRequestOf(task: LaunchTaskMessage): RunRequest {
  const { taskId, partition, attempt, source, broadcasts, resources } = task;
  if (broadcasts === undefined && resources === undefined) {
    return source.kind === 'range' ? [taskId, partition, attempt, source.start, source.end, source.step] : [taskId, partition, attempt, source, 0];
  }
  const extras: { broadcasts?: RunExtras['broadcasts']; resources?: RunExtras['resources'] } = {};
  if (broadcasts !== undefined) extras.broadcasts = broadcasts;
  if (resources !== undefined) extras.resources = resources;
  return [taskId, partition, attempt, source, extras];
}

/** The task of a run request, rebuilt with the stage parts its thread was last sent. */
export function taskOf(run: RunRequest, stage: StageParts): LaunchTaskMessage {
  const [taskId, partition, attempt] = run;
  const ranged = typeof run[3] === 'number';
  const source: TaskSource = ranged ? { kind: 'range', start: run[3] as number, end: run[4] as number, step: run[5] as number } : (run[3] as TaskSource);
  const task: { -readonly [K in keyof LaunchTaskMessage]: LaunchTaskMessage[K] } = {
    type: 'LaunchTask',
    taskId,
    jobId: stage.jobId,
    partition,
    attempt,
    source,
    ops: stage.ops as TaskOp[],
    action: stage.action,
  };
  if (stage.closures !== undefined) task.closures = stage.closures as InlineClosure[];
  const extras = ranged ? 0 : (run[4] as RunExtras | 0);
  if (extras !== 0) {
    if (extras.broadcasts !== undefined) task.broadcasts = extras.broadcasts;
    if (extras.resources !== undefined) task.resources = extras.resources;
  }
  return task;
}

/** Whether a request to a thread is a run request (the other requests are objects with a `kind`). */
export function isRunRequest(request: RunRequest | { readonly kind: string }): request is RunRequest {
  return Array.isArray(request);
}

/** A completed task's reply without accumulator updates, the common one: see the top of this file. */
export type CompletedReply = readonly [taskId: number, records: number, runTimeMs: number, result: Uint8Array];

/** A thread's answer to one task. */
export type TaskReply =
  | CompletedReply
  | {
      readonly kind: 'completed';
      readonly taskId: number;
      readonly result: Uint8Array;
      readonly records: number;
      readonly runTimeMs: number;
      readonly accumulators: Readonly<Record<string, number>>;
    }
  | { readonly kind: 'errored'; readonly taskId: number; readonly failure: TaskFailure; readonly runTimeMs: number }
  /** Cancelled before it started: it did not run. */
  | { readonly kind: 'skipped'; readonly taskId: number };

/** The task a reply answers. */
export function replyTaskId(reply: TaskReply): number {
  return isCompletedReply(reply) ? reply[0] : reply.taskId;
}

export function isCompletedReply(reply: TaskReply): reply is CompletedReply {
  return Array.isArray(reply);
}

/**
 * Equality by value of the plain data a LaunchTask's stage parts are made of (msgpack-decoded objects, arrays,
 * strings, numbers, booleans, byte arrays, undefined). Keys are compared as sets: their order does not matter.
 */
export function samePlain(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a)) {
    if (!Array.isArray(b) || a.length !== b.length) return false;
    for (let i = 0; i < a.length; i++) if (!samePlain(a[i], b[i])) return false;
    return true;
  }
  if (Array.isArray(b)) return false;
  if (a instanceof Uint8Array || b instanceof Uint8Array) {
    return a instanceof Uint8Array && b instanceof Uint8Array && a.byteLength === b.byteLength && Buffer.compare(a, b) === 0;
  }
  const aKeys = Object.keys(a);
  if (aKeys.length !== Object.keys(b).length) return false;
  for (const key of aKeys) {
    if (!Object.hasOwn(b, key) || !samePlain((a as Record<string, unknown>)[key], (b as Record<string, unknown>)[key])) return false;
  }
  return true;
}
