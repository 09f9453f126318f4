// The ProcessLauncher port on node:child_process (see src/ports/process-launcher.ts for the contract).

import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, openSync, closeSync } from 'node:fs';
import { dirname } from 'node:path';
import type { LaunchedProcess, ProcessExit, ProcessLauncher, ProcessSpec } from '../../ports/process-launcher.ts';

interface Running {
  readonly child: ChildProcess;
  readonly exited: Promise<void>;
}

export class NodeProcessLauncher implements ProcessLauncher {
  readonly #running = new Map<string, Running>();

  launch(spec: ProcessSpec, onExit: (exit: ProcessExit) => void): LaunchedProcess {
    if (this.#running.has(spec.key)) throw new Error(`a process with key ${spec.key} is already running`);
    const [file, ...args] = spec.argv;
    if (file === undefined) throw new Error(`process ${spec.key} has an empty argv`);
    mkdirSync(spec.cwd, { recursive: true });
    mkdirSync(dirname(spec.stdoutPath), { recursive: true });
    mkdirSync(dirname(spec.stderrPath), { recursive: true });
    const out = openSync(spec.stdoutPath, 'a');
    const err = openSync(spec.stderrPath, 'a');
    let child: ChildProcess;
    try {
      child = spawn(file, args, {
        cwd: spec.cwd,
        env: { ...spec.env },
        stdio: ['pipe', out, err],
        detached: true, // its own process group, so kill() reaches everything it starts
        shell: false,
      });
    } finally {
      closeSync(out);
      closeSync(err);
    }
    // The pipe stays open for the child's lifetime; its end tells the child that this process is gone.
    child.stdin?.on('error', () => {});
    if (spec.stdin !== undefined) child.stdin?.write(spec.stdin);
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
    child.once('error', () => report(child.exitCode ?? 127, null));
    child.once('exit', (code, signal) => report(code, signal));
    if (child.pid === undefined) {
      // spawn failed (e.g. ENOENT); 'error' reports the exit asynchronously.
      throw new Error(`could not start ${file} for ${spec.key}`);
    }
    this.#running.set(spec.key, { child, exited });
    return { key: spec.key, pid: child.pid };
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
