// One simulated cluster run from one seed (STYLE.md §7, after TigerBeetle's VOPR): the seed draws the cluster's
// shape, the network's delays and a schedule of faults; the real master and worker machines run on simulated time;
// the invariants are checked after every step; after the faults stop, the cluster must converge within a stated
// bound. The same seed always gives the same run, event for event.

import { RngStreams, type Rng } from '../kit/rng.ts';
import { masterConfig } from '../master/index.ts';
import type { ApplicationDescription } from '../protocol/messages.ts';
import { workerConfig } from '../worker/index.ts';
import { EventQueue } from './event-queue.ts';
import { SimNetwork } from './network.ts';
import { SimApp, SimMaster, SimStore, SimWorker, type SimWorld } from './processes.ts';

export interface SimOptions {
  readonly seed: number;
  /** Workers; drawn from the seed (3 to 6) when not given. */
  readonly workers?: number;
  /** Applications; drawn from the seed (1 to 3) when not given. */
  readonly apps?: number;
  /** Faults are injected from 10 s until this much simulated time has passed. */
  readonly faultsForMs?: number;
  /** Faults over the fault window; drawn from the seed (4 to 16) when not given. */
  readonly faults?: number;
  /** Keep the trace lines (the CLI prints them); a sweep keeps only the last ones for failures. */
  readonly keepTrace?: boolean;
  /** The kinds of fault to draw from (default: all). A fault of another kind drawn from the seed does nothing. */
  readonly faultKinds?: ReadonlyArray<FaultKind>;
}

export const FAULT_KINDS = ['crash-worker', 'crash-master', 'partition-worker', 'partition-app', 'crash-executor'] as const;
export type FaultKind = (typeof FAULT_KINDS)[number];

/**
 * The time the cluster is given to converge once the faults stop, in simulated ms: a worker notices a lost master
 * within its timeout (15 s), retries registration every 2 to 10 s (jittered up to 1.5×), a restarted master waits
 * for the recovery timeout (15 s), and a relaunch backoff lasts at most 60 s; twice the sum of these, rounded up.
 */
export const CONVERGENCE_BOUND_MS = 210_000;

const WORKER_TIMEOUT_MS = 15_000;

export interface Violation {
  readonly seed: number;
  readonly atMs: number;
  readonly step: string;
  readonly invariant: string;
  readonly detail: string;
  /** The last trace lines before it. */
  readonly trace: readonly string[];
}

export interface SimResult {
  readonly seed: number;
  readonly violations: readonly Violation[];
  readonly simulatedMs: number;
  readonly steps: number;
  readonly faults: readonly string[];
  readonly messages: { readonly sent: number; readonly lost: number };
  readonly trace: readonly string[];
  readonly shape: { readonly workers: number; readonly apps: number; readonly cores: number };
}

const TRACE_TAIL = 40;

export function runSimulation(options: SimOptions): SimResult {
  const streams = new RngStreams(options.seed);
  const shapeRng = streams.stream('sim.shape');
  const faultRng = streams.stream('sim.faults');
  const queue = new EventQueue();
  const start = queue.now;
  const network = new SimNetwork(queue, streams.stream('sim.network'), { minDelayMs: 1, maxDelayMs: 1 + shapeRng.nextInt(100) });
  const trace: string[] = [];
  const violations: Violation[] = [];
  let steps = 0;
  let lastStep = 'start';
  /** The invariants are checked once every process exists. */
  let ready = false;
  const stamp = (): string => `${((queue.now - start) / 1000).toFixed(3)}s`;
  const world: SimWorld = {
    queue,
    network,
    trace: (line) => {
      trace.push(`${stamp()} ${line}`);
      if (options.keepTrace !== true && trace.length > TRACE_TAIL * 4) trace.splice(0, trace.length - TRACE_TAIL);
    },
    // An executor reaches its driver by the address in its command, whether or not the app has heard its id yet.
    executorGone: (driverUrl, execId) => {
      queue.schedule(1, () => apps.find((a) => a.address === driverUrl)?.executorGone(execId));
    },
    executorStarted: (driverUrl, execId) => {
      queue.schedule(1 + shapeRng.nextInt(20), () => apps.find((a) => a.address === driverUrl)?.executorRegistered(execId));
    },
    afterStep: (what) => {
      steps += 1;
      lastStep = what;
      if (ready && violations.length === 0) check();
    },
  };

  // ---- the cluster's shape ----
  const masterHost = 'master';
  const mConfig = masterConfig({ host: masterHost, port: 7077, webUiPort: 8080, workerTimeoutMs: WORKER_TIMEOUT_MS });
  const store = new SimStore();
  let masterIncarnation = 0;
  const newMaster = (): SimMaster => {
    const m = new SimMaster(world, mConfig, streams.stream(`sim.master.${masterIncarnation++}`), store);
    network.attach(m);
    m.start();
    return m;
  };
  const workerCount = options.workers ?? 3 + shapeRng.nextInt(4);
  const workerShapes = Array.from({ length: workerCount }, (_, i) => ({
    host: `w${i + 1}`,
    cores: 2 + shapeRng.nextInt(7),
    memoryMb: 1024 * (2 + shapeRng.nextInt(7)),
  }));
  let workerIncarnation = 0;
  const newWorker = (i: number): SimWorker => {
    const shape = workerShapes[i]!;
    const config = workerConfig({
      host: shape.host,
      port: 7078,
      cores: shape.cores,
      memoryMb: shape.memoryMb,
      workDir: `/sim/${shape.host}`,
      flintHome: '/opt/flint',
      masterUrls: [mConfig.masterUrl],
      workerTimeoutMs: WORKER_TIMEOUT_MS,
      initialRegistrationRetryIntervalMs: 2_000,
      prolongedRegistrationRetryIntervalMs: 10_000,
      // Registration is retried for as long as the run lasts: a worker that gave up would be a dead process.
      totalRegistrationRetries: 10_000,
      initialRegistrationRetries: 6,
    });
    const w = new SimWorker(world, config, streams.stream(`sim.worker.${workerIncarnation++}`));
    network.attach(w);
    w.start();
    return w;
  };
  const totalCores = workerShapes.reduce((sum, w) => sum + w.cores, 0);
  const appCount = options.apps ?? 1 + shapeRng.nextInt(3);
  const appDescs: ApplicationDescription[] = Array.from({ length: appCount }, (_, i) => ({
    name: `app${i + 1}`,
    maxCores: 1 + shapeRng.nextInt(Math.max(1, Math.floor(totalCores / appCount))),
    coresPerExecutor: 1 + shapeRng.nextInt(2),
    memoryMbPerExecutor: 256 * (1 + shapeRng.nextInt(4)),
    command: { mainModule: 'flint:executor', arguments: ['--driver-url', `flint+client://AppClient@driver${i + 1}`], environment: {}, nodeOptions: [] },
    appUiUrl: `http://driver${i + 1}:4040`,
    user: 'sim',
  }));

  let master = newMaster();
  const workers = workerShapes.map((_, i) => newWorker(i));
  const apps = appDescs.map((desc, i) => {
    const app = new SimApp(world, `driver${i + 1}`, mConfig.masterUrl, desc);
    network.attach(app);
    queue.schedule(500 + shapeRng.nextInt(5_000), () => app.start());
    return app;
  });
  ready = true;

  // ---- invariants, after every step ----
  function fail(invariant: string, detail: string): void {
    violations.push({ seed: options.seed, atMs: queue.now - start, step: lastStep, invariant, detail, trace: trace.slice(-TRACE_TAIL) });
  }

  function check(): void {
    const ms = master.machine.state;
    if (master.up) {
      for (const w of ms.workers) {
        if (w.state === 'DEAD') continue;
        if (w.coresUsed > w.cores || w.memoryUsedMb > w.memoryMb) {
          return fail('no worker over-allocated (master)', `${w.id}: ${w.coresUsed}/${w.cores} cores, ${w.memoryUsedMb}/${w.memoryMb} MB`);
        }
        let cores = 0;
        let memory = 0;
        for (const e of w.executors.values()) {
          cores += e.cores;
          memory += e.memoryMb;
        }
        for (const d of w.drivers.values()) {
          cores += d.desc.cores;
          memory += d.desc.memoryMb;
        }
        for (const o of w.orphans.values()) {
          cores += o.cores;
          memory += o.memoryMb;
        }
        if (cores !== w.coresUsed || memory !== w.memoryUsedMb) {
          return fail('worker usage is the sum of its executors, drivers and orphans (master)', `${w.id}: coresUsed ${w.coresUsed} vs ${cores}, memoryUsedMb ${w.memoryUsedMb} vs ${memory}`);
        }
      }
      for (const app of ms.apps) {
        let granted = 0;
        for (const e of app.executors.values()) granted += e.cores;
        if (granted !== app.coresGranted) return fail('app cores granted are its executors (master)', `${app.id}: ${app.coresGranted} vs ${granted}`);
        const max = app.desc.maxCores;
        if (max !== undefined && app.coresGranted > max) return fail('no app over its maxCores', `${app.id}: ${app.coresGranted} > ${max}`);
      }
    }
    for (const w of workers) {
      if (!w.up) continue;
      const s = w.machine.snapshot();
      if (s.coresUsed > s.cores || s.memoryUsedMb > s.memoryMb) {
        return fail('no worker over-allocated (worker)', `${s.workerId}: ${s.coresUsed}/${s.cores} cores, ${s.memoryUsedMb}/${s.memoryMb} MB`);
      }
    }
  }

  // ---- faults ----
  const faultsForMs = options.faultsForMs ?? 120_000;
  const faultCount = options.faults ?? 4 + faultRng.nextInt(13);
  const faults: string[] = [];
  const scheduleFault = (rng: Rng): void => {
    const at = 10_000 + rng.nextInt(Math.max(1, faultsForMs - 10_000));
    const kind = rng.nextInt(100);
    const i = rng.nextInt(workers.length);
    const forMs = 1_000 + rng.nextInt(40_000);
    const pick = rng.nextInt(1_000);
    const fault: FaultKind = kind < 25 ? 'crash-worker' : kind < 40 ? 'crash-master' : kind < 70 ? 'partition-worker' : kind < 80 ? 'partition-app' : 'crash-executor';
    if (options.faultKinds !== undefined && !options.faultKinds.includes(fault)) return;
    queue.schedule(at, () => {
      const when = stamp();
      if (kind < 25) {
        const w = workers[i]!;
        if (!w.up) return;
        faults.push(`${when} crash ${w.name}, restart in ${forMs} ms`);
        world.trace(`FAULT crash ${w.name} for ${forMs} ms`);
        w.crash();
        network.crashed(w.env);
        queue.schedule(forMs, () => {
          if (queue.now - start > faultsForMs + forMs + 1) return;
          workers[i] = newWorker(i);
          world.trace(`FAULT restart ${workers[i]!.name}`);
        });
      } else if (kind < 40) {
        if (!master.up) return;
        faults.push(`${when} crash the master, restart in ${forMs} ms`);
        world.trace(`FAULT crash master for ${forMs} ms`);
        master.crash();
        network.crashed(master.env);
        queue.schedule(forMs, () => {
          master = newMaster();
          world.trace('FAULT restart master');
        });
      } else if (kind < 70) {
        const w = workers[i]!;
        const oneWay = pick % 3 === 0;
        faults.push(`${when} partition ${w.env} ${oneWay ? '->' : '<->'} master for ${forMs} ms`);
        world.trace(`FAULT partition ${w.env} from master for ${forMs} ms`);
        network.partition(w.env, master.env, forMs, oneWay);
      } else if (kind < 80) {
        const app = apps[pick % apps.length]!;
        faults.push(`${when} partition ${app.env} <-> master for ${forMs} ms`);
        world.trace(`FAULT partition ${app.env} from master for ${forMs} ms`);
        network.partition(app.env, master.env, forMs);
      } else {
        const w = workers[i]!;
        if (!w.up) return;
        if (w.killExecutor(pick)) {
          faults.push(`${when} an executor on ${w.name} crashes`);
          world.trace(`FAULT an executor on ${w.name} crashes`);
        }
      }
    });
  };
  for (let f = 0; f < faultCount; f++) scheduleFault(faultRng);

  // ---- run: the faults, then quiet until the bound, then convergence ----
  const end = start + faultsForMs + 45_000 + CONVERGENCE_BOUND_MS;
  const MAX_STEPS = 5_000_000;
  for (let n = 0; n < MAX_STEPS && violations.length === 0 && queue.step(end); n++) {
    // one event per iteration; the invariants ran inside it
  }
  if (violations.length === 0) checkConvergence();

  function checkConvergence(): void {
    lastStep = `convergence, ${CONVERGENCE_BOUND_MS / 1000} s after the last fault could end`;
    if (!master.up) return fail('convergence', 'the master is down at the end');
    const ms = master.machine.state;
    if (ms.recoveryState !== 'ALIVE') return fail('convergence: the master leads', `recovery state ${ms.recoveryState}`);
    for (const w of workers) {
      if (!w.up) continue;
      const info = ms.idToWorker.get(w.machine.workerId);
      if (info?.state !== 'ALIVE') return fail('convergence: every live worker is ALIVE', `${w.machine.workerId} is ${info?.state ?? 'unknown to the master'}`);
      const assigned = [...info.executors.values()].map((e) => `${e.app.id}/${e.id}`).sort();
      const running = w.runningExecutors().sort();
      const known = w.machine.snapshot().executors.map((e) => `${e.appId}/${e.execId}`).sort();
      if (assigned.join() !== running.join() || known.join() !== running.join()) {
        return fail('convergence: master, worker and processes agree on executors', `${w.machine.workerId}: master ${JSON.stringify(assigned)}, worker ${JSON.stringify(known)}, processes ${JSON.stringify(running)}`);
      }
    }
    for (const app of apps) {
      if (app.appId === undefined) return fail('convergence: every app is registered', `${app.env} has no app id`);
      const info = ms.idToApp.get(app.appId);
      if (info === undefined) {
        if (app.removed !== undefined) continue; // it failed for good (its retries ran out) and was told so
        return fail('convergence: every app is known to the master', `${app.appId} is not, and it was not told it was removed`);
      }
      // The executors the app runs tasks on are the ones that registered with its driver and still run.
      const atMaster = [...info.executors.values()].filter((e) => e.state === 'RUNNING').map((e) => e.id).sort((a, b) => a - b);
      const atApp = [...app.registered].sort((a, b) => a - b);
      if (atMaster.join() !== atApp.join()) return fail('convergence: the app runs on the executors the master gives it', `${app.appId}: master ${JSON.stringify(atMaster)}, registered with the driver ${JSON.stringify(atApp)}`);
      const perExecutor = info.desc.coresPerExecutor ?? 1;
      const wanted = Math.min(info.desc.maxCores ?? Number.POSITIVE_INFINITY, info.executorLimit === Number.POSITIVE_INFINITY ? Number.POSITIVE_INFINITY : info.executorLimit * perExecutor);
      if (info.coresGranted + perExecutor <= wanted) {
        const room = [...ms.workers].find(
          (w) => w.state === 'ALIVE' && w.cores - w.coresUsed >= perExecutor && w.memoryMb - w.memoryUsedMb >= info.desc.memoryMbPerExecutor,
        );
        if (room !== undefined) return fail('convergence: no app waits while a worker has room', `${app.appId} has ${info.coresGranted} of ${wanted} cores; ${room.id} has ${room.cores - room.coresUsed} cores free`);
      }
    }
  }

  return {
    seed: options.seed,
    violations,
    simulatedMs: queue.now - start,
    steps,
    faults,
    messages: network.stats,
    trace,
    shape: { workers: workerCount, apps: appCount, cores: totalCores },
  };
}
