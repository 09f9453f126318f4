// The executor process: ExecutorMachine wired to a client-mode RpcEnv, a thread pool, the code cache and timers
// (Spark's CoarseGrainedExecutorBackend, reference §7.3, §7.4). The machine decides; this file carries out its
// effects and turns callbacks into inputs, one at a time (machine-host.ts).
//
// Bootstrap, as Spark does it: an env built from the startup conf asks the driver for the application's config
// (RetrieveAppConfig, up to 3 tries), so that the env the executor then lives on has the application's RPC
// settings (frame size, timeouts). Where they are the same (sameRpcSettings), the executor lives on the bootstrap
// env and registers over its connection; Spark always makes a second env. The machine's own RetrieveAppConfig ask
// is answered with that reply.

import { readdir, rm } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { FlintConf } from '../conf/flint-conf.ts';
import { RpcConnectionError, isFlintError } from '../errors.ts';
import { FRAME_MARGIN_BYTES } from '../executor/executor-config.ts';
import { ExecutorMachine, type ExecutorEffect, type ExecutorInput, type ExecutorLaunchArgs } from '../executor/index.ts';
import { loadAppCode, markUsed } from '../io/executor/load-app-code.ts';
import { TASKS_PER_THREAD, TaskPool, type PoolShuffle, type WarmThread } from '../io/executor/task-pool.ts';
import { shuffleSettings, storageLimitBytes } from '../io/executor/shuffle-settings.ts';
import { SHUFFLE_SERVICE_ENDPOINT, ShuffleServiceReplies, type ShuffleServiceMessage } from '../protocol/shuffle-messages.ts';
import {
  DriverReplies,
  DriverToExecutor,
  type AppConfigResponse,
  type TaskResultChunk,
  type ExecutorToDriver,
} from '../protocol/task-messages.ts';
import { formatEndpointAddress } from '../rpc/address.ts';
import type { Credential } from '../rpc/auth.ts';
import { readRpcSettings, RpcEnv, type RpcEndpointRef } from '../rpc/index.ts';
import type { Transport } from '../ports/transport.ts';
import type { Logger } from '../util/logger.ts';
import type { Static } from '@sinclair/typebox';
import { MachineHost, ReplyBook, SharedEffects, unknownEffect } from './machine-host.ts';
import type { SendBatching } from './send-batches.ts';
import { readMetricsEnabled } from '../io/metrics/metrics-enabled.ts';
import { ProcessFigures } from '../io/metrics/process-figures.ts';
import { systemClock, systemRngStreams } from './system.ts';
import { setFlagsFromString } from 'node:v8';

type StatusUpdateMessage = Extract<ExecutorToDriver, { readonly type: 'StatusUpdate' }>;

/** The StatusUpdates of one turn travel to the driver as one StatusUpdates (send-batches.ts). */
const STATUS_UPDATE_BATCHES: SendBatching = {
  type: 'StatusUpdate',
  wrap: (updates) => ({ type: 'StatusUpdates', updates: updates as StatusUpdateMessage[] }) satisfies ExecutorToDriver,
};

export interface ExecutorBackendOptions {
  /** The command line's arguments (`logUrls` from the worker's environment); the env gives the address. */
  readonly launch: Omit<ExecutorLaunchArgs, 'executorAddress'>;
  /**
   * What the executor proves to its driver (`executor:<appId>` and its application's key), which its worker gave
   * it on stdin; undefined when the cluster does not authenticate.
   */
  readonly credential: Credential | undefined;
  /** `--conf` pairs from the command line (the driver's flint.ssl.* block): they win over the app's conf. */
  readonly startupConf?: ReadonlyArray<readonly [string, string]> | undefined;
  readonly logger: Logger;
  /** The executor's directory (`<workDir>/<appId>/<execId>/`). */
  readonly workDir: string;
  /**
   * Where the application's bundle is cached: the worker's shared `.app-code` dir (FLINT_APP_CODE_DIR), or, when
   * undefined, `<workDir>/../code` (src/io/executor/load-app-code.ts).
   */
  readonly appCodeDir?: string;
  /** Registers a callback for "the worker that launched this executor is gone" (its stdin closed). */
  readonly onParentGone?: (gone: () => void) => void;
  /**
   * Start the task threads as soon as the app's config has come, not once the executor has registered: local
   * mode's executor (local-backend.ts), whose registration is a loopback round trip that nothing else waits on,
   * so that a thread's start-up overlaps the driver's bundling of the app.
   */
  readonly threadsAtStart?: boolean;
  /** A task thread the standby this executor was started a thread ahead (task-pool.ts WarmThread). */
  readonly warmThread?: WarmThread | undefined;
  /**
   * Local mode: the env the executor lives on, a view of the driver's own (local-backend.ts). Its messages to and
   * from the driver are then handed over in the process, never encoded nor written to a socket, as Spark's
   * LocalSchedulerBackend talks to its LocalEndpoint. The executor makes no env of its own; its exit shuts down
   * the view, which stops only the executor's endpoint.
   */
  readonly env?: Transport | undefined;
}

/** Connection attempts of the bootstrap ask (Spark's executor tries 3 times), this far apart. */
const BOOTSTRAP_TRIES = 3;
const BOOTSTRAP_RETRY_MS = 1_000;
/** How long a killed task may take to see its abort flag before its thread is ended (`flint.task.killTimeout`). */
export const KILL_TIMEOUT_KEY = 'flint.task.killTimeout';
const KILL_TIMEOUT_DEFAULT = '2s';
/** Code is fetched in chunks of at most this (and at most a frame less a margin). */
const CODE_CHUNK_BYTES = 4 * 1024 * 1024;
const ENDPOINT_NAME = 'Executor';

type AppConfig = Static<typeof AppConfigResponse>;
type Bootstrap = { readonly ok: true; readonly response: AppConfig } | { readonly ok: false; readonly error: string };

/**
 * The RPC settings an env of this executor uses: never authentication from the app's conf (see executorEnv); TLS
 * from the command line's startup conf, which wins over the app's (Spark applies executor startup confs the same
 * way).
 */
function rpcConf(appConf: Readonly<Record<string, string>>, opts: ExecutorBackendOptions): FlintConf {
  const entries = Object.entries(appConf).filter(([key]) => !/^(flint|spark)\.authenticate/.test(key));
  for (const [key, value] of opts.startupConf ?? []) entries.push([key, value]);
  entries.push(['flint.authenticate', 'false']);
  return new FlintConf(entries);
}

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** An executor's envs open no port, and coalesce the writes of one turn (task results arrive one by one). */
/** They speak as `executor:<appId>`, proven with the credential's key when there is one. */
function executorEnv(name: string, conf: FlintConf, opts: ExecutorBackendOptions): Promise<RpcEnv> {
  const { credential, logger } = opts;
  const principal = credential?.principal ?? `executor:${opts.launch.appId}`;
  return RpcEnv.create({ name, clientMode: true, coalesceWritesByDefault: true, conf, logger, principal, ...(credential ? { credentialKey: credential.key } : {}) });
}

/**
 * Asks the driver for the application's config over `env`; retries only connection failures. Spark's executor
 * asks over a throwaway RpcEnv (`driverPropsFetcher`) because the app's conf may change its RPC settings; this one
 * is kept when it does not (sameRpcSettings), and its connection to the driver then carries the registration too.
 */
async function bootstrap(opts: ExecutorBackendOptions, env: Transport): Promise<Bootstrap> {
  const { launch: args, logger } = opts;
  const driver = env.endpointRef<ExecutorToDriver>(args.driverUrl);
  for (let attempt = 1; ; attempt++) {
    try {
      const reply = await driver.ask({ type: 'RetrieveAppConfig', executorId: args.executorId }, { expect: DriverReplies });
      if (reply.type !== 'AppConfigResponse') return { ok: false, error: `the driver answered ${reply.type}` };
      return { ok: true, response: reply };
    } catch (err) {
      if (!(err instanceof RpcConnectionError) || attempt >= BOOTSTRAP_TRIES) return { ok: false, error: errorText(err) };
      logger.warn({ attempt, err: errorText(err) }, `Cannot reach the driver ${args.driverUrl}; trying again`);
      await new Promise((done) => setTimeout(done, BOOTSTRAP_RETRY_MS));
    }
  }
}

/** Whether envs made with `a` and `b` would be alike: the same RPC settings and the same TLS keys. */
export function sameRpcSettings(a: FlintConf, b: FlintConf): boolean {
  const of = (conf: FlintConf): string =>
    JSON.stringify([readRpcSettings(conf, true), [...conf.entries()].filter(([key]) => /^(flint|spark)\.ssl\./.test(key)).sort(([x], [y]) => (x < y ? -1 : x > y ? 1 : 0))]);
  return of(a) === of(b);
}

/** Runs the executor until it exits; resolves with the exit code (the caller ends the process with it). */
export async function runExecutorBackend(opts: ExecutorBackendOptions): Promise<number> {
  const { logger } = opts;
  // Watched from the start: a worker that dies while the driver is slow to answer must not leave us behind.
  const parentGone = new Promise<void>((gone) => opts.onParentGone?.(gone));
  const bootConf = rpcConf({}, opts);
  const bootEnv = opts.env ?? (await executorEnv('flintExecutor', bootConf, opts));
  let boot = await Promise.race([
    bootstrap(opts, bootEnv),
    parentGone.then((): Bootstrap => ({ ok: false, error: 'the worker that launched this executor is gone' })),
  ]);
  let env: Transport | undefined;
  let killTimeoutMs = 0;
  if (boot.ok) {
    try {
      const conf = rpcConf(boot.response.conf, opts);
      killTimeoutMs = conf.getDurationMs(KILL_TIMEOUT_KEY, KILL_TIMEOUT_DEFAULT, 's');
      env = opts.env ?? (sameRpcSettings(bootConf, conf) ? bootEnv : await executorEnv('flintExecutor', conf, opts));
    } catch (err) {
      if (!isFlintError(err)) throw err;
      boot = { ok: false, error: `The application's configuration cannot be used: ${err.message}` };
    }
  }
  // Without a usable config the machine still runs, to exit through its own path (AppConfigFailed).
  env ??= bootEnv;
  if (bootEnv !== env) await bootEnv.shutdown();
  const machine = new ExecutorMachine(
    { ...opts.launch, executorAddress: formatEndpointAddress({ env: env.id, name: ENDPOINT_NAME }) },
    { rng: systemRngStreams().stream('executor.registration'), tasksPerCore: TASKS_PER_THREAD },
  );
  let shuffle: PoolShuffle | undefined;
  if (boot.ok && opts.launch.workerUrl !== undefined) {
    try {
      const appConf = new FlintConf(Object.entries(boot.response.conf));
      const settings = shuffleSettings(appConf, {
        appId: opts.launch.appId,
        hostname: opts.launch.hostname,
        workerUrl: opts.launch.workerUrl,
        executorDir: resolve(opts.workDir),
        cores: opts.launch.cores,
      });
      shuffle = poolShuffle(env, settings, storageLimitBytes(appConf, opts.launch.cores));
    } catch (err) {
      if (!isFlintError(err)) throw err;
      boot = { ok: false, error: `The application's configuration cannot be used: ${err.message}` };
    }
  }
  const figures = boot.ok ? processFigures(boot.response.conf, logger) : undefined;
  const runtime = new ExecutorRuntime({
    env,
    machine,
    boot,
    killTimeoutMs,
    figures,
    codeCacheDir: opts.appCodeDir ?? resolve(opts.workDir, '..', 'code'),
    logger,
    warmThread: opts.warmThread,
    ...(shuffle === undefined ? {} : { shuffle }),
  });
  runtime.start(parentGone, opts.threadsAtStart === true && boot.ok);
  return runtime.exited;
}

/**
 * docs/metrics.md: the process's own figures ride on the heartbeats, unless the app turned metrics off. The driver
 * read the same setting before any executor started, so a bad value has stopped it already; here it only costs
 * the figures.
 */
function processFigures(appConf: Readonly<Record<string, string>>, logger: Logger): ProcessFigures | undefined {
  try {
    return readMetricsEnabled(new FlintConf(Object.entries(appConf))) ? new ProcessFigures() : undefined;
  } catch (err) {
    if (!isFlintError(err)) throw err;
    logger.warn({ err: err.message }, 'no metrics figures in the heartbeats');
    return undefined;
  }
}

/** Block fetches for the pool's threads, asked of the shuffle service at the block's worker over this env. */
function poolShuffle(env: Transport, settings: PoolShuffle['settings'], storageLimitBytes: number): PoolShuffle {
  return {
    settings,
    storageLimitBytes,
    async fetchChunk(service, block, offset, length) {
      const ref = env.endpointRef<ShuffleServiceMessage>(formatEndpointAddress({ env: service, name: SHUFFLE_SERVICE_ENDPOINT }));
      const reply = await ref.ask({ type: 'FetchShuffleBlock', appId: settings.appId, ...block, offset, length }, { expect: ShuffleServiceReplies });
      return { data: reply.data, blockLength: reply.blockLength };
    },
  };
}

interface RuntimeParts {
  readonly shuffle?: PoolShuffle;
  readonly env: Transport;
  readonly machine: ExecutorMachine;
  readonly boot: Bootstrap;
  readonly killTimeoutMs: number;
  readonly codeCacheDir: string;
  readonly logger: Logger;
  /** Measures heap, RSS and GC time for the heartbeats; undefined with flint.metrics.enabled=false. */
  readonly figures: ProcessFigures | undefined;
  readonly warmThread: WarmThread | undefined;
}

class ExecutorRuntime {
  readonly exited: Promise<number>;
  readonly #parts: RuntimeParts;
  readonly #env: Transport;
  readonly #driver: RpcEndpointRef<ExecutorToDriver>;
  readonly #logger: Logger;
  readonly #host: MachineHost<ExecutorInput, ExecutorEffect>;
  readonly #replies = new ReplyBook<Static<typeof TaskResultChunk>>();
  readonly #shared: SharedEffects;
  /**
   * The task threads, started once the executor has registered and fetches the app's code (Spark creates its
   * Executor on RegisteredExecutor): their start-up does not compete with the registration.
   */
  #pool: TaskPool | undefined;
  #bundlePath: string | undefined;
  /**
   * The app's bundle, once LoadCode named it; `fetching` while it is being fetched again (#keepCode), `lost` once
   * that failed (said once, until a fetch succeeds).
   */
  #code: { readonly hash: string; readonly bytes: number; fetching: boolean; lost: boolean } | undefined;
  #resolveExit: (code: number) => void = () => {};
  #exiting = false;

  constructor(parts: RuntimeParts) {
    this.#parts = parts;
    this.#env = parts.env;
    this.#logger = parts.logger;
    this.#driver = parts.env.endpointRef<ExecutorToDriver>(parts.machine.snapshot().config.driverUrl);
    this.exited = new Promise((done) => (this.#resolveExit = done));
    this.#host = new MachineHost<ExecutorInput, ExecutorEffect>(parts.machine, (e) => this.#execute(e), { now: systemClock.now, logger: parts.logger });
    this.#shared = new SharedEffects({
      transport: parts.env,
      logger: parts.logger,
      submit: (input) => this.#submit(input as ExecutorInput),
      replies: this.#replies,
      batching: STATUS_UPDATE_BATCHES,
    });
  }

  start(parentGone: Promise<void>, startThreads: boolean): void {
    if (startThreads) this.#startPool();
    const driverEnv = this.#driver.env;
    this.#env.setupEndpoint<DriverToExecutor>(ENDPOINT_NAME, {
      messages: DriverToExecutor,
      receive: (message, ctx) => {
        if (ctx.senderAddress !== driverEnv || message.type === 'FetchTaskResult') return this.#ignored(message.type, ctx.senderAddress);
        if (message.type === 'LaunchTasks') {
          // A batch (send-batches.ts): its tasks are the machine's inputs, one by one, in order.
          for (const task of message.tasks) void this.#host.submit({ kind: 'DriverMessage', message: task });
          return undefined;
        }
        return this.#host.submit({ kind: 'DriverMessage', message });
      },
      receiveAndReply: (message, ctx) => {
        if (ctx.senderAddress !== driverEnv || message.type !== 'FetchTaskResult') {
          this.#ignored(message.type, ctx.senderAddress);
          ctx.sendFailure(new Error(`Executor does not answer ${message.type} from ${ctx.senderAddress}`));
          return undefined;
        }
        return this.#host.submit({ kind: 'DriverAsk', message, token: this.#replies.open(ctx) });
      },
      onDisconnected: (remote) => (remote === driverEnv ? this.#host.submit({ kind: 'DriverDisconnected' }) : undefined),
    });
    this.#submit({ kind: 'Start' });
    void parentGone.then(() => this.#submit({ kind: 'ParentGone' }));
  }

  #startPool(): TaskPool {
    if (this.#pool === undefined) applyHotCodeFlags(process.execArgv);
    this.#pool ??= new TaskPool(this.#parts.machine.snapshot().config.cores, (outcome) => this.#submit(outcome), this.#parts.shuffle, this.#parts.warmThread);
    return this.#pool;
  }

  #ignored(type: string, from: string): undefined {
    this.#logger.warn({ type, from }, 'ignoring a message that is not from the driver, or not of the right kind');
    return undefined;
  }

  #submit(input: ExecutorInput): void {
    void this.#host.submit(input);
  }

  /** Carries out one effect; nothing here waits, so the host loop never stalls behind the driver or a task. */
  #execute(all: ExecutorEffect): void {
    if (all.kind === 'Ask' && all.message.type === 'RetrieveAppConfig') return this.#answerFromBoot(all.context);
    const heartbeat = all.kind === 'Ask' && all.message.type === 'ExecutorHeartbeat';
    if (heartbeat) this.#keepCode();
    const figures = this.#parts.figures;
    const effect = this.#shared.take(heartbeat && figures !== undefined ? { ...all, message: { ...all.message, figures: figures.read() } } : all);
    if (effect === undefined) return;
    switch (effect.kind) {
      case 'LoadCode':
        this.#startPool();
        this.#loadCode(effect.hash, effect.bytes);
        return;
      case 'RunTask': {
        const bundlePath = this.#bundlePath;
        if (bundlePath === undefined) throw new Error('RunTask before the code was loaded');
        this.#startPool().run(effect.task, bundlePath);
        return;
      }
      case 'CancelTask':
        this.#pool?.cancel(effect.taskId, this.#parts.killTimeoutMs);
        return;
      case 'DropCache':
        this.#pool?.uncache(effect.id);
        return;
      case 'DropShuffle': {
        const dir = this.#parts.shuffle?.settings.location.dir;
        if (dir !== undefined) void removeShuffleFiles(dir, effect.shuffleId).catch((err: Error) => this.#logger.warn({ err: err.message }, 'could not remove a shuffle\'s files'));
        return;
      }
      case 'Exit':
        this.#exit(effect.code);
        return;
      default:
        return unknownEffect(effect);
    }
  }

  /**
   * RetrieveAppConfig was asked before the machine started (the boot needs the app's settings to start the env):
   * its answer is handed over as the answer to the machine's ask.
   */
  #answerFromBoot(context: 'RetrieveAppConfig' | 'RegisterExecutor' | 'ExecutorHeartbeat'): void {
    const boot = this.#parts.boot;
    this.#submit(boot.ok ? { kind: 'Answered', context, reply: boot.response } : { kind: 'AskFailed', context, error: boot.error, timedOut: false });
  }

  #loadCode(hash: string, bytes: number): void {
    this.#code = { hash, bytes, fetching: false, lost: false };
    this.#placeCode(hash, bytes).then(
      ({ path, fetched }) => {
        this.#bundlePath = path;
        // The threads import it now, while the executor tells the driver it is ready and the first tasks come.
        this.#pool?.preload(path);
        this.#logger.info({ path, bytes, fetched }, fetched ? 'Fetched the application code' : 'Using the cached application code');
        this.#submit({ kind: 'CodeLoaded', hash });
      },
      (err: unknown) => this.#submit({ kind: 'CodeLoadFailed', hash, error: errorText(err) }),
    );
  }

  /** The bundle as a file in the code cache, fetched from the driver unless a good copy is there (load-app-code.ts). */
  #placeCode(hash: string, bytes: number): ReturnType<typeof loadAppCode> {
    const chunkBytes = Math.max(1, Math.min(CODE_CHUNK_BYTES, this.#env.settings.maxFrameBytes - FRAME_MARGIN_BYTES));
    const fetchChunk = async (offset: number, length: number): Promise<Uint8Array> => {
      const reply = await this.#driver.ask({ type: 'FetchAppCode', hash, offset, length }, { expect: DriverReplies });
      if (reply.type !== 'AppCodeChunk' || reply.hash !== hash || reply.offset !== offset) {
        throw new Error(`the driver answered FetchAppCode(${hash}, ${offset}) with ${reply.type}`);
      }
      return reply.data;
    };
    return loadAppCode({ hash, bytes, cacheDir: this.#parts.codeCacheDir, chunkBytes, fetchChunk });
  }

  /**
   * With each heartbeat: marks the bundle as still used, so that the worker's cleanup keeps it for as long as this
   * executor runs, however long that is (app-code-dir.ts), not only for flint.worker.cleanup.appDataTtl after it
   * was taken up. A bundle found gone (removed by hand) is fetched again: a task thread started later (one that
   * replaces a thread killed with its task) imports it from there.
   */
  #keepCode(): void {
    const path = this.#bundlePath;
    const code = this.#code;
    if (path === undefined || code === undefined || code.fetching) return;
    void markUsed(path).then((there) => {
      if (there || code.fetching || this.#exiting) return;
      code.fetching = true;
      void this.#placeCode(code.hash, code.bytes)
        .then(
          () => {
            code.lost = false;
            this.#logger.warn({ path }, 'Fetched the application code again: its copy in the code cache had been removed');
          },
          (err: unknown) => {
            if (!code.lost) this.#logger.warn({ path, err: errorText(err) }, 'The application code was removed from the code cache and could not be fetched again; trying with each heartbeat');
            code.lost = true;
          },
        )
        .finally(() => (code.fetching = false));
    });
  }

  /**
   * executor-effect.ts rule 8: flush the sends (the env's shutdown ends each connection after its queued
   * frames), end the threads without waiting for their tasks. Not awaited here: the endpoint handler that
   * delivered this input (StopExecutor) must return before the env can stop that endpoint.
   */
  #exit(code: number): void {
    if (this.#exiting) return;
    this.#exiting = true;
    this.#parts.figures?.close();
    this.#shared.flushBatches(); // the StatusUpdates of this turn leave before the connections end
    this.#host.close();
    this.#shared.cancelTimers();
    const finish = (): void => {
      void this.#pool?.destroy().catch(() => {});
      this.#resolveExit(code);
    };
    this.#env.shutdown().then(finish, finish);
  }
}

/** Deletes `shuffle_<id>_*` map output (data and index files) in this worker's shuffle directory of the app. */
async function removeShuffleFiles(dir: string, shuffleId: number): Promise<void> {
  const prefix = `shuffle_${shuffleId}_`;
  const names = await readdir(dir).catch(() => [] as string[]);
  await Promise.all(names.filter((n) => n.startsWith(prefix)).map((n) => rm(join(dir, n), { force: true })));
}

/**
 * V8 flags an executor sets on itself once it has registered and its task threads start: V8 optimises the few
 * functions every task runs after 500 calls (Turbofan) and 100 (Maglev) instead of 3,000 and 400, so a job of
 * short tasks runs at full speed sooner (docs/benchmarks.md, bench:tasks). On the command line they also made V8
 * optimise the code that loads the executor, about 40 ms more CPU per executor start and about 70 ms more before
 * the first executor registered; set late they cost none of it. V8 reads them as it counts calls, so they take
 * effect from here on, in every thread.
 */
export const HOT_CODE_V8_FLAGS = ['--invocation-count-for-turbofan=500', '--invocation-count-for-maglev=100', '--minimum-invocations-after-ic-update=100'] as const;

/** Sets HOT_CODE_V8_FLAGS, except those the executor's command line already sets (flint.executor.*NodeOptions). */
export function applyHotCodeFlags(execArgv: readonly string[]): string[] {
  const given = new Set(execArgv.map((arg) => arg.split('=')[0]?.replaceAll('_', '-')));
  const applied = HOT_CODE_V8_FLAGS.filter((flag) => !given.has(flag.split('=')[0]));
  for (const flag of applied) setFlagsFromString(flag);
  return applied;
}
