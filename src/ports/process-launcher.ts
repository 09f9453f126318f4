// ProcessLauncher: the port through which a worker starts and stops executor and driver processes.
//
// Contract:
// - `launch` starts `argv` directly (argv[0] is the executable): never through a shell, so nothing in a
//   message can be interpreted as shell syntax. It throws only when the process could not be created; an
//   exit, however early, is reported once through `onExit`.
// - Each process leads its own process group, and `kill` signals the whole group, so helpers a process
//   started die with it.
// - A launched process's stdin is a pipe held by the launcher's process. When that process dies, even by
//   kill -9, the pipe closes; Flint's child programs treat end-of-stdin as "my parent is gone" and exit.
// - stdout and stderr are appended to the given files. A launcher may roll them (Spark's RollingFileAppender):
//   the older parts then sit next to each file as `<file>--<suffix>` or `<file>--<suffix>.gz`, oldest first by
//   name (src/io/logs/rolled-files.ts). Either way, a process's output is in its files before its exit is
//   reported, unless a process it left behind holds its output open past the launcher's grace period.
// - `stdin`, when given, is written to the pipe first (a child's credentials: src/io/child-process/
//   credential-line.ts). It is never logged or stored.
// - `onReady`, when given, makes the child's descriptor 3 a pipe; the first line the child writes there calls it
//   (a standby executor saying it has loaded: docs/standby-executors.md). A launcher may ignore it.
// - `cpus`, when given, binds the process, and every thread and process it starts, to those CPUs (Linux's
//   sched_setaffinity; flint.worker.executorCpus, src/worker/cpu-binding.ts) before it runs any of its program.
//   A launcher that cannot bind it throws: the launch fails rather than run unbound unnoticed.

export interface ProcessSpec {
  /** Unique among running processes, e.g. `executor/app-20260101000000-0000/3`. */
  readonly key: string;
  readonly argv: readonly string[];
  readonly env: Readonly<Record<string, string>>;
  readonly cwd: string;
  readonly stdoutPath: string;
  readonly stderrPath: string;
  /** Written to the child's stdin pipe at once; the pipe then stays open. */
  readonly stdin?: string;
  /** Called once, when the child writes its first line to descriptor 3. */
  readonly onReady?: () => void;
  /** The CPUs to bind the process to; absent: not bound. */
  readonly cpus?: readonly number[] | undefined;
}

export interface ProcessExit {
  readonly key: string;
  /** Exit code, or null when the process was ended by a signal. */
  readonly code: number | null;
  readonly signal: string | null;
}

export interface LaunchedProcess {
  readonly key: string;
  readonly pid: number;
}

export interface ProcessLauncher {
  launch(spec: ProcessSpec, onExit: (exit: ProcessExit) => void): LaunchedProcess;
  /** Signals the process group of `key`; false when no such process runs. */
  kill(key: string, signal?: NodeJS.Signals): boolean;
  /** SIGTERM to every group, then SIGKILL to the survivors after `graceMs`; resolves when all have exited. */
  killAll(graceMs: number): Promise<void>;
  running(): string[];
}
