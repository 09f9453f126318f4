// bench:tasks — the application path end to end on this machine: a real master and 2 workers (processes
// started through the CLI, from the build bin/flint runs), this process as the driver, executors started by the
// workers.
//
//   (a) coldStartMs       launching the master and 2 workers until both have registered (checked in /json)
//   (b) firstExecutorMs   from FlintContext.create() until the first executor has registered with the driver,
//                         for an app run before (its bundle in the bundle cache); firstExecutorUncachedMs the same
//                         for the app's first run (esbuild bundles it), measured first. Each is an app of its own
//                         (bench/lib/first-executor.ts) in a fresh Node process, as a user starts one
//   (c) tasksPerSec       the median of 3 jobs of 20,000 no-op tasks on 2 executors × 1 core, on warm processes: a
//                         job of 2,000 tasks, one of 20,000 (its figure is tasksPerSecFirstJob) and 8 more run
//                         first; the processes speed up over about that many (docs/benchmarks.md, bench:tasks).
//                         With it, the work per task of each process over the 3 (CPU µs, read and write syscalls)
//                         and cpuUsPerTask, their sum
//   (d) taskLatency*Us    1,000 sequential one-task jobs through the public API (collect of one partition), after
//                         2,000 more as a warm-up (taskLatencyWarmUp*Us, no target), each
//                         worker's executor bound to a CPU of its own (flint.worker.executorCpus; bench/lib/
//                         cpu-binding.ts, FLINT_BENCH_NO_CPU_BINDING=1 leaves it out), alternated in halves with
//                         1,000 on the same executors unbound (taskLatencyUnboundP50Us, no target); then,
//                         where this process may (root), 1,000 more with idle CPUs polling instead of halting
//                         (bench/lib/idle-poll.ts): taskLatencyIdlePollP50Us, no target, what (d) is without the
//                         host's wake-ups of idle CPUs. FLINT_BENCH_SKIP_IDLE_POLL=1 leaves it out
//   (e) workerKillOverheadMs  extra wall time of a 2,000-task job (10 ms per task) when a worker is killed
//                         with -9 after 500 tasks, over the same job without a failure; results checked
//   (f) daskTasksPerSec   the same 20,000 no-op tasks with Dask distributed (client.map, then gather) on a
//                         LocalCluster of 2 processes × 1 thread, after a warm-up of 2,000, once the Flint cluster
//                         has stopped (Debian's python3-distributed, installed when missing; FLINT_BENCH_SKIP_DASK=1
//                         leaves it out), and tasksVsDask, (c) over it
//
// The last line is one JSON object with the figures. Run: npm run bench:tasks

import { FlintContext, runApp } from 'flint';
import { LocalCluster } from '../src/daemons/local-cluster.ts';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { promisify } from 'node:util';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { currentBuildCli } from './lib/build.ts';
import { daskNoopTasks, ensureDask } from './lib/dask.ts';
import { executorPids, clockTicksPerSecond, cpuSample, ioSample, type CpuSample, type IoSample } from './lib/proc.ts';
import { exitAfter, formatTable, median, percentile, timed } from './lib/stats.ts';
import { benchJson, measureMachine } from './lib/machine.ts';
import { holdIdlePoll } from './lib/idle-poll.ts';
import { benchCpuBinding, unbound } from './lib/cpu-binding.ts';

export function noop(x: number): number {
  return x;
}

export async function tenMs(x: number): Promise<number> {
  await new Promise((resolve) => setTimeout(resolve, 10));
  return x;
}

export function plus(a: number, b: number): number {
  return a + b;
}

const execFileAsync = promisify(execFile);
/** (b)'s application, run in a process of its own. */
const FIRST_EXECUTOR_APP = fileURLToPath(new URL('./lib/first-executor.ts', import.meta.url));

const DEADLINE_MS = 10 * 60_000;
const EXECUTOR_MEMORY = '512m';
/** One-task jobs run before (d) is measured (see there). */
const WARM_UP_ONE_TASK_JOBS = 2_000;
/** Issue 13's targets, on any 2-core machine of this kind (docs/benchmarks.md, bench:tasks). */
const TARGETS = { coldStartMs: 500, firstExecutorMs: 200, tasksPerSec: 50_000, tasksVsDask: 60, taskLatencyP50Us: 250, workerKillOverheadMs: 500 } as const;

/** (f): Dask's no-op tasks per second, or undefined when skipped. Checks that every task ran. */
function runDask(tasks: number): { tasksPerSec: number; versions: string } | undefined {
  if (process.env['FLINT_BENCH_SKIP_DASK'] === '1') return undefined;
  const versions = ensureDask();
  const dir = mkdtempSync(join(tmpdir(), 'flint-bench-tasks-dask-'));
  try {
    const dask = daskNoopTasks(tasks, dir);
    const expected = (tasks * (tasks - 1)) / 2;
    if (dask.tasks !== tasks || dask.sum !== expected) throw new Error(`Dask ran ${dask.tasks} tasks summing to ${dask.sum}, expected ${tasks} and ${expected}`);
    return { tasksPerSec: (tasks / dask.ms) * 1000, versions };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

runApp(async () => {
  exitAfter(DEADLINE_MS, 'bench:tasks');
  const machine = await measureMachine();

  const cli = currentBuildCli();
  const bundleCacheDir = mkdtempSync(join(tmpdir(), 'flint-bench-tasks-bundles-'));
  const ticksPerSec = clockTicksPerSecond();
  // (a) Cold start. Each worker offers 2 cores so that a replacement executor fits after a worker is killed.
  // The workers keep standby executors of the app's executor memory (docs/standby-executors.md), and bind their
  // executors to CPUs, each worker preferring its own (bench/lib/cpu-binding.ts), as an operator does on a VM
  // whose idle CPUs halt.
  const binding = benchCpuBinding();
  const [cluster, coldStartMs] = await timed(() =>
    LocalCluster.start({
      cli,
      workers: 2,
      coresPerWorker: 2,
      memoryPerWorker: '2g',
      conf: ['flint.worker.timeout=10s', `flint.worker.standbyExecutors.memory=${EXECUTOR_MEMORY}`],
      ...(binding.ok ? { workerConf: binding.workerConf } : {}),
    }),
  );
  try {
    const alive = (await cluster.masterJson()).workers.filter((w) => w.state === 'ALIVE').length;
    if (alive !== 2) throw new Error(`the master's /json shows ${alive} ALIVE workers after the cold start, expected 2`);
    const conf = {
      'flint.cores.max': 2,
      'flint.executor.cores': 1,
      'flint.executor.memory': EXECUTOR_MEMORY,
      'flint.authenticate.secret.file': cluster.secretFile,
    };
    // (b) Context to first executor, on a cluster at rest (its standby executors loaded, as an app finds a cluster
    // that has been up for a while), by an app in a fresh process: its first run, with a bundle cache of the
    // benchmark's own (empty, whatever earlier runs left in the user's), then a run again.
    const firstExecutor = async (): Promise<number> => {
      await cluster.awaitStandbys();
      // `flint` from the checkout's sources (package.json `exports`, condition flint-source), not the npm package's lib/.
      const { stdout } = await execFileAsync(process.execPath, ['--conditions=flint-source', FIRST_EXECUTOR_APP, cluster.masterUrl, cluster.secretFile, bundleCacheDir, EXECUTOR_MEMORY], { timeout: 60_000 });
      const last = stdout.trim().split('\n').at(-1) ?? '';
      const { firstExecutorMs } = JSON.parse(last) as { firstExecutorMs: number };
      return firstExecutorMs;
    };
    const firstExecutorUncachedMs = await firstExecutor();
    const firstExecutorMs = await firstExecutor();
    await cluster.awaitStandbys();
    const flint = await FlintContext.create({ master: cluster.masterUrl, appName: 'bench:tasks', conf, progress: false });
    await flint.awaitExecutors(2, 30_000);

    // warm-up: threads, JIT, connections
    await flint.range(0, 2_000, 1, 2_000).map(noop).count();

    // (c) Throughput: the first job of N tasks on these processes, WARM_JOBS more, then the measured ones.
    const N = 20_000;
    const WARM_JOBS = 8;
    const MEASURED_JOBS = 3;
    const throughputJob = async (): Promise<number> => {
      const [count, ms] = await timed(() => flint.range(0, N, 1, N).map(noop).count());
      if (count !== N) throw new Error(`the throughput job counted ${count}, expected ${N}`);
      return ms;
    };
    const firstJobMs = await throughputJob();
    // The jobs after the first keep getting faster for about this many, each process spending less CPU a task
    // (V8's compiler threads most of all): 21,000-26,000 tasks/s in the second, 31,000-39,000 by the eighth.
    for (let i = 0; i < WARM_JOBS; i++) await throughputJob();
    // The work per task of the measured jobs, per process (docs/benchmarks.md, bench:tasks, "Where a task's CPU
    // goes"): CPU time (user, system) and read and write system calls, of this driver and of each executor.
    const executors = cluster.workers.flatMap((w) => (w.pid === undefined ? [] : executorPids(w.pid)));
    if (executors.length !== 2) throw new Error(`found ${executors.length} executor processes under the workers, expected 2`);
    const pids = [process.pid, ...executors];
    const before = pids.map((pid) => ({ cpu: cpuSample(pid), io: ioSample(pid) }));
    const jobMs: number[] = [];
    for (let i = 0; i < MEASURED_JOBS; i++) jobMs.push(await throughputJob());
    const after = pids.map((pid) => ({ cpu: cpuSample(pid), io: ioSample(pid) }));
    const measuredTasks = N * MEASURED_JOBS;
    const perTask = pids.map((_, i) => {
      const [b, a] = [before[i], after[i]] as [{ cpu: CpuSample; io: IoSample }, { cpu: CpuSample; io: IoSample }];
      const cpuUs = (ticks: number): number => Number(((ticks * 1e6) / ticksPerSec / measuredTasks).toFixed(1));
      return {
        userUs: cpuUs(a.cpu.ticks - a.cpu.systemTicks - (b.cpu.ticks - b.cpu.systemTicks)),
        systemUs: cpuUs(a.cpu.systemTicks - b.cpu.systemTicks),
        reads: Number(((a.io.reads - b.io.reads) / measuredTasks).toFixed(3)),
        writes: Number(((a.io.writes - b.io.writes) / measuredTasks).toFixed(3)),
      };
    });
    const throughputMs = median(jobMs);
    const tasksPerSecFirstJob = (N / firstJobMs) * 1000;
    const tasksPerSec = (N / throughputMs) * 1000;

    // (d) Latency of one-task jobs; then again with idle CPUs polling, to show how much of it is the host's.
    const one = flint.range(0, 1, 1, 1).map(noop);
    const oneTaskJobsUs = async (count: number): Promise<Float64Array> => {
      const lat = new Float64Array(count);
      for (let i = 0; i < lat.length; i++) {
        const t0 = performance.now();
        const got = await one.collect();
        lat[i] = (performance.now() - t0) * 1000;
        if (got.length !== 1 || got[0] !== 0) throw new Error(`a one-task job returned ${JSON.stringify(got)}`);
      }
      return lat.sort();
    };
    // A one-task job runs code that a job of 20,000 tasks runs once (submitting the job, planning its stage, its
    // result's way back), so (c) leaves it cold. V8 compiles it over the first several hundred one-task jobs, whose
    // 99th percentile is several milliseconds (docs/benchmarks.md, bench:tasks (d)). (d) measures the steady state
    // after 2,000 of them, and gives the warm-up's own figures too.
    const warmUp = await oneTaskJobsUs(WARM_UP_ONE_TASK_JOBS);
    const taskLatencyWarmUpP50Us = percentile(warmUp, 50);
    const taskLatencyWarmUpP99Us = percentile(warmUp, 99);
    // Alternated in halves with the same executors unbound, when they are bound, so that both meet the same host.
    const boundLat: number[] = [];
    const unboundLat: number[] = [];
    for (let half = 0; half < 2; half++) {
      boundLat.push(...(await oneTaskJobsUs(500)));
      if (binding.ok) unboundLat.push(...(await unbound(binding, executors, () => oneTaskJobsUs(500))));
    }
    const lat = Float64Array.from(boundLat).sort();
    const taskLatencyP50Us = percentile(lat, 50);
    const taskLatencyP99Us = percentile(lat, 99);
    const taskLatencyUnboundP50Us = binding.ok ? percentile(Float64Array.from(unboundLat).sort(), 50) : undefined;
    const idlePoll = process.env['FLINT_BENCH_SKIP_IDLE_POLL'] === '1' ? ({ ok: false, reason: 'skipped (FLINT_BENCH_SKIP_IDLE_POLL=1)' } as const) : holdIdlePoll();
    let taskLatencyIdlePollP50Us: number | undefined;
    if (idlePoll.ok) {
      try {
        taskLatencyIdlePollP50Us = percentile(await oneTaskJobsUs(1_000), 50);
      } finally {
        idlePoll.release();
      }
    }

    // (e) A worker killed with -9 after 500 of 2,000 10-ms tasks.
    const K = 2_000;
    const expected = (K * (K - 1)) / 2;
    const job = flint.range(0, K, 1, K).map(tenMs);
    const [baseSum, baselineMs] = await timed(() => job.reduce(plus));
    let killed = false;
    const victim = cluster.workers[0];
    if (victim?.pid === undefined) throw new Error('no worker to kill');
    const unsubscribe = flint.onProgress((p) => {
      if (!killed && p.total === K && p.done >= 500) {
        killed = true;
        process.kill(victim.pid as number, 'SIGKILL');
      }
    });
    const [killSum, withKillMs] = await timed(() => job.reduce(plus));
    unsubscribe();
    if (!killed) throw new Error('the worker was never killed');
    const resultsCorrect = baseSum === expected && killSum === expected;
    const workerKillOverheadMs = withKillMs - baselineMs;

    await flint.stop();
    await cluster.stop();

    // (f) Dask, alone on the machine.
    const dask = runDask(N);
    const tasksVsDask = dask === undefined ? undefined : tasksPerSec / dask.tasksPerSec;

    const r = (x: number): string => x.toFixed(1);
    const atMost = (x: number): string => `≤ ${x.toLocaleString('en-US')}`;
    console.log(
      formatTable(
        ['figure', 'what', 'value', 'target'],
        [
          ['(a) coldStartMs', 'master + 2 workers launched until both registered', r(coldStartMs), atMost(TARGETS.coldStartMs)],
          ['(b) firstExecutorUncachedMs', 'FlintContext.create() → first executor registered, an app\'s first run (esbuild bundles it), a fresh process', r(firstExecutorUncachedMs), ''],
          ['(b) firstExecutorMs', 'the same, the app run again (its bundle cached), a fresh process', r(firstExecutorMs), atMost(TARGETS.firstExecutorMs)],
          ['(c) tasksPerSecFirstJob', `the first job of ${N} no-op tasks (${r(firstJobMs)} ms)`, r(tasksPerSecFirstJob), ''],
          ['(c) tasksPerSec', `the median of ${MEASURED_JOBS} jobs of ${N} no-op tasks after ${WARM_JOBS} more, 2 executors × 1 core (${jobMs.map(r).join(', ')} ms)`, r(tasksPerSec), `≥ ${TARGETS.tasksPerSec.toLocaleString('en-US')}`],
          ...perTask.map((w, i) => [
            `(c) per task, ${i === 0 ? 'driver' : `executor ${i}`}`,
            'per task of the measured jobs: CPU µs user + system; read, write syscalls (all threads)',
            `${w.userUs} + ${w.systemUs}; ${w.reads}, ${w.writes}`,
            '',
          ]),
          [
            '(d) taskLatencyP50Us',
            `1,000 sequential one-task jobs, median; ${binding.ok ? `each worker's executor bound to a CPU of its own (${[0, 1].map(binding.cpusOf).join(' and ')})` : `executors not bound: ${binding.reason}`}`,
            r(taskLatencyP50Us),
            atMost(TARGETS.taskLatencyP50Us),
          ],
          ['(d) taskLatencyP99Us', '… 99th percentile', r(taskLatencyP99Us), ''],
          ['(d) taskLatencyWarmUpP50Us', `the ${WARM_UP_ONE_TASK_JOBS.toLocaleString('en-US')} one-task jobs before them (V8 compiling their path), median`, r(taskLatencyWarmUpP50Us), ''],
          ['(d) taskLatencyWarmUpP99Us', '… 99th percentile', r(taskLatencyWarmUpP99Us), ''],
          [
            '(d) taskLatencyUnboundP50Us',
            binding.ok ? '1,000 more, alternated with them in halves, the same executors free to run on every CPU' : `not measured: ${binding.reason}`,
            taskLatencyUnboundP50Us === undefined ? '-' : r(taskLatencyUnboundP50Us),
            '',
          ],
          [
            '(d) taskLatencyIdlePollP50Us',
            idlePoll.ok
              ? '1,000 more, idle CPUs polling (a PM QoS request of 0 µs on /dev/cpu_dma_latency, held for them alone): (d) less the host\'s wake-ups of idle CPUs'
              : `not measured: ${idlePoll.reason}`,
            taskLatencyIdlePollP50Us === undefined ? '-' : r(taskLatencyIdlePollP50Us),
            '',
          ],
          ['(e) baseline', `${K} tasks × 10 ms, no failure (ms)`, r(baselineMs), ''],
          ['(e) with kill -9', 'same job, a worker killed after 500 tasks (ms)', r(withKillMs), ''],
          ['(e) workerKillOverheadMs', 'difference', r(workerKillOverheadMs), atMost(TARGETS.workerKillOverheadMs)],
          ['(e) resultsCorrect', 'both sums equal n(n-1)/2', String(resultsCorrect), 'true'],
          ['(f) daskTasksPerSec', dask === undefined ? 'skipped (FLINT_BENCH_SKIP_DASK=1)' : `${N} no-op tasks, Dask client.map on 2 processes × 1 thread (${dask.versions})`, dask === undefined ? '-' : r(dask.tasksPerSec), ''],
          ['(f) tasksVsDask', '(c) tasksPerSec over Dask\'s', tasksVsDask === undefined ? '-' : r(tasksVsDask), `≥ ${TARGETS.tasksVsDask}`],
        ],
      ),
    );
    const met = {
      coldStart: coldStartMs <= TARGETS.coldStartMs,
      firstExecutor: firstExecutorMs <= TARGETS.firstExecutorMs,
      tasksPerSec: tasksPerSec >= TARGETS.tasksPerSec,
      tasksVsDask: tasksVsDask === undefined ? null : tasksVsDask >= TARGETS.tasksVsDask,
      taskLatencyP50: taskLatencyP50Us <= TARGETS.taskLatencyP50Us,
      workerKill: workerKillOverheadMs <= TARGETS.workerKillOverheadMs && resultsCorrect,
    };
    const missed = Object.entries(met).filter(([, ok]) => ok === false).map(([name]) => name);
    console.log(`targets: ${missed.length === 0 ? 'all met' : `missed ${missed.join(', ')}`}${tasksVsDask === undefined ? ' (Dask skipped)' : ''}`);
    console.log(
      benchJson({
        coldStartMs: Math.round(coldStartMs),
        firstExecutorMs: Math.round(firstExecutorMs),
        firstExecutorUncachedMs: Math.round(firstExecutorUncachedMs),
        tasksPerSec: Math.round(tasksPerSec),
        tasksPerSecFirstJob: Math.round(tasksPerSecFirstJob),
        tasksPerSecJobs: jobMs.map((ms) => Math.round((N / ms) * 1000)),
        perTask: { driver: perTask[0], executors: perTask.slice(1) },
        cpuUsPerTask: Number(perTask.reduce((n, w) => n + w.userUs + w.systemUs, 0).toFixed(1)),
        taskLatencyP50Us: Math.round(taskLatencyP50Us),
        taskLatencyP99Us: Math.round(taskLatencyP99Us),
        taskLatencyWarmUpP50Us: Math.round(taskLatencyWarmUpP50Us),
        taskLatencyWarmUpP99Us: Math.round(taskLatencyWarmUpP99Us),
        taskLatencyUnboundP50Us: taskLatencyUnboundP50Us === undefined ? null : Math.round(taskLatencyUnboundP50Us),
        executorsBound: binding.ok,
        taskLatencyIdlePollP50Us: taskLatencyIdlePollP50Us === undefined ? null : Math.round(taskLatencyIdlePollP50Us),
        workerKillOverheadMs: Math.round(workerKillOverheadMs),
        resultsCorrect,
        daskTasksPerSec: dask === undefined ? null : Math.round(dask.tasksPerSec),
        tasksVsDask: tasksVsDask === undefined ? null : Number(tasksVsDask.toFixed(1)),
        targetsMet: missed.length === 0 && tasksVsDask !== undefined,
      }, machine),
    );
  } finally {
    await cluster.stop();
    rmSync(bundleCacheDir, { recursive: true, force: true });
  }
});
