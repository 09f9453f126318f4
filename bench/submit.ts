// Flint's submit benchmark: `npm run bench:submit` (issue 15, docs/benchmarks.md).
//
// The time from `flint submit` to the app's first task running, as a user meets it: `bin/flint submit app.ts` in a
// fresh process (the build bin/flint runs, as operators run it), t0 taken just before the process is spawned, the
// end read from the task itself (it returns Date.now() as it starts; every process here shares the clock).
//   (a) on a cluster at rest: a master and one worker of 2 cores started from the build, its standby executor
//       loaded (docs/standby-executors.md), the app asking for one executor of 1 core;
//       - a new app: a file no run has bundled (its text differs), so esbuild bundles it (target ≤ 400 ms);
//       - the same app again: its bundle comes from the bundle cache (target ≤ 250 ms).
//   (b) the same two in local mode (`--master local[1]`, docs/local-mode.md): no daemon at all.
// FLINT_BENCH_ROUNDS (5) rounds, each a new app then its second run; the figures are medians. The bundle cache is
// a directory of the benchmark's own. Prints a table, then, as the last line, one JSON object with the figures,
// the CPU model and a calibration.

import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { LocalCluster } from '../src/daemons/local-cluster.ts';
import { FLINT_HOME } from '../src/util/install.ts';
import { currentBuildCli } from './lib/build.ts';
import { benchJson, measureMachine } from './lib/machine.ts';
import { exitAfter, formatTable, intFromEnv, median } from './lib/stats.ts';

const execFileAsync = promisify(execFile);
const ROUNDS = intFromEnv('FLINT_BENCH_ROUNDS', 5);
const FLINT = join(FLINT_HOME, 'bin', 'flint');
const EXECUTOR_MEMORY = '512m';

/** An app whose one task reports when it ran; `salt` makes its text, and so its bundle, new. */
function appSource(salt: string): string {
  return `// bench:submit's app (${salt})
import { FlintContext, runApp } from 'flint';

export function startedAt(): number {
  return Date.now();
}

runApp(async () => {
  const flint = await FlintContext.create({ appName: 'bench:submit', progress: false });
  const [at] = await flint.parallelize([0], 1).map(startedAt).collect();
  console.log(\`FIRST_TASK \${at}\`);
  await flint.stop();
});
`;
}

/** Milliseconds from spawning `bin/flint submit <flags> app` to its first task's start. */
async function submitToFirstTask(flags: readonly string[], app: string): Promise<number> {
  const t0 = Date.now();
  const { stdout } = await execFileAsync(FLINT, ['submit', ...flags, app], { timeout: 60_000 });
  const at = Number(/^FIRST_TASK (\d+)$/m.exec(stdout)?.[1]);
  if (!Number.isFinite(at)) throw new Error(`the app printed no FIRST_TASK line:\n${stdout}`);
  return at - t0;
}

async function main(): Promise<void> {
  exitAfter(600_000, 'bench:submit');
  const machine = await measureMachine();
  const cli = currentBuildCli();
  const dir = mkdtempSync(join(tmpdir(), 'flint-bench-submit-'));
  const cacheConf = ['--conf', `flint.app.bundleCache.dir=${join(dir, 'bundles')}`, '--conf', 'flint.ui.enabled=false'];
  const cluster = await LocalCluster.start({ cli, workers: 1, coresPerWorker: 2, memoryPerWorker: '2g', conf: [`flint.worker.standbyExecutors.memory=${EXECUTOR_MEMORY}`] });
  const times = { clusterNew: [] as number[], clusterCached: [] as number[], localNew: [] as number[], localCached: [] as number[] };
  try {
    const clusterFlags = [
      ...['--master', cluster.masterUrl, '--conf', `flint.authenticate.secret.file=${cluster.secretFile}`],
      ...['--total-executor-cores', '1', '--executor-memory', EXECUTOR_MEMORY, ...cacheConf],
    ];
    const localFlags = ['--master', 'local[1]', ...cacheConf];
    for (let round = 0; round < ROUNDS; round++) {
      for (const [mode, flags] of [['cluster', clusterFlags], ['local', localFlags]] as const) {
        const app = join(dir, `app-${mode}-${round}.ts`);
        writeFileSync(app, appSource(`${mode} round ${round} of run ${process.pid}`));
        // At rest before each run, local ones too: the worker starts a new standby after each adoption.
        await cluster.awaitStandbys();
        const fresh = await submitToFirstTask(flags, app);
        await cluster.awaitStandbys();
        const again = await submitToFirstTask(flags, app);
        (mode === 'cluster' ? times.clusterNew : times.localNew).push(fresh);
        (mode === 'cluster' ? times.clusterCached : times.localCached).push(again);
      }
    }
  } finally {
    await cluster.stop();
    rmSync(dir, { recursive: true, force: true });
  }
  const figures = {
    submitToFirstTaskNewMs: Math.round(median(times.clusterNew)),
    submitToFirstTaskCachedMs: Math.round(median(times.clusterCached)),
    localSubmitToFirstTaskNewMs: Math.round(median(times.localNew)),
    localSubmitToFirstTaskCachedMs: Math.round(median(times.localCached)),
    rounds: ROUNDS,
  };
  const row = (what: string, target: string, all: readonly number[]): string[] => [what, target, String(Math.round(median(all))), all.map((t) => String(t)).join(' ')];
  console.log(
    formatTable(
      ['flint submit → first task running', 'target', 'median ms', 'each round (ms)'],
      [
        row('cluster, a new app (esbuild bundles it)', '≤ 400', times.clusterNew),
        row('cluster, the same app again (bundle cached)', '≤ 250', times.clusterCached),
        row('local[1], a new app', '', times.localNew),
        row('local[1], the same app again', '', times.localCached),
      ],
    ),
  );
  console.log(`CPU ${machine.cpu}, Node ${machine.node}, calibration ${machine.calibrationMs} ms, ping-pong ${machine.pingPongP50Us} µs`);
  console.log(benchJson(figures, machine));
}

await main();
