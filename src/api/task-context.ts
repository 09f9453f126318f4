// TaskContext: what a running task may learn about itself (Spark's `org.apache.spark.TaskContext`): its
// partition, attempt, task and stage ids, and the custom-resource addresses it holds (reference §5.6;
// docs/resources.md, "Tasks"). Task functions are exports found by name on the executor, so they reach it
// through `TaskContext.get()`, as in Spark:
//
//   export function useGpu(records: number[]): string[] {
//     const gpus = TaskContext.get().resources()['gpu']?.addresses ?? [];
//     …
//   }
//
// The context of the task a thread is running lives under a global symbol, because the task runner's copy of
// this module and the copy inside the application's bundle are two module instances (as with shared-variables.ts).
// A pool thread runs one task at a time, so one slot per thread is enough.

import { FlintError } from '../errors.ts';

/** One resource a task holds: Spark's `ResourceInformation` (name and addresses). */
export interface ResourceInformation {
  readonly name: string;
  readonly addresses: readonly string[];
}

/** What the executor knows of the task it starts (from its LaunchTask). */
export interface TaskContextInfo {
  /** The partition the task computes (LaunchTask `partition`). */
  readonly partitionId: number;
  /** How many earlier attempts this task had (0 for the first). */
  readonly attemptNumber: number;
  /** The attempt's id, unique within the application (LaunchTask `taskId`). */
  readonly taskAttemptId: number;
  /** The stage the task belongs to: the scheduler job that runs the stage (LaunchTask `jobId`). */
  readonly stageId: number;
  /** The addresses it holds, by resource name (LaunchTask `resources`). */
  readonly resources?: Readonly<Record<string, readonly string[]>>;
}

/** `TaskContext.get()` outside a running task (on the driver, or in code a task did not call). */
export class NotInTaskError extends FlintError {
  constructor() {
    super(
      'FLINT_NOT_IN_TASK',
      'TaskContext.get() was called outside a running task: only code that a task runs on an executor (a function passed to map, filter, mapPartitions, runJob, …) has a task context',
    );
  }
}

const KEY = Symbol.for('flint.taskContext');

type Slot = Record<symbol, TaskContext | undefined>;

export class TaskContext {
  readonly #info: TaskContextInfo;
  readonly #resources: Readonly<Record<string, ResourceInformation>>;

  private constructor(info: TaskContextInfo) {
    this.#info = info;
    const resources: Record<string, ResourceInformation> = {};
    for (const [name, addresses] of Object.entries(info.resources ?? {})) {
      resources[name] = Object.freeze({ name, addresses: Object.freeze([...addresses]) });
    }
    this.#resources = Object.freeze(resources);
  }

  /** The context of the task running on this thread. Throws `NotInTaskError` outside a task (Spark returns null). */
  static get(): TaskContext {
    const current = (globalThis as Slot)[KEY];
    if (current === undefined) throw new NotInTaskError();
    return current;
  }

  /** Executor side (task-thread.ts): the task that starts now, or `undefined` when it ended. */
  static set(info: TaskContextInfo | undefined): void {
    (globalThis as Slot)[KEY] = info === undefined ? undefined : new TaskContext(info);
  }

  partitionId(): number {
    return this.#info.partitionId;
  }

  attemptNumber(): number {
    return this.#info.attemptNumber;
  }

  taskAttemptId(): number {
    return this.#info.taskAttemptId;
  }

  stageId(): number {
    return this.#info.stageId;
  }

  /** The addresses this task holds, by resource name (`flint.task.resource.<name>.amount`); `{}` when none. */
  resources(): Readonly<Record<string, ResourceInformation>> {
    return this.#resources;
  }
}
