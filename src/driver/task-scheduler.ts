// The driver's task scheduler as a sans-I/O state machine (STYLE.md §3): `handle(input, now)` applies one input
// and returns the effects to carry out, in order (see effects.ts for the ordering rules). It reads no clock,
// sets no timer and touches no socket: time comes in with each input, everything else goes out as effects.
//
// It is Spark's TaskSchedulerImpl + TaskSetManager + the scheduling half of CoarseGrainedSchedulerBackend,
// simplified to what Flint runs: one task set per job, FIFO across jobs, one core per task, no locality,
// no speculation, no exclusion lists. One input at a time, like Spark's ThreadSafeRpcEndpoint.

import { DRIVER_CONFIG_DEFAULTS, type DriverConfig } from './config.ts';
import { EffectList, type DriverEffect, type ExecutorCommand } from './effects.ts';
import {
  expireDeadExecutors,
  handleExecutorHeartbeat,
  handleExecutorLaunched,
  handleRegisterExecutor,
  loseExecutor,
  stopScheduler,
} from './executors.ts';
import { decommissionExecutor, forceKillExecutor, stopDrainedExecutors } from './decommission.ts';
import type { DriverInput } from './inputs.ts';
import { cancelJob, flushProgress, submitJob } from './jobs.ts';
import { makeOffers } from './offers.ts';
import { historySnapshot, schedulerSnapshot, type SchedulerHistorySnapshot, type TaskSchedulerSnapshot } from './snapshot.ts';
import { createSchedulerState, type Ctx, type SchedulerState } from './state.ts';
import { handleResultFetched, handleResultFetchFailed, handleStatusUpdate } from './task-events.ts';

export class TaskSchedulerMachine {
  readonly #state: SchedulerState = createSchedulerState();
  readonly #config: DriverConfig;

  /** `config` comes from `driverConfig` / `driverConfigFromConf`, already checked. */
  constructor(config: DriverConfig = DRIVER_CONFIG_DEFAULTS) {
    this.#config = config;
  }

  get config(): DriverConfig {
    return this.#config;
  }

  /** The armed timers, with the generation a firing must carry (src/kit/timers.ts). */
  armedTimers(): ReturnType<SchedulerState['timers']['armed']> {
    return this.#state.timers.armed();
  }

  /**
   * Applies one input at time `now` (ms, any monotonic origin) and returns the effects, in execution order.
   * After `Stop` the machine answers SubmitJob with JobFailed, refuses a registering executor, tells a
   * heartbeating one to re-register, and ignores everything else.
   */
  handle(input: DriverInput, now: number): DriverEffect[] {
    const ctx: Ctx = { state: this.#state, config: this.#config, now, out: new EffectList() };
    dispatch(ctx, input);
    if (!this.#state.stopped) {
      if (this.#state.decommissioning.size > 0) stopDrainedExecutors(ctx);
      makeOffers(ctx);
      for (const job of this.#state.jobs.values()) flushProgress(ctx, job);
    }
    return [...ctx.out.effects];
  }

  /** Whether the executor is registered (the adapter skips `ExecutorLost` for one it does not know). */
  hasExecutor(executorId: string): boolean {
    return this.#state.executors.has(executorId);
  }

  snapshot(): TaskSchedulerSnapshot {
    return schedulerSnapshot(this.#state);
  }

  /** What the application UI shows: retained jobs and executors, and the attempts of job `tasksOfJob` if given. */
  historySnapshot(tasksOfJob?: number): SchedulerHistorySnapshot {
    return historySnapshot(this.#state, tasksOfJob);
  }
}

function dispatch(ctx: Ctx, input: DriverInput): void {
  // After Stop only what must be answered is: a job (it fails) and an executor's ask.
  const answered = input.kind === 'SubmitJob' || input.kind === 'RegisterExecutor' || input.kind === 'ExecutorHeartbeat';
  if (ctx.state.stopped && !answered) return;
  switch (input.kind) {
    case 'SubmitJob':
      return submitJob(ctx, input.jobId, input.tasks, input.description ?? `Job ${input.jobId}`);
    case 'RegisterExecutor':
      return handleRegisterExecutor(ctx, input);
    case 'ExecutorLaunched':
      return handleExecutorLaunched(ctx, input.executorId);
    case 'ExecutorLost':
      return loseExecutor(ctx, input.executorId, input.reason, input.causedByApp);
    case 'DecommissionExecutor':
      return decommissionExecutor(ctx, input.executorId, input.reason, input.removedAs);
    case 'StatusUpdate':
      return handleStatusUpdate(ctx, input.message);
    case 'ResultFetched':
      return handleResultFetched(ctx, input.taskId, input.bytes);
    case 'ResultFetchFailed':
      return handleResultFetchFailed(ctx, input.taskId, input.error);
    case 'ExecutorHeartbeat':
      return handleExecutorHeartbeat(ctx, input);
    case 'TimerFired': {
      const timer = ctx.state.timers.fired(input.key, input.generation);
      if (timer === undefined) return undefined; // cancelled or replaced since
      if (timer !== 'ExpireDeadExecutors') return forceKillExecutor(ctx, timer.executorId);
      // It checks again a heartbeat check interval later (Spark's scheduleAtFixedRate in HeartbeatReceiver).
      ctx.out.push(ctx.state.timers.start(timer, timer, ctx.config.heartbeatCheckIntervalMs));
      return expireDeadExecutors(ctx);
    }
    case 'CancelJob':
      return cancelJob(ctx, input.jobId, input.reason);
    case 'RemoveCache':
      return tellEveryExecutor(ctx, { type: 'RemoveCache', id: input.id });
    case 'RemoveShuffle':
      return tellEveryExecutor(ctx, { type: 'RemoveShuffle', shuffleId: input.shuffleId });
    case 'Stop':
      return stopScheduler(ctx);
    default:
      return unreachable(input);
  }
}

function unreachable(input: never): never {
  throw new Error(`unhandled input ${JSON.stringify(input)}`);
}

/** A message to every registered executor, in offer order (unpersist, a shuffle no longer needed). */
function tellEveryExecutor(ctx: Ctx, message: Extract<ExecutorCommand, { type: 'RemoveCache' | 'RemoveShuffle' }>): void {
  for (const executorId of ctx.state.executorOrder) {
    const executor = ctx.state.executors.get(executorId);
    if (executor !== undefined) ctx.out.send(executorId, executor.address, message);
  }
}
