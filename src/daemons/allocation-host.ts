// Runs the driver's dynamic allocation policy (src/driver/allocation.ts) against the real scheduler: every
// ALLOCATION_INTERVAL_MS (Spark's `ExecutorAllocationManager` schedule thread, 100 ms) it reads the task
// scheduler's snapshot, asks the policy, and carries the decision out through the app client. One round at a
// time: the next starts only when the master has answered the last one's asks, so a lowered target reaches the
// master before an executor it no longer needs is killed (Spark's `removeExecutors` keeps that order too), and
// the master never replaces a released executor.
//
// Releasing an idle executor drains it in the scheduler first (`DecommissionExecutor`: no task is offered to it
// from then on; an idle one gets StopExecutor at once and leaves the scheduler), and then asks the master to kill
// those that left (`KillExecutors`), which frees their cores on the worker at once. One that a task reached
// between the decision and the drain finishes that task first, and leaves on StopExecutor then, as a
// decommissioned executor does; the master frees its cores when it exits.

import { ALLOCATION_INTERVAL_MS, ExecutorAllocationManager, type AllocationConfig, type AllocationView, type TaskSchedulerSnapshot } from '../driver/index.ts';
import type { Logger } from '../util/logger.ts';

/** How soon a target the master did not take is asked again. */
const RETRY_MS = 1000;

export interface AllocationTarget {
  /** The scheduler's read-only state now. */
  snapshot(): TaskSchedulerSnapshot;
  /** Executors holding persisted partitions (the DAG runner's cache locations). */
  executorsWithCachedData(): ReadonlySet<string>;
  /** RequestExecutors through the app client; true when the master took it. */
  requestTotalExecutors(total: number): Promise<boolean>;
  /** Drain the executor in the scheduler; `removedAs` is what the application UI records. */
  drain(executorId: string, reason: string, removedAs: string): Promise<void>;
  /** Whether the scheduler still holds the executor (false once a drained one was stopped). */
  hasExecutor(executorId: string): boolean;
  /** KillExecutors through the app client. */
  killExecutors(executorIds: string[]): Promise<boolean>;
}

export class AllocationHost {
  readonly #manager: ExecutorAllocationManager;
  readonly #config: AllocationConfig;
  readonly #target: AllocationTarget;
  readonly #logger: Logger;
  readonly #now: () => number;
  #timer: NodeJS.Timeout | undefined;
  #round: Promise<void> = Promise.resolve();
  #stopped = false;
  /**
   * A target the master did not take (no master reachable, a failover under way): asked again at this time, so
   * the master's limit catches up with the policy once a leader answers.
   */
  #retryAtMs: number | undefined;

  constructor(config: AllocationConfig, target: AllocationTarget, logger: Logger, now: () => number) {
    this.#config = config;
    this.#manager = new ExecutorAllocationManager(config);
    this.#target = target;
    this.#logger = logger;
    this.#now = now;
  }

  /** The executor total the policy wants now. */
  get targetExecutors(): number {
    return this.#manager.target;
  }

  /** Once registered: asks for the initial target, then schedules a round every interval. */
  start(): void {
    if (this.#timer !== undefined || this.#stopped) return;
    const initial = this.#manager.start();
    this.#round = this.#request(initial);
    this.#timer = setInterval(() => this.#tick(), ALLOCATION_INTERVAL_MS);
    this.#timer.unref();
  }

  /** No round starts after this, and the one under way asks nothing more. */
  stop(): void {
    this.#stopped = true;
    if (this.#timer !== undefined) clearInterval(this.#timer);
    this.#timer = undefined;
  }

  #tick(): void {
    if (this.#stopped) return;
    this.#round = this.#round.then(() => this.#runRound()).catch((err: unknown) => {
      this.#logger.warn({ err: err instanceof Error ? err.message : String(err) }, 'a dynamic allocation round failed; the next one tries again');
    });
  }

  async #runRound(): Promise<void> {
    if (this.#stopped) return;
    const now = this.#now();
    const decision = this.#manager.schedule(this.#view(), now);
    if (decision.requestTotal !== undefined) await this.#request(decision.requestTotal);
    else if (this.#retryAtMs !== undefined && now >= this.#retryAtMs) await this.#request(this.#manager.target);
    if (decision.release.length === 0 || this.#stopped) return;
    const idleS = this.#config.executorIdleTimeoutMs / 1000;
    for (const id of decision.release) {
      this.#logger.info({ executorId: id, target: this.#manager.target }, `Removing executor ${id} because it has been idle for its timeout (${idleS} s or the cached one); dynamic allocation`);
      await this.#target.drain(id, 'idle: released by dynamic allocation', 'released (idle)');
    }
    const stopped = decision.release.filter((id) => !this.#target.hasExecutor(id));
    if (stopped.length > 0 && !this.#stopped) await this.#target.killExecutors(stopped);
  }

  async #request(total: number): Promise<void> {
    this.#logger.info({ total }, `Requesting ${total} executor(s) in total (dynamic allocation)`);
    const ok = await this.#target.requestTotalExecutors(total).catch(() => false);
    this.#retryAtMs = ok ? undefined : this.#now() + RETRY_MS;
    if (!ok) this.#logger.warn({ total }, `The master did not take the request for ${total} executor(s); asking again in ${RETRY_MS / 1000} s`);
  }

  #view(): AllocationView {
    const snapshot = this.#target.snapshot();
    const cached = this.#target.executorsWithCachedData();
    let pendingTasks = 0;
    let runningTasks = 0;
    for (const job of snapshot.jobs) {
      pendingTasks += job.pending;
      runningTasks += job.running;
    }
    // A result still being fetched keeps its executor busy: it holds the result until the driver has it.
    const fetching = new Map<string, number>();
    for (const task of snapshot.tasks) if (task.phase === 'fetching') fetching.set(task.executorId, (fetching.get(task.executorId) ?? 0) + 1);
    const executors = snapshot.executors.map((e) => ({
      executorId: e.executorId,
      runningTasks: e.runningTasks.length + (fetching.get(e.executorId) ?? 0),
      hasCachedData: cached.has(e.executorId),
    }));
    return { pendingTasks, runningTasks, executors };
  }
}
