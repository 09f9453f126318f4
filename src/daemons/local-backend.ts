// Local mode's executor (Spark's LocalSchedulerBackend): the driver's own process is the application's one
// executor, with N task threads, and no master or worker runs. It is the executor program's backend
// (executor-backend.ts) started here instead of by a worker, so tasks take the same path as on a cluster: the
// driver's scheduler offers them over RPC (loopback, authenticated with a key made for this context), the
// executor runs them in task threads, map output is written to shuffle files and read back, from the disk or
// through a shuffle service on the driver's own env (Spark's local mode reads its block manager's files the same
// way). Only the master's part is left out: the executor is granted at once, and nothing relaunches it.
// docs/local-mode.md.

import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Credential } from '../rpc/auth.ts';
import type { RpcEnv } from '../rpc/index.ts';
import type { Logger } from '../util/logger.ts';
import { runExecutorBackend } from './executor-backend.ts';
import type { WarmThread } from '../io/executor/task-pool.ts';
import { ShuffleService } from './shuffle-service.ts';

/** Spark's SparkContext.DRIVER_IDENTIFIER: local mode's one executor is the driver. */
export const LOCAL_EXECUTOR_ID = 'driver';
/** How long stop() waits for the executor to end once the driver has told it to stop. */
const STOP_TIMEOUT_MS = 10_000;

export interface LocalBackendParts {
  /** The driver's env: the executor dials it, and it serves the executor's shuffle files. */
  readonly env: RpcEnv;
  /** `flint://CoarseGrainedScheduler@host:port` (DriverRuntime.schedulerUrl). */
  readonly schedulerUrl: string;
  readonly appId: string;
  readonly threads: number;
  /** The key the executor proves (256 random bits, made for this context; never written anywhere). */
  readonly key: string;
  /** A task thread started ahead, the executor's first (task-pool.ts WarmThread). */
  readonly warmThread?: WarmThread | undefined;
  readonly logger: Logger;
  /** Called by start(), before the executor dials: what a master's RegisteredApplication is on a cluster. */
  readonly registered: (appId: string, credential: Credential) => void;
  /** The executor ended while the context was running (it does only on a failure). */
  readonly lost: (reason: string) => void;
}

export class LocalBackend {
  /** What the executor proves to the driver; the driver's keyring accepts only this. */
  readonly credential: Credential;
  readonly #parts: LocalBackendParts;
  /** `<tmp>/flint-local-…/`: the executor's directory, its code cache and its shuffle files, removed by stop(). */
  readonly #dir: string;
  #exited: Promise<number> | undefined;
  #stopping = false;

  constructor(parts: LocalBackendParts) {
    this.#parts = parts;
    this.credential = { principal: `executor:${parts.appId}`, key: parts.key };
    this.#dir = mkdtempSync(join(tmpdir(), `flint-${parts.appId}-`));
  }

  /** Starts the executor in this process; it registers with the driver as a worker's executor would. */
  start(): void {
    const { env, appId, threads, logger } = this.#parts;
    this.#parts.registered(appId, this.credential);
    // The layout a worker gives its executors (<workDir>/<appId>/<executorId>, ../code, ../shuffle).
    const workDir = join(this.#dir, appId, LOCAL_EXECUTOR_ID);
    mkdirSync(workDir, { recursive: true });
    new ShuffleService(env, this.#dir, logger, true).start();
    this.#exited = runExecutorBackend({
      launch: {
        driverUrl: this.#parts.schedulerUrl,
        executorId: LOCAL_EXECUTOR_ID,
        appId,
        hostname: 'localhost',
        cores: threads,
        // The shuffle service the executor's map output is served by: the driver's env.
        workerUrl: this.#parts.schedulerUrl,
      },
      credential: this.credential,
      logger: logger.child({ executorId: LOCAL_EXECUTOR_ID }),
      workDir,
      threadsAtStart: true,
      warmThread: this.#parts.warmThread,
    });
    void this.#exited.then(
      (code) => {
        if (!this.#stopping) this.#parts.lost(`the local executor stopped (code ${code}); see the log above for why`);
      },
      (err: unknown) => {
        if (!this.#stopping) this.#parts.lost(`the local executor failed: ${err instanceof Error ? err.message : String(err)}`);
      },
    );
  }

  /** Local mode has no master to ask: the one executor stays for the context's life. */
  requestTotalExecutors(): Promise<boolean> {
    return Promise.resolve(false);
  }

  killExecutors(): Promise<boolean> {
    return Promise.resolve(false);
  }

  /**
   * Waits for the executor to end (the driver's scheduler has told it to stop) and removes its files; an executor
   * that does not end in time is left to the process's exit.
   */
  async stop(): Promise<void> {
    this.#stopping = true;
    if (this.#exited === undefined) await this.#parts.warmThread?.worker.terminate(); // never started: no pool took it
    const exited = this.#exited;
    if (exited !== undefined) {
      let timer: NodeJS.Timeout | undefined;
      const late = new Promise<void>((resolve) => (timer = setTimeout(resolve, STOP_TIMEOUT_MS)));
      await Promise.race([exited.catch(() => 0), late]);
      clearTimeout(timer);
    }
    rmSync(this.#dir, { recursive: true, force: true });
  }
}
