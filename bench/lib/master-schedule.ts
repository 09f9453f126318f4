// The in-process half of bench/master.ts: `schedule()` timed on a MasterMachine with many workers and many
// waiting apps. No sockets: this is the pure scheduling path of src/master and src/scheduling.
//
// Workers are registered through `MasterMachine.handle` (RegisterWorker inputs, exactly as the daemon feeds
// them). Waiting apps are added with the master's own `registerApplication` (apps.ts), which indexes an app
// and queues it without running `schedule()`: that is the only way to have many apps waiting on free
// workers at once, since every registration through `handle` schedules at once. The recovery scenario
// reaches the same state through public inputs only and serves as a cross-check.

import { randomBytes } from 'node:crypto';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { RngStreams } from '../../src/kit/rng.ts';
import { newApplicationInfo, registerApplication } from '../../src/master/apps.ts';
import type { Ctx } from '../../src/master/context.ts';
import { EffectList, type MasterEffect } from '../../src/master/effects.ts';
import {
  EMPTY_PERSISTED_STATE,
  MasterMachine,
  masterConfig,
  type PersistedApplication,
  type PersistedWorker,
} from '../../src/master/index.ts';
import { schedule } from '../../src/master/schedule.ts';
import type { MasterState } from '../../src/master/state.ts';
import type { ApplicationDescription } from '../../src/protocol/messages.ts';
import { SIM_WORKER_PORT, simWorkerHost, simWorkerId } from './master-sim.ts';

export interface ClusterShape {
  readonly workers: number;
  readonly coresPerWorker: number;
  readonly memoryMbPerWorker: number;
  readonly apps: number;
  /** Every waiting app's demand: maxCores cores, in executors of coresPerExecutor cores and memoryMbPerExecutor. */
  readonly appMaxCores: number;
  readonly appCoresPerExecutor: number;
  readonly appMemoryMbPerExecutor: number;
}

const rng = new RngStreams(randomBytes(16).toString('hex')).stream('master.shuffle');
const STAMP = '20250101000000';

function appDescription(shape: ClusterShape, name: string, unlimited = false): ApplicationDescription {
  return {
    name,
    ...(unlimited ? {} : { maxCores: shape.appMaxCores, coresPerExecutor: shape.appCoresPerExecutor }),
    memoryMbPerExecutor: shape.appMemoryMbPerExecutor,
    command: { mainModule: 'bench-app.js', arguments: [], environment: {}, nodeOptions: [] },
    appUiUrl: 'http://127.0.0.1:4040',
    user: 'bench',
  };
}

function workerRecord(shape: ClusterShape, i: number): PersistedWorker {
  const host = simWorkerHost(i);
  return {
    kind: 'worker',
    id: simWorkerId(STAMP, i),
    host,
    port: SIM_WORKER_PORT,
    workerAddress: `flint://Worker@${host}:${SIM_WORKER_PORT}`,
    cores: shape.coresPerWorker,
    memoryMb: shape.memoryMbPerWorker,
    webUiUrl: `http://${host}:8081`,
  };
}

function newMachine(now: number): MasterMachine {
  const machine = new MasterMachine(masterConfig({ host: '127.0.0.1', port: 7077, webUiPort: 8080 }), rng);
  machine.handle({ kind: 'Start' }, now);
  return machine;
}

/** A Ctx on the machine's live state, as `handle` builds one, with an empty effect list. */
function ctxOf(machine: MasterMachine, now: number): Ctx {
  return { state: machine.state as MasterState, config: machine.config, rng, now, out: new EffectList(machine.state.timers as MasterState['timers']) };
}

export interface Registration {
  readonly machine: MasterMachine;
  readonly totalMs: number;
  /** Mean time of one RegisterWorker `handle` over the first and the last 10% of the registrations. */
  readonly firstTenthMeanUs: number;
  readonly lastTenthMeanUs: number;
}

/** An ALIVE master with `shape.workers` idle workers, each registered through `handle(RegisterWorker)`. */
export function registerWorkers(shape: ClusterShape, now: number): Registration {
  const machine = newMachine(now);
  machine.handle({ kind: 'ElectedLeader', persisted: EMPTY_PERSISTED_STATE }, now);
  const tenth = Math.max(1, Math.floor(shape.workers / 10));
  let firstMs = 0;
  let lastMs = 0;
  const t0 = performance.now();
  for (let i = 0; i < shape.workers; i++) {
    const r = workerRecord(shape, i);
    const t = performance.now();
    machine.handle(
      {
        kind: 'Receive',
        from: `flint://${r.host}:${r.port}`,
        message: {
          type: 'RegisterWorker',
          id: r.id,
          host: r.host,
          port: r.port,
          workerAddress: r.workerAddress,
          cores: r.cores,
          memoryMb: r.memoryMb,
          workerWebUiUrl: r.webUiUrl,
          masterAddress: 'flint://127.0.0.1:7077',
        },
      },
      now,
    );
    const dt = performance.now() - t;
    if (i < tenth) firstMs += dt;
    if (i >= shape.workers - tenth) lastMs += dt;
  }
  const totalMs = performance.now() - t0;
  if (machine.state.idToWorker.size !== shape.workers) {
    throw new Error(`registered ${machine.state.idToWorker.size} workers of ${shape.workers}`);
  }
  // Each worker then says it runs nothing, as a real one does after RegisteredWorker: only now may the master place
  // executors on it (WorkerInfo.awaitingLatestState). Not part of the registration figure.
  for (let i = 0; i < shape.workers; i++) {
    const r = workerRecord(shape, i);
    machine.handle({ kind: 'Receive', from: `flint://${r.host}:${r.port}`, message: { type: 'WorkerLatestState', id: r.id, executors: [], driverIds: [] } }, now);
  }
  return { machine, totalMs, firstTenthMeanUs: (firstMs * 1000) / tenth, lastTenthMeanUs: (lastMs * 1000) / tenth };
}

/** Queues `count` apps without scheduling them (see the file comment). */
function addWaitingApps(machine: MasterMachine, shape: ClusterShape, count: number, now: number): void {
  const ctx = ctxOf(machine, now);
  for (let a = 0; a < count; a++) {
    registerApplication(
      ctx,
      newApplicationInfo({
        id: `app-${STAMP}-${String(a).padStart(4, '0')}`,
        desc: appDescription(shape, `bench-app-${a}`),
        driverAddress: `flint+client://AppClient@benchdriver${a}`,
        startTimeMs: now,
        submitDateMs: now,
      }),
    );
  }
}

export interface Pass {
  readonly ms: number;
  readonly executorsLaunched: number;
  readonly effects: number;
}

const launches = (effects: readonly MasterEffect[]): number =>
  effects.filter((e) => e.kind === 'Send' && e.message.type === 'LaunchExecutor').length;

/**
 * A full garbage collection. A running master's state is old by the time it schedules: its workers registered
 * over seconds and outlived many scavenges. A cluster built here an instant before a timed pass is still in the
 * young generation, and the scavenges that copy it (10–40 ms each at 10,000 workers) would land inside the pass:
 * a full collection first puts it where a running master's state is.
 */
const collectGarbage = ((): (() => void) => {
  setFlagsFromString('--expose-gc');
  return runInNewContext('gc') as () => void;
})();

function timedSchedule(machine: MasterMachine, now: number): Pass {
  const ctx = ctxOf(machine, now);
  collectGarbage();
  const t0 = performance.now();
  schedule(ctx);
  const ms = performance.now() - t0;
  return { ms, executorsLaunched: launches(ctx.out.effects), effects: ctx.out.effects.length };
}

/**
 * Scenario "drain": `shape.workers` idle workers, `shape.apps` apps queued and not yet placed; one
 * `schedule()` places every app's executors. Builds a fresh cluster, so each call is one sample.
 */
export function drainPass(shape: ClusterShape, now: number): Pass {
  const { machine } = registerWorkers(shape, now);
  addWaitingApps(machine, shape, shape.apps, now);
  const pass = timedSchedule(machine, now);
  const expected = (shape.apps * shape.appMaxCores) / shape.appCoresPerExecutor;
  if (pass.executorsLaunched !== expected) {
    throw new Error(`the drain pass launched ${pass.executorsLaunched} executors, expected ${expected}`);
  }
  if (machine.state.waitingApps.some((app) => app.coresGranted !== shape.appMaxCores)) {
    throw new Error('the drain pass left an app short of its cores');
  }
  return pass;
}

/**
 * Scenario "saturated": one app without a core limit holds every core of every worker, and `shape.apps`
 * more apps wait for cores. `schedule()` places nothing and leaves the state as it was, so one cluster
 * serves every sample: this is what every schedule() costs (each executor state change, registration,
 * request) while a full cluster has a queue.
 */
export function saturatedCluster(shape: ClusterShape, now: number): { pass: () => Pass } {
  const { machine } = registerWorkers(shape, now);
  machine.handle(
    {
      kind: 'Receive',
      from: 'flint+client://hogdriver',
      message: {
        type: 'RegisterApplication',
        appDescription: appDescription(shape, 'bench-hog', true),
        driverAddress: 'flint+client://AppClient@hogdriver',
      },
    },
    now,
  );
  if ([...machine.state.workers].some((w) => w.coresUsed !== w.cores)) throw new Error('the hog app did not fill every worker');
  addWaitingApps(machine, shape, shape.apps, now);
  return {
    pass: () => {
      const pass = timedSchedule(machine, now);
      if (pass.executorsLaunched !== 0) throw new Error(`a saturated pass launched ${pass.executorsLaunched} executors`);
      return pass;
    },
  };
}

/**
 * Cross-check through public inputs only: a new leader recovers `shape.workers` workers and `shape.apps`
 * apps from its store; apps acknowledge, then workers answer; the last answer completes the recovery, which
 * runs `schedule()` with every app waiting and every worker idle. Times that last `handle` call.
 */
export function recoveryPass(shape: ClusterShape, now: number): Pass {
  const workers = Array.from({ length: shape.workers }, (_, i) => workerRecord(shape, i));
  const apps: PersistedApplication[] = Array.from({ length: shape.apps }, (_, a) => ({
    kind: 'app',
    id: `app-${STAMP}-${String(a).padStart(4, '0')}`,
    desc: appDescription(shape, `bench-app-${a}`),
    driverAddress: `flint+client://AppClient@benchdriver${a}`,
    startTimeMs: now,
    submitDateMs: now,
  }));
  const machine = newMachine(now);
  const recoveryState = (): string => machine.state.recoveryState;
  machine.handle({ kind: 'ElectedLeader', persisted: { workers, apps, drivers: [] } }, now);
  // Each app acknowledges from its own driver's env: the master takes an app's messages from nowhere else.
  for (const app of apps) {
    const from = app.driverAddress.replace('AppClient@', '');
    machine.handle({ kind: 'Receive', from, message: { type: 'MasterChangeAcknowledged', appId: app.id } }, now);
  }
  const answer = (w: PersistedWorker) =>
    machine.handle(
      { kind: 'Receive', from: `flint://${w.host}:${w.port}`, message: { type: 'WorkerSchedulerStateResponse', id: w.id, executors: [], driverIds: [] } },
      now,
    );
  for (const w of workers.slice(0, -1)) answer(w);
  if (recoveryState() !== 'RECOVERING') throw new Error(`recovery ended early: ${recoveryState()}`);
  const t0 = performance.now();
  const effects = answer(workers[workers.length - 1] as PersistedWorker);
  const ms = performance.now() - t0;
  if (recoveryState() !== 'ALIVE') throw new Error(`recovery did not complete: ${recoveryState()}`);
  const executorsLaunched = launches(effects);
  const expected = (shape.apps * shape.appMaxCores) / shape.appCoresPerExecutor;
  if (executorsLaunched !== expected) throw new Error(`the recovery pass launched ${executorsLaunched} executors, expected ${expected}`);
  return { ms, executorsLaunched, effects: effects.length };
}
