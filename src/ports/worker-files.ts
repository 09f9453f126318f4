// WorkerFiles: the port through which a worker touches its work dir (Spark's `Worker` creates the app and executor
// directories, writes nothing else, and leaves removal to WorkDirCleanup). `NodeWorkerFiles`
// (src/io/worker-files/node-worker-files.ts) is the real one; `MemoryWorkerFiles` its in-memory twin.
//
// Contract:
// - Every path it is given or names lies inside the work dir; a path outside it is refused (a rejected promise),
//   whatever ids a message carried. Names of directories to remove must be plain ids.
// - Nothing here is fatal to the worker: a failure is reported to the caller (a rejection, or an error message
//   for `fetchAppResource`), which decides.

export interface ProcessDirSpec {
  /** The process's working directory; created with its parents. */
  readonly cwd: string;
  /** True for an executor: its directory must not exist yet (Spark's ExecutorRunner fails otherwise). */
  readonly cwdMustBeNew: boolean;
  /** Created (or truncated) holding `stderrHeader`; the process's stderr is appended after it. */
  readonly stderrPath: string;
  readonly stderrHeader: string;
  readonly stdoutPath: string;
}

export interface WorkerFiles {
  /** The absolute work dir. */
  readonly workDir: string;
  /** Creates the work dir if needed and checks it can be written; rejects with a ConfigError naming `--work-dir`. */
  prepareWorkDir(): Promise<void>;
  /** Creates a process's directory and its stderr header (DriverRunner/ExecutorRunner before the launch). */
  prepareProcessDir(spec: ProcessDirSpec): Promise<void>;
  /**
   * Fetches a cluster-mode driver's app resource (an absolute path or a file:// URL) to `localPath`, unless a file
   * is there already. Resolves with an error message, or undefined on success.
   */
  fetchAppResource(resource: string, localPath: string): Promise<string | undefined>;
  /** Removes `<workDir>/<name>` (an app's directory) with everything in it; a name that is not a plain id is refused. */
  removeAppDir(name: string): Promise<void>;
  /** The directories directly under the work dir, not in `keep`, with no file modified at or after `beforeMs`. */
  oldAppDirs(beforeMs: number, keep: ReadonlySet<string>): Promise<string[]>;
}
