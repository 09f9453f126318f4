// WorkerMachine: Spark's Worker endpoint as a sans-I/O state machine (STYLE.md §3). `handle(input, now)` applies
// one input and returns the effects to perform, in order (see worker-effect.ts for the ordering rules). It
// never reads a clock, draws its own randomness, touches a file or a socket, or exits the process.

import { TimerBook } from '../kit/timers.ts';
import type { MasterToWorker } from '../protocol/messages.ts';
import { registrationIntervals, type RegistrationIntervals, type Rng, type WorkerConfig } from './worker-config.ts';
import type { WorkerEffect } from './worker-effect.ts';
import type { WorkerInput, WorkerTimer } from './worker-input.ts';
import { generateWorkerId } from './worker-id.ts';
import { masterEnvUrl, workerEndpointAddress } from './master-address.ts';
import { log, startTimer, type Ctx, type WorkerState } from './worker-state.ts';
import {
  handleDisconnected,
  handleMasterChanged,
  handleMasterInStandby,
  handleRegistered,
  handleRegisterFailed,
  registerWithMaster,
  registrationRefused,
  reregisterWithMaster,
  sendHeartbeat,
} from './registration.ts';
import {
  executorExited,
  executorLaunchFailed,
  executorStarted,
  executorStateSyncFailed,
  executorStateSyncSucceeded,
  killExecutor,
  launchExecutor,
  syncExecutorState,
} from './executors.ts';
import {
  driverExited,
  driverLaunchFailed,
  driverStarted,
  killDriver,
  launchDriver,
  relaunchDriver,
} from './drivers.ts';
import { decommissionSelf, exitIfDrained, handleDecommissionSignal, stopWorker } from './lifecycle.ts';
import { snapshotOf, type WorkerSnapshot } from './worker-snapshot.ts';

export interface WorkerMachineOptions {
  /** Draws the registration fuzz factor, once. */
  readonly rng: Rng;
  /** Construction time: the worker id is made from it (unless `config.workerId` is set). */
  readonly now: number;
}

export class WorkerMachine {
  readonly #config: WorkerConfig;
  readonly #intervals: RegistrationIntervals;
  readonly #state: WorkerState;

  constructor(config: WorkerConfig, options: WorkerMachineOptions) {
    this.#config = config;
    this.#intervals = registrationIntervals(config, options.rng);
    this.#state = {
      workerId: config.workerId ?? generateWorkerId(options.now, config.host, config.port),
      workerAddress: workerEndpointAddress(config.host, config.port),
      workerWebUiUrl: `${config.webUiScheme}://${config.publicAddress}:${config.webUiPort}`,
      phase: 'created',
      registered: false,
      everRegistered: false,
      refused: new Map(),
      connected: false,
      connectionAttemptCount: 0,
      decommissioned: false,
      exitWhenDrained: false,
      executors: new Map(),
      finishedExecutors: new Map(),
      drivers: new Map(),
      finishedDrivers: new Map(),
      stateSyncFailures: new Map(),
      timers: new TimerBook(),
      coresUsed: 0,
      memoryUsedMb: 0,
    };
  }

  get workerId(): string {
    return this.#state.workerId;
  }

  get config(): WorkerConfig {
    return this.#config;
  }

  get intervals(): RegistrationIntervals {
    return this.#intervals;
  }

  /** Applies one input. After an `Exit` effect every later input is ignored and yields no effect. */
  handle(input: WorkerInput, now: number): WorkerEffect[] {
    const ctx: Ctx = { config: this.#config, intervals: this.#intervals, state: this.#state, now, out: [] };
    const phase = this.#state.phase;
    if (phase === 'stopped') return [];
    if (phase === 'created' && input.kind !== 'Start' && input.kind !== 'Shutdown') {
      log(ctx, 'warn', `Ignoring ${input.kind} before the worker started`);
      return ctx.out;
    }
    dispatch(ctx, input);
    exitIfDrained(ctx);
    return ctx.out;
  }

  /** What the worker has given out, without building a snapshot (the simulator checks it after every step). */
  get usage(): { readonly coresUsed: number; readonly memoryUsedMb: number } {
    return this.#state;
  }

  /** A read-only copy of the state, for the UI and for tests. */
  snapshot(): WorkerSnapshot {
    return snapshotOf(this.#config, this.#state, this.#intervals);
  }
}

function dispatch(ctx: Ctx, input: WorkerInput): void {
  switch (input.kind) {
    case 'Start':
      return start(ctx);
    case 'MasterMessage':
      return onMasterMessage(ctx, input.message, input.from);
    case 'Disconnected':
      return handleDisconnected(ctx, input.envId);
    case 'DialFailed':
      log(ctx, 'warn', `Failed to connect to master ${input.envUrl}`, { error: input.error });
      return registrationRefused(ctx, input);
    case 'Answered':
      return executorStateSyncSucceeded(ctx, input.context);
    case 'AskFailed':
      return executorStateSyncFailed(ctx, input.context, input.error, input.timedOut);
    case 'TimerFired':
      return onTimerFired(ctx, input.key, input.generation);
    case 'ExecutorProcessStarted':
      return executorStarted(ctx, input.appId, input.execId);
    case 'ExecutorProcessExited':
      return executorExited(ctx, input.appId, input.execId, input);
    case 'ExecutorLaunchFailed':
      return executorLaunchFailed(ctx, input.appId, input.execId, input.error);
    case 'DriverProcessStarted':
      return driverStarted(ctx, input.driverId);
    case 'DriverProcessExited':
      return driverExited(ctx, input.driverId, input);
    case 'DriverLaunchFailed':
      return driverLaunchFailed(ctx, input.driverId, input.error);
    case 'DecommissionSignal':
      return handleDecommissionSignal(ctx, input.exitWhenDrained === true);
    case 'Shutdown':
      return stopWorker(ctx, 0, `Worker shutting down: ${input.reason}`);
    default: {
      const never: never = input;
      throw new Error(`unknown worker input ${JSON.stringify(never)}`);
    }
  }
}

function start(ctx: Ctx): void {
  const { config, state } = ctx;
  if (state.phase !== 'created') {
    log(ctx, 'warn', 'Ignoring Start: the worker has started already');
    return;
  }
  state.phase = 'running';
  const what = `${config.host}:${config.port} with ${config.cores} cores, ${config.memoryMb} MB RAM`;
  log(ctx, 'info', `Starting Flint worker ${what}`, {
    workerId: state.workerId,
    initialRetryIntervalMs: ctx.intervals.initialMs,
    prolongedRetryIntervalMs: ctx.intervals.prolongedMs,
  });
  registerWithMaster(ctx);
}

/**
 * Commands that start or stop processes, or drain the worker, are taken only from the master this worker is
 * registered with, over its own connection: the sender's env, not a URL the message names (docs/security.md).
 * Spark's Worker checks only `masterUrl` in LaunchExecutor and KillExecutor, which any peer can write.
 */
const MASTER_COMMANDS: ReadonlySet<MasterToWorker['type']> = new Set([
  'LaunchExecutor',
  'KillExecutor',
  'LaunchDriver',
  'KillDriver',
  'ApplicationFinished',
  'DecommissionWorker',
]);

/** Answers to a registration, and a request to register again, come only from a master this worker knows. */
const MASTER_REPLIES: ReadonlySet<MasterToWorker['type']> = new Set(['RegisteredWorker', 'RegisterWorkerFailed', 'MasterInStandby', 'ReconnectWorker']);

function fromActiveMaster(ctx: Ctx, from: string): boolean {
  const master = ctx.state.master;
  return master !== undefined && (from === master.url || from === masterEnvUrl(master.connectUrl));
}

/** A master it was configured with (the connection it dialed), or the active one. */
function fromAKnownMaster(ctx: Ctx, from: string): boolean {
  return fromActiveMaster(ctx, from) || ctx.config.masterUrls.some((url) => masterEnvUrl(url) === from);
}

function onMasterMessage(ctx: Ctx, message: MasterToWorker, from: string): void {
  if (MASTER_COMMANDS.has(message.type) && !fromActiveMaster(ctx, from)) {
    log(ctx, 'warn', `Ignored ${message.type} from ${from.slice(0, 200)}: it is not the master this worker is registered with`);
    return;
  }
  // Else any peer with the cluster secret could make the worker exit (RegisterWorkerFailed) or re-register.
  if (MASTER_REPLIES.has(message.type) && !fromAKnownMaster(ctx, from)) {
    log(ctx, 'warn', `Ignored ${message.type} from ${from.slice(0, 200)}: it is not one of this worker's masters`);
    return;
  }
  // A master announces itself: MasterChanged must come from the master it names.
  if (message.type === 'MasterChanged' && masterEnvUrl(message.masterAddress) !== from) {
    log(ctx, 'warn', `Ignored MasterChanged naming ${message.masterAddress.slice(0, 200)} from another env, ${from.slice(0, 200)}`);
    return;
  }
  switch (message.type) {
    case 'RegisteredWorker':
      return handleRegistered(ctx, message);
    case 'RegisterWorkerFailed':
      return handleRegisterFailed(ctx, message);
    case 'MasterInStandby':
      return handleMasterInStandby(ctx, from);
    case 'ReconnectWorker':
      log(ctx, 'info', `Master with url ${message.masterUrl} requested this worker to reconnect.`);
      return registerWithMaster(ctx);
    case 'LaunchExecutor':
      return launchExecutor(ctx, message);
    case 'KillExecutor':
      return killExecutor(ctx, message);
    case 'LaunchDriver':
      return launchDriver(ctx, message);
    case 'KillDriver':
      return killDriver(ctx, message.driverId);
    case 'ApplicationFinished':
      // Spark's `maybeCleanupApplication` deletes the app's scratch dirs and tells the shuffle service, which
      // removes its shuffle files. Flint's executors keep their stdout/stderr in their work dir, kept for the
      // log pages until WorkDirCleanup (appDataTtl) removes it; only the shuffle files go now.
      ctx.out.push({ kind: 'RemoveAppShuffle', appId: message.id });
      return;
    case 'MasterChanged':
      return handleMasterChanged(ctx, message);
    case 'DecommissionWorker':
      decommissionSelf(ctx);
      return;
    default: {
      const never: never = message;
      throw new Error(`unknown master message ${JSON.stringify(never)}`);
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
  fireTimer(ctx, timer);
}

function fireTimer(ctx: Ctx, timer: WorkerTimer): void {
  switch (timer.kind) {
    case 'SendHeartbeat':
      return sendHeartbeat(ctx);
    case 'ReregisterWithMaster':
      return reregisterWithMaster(ctx);
    case 'WorkDirCleanup':
      return workDirCleanup(ctx);
    case 'ExecutorStateSyncRetry':
      return syncExecutorState(ctx, timer.message);
    case 'DriverRelaunch':
      return relaunchDriver(ctx, timer.driverId);
    default: {
      const never: never = timer;
      throw new Error(`unknown timer ${JSON.stringify(never)}`);
    }
  }
}

/** Spark's WorkDirCleanup: every directory not named after a running app or driver, and idle past the TTL. */
function workDirCleanup(ctx: Ctx): void {
  const { config, state } = ctx;
  const keep = new Set<string>();
  for (const runner of state.executors.values()) keep.add(runner.appId);
  for (const driverId of state.drivers.keys()) keep.add(driverId);
  const olderThanMs = config.cleanup.appDataTtlMs;
  ctx.out.push({
    kind: 'CleanupOldDirs',
    workDir: config.workDir,
    olderThanMs,
    modifiedBeforeMs: ctx.now - olderThanMs,
    keepNames: [...keep].sort(),
  });
  startTimer(ctx, { kind: 'WorkDirCleanup' }, config.cleanup.intervalMs);
}
