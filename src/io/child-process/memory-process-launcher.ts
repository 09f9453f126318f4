// The in-memory twin of the ProcessLauncher port (src/ports/process-launcher.ts): a "process" is a record that runs
// until it is killed or its test ends it, so a worker daemon can run in one process with no child (the daemons'
// in-memory tests: test/unit/daemons/in-memory-cluster.test.ts). It keeps the contract: one process per key, an exit
// reported once and never inside `launch`, `kill` answering false for a key that does not run, and `killAll` ending
// every one. A SIGTERM ends a process with no exit code (as a signal does); a test ends one its own way with `exit`.

import type { LaunchedProcess, ProcessExit, ProcessLauncher, ProcessSpec } from '../../ports/process-launcher.ts';

export interface MemoryProcess {
  readonly spec: ProcessSpec;
  readonly pid: number;
  /** The signals it was sent, in order. */
  readonly signals: NodeJS.Signals[];
  /** What was written to its stdin: `spec.stdin` at launch, then every writeStdin. */
  readonly stdin: string[];
}

export class MemoryProcessLauncher implements ProcessLauncher {
  readonly #running = new Map<string, { readonly process: MemoryProcess; readonly onExit: (exit: ProcessExit) => void }>();
  /** Every process ever launched, in order, for tests to look at. */
  readonly launched: MemoryProcess[] = [];
  #nextPid = 1_000;

  launch(spec: ProcessSpec, onExit: (exit: ProcessExit) => void): LaunchedProcess {
    if (this.#running.has(spec.key)) throw new Error(`a process with key ${spec.key} is already running`);
    if (spec.argv.length === 0) throw new Error(`process ${spec.key} has an empty argv`);
    const process: MemoryProcess = { spec, pid: this.#nextPid++, signals: [], stdin: spec.stdin === undefined ? [] : [spec.stdin] };
    this.#running.set(spec.key, { process, onExit });
    this.launched.push(process);
    return { key: spec.key, pid: process.pid };
  }

  kill(key: string, signal: NodeJS.Signals = 'SIGTERM'): boolean {
    const running = this.#running.get(key);
    if (running === undefined) return false;
    running.process.signals.push(signal);
    this.#end(key, { key, code: null, signal });
    return true;
  }

  async killAll(): Promise<void> {
    for (const key of [...this.#running.keys()]) this.kill(key, 'SIGTERM');
    await Promise.resolve();
  }

  running(): string[] {
    return [...this.#running.keys()];
  }

  /** Writes to the stdin of the running process `key` (recorded in its `stdin`); false when it does not run. */
  writeStdin(key: string, data: string): boolean {
    const running = this.#running.get(key);
    if (running === undefined) return false;
    running.process.stdin.push(data);
    return true;
  }

  /** The process `key` says it is ready (its `spec.onReady`, as a child writing its ready line); false when it does not run. */
  ready(key: string): boolean {
    const running = this.#running.get(key);
    if (running === undefined) return false;
    running.process.spec.onReady?.();
    return true;
  }

  /** Ends a running process as if it exited with `code` by itself; false when `key` does not run. */
  exit(key: string, code: number): boolean {
    if (!this.#running.has(key)) return false;
    this.#end(key, { key, code, signal: null });
    return true;
  }

  #end(key: string, exit: ProcessExit): void {
    const running = this.#running.get(key);
    if (running === undefined) return;
    this.#running.delete(key);
    queueMicrotask(() => running.onExit(exit)); // never inside the caller's own call, as a real exit
  }
}
