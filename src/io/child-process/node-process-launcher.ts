// The ProcessLauncher port on node:child_process (see src/ports/process-launcher.ts for the contract).
//
// Without rolling, the child's stdout and stderr are the log files' own descriptors: the child writes them
// directly. With rolling (flint.executor.logs.rolling.*), they are pipes that this process feeds into a
// RollingFileAppender each, as Spark's ExecutorRunner and DriverRunner start a FileAppender on the process's
// streams; the exit is then reported once both appenders have flushed and closed their files.

import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, openSync, closeSync } from 'node:fs';
import { dirname } from 'node:path';
import type { Readable } from 'node:stream';
import { finished } from 'node:stream/promises';
import type { LaunchedProcess, ProcessExit, ProcessLauncher, ProcessSpec } from '../../ports/process-launcher.ts';
import type { LogRollingConfig } from '../../worker/log-rolling-config.ts';
import { RollingFileAppender } from '../logs/rolling-file.ts';
import { boundArgv, requireTaskset } from './cpu-affinity.ts';

export interface NodeProcessLauncherOptions {
  /** Roll every process's stdout and stderr so (`logRollingFromConf`); undefined: no rolling. */
  readonly rolling?: LogRollingConfig;
  /** The appenders' clock (milliseconds since the epoch); the system clock by default. */
  readonly now?: () => number;
  /** An appender failed to roll, prune or write (it carries on); for the daemon's log. */
  readonly onLogError?: (err: Error, what: string) => void;
  /**
   * With rolling: how long after the exit to wait for the output pipes to close. A helper the process left
   * running may hold them open; the exit is then reported after this, and what still comes is appended.
   */
  readonly outputGraceMs?: number;
  /**
   * The taskset that binds a process whose spec names CPUs (cpu-affinity.ts's cpuBinder); without it such a
   * launch throws.
   */
  readonly taskset?: string;
}

/** Default of `outputGraceMs`. */
export const OUTPUT_GRACE_MS = 2_000;

interface Running {
  readonly child: ChildProcess;
  readonly exited: Promise<void>;
}

export class NodeProcessLauncher implements ProcessLauncher {
  readonly #running = new Map<string, Running>();
  readonly #options: NodeProcessLauncherOptions;

  constructor(options: NodeProcessLauncherOptions = {}) {
    this.#options = options;
  }

  launch(spec: ProcessSpec, onExit: (exit: ProcessExit) => void): LaunchedProcess {
    if (this.#running.has(spec.key)) throw new Error(`a process with key ${spec.key} is already running`);
    const [file, ...args] = spec.cpus === undefined ? spec.argv : boundArgv(requireTaskset(this.#options.taskset, spec.key), spec.cpus, spec.argv);
    if (file === undefined || spec.argv.length === 0) throw new Error(`process ${spec.key} has an empty argv`);
    mkdirSync(spec.cwd, { recursive: true });
    mkdirSync(dirname(spec.stdoutPath), { recursive: true });
    mkdirSync(dirname(spec.stderrPath), { recursive: true });
    const out = openSync(spec.stdoutPath, 'a');
    const err = openSync(spec.stderrPath, 'a');
    const rolling = this.#options.rolling;
    let child: ChildProcess;
    try {
      child = spawn(file, args, {
        cwd: spec.cwd,
        env: { ...spec.env },
        stdio: [...(rolling === undefined ? (['pipe', out, err] as const) : (['pipe', 'pipe', 'pipe'] as const)), ...(spec.onReady === undefined ? [] : (['pipe'] as const))],
        detached: true, // its own process group, so kill() reaches everything it starts
        shell: false,
      });
    } finally {
      closeSync(out);
      closeSync(err);
    }
    const flushed = rolling === undefined ? Promise.resolve() : this.#appendOutput(child, spec, rolling);
    // The pipe stays open for the child's lifetime; its end tells the child that this process is gone.
    child.stdin?.on('error', () => {});
    if (spec.stdin !== undefined) child.stdin?.write(spec.stdin);
    if (spec.onReady !== undefined) onFirstLine(child.stdio[3] as Readable | null | undefined, spec.onReady);
    let resolveExited: () => void = () => {};
    const exited = new Promise<void>((resolve) => (resolveExited = resolve));
    let reported = false;
    const report = (code: number | null, signal: string | null): void => {
      if (reported) return;
      reported = true;
      this.#running.delete(spec.key);
      resolveExited();
      onExit({ key: spec.key, code, signal });
    };
    const reportWhenFlushed = (code: number | null, signal: string | null): void => {
      if (rolling === undefined) return report(code, signal);
      let grace: NodeJS.Timeout | undefined;
      const waited = new Promise<void>((resolve) => (grace = setTimeout(resolve, this.#options.outputGraceMs ?? OUTPUT_GRACE_MS)));
      void Promise.race([flushed, waited]).then(() => {
        clearTimeout(grace);
        report(code, signal);
      });
    };
    child.once('error', () => reportWhenFlushed(child.exitCode ?? 127, null));
    child.once('exit', (code, signal) => reportWhenFlushed(code, signal));
    if (child.pid === undefined) {
      // spawn failed (e.g. ENOENT); 'error' reports the exit asynchronously.
      throw new Error(`could not start ${file} for ${spec.key}`);
    }
    this.#running.set(spec.key, { child, exited });
    return { key: spec.key, pid: child.pid };
  }

  /** Pipes the child's stdout and stderr into appenders; resolves when both have closed their files. */
  #appendOutput(child: ChildProcess, spec: ProcessSpec, rolling: LogRollingConfig): Promise<void> {
    const options = { now: this.#options.now, onError: this.#options.onLogError };
    const feed = (source: Readable | null, path: string): Promise<void> => {
      const appender = new RollingFileAppender(path, rolling, options);
      if (source === null) {
        appender.end();
      } else {
        source.pipe(appender);
        // A pipe destroyed without an end (a spawn that failed) still closes the file.
        source.once('close', () => {
          if (!appender.writableEnded) appender.end();
        });
        appender.once('error', (err) => {
          // The file cannot be opened: drop the output rather than let the child block on a full pipe.
          this.#options.onLogError?.(err, `appending to ${path} (output is dropped)`);
          source.unpipe(appender);
          source.resume();
        });
      }
      return finished(appender).catch(() => {});
    };
    return Promise.all([feed(child.stdout, spec.stdoutPath), feed(child.stderr, spec.stderrPath)]).then(() => {});
  }

  /** Writes `data` to the stdin pipe of the running process `key`; false when no such process runs. */
  writeStdin(key: string, data: string): boolean {
    const stdin = this.#running.get(key)?.child.stdin;
    if (stdin === null || stdin === undefined || stdin.destroyed) return false;
    stdin.write(data);
    return true;
  }

  kill(key: string, signal: NodeJS.Signals = 'SIGTERM'): boolean {
    const running = this.#running.get(key);
    const pid = running?.child.pid;
    if (pid === undefined) return false;
    try {
      process.kill(-pid, signal);
    } catch {
      try {
        running?.child.kill(signal);
      } catch {
        return false;
      }
    }
    return true;
  }

  async killAll(graceMs: number): Promise<void> {
    const all = [...this.#running.entries()];
    for (const [key] of all) this.kill(key, 'SIGTERM');
    const allExited = Promise.all(all.map(([, r]) => r.exited));
    let timer: NodeJS.Timeout | undefined;
    const grace = new Promise<'timeout'>((resolve) => (timer = setTimeout(() => resolve('timeout'), graceMs)));
    const outcome = await Promise.race([allExited.then(() => 'done' as const), grace]);
    clearTimeout(timer);
    if (outcome === 'timeout') {
      for (const [key] of all) this.kill(key, 'SIGKILL');
      await allExited;
    }
  }

  running(): string[] {
    return [...this.#running.keys()];
  }
}

/** Calls `ready` once the first newline arrives on `pipe`; the pipe is then let go. */
function onFirstLine(pipe: Readable | null | undefined, ready: () => void): void {
  if (pipe === null || pipe === undefined) return;
  pipe.on('error', () => {});
  const onData = (chunk: Buffer): void => {
    if (!chunk.includes(10)) return;
    pipe.off('data', onData);
    pipe.destroy();
    ready();
  };
  pipe.on('data', onData);
}
