// ExecutorMachine: Spark's CoarseGrainedExecutorBackend and Executor as a sans-I/O state machine (STYLE.md §3).
// `handle(input, now)` applies one input and returns the effects to perform, in order (see executor-effect.ts
// for the ordering rules). It never reads a clock, draws its own randomness, touches a file or a socket, runs a
// task function, or exits the process: tasks run on the host's pool (evaluateTask) and exits are effects.

import { TimerBook } from '../kit/timers.ts';
import type { DriverCommand, ExecutorInput } from './executor-input.ts';
import type { DriverReply } from '../protocol/task-messages.ts';
import type { DriverAskMessage, ExecutorEffect } from './executor-effect.ts';
import { ExecutorExitCode } from './executor-effect.ts';
import { executorConfig, type ExecutorConfig, type ExecutorLaunchArgs } from './executor-config.ts';
import { exit, log, type Ctx, type ExecutorPhase, type ExecutorState, type Rng } from './executor-state.ts';
import {
  appConfigReceived,
  codeLoaded,
  heartbeatFailed,
  heartbeatSucceeded,
  heartbeatTimerFired,
  registered,
  start,
} from './registration.ts';
import {
  cancelAllTasks,
  fetchTaskResult,
  killTask,
  launchTask,
  releaseTaskResult,
  taskAborted,
  taskCompleted,
  taskErrored,
} from './tasks.ts';

export interface ExecutorMachineOptions {
  /** Draws the first heartbeat's jitter, once per registration. */
  readonly rng: Rng;
  /**
   * Unanswered RunTasks allowed per core (default 1): a host whose pool threads keep a short queue each, so
   * that a thread starts its next task without waiting for the host, passes its queue length here. Tasks run
   * one at a time per core either way.
   */
  readonly tasksPerCore?: number;
}

export interface ExecutorSnapshot {
  readonly phase: ExecutorPhase;
  readonly config: ExecutorConfig;
  readonly registered: boolean;
  readonly codeLoaded: boolean;
  readonly running: ReadonlyArray<{ readonly taskId: number; readonly startedAtMs: number; readonly killing: boolean }>;
  readonly queued: readonly number[];
  readonly keptResults: ReadonlyArray<{ readonly taskId: number; readonly bytes: number; readonly chunks: number }>;
  readonly heartbeatFailures: number;
  readonly tasksFinished: number;
  readonly tasksFailed: number;
  readonly tasksKilled: number;
}

export class ExecutorMachine {
  readonly #state: ExecutorState;
  readonly #rng: Rng;

  /** Throws ConfigError when a launch argument is unusable (the program prints it and exits 1). */
  constructor(args: ExecutorLaunchArgs, options: ExecutorMachineOptions) {
    this.#rng = options.rng;
    const tasksPerCore = options.tasksPerCore ?? 1;
    if (!Number.isSafeInteger(tasksPerCore) || tasksPerCore < 1) throw new Error(`tasksPerCore must be a positive integer; got ${tasksPerCore}`);
    this.#state = {
      tasksPerCore,
      phase: 'created',
      config: executorConfig(args),
      registered: false,
      codeLoaded: false,
      tasks: new Map(),
      queue: [],
      runningCount: 0,
      results: new Map(),
      heartbeatFailures: 0,
      heartbeatInFlight: false,
      timers: new TimerBook(),
      counts: { finished: 0, failed: 0, killed: 0 },
    };
  }

  /** Applies one input. After an `Exit` effect every later input is ignored and yields no effect. */
  handle(input: ExecutorInput, now: number): ExecutorEffect[] {
    const ctx: Ctx = { state: this.#state, config: this.#state.config, rng: this.#rng, now, out: [] };
    if (this.#state.phase === 'stopped') return ctx.out;
    dispatch(ctx, input);
    return ctx.out;
  }

  snapshot(): ExecutorSnapshot {
    const s = this.#state;
    const running = [...s.tasks.values()]
      .filter((t) => t.status === 'running')
      .map((t) => ({ taskId: t.task.taskId, startedAtMs: t.startedAtMs, killing: t.killReason !== undefined }));
    return {
      phase: s.phase,
      config: s.config,
      registered: s.registered,
      codeLoaded: s.codeLoaded,
      running,
      queued: [...s.queue],
      keptResults: [...s.results].map(([taskId, r]) => ({ taskId, bytes: r.bytes.byteLength, chunks: r.chunks })),
      heartbeatFailures: s.heartbeatFailures,
      tasksFinished: s.counts.finished,
      tasksFailed: s.counts.failed,
      tasksKilled: s.counts.killed,
    };
  }
}

/** True when the machine is in one of `phases`; otherwise logs that `what` was ignored. */
function inPhase(ctx: Ctx, what: string, ...phases: ExecutorPhase[]): boolean {
  if (phases.includes(ctx.state.phase)) return true;
  log(ctx, 'warn', `Ignoring ${what} while the executor is ${ctx.state.phase}`);
  return false;
}

function dispatch(ctx: Ctx, input: ExecutorInput): void {
  const { config } = ctx.state;
  switch (input.kind) {
    case 'Start':
      if (inPhase(ctx, 'Start', 'created')) start(ctx);
      return;
    case 'Answered':
      return driverAnswered(ctx, input.context, input.reply);
    case 'AskFailed':
      return driverAskFailed(ctx, input.context, input.error);
    case 'CodeLoaded':
      if (inPhase(ctx, 'CodeLoaded', 'registering')) codeLoaded(ctx, input.hash);
      return;
    case 'CodeLoadFailed':
      return exit(ctx, ExecutorExitCode.FAILURE, `Cannot load the application's code ${input.hash}: ${input.error}`);
    case 'DriverMessage':
      return onDriverMessage(ctx, input.message);
    case 'DriverAsk':
      return fetchTaskResult(ctx, input.token, input.message);
    case 'TaskCompleted':
      if (inPhase(ctx, 'TaskCompleted', 'running')) {
        taskCompleted(ctx, input.taskId, input.result, input.records, input.runTimeMs, input.accumulators);
      }
      return;
    case 'TaskErrored':
      if (inPhase(ctx, 'TaskErrored', 'running')) taskErrored(ctx, input.taskId, input.error, input.runTimeMs);
      return;
    case 'TaskAborted':
      if (inPhase(ctx, 'TaskAborted', 'running')) taskAborted(ctx, input.taskId, input.runTimeMs);
      return;
    case 'TimerFired':
      return onTimerFired(ctx, input.key, input.generation);
    case 'DriverDisconnected': {
      const why = input.reason === undefined ? '' : ` (${input.reason})`;
      return exit(ctx, ExecutorExitCode.FAILURE, `Driver ${config.driverUrl} disassociated${why}! Shutting down.`);
    }
    case 'ParentGone':
      return exit(ctx, ExecutorExitCode.FAILURE, `Lost connection to worker ${config.workerUrl ?? '(unknown)'}. Exiting.`);
    default: {
      const never: never = input;
      throw new Error(`unknown executor input ${JSON.stringify(never)}`);
    }
  }
}

/** The driver's answer to one of this executor's asks; the machine, not its host, judges what it means. */
function driverAnswered(ctx: Ctx, asked: DriverAskMessage['type'], reply: DriverReply): void {
  switch (asked) {
    case 'RetrieveAppConfig':
      if (reply.type !== 'AppConfigResponse') return driverAskFailed(ctx, asked, `the driver answered ${reply.type}`);
      if (inPhase(ctx, 'AppConfigResponse', 'configuring')) appConfigReceived(ctx, reply);
      return;
    case 'RegisterExecutor':
      if (reply.type !== 'BooleanResponse') return driverAskFailed(ctx, asked, `the driver answered ${reply.type}`);
      // Spark's driver answers a duplicate executor id with RegisterExecutorFailed; ours with false.
      if (!reply.value) return driverAskFailed(ctx, asked, 'the driver refused the registration');
      if (inPhase(ctx, 'RegisteredExecutor', 'registering')) registered(ctx);
      return;
    case 'ExecutorHeartbeat':
      if (reply.type !== 'HeartbeatResponse') return driverAskFailed(ctx, asked, `the driver answered ${reply.type}`);
      return heartbeatSucceeded(ctx, reply.reregister);
    default:
      return unreachable(asked);
  }
}

function driverAskFailed(ctx: Ctx, asked: DriverAskMessage['type'], error: string): void {
  const { driverUrl } = ctx.state.config;
  switch (asked) {
    case 'RetrieveAppConfig':
      return exit(ctx, ExecutorExitCode.FAILURE, `Cannot get the application's config from ${driverUrl}: ${error}`);
    case 'RegisterExecutor':
      return exit(ctx, ExecutorExitCode.FAILURE, `Cannot register with driver: ${driverUrl}: ${error}`);
    case 'ExecutorHeartbeat':
      return heartbeatFailed(ctx, error);
    default:
      return unreachable(asked);
  }
}

function unreachable(value: never): never {
  throw new Error(`unknown ask ${JSON.stringify(value)}`);
}

function onDriverMessage(ctx: Ctx, message: DriverCommand): void {
  if (message.type === 'ReleaseTaskResult') return releaseTaskResult(ctx, message.taskId);
  if (message.type === 'RemoveCache') {
    // Harmless in any phase: an executor that never cached anything drops nothing (Spark's RemoveRdd).
    ctx.out.push({ kind: 'DropCache', id: message.id });
    return;
  }
  if (message.type === 'RemoveShuffle') {
    ctx.out.push({ kind: 'DropShuffle', shuffleId: message.shuffleId });
    return;
  }
  if (ctx.state.phase !== 'running') {
    // Spark's backend exits(1) on LaunchTask/KillTask/StopExecutor while its `executor` is null: the driver
    // broke the protocol (it offers cores only after LaunchedExecutor), so nothing here can be trusted.
    return exit(
      ctx,
      ExecutorExitCode.FAILURE,
      `Received ${message.type} command but executor was null (the executor is ${ctx.state.phase})`,
    );
  }
  switch (message.type) {
    case 'LaunchTask':
      return launchTask(ctx, message);
    case 'KillTask':
      return killTask(ctx, message.taskId, message.reason);
    case 'StopExecutor':
      log(ctx, 'info', 'Driver commanded a shutdown');
      cancelAllTasks(ctx, 'the executor is stopping');
      return exit(ctx, ExecutorExitCode.SUCCESS, 'Driver commanded a shutdown');
    default: {
      const never: never = message;
      throw new Error(`unknown driver message ${JSON.stringify(never)}`);
    }
  }
}

/** A firing counts only if its key is armed with that generation; others were cancelled or replaced. */
function onTimerFired(ctx: Ctx, key: string, generation: number): void {
  const timer = ctx.state.timers.fired(key, generation);
  if (timer === undefined) {
    log(ctx, 'debug', `Ignoring a stale firing of timer ${key}`);
    return;
  }
  switch (timer.kind) {
    case 'Heartbeat':
      return heartbeatTimerFired(ctx);
    default: {
      const never: never = timer.kind;
      throw new Error(`armed timer ${String(never)} has no handler`);
    }
  }
}
