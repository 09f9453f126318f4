// A local cluster of real daemon processes: one master and N workers on 127.0.0.1, on free ports, sharing a
// fresh secret. `flint demo` and the benchmarks use it. Each daemon is the same `flint master` / `flint
// worker` command operators run; its log lines go to a file in the cluster's directory.

import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createWriteStream, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync, type WriteStream } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer } from 'node:net';
import { programPath } from '../util/install.ts';
import { parseNodeFlags } from '../conf/node-flags.ts';
import { FlintError } from '../errors.ts';
import { deriveUiToken } from '../io/http/ui-auth.ts';

const MAIN = programPath('cli');
const DEFAULT_START_TIMEOUT_MS = 45_000;
/** The shortest pause between a worker's registration attempts at registrationRetryInterval=40ms (fuzz ×0.5). */
const WORKER_MIN_RETRY_MS = 20;

export interface LocalClusterOptions {
  readonly workers: number;
  readonly coresPerWorker: number;
  readonly memoryPerWorker: string;
  /** Extra `--conf key=value` pairs for every daemon. */
  readonly conf?: readonly string[];
  /** Extra `--conf key=value` pairs for the worker of this index (from 0) alone, after `conf`. */
  readonly workerConf?: (index: number) => readonly string[];
  /** Where the work dirs, logs and secret go (default: a new temp dir, removed by `stop`). */
  readonly dir?: string;
  /** How long the master and the workers have to start and register (default 45 s). */
  readonly startTimeoutMs?: number;
  /** Aborting it during `start` stops the daemons started so far, and `start` rejects. */
  readonly signal?: AbortSignal;
  /** The Flint CLI the daemons run (default: this process's own, sources or build: src/util/install.ts). */
  readonly cli?: string;
}

/** One daemon of the cluster as callers see it. */
export interface DaemonInfo {
  readonly name: string;
  readonly pid: number | undefined;
  readonly rpcPort: number;
  readonly webUiPort: number;
}

function daemonInfo(d: RunningDaemon): DaemonInfo {
  return { name: d.name, pid: d.child.pid, rpcPort: d.rpcPort, webUiPort: d.webUiPort };
}

interface RunningDaemon {
  readonly name: string;
  readonly child: ChildProcess;
  readonly log: WriteStream;
  readonly exited: Promise<void>;
  rpcPort: number;
  webUiPort: number;
}

export class LocalCluster {
  readonly dir: string;
  readonly secretFile: string;
  readonly #ownsDir: boolean;
  /** The daemons' command before their arguments: Node flags, then the CLI. */
  readonly #command: readonly string[];
  readonly #daemons: RunningDaemon[] = [];
  masterUrl = '';
  masterWebUiUrl = '';
  /** The token of the daemons' web UIs: derived from the cluster's secret, or the `flint.ui.token` it was given. */
  uiToken: string;

  private constructor(dir: string, ownsDir: boolean, command: readonly string[]) {
    this.dir = dir;
    this.#ownsDir = ownsDir;
    this.#command = command;
    this.secretFile = join(dir, 'secret');
    const secret = randomBytes(24).toString('hex');
    writeFileSync(this.secretFile, `${secret}\n`, { mode: 0o600 });
    this.uiToken = deriveUiToken(secret);
  }

  /** The master web UI's login URL: opening it logs a browser in (a credential, docs/security.md). */
  get masterLoginUrl(): string {
    return `${this.masterWebUiUrl}/?token=${encodeURIComponent(this.uiToken)}`;
  }

  /** Starts the master and the workers together, and resolves once every worker has registered with the master. */
  static async start(opts: LocalClusterOptions): Promise<LocalCluster> {
    const command = [...daemonNodeFlags(), opts.cli ?? MAIN]; // a bad FLINT_DAEMON_NODE_OPTS: nothing created
    const dir = opts.dir ?? mkdtempSync(join(tmpdir(), 'flint-local-'));
    mkdirSync(dir, { recursive: true });
    const cluster = new LocalCluster(dir, opts.dir === undefined, command);
    const timeoutMs = opts.startTimeoutMs ?? DEFAULT_START_TIMEOUT_MS;
    try {
      opts.signal?.throwIfAborted();
      const uiToken = (opts.conf ?? []).find((c) => c.startsWith('flint.ui.token='));
      if (uiToken !== undefined) cluster.uiToken = uiToken.slice('flint.ui.token='.length);
      const common = ['--conf', `flint.authenticate.secret.file=${cluster.secretFile}`, ...(opts.conf ?? []).flatMap((c) => ['--conf', c])];
      // The master's port is chosen here so that the workers can start at the same time as the master; they
      // retry every 20–60 ms (flint.worker.registrationRetryInterval=40ms) until it listens, for the whole start
      // timeout. A worker's first retries are its only fast ones (flint.worker.initialRegistrationRetries, 6 by
      // default: about a quarter of a second); after them it waits 30–90 s, so a master that took longer to
      // start (a loaded machine) failed the cluster's start.
      const fastRetries = Math.ceil(timeoutMs / WORKER_MIN_RETRY_MS);
      const retries = ['--conf', `flint.worker.initialRegistrationRetries=${fastRetries}`, '--conf', `flint.worker.maxRegistrationRetries=${fastRetries + 10}`];
      const port = await freePort();
      cluster.masterUrl = `flint://127.0.0.1:${port}`;
      const started = (): boolean => true;
      const registered = (line: Record<string, unknown>): boolean => String(line['msg']).startsWith('Successfully registered with master');
      const starting = [cluster.#spawn('master', ['master', '--host', '127.0.0.1', '--port', String(port), '--webui-port', '0', ...common], timeoutMs, started)];
      for (let i = 0; i < opts.workers; i++) {
        const workDir = join(dir, `worker-${i + 1}`);
        starting.push(
          cluster.#spawn(
            `worker-${i + 1}`,
            ['worker', cluster.masterUrl, '--host', '127.0.0.1', '--port', '0', '--webui-port', '0', '--cores', String(opts.coresPerWorker), '--memory', opts.memoryPerWorker, '--work-dir', workDir, '--conf', 'flint.worker.registrationRetryInterval=40ms', ...retries, ...common, ...(opts.workerConf?.(i) ?? []).flatMap((c) => ['--conf', c])],
            timeoutMs,
            registered,
          ),
        );
      }
      const all = Promise.all(starting);
      const [master] = await (opts.signal === undefined ? all : Promise.race([all, rejectOnAbort(opts.signal)]));
      cluster.masterWebUiUrl = `http://127.0.0.1:${(master as RunningDaemon).webUiPort}`;
      return cluster;
    } catch (err) {
      await cluster.stop({ keepDir: opts.signal?.aborted !== true });
      throw err;
    }
  }

  /** The worker processes, for tests and benchmarks that kill one. */
  get workers(): readonly DaemonInfo[] {
    return this.#daemons.filter((d) => d.name.startsWith('worker')).map(daemonInfo);
  }

  /** The master process (the fuzzer reads its pid and RPC port). */
  get master(): DaemonInfo | undefined {
    const d = this.#daemons.find((x) => x.name === 'master');
    return d === undefined ? undefined : daemonInfo(d);
  }

  async masterJson(): Promise<MasterJson> {
    const res = await fetch(`${this.masterWebUiUrl}/json`, { headers: { authorization: `Bearer ${this.uiToken}` } });
    return (await res.json()) as MasterJson;
  }

  /**
   * Resolves once every worker's standby executors (docs/standby-executors.md) have loaded and wait: the cluster
   * at rest, as an application finds a cluster that has been up for a while. Rejects after `timeoutMs`.
   */
  async awaitStandbys(timeoutMs = 30_000): Promise<void> {
    const deadline = performance.now() + timeoutMs;
    const auth = { headers: { authorization: `Bearer ${this.uiToken}` } };
    for (let attempt = 0; attempt < 10_000; attempt++) {
      const master = await this.masterJson();
      const workers = await Promise.all(
        master.workers.map(async (w) => (await (await fetch(`${w.webuiaddress}/json`, auth)).json()) as { standbyexecutors?: { ready: number; starting: number } }),
      );
      // A worker with standbys off lists none; one still registering or starting them shows none ready yet.
      if (workers.length > 0 && workers.every((w) => w.standbyexecutors === undefined || (w.standbyexecutors.starting === 0 && w.standbyexecutors.ready > 0))) return;
      if (performance.now() > deadline) throw new Error(`the workers' standby executors were not ready within ${timeoutMs} ms: ${JSON.stringify(workers.map((w) => w.standbyexecutors))}`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }

  /**
   * SIGTERM to the workers (all at once), then to the master; SIGKILL to a daemon still running after `graceMs`.
   * The grace outlasts a worker's own (10 s to stop its executors): a worker killed first would leave them
   * running. Removes the directory it made.
   */
  async stop({ keepDir = false, graceMs = 15_000 }: { keepDir?: boolean; graceMs?: number } = {}): Promise<void> {
    const stopOne = async (d: RunningDaemon): Promise<void> => {
      if (d.child.exitCode === null && d.child.signalCode === null) d.child.kill('SIGTERM');
      const timer = setTimeout(() => d.child.kill('SIGKILL'), graceMs);
      await d.exited;
      clearTimeout(timer);
      await new Promise<void>((resolve) => d.log.end(resolve));
    };
    const [master, ...workers] = this.#daemons;
    await Promise.all(workers.map(stopOne));
    if (master !== undefined) await stopOne(master);
    this.#daemons.length = 0;
    if (this.#ownsDir && !keepDir) rmSync(this.dir, { recursive: true, force: true });
  }

  /**
   * Starts a daemon and resolves once it logged the line `ready` accepts (after its "started" line, which
   * gives its ports). Every line goes to `<dir>/<name>.log`.
   */
  async #spawn(name: string, args: string[], timeoutMs: number, ready: (line: Record<string, unknown>) => boolean): Promise<RunningDaemon> {
    const child = spawn(process.execPath, [...this.#command, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, FLINT_LOG_LEVEL: process.env['FLINT_LOG_LEVEL'] ?? 'info' } });
    const logPath = join(this.dir, `${name}.log`);
    const log = createWriteStream(logPath);
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    const daemon: RunningDaemon = { name, child, log, exited, rpcPort: 0, webUiPort: 0 };
    this.#daemons.push(daemon);
    child.stdout?.pipe(log, { end: false });
    let buffered = '';
    let isReady = false;
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new FlintError('FLINT_APP_FAILED', `${name} was not ready within ${timeoutMs} ms; see ${logPath}`)), timeoutMs);
      const onExit = (code: number | null): void => {
        clearTimeout(timer);
        reject(new FlintError('FLINT_APP_FAILED', `${name} exited (code ${code}) before it was ready; see ${logPath}`));
      };
      child.once('exit', onExit);
      child.stderr?.on('data', (chunk: Buffer) => {
        log.write(chunk);
        if (isReady) return;
        buffered += chunk.toString('utf8');
        let nl: number;
        while ((nl = buffered.indexOf('\n')) >= 0) {
          const line = parseJsonLine(buffered.slice(0, nl));
          buffered = buffered.slice(nl + 1);
          if (line === undefined) continue;
          if (typeof line['rpcPort'] === 'number' && typeof line['webUiPort'] === 'number') {
            daemon.rpcPort = line['rpcPort'];
            daemon.webUiPort = line['webUiPort'];
          }
          if (daemon.rpcPort !== 0 && ready(line)) {
            isReady = true;
            buffered = '';
            clearTimeout(timer);
            child.off('exit', onExit);
            return resolve();
          }
        }
      });
    });
    return daemon;
  }
}

export interface MasterJson {
  readonly url: string;
  readonly status: string;
  readonly workers: ReadonlyArray<{ readonly id: string; readonly state: string; readonly cores: number; readonly coresused: number; readonly webuiaddress: string }>;
  readonly activeapps: ReadonlyArray<{ readonly id: string; readonly name: string; readonly cores: number; readonly state: string }>;
  readonly completedapps: ReadonlyArray<{ readonly id: string; readonly name: string; readonly state: string }>;
}

/**
 * A loopback port nobody listens on right now, chosen below the kernel's ephemeral range: the port is given to
 * a daemon that binds it a moment later, and a port from the ephemeral range could meanwhile be handed to any
 * process binding port 0 (the workers starting alongside, for one). Falls back to a kernel-chosen port when
 * the ephemeral range leaves no room below it. Bounded tries.
 */
export async function freePort(): Promise<number> {
  const low = ephemeralLow();
  const from = 10_000;
  for (let attempt = 0; attempt < 50 && low - from > 1_000; attempt++) {
    const port = from + Math.floor(Math.random() * (low - from));
    if (await canBind(port)) return port;
  }
  return bindAny();
}

/** The daemons' default Node flags; bin/flint holds the same default. */
export const DEFAULT_DAEMON_NODE_OPTS = '--max-semi-space-size=16 --heap-growing-percent=50';

/**
 * The daemons' Node flags, as bin/flint gives them to `flint master` and `flint worker`: FLINT_DAEMON_NODE_OPTS,
 * by default a young generation of at most 16 MiB (docs/benchmarks.md) and an old space that grows by half its
 * live size between full collections (docs/fuzzing.md). Words that are not flags are refused.
 */
export function daemonNodeFlags(env: NodeJS.ProcessEnv = process.env): string[] {
  return parseNodeFlags(env['FLINT_DAEMON_NODE_OPTS'] ?? DEFAULT_DAEMON_NODE_OPTS, 'FLINT_DAEMON_NODE_OPTS');
}

function ephemeralLow(): number {
  try {
    const low = Number(readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/)[0]);
    return Number.isInteger(low) && low > 0 ? low : 32_768;
  } catch {
    return 32_768;
  }
}

function canBind(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

function bindAny(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address !== null ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

/** Never resolves; rejects with the signal's reason once it is aborted. */
function rejectOnAbort(signal: AbortSignal): Promise<never> {
  return new Promise<never>((_, reject) => {
    if (signal.aborted) reject(signal.reason);
    signal.addEventListener('abort', () => reject(signal.reason), { once: true });
  });
}

function parseJsonLine(line: string): Record<string, unknown> | undefined {
  if (!line.startsWith('{')) return undefined;
  try {
    const parsed: unknown = JSON.parse(line);
    return typeof parsed === 'object' && parsed !== null ? (parsed as Record<string, unknown>) : undefined;
  } catch {
    return undefined; // not a JSON line
  }
}
