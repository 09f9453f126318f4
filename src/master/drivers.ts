// Drivers submitted in cluster deploy mode (reference §2.5, §4.4, §4.5): submission, kill, status, the
// worker's final report, removal and the supervised relaunch.

import type { Static } from '@sinclair/typebox';
import type { DriverDescription, DriverState, DriverStatusResponse } from '../protocol/messages.ts';
import type { Ctx } from './context.ts';
import { formatDriverId } from './ids.ts';
import type { Msg, ReplyToken } from './inputs.ts';
import { persistenceKey, type PersistedDriver } from './persisted.ts';
import { schedule } from './schedule.ts';
import { hostPort, removeFrom, trimBeforeAppend, workerRemoveDriver, type DriverInfo } from './state.ts';

/** Spark's `BACKUP_STANDALONE_MASTER_PREFIX`: clients move on to the next master when they see it. */
export const NOT_ALIVE_PREFIX = 'Current state is not alive';

const notAlive = (ctx: Ctx, what: string): string =>
  `${NOT_ALIVE_PREFIX}: ${ctx.state.recoveryState}. Can only ${what} in ALIVE state.`;

export function driverRecord(d: DriverInfo): PersistedDriver {
  return { kind: 'driver', id: d.id, desc: d.desc, startTimeMs: d.startTimeMs, submitDateMs: d.submitDateMs };
}

export function createDriver(ctx: Ctx, desc: DriverDescription): DriverInfo {
  const id = formatDriverId(ctx.now, ctx.state.nextDriverNumber);
  ctx.state.nextDriverNumber += 1;
  return {
    id,
    desc,
    startTimeMs: ctx.now,
    submitDateMs: ctx.now,
    state: 'SUBMITTED',
    exception: undefined,
    worker: undefined,
    resources: {},
  };
}

export function handleSubmitDriver(ctx: Ctx, token: ReplyToken, msg: Msg<'RequestSubmitDriver'>): void {
  const masterUrl = ctx.config.masterUrl;
  if (ctx.state.recoveryState !== 'ALIVE') {
    const message = notAlive(ctx, 'accept driver submissions');
    ctx.out.reply(token, { type: 'SubmitDriverResponse', masterUrl, success: false, message });
    return;
  }
  const driver = createDriver(ctx, msg.driverDescription);
  ctx.out.info(`Driver submitted ${msg.driverDescription.command.mainModule}`, { driverId: driver.id });
  ctx.out.persist(persistenceKey(driverRecord(driver)), driverRecord(driver));
  ctx.state.waitingDrivers.push(driver);
  ctx.state.drivers.add(driver);
  schedule(ctx);
  ctx.out.reply(token, {
    type: 'SubmitDriverResponse',
    masterUrl,
    success: true,
    driverId: driver.id,
    message: `Driver successfully submitted as ${driver.id}`,
  });
}

const findDriver = (ctx: Ctx, id: string): DriverInfo | undefined => [...ctx.state.drivers].find((d) => d.id === id);

/**
 * A waiting driver is dequeued now and marked KILLED after the reply (Spark sends itself
 * `DriverStateChanged(KILLED)`, handled after this ask). A placed one is killed by its worker, whose
 * `DriverStateChanged` does the final bookkeeping. Returns the dequeued driver, if any.
 */
function requestKill(ctx: Ctx, driver: DriverInfo): DriverInfo | undefined {
  ctx.out.info(`Kill request for ${driver.id} submitted`, { driverId: driver.id });
  if (removeFrom(ctx.state.waitingDrivers, driver)) return driver;
  if (driver.worker !== undefined) ctx.out.send(driver.worker.address, { type: 'KillDriver', driverId: driver.id });
  return undefined;
}

export function handleKillDriver(ctx: Ctx, token: ReplyToken, msg: Msg<'RequestKillDriver'>): void {
  const { masterUrl } = ctx.config;
  const driverId = msg.driverId;
  if (ctx.state.recoveryState !== 'ALIVE') {
    const message = notAlive(ctx, 'kill drivers');
    ctx.out.reply(token, { type: 'KillDriverResponse', masterUrl, driverId, success: false, message });
    return;
  }
  const driver = findDriver(ctx, driverId);
  if (driver === undefined) {
    const message = `Driver ${driverId} has already finished or does not exist`;
    ctx.out.warn(message, { driverId });
    ctx.out.reply(token, { type: 'KillDriverResponse', masterUrl, driverId, success: false, message });
    return;
  }
  const dequeued = requestKill(ctx, driver);
  const message = `Kill request for ${driverId} submitted`;
  ctx.out.reply(token, { type: 'KillDriverResponse', masterUrl, driverId, success: true, message });
  if (dequeued !== undefined) removeDriver(ctx, dequeued.id, 'KILLED', undefined);
}

export function handleKillAllDrivers(ctx: Ctx, token: ReplyToken): void {
  const { masterUrl } = ctx.config;
  if (ctx.state.recoveryState !== 'ALIVE') {
    const message = notAlive(ctx, 'kill drivers');
    ctx.out.reply(token, { type: 'KillAllDriversResponse', masterUrl, success: false, message });
    return;
  }
  ctx.out.info('Asked to kill all drivers');
  // Dequeue every waiting driver first, so none of them is launched by the schedule() a removal triggers.
  const dequeued = [...ctx.state.drivers].flatMap((d) => requestKill(ctx, d) ?? []);
  const message = 'Kill request for all drivers submitted';
  ctx.out.reply(token, { type: 'KillAllDriversResponse', masterUrl, success: true, message });
  for (const d of dequeued) removeDriver(ctx, d.id, 'KILLED', undefined);
}

export function handleDriverStatus(ctx: Ctx, token: ReplyToken, msg: Msg<'RequestDriverStatus'>): void {
  if (ctx.state.recoveryState !== 'ALIVE') {
    const exception = notAlive(ctx, 'request driver status');
    ctx.out.reply(token, { type: 'DriverStatusResponse', found: false, exception });
    return;
  }
  const driver = findDriver(ctx, msg.driverId) ?? ctx.state.completedDrivers.find((d) => d.id === msg.driverId);
  if (driver === undefined) {
    ctx.out.reply(token, { type: 'DriverStatusResponse', found: false });
    return;
  }
  const reply: Static<typeof DriverStatusResponse> = {
    type: 'DriverStatusResponse',
    found: true,
    state: driver.state,
    ...(driver.worker === undefined ? {} : { workerId: driver.worker.id, workerHostPort: hostPort(driver.worker) }),
    ...(driver.exception === undefined ? {} : { exception: driver.exception }),
  };
  ctx.out.reply(token, reply);
}

const FINAL_DRIVER_STATES: ReadonlySet<DriverState> = new Set(['ERROR', 'FINISHED', 'KILLED', 'FAILED']);

export function handleDriverStateChanged(ctx: Ctx, msg: Msg<'DriverStateChanged'>): void {
  if (!FINAL_DRIVER_STATES.has(msg.state)) {
    // Spark throws here (a worker bug); its dispatcher logs the error and drops the message.
    ctx.out.error(`Received unexpected state update for driver ${msg.driverId}: ${msg.state}`, {
      driverId: msg.driverId,
      state: msg.state,
    });
    return;
  }
  removeDriver(ctx, msg.driverId, msg.state, msg.exception);
}

/** Reference §4.5. Unknown ids only log: a stale instance's report after a relaunch (SPARK-19900) lands here. */
export function removeDriver(ctx: Ctx, driverId: string, finalState: DriverState, exception: string | undefined): void {
  const driver = findDriver(ctx, driverId);
  if (driver === undefined) {
    ctx.out.warn(`Asked to remove unknown driver: ${driverId}`, { driverId });
    return;
  }
  ctx.out.info(`Removing driver: ${driverId} (${finalState})`, { driverId, state: finalState });
  const { state } = ctx;
  state.drivers.delete(driver);
  // Not in Spark: a driver removed while still queued (a worker reporting on a driver it never got) must not
  // be launched afterwards.
  removeFrom(state.waitingDrivers, driver);
  trimBeforeAppend(state.completedDrivers, ctx.config.retainedDrivers);
  state.completedDrivers.push(driver);
  ctx.out.unpersist(persistenceKey(driverRecord(driver)));
  driver.state = finalState;
  driver.exception = exception;
  if (driver.worker !== undefined) workerRemoveDriver(driver.worker, driver);
  schedule(ctx);
}

/**
 * A supervised driver whose worker was lost gets a NEW id (SPARK-19900): the old worker may come back still
 * running the old instance, and a distinct id lets the master tell that instance's reports apart. The old id
 * ends RELAUNCHING.
 */
export function relaunchDriver(ctx: Ctx, driver: DriverInfo): void {
  removeDriver(ctx, driver.id, 'RELAUNCHING', undefined);
  const relaunched = createDriver(ctx, driver.desc);
  ctx.out.info(`Re-launching ${driver.id} as ${relaunched.id}`, { driverId: driver.id, newDriverId: relaunched.id });
  ctx.out.persist(persistenceKey(driverRecord(relaunched)), driverRecord(relaunched));
  ctx.state.drivers.add(relaunched);
  ctx.state.waitingDrivers.push(relaunched);
  schedule(ctx);
}
