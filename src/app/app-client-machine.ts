// The driver's conversation with the master as a sans-I/O state machine (STYLE.md §3): Spark's
// `StandaloneAppClient` and its `ClientEndpoint`. `handle(input, now)` applies one input and returns the effects
// to carry out, in order (see effects.ts for the ordering rules). It reads no clock, sets no timer and touches no
// socket; its host (src/daemons/app-client.ts, or the simulator) carries the effects out.
//
// It registers the application with every master in parallel (Spark's `tryRegisterAllMasters`), starts a new
// round every `registrationTimeoutMs` up to `registrationRetries` rounds (`registerWithMaster`), and declares the
// app dead when no master answered. A master in STANDBY never answers; the one that leads does. After that it
// follows MasterChanged, relays executor events to the driver, answers the driver's asks through the master, and
// unregisters on stop.

import { EXECUTOR_FINISHED_STATES, type MasterToApp } from '../protocol/messages.ts';
import { envIdOf } from '../protocol/addresses.ts';
import type { DialFailed } from '../kit/messaging.ts';
import { noteRefusal, type RefusalFixes } from '../kit/refusals.ts';
import type { AppClientConfig } from './config.ts';
import { EffectList, type AppClientEffect } from './effects.ts';
import type { AppClientInput, ReplyToken } from './inputs.ts';
import { createAppClientState, type AppClientState, type Ctx } from './state.ts';

/** A read-only copy of the client's state, for tests and the simulator's checks. */
export interface AppClientSnapshot {
  readonly appId: string | undefined;
  readonly master: string | undefined;
  readonly attempt: number;
  readonly dead: boolean;
  readonly disconnected: boolean;
  readonly stopped: boolean;
}

export class AppClientMachine {
  readonly #state: AppClientState = createAppClientState();
  readonly #config: AppClientConfig;

  /** `config` comes from `appClientConfig`, already checked. */
  constructor(config: AppClientConfig) {
    this.#config = config;
  }

  /** The application id the master gave, once registered. */
  get appId(): string | undefined {
    return this.#state.appId;
  }

  /** The armed timers, with the generation a firing must carry (src/kit/timers.ts). */
  armedTimers(): ReturnType<AppClientState['timers']['armed']> {
    return this.#state.timers.armed();
  }

  snapshot(): AppClientSnapshot {
    const { appId, master, attempt, dead, disconnected, stopped } = this.#state;
    return { appId, master, attempt, dead, disconnected, stopped };
  }

  /**
   * Applies one input and returns the effects, in execution order. The client measures time only through its
   * timers; `now` reaches its handlers as every machine's does. After `Stop` it answers the driver's asks and
   * ignores the rest.
   */
  handle(input: AppClientInput, now: number): AppClientEffect[] {
    const ctx: Ctx = { state: this.#state, config: this.#config, now, out: new EffectList(this.#state.timers) };
    dispatch(ctx, input);
    return [...ctx.out.effects];
  }
}

/** The inputs a stopped client still takes: the driver's asks must all be answered. */
const ASKS: ReadonlySet<AppClientInput['kind']> = new Set(['RequestExecutors', 'KillExecutors', 'Answered', 'AskFailed']);

function dispatch(ctx: Ctx, input: AppClientInput): void {
  const { state } = ctx;
  if (state.stopped && !ASKS.has(input.kind)) return;
  switch (input.kind) {
    case 'Start':
      if (state.started) return;
      state.started = true;
      return registerWithMaster(ctx, 1);
    case 'MasterMessage':
      return receive(ctx, input.message);
    case 'Disconnected':
      return disconnected(ctx, input.envId);
    case 'DialFailed':
      // A failed round of the dial loop says nothing new: the loop tries again in a second.
      if (input.messageType !== 'RegisterApplication') return;
      ctx.out.log('warn', `Failed to connect to master ${input.envUrl}`, { master: input.envUrl, err: input.error });
      return registrationRefused(ctx, input);
    case 'RequestExecutors':
      return askMaster(ctx, input.token, (appId) => ({ type: 'RequestExecutors', appId, requestedTotal: input.requestedTotal }));
    case 'KillExecutors':
      return askMaster(ctx, input.token, (appId) => ({ type: 'KillExecutors', appId, executorIds: [...input.executorIds] }));
    case 'Answered':
      if (!state.asking.delete(input.context)) return;
      ctx.out.push({ kind: 'Reply', token: input.context, message: input.reply.type === 'BooleanResponse' && input.reply.value });
      return;
    case 'AskFailed':
      if (!state.asking.delete(input.context)) return;
      ctx.out.push({ kind: 'ReplyFailure', token: input.context, error: input.error });
      return;
    case 'TimerFired':
      return timerFired(ctx, input.key, input.generation);
    case 'Stop':
      return stop(ctx);
    default:
      return unreachable(input);
  }
}

/**
 * One registration round (Spark's `registerWithMaster` / `tryRegisterAllMasters`): RegisterApplication to every
 * master, and the round's timeout. Nothing once registered or dead.
 */
function registerWithMaster(ctx: Ctx, attempt: number): void {
  const { state, config, out } = ctx;
  if (state.appId !== undefined || state.dead) return;
  state.attempt = attempt;
  for (const master of config.masters) {
    out.log('info', `Connecting to master ${master}...`, { master, attempt });
    out.push({
      kind: 'Dial',
      envUrl: master,
      endpoint: 'Master',
      message: { type: 'RegisterApplication', appDescription: config.description, driverAddress: config.driverAddress },
    });
  }
  out.startTimer('RegistrationRetry', config.registrationTimeoutMs);
}

/** What the application is told to do about a refusal no retry mends (src/kit/refusals.ts). */
const FIXES: RefusalFixes = {
  auth: 'Fix: give the application the secret the cluster uses (flint.authenticate.secret.file, or its application secret in flint.authenticate.appSecret.file: docs/security.md)',
  version: 'Fix: run the application with the Flint version the master runs',
};

/** A master refused for good: once every master has, the application is dead at once, with their reasons. */
function registrationRefused(ctx: Ctx, failed: DialFailed): void {
  const { state, config } = ctx;
  if (state.appId !== undefined || state.dead) return;
  const reason = noteRefusal(state.refused, config.masters, failed, FIXES);
  if (reason !== undefined) markDead(ctx, reason);
}

function timerFired(ctx: Ctx, key: string, generation: number): void {
  const { state, config, out } = ctx;
  const timer = state.timers.fired(key, generation);
  if (timer === undefined) return; // cancelled or replaced since
  switch (timer) {
    case 'RegistrationRetry':
      if (state.appId !== undefined || state.dead) return;
      if (state.attempt >= config.registrationRetries) return markDead(ctx, 'All masters are unresponsive! Giving up.');
      return registerWithMaster(ctx, state.attempt + 1);
    case 'Reconnect': {
      const appId = state.appId;
      if (!state.disconnected || state.dead || appId === undefined) return;
      for (const masterUrl of config.masters) {
        out.push({ kind: 'Dial', envUrl: masterUrl, endpoint: 'Master', message: { type: 'MasterChangeAcknowledged', appId } });
      }
      out.startTimer('Reconnect', config.reconnectIntervalMs);
      return;
    }
    default:
      return unreachable(timer);
  }
}

function receive(ctx: Ctx, message: MasterToApp): void {
  const { state, out } = ctx;
  switch (message.type) {
    case 'RegisteredApplication':
      return registered(ctx, message);
    case 'ApplicationRemoved':
      return markDead(ctx, `Master removed our application: ${message.message}`);
    case 'ExecutorAdded': {
      const fullId = `${state.appId}/${message.id}`;
      out.log('info', `Executor added: ${fullId} on ${message.hostPort} with ${message.cores} cores`, { executorId: message.id, workerId: message.workerId });
      const { workerId, hostPort, cores, memoryMb } = message;
      out.push({ kind: 'ExecutorAdded', fullId, workerId, hostPort, cores, memoryMb });
      return;
    }
    case 'ExecutorUpdated': {
      const fullId = `${state.appId}/${message.id}`;
      out.log('info', `Executor updated: ${fullId} is now ${message.state}`, { executorId: message.id, state: message.state });
      if (message.state === 'DECOMMISSIONED') {
        const workerHost = message.workerHost === undefined ? {} : { workerHost: message.workerHost };
        out.push({ kind: 'ExecutorDecommissioned', fullId, message: message.message ?? '', ...workerHost });
        return;
      }
      if (!EXECUTOR_FINISHED_STATES.includes(message.state)) return;
      out.push({
        kind: 'ExecutorRemoved',
        fullId,
        message: message.message ?? '',
        ...(message.exitStatus === undefined ? {} : { exitStatus: message.exitStatus }),
        ...(message.workerHost === undefined ? {} : { workerHost: message.workerHost }),
      });
      return;
    }
    case 'WorkerRemoved':
      out.push({ kind: 'WorkerRemoved', workerId: message.id, host: message.host, message: message.message });
      return;
    case 'MasterChanged':
      return masterChanged(ctx, message.masterAddress);
    default:
      return unreachable(message);
  }
}

function registered(ctx: Ctx, message: Extract<MasterToApp, { readonly type: 'RegisteredApplication' }>): void {
  const { state, out } = ctx;
  if (state.dead) return;
  out.cancelTimer('RegistrationRetry');
  state.appId = message.appId;
  state.master = message.masterAddress;
  out.log('info', `Connected to the master; the application id is ${message.appId}`, { appId: message.appId, master: envIdOf(message.masterAddress) });
  out.push({
    kind: 'Connected',
    appId: message.appId,
    masterAddress: message.masterAddress,
    ...(message.executorKey === undefined ? {} : { sealedExecutorKey: message.executorKey }),
  });
}

/**
 * MasterChanged (Spark's `ClientEndpoint.receive` case `MasterChanged`): follow the new master and acknowledge.
 * A master that answers our own MasterChangeAcknowledged (the dial loop) sends MasterChanged again: acknowledge
 * only a change or the end of a disconnection, so the exchange stops there.
 */
function masterChanged(ctx: Ctx, masterAddress: string): void {
  const { state, out } = ctx;
  const changed = state.master !== masterAddress || state.disconnected;
  state.master = masterAddress;
  state.disconnected = false;
  out.cancelTimer('Reconnect');
  if (!changed) return;
  out.log('info', `Master has changed, new master is at ${masterAddress}`, { master: masterAddress });
  if (state.appId !== undefined) out.push({ kind: 'Send', to: masterAddress, message: { type: 'MasterChangeAcknowledged', appId: state.appId } });
}

/**
 * The connection to the master dropped (Spark's `onDisconnected`, which only logs and waits for MasterChanged).
 * Flint also dials every master each `reconnectIntervalMs` and sends MasterChangeAcknowledged: the driver's env
 * has no port, so a master can reach it only over a connection it opened, and a master restarted on the same
 * address (FILESYSTEM recovery) or a new leader it had no connection to could not send MasterChanged otherwise.
 * The leader, recovering this app, answers with MasterChanged, which ends the loop; a standby ignores it.
 */
function disconnected(ctx: Ctx, envId: string): void {
  const { state, config, out } = ctx;
  if (state.master === undefined || envIdOf(state.master) !== envId || state.disconnected) return;
  state.disconnected = true;
  out.log('warn', 'Connection to master lost; waiting for a leader to reach us', { master: envId });
  out.push({ kind: 'Disconnected' });
  out.startTimer('Reconnect', config.reconnectIntervalMs);
}

/** Puts a driver's ask to the master; answered false at once when the app is not registered. */
function askMaster(ctx: Ctx, token: ReplyToken, message: (appId: string) => Extract<AppClientEffect, { kind: 'Ask' }>['message']): void {
  const { state, out } = ctx;
  if (state.master === undefined || state.appId === undefined) {
    out.push({ kind: 'Reply', token, message: false });
    return;
  }
  state.asking.add(token);
  out.push({ kind: 'Ask', to: state.master, context: token, message: message(state.appId) });
}

/** Spark's `markDead`: once, with the reason; the timers stop. */
function markDead(ctx: Ctx, reason: string): void {
  const { state, out } = ctx;
  if (state.dead) return;
  state.dead = true;
  out.cancelTimer('RegistrationRetry');
  out.cancelTimer('Reconnect');
  out.log('error', `Application has been killed. Reason: ${reason}`, { reason });
  out.push({ kind: 'Dead', reason });
}

/** Spark's `StandaloneAppClient.stop`: unregister (its executors are killed; it ends FINISHED). Final. */
function stop(ctx: Ctx): void {
  const { state, out } = ctx;
  state.stopped = true;
  state.dead = true;
  out.cancelTimer('RegistrationRetry');
  out.cancelTimer('Reconnect');
  if (state.master !== undefined && state.appId !== undefined) {
    out.push({ kind: 'Send', to: state.master, message: { type: 'UnregisterApplication', appId: state.appId } });
  }
}

function unreachable(value: never): never {
  throw new Error(`unhandled ${JSON.stringify(value)}`);
}
