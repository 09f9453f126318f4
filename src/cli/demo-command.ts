// `flint demo`: Flint's main job. Starts a local master and two workers as real processes on free ports, runs
// examples/pi.ts on them with the progress bar, prints the result, and shuts the cluster down, leaving
// nothing running. Ctrl-C does the same.

import { join } from 'node:path';
import { Command } from 'commander';
import { launchApp } from '../api/launch-app.ts';
import { addShutdownHook, installSignalHandlers, whenAppDone } from '../api/run-app.ts';
import { LocalCluster } from '../daemons/local-cluster.ts';
import { PACKAGED, sourcePath } from '../util/install.ts';
import { LIMITS, type IntRange } from '../protocol/limits.ts';
import { parseIntIn } from './daemon-options.ts';

interface DemoFlags {
  workers: string;
  cores: string;
  samples: string;
  slices: string;
}

/** The most workers `flint demo` starts: each is a process on this machine. */
const MAX_DEMO_WORKERS = 64;

const whole = (flag: string, value: string, range: IntRange, noun: string): number => parseIntIn({ value, what: flag }, 0, range, noun);

export function demoCommand(flintHome: string): Command {
  return new Command('demo')
    .description('start a local master and 2 workers, run examples/pi.ts on them, then shut everything down')
    .helpOption('-h, --help', 'show this help')
    .option('--workers <n>', 'number of workers', '2')
    .option('--cores <n>', 'cores each worker offers', '2')
    .option('--samples <n>', 'darts thrown by examples/pi.ts', '200000000')
    .option('--slices <n>', 'tasks (partitions) of the pi job', '40')
    .action(async (flags: DemoFlags) => {
      const workers = whole('--workers', flags.workers, { min: 1, max: MAX_DEMO_WORKERS }, 'a number of workers');
      const cores = whole('--cores', flags.cores, LIMITS.cores, 'a number of cores');
      const samples = whole('--samples', flags.samples, { min: 1, max: LIMITS.longCount.max }, 'a number of samples');
      const slices = whole('--slices', flags.slices, { min: 1, max: LIMITS.count.max }, 'a number of slices');
      const out = (line: string): boolean => process.stdout.write(`${line}\n`);
      out(`Starting a local Flint cluster: 1 master and ${workers} workers with ${cores} cores each…`);
      installSignalHandlers();
      // The hook is in place before the first daemon is spawned: a Ctrl-C while the cluster starts aborts the
      // start, which stops the daemons started so far (they used to be left running).
      const aborting = new AbortController();
      const starting = LocalCluster.start({ workers, coresPerWorker: cores, memoryPerWorker: '2g', signal: aborting.signal });
      let stopped = false;
      const stopCluster = async (): Promise<void> => {
        if (stopped) return;
        stopped = true;
        aborting.abort(new Error('the demo was stopped while its cluster started'));
        await (await starting.catch(() => undefined))?.stop();
        out('Cluster stopped; nothing is left running.');
      };
      addShutdownHook(stopCluster);
      const cluster = await starting;
      // The login URL opens the UI straight in (it holds the cluster's UI token; the demo's cluster ends with it).
      out(`Master:  ${cluster.masterUrl}   web UI and /json: ${cluster.masterLoginUrl}   logs: ${cluster.dir}`);
      // The npm package ships pi.ts compiled (src/util/install.ts, PACKAGED_SOURCES): Node strips no types under node_modules.
      const app = PACKAGED ? sourcePath('examples/pi.ts') : join(flintHome, 'examples', 'pi.ts');
      out(`Running ${app} with ${samples} samples over ${slices} slices…`);
      try {
        await launchApp({
          appMain: app,
          appArgs: [String(samples), String(slices)],
          conf: [
            ['flint.master', cluster.masterUrl],
            ['flint.app.name', 'Flint Pi (demo)'],
            ['flint.authenticate', 'true'],
            ['flint.authenticate.secret.file', cluster.secretFile],
            ['flint.executor.memory', '512m'],
          ],
        });
        await whenAppDone();
      } finally {
        await stopCluster();
      }
    });
}
