// `flint logs <appId> <executorId> [--follow]`: an executor's stdout or stderr, read from its worker's web UI
// (`/json/log`, src/daemons/log-routes.ts) with the cluster's UI token. The master says which worker runs it.
// --follow asks again from where the last read ended, once a second, each read at most 1 MiB, until the
// executor has ended and its log is read to the end (or ^C).

import { Command, Option } from 'commander';
import { setTimeout as sleep } from 'node:timers/promises';
import { ConfigError, FlintError } from '../errors.ts';
import type { Env } from './daemon-options.ts';
import { withOperatorClient, withOperatorOptions, type OperatorClient, type OperatorFlags } from './operator-client.ts';

interface LogsFlags extends OperatorFlags {
  follow?: boolean;
  logType: 'stdout' | 'stderr';
  bytes: string;
}

interface Slice {
  readonly text: string;
  readonly startByte: number;
  readonly endByte: number;
  readonly totalLength: number;
}

const FOLLOW_INTERVAL_MS = 1_000;
const FOLLOW_READ_BYTES = 1024 * 1024;

/** The worker web UI serving the executor's logs, and whether the executor still runs (per the leader). */
async function locate(client: OperatorClient, appId: string, executorId: string): Promise<{ webUiUrl: string; running: boolean }> {
  const { state } = await client.leader();
  const app = [...state.activeApps, ...state.completedApps].find((a) => a.id === appId);
  if (app === undefined) throw new FlintError('FLINT_OPERATOR_FAILED', `the master knows no application ${appId} (flint apps lists them)`);
  const exec = app.executors.find((e) => String(e.execId) === executorId);
  if (exec === undefined) {
    const ids = app.executors.map((e) => e.execId).join(', ') || 'none';
    throw new FlintError('FLINT_OPERATOR_FAILED', `application ${appId} has no executor ${executorId} the master knows (its executors: ${ids})`);
  }
  const worker = state.workers.find((w) => w.id === exec.workerId);
  if (worker === undefined) throw new FlintError('FLINT_OPERATOR_FAILED', `executor ${appId}/${executorId} ran on worker ${exec.workerId}, which the master no longer lists`);
  const running = app.state === 'RUNNING' || app.state === 'WAITING' ? ['LAUNCHING', 'RUNNING'].includes(exec.state) : false;
  return { webUiUrl: worker.webUiUrl, running };
}

async function readSlice(client: OperatorClient, url: URL): Promise<Slice> {
  let res: Response;
  try {
    res = await fetch(url, { headers: client.uiHeaders(), signal: AbortSignal.timeout(10_000) });
  } catch (err) {
    throw new FlintError('FLINT_OPERATOR_FAILED', `cannot reach the worker's web UI at ${url.origin}: ${(err as Error).message}`);
  }
  const body = (await res.json().catch(() => ({}))) as Partial<Slice> & { error?: string };
  if (!res.ok) throw new FlintError('FLINT_OPERATOR_FAILED', `the worker at ${url.origin} answered ${res.status}: ${body.error ?? res.statusText}`);
  return { text: body.text ?? '', startByte: body.startByte ?? 0, endByte: body.endByte ?? 0, totalLength: body.totalLength ?? 0 };
}

export function logsCommand(flintHome: string, env: Env = process.env): Command {
  return withOperatorOptions(new Command('logs'))
    .description("print an executor's log (stderr by default) from its worker; --follow keeps printing as it grows")
    .argument('<appId>', 'the application id (app-…)')
    .argument('<executorId>', 'the executor id within the application (0, 1, …)')
    .option('-f, --follow', 'keep reading as the log grows, until the executor has ended')
    .addOption(new Option('--log-type <type>', 'which log').choices(['stdout', 'stderr']).default('stderr'))
    .option('--bytes <n>', 'how many bytes of the end of the log to print first', '65536')
    .action(async (appId: string, executorId: string, flags: LogsFlags) => {
      if (!/^\d{1,9}$/.test(executorId)) throw new ConfigError('executorId', `executor id ${JSON.stringify(executorId)} is not a number; flint status lists the executors`);
      const bytes = Number(flags.bytes);
      if (!/^\d{1,10}$/.test(flags.bytes) || bytes < 1 || bytes > FOLLOW_READ_BYTES) {
        throw new ConfigError('--bytes', `--bytes ${JSON.stringify(flags.bytes)} is not a byte count; expected 1 to ${FOLLOW_READ_BYTES}`);
      }
      await withOperatorClient(flags, flintHome, env, async (client) => {
        let where = await locate(client, appId, executorId);
        const url = (offset: number | undefined, length: number): URL => {
          const u = new URL('/json/log', where.webUiUrl);
          for (const [k, v] of [['appId', appId], ['executorId', executorId], ['logType', flags.logType], ['byteLength', String(length)]]) u.searchParams.set(k as string, v as string);
          if (offset !== undefined) u.searchParams.set('offset', String(offset));
          return u;
        };
        let slice = await readSlice(client, url(undefined, bytes));
        process.stdout.write(slice.text);
        // Bounded: one read a second of at most 1 MiB; ends once the executor ended and nothing more came.
        for (let polls = 1; flags.follow === true; polls++) {
          await sleep(FOLLOW_INTERVAL_MS);
          const next = await readSlice(client, url(slice.endByte, FOLLOW_READ_BYTES));
          process.stdout.write(next.text);
          const grew = next.endByte > slice.endByte;
          slice = next;
          if (grew) continue;
          if (polls % 5 === 0 || !where.running) where = await locate(client, appId, executorId);
          if (!where.running && slice.endByte >= slice.totalLength) break;
        }
      });
    });
}

