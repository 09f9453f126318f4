// One endpoint's mailbox: runs tasks strictly one after another, awaiting async ones.
//
// A task that throws is reported to `onTaskError` and the inbox goes on. Synchronous tasks are run without
// an extra await, so a burst of cheap messages costs no promise per message.

export type InboxTask = () => void | Promise<void>;
/** Called instead of the task when the inbox is closed before the task ran (an endpoint stopped). */
export type DropHandler = () => void;

/** A task as an object (rpc-env.ts's deliveries): one allocation for what `post` needs a closure or two for. */
export interface InboxJob {
  run(): void | Promise<void>;
  /** Called instead of `run` when the inbox is closed before the job ran. */
  drop?(): void;
}

export class Inbox {
  #tasks: InboxJob[] = [];
  #head = 0;
  #running = false;
  #closed = false;
  readonly #onTaskError: (err: unknown) => void;

  constructor(onTaskError: (err: unknown) => void) {
    this.#onTaskError = onTaskError;
  }

  get pending(): number {
    return this.#tasks.length - this.#head;
  }

  post(task: InboxTask, onDrop?: DropHandler): boolean {
    return this.postJob(onDrop ? { run: task, drop: onDrop } : { run: task });
  }

  postJob(job: InboxJob): boolean {
    if (this.#closed) {
      job.drop?.();
      return false;
    }
    this.#tasks.push(job);
    if (!this.#running) this.#drain();
    return true;
  }

  /** Refuses new tasks and drops queued ones; returns the dropped count. The running task finishes. */
  close(): number {
    this.#closed = true;
    const dropped = this.#tasks.slice(this.#head);
    this.#tasks = [];
    this.#head = 0;
    for (const job of dropped) job.drop?.();
    return dropped.length;
  }

  /** Resolves when the queue is empty and nothing is running. */
  async idle(): Promise<void> {
    for (let i = 0; i < 1_000_000 && (this.#running || this.pending > 0); i++) {
      await new Promise<void>((resolve) => setImmediate(resolve));
    }
  }

  /**
   * Runs queued tasks synchronously until one returns a promise; then resumes after it settles. A burst of
   * synchronous handlers costs no promise at all.
   */
  #drain(): void {
    this.#running = true;
    while (this.#head < this.#tasks.length) {
      const job = this.#tasks[this.#head] as InboxJob;
      this.#tasks[this.#head++] = DONE;
      if (this.#head > 1024 && this.#head * 2 > this.#tasks.length) {
        this.#tasks = this.#tasks.slice(this.#head);
        this.#head = 0;
      }
      let result: void | Promise<void>;
      try {
        result = job.run();
      } catch (err) {
        this.#onTaskError(err);
        continue;
      }
      if (result !== undefined) {
        result.then(
          () => this.#drain(),
          (err: unknown) => {
            this.#onTaskError(err);
            this.#drain();
          },
        );
        return;
      }
    }
    this.#running = false;
  }
}

const DONE: InboxJob = { run: () => {} };
