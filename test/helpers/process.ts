// Child processes for integration tests: spawn with an argv array (never a shell string), collect stdout
// lines and stderr, read a JSON "ready" line with a bounded timeout, and kill reliably.
//
// Every child spawned here is also remembered in a module-level set and SIGKILLed when the test process
// exits, so a test that fails before its `after()` still leaves no process behind.

import { spawn, type ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { resolve } from 'node:path';

export const REPO_ROOT = resolve(import.meta.dirname, '../..');
/** Node 24 from node_modules (the system node is older and cannot run the sources). */
export const NODE_BIN = resolve(REPO_ROOT, 'node_modules/.bin/node');

export interface Exit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

export interface SpawnOptions {
  /** Names the child in error messages. */
  readonly label?: string;
  /** Added to the parent's environment. */
  readonly env?: Readonly<Record<string, string>>;
  readonly cwd?: string;
  /** `pipe` gives the child a stdin that stays open until `closeStdin()` (default `ignore`: /dev/null). */
  readonly stdin?: 'ignore' | 'pipe';
}

const live = new Set<ChildHandle>();
process.once('exit', () => {
  for (const child of live) child.killNow('SIGKILL');
});

export class ChildHandle {
  readonly label: string;
  readonly proc: ChildProcess;
  readonly pid: number;
  /** Complete stdout lines, in arrival order. */
  readonly stdoutLines: string[] = [];
  /** The stdout lines that are JSON objects, with the time (performance.now()) each was read. */
  readonly messages: Array<{ readonly at: number; readonly value: Record<string, unknown> }> = [];
  /** Resolves when the process has exited and its output is drained (never rejects). */
  readonly exited: Promise<Exit>;
  #exit: Exit | undefined;
  #stderr = '';
  #stdoutRest = '';
  readonly #listeners = new Set<() => void>();

  constructor(command: string, args: readonly string[], options: SpawnOptions = {}) {
    if (!Array.isArray(args) || args.some((a) => typeof a !== 'string')) throw new TypeError('args must be an array of strings');
    this.label = options.label ?? `${command} ${args.join(' ')}`;
    this.proc = spawn(command, [...args], {
      cwd: options.cwd ?? REPO_ROOT,
      env: { ...process.env, ...options.env },
      stdio: [options.stdin ?? 'ignore', 'pipe', 'pipe'],
      shell: false,
    });
    this.pid = this.proc.pid ?? -1;
    this.proc.stdin?.on('error', () => {}); // EPIPE once the child is gone
    this.proc.stdout?.setEncoding('utf8');
    this.proc.stderr?.setEncoding('utf8');
    this.proc.stdout?.on('data', (chunk: string) => this.#onStdout(chunk));
    this.proc.stderr?.on('data', (chunk: string) => {
      this.#stderr += chunk;
      this.#notify();
    });
    this.exited = new Promise<Exit>((done) => {
      // 'close' rather than 'exit': it comes after stdout and stderr are drained, so no output is missed.
      this.proc.once('close', (code: number | null, signal: NodeJS.Signals | null) => {
        this.#exit = { code, signal };
        live.delete(this);
        this.#notify();
        done(this.#exit);
      });
      this.proc.once('error', () => {
        // spawn failure: 'exit' may never come
        this.#exit ??= { code: null, signal: null };
        live.delete(this);
        this.#notify();
        done(this.#exit);
      });
    });
    // Without a pid the spawn failed; 'error' follows and settles `exited`.
    if (this.proc.pid === undefined) throw new Error(`cannot spawn ${this.label}`);
    live.add(this);
  }

  /** Set once the process has exited. */
  get exit(): Exit | undefined {
    return this.#exit;
  }

  get alive(): boolean {
    return this.#exit === undefined;
  }

  /** Everything written to stderr so far. */
  stderr(): string {
    return this.#stderr;
  }

  /** stderr lines that are JSON objects (pino lines), in order. */
  stderrJson(): Array<Record<string, unknown>> {
    const out: Array<Record<string, unknown>> = [];
    for (const line of this.#stderr.split('\n')) {
      const value = parseJsonObject(line);
      if (value !== undefined) out.push(value);
    }
    return out;
  }

  /** Called on every stdout/stderr chunk and on exit; returns an unsubscribe function. */
  onActivity(listener: () => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Writes to the child's stdin (spawned with `stdin: 'pipe'`), as a worker writes a credential line. */
  writeStdin(text: string): void {
    this.proc.stdin?.write(text);
  }

  /** Ends the child's stdin (spawned with `stdin: 'pipe'`), as a launcher that dies would. */
  closeStdin(): void {
    this.proc.stdin?.end();
  }

  /** Sends `signal` if the process is still running. Synchronous; does not wait. */
  killNow(signal: NodeJS.Signals): void {
    if (this.#exit !== undefined || this.pid <= 0) return; // never process.kill(-1 or 0, …)
    try {
      process.kill(this.pid, signal);
    } catch {
      // already gone
    }
  }

  /**
   * Kills the process and waits for its exit. A SIGTERM that is not obeyed within `graceMs` is followed by
   * SIGKILL; a SIGKILL'd process not reaped within `graceMs` is an error.
   */
  async kill(signal: NodeJS.Signals = 'SIGKILL', graceMs = 5_000): Promise<Exit> {
    if (this.#exit !== undefined) return this.#exit;
    this.killNow(signal);
    const first = await withTimeout(this.exited, graceMs);
    if (first !== undefined) return first;
    if (signal !== 'SIGKILL') {
      this.killNow('SIGKILL');
      const second = await withTimeout(this.exited, graceMs);
      if (second !== undefined) return second;
    }
    throw new Error(`${this.label} (pid ${this.pid}) did not exit within ${graceMs} ms of ${signal}`);
  }

  #onStdout(chunk: string): void {
    const at = performance.now();
    const text = this.#stdoutRest + chunk;
    const lines = text.split('\n');
    this.#stdoutRest = lines.pop() ?? '';
    for (const line of lines) {
      this.stdoutLines.push(line);
      const value = parseJsonObject(line);
      if (value !== undefined) this.messages.push({ at, value });
    }
    this.#notify();
  }

  #notify(): void {
    for (const listener of [...this.#listeners]) listener();
  }
}

function parseJsonObject(line: string): Record<string, unknown> | undefined {
  const trimmed = line.trim();
  if (!trimmed.startsWith('{')) return undefined;
  try {
    const value: unknown = JSON.parse(trimmed);
    return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

async function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T | undefined> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<undefined>((done) => {
    timer = setTimeout(() => done(undefined), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** Spawns `command` with `args` (an argv array: no shell is involved). */
export function spawnChild(command: string, args: readonly string[], options?: SpawnOptions): ChildHandle {
  return new ChildHandle(command, args, options);
}

/** Runs a TypeScript file under Node 24: `node_modules/.bin/node <script> <args>`. */
export function spawnNodeScript(script: string, args: readonly string[], options?: SpawnOptions): ChildHandle {
  return spawnChild(NODE_BIN, [resolve(REPO_ROOT, script), ...args], { label: `${script} ${args.join(' ')}`, ...options });
}

/**
 * Waits until one of the child's stdout JSON lines (from index `from`) satisfies `match`; returns it with
 * the time it was read. Fails after `timeoutMs`, or at once when the child exits first.
 */
export function waitForMessage(
  child: ChildHandle,
  match: (value: Record<string, unknown>) => boolean,
  { timeoutMs = 5_000, from = 0, what = 'a matching stdout line' }: { timeoutMs?: number; from?: number; what?: string } = {},
): Promise<{ at: number; value: Record<string, unknown> }> {
  return new Promise((resolvePromise, reject) => {
    let scanned = from;
    const check = (): boolean => {
      for (; scanned < child.messages.length; scanned++) {
        const entry = child.messages[scanned];
        if (entry !== undefined && match(entry.value)) {
          finish();
          resolvePromise(entry);
          return true;
        }
      }
      if (child.exit !== undefined) {
        finish();
        reject(new Error(`${child.label} exited (${describeExit(child.exit)}) before ${what}; stderr:\n${tail(child.stderr())}`));
        return true;
      }
      return false;
    };
    const timer = setTimeout(() => {
      finish();
      reject(new Error(`no ${what} from ${child.label} within ${timeoutMs} ms; stdout:\n${tail(child.stdoutLines.join('\n'))}\nstderr:\n${tail(child.stderr())}`));
    }, timeoutMs);
    const unsubscribe = child.onActivity(() => void check());
    function finish(): void {
      clearTimeout(timer);
      unsubscribe();
    }
    check();
  });
}

/** Reads the child's `{"ready":true,...}` line within `timeoutMs`. */
export async function readReadyLine(child: ChildHandle, timeoutMs = 10_000): Promise<Record<string, unknown>> {
  const { value } = await waitForMessage(child, (v) => v['ready'] === true, { timeoutMs, what: 'ready line' });
  return value;
}

/**
 * Polls `probe` like waitFor while `child` runs: fails at once, with its output, if the child exits first, and on a
 * timeout the error shows the child's stdout and stderr too.
 */
export async function waitForChild<T>(
  child: ChildHandle,
  probe: () => T | undefined | false | Promise<T | undefined | false>,
  { timeoutMs = 5_000, intervalMs = 10, what = 'the condition' }: { timeoutMs?: number; intervalMs?: number; what?: string } = {},
): Promise<T> {
  const output = () => `stdout:\n${tail(child.stdoutLines.join('\n'))}\nstderr:\n${tail(child.stderr())}`;
  const exitedFirst = Symbol('exited');
  let result: T | typeof exitedFirst;
  try {
    result = await waitFor<T | typeof exitedFirst>(
      async () => {
        const value = await probe();
        if (value !== undefined && value !== false) return value;
        return child.exit === undefined ? undefined : exitedFirst;
      },
      { timeoutMs, intervalMs, what: `${what} (${child.label})` },
    );
  } catch (err) {
    throw new Error(`${(err as Error).message}; ${output()}`, { cause: err });
  }
  if (result === exitedFirst) throw new Error(`${child.label} exited (${describeExit(child.exit as Exit)}) before ${what}; ${output()}`);
  return result;
}

/**
 * Polls `probe` until it returns something other than undefined/false, at most `timeoutMs` and
 * `timeoutMs / intervalMs + 1` times; then throws naming `what`.
 */
export async function waitFor<T>(
  probe: () => T | undefined | false | Promise<T | undefined | false>,
  { timeoutMs = 5_000, intervalMs = 10, what = 'the condition' }: { timeoutMs?: number; intervalMs?: number; what?: string } = {},
): Promise<T> {
  const deadline = performance.now() + timeoutMs;
  const maxTries = Math.ceil(timeoutMs / intervalMs) + 1;
  for (let i = 0; i < maxTries; i++) {
    const value = await probe();
    if (value !== undefined && value !== false) return value;
    if (performance.now() >= deadline) break;
    await new Promise<void>((done) => setTimeout(done, intervalMs));
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
}

/** Children a test file started; `killAll()` in `after()`. */
export class ChildGroup {
  readonly #children = new Set<ChildHandle>();

  add(child: ChildHandle): ChildHandle {
    this.#children.add(child);
    return child;
  }

  spawnNodeScript(script: string, args: readonly string[], options?: SpawnOptions): ChildHandle {
    return this.add(spawnNodeScript(script, args, options));
  }

  async killAll(): Promise<void> {
    const children = [...this.#children];
    this.#children.clear();
    const results = await Promise.allSettled(children.map((c) => c.kill('SIGKILL')));
    const failed = results.filter((r) => r.status === 'rejected');
    if (failed.length > 0) throw new Error(`${failed.length} child process(es) would not die`);
  }
}

export function describeExit(exit: Exit): string {
  return exit.signal !== null ? `signal ${exit.signal}` : `code ${exit.code}`;
}

export function tail(text: string, max = 4_000): string {
  return text.length > max ? `…${text.slice(-max)}` : text;
}

/**
 * Processes other than this one whose command line mentions `text`, or whose working directory is under it
 * (executors and drivers run in their work dirs). For checking that nothing of a test was left running.
 */
export function processesOf(text: string): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    try {
      if (readFileSync(`/proc/${entry}/cmdline`, 'utf8').includes(text) || readlinkSync(`/proc/${entry}/cwd`).startsWith(text)) pids.push(Number(entry));
    } catch {
      // gone meanwhile, or not ours to read
    }
  }
  return pids;
}

/** Each thread's Cpus_allowed_list of the process `pid` (`0-1`, `1`), one a thread. */
export function threadCpuLists(pid: number): string[] {
  return readdirSync(`/proc/${pid}/task`).map((tid) => /^Cpus_allowed_list:\s*(\S+)/m.exec(readFileSync(`/proc/${pid}/task/${tid}/status`, 'utf8'))?.[1] ?? '?');
}

/**
 * The executor processes of `appId` that run under `workDir` (a cluster's directory, or one worker's work dir):
 * their command line names the app and their working directory is under `workDir`. An app ID alone is not
 * enough: it is unique to one master only (Spark's `app-<yyyyMMddHHmmss>-<nnnn>`), and test files run at once
 * start clusters whose first apps registered in the same second share it.
 */
export function executorsOf(appId: string, workDir: string): number[] {
  const under = `${workDir.replace(/\/+$/, '')}/`;
  return processesOf(appId).filter((pid) => {
    try {
      return readlinkSync(`/proc/${pid}/cwd`).startsWith(under);
    } catch {
      return false;
    }
  });
}
