// One simulated cluster run from one seed (STYLE.md §7, after TigerBeetle's VOPR and FoundationDB's simulation):
// the seed draws the cluster's shape, the clocks, the network's delays and a schedule of faults; the real master,
// worker, executor and driver machines run on simulated time; the invariants are checked after every step; after
// the faults stop, the cluster must converge within a stated bound. The same seed always gives the same run, event
// for event, and a fault schedule can be given instead of drawn (to shrink a failing one: shrink.ts).

import { masterConfig } from '../master/index.ts';
import { DEFAULT_ZK_SESSION_TIMEOUT_MS } from '../io/zookeeper/keys.ts';
import { RngStreams, type Rng } from '../kit/rng.ts';
import { workerConfig } from '../worker/index.ts';
import { SimDriver } from './driver-process.ts';
import { EventQueue } from './event-queue.ts';
import { SimExecutor } from './executor-process.ts';
import { SimMaster } from './master-process.ts';
import { SimNetwork } from './network.ts';
import { SimWorker, type ExecutorSpawner } from './worker-process.ts';
import { REAL_MACHINES, TRUE_CLOCK, type MachineFactories, type ProcessClock, type SimWorld } from './world.ts';
import { SimFileStore, SimZooKeeper, ZK_ENV, type MasterStorage } from './zookeeper.ts';

export interface SimOptions {
  readonly seed: number;
  /** Masters: 1 (FILESYSTEM recovery) or more (ZOOKEEPER, with a leader latch); drawn (1 or 3) when not given. */
  readonly masters?: number;
  /** Workers; drawn from the seed (3 to 6) when not given. */
  readonly workers?: number;
  /** Applications; drawn from the seed (1 to 3) when not given. */
  readonly apps?: number;
  /** Faults are injected from 10 s until this much simulated time has passed (default 120 s). */
  readonly faultsForMs?: number;
  /** Faults over the fault window; drawn from the seed (4 to 16) when not given. */
  readonly faults?: number;
  /** Keep every trace line (the CLI prints them); otherwise only the last ones are kept, for failures. */
  readonly keepTrace?: boolean;
  /** The kinds of fault to draw (default: all). A fault of another kind drawn from the seed is left out. */
  readonly faultKinds?: ReadonlyArray<FaultKind>;
  /** Run exactly these faults instead of the drawn ones (shrinking replays subsets of a failing schedule). */
  readonly schedule?: readonly Fault[];
  /** The machines to run (default: the real ones); a test gives copies with a bug put back. */
  readonly machines?: Partial<MachineFactories>;
}

export const FAULT_KINDS = [
  'crash-worker',
  'crash-master',
  'partition-worker',
  'partition-app',
  'crash-executor',
  'slow-executor',
  'partition-executor',
  'partition-zookeeper',
  'store-write-failure',
  'crash-driver',
] as const;
export type FaultKind = (typeof FAULT_KINDS)[number];

/** One fault of a schedule: what, when (ms after the start), for how long, and whom (indices taken modulo). */
export interface Fault {
  readonly kind: FaultKind;
  readonly atMs: number;
  readonly forMs: number;
  readonly target: number;
  readonly pick: number;
  readonly oneWay: boolean;
}

/**
 * The time the cluster is given to converge once the faults stop, in simulated ms: a worker notices a lost master
 * within its timeout (15 s), retries registration every 2 to 10 s (jittered up to 1.5×), a restarted master waits
 * for the recovery timeout (15 s), a ZooKeeper session expires in 10 s, a relaunch backoff lasts at most 60 s, and
 * a job's tasks take up to 2 s each (40 s on a slow executor); twice the sum of these, rounded up.
 */
export const CONVERGENCE_BOUND_MS = 300_000;

/**
 * The scenario `npm run bench:sim` sweeps (issue 10): 3 masters with ZooKeeper, 20 workers, 5 apps, faults for the
 * first 300 s; with the longest fault's end and the convergence bound, each run lasts more than 10 simulated minutes.
 */
export const BENCH_SHAPE = { masters: 3, workers: 20, apps: 5, faultsForMs: 300_000 } as const;

/** The options of one seed of the benchmark's scenario: its shape, and 10 to 30 faults. */
export function benchOptions(seed: number): SimOptions {
  return { seed, ...BENCH_SHAPE, faults: 10 + (seed % 21) };
}

/** The longest a fault lasts (a restart, a partition's heal). The convergence bound starts after it. */
const MAX_FAULT_MS = 41_000;
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
  /** The schedule the run used (drawn, or given), and what each fault did, as trace lines. */
  readonly schedule: readonly Fault[];
  readonly faults: readonly string[];
  readonly messages: { readonly sent: number; readonly lost: number };
  readonly jobs: { readonly submitted: number; readonly succeeded: number; readonly failed: number };
  readonly trace: readonly string[];
  readonly shape: { readonly masters: number; readonly workers: number; readonly apps: number; readonly cores: number };
}

const TRACE_TAIL = 60;

/** Draws the fault schedule of a run (its own stream: the shape and the network draw from others). */
export function drawSchedule(rng: Rng, count: number, faultsForMs: number, kinds: ReadonlyArray<FaultKind>): Fault[] {
  const schedule: Fault[] = [];
  for (let f = 0; f < count; f++) {
    const atMs = 10_000 + rng.nextInt(Math.max(1, faultsForMs - 10_000));
    const roll = rng.nextInt(100);
    const fault: Fault = {
      kind:
        roll < 18 ? 'crash-worker'
        : roll < 28 ? 'crash-master'
        : roll < 48 ? 'partition-worker'
        : roll < 56 ? 'partition-app'
        : roll < 68 ? 'crash-executor'
        : roll < 74 ? 'slow-executor'
        : roll < 82 ? 'partition-executor'
        : roll < 92 ? 'partition-zookeeper'
        : roll < 98 ? 'store-write-failure'
        : 'crash-driver',
      atMs,
      forMs: 1_000 + rng.nextInt(MAX_FAULT_MS - 1_000),
      target: rng.nextInt(1_000),
      pick: rng.nextInt(1_000),
      oneWay: rng.nextInt(3) === 0,
    };
    if (kinds.includes(fault.kind)) schedule.push(fault);
  }
  return schedule.sort((a, b) => a.atMs - b.atMs);
}

export async function runSimulation(options: SimOptions): Promise<SimResult> {
  const streams = new RngStreams(options.seed);
  const shapeRng = streams.stream('sim.shape');
  const clockRng = streams.stream('sim.clocks');
  const queue = new EventQueue();
  const start = queue.now;
  const network = new SimNetwork(queue, streams.stream('sim.network'), { minDelayMs: 1, maxDelayMs: 1 + shapeRng.nextInt(100) });
  const trace: string[] = [];
  const violations: Violation[] = [];
  const evaluations: Array<Promise<unknown>> = [];
  let steps = 0;
  let lastStep = 'start';
  /** The invariants are checked once every process exists. */
  let ready = false;
  const stamp = (): string => `${((queue.now - start) / 1000).toFixed(3)}s`;
  const world: SimWorld = {
    queue,
    network,
    machines: { ...REAL_MACHINES, ...options.machines },
    trace: (line) => {
      trace.push(`${stamp()} ${line}`);
      if (options.keepTrace !== true && trace.length > TRACE_TAIL * 4) trace.splice(0, trace.length - TRACE_TAIL);
    },
    afterStep: (what, stepped) => {
      steps += 1;
      lastStep = what;
      if (ready && violations.length === 0) check(stepped);
    },
    violation: (invariant, detail) => fail(invariant, detail),
  };
  /** A host's clock: up to 5 minutes off, and up to 2 % fast or slow. */
  const drawClock = (): ProcessClock => ({ offsetMs: clockRng.nextInt(600_001) - 300_000, rate: 1 + (clockRng.nextInt(4_001) - 2_000) / 100_000 });

  // ---- the masters, and their store ----
  const masterCount = options.masters ?? (shapeRng.nextInt(2) === 0 ? 1 : 3);
  const zk = masterCount > 1 ? new SimZooKeeper(world, DEFAULT_ZK_SESSION_TIMEOUT_MS) : undefined;
  const files = zk === undefined ? new SimFileStore(world) : undefined;
  const masterHosts = Array.from({ length: masterCount }, (_, i) => ({ host: `master${i + 1}`, clock: drawClock() }));
  const masterConfigs = masterHosts.map(({ host }) => masterConfig({ host, port: 7077, webUiPort: 8080, workerTimeoutMs: WORKER_TIMEOUT_MS }));
  const masterEnvs = masterConfigs.map((c) => c.masterUrl);
  let masterIncarnation = 0;
  const masters: SimMaster[] = [];
  const newMaster = (i: number): SimMaster => {
    const { clock } = masterHosts[i]!;
    const storage: MasterStorage = zk?.storage(masterEnvs[i]!, clock) ?? (files as SimFileStore).storage();
    const m = new SimMaster(world, masterConfigs[i]!, streams.stream(`sim.master.${masterIncarnation++}`), storage, clock, () => {
      // A master that stepped down exits; its supervisor (systemd, say) starts it again.
      queue.schedule(1_000 + shapeRng.nextInt(9_000), () => {
        if (masters[i] === m) restartMaster(i);
      });
    });
    network.attach(m);
    m.start();
    return m;
  };
  const restartMaster = (i: number): void => {
    masters[i] = newMaster(i);
    world.trace(`restart ${masters[i].name}`);
  };

  // ---- the workers, and the executors they start ----
  const slowExecutors = new Set<SimExecutor>();
  const spawnExecutor: ExecutorSpawner = (spec, worker, exited) => {
    const executor = new SimExecutor(world, spec, worker.host, streams.stream(`sim.executor.${spec.appId}.${spec.execId}.${worker.host}`), workerHosts.get(worker.host) ?? TRUE_CLOCK, {
      track: (evaluation) => evaluations.push(evaluation),
      slowFactor: (e) => (slowExecutors.has(e) ? 20 : 1),
    }, exited);
    executor.start();
    return executor;
  };
  const workerCount = options.workers ?? 3 + shapeRng.nextInt(4);
  const workerShapes = Array.from({ length: workerCount }, (_, i) => ({
    host: `w${i + 1}`,
    cores: 2 + shapeRng.nextInt(7),
    memoryMb: 1024 * (2 + shapeRng.nextInt(7)),
  }));
  const workerHosts = new Map(workerShapes.map((w) => [w.host, drawClock()]));
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
      masterUrls: masterEnvs,
      workerTimeoutMs: WORKER_TIMEOUT_MS,
      initialRegistrationRetryIntervalMs: 2_000,
      prolongedRegistrationRetryIntervalMs: 10_000,
      // Registration is retried for as long as the run lasts: a worker that gave up would be a dead process.
      totalRegistrationRetries: 10_000,
      initialRegistrationRetries: 6,
    });
    const w = new SimWorker(world, config, streams.stream(`sim.worker.${workerIncarnation++}`), workerHosts.get(shape.host) ?? TRUE_CLOCK, spawnExecutor);
    network.attach(w);
    w.start();
    return w;
  };
  const totalCores = workerShapes.reduce((sum, w) => sum + w.cores, 0);

  // ---- the applications ----
  const faultsForMs = options.faultsForMs ?? 120_000;
  const appCount = options.apps ?? 1 + shapeRng.nextInt(3);
  const drivers = Array.from({ length: appCount }, (_, i) => {
    const finite = shapeRng.nextInt(3) === 0;
    // An app whose maxCores is below its cores per executor would never get an executor, as in Spark.
    const coresPerExecutor = 1 + shapeRng.nextInt(2);
    const maxCores = Math.max(coresPerExecutor, 1 + shapeRng.nextInt(Math.max(1, Math.floor(totalCores / appCount))));
    const driver = new SimDriver(
      world,
      {
        host: `driver${i + 1}`,
        masterEnvs,
        desc: {
          name: `app${i + 1}`,
          maxCores,
          coresPerExecutor,
          memoryMbPerExecutor: 256 * (1 + shapeRng.nextInt(4)),
          appUiUrl: `http://driver${i + 1}:4040`,
          user: 'sim',
        },
        // Some apps keep only tiny results in the status update, so that larger ones are fetched in chunks.
        executorConf: shapeRng.nextInt(2) === 0 ? { 'flint.task.maxDirectResultSize': '64', 'flint.task.resultChunkSize': '48' } : {},
        jobs: finite ? 3 + shapeRng.nextInt(20) : undefined,
        submitUntil: start + faultsForMs + MAX_FAULT_MS,
      },
      streams.stream(`sim.driver.${i}`),
      drawClock(),
    );
    queue.schedule(500 + shapeRng.nextInt(5_000), () => driver.start());
    return driver;
  });

  for (let i = 0; i < masterCount; i++) masters.push(newMaster(i));
  const workers = workerShapes.map((_, i) => newWorker(i));
  ready = true;

  // ---- invariants, after every step ----
  function fail(invariant: string, detail: string): void {
    if (violations.length > 0) return;
    violations.push({ seed: options.seed, atMs: queue.now - start, step: lastStep, invariant, detail, trace: trace.slice(-TRACE_TAIL) });
  }

  /** A step changes only what its own process holds: its invariants are the ones to check. */
  function check(stepped: object | undefined): void {
    if (stepped instanceof SimMaster) checkMasters(stepped);
    else if (stepped instanceof SimWorker) checkWorker(stepped);
  }

  function checkMasters(stepped: SimMaster): void {
    let leading = 0;
    for (const m of masters) if (m.leads) leading += 1;
    if (leading > 1) return fail('at most one master leads', masters.filter((m) => m.leads).map((m) => `${m.name} is ${m.machine.state.recoveryState}`).join(', '));
    const leader = stepped.leads ? stepped : undefined;
    if (leader !== undefined) {
      const ms = leader.machine.state;
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
  }

  function checkWorker(w: SimWorker): void {
    if (!w.up) return;
    const { coresUsed, memoryUsedMb } = w.machine.usage;
    const { cores, memoryMb } = w.machine.config;
    if (coresUsed > cores || memoryUsedMb > memoryMb) {
      fail('no worker over-allocated (worker)', `${w.machine.workerId}: ${coresUsed}/${cores} cores, ${memoryUsedMb}/${memoryMb} MB`);
    }
  }

  // ---- faults ----
  const schedule = options.schedule ?? drawSchedule(streams.stream('sim.faults'), options.faults ?? 4 + streams.stream('sim.faults.count').nextInt(13), faultsForMs, options.faultKinds ?? FAULT_KINDS);
  const faults: string[] = [];
  const note = (line: string): void => {
    faults.push(`${stamp()} ${line}`);
    world.trace(`FAULT ${line}`);
  };
  const executorsOn = (w: SimWorker): SimExecutor[] => w.executorProcesses() as SimExecutor[];
  const inject = (f: Fault): void => {
    const w = workers[f.target % workers.length]!;
    const mi = f.pick % masters.length;
    const m = masters[mi]!;
    switch (f.kind) {
      case 'crash-worker': {
        if (!w.up) return;
        note(`crash ${w.host}, restart in ${f.forMs} ms`);
        w.crash();
        const i = workers.indexOf(w);
        queue.schedule(f.forMs, () => {
          workers[i] = newWorker(i);
          world.trace(`restart ${workers[i].host}`);
        });
        return;
      }
      case 'crash-master': {
        if (!m.up) return;
        note(`crash ${m.name}, restart in ${f.forMs} ms`);
        m.crash();
        queue.schedule(f.forMs, () => {
          if (masters[mi] === m) restartMaster(mi);
        });
        return;
      }
      case 'partition-worker':
        note(`partition ${w.host} ${f.oneWay ? '->' : '<->'} ${m.env} for ${f.forMs} ms`);
        network.partition(w.env, m.env, f.forMs, f.oneWay);
        return;
      case 'partition-app': {
        const d = drivers[f.target % drivers.length]!;
        note(`partition ${d.env} <-> ${m.env} for ${f.forMs} ms`);
        network.partition(d.env, m.env, f.forMs);
        return;
      }
      case 'crash-executor': {
        const running = executorsOn(w);
        const e = running[f.pick % Math.max(1, running.length)];
        if (e === undefined) return;
        note(`${e.name} on ${w.host} is killed`);
        e.kill();
        return;
      }
      case 'slow-executor': {
        const running = executorsOn(w);
        const e = running[f.pick % Math.max(1, running.length)];
        if (e === undefined) return;
        note(`${e.name} on ${w.host} runs 20 times slower`);
        slowExecutors.add(e);
        return;
      }
      case 'partition-executor': {
        const running = executorsOn(w);
        const e = running[f.pick % Math.max(1, running.length)];
        if (e === undefined) return;
        note(`partition ${e.name} <-> its driver for ${f.forMs} ms`);
        network.partition(e.env, e.driverEnv, f.forMs);
        return;
      }
      case 'partition-zookeeper':
        if (zk === undefined) return;
        note(`partition ${m.env} <-> ZooKeeper for ${f.forMs} ms`);
        network.partition(m.env, ZK_ENV, f.forMs);
        return;
      case 'store-write-failure':
        note(`the recovery store's writes fail for ${f.forMs} ms`);
        (zk ?? files)?.failWrites(f.forMs);
        return;
      case 'crash-driver': {
        const d = drivers[f.target % drivers.length]!;
        if (d.ended !== undefined) return;
        note(`crash ${d.name} (its app ${d.appId ?? 'not registered yet'})`);
        d.crash();
        return;
      }
    }
  };
  for (const f of schedule) queue.schedule(f.atMs, () => inject(f));

  // ---- run: the faults, then quiet until the bound, then convergence ----
  const end = start + faultsForMs + MAX_FAULT_MS + CONVERGENCE_BOUND_MS;
  const MAX_STEPS = 20_000_000;
  for (let n = 0; n < MAX_STEPS && violations.length === 0 && queue.step(end); n++) {
    // one event per iteration; the invariants ran inside it. A task evaluation started in it settles before the next.
    if (evaluations.length > 0) await Promise.all(evaluations.splice(0));
  }
  if (violations.length === 0) checkConvergence();

  function checkConvergence(): void {
    lastStep = `convergence, ${CONVERGENCE_BOUND_MS / 1000} s after the last fault could end`;
    const leading = masters.filter((m) => m.leads);
    if (leading.length !== 1) return fail('convergence: one master leads', `${leading.length} masters lead`);
    const leader = leading[0]!;
    const ms = leader.machine.state;
    if (ms.recoveryState !== 'ALIVE') return fail('convergence: the leader is ALIVE', `${leader.name} is ${ms.recoveryState}`);
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
    for (const d of drivers) {
      if (d.ended !== undefined) {
        const info = d.appId === undefined ? undefined : ms.idToApp.get(d.appId);
        if (info !== undefined && ms.apps.has(info)) return fail('convergence: an app that ended is removed', `${d.appId} ended (${d.ended}) but the master still holds it as ${info.state}`);
        continue;
      }
      if (d.appId === undefined) return fail('convergence: every app is registered', `${d.name} has no app id`);
      const info = ms.idToApp.get(d.appId);
      if (info === undefined) return fail('convergence: every app is known to the master', `${d.appId} is not, and it was not told it was removed`);
      // The executors the app runs tasks on are the ones that registered with its driver and still run.
      const atMaster = [...info.executors.values()].filter((e) => e.state === 'RUNNING').map((e) => String(e.id)).sort();
      const atDriver = d.machine.snapshot().executors.map((e) => e.executorId).sort();
      if (atMaster.join() !== atDriver.join()) return fail('convergence: the app runs on the executors the master gives it', `${d.appId}: master ${JSON.stringify(atMaster)}, driver ${JSON.stringify(atDriver)}`);
      // An app with no executor cannot run a job: with the cluster full (standalone scheduling is FIFO and static,
      // as Spark's), it waits, and the check below fails it only when a worker has room.
      if (d.current !== undefined && atDriver.length > 0) return fail('convergence: every submitted job ends', `${d.appId}: ${d.current.job.name} still runs`);
      const perExecutor = info.desc.coresPerExecutor ?? 1;
      const wanted = Math.min(info.desc.maxCores ?? Number.POSITIVE_INFINITY, info.executorLimit === Number.POSITIVE_INFINITY ? Number.POSITIVE_INFINITY : info.executorLimit * perExecutor);
      if (info.coresGranted + perExecutor <= wanted) {
        const room = [...ms.workers].find(
          (w) => w.state === 'ALIVE' && w.cores - w.coresUsed >= perExecutor && w.memoryMb - w.memoryUsedMb >= info.desc.memoryMbPerExecutor,
        );
        if (room !== undefined) return fail('convergence: no app waits while a worker has room', `${d.appId} has ${info.coresGranted} of ${wanted} cores; ${room.id} has ${room.cores - room.coresUsed} cores free`);
      }
    }
  }

  const jobs = { submitted: 0, succeeded: 0, failed: 0 };
  for (const d of drivers) {
    jobs.submitted += d.stats.submitted;
    jobs.succeeded += d.stats.succeeded;
    jobs.failed += d.stats.failed;
  }
  return {
    seed: options.seed,
    violations,
    simulatedMs: queue.now - start,
    steps,
    schedule,
    faults,
    messages: network.stats,
    jobs,
    trace,
    shape: { masters: masterCount, workers: workerCount, apps: appCount, cores: totalCores },
  };
}
