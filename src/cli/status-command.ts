// `flint status --master URL`: the cluster at a glance (its masters and which leads, workers, applications,
// drivers), and `flint apps`: the applications alone. Tables on a terminal, tab-separated lines otherwise,
// JSON with --json (src/cli/table.ts). Both read the masters' `RequestMasterState` (Spark's MasterPage data).

import { Command } from 'commander';
import { formatDuration, formatMb } from '../ui/format.ts';
import type { Env } from './daemon-options.ts';
import { print, withOperatorClient, withOperatorOptions, type MasterAnswer, type MasterState, type OperatorFlags } from './operator-client.ts';
import { formatTable, type Column } from './table.ts';

type Worker = MasterState['workers'][number];
type App = MasterState['activeApps'][number];
type Driver = MasterState['activeDrivers'][number];

const WORKER_COLUMNS: ReadonlyArray<Column<Worker>> = [
  { header: 'WORKER', value: (w) => w.id },
  { header: 'ADDRESS', value: (w) => `${w.host}:${w.port}` },
  { header: 'STATE', value: (w) => w.state },
  { header: 'CORES', value: (w) => `${w.coresUsed}/${w.cores}`, numeric: true },
  { header: 'MEMORY', value: (w) => `${formatMb(w.memoryUsedMb)}/${formatMb(w.memoryMb)}`, numeric: true },
  { header: 'EXECUTORS', value: (w) => w.executorIds.length, numeric: true },
  { header: 'DRIVERS', value: (w) => w.driverIds.length, numeric: true },
];

function appColumns(nowMs: number): ReadonlyArray<Column<App>> {
  return [
    { header: 'APPLICATION', value: (a) => a.id },
    { header: 'NAME', value: (a) => a.desc.name },
    { header: 'STATE', value: (a) => a.state },
    { header: 'CORES', value: (a) => a.coresGranted, numeric: true },
    { header: 'EXECUTORS', value: (a) => a.executors.length, numeric: true },
    { header: 'MEMORY/EXECUTOR', value: (a) => formatMb(a.desc.memoryMbPerExecutor), numeric: true },
    { header: 'USER', value: (a) => a.desc.user },
    { header: 'DURATION', value: (a) => formatDuration((a.endTimeMs ?? nowMs) - a.startTimeMs), numeric: true },
  ];
}

const DRIVER_COLUMNS: ReadonlyArray<Column<Driver>> = [
  { header: 'DRIVER', value: (d) => d.id },
  { header: 'STATE', value: (d) => d.state },
  { header: 'WORKER', value: (d) => d.workerId },
  { header: 'CORES', value: (d) => d.desc.cores, numeric: true },
  { header: 'MEMORY', value: (d) => formatMb(d.desc.memoryMb), numeric: true },
  { header: 'SUPERVISED', value: (d) => (d.desc.supervise ? 'yes' : 'no') },
];

const MASTER_COLUMNS: ReadonlyArray<Column<MasterAnswer>> = [
  { header: 'MASTER', value: (m) => m.url },
  { header: 'STATUS', value: (m) => (m.state === undefined ? 'UNREACHABLE' : m.state.status === 'ALIVE' ? 'ALIVE (leader)' : m.state.status) },
  { header: 'DETAIL', value: (m) => m.error ?? m.state?.masterUrl },
];

function section(title: string, body: string, tty: boolean): string {
  return tty ? `${title}\n${body === '' ? '  (none)\n' : body}` : `# ${title}\n${body}`;
}

export function statusCommand(flintHome: string, env: Env = process.env): Command {
  return withOperatorOptions(new Command('status'))
    .description('the cluster at a glance: masters (and which leads), workers, applications and drivers')
    .action(async (flags: OperatorFlags) => {
      await withOperatorClient(flags, flintHome, env, async (client) => {
        const masters = await client.masters();
        const { state } = await client.leader().catch((err: Error) => {
          // Still show which masters answered how, then fail.
          if (flags.json !== true) print(formatTable(masters, MASTER_COLUMNS, process.stdout.isTTY === true));
          throw err;
        });
        const nowMs = Date.now();
        const apps = [...state.activeApps, ...state.completedApps];
        const drivers = [...state.activeDrivers, ...state.completedDrivers];
        if (flags.json === true) {
          const summary = masters.map((m) => ({ url: m.url, status: m.state?.status ?? 'UNREACHABLE', leader: m.state?.status === 'ALIVE', ...(m.error === undefined ? {} : { error: m.error }) }));
          return print(JSON.stringify({ masters: summary, workers: state.workers, applications: apps, drivers }, null, 2));
        }
        const tty = process.stdout.isTTY === true;
        print(
          [
            section('Masters', formatTable(masters, MASTER_COLUMNS, tty), tty),
            section(`Workers (${state.workers.length})`, formatTable(state.workers, WORKER_COLUMNS, tty), tty),
            section(`Applications (${apps.length})`, formatTable(apps, appColumns(nowMs), tty), tty),
            section(`Drivers (${drivers.length})`, formatTable(drivers, DRIVER_COLUMNS, tty), tty),
          ].join(tty ? '\n' : ''),
        );
      });
    });
}

export function appsCommand(flintHome: string, env: Env = process.env): Command {
  return withOperatorOptions(new Command('apps'))
    .description('the applications of the cluster, running ones first')
    .action(async (flags: OperatorFlags) => {
      await withOperatorClient(flags, flintHome, env, async (client) => {
        const { state } = await client.leader();
        const apps = [...state.activeApps, ...state.completedApps];
        if (flags.json === true) return print(JSON.stringify(apps, null, 2));
        print(formatTable(apps, appColumns(Date.now()), process.stdout.isTTY === true));
      });
    });
}
