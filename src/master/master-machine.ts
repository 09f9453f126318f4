// The Master as a sans-I/O state machine (STYLE.md §3, after etcd raft's RawNode): `handle(input, now)` applies
// one input to the state and returns the effects to carry out, in order (see effects.ts for the ordering
// rules). It never reads a clock, draws its own randomness, sets a timer or touches the network: time comes
// in with each input, randomness from the injected `Rng`, and everything else goes out as effects.
//
// One input at a time, like Spark's ThreadSafeRpcEndpoint. The handlers mirror Spark's `Master.receive` and
// `receiveAndReply` (reference §4.4); their details live in workers.ts, apps.ts, drivers.ts, recovery.ts and
// schedule.ts.

import { planApplication } from './plan.ts';
import type { Rng } from '../scheduling/index.ts';
import {
  handleExecutorStateChanged,
  handleKillApplication,
  handleRequestKillApplication,
  handleKillExecutors,
  handleRegisterApplication,
  handleRequestExecutors,
  handleUnregisterApplication,
  removeApplication,
} from './apps.ts';
import type { MasterConfig } from './config.ts';
import type { Ctx, MasterProbes } from './context.ts';
import {
  handleDriverStateChanged,
  handleDriverStatus,
  handleKillAllDrivers,
  handleKillDriver,
  handleSubmitDriver,
} from './drivers.ts';
import { EffectList, type MasterEffect } from './effects.ts';
import type { EnvId, MasterAsk, MasterInput, MasterOneWay, MasterTimer, ReplyToken } from './inputs.ts';
import {
  canCompleteRecovery,
  completeRecovery,
  handleCompleteRecoveryTimer,
  handleElectedLeader,
  handleMasterChangeAcknowledged,
  handleWorkerSchedulerStateResponse,
} from './recovery.ts';
import { handleDecommissionWorkers, handleDecommissionWorkersOnHosts } from './decommission.ts';
import { armRelaunchTimer } from './relaunch-backoff.ts';
import { schedule } from './schedule.ts';
import { masterStateResponse } from './snapshot.ts';
import { createMasterState, type MasterState } from './state.ts';
import {
  handleHeartbeat,
  handleRegisterWorker,
  handleWorkerDecommissioning,
  handleWorkerLatestState,
  removeWorker,
  timeOutDeadWorkers,
} from './workers.ts';

export class MasterMachine {
  readonly #state: MasterState;
  readonly #rng: Rng;
  readonly #probes: MasterProbes | undefined;

  /** Starts in STANDBY; `ElectedLeader` makes it ALIVE (or RECOVERING when something was persisted). */
  constructor(config: MasterConfig, rng: Rng, probes?: MasterProbes) {
    this.#state = createMasterState(config);
    this.#rng = rng;
    this.#probes = probes;
  }

  /** The live state, for read-only views (`masterJson`, `masterStateResponse`). Do not mutate it. */
  get state(): Readonly<MasterState> {
    return this.#state;
  }

  get config(): MasterConfig {
    return this.#state.config;
  }

  /** Applies one input at time `now` (ms since the epoch) and returns the effects, in execution order. */
  handle(input: MasterInput, now: number): MasterEffect[] {
    const ctx: Ctx = { state: this.#state, config: this.#state.config, rng: this.#rng, now, out: new EffectList(this.#state.timers), ...(this.#probes === undefined ? {} : { probes: this.#probes }) };
    dispatch(ctx, input);
    return [...ctx.out.effects];
  }
}

function dispatch(ctx: Ctx, input: MasterInput): void {
  switch (input.kind) {
    case 'Start':
      ctx.out.info(`Starting Flint master at ${ctx.config.masterUrl}`);
      // Spark's onStart: the sweep runs at once, then every worker timeout (it re-arms itself, timerFired).
      ctx.out.startTimer('CheckForWorkerTimeOut', 0);
      return;
    case 'Receive':
      if (fromOwnDriver(ctx, input.message, input.from)) receive(ctx, input.message, input.from);
      return;
    case 'Ask':
      if (!fromOwnDriver(ctx, input.message, input.from)) return ctx.out.reply(input.replyTo, { type: 'BooleanResponse', value: false });
      receiveAndReply(ctx, input.replyTo, input.message, input.from);
      return;
    case 'Disconnected':
      disconnected(ctx, input.envId);
      return;
    case 'TimerFired': {
      const timer = ctx.state.timers.fired(input.key, input.generation);
      if (timer !== undefined) timerFired(ctx, timer);
      return;
    }
    case 'ElectedLeader':
      handleElectedLeader(ctx, input.persisted);
      return;
    case 'RevokedLeadership':
      // Stop acting at once: back to STANDBY, so whatever input still reaches this machine before the
      // adapter discards it schedules nothing, launches nothing and registers nobody (SPARK's exit(0)).
      ctx.state.recoveryState = 'STANDBY';
      ctx.state.timers.cancelAll(); // the adapter cancels every timer at StepDown
      ctx.out.error('Leadership has been revoked -- master shutting down.');
      ctx.out.stepDown('leadership revoked');
      return;
    case 'PersistFailed':
      // Fail-stop (docs/differences-from-spark.md): Spark's Master logs the persistence engine's exception and
      // goes on with a state that no successor can recover, and whose later effects (the RegisteredWorker, the
      // LaunchExecutors of that schedule()) never left. This master stops acting as RevokedLeadership does; a
      // standby master, or this one restarted, recovers from what the store holds and reconciles with the
      // workers' and apps' reports.
      ctx.state.recoveryState = 'STANDBY';
      ctx.state.timers.cancelAll();
      ctx.out.error(`Could not write ${input.key} to the recovery store (${input.error}) -- master shutting down.`);
      ctx.out.stepDown(`the recovery store refused a write: ${input.error}`);
      return;
    case 'KillApplication':
      handleKillApplication(ctx, input.appId);
      return;
    default:
      unreachable(input);
  }
}

/** The messages an application sends about itself, naming its id. */
const APP_OWN: ReadonlySet<string> = new Set(['UnregisterApplication', 'MasterChangeAcknowledged', 'RequestExecutors', 'KillExecutors']);

/**
 * An application's messages about itself are taken only from its driver's env, the connection it registered on
 * (docs/security.md): another application may not unregister it or resize it. Spark's Master takes them from
 * anyone who names the id.
 */
function fromOwnDriver(ctx: Ctx, message: MasterOneWay | MasterAsk, from: string): boolean {
  if (!APP_OWN.has(message.type) || !('appId' in message) || message.appId === undefined) return true;
  const app = ctx.state.idToApp.get(message.appId);
  if (app === undefined || app.driverEnvId === from) return true;
  ctx.out.warn(`Ignored ${message.type} for app ${message.appId} from ${from.slice(0, 200)}: not its driver`, { appId: message.appId });
  return false;
}

function timerFired(ctx: Ctx, timer: MasterTimer): void {
  switch (timer) {
    case 'CheckForWorkerTimeOut':
      // Spark's scheduleAtFixedRate(0, workerTimeoutMs): armed again before the sweep.
      ctx.out.startTimer('CheckForWorkerTimeOut', ctx.config.workerTimeoutMs);
      return timeOutDeadWorkers(ctx);
    case 'CompleteRecovery':
      return handleCompleteRecoveryTimer(ctx);
    case 'ExecutorRelaunchBackoff':
      // A relaunch backoff ended: schedule what it held back, then re-arm for the next one.
      ctx.state.relaunchTimerDueMs = undefined;
      schedule(ctx);
      return armRelaunchTimer(ctx);
    default:
      return unreachable(timer);
  }
}

function receive(ctx: Ctx, message: MasterOneWay, from: string): void {
  switch (message.type) {
    case 'RegisterWorker':
      return handleRegisterWorker(ctx, message);
    case 'Heartbeat':
      return handleHeartbeat(ctx, message);
    case 'WorkerLatestState':
      return handleWorkerLatestState(ctx, message);
    case 'DriverStateChanged':
      return handleDriverStateChanged(ctx, message);
    case 'WorkerSchedulerStateResponse':
      return handleWorkerSchedulerStateResponse(ctx, message);
    case 'WorkerDecommissioning':
      return handleWorkerDecommissioning(ctx, message);
    case 'RegisterApplication':
      return handleRegisterApplication(ctx, message, from);
    case 'UnregisterApplication':
      return handleUnregisterApplication(ctx, message);
    case 'MasterChangeAcknowledged':
      return handleMasterChangeAcknowledged(ctx, message, from);
    default:
      return unreachable(message);
  }
}

function receiveAndReply(ctx: Ctx, token: ReplyToken, message: MasterAsk, from: EnvId): void {
  switch (message.type) {
    case 'ExecutorStateChanged':
      return handleExecutorStateChanged(ctx, token, message, from);
    case 'RequestExecutors':
      return handleRequestExecutors(ctx, token, message);
    case 'KillExecutors':
      return handleKillExecutors(ctx, token, message);
    case 'RequestSubmitDriver':
      return handleSubmitDriver(ctx, token, message);
    case 'RequestKillDriver':
      return handleKillDriver(ctx, token, message);
    case 'RequestDriverStatus':
      return handleDriverStatus(ctx, token, message);
    case 'RequestKillAllDrivers':
      return handleKillAllDrivers(ctx, token);
    case 'RequestClearCompletedDriversAndApps':
      ctx.out.info(
        `Asked to clear ${ctx.state.completedDrivers.length} completed drivers and ${ctx.state.completedApps.length} completed apps.`,
      );
      ctx.state.completedDrivers.length = 0;
      ctx.state.completedApps.length = 0;
      return ctx.out.reply(token, { type: 'BooleanResponse', value: true });
    case 'RequestReadyz':
      return ctx.out.reply(token, { type: 'BooleanResponse', value: ctx.state.recoveryState !== 'STANDBY' });
    case 'DecommissionWorkersOnHosts':
      return handleDecommissionWorkersOnHosts(ctx, token, message);
    case 'DecommissionWorkers':
      return handleDecommissionWorkers(ctx, token, message);
    case 'RequestKillApplication':
      return handleRequestKillApplication(ctx, token, message);
    case 'RequestMasterState':
      return ctx.out.reply(token, masterStateResponse(ctx.state));
    case 'RequestPlan':
      return ctx.out.reply(token, planApplication(ctx.state, ctx.now, message));
    case 'BoundPortsRequest':
      return ctx.out.reply(token, {
        type: 'BoundPortsResponse',
        rpcPort: ctx.config.port,
        webUiPort: ctx.config.webUiPort,
        ...(ctx.config.restPort === undefined ? {} : { restPort: ctx.config.restPort }),
      });
    default:
      return unreachable(message);
  }
}

/** A worker or an app client went away: remove whichever it was (Spark's `onDisconnected`). */
function disconnected(ctx: Ctx, envId: EnvId): void {
  ctx.out.info(`${envId} got disassociated, removing it.`);
  const worker = ctx.state.addressToWorker.get(envId);
  if (worker !== undefined) removeWorker(ctx, worker, `${envId} got disassociated`);
  const app = ctx.state.addressToApp.get(envId);
  if (app !== undefined) removeApplication(ctx, app, 'FINISHED');
  if (ctx.state.recoveryState === 'RECOVERING' && canCompleteRecovery(ctx)) completeRecovery(ctx);
}

function unreachable(value: never): never {
  throw new Error(`unhandled master input: ${JSON.stringify(value)}`);
}
