// Standby executors (docs/standby-executors.md): a worker keeps `count` executor processes started ahead of
// time, their modules loaded, waiting on stdin (src/entry/executor.ts `--standby`). An executor launch that one
// can serve adopts it instead of starting a process: the standby's output files move into the executor's
// directory, and its stdin gets the adoption line (adoption-line.ts) and then the credential line, as a fresh
// executor's would. Starting Node and loading the executor program is most of an executor's start-up (about
// 300 ms of the 600 a first executor took on the benchmark's machine: docs/benchmarks.md, bench:tasks); an
// adopted standby registers with its driver within a few milliseconds. Spark has no such thing; Ray keeps
// idle worker processes started ahead of its tasks the same way.
//
// A launch is served by a standby only when the process would have been the same: an executor of the flint
// executor program, Node's heap limit the standby's (`flint.worker.standbyExecutors.memory`, 1g, the default
// `flint.executor.memory`), no Node options of the application's own, and the standby's environment (the
// worker's) with only FLINT_* variables added or changed (Node reads others, NODE_OPTIONS among them, when it
// starts). Anything else starts a process as before.
// An adopted standby is replaced REPLACE_AFTER_MS later, so that the new one does not take the CPU from the
// executors starting now; one that exits while it waits is restarted after a back-off. Every start also waits,
// while the worker runs processes of its own (executors and drivers), until they have left at least half its cores
// free in IDLE_CHECKS checks in a row, IDLE_CHECK_MS apart, for at most IDLE_WAIT_MAX_MS: a standby loading Node
// and the executor program took about 300 ms of CPU from the jobs running beside it, a fifth of a short job on two
// cores (docs/benchmarks.md, bench:shuffle).
//
// This wraps NodeProcessLauncher and keeps its contract (src/ports/process-launcher.ts): an adopted process is
// known by its executor's key for kill, running and its exit; standbys are not listed in running(); killAll
// ends them too.

import { appendFileSync, mkdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { LaunchedProcess, ProcessExit, ProcessLauncher, ProcessSpec } from '../../ports/process-launcher.ts';
import type { Logger } from '../../util/logger.ts';
import { STANDBY_FLAG, formatAdoptionLine, type Adoption } from './adoption-line.ts';
import { bindRunningProcess, requireTaskset } from './cpu-affinity.ts';

/** How long after an adoption the standby is replaced. */
export const REPLACE_AFTER_MS = 1_000;
/** How long after the worker registered its standbys start. */
export const START_AFTER_MS = 1_000;
/** How often a start waiting for the worker's processes to leave a core free checks again. */
export const IDLE_CHECK_MS = 1_000;
/** Checks in a row that must find a core free (a pause between a job's stages is shorter). */
export const IDLE_CHECKS = 3;
/** How long a start waits for that at most (it then goes ahead). */
export const IDLE_WAIT_MAX_MS = 60_000;
/** The first wait before restarting a standby that exited while it waited; doubled up to MAX_BACKOFF_MS. */
const FIRST_BACKOFF_MS = 1_000;
const MAX_BACKOFF_MS = 60_000;

/** The launcher a standby pool starts its processes with: NodeProcessLauncher. */
export interface StdinLauncher extends ProcessLauncher {
  writeStdin(key: string, data: string): boolean;
}

export interface StandbyOptions {
  /** How many standbys to keep (flint.worker.standbyExecutors); 0 turns them off. */
  readonly count: number;
  /** Node's heap limit of a standby, in MiB (flint.worker.standbyExecutors.memory). */
  readonly memoryMb: number;
  readonly nodeExecutable: string;
  /** The executor program, as the worker's executor specs name it. */
  readonly programPath: string;
  /** Where the standbys run and keep their output until adopted (`<workDir>/.standby`, never cleaned up as an app's). */
  readonly dir: string;
  /** The environment a standby starts with: the worker's, as an executor's before its own variables. */
  readonly env: Readonly<Record<string, string>>;
  readonly logger: Logger;
  /** Timers; the real ones by default. */
  readonly setTimer?: (fn: () => void, ms: number) => NodeJS.Timeout;
  /**
   * The cores the worker offers, and the cores the given processes kept busy since it was last asked (ProcessCpu):
   * a start waits while the worker's processes use at least half the cores. Without them, starts do not wait.
   */
  readonly cores?: number;
  readonly processCpu?: { sample(pids: readonly number[]): number };
  /** Milliseconds of a monotonic clock; performance.now() by default. */
  readonly now?: () => number;
  /** The taskset that binds an adopted standby to the CPUs its executor's spec names (cpu-affinity.ts). */
  readonly taskset?: string;
}

interface Standby {
  readonly key: string;
  readonly pid: number;
  readonly stdoutPath: string;
  readonly stderrPath: string;
  readonly startedAt: number;
  ready: boolean;
  /** The executor that adopted it: its key and exit callback. */
  owner?: { readonly key: string; readonly onExit: (exit: ProcessExit) => void };
}

export interface StandbyStatus {
  /** Standbys loaded and waiting. */
  readonly ready: number;
  /** Standbys still loading. */
  readonly starting: number;
  /** Launches served by a standby since the worker started. */
  readonly adopted: number;
}

export class StandbyExecutorLauncher implements ProcessLauncher {
  readonly #base: StdinLauncher;
  readonly #opts: StandbyOptions;
  readonly #setTimer: (fn: () => void, ms: number) => NodeJS.Timeout;
  readonly #now: () => number;
  /** Waiting to be adopted, oldest first. */
  #waiting: Standby[] = [];
  /** Adopted, by their executor's key. */
  readonly #adopted = new Map<string, Standby>();
  #next = 0;
  #adoptions = 0;
  #backoffMs = FIRST_BACKOFF_MS;
  #timer: NodeJS.Timeout | undefined;
  #stopped = false;
  /** The worker's processes started through this launcher (executors, adopted standbys, drivers): pid by key. */
  readonly #pids = new Map<string, number>();
  /** Since when a due start has waited for a free core (performance.now()), or undefined. */
  #waitingSince: number | undefined;
  /** Checks in a row that found a core free. */
  #freeChecks = 0;

  constructor(base: StdinLauncher, opts: StandbyOptions) {
    this.#base = base;
    this.#opts = opts;
    this.#setTimer = opts.setTimer ?? ((fn, ms) => setTimeout(fn, ms).unref());
    this.#now = opts.now ?? (() => performance.now());
  }

  /**
   * Starts the standbys `delayMs` from now (the worker's own start, and its neighbours' on a machine starting a
   * cluster, go first); what an earlier worker left in their directory is removed at once.
   */
  start(delayMs = START_AFTER_MS): void {
    try {
      rmSync(this.#opts.dir, { recursive: true, force: true });
      mkdirSync(this.#opts.dir, { recursive: true });
    } catch (err) {
      // The worker runs on without standbys: every executor is started as a process.
      this.#stopped = true;
      this.#opts.logger.warn({ dir: this.#opts.dir, err: (err as Error).message }, 'cannot prepare the standby executors\' directory; running without standbys');
      return;
    }
    this.#schedule(delayMs);
  }

  status(): StandbyStatus {
    const ready = this.#waiting.filter((s) => s.ready).length;
    return { ready, starting: this.#waiting.length - ready, adopted: this.#adoptions };
  }

  launch(spec: ProcessSpec, onExit: (exit: ProcessExit) => void): LaunchedProcess {
    const launched = this.#launch(spec, (exit) => {
      this.#pids.delete(spec.key);
      onExit(exit);
    });
    this.#pids.set(spec.key, launched.pid);
    return launched;
  }

  #launch(spec: ProcessSpec, onExit: (exit: ProcessExit) => void): LaunchedProcess {
    const adoption = this.#adoptionFor(spec);
    const standby = adoption === undefined ? undefined : this.#waiting.shift();
    if (adoption === undefined || standby === undefined) return this.#base.launch(spec, onExit);
    try {
      this.#adopt(standby, spec, adoption);
    } catch (err) {
      this.#opts.logger.warn({ processKey: spec.key, pid: standby.pid, err: (err as Error).message }, 'could not adopt a standby executor; starting a process');
      this.#base.kill(standby.key, 'SIGKILL');
      this.#schedule(REPLACE_AFTER_MS);
      return this.#base.launch(spec, onExit);
    }
    standby.owner = { key: spec.key, onExit };
    this.#adopted.set(spec.key, standby);
    this.#adoptions += 1;
    this.#opts.logger.info(
      { processKey: spec.key, pid: standby.pid, standbyMs: Math.round(performance.now() - standby.startedAt), ready: standby.ready },
      `adopted standby executor process ${standby.pid} for ${spec.key}`,
    );
    this.#schedule(REPLACE_AFTER_MS);
    return { key: spec.key, pid: standby.pid };
  }

  kill(key: string, signal?: NodeJS.Signals): boolean {
    return this.#base.kill(this.#adopted.get(key)?.key ?? key, signal);
  }

  async killAll(graceMs: number): Promise<void> {
    this.#stopped = true;
    clearTimeout(this.#timer);
    await this.#base.killAll(graceMs);
  }

  running(): string[] {
    const ownerOf = new Map([...this.#adopted.values()].map((s) => [s.key, (s.owner as { key: string }).key]));
    const waiting = new Set(this.#waiting.map((s) => s.key));
    return this.#base
      .running()
      .filter((key) => !waiting.has(key))
      .map((key) => ownerOf.get(key) ?? key);
  }

  /**
   * What a standby is told to become this process (see the header), else undefined: the argv must be the node
   * executable, the standby's heap limit, the executor program, then arguments only.
   */
  #adoptionFor(spec: ProcessSpec): Adoption | undefined {
    const { nodeExecutable, memoryMb, programPath } = this.#opts;
    const [node, heap, program, ...args] = spec.argv;
    if (!spec.key.startsWith('executor:') || node !== nodeExecutable || heap !== `--max-old-space-size=${memoryMb}` || program !== programPath) {
      return undefined;
    }
    const env = this.#addedEnv(spec);
    return env === undefined ? undefined : { args, env, cwd: spec.cwd };
  }

  /**
   * The variables `spec` adds to the standby's environment, when they are all FLINT_* ones (the worker gives a
   * child its own environment and the executor's variables over it); undefined when any other differs.
   */
  #addedEnv(spec: ProcessSpec): Record<string, string> | undefined {
    const own = this.#opts.env;
    const added: Record<string, string> = {};
    for (const [name, value] of Object.entries(spec.env)) {
      if (own[name] === value) continue;
      if (!name.startsWith('FLINT_')) return undefined;
      added[name] = value;
    }
    for (const name of Object.keys(own)) if (!Object.hasOwn(spec.env, name)) return undefined;
    return added;
  }

  /**
   * Binds the standby to the executor's CPUs when its spec names some, moves its output into the executor's files
   * (keeping the header the worker wrote there at the top), then hands it its executor and credential on stdin.
   */
  #adopt(standby: Standby, spec: ProcessSpec, adoption: Adoption): void {
    if (spec.cpus !== undefined) {
      // Before it is told to become the executor: its task threads, started once it has registered, inherit it.
      bindRunningProcess(requireTaskset(this.#opts.taskset, spec.key), spec.cpus, standby.pid);
    }
    const header = readFileSync(spec.stderrPath, 'utf8');
    renameSync(standby.stdoutPath, spec.stdoutPath);
    renameSync(standby.stderrPath, spec.stderrPath);
    appendFileSync(spec.stderrPath, `${header}(standby executor process ${standby.pid}, adopted for ${spec.key})\n`);
    const line = formatAdoptionLine(adoption) + (spec.stdin ?? '');
    if (!this.#base.writeStdin(standby.key, line)) throw new Error(`standby ${standby.pid} has exited`);
  }

  #schedule(ms: number): void {
    if (this.#stopped || this.#timer !== undefined) return;
    // A sample now, for the timer's check to compare with.
    this.#busyCores();
    this.#timer = this.#setTimer(() => {
      this.#timer = undefined;
      if (this.#waitForFreeCore()) this.#schedule(IDLE_CHECK_MS);
      else this.#fill();
    }, ms);
  }

  /** The cores the worker's processes kept busy since the last call (0 when not measured). */
  #busyCores(): number {
    return this.#opts.processCpu?.sample([...this.#pids.values()]) ?? 0;
  }

  /** Whether a due start should wait: the worker's processes have not left half its cores free for long enough. */
  #waitForFreeCore(): boolean {
    const cores = this.#opts.cores;
    if (cores === undefined || this.#waiting.length >= this.#opts.count) return false;
    const busy = this.#busyCores();
    const now = this.#now();
    this.#waitingSince ??= now;
    const waitedMs = now - this.#waitingSince;
    // A core free for one second may be a pause between two stages of a job: it must stay free IDLE_CHECKS
    // seconds in a row, unless the worker runs no process at all.
    this.#freeChecks = busy < cores / 2 ? this.#freeChecks + 1 : 0;
    const free = this.#pids.size === 0 || this.#freeChecks >= IDLE_CHECKS;
    if (!free && waitedMs < IDLE_WAIT_MAX_MS) return true;
    this.#freeChecks = 0;
    if (waitedMs > 0) {
      const busyCores = Number(busy.toFixed(2));
      const msg = free ? "starting a standby executor now that the worker's processes leave a core free" : "starting a standby executor although the worker's processes keep its cores busy";
      this.#opts.logger.info({ waitedMs: Math.round(waitedMs), busyCores }, msg);
    }
    this.#waitingSince = undefined;
    return false;
  }

  #fill(): void {
    while (!this.#stopped && this.#waiting.length < this.#opts.count) {
      const n = this.#next++;
      const key = `standby:${n}`;
      const stdoutPath = join(this.#opts.dir, `${n}.stdout`);
      const stderrPath = join(this.#opts.dir, `${n}.stderr`);
      const { nodeExecutable, memoryMb, programPath } = this.#opts;
      let standby: Standby;
      try {
        const launched = this.#base.launch(
          {
            key,
            argv: [nodeExecutable, `--max-old-space-size=${memoryMb}`, programPath, STANDBY_FLAG],
            env: this.#opts.env,
            cwd: this.#opts.dir,
            stdoutPath,
            stderrPath,
            onReady: () => {
              standby.ready = true;
              this.#backoffMs = FIRST_BACKOFF_MS;
            },
          },
          (exit) => this.#exited(standby, exit),
        );
        standby = { key, pid: launched.pid, stdoutPath, stderrPath, startedAt: performance.now(), ready: false };
      } catch (err) {
        this.#opts.logger.warn({ err: (err as Error).message }, 'could not start a standby executor');
        this.#retryLater();
        return;
      }
      this.#waiting.push(standby);
    }
  }

  #exited(standby: Standby, exit: ProcessExit): void {
    const owner = standby.owner;
    if (owner !== undefined) {
      this.#adopted.delete(owner.key);
      owner.onExit({ ...exit, key: owner.key });
      return;
    }
    this.#waiting = this.#waiting.filter((s) => s !== standby);
    // Its output goes into the log (the end of it), and its files away: a standby that keeps failing leaves none.
    const stderr = tailOf(standby.stderrPath);
    rmSync(standby.stdoutPath, { force: true });
    rmSync(standby.stderrPath, { force: true });
    if (this.#stopped) return;
    this.#opts.logger.warn(
      { pid: standby.pid, code: exit.code, signal: exit.signal, stderr },
      `a standby executor process exited before it was adopted (code ${exit.code}, signal ${exit.signal}); starting another in ${this.#backoffMs} ms`,
    );
    this.#retryLater();
  }

  #retryLater(): void {
    const wait = this.#backoffMs;
    this.#backoffMs = Math.min(this.#backoffMs * 2, MAX_BACKOFF_MS);
    this.#schedule(wait);
  }
}

/** The last 2,000 characters of a file, or '' when it cannot be read. */
function tailOf(path: string): string {
  try {
    return readFileSync(path, 'utf8').slice(-2_000);
  } catch {
    return '';
  }
}
