// The executor's thread pool: `threads` node:worker_threads threads running task-thread.ts. Each thread runs
// one task at a time from a short queue of its own (at most TASKS_PER_THREAD tasks, the running one included),
// so it starts its next task without a round trip through the main thread. Nothing is allocated per task
// beyond the messages: each thread has one channel and one SharedArrayBuffer (task-thread.ts `ThreadSlot`).
// The run requests of one turn go to a thread in one message. A thread's replies are read in one go (the
// first by the port's event, the rest with receiveMessageOnPort), so the outcomes of one turn, and the
// StatusUpdates they cause, leave together.
//
// Killing a task (CancelTask) is two-step, as Spark's TaskReaper is. A task still queued on its thread is
// answered TaskAborted at once and never runs (the thread skips it). A started one has its thread's abort
// slot set, which evaluateTask checks between records; if it has not answered `graceMs` later (stuck inside
// one record, e.g. a synchronous endless loop) its thread is terminated. A thread that ends, terminated or
// dead of its own (an uncaught error in a timer, out of memory), is replaced: the task it was on ends
// (TaskAborted when killed, else TaskErrored ExecutorThreadLost), its queued tasks move to the new thread.

import { NUMBER_ALIGN } from '../../util/own-buffer.ts';
import { programPath } from '../../util/install.ts';
import { MessageChannel, Worker, receiveMessageOnPort, type MessagePort } from 'node:worker_threads';
import type { ExecutorInput, LaunchTaskMessage } from '../../executor/index.ts';
import type { FetchAnswer, FetchRequest, ThreadData, ThreadRequest, ThreadShuffleData } from './task-thread.ts';
import { isCompletedReply, isRunRequest, replyTaskId, runRequestOf, sameStage, stageOf, type StageParts, type TaskReply } from './thread-messages.ts';
import { ThreadSlot, slotIdOf } from './thread-slot.ts';
import type { BlockId, ShuffleEnv } from './shuffle-task.ts';

/** The executor's shuffle settings and how its main thread fetches a block's bytes for a pool thread. */
export interface PoolShuffle {
  readonly settings: Omit<ShuffleEnv, 'fetchChunk'>;
  /** Each thread's share of the memory for cached partitions. */
  readonly storageLimitBytes: number;
  fetchChunk(service: string, block: BlockId, offset: number, length: number): Promise<{ data: Uint8Array; blockLength: number }>;
}

/** The pool's one answer to a task, as the executor machine's input. */
export type TaskOutcome = Extract<ExecutorInput, { kind: 'TaskCompleted' | 'TaskErrored' | 'TaskAborted' }>;

/**
 * Tasks one thread holds at most: the one it runs and the ones queued behind it. The executor machine hands
 * the pool at most `threads × TASKS_PER_THREAD` tasks (ExecutorMachineOptions.tasksPerCore). It is the running
 * task and as many as the driver prefetches per core by default (`flint.task.prefetch`, 128), so a thread holds
 * everything its executor is sent for it. A thread whose queue runs dry sleeps, and waking it again costs its
 * waker: on a virtual machine whose idle vCPUs halt, a `postMessage` to a sleeping thread is a wake-up of a
 * halted vCPU. With 8 a thread, its queue ran dry after every few no-op tasks; with a full prefetch the tasks of
 * the next batch arrive while it still has some (docs/benchmarks.md, "2026-12-05: task threads"). Prefetch
 * queues only short tasks, about 5 ms of work per core at most, so a deep queue never holds much work back from
 * other threads.
 */
export const TASKS_PER_THREAD = 129;

interface Pending {
  readonly task: LaunchTaskMessage;
  readonly bundlePath: string;
  /** Set by `cancel` (the task ends as TaskAborted whatever the thread answers). */
  killed: boolean;
  killTimer?: NodeJS.Timeout;
}

interface Thread {
  readonly worker: Worker;
  readonly port: MessagePort;
  readonly shared: Int32Array;
  /** Tasks posted to this thread and not yet answered, in the order the thread runs them. */
  readonly pending: Map<number, Pending>;
  /** Broadcast ids whose value this thread has been given. */
  readonly broadcasts: Set<number>;
  /** Run requests not posted yet, posted together (one wake-up of the thread): see #post. */
  outbox: ThreadRequest[];
  /** The stage parts this thread was last sent: its run requests leave them out (thread-messages.ts). */
  stage?: StageParts;
  /** Being terminated or dead: its tasks are settled (or moved) when it exits. */
  ending: boolean;
  /** The thread started running JavaScript (the worker's 'online' event). */
  online: boolean;
  error?: unknown;
}

/**
 * A thread started before its executor has an application (a standby executor's, docs/standby-executors.md):
 * Node takes some 50–100 ms to start a thread, which a task pool made once the executor has registered would
 * otherwise spend on the application's first task. The pool that adopts it gives it the shuffle settings then
 * (task-thread.ts `configure`).
 */
export interface WarmThread {
  readonly worker: Worker;
  readonly port: MessagePort;
  readonly shared: Int32Array;
  online: boolean;
  /** It exited before a pool adopted it: the pool starts a thread of its own instead. */
  exited: boolean;
}

/**
 * Resolves once the warm thread runs JavaScript, or has exited (a pool then starts its own). The thread keeps the
 * process alive meanwhile, and no longer.
 */
export function warmThreadStarted(warm: WarmThread): Promise<void> {
  if (warm.online || warm.exited) return Promise.resolve();
  warm.worker.ref();
  return new Promise((resolve) => {
    const done = (): void => {
      warm.worker.unref();
      resolve();
    };
    warm.worker.once('online', done);
    warm.worker.once('exit', done);
  });
}

/** Starts a thread with no application yet, for a TaskPool to adopt (standby executors). */
export function startWarmThread(): WarmThread {
  const { port1, port2 } = new MessageChannel();
  const shared = new Int32Array(new SharedArrayBuffer(ThreadSlot.LENGTH * Int32Array.BYTES_PER_ELEMENT));
  const worker = new Worker(THREAD_MODULE, { workerData: { port: port2, shared: shared.buffer as SharedArrayBuffer } satisfies ThreadData, transferList: [port2] });
  const warm: WarmThread = { worker, port: port1, shared, online: false, exited: false };
  worker.once('online', () => (warm.online = true));
  worker.once('exit', () => (warm.exited = true));
  // Until adopted it must not keep a standby's event loop alive, nor take down the process if it fails.
  worker.on('error', () => {});
  worker.unref();
  port1.unref();
  return warm;
}

/** A thread that could not even start is replaced after this long, not at once (no tight respawn loop). */
const RESTART_AFTER_FAILED_START_MS = 1_000;

const THREAD_MODULE = programPath('task-thread');

export class TaskPool {
  readonly #threads: Thread[] = [];
  readonly #where = new Map<number, Thread>();
  readonly #onOutcome: (outcome: TaskOutcome) => void;
  #destroyed = false;

  readonly #shuffle: PoolShuffle | undefined;
  /** Broadcast values the driver sent this executor, by id. */
  readonly #broadcastData = new Map<number, Uint8Array>();

  /**
   * `onOutcome` receives each task's one outcome, never synchronously from `run`. A `warm` thread (startWarmThread)
   * is the first of the `threads`, unless it has exited meanwhile.
   */
  constructor(threads: number, onOutcome: (outcome: TaskOutcome) => void, shuffle?: PoolShuffle, warm?: WarmThread) {
    this.#onOutcome = onOutcome;
    this.#shuffle = shuffle;
    if (warm !== undefined && !warm.exited) this.#threads.push(this.#adopt(warm));
    while (this.#threads.length < threads) this.#threads.push(this.#startThread());
  }

  /** Queues `task` on the thread holding the fewest tasks. */
  run(task: LaunchTaskMessage, bundlePath: string): void {
    const taskId = task.taskId;
    if (this.#where.has(taskId)) throw new Error(`task ${taskId} is already in the pool`);
    let thread = this.#threads[0] as Thread;
    for (const other of this.#threads) if (other.pending.size < thread.pending.size) thread = other;
    // A persisted partition lives in one thread's memory: its tasks always go to that thread.
    const source = task.source;
    if (source.kind === 'cache') thread = this.#threads[(source.id * 31 + source.partition) % this.#threads.length] as Thread;
    this.#post(thread, { task, bundlePath, killed: false });
  }

  /**
   * The task with each broadcast value the thread has not had yet: the driver sends a value to this executor
   * once (offers.ts), the pool keeps it and gives it to each thread once.
   */
  #withBroadcasts(thread: Thread, task: LaunchTaskMessage): LaunchTaskMessage {
    const broadcasts = task.broadcasts;
    if (broadcasts === undefined) return task;
    for (const b of broadcasts) if (b.data !== undefined) this.#broadcastData.set(b.id, b.data);
    return {
      ...task,
      broadcasts: broadcasts.map(({ name, id }) => {
        if (thread.broadcasts.has(id)) return { name, id };
        const data = this.#broadcastData.get(id);
        if (data === undefined) return { name, id };
        thread.broadcasts.add(id);
        return { name, id, data };
      }),
    };
  }

  /** Has every thread import the application's bundle ahead of its first task (task-thread.ts `load`). */
  preload(bundlePath: string): void {
    for (const thread of this.#threads) if (!thread.ending) thread.port.postMessage([{ kind: 'load', bundlePath }] satisfies ThreadRequest[]);
  }

  /** Drops a dataset's cached partitions on every thread (unpersist). */
  uncache(id: number): void {
    for (const thread of this.#threads) {
      if (thread.ending) continue;
      thread.port.postMessage([{ kind: 'uncache', id }] satisfies ThreadRequest[]);
    }
  }

  /** Asks the task to stop: at once if it has not started, else by its abort slot, then by ending its thread. */
  cancel(taskId: number, graceMs: number): void {
    const thread = this.#where.get(taskId);
    const pending = thread?.pending.get(taskId);
    if (thread === undefined || pending === undefined || pending.killed) return;
    pending.killed = true;
    if (thread.ending) return;
    const unposted = thread.outbox.findIndex((request) => isRunRequest(request) && request[0] === taskId);
    if (unposted >= 0) {
      thread.outbox.splice(unposted, 1);
      queueMicrotask(() => this.#settle(thread, { kind: 'skipped', taskId }));
      return;
    }
    // The order matters (task-thread.ts): post, count, then look at what the thread is on.
    thread.port.postMessage([{ kind: 'cancel', taskId }] satisfies ThreadRequest[]);
    Atomics.add(thread.shared, ThreadSlot.CANCEL_SEQ, 1);
    if (Atomics.load(thread.shared, ThreadSlot.CURRENT) !== slotIdOf(taskId)) {
      // Not started (so it never will), or already answered: either way it ends KILLED without running more.
      queueMicrotask(() => this.#settle(thread, { kind: 'skipped', taskId }));
      return;
    }
    Atomics.store(thread.shared, ThreadSlot.ABORT, slotIdOf(taskId));
    pending.killTimer = setTimeout(() => this.#end(thread), graceMs);
  }

  /** Tasks in the pool (running or queued on a thread). */
  get taskCount(): number {
    return this.#where.size;
  }

  /** Ends every thread without waiting for its tasks; no outcome is reported after this. */
  async destroy(): Promise<void> {
    this.#destroyed = true;
    const threads = this.#threads.splice(0);
    for (const thread of threads) for (const pending of thread.pending.values()) clearTimeout(pending.killTimer);
    await Promise.all(threads.map((thread) => thread.worker.terminate()));
  }

  #startThread(): Thread {
    const { port1, port2 } = new MessageChannel();
    const shared = new Int32Array(new SharedArrayBuffer(ThreadSlot.LENGTH * Int32Array.BYTES_PER_ELEMENT));
    const shuffle = this.#threadShuffle();
    const data: ThreadData = { port: port2, shared: shared.buffer as SharedArrayBuffer, ...(shuffle === undefined ? {} : { shuffle }) };
    const worker = new Worker(THREAD_MODULE, { workerData: data, transferList: shuffle === undefined ? [port2] : [port2, shuffle.port] });
    const thread: Thread = { worker, port: port1, shared, pending: new Map(), broadcasts: new Set(), outbox: [], ending: false, online: false };
    worker.once('online', () => (thread.online = true));
    return this.#watch(thread);
  }

  /** A warm thread as one of the pool's, given the executor's environment and shuffle settings first. */
  #adopt(warm: WarmThread): Thread {
    const { worker, port, shared } = warm;
    const thread: Thread = { worker, port, shared, pending: new Map(), broadcasts: new Set(), outbox: [], ending: false, online: warm.online };
    if (!warm.online) worker.once('online', () => (thread.online = true));
    worker.removeAllListeners('error');
    worker.ref();
    port.ref();
    const shuffle = this.#threadShuffle();
    const configure: ThreadRequest = { kind: 'configure', env: { ...process.env }, ...(shuffle === undefined ? {} : { shuffle }) };
    port.postMessage([configure], shuffle === undefined ? [] : [shuffle.port]);
    return this.#watch(thread);
  }

  /** A thread's shuffle settings and its end of a new channel for block fetches, served here; none without a shuffle. */
  #threadShuffle(): ThreadShuffleData | undefined {
    if (this.#shuffle === undefined) return undefined;
    const fetches = new MessageChannel();
    this.#serveFetches(fetches.port1);
    return { settings: this.#shuffle.settings, storageLimitBytes: this.#shuffle.storageLimitBytes, port: fetches.port2 };
  }

  /** Listens to a thread's replies, errors and exit. */
  #watch(thread: Thread): Thread {
    thread.port.on('message', (first: TaskReply) => {
      this.#settle(thread, first);
      this.#drainReplies(thread);
    });
    thread.worker.on('error', (err) => (thread.error = err));
    thread.worker.on('exit', () => this.#exited(thread));
    return thread;
  }

  /** Answers a thread's block fetches through the executor's RPC env (the threads have none). */
  #serveFetches(port: MessagePort): void {
    const shuffle = this.#shuffle as PoolShuffle;
    port.on('message', (request: FetchRequest) => {
      shuffle.fetchChunk(request.service, request.block, request.offset, request.length).then(
        ({ data, blockLength }) => port.postMessage({ id: request.id, data, blockLength } satisfies FetchAnswer),
        (err: unknown) => port.postMessage({ id: request.id, error: err instanceof Error ? err.message : String(err) } satisfies FetchAnswer),
      );
    });
    port.unref();
  }

  #post(thread: Thread, pending: Pending): void {
    const taskId = pending.task.taskId;
    const idle = thread.pending.size === 0;
    thread.pending.set(taskId, pending);
    this.#where.set(taskId, thread);
    if (thread.ending) return; // posted to the replacement when this thread has exited
    // An idle thread gets its task at the end of this microtask turn. A busy one has work queued already:
    // its new tasks wait for the loop's check phase, so all those of this turn of the loop go in one message
    // (each message costs a structured clone and a wake-up of the thread).
    if (thread.outbox.length === 0) {
      if (idle) queueMicrotask(() => this.#flush(thread));
      else setImmediate(() => this.#flush(thread));
    }
    const task = sliceCopy(this.#withBroadcasts(thread, pending.task));
    if (!sameStage(thread.stage, task, pending.bundlePath)) {
      thread.stage = stageOf(task, pending.bundlePath);
      thread.outbox.push(thread.stage);
    }
    thread.outbox.push(runRequestOf(task));
  }

  #flush(thread: Thread): void {
    const requests = thread.outbox;
    if (requests.length === 0 || thread.ending) return;
    thread.outbox = [];
    // Each slice is a copy of its own (sliceCopy): its buffer moves to the thread.
    const transfer: ArrayBuffer[] = [];
    for (const request of requests) {
      if (!isRunRequest(request)) continue;
      const source = request[3];
      if (typeof source === 'object' && source.kind === 'slice') transfer.push(source.data.buffer as ArrayBuffer);
    }
    thread.port.postMessage(requests, transfer);
  }

  #drainReplies(thread: Thread): void {
    for (let got = receiveMessageOnPort(thread.port); got !== undefined; got = receiveMessageOnPort(thread.port)) {
      this.#settle(thread, got.message as TaskReply);
    }
  }

  /** Turns a thread's reply into the task's outcome, unless the task was already answered. */
  #settle(thread: Thread, reply: TaskReply): void {
    const taskId = replyTaskId(reply);
    const pending = thread.pending.get(taskId);
    if (pending === undefined || this.#destroyed) return;
    thread.pending.delete(taskId);
    this.#where.delete(taskId);
    clearTimeout(pending.killTimer);
    if (isCompletedReply(reply)) return this.#onOutcome({ kind: 'TaskCompleted', taskId, result: reply[3], records: reply[1], runTimeMs: reply[2] });
    switch (reply.kind) {
      case 'completed':
        return this.#onOutcome({
          kind: 'TaskCompleted',
          taskId,
          result: reply.result,
          records: reply.records,
          runTimeMs: reply.runTimeMs,
          accumulators: reply.accumulators,
        });
      case 'errored':
        return this.#onOutcome({ kind: 'TaskErrored', taskId, error: reply.failure, runTimeMs: reply.runTimeMs });
      case 'skipped':
        return this.#onOutcome({ kind: 'TaskAborted', taskId, runTimeMs: 0 });
      default: {
        const never: never = reply;
        throw new Error(`unknown thread reply ${JSON.stringify(never)}`);
      }
    }
  }

  /** Terminates a thread whose killed task did not stop in time; `#exited` settles its tasks. */
  #end(thread: Thread): void {
    if (thread.ending) return;
    thread.ending = true;
    void thread.worker.terminate();
  }

  /**
   * A thread ended (terminated, or dead of its own). Its last replies are read first; then the task it was on
   * ends, and the tasks queued behind it move to a new thread (killed ones end without running).
   */
  #exited(thread: Thread): void {
    thread.ending = true;
    thread.outbox = [];
    this.#drainReplies(thread);
    thread.port.close();
    if (!thread.online) {
      // It never ran: its first task is failed in its place, so a thread that cannot start fails tasks one by
      // one (the driver sees why) instead of holding them forever.
      setTimeout(() => this.#replace(thread), RESTART_AFTER_FAILED_START_MS).unref();
      return;
    }
    this.#replace(thread);
  }

  #replace(thread: Thread): void {
    const index = this.#threads.indexOf(thread);
    if (this.#destroyed || index < 0) return;
    const fresh = this.#startThread();
    this.#threads[index] = fresh;
    // The task the thread was on: its CURRENT slot once it runs JavaScript, else the first one posted to it.
    const running = thread.online ? Atomics.load(thread.shared, ThreadSlot.CURRENT) : undefined;
    const first = thread.pending.keys().next().value;
    const wasCurrent = (taskId: number): boolean => (running === undefined ? taskId === first : running === slotIdOf(taskId));
    for (const [taskId, pending] of thread.pending) {
      clearTimeout(pending.killTimer);
      this.#where.delete(taskId);
      if (pending.killed) {
        this.#onOutcome({ kind: 'TaskAborted', taskId, ...(wasCurrent(taskId) ? {} : { runTimeMs: 0 }) });
      } else if (wasCurrent(taskId)) {
        const err = thread.error;
        const why = err instanceof Error ? err.message : err === undefined ? 'it exited' : String(err);
        const stack = err instanceof Error ? (err.stack ?? '') : '';
        const message = `The executor thread running task ${taskId} died: ${why}`;
        this.#onOutcome({ kind: 'TaskErrored', taskId, error: { name: 'ExecutorThreadLost', message, stack } });
      } else {
        this.#post(fresh, pending);
      }
    }
    thread.pending.clear();
  }
}

/**
 * The task with a copy of its parallelize slice in a buffer of its own, which is moved to the thread rather than
 * cloned (a clone is a copy into the message and another out of it). A slice arrives as a view into the frame it
 * came in, which may hold other tasks' slices too, or, handed over in the process (local mode), as the driver's
 * own bytes, which must stay: either way the copy is the one the thread gets. Its offset in its buffer is kept
 * modulo 8, so that the numbers of a list the driver aligned stay aligned (record-codec.ts numberArrayBytes).
 */
function sliceCopy(task: LaunchTaskMessage): LaunchTaskMessage {
  const source = task.source;
  if (source.kind !== 'slice') return task;
  const { data } = source;
  const offset = data.byteOffset % NUMBER_ALIGN;
  const copy = new Uint8Array(new ArrayBuffer(offset + data.byteLength), offset);
  copy.set(data);
  return { ...task, source: { ...source, data: copy } };
}
