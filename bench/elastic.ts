// bench:elastic — what dynamic allocation saves (issue 16, docs/benchmarks.md): two applications with bursty work
// share a local cluster of 4 workers × 1 core (real processes, started through the CLI from the build), this
// process the driver of both. Each app runs BURSTS jobs of TASKS tasks of TASK_MS each (a task waits on a timer:
// it holds its core without using the CPU, so 4 executors fit on a 2-CPU machine), with GAP_MS of quiet after
// each, the second app starting half a period later. Two runs, in this order:
//
//   static:  each app gets a fixed share, flint.cores.max=2 (the usual way two apps share 4 cores);
//   dynamic: flint.dynamicAllocation.enabled, minExecutors 0, maxExecutors 4, executorIdleTimeout 1s.
//
// The master's /json is sampled every SAMPLE_MS: core-seconds held is the integral of each app's granted cores;
// core-seconds used is the sum of the tasks' own measured durations. Idle = held − used. Targets: dynamic idles
// at least 40 % fewer core-seconds than static, and its jobs finish no more than 10 % later (the sum of the job
// durations of both apps). The last line is one JSON object.

import { loadavg } from 'node:os';
import { FlintContext, runApp } from 'flint';
import { LocalCluster } from '../src/daemons/local-cluster.ts';
import { currentBuildCli } from './lib/build.ts';
import { benchJson, measureMachine } from './lib/machine.ts';
import { exitAfter, formatTable, intFromEnv } from './lib/stats.ts';

/** A task: waits `ms` on a timer and returns how long it held its slot, in ms. */
export async function hold(ms: number): Promise<number> {
  const start = performance.now();
  await new Promise((resolve) => setTimeout(resolve, ms));
  return performance.now() - start;
}

export function sum(a: number, b: number): number {
  return a + b;
}

const BURSTS = intFromEnv('FLINT_BENCH_BURSTS', 3);
const TASKS = intFromEnv('FLINT_BENCH_TASKS', 48);
const TASK_MS = intFromEnv('FLINT_BENCH_TASK_MS', 500);
const GAP_MS = intFromEnv('FLINT_BENCH_GAP_MS', 20_000);
const SAMPLE_MS = 100;
const DEADLINE_MS = 15 * 60_000;

interface AppRun {
  readonly jobMs: number[];
  readonly usedCoreMs: number;
}

interface ModeRun {
  readonly mode: 'static' | 'dynamic';
  readonly heldCoreS: number;
  readonly usedCoreS: number;
  readonly idleCoreS: number;
  /** The sum of every job's duration, both apps. */
  readonly jobS: number;
  readonly wallS: number;
}

/** One app: BURSTS jobs with GAP_MS of quiet after each, after `delayMs`. */
async function bursty(flint: FlintContext, delayMs: number): Promise<AppRun> {
  await new Promise((resolve) => setTimeout(resolve, delayMs));
  const jobMs: number[] = [];
  let usedCoreMs = 0;
  for (let b = 0; b < BURSTS; b++) {
    const start = performance.now();
    usedCoreMs += await flint.parallelize(Array.from({ length: TASKS }, () => TASK_MS), TASKS).map(hold).reduce(sum);
    jobMs.push(performance.now() - start);
    if (b < BURSTS - 1) await new Promise((resolve) => setTimeout(resolve, GAP_MS));
  }
  return { jobMs, usedCoreMs };
}

/** Samples the master's /json until `until` settles: the integral of every app's granted cores, in core-ms. */
async function heldCoreMs(cluster: LocalCluster, appIds: readonly string[], until: Promise<unknown>): Promise<number> {
  let done = false;
  void until.finally(() => (done = true));
  let total = 0;
  let last = performance.now();
  while (!done) {
    const json = await cluster.masterJson();
    const now = performance.now();
    // `cores` of an application in the master's /json is the cores granted to it now (Spark's MasterPage).
    const cores = json.activeapps.filter((a) => appIds.includes(a.id)).reduce((n, a) => n + a.cores, 0);
    total += cores * (now - last);
    last = now;
    await new Promise((resolve) => setTimeout(resolve, SAMPLE_MS));
  }
  return total;
}

async function runMode(cluster: LocalCluster, mode: 'static' | 'dynamic'): Promise<ModeRun> {
  const conf: Record<string, string | number | boolean> = {
    'flint.executor.cores': 1,
    'flint.executor.memory': '256m',
    'flint.authenticate.secret.file': cluster.secretFile,
    ...(mode === 'static'
      ? { 'flint.cores.max': 2 }
      : {
          'flint.dynamicAllocation.enabled': true,
          'flint.dynamicAllocation.minExecutors': 0,
          'flint.dynamicAllocation.maxExecutors': 4,
          'flint.dynamicAllocation.executorIdleTimeout': '1s',
          'flint.dynamicAllocation.schedulerBacklogTimeout': '200ms',
        }),
  };
  const apps = await Promise.all(['a', 'b'].map((n) => FlintContext.create({ master: cluster.masterUrl, appName: `bench:elastic ${mode} ${n}`, conf, progress: false })));
  try {
    if (mode === 'static') await Promise.all(apps.map((app) => app.awaitExecutors(2, 60_000)));
    const started = performance.now();
    const work = Promise.all(apps.map((app, i) => bursty(app, i === 0 ? 0 : (TASKS * TASK_MS) / 2 + GAP_MS / 2)));
    const [held, runs] = await Promise.all([heldCoreMs(cluster, apps.map((a) => a.applicationId), work), work]);
    const wallMs = performance.now() - started;
    const usedMs = runs.reduce((n, r) => n + r.usedCoreMs, 0);
    const jobMs = runs.flatMap((r) => r.jobMs).reduce((n, ms) => n + ms, 0);
    return { mode, heldCoreS: held / 1000, usedCoreS: usedMs / 1000, idleCoreS: (held - usedMs) / 1000, jobS: jobMs / 1000, wallS: wallMs / 1000 };
  } finally {
    await Promise.all(apps.map((app) => app.stop()));
  }
}

runApp(async () => {
  exitAfter(DEADLINE_MS, 'bench:elastic');
  const machine = await measureMachine();
  const loadAtStart = loadavg()[0] ?? 0;
  const cluster = await LocalCluster.start({ cli: currentBuildCli(), workers: 4, coresPerWorker: 1, memoryPerWorker: '512m' });
  let runs: ModeRun[];
  try {
    runs = [await runMode(cluster, 'static'), await runMode(cluster, 'dynamic')];
  } finally {
    await cluster.stop();
  }
  const [fixed, dynamic] = runs as [ModeRun, ModeRun];
  const idleSavedPct = (1 - dynamic.idleCoreS / fixed.idleCoreS) * 100;
  const jobsLaterPct = (dynamic.jobS / fixed.jobS - 1) * 100;
  const f = (x: number): string => x.toFixed(1);
  console.log(`2 apps × ${BURSTS} bursts of ${TASKS} tasks × ${TASK_MS} ms, ${GAP_MS} ms apart, on 4 workers × 1 core; load average at start ${loadAtStart.toFixed(2)}`);
  console.log(
    formatTable(
      ['mode', 'core-s held', 'core-s used', 'core-s idle', 'job s (sum)', 'wall s'],
      runs.map((r) => [r.mode, f(r.heldCoreS), f(r.usedCoreS), f(r.idleCoreS), f(r.jobS), f(r.wallS)]),
    ),
  );
  console.log(`idle core-seconds saved: ${f(idleSavedPct)} % (target ≥ 40 %); jobs later by ${f(jobsLaterPct)} % (target ≤ 10 %)`);
  console.log(
    benchJson(
      {
        idleCoreSecondsSavedPct: Number(f(idleSavedPct)),
        jobsLaterPct: Number(f(jobsLaterPct)),
        targetMet: idleSavedPct >= 40 && jobsLaterPct <= 10,
        staticHeldCoreS: Number(f(fixed.heldCoreS)),
        staticIdleCoreS: Number(f(fixed.idleCoreS)),
        staticJobS: Number(f(fixed.jobS)),
        dynamicHeldCoreS: Number(f(dynamic.heldCoreS)),
        dynamicIdleCoreS: Number(f(dynamic.idleCoreS)),
        dynamicJobS: Number(f(dynamic.jobS)),
        bursts: BURSTS,
        tasks: TASKS,
        taskMs: TASK_MS,
        gapMs: GAP_MS,
        loadAvg1m: Number(loadAtStart.toFixed(2)),
      },
      machine,
    ),
  );
});
