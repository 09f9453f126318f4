// Registration with a master, heartbeats and master changes (reference §6.2, §6.3; Spark's Worker
// `registerWithMaster`, `reregisterWithMaster`, `handleRegisterResponse`, `changeMaster`, `onDisconnected`).
//
//   Start / ReconnectWorker / master disconnect
//        │  registerWithMaster: skipped while a retry timer is armed (disconnects arrive in bursts)
//        ▼
//   RegisterWorker ──► every configured master, in parallel; arm ReregisterWithMaster (initial interval)
//        │
//        ├─ RegisteredWorker ─► registered; changeMaster; heartbeat every timeout/4; WorkerLatestState
//        ├─ RegisterWorkerFailed ─► exit(1) unless already registered
//        ├─ MasterInStandby ─► keep retrying; from the known active master, forget it: retry all masters
//        └─ ReregisterWithMaster fires: attempt n
//              n ≤ total: RegisterWorker again, only to the known active master if any (SPARK-4592),
//                         else to all; from attempt `initial` on, wait the prolonged interval
//              n > total: exit(1) "All masters are unresponsive! Giving up."

import type { Static } from '@sinclair/typebox';
import type { MasterChanged, RegisteredWorker, RegisterWorkerFailed, ResourceAddresses } from '../protocol/messages.ts';
import { heartbeatIntervalMs } from './worker-config.ts';
import type { RegisterWorkerMessage } from './worker-effect.ts';
import { masterEnvUrl } from './master-address.ts';
import type { DialFailed } from '../kit/messaging.ts';
import { noteRefusal, type RefusalFixes } from '../kit/refusals.ts';
import { cancelTimer, isArmed, log, sendToMaster, startTimer, type Ctx } from './worker-state.ts';
import { executorDescriptions, stopWorker } from './lifecycle.ts';

const REREGISTER = 'ReregisterWithMaster';

function registerMessage(ctx: Ctx, masterUrl: string): RegisterWorkerMessage {
  const { config, state } = ctx;
  return {
    type: 'RegisterWorker',
    id: state.workerId,
    host: config.host,
    port: config.port,
    workerAddress: state.workerAddress,
    cores: config.cores,
    memoryMb: config.memoryMb,
    workerWebUiUrl: state.workerWebUiUrl,
    masterAddress: masterUrl,
    ...(config.resources === undefined ? {} : { resources: config.resources }),
  };
}

function registerWith(ctx: Ctx, masterUrl: string): void {
  log(ctx, 'info', `Connecting to master ${masterUrl}...`);
  ctx.out.push({ kind: 'Dial', envUrl: masterUrl, endpoint: 'Master', message: registerMessage(ctx, masterUrl) });
}

function tryRegisterAllMasters(ctx: Ctx): void {
  for (const url of ctx.config.masterUrls) registerWith(ctx, masterEnvUrl(url));
}

/** Starts a registration cycle, unless one is already waiting for its next retry. */
export function registerWithMaster(ctx: Ctx): void {
  if (isArmed(ctx, REREGISTER)) {
    log(
      ctx,
      'info',
      'Not spawning another attempt to register with the master, since there is an attempt scheduled already.',
    );
    return;
  }
  ctx.state.registered = false;
  tryRegisterAllMasters(ctx);
  ctx.state.connectionAttemptCount = 0;
  startTimer(ctx, { kind: 'ReregisterWithMaster' }, ctx.intervals.initialMs);
}

/** What the worker is told to do about a refusal no retry mends (src/kit/refusals.ts). */
const FIXES: RefusalFixes = {
  auth: "Fix: give the worker the cluster's secret (flint.authenticate.secret.file: docs/security.md)",
  version: 'Fix: run the Flint version the master runs',
};

/**
 * A master refused for good before this worker ever registered: once every master has, the worker exits at once
 * with their reasons (Spark's worker retries for all its attempts, about 12 minutes by default). After a
 * registration a refusal is retried as any failure (a master may be replaced).
 */
export function registrationRefused(ctx: Ctx, failed: DialFailed): void {
  const { state, config } = ctx;
  if (state.everRegistered || state.phase !== 'running') return;
  const reason = noteRefusal(state.refused, config.masterUrls.map(masterEnvUrl), failed, FIXES);
  if (reason !== undefined) stopWorker(ctx, 1, reason);
}

/** The retry timer fired. */
export function reregisterWithMaster(ctx: Ctx): void {
  const { state, config } = ctx;
  state.connectionAttemptCount += 1;
  const attempt = state.connectionAttemptCount;
  if (state.registered) return; // the timer stays cancelled
  if (attempt > config.totalRegistrationRetries) {
    const masters = config.masterUrls.join(', ');
    stopWorker(
      ctx,
      1,
      `All masters are unresponsive! Giving up. No master accepted this worker after ` +
        `${config.totalRegistrationRetries} registration retries (masters: ${masters}).`,
    );
    return;
  }
  log(ctx, 'info', `Retrying connection to master (attempt # ${attempt})`);
  const master = state.master;
  if (master === undefined) tryRegisterAllMasters(ctx);
  else registerWith(ctx, config.preferConfiguredMasterAddress ? master.connectUrl : master.url);
  const prolonged = attempt >= config.initialRegistrationRetries;
  startTimer(ctx, { kind: 'ReregisterWithMaster' }, prolonged ? ctx.intervals.prolongedMs : ctx.intervals.initialMs);
}

/**
 * A master in standby answered. When it is the one this worker knew as active, it lost its leadership (it
 * restarted, or a standby took over): the retries go to every master again, not only to it. Spark's worker keeps
 * retrying only the master it knew (SPARK-4592) and, when the new leader does not know it (its record was removed
 * before the failover), gives up after its retries: src/sim found it (seed 222; docs/differences-from-spark.md).
 */
export function handleMasterInStandby(ctx: Ctx, from: string): void {
  const { state } = ctx;
  if (!state.registered && state.master?.url === from) {
    log(ctx, 'info', `Master ${from} is in standby now; registering with every master`);
    state.master = undefined;
    return;
  }
  log(ctx, 'debug', 'Master is in standby; waiting for the active master');
}

function changeMaster(ctx: Ctx, address: string, webUiUrl: string, connectUrl: string): void {
  ctx.state.master = { address, url: masterEnvUrl(address), webUiUrl, connectUrl };
  ctx.state.connected = true;
  cancelTimer(ctx, REREGISTER);
}

export function handleRegistered(ctx: Ctx, msg: Static<typeof RegisteredWorker>): void {
  const { config, state } = ctx;
  const echoed = masterEnvUrl(msg.masterUrl);
  const preferred = config.preferConfiguredMasterAddress ? echoed : masterEnvUrl(msg.masterAddress);
  if (msg.duplicate) log(ctx, 'warn', `Duplicate registration at master ${preferred}`);
  log(ctx, 'info', `Successfully registered with master ${preferred}`);
  state.registered = true;
  state.everRegistered = true;
  // Spark keeps the address the worker used (masterAddressToConnect) for reconnecting and disconnect matching.
  const connectUrl = echoed.startsWith('flint://') ? echoed : masterEnvUrl(msg.masterAddress);
  changeMaster(ctx, msg.masterAddress, msg.masterWebUiUrl, connectUrl);
  startTimer(ctx, { kind: 'SendHeartbeat' }, 0);
  if (config.cleanup.enabled && !isArmed(ctx, 'WorkDirCleanup')) {
    log(ctx, 'info', `Worker cleanup enabled; old application directories will be deleted in: ${config.workDir}`);
    startTimer(ctx, { kind: 'WorkDirCleanup' }, config.cleanup.intervalMs);
  }
  sendToMaster(ctx, {
    type: 'WorkerLatestState',
    id: state.workerId,
    executors: executorDescriptions(state),
    driverIds: [...state.drivers.keys()],
  });
}

export function handleRegisterFailed(ctx: Ctx, msg: Static<typeof RegisterWorkerFailed>): void {
  if (ctx.state.registered) {
    log(ctx, 'info', `Ignoring RegisterWorkerFailed while registered: ${msg.message}`);
    return;
  }
  stopWorker(ctx, 1, `Worker registration failed: ${msg.message}`);
}

export function handleMasterChanged(ctx: Ctx, msg: Static<typeof MasterChanged>): void {
  if (!ctx.state.everRegistered) {
    // A master recovering an earlier worker at this address (one that crashed and came back under a new id)
    // announces itself to it. This worker never registered: adopting the master would end its registration
    // retries (Spark's changeMaster cancels them) while the master knows it under no id, and its heartbeats,
    // armed only by RegisteredWorker, would never start: it would sit unregistered for ever. It keeps
    // registering instead. Found by the simulator (src/sim, seed 11).
    log(ctx, 'info', `Ignored MasterChanged from ${masterEnvUrl(msg.masterAddress)}: this worker has not registered yet, and keeps registering`);
    return;
  }
  log(ctx, 'info', `Master has changed, new master is at ${masterEnvUrl(msg.masterAddress)}`);
  changeMaster(ctx, msg.masterAddress, msg.masterWebUiUrl, masterEnvUrl(msg.masterAddress));
  sendToMaster(ctx, {
    type: 'WorkerSchedulerStateResponse',
    id: ctx.state.workerId,
    executors: executorDescriptions(ctx.state),
    driverIds: [...ctx.state.drivers.keys()],
    ...driverResources(ctx.state.drivers.values()),
  });
}

/** The addresses each driver holds, for the recovering master (Spark's `WorkerDriverStateResponse.resources`). */
function driverResources(drivers: Iterable<{ readonly driverId: string; readonly resources?: ResourceAddresses | undefined }>) {
  const held = [...drivers].filter((d) => d.resources !== undefined && Object.keys(d.resources).length > 0);
  return held.length === 0 ? {} : { driverResources: Object.fromEntries(held.map((d) => [d.driverId, d.resources as ResourceAddresses])) };
}

/** Spark's `onDisconnected`: only the active master's env (or the one to reconnect to) counts. */
export function handleDisconnected(ctx: Ctx, envId: string): void {
  const master = ctx.state.master;
  const env = masterEnvUrl(envId);
  if (master === undefined || (env !== master.url && env !== master.connectUrl)) return;
  log(ctx, 'error', `${env} disassociated! Connection to master failed! Waiting for master to reconnect...`);
  ctx.state.connected = false;
  registerWithMaster(ctx);
}

/** The heartbeat timer fired: beat if connected, and re-arm (fixed rate). */
export function sendHeartbeat(ctx: Ctx): void {
  const { state } = ctx;
  if (state.connected) {
    sendToMaster(ctx, { type: 'Heartbeat', workerId: state.workerId, workerAddress: state.workerAddress });
  }
  startTimer(ctx, { kind: 'SendHeartbeat' }, heartbeatIntervalMs(ctx.config));
}
