// Applications (reference §2.4, §3.3, §4.4, §4.5): registration, executor state reports with the failure
// limit, dynamic allocation requests, and removal.

import { envIdOf } from '../protocol/addresses.ts';
import { EXECUTOR_FINISHED_STATES, type ApplicationDescription, type ApplicationState } from '../protocol/messages.ts';
import type { Ctx } from './context.ts';
import { formatApplicationId } from './ids.ts';
import type { Msg, ReplyToken } from './inputs.ts';
import { persistenceKey, type PersistedApplication } from './persisted.ts';
import { countExecutorFailure, hasHealthyExecutor, noteHealthyExecutors } from './relaunch-backoff.ts';
import { schedule } from './schedule.ts';
import { holdAsOrphan, noteExecutorId, releaseOrphan } from './workers.ts';
import { releaseDecommissionedExecutor } from './decommission.ts';
import {
  appRemoveExecutor,
  fullExecutorId,
  isAppFinished,
  isExecutorFinished,
  removeFrom,
  trimBeforeAppend,
  workerRemoveExecutor,
  type ApplicationInfo,
  type ExecutorInfo,
} from './state.ts';

export function appRecord(app: ApplicationInfo): PersistedApplication {
  return {
    kind: 'app',
    id: app.id,
    desc: app.desc,
    driverAddress: app.driverAddress,
    startTimeMs: app.startTimeMs,
    submitDateMs: app.submitDateMs,
    ...(app.defaultCores === undefined ? {} : { defaultCores: app.defaultCores }),
    ...(app.executorIdsReserved === 0 ? {} : { executorIdsBelow: app.executorIdsReserved }),
  };
}

/** A WAITING ApplicationInfo from its constructor fields (a new registration, or a persisted record). */
export function newApplicationInfo(record: Omit<PersistedApplication, 'kind'>): ApplicationInfo {
  return {
    id: record.id,
    desc: record.desc,
    driverAddress: record.driverAddress,
    driverEnvId: envIdOf(record.driverAddress),
    startTimeMs: record.startTimeMs,
    submitDateMs: record.submitDateMs,
    defaultCores: record.defaultCores,
    state: 'WAITING',
    executors: new Map(),
    removedExecutors: [],
    coresGranted: 0,
    endTimeMs: -1,
    executorLimit: record.desc.initialExecutorLimit ?? Number.POSITIVE_INFINITY,
    nextExecutorId: record.executorIdsBelow ?? 0,
    executorIdsReserved: record.executorIdsBelow ?? 0,
    retryCount: 0,
    lastFailureMs: Number.NEGATIVE_INFINITY,
    relaunchBackoff: new Map(),
  };
}

function createApplication(ctx: Ctx, desc: ApplicationDescription, driverAddress: string): ApplicationInfo {
  const id = formatApplicationId(ctx.now, ctx.state.nextAppNumber);
  ctx.state.nextAppNumber += 1;
  return newApplicationInfo({
    id,
    desc,
    driverAddress,
    startTimeMs: ctx.now,
    submitDateMs: ctx.now,
    ...(ctx.config.defaultCores === undefined ? {} : { defaultCores: ctx.config.defaultCores }),
  });
}

/** Indexes an app. A second app from a driver address already registered is silently not indexed (Spark). */
export function registerApplication(ctx: Ctx, app: ApplicationInfo): void {
  const { state } = ctx;
  if (state.addressToApp.has(app.driverEnvId)) {
    ctx.out.info(`Attempted to re-register application at same address: ${app.driverEnvId}`, { appId: app.id });
    return;
  }
  state.apps.add(app);
  state.idToApp.set(app.id, app);
  state.addressToApp.set(app.driverEnvId, app);
  state.waitingApps.push(app);
}

/**
 * `from` is the env the message came on. The driver must be that env: an application that named another
 * address would never be removed when its connection drops, and could have the master send to anyone
 * (docs/security.md). Spark's Master takes `driver` from the message as it comes.
 */
export function handleRegisterApplication(ctx: Ctx, msg: Msg<'RegisterApplication'>, from: string): void {
  // In STANDBY there is no reply at all: that silence is how app clients find the active master.
  if (ctx.state.recoveryState === 'STANDBY') return;
  const desc = msg.appDescription;
  if (envIdOf(msg.driverAddress) !== from) {
    ctx.out.warn(`Refused to register app ${desc.name}: its driver address is not the connection it registered on`, {
      driverAddress: msg.driverAddress,
      from,
    });
    return;
  }
  ctx.out.info(`Registering app ${desc.name}`);
  const app = createApplication(ctx, desc, msg.driverAddress);
  registerApplication(ctx, app);
  ctx.out.info(`Registered app ${desc.name} with ID ${app.id}`, { appId: app.id });
  // Spark's "TODO prevent repeated registrations": a repeated registration from the same driver is not
  // indexed, yet it is still persisted, acknowledged with its fresh id and scheduled.
  ctx.out.persist(persistenceKey(appRecord(app)), appRecord(app));
  ctx.out.send(app.driverAddress, { type: 'RegisteredApplication', appId: app.id, masterAddress: ctx.config.masterAddress });
  schedule(ctx);
}

export function handleUnregisterApplication(ctx: Ctx, msg: Msg<'UnregisterApplication'>): void {
  ctx.out.info(`Received unregister request from application ${msg.appId}`, { appId: msg.appId });
  const app = ctx.state.idToApp.get(msg.appId);
  if (app !== undefined) removeApplication(ctx, app, 'FINISHED');
}

/** The web UI's kill button. */
export function handleKillApplication(ctx: Ctx, appId: string): void {
  const app = ctx.state.idToApp.get(appId);
  if (app === undefined) {
    ctx.out.warn(`Asked to kill unknown application ${appId}`, { appId });
    return;
  }
  removeApplication(ctx, app, 'KILLED');
}

/**
 * `flint kill <appId>` (Flint's RPC twin of the UI's `/app/kill`): as KillApplication, answered. Refused in
 * any state but ALIVE, as Spark refuses driver kills (`RequestKillDriver`).
 */
export function handleRequestKillApplication(ctx: Ctx, token: ReplyToken, msg: Msg<'RequestKillApplication'>): void {
  const { appId } = msg;
  const answer = (success: boolean, message: string): void =>
    ctx.out.reply(token, { type: 'KillApplicationResponse', appId, success, message });
  if (ctx.state.recoveryState !== 'ALIVE') return answer(false, `Can only kill applications in ALIVE state. Current state: ${ctx.state.recoveryState}.`);
  const app = ctx.state.idToApp.get(appId);
  if (app === undefined) return answer(false, `Application ${appId} is not running or does not exist`);
  ctx.out.info(`Asked to kill application ${appId}`, { appId });
  removeApplication(ctx, app, 'KILLED');
  answer(true, `Application ${appId} killed`);
}

/**
 * Reference §4.5. No-op unless the app is active. Its executors are killed; the driver hears
 * `ApplicationRemoved` (the state, then `reason` if given) unless the app FINISHED; every worker, DEAD ones
 * included, hears `ApplicationFinished`.
 */
export function removeApplication(ctx: Ctx, app: ApplicationInfo, finalState: ApplicationState, reason?: string): void {
  const { state, out } = ctx;
  if (!state.apps.has(app)) return;
  out.info(`Removing app ${app.id}`, { appId: app.id, state: finalState });
  state.apps.delete(app);
  state.idToApp.delete(app.id);
  if (state.addressToApp.get(app.driverEnvId) === app) state.addressToApp.delete(app.driverEnvId);
  trimBeforeAppend(state.completedApps, ctx.config.retainedApplications);
  state.completedApps.push(app);
  removeFrom(state.waitingApps, app);
  for (const exec of app.executors.values()) killExecutor(ctx, exec);
  app.state = finalState;
  app.endTimeMs = ctx.now;
  // Spark sends the bare state; a reason follows it when the master has one (`FAILED: …`).
  const message = reason === undefined ? finalState : `${finalState}: ${reason}`;
  if (finalState !== 'FINISHED') out.send(app.driverAddress, { type: 'ApplicationRemoved', message });
  out.unpersist(persistenceKey(appRecord(app)));
  schedule(ctx);
  for (const w of state.workers) out.send(w.address, { type: 'ApplicationFinished', id: app.id });
}

/**
 * Tells the worker to kill the executor; the app keeps the entry. Its cores and memory stay held on the worker
 * (WorkerInfo.orphans) until the worker reports it ended or reports its whole state without it: a process being
 * killed still runs, and cores given at once to another executor would run on more cores than the worker has
 * (Spark frees them at the kill; src/sim found it: seed 141; docs/differences-from-spark.md).
 */
function killExecutor(ctx: Ctx, exec: ExecutorInfo): void {
  const worker = exec.worker;
  const held = worker.executors.has(fullExecutorId(exec)) && !EXECUTOR_FINISHED_STATES.includes(exec.state);
  workerRemoveExecutor(worker, exec);
  if (held && worker.state !== 'DEAD') holdAsOrphan(worker, fullExecutorId(exec), exec.cores, exec.memoryMb, exec.resources);
  ctx.out.send(exec.worker.address, {
    type: 'KillExecutor',
    masterUrl: ctx.config.masterUrl,
    appId: exec.app.id,
    execId: exec.id,
  });
  exec.state = 'KILLED';
}

/**
 * An ask answered `true` in every case but one: RUNNING reported for an executor that was not LAUNCHING,
 * which Spark asserts against, failing the ask. `schedule()` runs after every change, which is what
 * relaunches executors after a failure (SPARK-27510 bounds that loop with `maxExecutorRetries`; unlike
 * Spark, RUNNING does not reset the count: relaunch-backoff.ts).
 */
export function handleExecutorStateChanged(ctx: Ctx, token: ReplyToken, msg: Msg<'ExecutorStateChanged'>, from: string): void {
  const app = ctx.state.idToApp.get(msg.appId);
  const known = app?.executors.get(msg.execId);
  // Only the worker that runs an executor speaks for it. After a master restart an executor id can be given
  // again, on another worker, while the old executor's last report is still on its way from its own worker;
  // taken as news of the new one, it would remove an executor that runs (src/sim found it: seed 11).
  const exec = known !== undefined && known.worker.envId === from ? known : undefined;
  if (app === undefined || exec === undefined) {
    if (releaseDecommissionedExecutor(ctx, msg, from)) return ctx.out.reply(token, { type: 'BooleanResponse', value: true });
    if (known === undefined) {
      ctx.out.warn(`Got status update for unknown executor ${msg.appId}/${msg.execId}`, { appId: msg.appId });
      noteExecutorId(ctx, msg.appId, msg.execId);
    }
    else ctx.out.warn(`Ignored a status update for executor ${msg.appId}/${msg.execId} from ${from.slice(0, 200)}: it runs on ${known.worker.id}`, { appId: msg.appId });
    ctx.out.reply(token, { type: 'BooleanResponse', value: true });
    if (EXECUTOR_FINISHED_STATES.includes(msg.state) && releaseOrphan(ctx, `${msg.appId}/${msg.execId}`, from)) schedule(ctx);
    return;
  }
  const oldState = exec.state;
  if (msg.state === 'RUNNING' && oldState !== 'LAUNCHING') {
    exec.state = msg.state;
    ctx.out.replyFailure(token, `executor ${msg.execId} state transfer from ${oldState} to RUNNING is illegal`);
    return;
  }
  noteHealthyExecutors(ctx, app, [exec]);
  exec.state = msg.state;
  if (msg.state === 'RUNNING') exec.runningSinceMs = ctx.now;
  ctx.out.send(app.driverAddress, {
    type: 'ExecutorUpdated',
    id: exec.id,
    state: msg.state,
    ...(msg.message === undefined ? {} : { message: msg.message }),
    ...(msg.exitStatus === undefined ? {} : { exitStatus: msg.exitStatus }),
  });
  if (isExecutorFinished(msg.state)) executorFinished(ctx, app, exec, oldState, msg.exitStatus);
  schedule(ctx);
  ctx.out.reply(token, { type: 'BooleanResponse', value: true });
}

function executorFinished(
  ctx: Ctx,
  app: ApplicationInfo,
  exec: ExecutorInfo,
  oldState: ExecutorInfo['state'],
  exitStatus: number | undefined,
): void {
  ctx.out.info(`Removing executor ${app.id}/${exec.id} because it is ${exec.state}`, { appId: app.id });
  // A finished app keeps its executors, for the UI.
  if (!isAppFinished(app)) appRemoveExecutor(app, exec);
  workerRemoveExecutor(exec.worker, exec);
  // No exit status counts as abnormal. Losses on a decommissioned worker are expected, not failures.
  if (exitStatus === 0 || oldState === 'DECOMMISSIONED') return;
  noteHealthyExecutors(ctx, app); // the app's other executors may have proven themselves since the last failure
  countExecutorFailure(ctx, app, exec);
  const max = ctx.config.maxExecutorRetries;
  if (max < 0 || app.retryCount < max) return;
  // Spark spares an app with any RUNNING executor; a crash loop always has one about to crash.
  if (hasHealthyExecutor(ctx, app)) return;
  const reason =
    `${app.retryCount} executor failures with no executor running for flint.deploy.executorMinUptime ` +
    `(${ctx.config.executorMinUptimeMs} ms) in between; the limit is flint.deploy.maxExecutorRetries=${max}`;
  ctx.out.error(`Application ${app.desc.name} with ID ${app.id} failed: ${reason}; removing it`, { appId: app.id });
  removeApplication(ctx, app, 'FAILED', reason);
}

/** Sets the executor target. Raising it launches more; lowering it never kills anything. */
export function handleRequestExecutors(ctx: Ctx, token: ReplyToken, msg: Msg<'RequestExecutors'>): void {
  const app = ctx.state.idToApp.get(msg.appId);
  if (app === undefined) {
    ctx.out.warn(`Unknown application ${msg.appId} requested ${msg.requestedTotal} total executors.`);
    ctx.out.reply(token, { type: 'BooleanResponse', value: false });
    return;
  }
  ctx.out.info(`Application ${msg.appId} requested to set total executors to ${msg.requestedTotal}.`);
  app.executorLimit = msg.requestedTotal;
  schedule(ctx);
  ctx.out.reply(token, { type: 'BooleanResponse', value: true });
}

/** The client lowers its target first (RequestExecutors), or schedule() replaces the killed executors at once. */
export function handleKillExecutors(ctx: Ctx, token: ReplyToken, msg: Msg<'KillExecutors'>): void {
  const ids: number[] = [];
  for (const raw of msg.executorIds) {
    if (/^[+-]?\d{1,10}$/.test(raw) && Number.isSafeInteger(Number(raw))) ids.push(Number(raw));
    else ctx.out.error(`Encountered executor with a non-integer ID: ${raw}. Ignoring`, { appId: msg.appId });
  }
  const app = ctx.state.idToApp.get(msg.appId);
  if (app === undefined) {
    ctx.out.warn(`Unregistered application ${msg.appId} requested us to kill executors!`);
    ctx.out.reply(token, { type: 'BooleanResponse', value: false });
    return;
  }
  ctx.out.info(`Application ${msg.appId} requests to kill executors: ${ids.join(', ')}`, { appId: msg.appId });
  const unknown: number[] = [];
  for (const id of ids) {
    const exec = app.executors.get(id);
    if (exec === undefined) {
      unknown.push(id);
      continue;
    }
    noteHealthyExecutors(ctx, app, [exec]);
    appRemoveExecutor(app, exec);
    killExecutor(ctx, exec);
  }
  if (unknown.length > 0) {
    ctx.out.warn(`Application ${msg.appId} attempted to kill non-existent executors: ${unknown.join(', ')}`);
  }
  schedule(ctx);
  ctx.out.reply(token, { type: 'BooleanResponse', value: true });
}
