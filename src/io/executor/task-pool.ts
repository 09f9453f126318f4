// The executor's thread pool: `threads` worker threads (tinypool) running task-thread.ts, one task per thread
// at a time. The executor machine never hands out more tasks than threads, so nothing queues here.
//
// Killing a task (CancelTask) is two-step, as Spark's TaskReaper is: first the task's abort flag is set, which
// evaluateTask checks between records; a task that has not answered `graceMs` later (stuck inside one record,
// e.g. a synchronous endless loop) has its thread terminated, and a fresh thread takes its place.

import { fileURLToPath } from 'node:url';
import { Tinypool } from 'tinypool';
import type { ExecutorInput, LaunchTaskMessage } from '../../executor/index.ts';
import type { TaskReply, TaskRequest } from './task-thread.ts';

/** The pool's one answer to a task, as the executor machine's input. */
export type TaskOutcome = Extract<ExecutorInput, { type: 'TaskCompleted' | 'TaskErrored' | 'TaskAborted' }>;

interface Running {
  readonly flag: Int32Array;
  readonly abort: AbortController;
  readonly startedMs: number;
  killTimer?: NodeJS.Timeout;
}

const THREAD_MODULE = fileURLToPath(new URL('./task-thread.ts', import.meta.url));

export class TaskPool {
  readonly #pool: Tinypool;
  readonly #running = new Map<number, Running>();

  constructor(threads: number) {
    this.#pool = new Tinypool({
      filename: THREAD_MODULE,
      minThreads: threads,
      maxThreads: threads,
      isolateWorkers: false,
    });
  }

  /** Runs `task` on a free thread; resolves (never rejects) with its one outcome. */
  async run(task: LaunchTaskMessage, bundlePath: string): Promise<TaskOutcome> {
    const taskId = task.taskId;
    if (this.#running.has(taskId)) throw new Error(`task ${taskId} is already running in the pool`);
    const flag = new Int32Array(new SharedArrayBuffer(Int32Array.BYTES_PER_ELEMENT));
    const running: Running = { flag, abort: new AbortController(), startedMs: performance.now() };
    this.#running.set(taskId, running);
    const request: TaskRequest = { task, bundlePath, abortFlag: flag.buffer as SharedArrayBuffer };
    try {
      const reply = (await this.#pool.run(request, { signal: running.abort.signal })) as TaskReply;
      if (reply.kind === 'completed') {
        return { type: 'TaskCompleted', taskId, result: reply.result, records: reply.records, runTimeMs: reply.runTimeMs };
      }
      return { type: 'TaskErrored', taskId, error: reply.failure, runTimeMs: reply.runTimeMs };
    } catch (err) {
      const runTimeMs = performance.now() - running.startedMs;
      if (running.abort.signal.aborted) return { type: 'TaskAborted', taskId, runTimeMs };
      // The thread itself died (an uncaught error inside it, or it ran out of memory): the task failed.
      const why = err instanceof Error ? err.message : String(err);
      const stack = err instanceof Error ? (err.stack ?? '') : '';
      const message = `The executor thread running task ${taskId} died: ${why}`;
      return { type: 'TaskErrored', taskId, error: { name: 'ExecutorThreadLost', message, stack }, runTimeMs };
    } finally {
      clearTimeout(running.killTimer);
      this.#running.delete(taskId);
    }
  }

  /** Asks the task to stop; ends its thread if it has not answered within `graceMs`. */
  cancel(taskId: number, graceMs: number): void {
    const running = this.#running.get(taskId);
    if (running === undefined || running.killTimer !== undefined) return;
    Atomics.store(running.flag, 0, 1);
    running.killTimer = setTimeout(() => running.abort.abort(), graceMs);
  }

  /** Tasks on a thread right now. */
  get runningCount(): number {
    return this.#running.size;
  }

  /** Ends every thread without waiting for its task. */
  async destroy(): Promise<void> {
    for (const running of this.#running.values()) clearTimeout(running.killTimer);
    await this.#pool.destroy();
  }
}
