// The task attempts the application UI's history retains (history.ts), kept in columns instead of an object and a
// map entry per attempt. The driver records every attempt it launches and keeps the last `flint.ui.retainedTasks`
// (100,000) that ended, as Spark's `AppStatusListener` does. As objects in a Map, each attempt lived long enough
// to be promoted to V8's old generation and died there, 40,000 a second in a job of no-op tasks, and the Map's
// table outgrew the CPU's caches: in alternated runs the driver spent a median of 13.25 µs of CPU a task with 1,000
// retained against 16 with 100,000 (docs/benchmarks.md, "2026-12-05: task threads"). Here an attempt is a few numbers
// in typed arrays, which the collector never traces, and a reference to its executor's id.
//
// Task ids come in increasing order (the driver numbers its attempts). The columns are a ring over a window of
// ids [lo, hi): an id's slot is `id % capacity`. When a new id does not fit in the window, the window moves up:
// it passes over ids no longer retained, and an attempt still retained at its low end (a task that runs for a
// long time while many short ones pass) moves to `#overflow`, a Map of objects, unless half the window is in
// use, in which case the columns double. So the columns hold about twice what is retained at most.

import type { TaskHistory, TaskRunState } from './history.ts';

const STATES: readonly TaskRunState[] = ['RUNNING', 'GET RESULT', 'SUCCESS', 'FAILED', 'KILLED', 'LOST'];
/** A slot's state code: 0 when it holds no attempt, else the index in STATES plus one. */
const ABSENT = 0;
const codeOf = (state: TaskRunState): number => STATES.indexOf(state) + 1;

const FIRST_CAPACITY = 1024;

/** A new attempt: the history's record of it without the parts that come later. */
export type LaunchedAttempt = Omit<TaskHistory, 'state' | 'endedMs' | 'error'>;

export class AttemptTable {
  #capacity = FIRST_CAPACITY;
  /** The lowest id the window holds, and one past the highest id added (ids in between may be absent). */
  #lo = 0;
  #hi = 0;
  /** Attempts in the window. */
  #inWindow = 0;
  #state = new Uint8Array(FIRST_CAPACITY);
  #jobId = new Float64Array(FIRST_CAPACITY);
  #index = new Int32Array(FIRST_CAPACITY);
  #partition = new Int32Array(FIRST_CAPACITY);
  #attempt = new Int32Array(FIRST_CAPACITY);
  #launchedMs = new Float64Array(FIRST_CAPACITY);
  /** NaN while it has not ended. */
  #endedMs = new Float64Array(FIRST_CAPACITY);
  #executorId: string[] = new Array<string>(FIRST_CAPACITY).fill('');
  /** Why an attempt failed, was killed or lost: few have one. */
  readonly #errors = new Map<number, string>();
  /** Retained attempts that the window has moved past, and any added out of order. */
  readonly #overflow = new Map<number, TaskHistory>();

  /** Attempts held. */
  get size(): number {
    return this.#inWindow + this.#overflow.size;
  }

  /** Slots in the columns (for tests and the docs' figures). */
  get capacity(): number {
    return this.#capacity;
  }

  /** Records a new attempt, RUNNING. */
  add(attempt: LaunchedAttempt): void {
    const { taskId } = attempt;
    if (this.has(taskId)) throw new Error(`task attempt ${taskId} is already recorded`);
    if (taskId < this.#hi) {
      this.#overflow.set(taskId, { ...attempt, state: 'RUNNING', endedMs: undefined, error: undefined });
      return;
    }
    while (taskId - this.#lo >= this.#capacity) {
      if (this.#inWindow === 0) this.#lo = taskId;
      else if (this.#inWindow * 2 >= this.#capacity) this.#grow();
      else this.#passLowest();
    }
    this.#hi = taskId + 1;
    const slot = taskId % this.#capacity;
    this.#state[slot] = codeOf('RUNNING');
    this.#jobId[slot] = attempt.jobId;
    this.#index[slot] = attempt.index;
    this.#partition[slot] = attempt.partition;
    this.#attempt[slot] = attempt.attempt;
    this.#launchedMs[slot] = attempt.launchedMs;
    this.#endedMs[slot] = Number.NaN;
    this.#executorId[slot] = attempt.executorId;
    this.#inWindow += 1;
  }

  has(taskId: number): boolean {
    return this.#slotOf(taskId) >= 0 || this.#overflow.has(taskId);
  }

  /** The attempt's state, or undefined when it is not held. */
  stateOf(taskId: number): TaskRunState | undefined {
    const slot = this.#slotOf(taskId);
    if (slot >= 0) return STATES[(this.#state[slot] as number) - 1];
    return this.#overflow.get(taskId)?.state;
  }

  /** The attempt's record, as an object of its own (changing it changes nothing here). */
  get(taskId: number): TaskHistory | undefined {
    const slot = this.#slotOf(taskId);
    if (slot < 0) {
      const held = this.#overflow.get(taskId);
      return held === undefined ? undefined : { ...held };
    }
    return this.#recordAt(slot, taskId);
  }

  /** The attempt's job, its executor and when it was launched; undefined when it is not held. */
  launchOf(taskId: number): { readonly jobId: number; readonly executorId: string; readonly launchedMs: number } | undefined {
    const slot = this.#slotOf(taskId);
    if (slot >= 0) return { jobId: this.#jobId[slot] as number, executorId: this.#executorId[slot] as string, launchedMs: this.#launchedMs[slot] as number };
    return this.#overflow.get(taskId);
  }

  /** Sets a held attempt's state; an ended one gets its end time and, when given, why. */
  setState(taskId: number, state: TaskRunState, endedMs?: number, error?: string): void {
    const slot = this.#slotOf(taskId);
    if (slot < 0) {
      const held = this.#overflow.get(taskId);
      if (held === undefined) return;
      held.state = state;
      if (endedMs !== undefined) held.endedMs = endedMs;
      if (error !== undefined) held.error = error;
      return;
    }
    this.#state[slot] = codeOf(state);
    if (endedMs !== undefined) this.#endedMs[slot] = endedMs;
    if (error !== undefined) this.#errors.set(taskId, error);
  }

  /** Forgets the attempt; false when it was not held. */
  delete(taskId: number): boolean {
    const slot = this.#slotOf(taskId);
    if (slot < 0) return this.#overflow.delete(taskId);
    this.#state[slot] = ABSENT;
    this.#executorId[slot] = '';
    this.#errors.delete(taskId);
    this.#inWindow -= 1;
    return true;
  }

  /** The slot holding `taskId` in the window, or -1. */
  #slotOf(taskId: number): number {
    if (taskId < this.#lo || taskId >= this.#hi || !Number.isInteger(taskId)) return -1;
    const slot = taskId % this.#capacity;
    return this.#state[slot] === ABSENT ? -1 : slot;
  }

  #recordAt(slot: number, taskId: number): TaskHistory {
    const ended = this.#endedMs[slot] as number;
    return {
      taskId,
      jobId: this.#jobId[slot] as number,
      index: this.#index[slot] as number,
      partition: this.#partition[slot] as number,
      attempt: this.#attempt[slot] as number,
      executorId: this.#executorId[slot] as string,
      state: STATES[(this.#state[slot] as number) - 1] as TaskRunState,
      launchedMs: this.#launchedMs[slot] as number,
      endedMs: Number.isNaN(ended) ? undefined : ended,
      error: this.#errors.get(taskId),
    };
  }

  /** Moves the window's low end up by one id: an attempt held there goes to the overflow map. */
  #passLowest(): void {
    const taskId = this.#lo;
    const slot = taskId % this.#capacity;
    if (taskId < this.#hi && this.#state[slot] !== ABSENT) {
      this.#overflow.set(taskId, this.#recordAt(slot, taskId));
      this.delete(taskId);
    }
    this.#lo += 1;
  }

  /** Doubles the columns, each held attempt moving to its slot in the larger ring. */
  #grow(): void {
    const from = this.#capacity;
    const to = from * 2;
    const state = new Uint8Array(to);
    const jobId = new Float64Array(to);
    const index = new Int32Array(to);
    const partition = new Int32Array(to);
    const attempt = new Int32Array(to);
    const launchedMs = new Float64Array(to);
    const endedMs = new Float64Array(to);
    const executorId = new Array<string>(to).fill('');
    for (let taskId = this.#lo; taskId < this.#hi; taskId++) {
      const a = taskId % from;
      if (this.#state[a] === ABSENT) continue;
      const b = taskId % to;
      state[b] = this.#state[a] as number;
      jobId[b] = this.#jobId[a] as number;
      index[b] = this.#index[a] as number;
      partition[b] = this.#partition[a] as number;
      attempt[b] = this.#attempt[a] as number;
      launchedMs[b] = this.#launchedMs[a] as number;
      endedMs[b] = this.#endedMs[a] as number;
      executorId[b] = this.#executorId[a] as string;
    }
    this.#capacity = to;
    this.#state = state;
    this.#jobId = jobId;
    this.#index = index;
    this.#partition = partition;
    this.#attempt = attempt;
    this.#launchedMs = launchedMs;
    this.#endedMs = endedMs;
    this.#executorId = executorId;
  }
}
