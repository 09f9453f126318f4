// Local mode's executor (Spark's LocalSchedulerBackend): the driver's own process is the application's one
// executor, with N task threads, and no master or worker runs. It is the executor program's backend
// (executor-backend.ts) started here instead of by a worker, so tasks take the same path as on a cluster: the
// driver's scheduler offers them by RPC, the executor runs them in task threads, map output is written to shuffle
// files and read back, from the disk or through a shuffle service. Only the master's part is left out: the
// executor is granted at once, and nothing relaunches it. docs/local-mode.md.
//
// The executor's endpoint lives on the driver's own env, as Spark's LocalEndpoint lives on the driver's RpcEnv:
// their messages (tasks and their partitions, status updates, results, shuffle blocks from the driver's shuffle
// service) are handed over in the process, by reference, never encoded or written to a socket. What crosses to a
// task thread is copied there as on a cluster (task-pool.ts).

import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { RpcEnv } from '../rpc/index.ts';
import type { RpcEndpointRef } from '../rpc/endpoint-ref.ts';
import type { Transport } from '../ports/transport.ts';
import type { Logger } from '../util/logger.ts';
import { runExecutorBackend } from './executor-backend.ts';
import type { WarmThread } from '../io/executor/task-pool.ts';
import { ShuffleService } from './shuffle-service.ts';

/** Spark's SparkContext.DRIVER_IDENTIFIER: local mode's one executor is the driver. */
export const LOCAL_EXECUTOR_ID = 'driver';
/** How long stop() waits for the executor to end once the driver has told it to stop. */
const STOP_TIMEOUT_MS = 10_000;

export interface LocalBackendParts {
  /** The driver's env: the executor's endpoint is hosted on it, and it serves the executor's shuffle files. */
  readonly env: RpcEnv;
  /** `flint://CoarseGrainedScheduler@host:port` (DriverRuntime.schedulerUrl). */
  readonly schedulerUrl: string;
  readonly appId: string;
  readonly threads: number;
  /** A task thread started ahead, the executor's first (task-pool.ts WarmThread). */
  readonly warmThread?: WarmThread | undefined;
  readonly logger: Logger;
  /** Called by start(), before the executor dials: what a master's RegisteredApplication is on a cluster. */
  readonly registered: (appId: string) => void;
  /** The executor ended while the context was running (it does only on a failure). */
  readonly lost: (reason: string) => void;
}

export class LocalBackend {
  readonly #parts: LocalBackendParts;
  /** `<tmp>/flint-local-…/`: the executor's directory, its code cache and its shuffle files, removed by stop(). */
  readonly #dir: string;
  #exited: Promise<number> | undefined;
  #stopping = false;

  constructor(parts: LocalBackendParts) {
    this.#parts = parts;
    this.#dir = mkdtempSync(join(tmpdir(), `flint-${parts.appId}-`));
  }

  /** Starts the executor in this process, on the driver's env; it registers with the driver as a worker's executor would. */
  start(): void {
    const { env, appId, threads, logger } = this.#parts;
    this.#parts.registered(appId);
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
      credential: undefined, // it dials nothing: its messages to the driver never leave the process
      logger: logger.child({ executorId: LOCAL_EXECUTOR_ID }),
      env: executorView(env),
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

/**
 * The driver's env as its in-process executor uses it: everything is the env's, but shutting the view down stops
 * only the endpoints set up through it (the executor's), never the driver's env.
 */
function executorView(env: RpcEnv): Transport {
  const own = new Set<string>();
  return {
    get id() {
      return env.id;
    },
    get address() {
      return env.address;
    },
    get settings() {
      return env.settings;
    },
    get keyring() {
      return env.keyring;
    },
    get credentialKey() {
      return env.credentialKey;
    },
    setupEndpoint(name, endpoint) {
      own.add(name);
      return env.setupEndpoint(name, endpoint);
    },
    stop(endpoint: RpcEndpointRef | string) {
      own.delete(typeof endpoint === 'string' ? endpoint : endpoint.name);
      return env.stop(endpoint);
    },
    endpointRef: (address) => env.endpointRef(address),
    setupEndpointRef: (address, name) => env.setupEndpointRef(address, name),
    peerOf: (peer) => env.peerOf(peer),
    async shutdown() {
      const names = [...own];
      own.clear();
      await Promise.all(names.map((name) => env.stop(name)));
    },
  };
}
