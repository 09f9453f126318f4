// Child processes for bench/master.ts: the real master daemon and the worker simulators. Every child is
// tracked so that it can be killed on every way out (normal end, error, deadline, Ctrl-C).

import { spawn, type ChildProcess } from 'node:child_process';
import { SIM_MARKER, type SimConfig, type SimEvent, type SimStats } from './master-sim.ts';

const live = new Set<ChildProcess>();

/** Kills every child still running (SIGKILL): for the error paths. */
export function killAllChildren(): void {
  for (const child of live) {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  }
  live.clear();
}

/**
 * Spawns `argv` (no shell). When the open-file soft limit is too low for `needFds` but the hard limit
 * allows it, the child is started through `bash -c 'ulimit -n "$(ulimit -Hn)" && exec "$@"'`, a fixed
 * script that raises the soft limit to the hard one and then becomes the child, so its pid is the child's.
 */
function spawnTracked(
  argv: readonly string[],
  raiseFdLimit: boolean,
  cwd: string,
  stdin: 'pipe' | 'ignore',
  env: NodeJS.ProcessEnv = process.env,
): ChildProcess {
  const full = raiseFdLimit ? ['bash', '-c', 'ulimit -n "$(ulimit -Hn)" && exec "$@"', 'bash', ...argv] : [...argv];
  const child = spawn(full[0] as string, full.slice(1), { cwd, env, stdio: [stdin, 'pipe', 'pipe'] });
  live.add(child);
  child.once('exit', () => live.delete(child));
  return child;
}

/** Calls `onLine` for every whole line of `stream`. */
function eachLine(stream: NodeJS.ReadableStream, onLine: (line: string) => void): void {
  let text = '';
  stream.setEncoding('utf8');
  stream.on('data', (chunk: string) => {
    text += chunk;
    for (let nl = text.indexOf('\n'); nl >= 0; nl = text.indexOf('\n')) {
      const line = text.slice(0, nl);
      text = text.slice(nl + 1);
      onLine(line);
    }
  });
}

function exitPromise(child: ChildProcess, what: string, expected: () => boolean): Promise<never> {
  const p = new Promise<never>((_, reject) => {
    child.once('exit', (code, signal) => {
      if (!expected()) reject(new Error(`${what} exited early (code ${code}, signal ${signal})`));
    });
    child.once('error', (err) => reject(new Error(`cannot start ${what}: ${err.message}`)));
  });
  p.catch(() => {}); // raced by whoever waits on the child
  return p;
}

async function stopChild(child: ChildProcess, signal: 'SIGTERM', graceMs: number): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const gone = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill(signal);
  const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
  await gone;
  clearTimeout(timer);
}

export function rejectAfter(ms: number, message: string): Promise<never> {
  return new Promise((_, reject) => setTimeout(() => reject(new Error(message)), ms).unref());
}

// ---- the master -----------------------------------------------------------------------------------------

export interface MasterLogCounts {
  info: number;
  warn: number;
  error: number;
  other: number;
}

export interface MasterChild {
  readonly pid: number;
  readonly rpcPort: number;
  readonly webUiPort: number;
  /** Log lines by level so far (pino JSON on stderr). */
  readonly logs: MasterLogCounts;
  /** The last warn/error lines, for the report. */
  readonly problems: string[];
  readonly exited: Promise<never>;
  stop(): Promise<void>;
}

/**
 * Starts `bin/flint master`, as an operator (or sbin/flint-daemon.sh) does, so the master runs with the Node
 * flags bin/flint gives daemons; resolves once its "Master started" log line names its ports. bin/flint execs
 * node, so the child's pid is the master's. `nodeArgs` go in NODE_OPTIONS (so only flags it allows).
 */
export async function startMaster(opts: {
  cwd: string;
  nodeArgs: readonly string[];
  masterArgs: readonly string[];
  raiseFdLimit: boolean;
  startTimeoutMs: number;
}): Promise<MasterChild> {
  const argv = ['bin/flint', 'master', ...opts.masterArgs];
  const nodeOptions = [process.env['NODE_OPTIONS'] ?? '', ...opts.nodeArgs].join(' ').trim();
  const env = nodeOptions === '' ? process.env : { ...process.env, NODE_OPTIONS: nodeOptions };
  const child = spawnTracked(argv, opts.raiseFdLimit, opts.cwd, 'ignore', env);
  let stopping = false;
  const exited = exitPromise(child, 'the master', () => stopping);
  const logs: MasterLogCounts = { info: 0, warn: 0, error: 0, other: 0 };
  const problems: string[] = [];
  const started = new Promise<{ rpcPort: number; webUiPort: number }>((resolve) => {
    eachLine(child.stderr as NodeJS.ReadableStream, (line) => {
      let entry: { level?: number; msg?: string; rpcPort?: number; webUiPort?: number } | undefined;
      try {
        entry = JSON.parse(line) as typeof entry;
      } catch {
        entry = undefined;
      }
      const level = entry?.level;
      if (level === 30) logs.info++;
      else if (level === 40) logs.warn++;
      else if (level !== undefined && level >= 50) logs.error++;
      else logs.other++;
      if (level === undefined || level >= 40) {
        problems.push(line.slice(0, 400));
        if (problems.length > 10) problems.shift();
      }
      if (entry?.rpcPort !== undefined && entry.webUiPort !== undefined && entry.msg?.startsWith('Master started')) {
        resolve({ rpcPort: entry.rpcPort, webUiPort: entry.webUiPort });
      }
    });
  });
  eachLine(child.stdout as NodeJS.ReadableStream, (line) => process.stderr.write(`[master stdout] ${line}\n`));
  const stop = async (): Promise<void> => {
    stopping = true;
    // SIGTERM: the master shuts down cleanly (and writes its --cpu-prof profile, if asked for).
    await stopChild(child, 'SIGTERM', 15_000);
  };
  try {
    const ports = await Promise.race([started, exited, rejectAfter(opts.startTimeoutMs, `the master did not start within ${opts.startTimeoutMs} ms`)]);
    return { pid: child.pid as number, ...ports, logs, problems, exited, stop };
  } catch (err) {
    await stop();
    throw new Error(`${(err as Error).message}; its last log lines:\n${problems.join('\n')}`, { cause: err });
  }
}

// ---- the simulators ---------------------------------------------------------------------------------------

export interface SimChild {
  readonly pid: number;
  readonly config: SimConfig;
  readonly exited: Promise<never>;
  /** Rejects when the simulator reports a failure. */
  readonly failed: Promise<never>;
  /** Resolves when every worker of this simulator is registered. */
  readonly registered: Promise<SimStats>;
  send(command: 'register' | 'stats' | 'stop'): void;
  stats(): Promise<SimStats>;
  stop(): Promise<void>;
}

export async function startSim(opts: { cwd: string; script: string; config: SimConfig; raiseFdLimit: boolean; startTimeoutMs: number }): Promise<SimChild> {
  const child = spawnTracked([process.execPath, opts.script, JSON.stringify(opts.config)], opts.raiseFdLimit, opts.cwd, 'pipe');
  let stopping = false;
  const exited = exitPromise(child, `the worker simulator (workers ${opts.config.first}..)`, () => stopping);
  const statsWaiters: Array<(s: SimStats) => void> = [];
  let onReady: (pid: number) => void = () => {};
  let onRegistered: (s: SimStats) => void = () => {};
  let onFailed: (reason: string) => void = () => {};
  const ready = new Promise<number>((resolve) => (onReady = resolve));
  const registered = new Promise<SimStats>((resolve) => (onRegistered = resolve));
  const failed = new Promise<never>((_, reject) => (onFailed = (reason) => reject(new Error(`worker simulator: ${reason}`))));
  failed.catch(() => {});
  eachLine(child.stdout as NodeJS.ReadableStream, (line) => {
    if (!line.startsWith(SIM_MARKER)) {
      process.stderr.write(`[sim] ${line}\n`);
      return;
    }
    const event = JSON.parse(line.slice(SIM_MARKER.length)) as SimEvent;
    if (event.event === 'ready') onReady(event.pid);
    else if (event.event === 'registered') onRegistered(event.stats);
    else if (event.event === 'stats') statsWaiters.shift()?.(event.stats);
    else onFailed(event.reason);
  });
  eachLine(child.stderr as NodeJS.ReadableStream, (line) => process.stderr.write(`[sim] ${line}\n`));
  const send = (command: string): void => {
    child.stdin?.write(`${command}\n`);
  };
  const stop = async (): Promise<void> => {
    stopping = true;
    child.stdin?.end();
    await stopChild(child, 'SIGTERM', 3_000);
  };
  try {
    await Promise.race([ready, exited, failed, rejectAfter(opts.startTimeoutMs, `the worker simulator did not start within ${opts.startTimeoutMs} ms`)]);
  } catch (err) {
    await stop();
    throw err;
  }
  return {
    pid: child.pid as number,
    config: opts.config,
    exited,
    failed,
    registered,
    send,
    stats: () =>
      Promise.race([
        new Promise<SimStats>((resolve) => {
          statsWaiters.push(resolve);
          send('stats');
        }),
        exited,
        failed,
        rejectAfter(10_000, 'the worker simulator did not answer `stats` within 10 s'),
      ]),
    stop,
  };
}
