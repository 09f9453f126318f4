// FlintContext: what a Flint application creates to run work on the cluster (Spark's SparkContext).
//
//   const flint = await FlintContext.create({ appName: 'Pi', conf: { 'flint.cores.max': 4 } });
//   const n = await flint.range(0, 1_000_000, 1, 8).filter(inside).count();
//   await flint.stop();
//
// Creating one bundles the app's main module for the executors, opens the driver's RPC env, registers the
// application with the master (retrying across every master given) and returns once the master has
// accepted it. Executors arrive as the master grants them; jobs wait for them.

import { randomBytes } from 'node:crypto';
import { hostname, userInfo } from 'node:os';
import { resolve } from 'node:path';
import { AppClient } from '../daemons/app-client.ts';
import { FlintConf } from '../conf/flint-conf.ts';
import { parseNodeFlags } from '../conf/node-flags.ts';
import { unknownKeyWarnings } from '../conf/known-keys.ts';
import { allocationConfigFromConf, driverConfigFromConf, type AllocationConfig } from '../driver/index.ts';
import { AllocationHost } from '../daemons/allocation-host.ts';
import { isLocalMaster, parseLocalMaster } from './local-master.ts';
import { ConfigError, FlintError } from '../errors.ts';
import { decodeRecord, encodeRecord, encodeRecordSlice } from '../task/index.ts';
import { applyAccumulatorUpdates, sharedVariables, type Broadcast } from './shared-variables.ts';
import { bundleApp, REMOTE_API } from '../io/bundle/bundle-app.ts';
import { openBundleCache } from '../io/bundle/bundle-cache.ts';
import { LIMITS } from '../protocol/limits.ts';
import type { ApplicationDescription } from '../protocol/messages.ts';
import { resourceRequestsField } from '../conf/resource-requests.ts';
import type { AggregatorSpec, TaskAction } from '../protocol/task-messages.ts';
import { parseMasterUrls, readRpcSettings, RpcEnv } from '../rpc/index.ts';
import { createConsoleLogger, type Logger } from '../util/logger.ts';
import { taskFunctionName } from './task-functions.ts';
import { Dataset } from './dataset.ts';
import { DagRunner } from './dag-runner.ts';
import { ShuffleDependency, describeOps, type PartitionPlan, type PartitionerPlan } from './plan.ts';
import { planTextSplits } from '../io/dataset-files/index.ts';
import { DriverRuntime } from '../daemons/driver-runtime.ts';
import { startDriverUi, type DriverUi } from '../daemons/driver-ui.ts';
import { systemClock } from '../daemons/system.ts';
import { rangeSources, sliceBounds } from './partitions.ts';
import { launchContext } from './launch-context.ts';
import { ConsoleProgressBar } from './progress-bar.ts';
import { appMainPath, installSignalHandlers, trackContext } from './run-app.ts';
import { sslConfToPassOn } from '../io/tls/ssl-options.ts';
import { readMetricsEnabled } from '../io/metrics/metrics-enabled.ts';

export interface FlintContextOptions {
  /** `flint://host:7077`, or a comma list for standby masters (`flint.master`). */
  readonly master?: string;
  /** The application's name in the master's UI (`flint.app.name`). */
  readonly appName?: string;
  /** Any `flint.*` keys. They override what `flint submit` passed. */
  readonly conf?: Readonly<Record<string, string | number | boolean>>;
  /** The console progress bar (default: on when stderr is a TTY and `flint.ui.showConsoleProgress` is not false). */
  readonly progress?: boolean;
  /** The app's main module, whose exports are the task functions (default: the module `runApp` runs in). */
  readonly main?: string;
  /** Where the driver logs (default: JSON lines on stderr at FLINT_LOG_LEVEL, else warn). */
  readonly logger?: Logger;
}

/** A running job's numbers: tasks in all, finished, running now. */
export interface JobProgress {
  readonly jobId: number;
  readonly total: number;
  readonly done: number;
  readonly running: number;
}

export class FlintContext {
  readonly conf: FlintConf;
  readonly appName: string;
  readonly master: string;
  readonly #env: RpcEnv;
  readonly #runtime: DriverRuntime;
  readonly #source: ExecutorSource;
  /** Local mode's task threads; undefined on a cluster. */
  readonly #localThreads: number | undefined;
  #bundleExports: ReadonlySet<string> = new Set();
  readonly #appMain: string;
  readonly #logger: Logger;
  readonly #progress: ConsoleProgressBar | undefined;
  readonly #untrack: () => void;
  readonly #executors: Map<string, number>;
  readonly #progressListeners: Set<(p: JobProgress) => void>;
  readonly #ui: DriverUi | undefined;
  readonly #dag: DagRunner;
  /** Dynamic allocation (flint.dynamicAllocation.enabled), started once the app is registered. */
  readonly #allocation: AllocationHost | undefined;
  readonly #broadcastBytes: Map<string, { name: string; id: number; data: Uint8Array }>;
  #nextBroadcastId = 0;
  #nextShuffleId = 0;
  #nextCacheId = 0;
  /** Shuffles whose datasets were garbage-collected: their map output is forgotten (Spark's ContextCleaner). */
  readonly #cleaner: FinalizationRegistry<number>;
  #appId = '';
  #dead: string | undefined;
  #stopping: Promise<void> | undefined;

  private constructor(parts: {
    conf: FlintConf;
    env: RpcEnv;
    runtime: DriverRuntime;
    source: ExecutorSource;
    localThreads: number | undefined;
    appMain: string;
    logger: Logger;
    progress: ConsoleProgressBar | undefined;
    executors: Map<string, number>;
    progressListeners: Set<(p: JobProgress) => void>;
    ui: DriverUi | undefined;
    dag: DagRunner;
    broadcastBytes: Map<string, { name: string; id: number; data: Uint8Array }>;
    allocation: AllocationHost | undefined;
  }) {
    this.conf = parts.conf;
    this.appName = parts.conf.getString('flint.app.name', 'flint-app');
    this.master = parts.conf.getString('flint.master', '');
    this.#env = parts.env;
    this.#runtime = parts.runtime;
    this.#source = parts.source;
    this.#localThreads = parts.localThreads;
    this.#appMain = parts.appMain;
    this.#logger = parts.logger;
    this.#progress = parts.progress;
    this.#executors = parts.executors;
    this.#progressListeners = parts.progressListeners;
    this.#ui = parts.ui;
    this.#dag = parts.dag;
    this.#broadcastBytes = parts.broadcastBytes;
    this.#allocation = parts.allocation;
    // Spark's ContextCleaner: a shuffle no dataset refers to any more is forgotten, and its files are deleted.
    this.#cleaner = new FinalizationRegistry((shuffleId) => {
      this.#dag.tracker.unregister(shuffleId);
      if (this.#stopping === undefined) void this.#runtime.removeShuffle(shuffleId).catch(() => undefined);
    });
    this.#untrack = trackContext(this);
  }

  /** Starts the driver and registers the application; rejects with a clear error when no master accepts it. */
  static async create(options: FlintContextOptions = {}): Promise<FlintContext> {
    installSignalHandlers();
    const conf = contextConf(options);
    const master = conf.get('flint.master');
    if (master === undefined || master.trim() === '') {
      throw new ConfigError(
        'flint.master',
        'A master URL must be set: pass { master: "flint://host:7077" } (or "local[*]" to run in this process) or run the app with flint submit --master flint://host:7077',
      );
    }
    // Local mode makes a key of its own, from which the UI's token is derived unless the app has a secret: nothing of
    // a local app is open to the machine's other users either.
    const local = isLocalMaster(master) ? { ...parseLocalMaster(master), key: randomBytes(32).toString('base64url') } : undefined;
    // Spark's local mode takes a task's attempts from the URL, whatever spark.task.maxFailures says.
    if (local !== undefined) conf.set('flint.task.maxFailures', String(local.maxFailures));
    const masters = local === undefined ? parseMasterUrls(master) : [];
    // Local mode's first task thread starts now, while the driver starts and the app is bundled: Node takes some
    // 100–200 ms to start a thread, which the first task would otherwise wait for (task-pool.ts WarmThread). Started
    // any earlier (before the app is imported) it slowed the import more than it gained. Idle and unreferenced, it
    // keeps nothing alive if create() fails before the executor takes it. Local mode's task pool and executor are
    // loaded only for it (a driver on a cluster does without them and the shuffle writer they bring: some 150 KB of
    // JavaScript read at every start, bench:submit), the pool first, so that the thread starts while the rest loads.
    const warmThread = local === undefined ? undefined : (await import('../io/executor/task-pool.ts')).startWarmThread();
    const localModules = local === undefined ? undefined : await import('../daemons/local-backend.ts');
    const logger = options.logger ?? (await createConsoleLogger('flint-driver', driverLogLevel()));
    for (const warning of unknownKeyWarnings(conf.keys(), "the application's conf")) logger.warn({}, warning);
    const appMain = options.main !== undefined ? resolve(options.main) : appMainPath();
    if (appMain === undefined) throw new ConfigError('main', 'cannot tell which module is the application: pass { main: import.meta.filename }');
    const driverConfig = driverConfigFromConf(conf);
    const allocationConfig = allocationConfigFromConf(conf);
    const desc = applicationDescription(conf, allocationConfig);
    const rpc = readRpcSettings(conf); // checks the secret settings before anything starts
    const nodeOptions = executorNodeOptions(conf);
    // Bundling (esbuild, or the bundle cache) runs while the app registers and its first executors start; they
    // wait for it.
    const bundling = bundleApp(appMain, { flintEntry: REMOTE_API, cache: openBundleCache(conf, (m) => logger.warn({}, m)) });
    bundling.then(
      (bundle) => {
        if (bundle.cacheError !== undefined) logger.warn({}, bundle.cacheError);
        logger.debug({ hash: bundle.hash, bytes: bundle.code.byteLength, cached: bundle.cached }, bundle.cached ? 'Took the application bundle from the cache' : 'Bundled the application');
      },
      () => {}, // awaited below; this only keeps an early failure from being unhandled
    );
    // Local mode's executor is in this process: the driver listens on the loopback interface only.
    const bindHost = conf.get('flint.driver.bindAddress') ?? conf.get('flint.driver.host') ?? (local === undefined ? '0.0.0.0' : '127.0.0.1');
    const advertiseHost = conf.get('flint.driver.host') ?? process.env['FLINT_LOCAL_IP'] ?? defaultDriverHost(masters.map((m) => m.host));
    // The driver speaks as the application (flint.authenticate.appSecret), or as itself when a worker started it
    // in cluster mode; it lets in only its own application's executors, once the master has sent their key. In local
    // mode it lets in no one: its executor is hosted on this env (local-backend.ts) and dials nothing.
    const credential = launchContext()?.credential;
    const executorAuth: { principal?: string; key?: string } = {};
    const authenticates = credential !== undefined || rpc.appSecret !== undefined || local !== undefined;
    const env = await RpcEnv.create({
      name: 'flintDriver',
      principal: credential?.principal ?? 'app',
      ...(credential ? { credentialKey: credential.key } : {}),
      ...(authenticates ? { keyring: (principal: string) => (principal === executorAuth.principal ? executorAuth.key : undefined) } : {}),
      host: bindHost === '0.0.0.0' && isLoopback(advertiseHost) ? advertiseHost : bindHost,
      advertiseHost,
      port: conf.getInt('flint.driver.port', 0, LIMITS.bindPort),
      conf,
      // Status updates arrive from many executors in one turn of the event loop: their answers leave together.
      coalesceWritesByDefault: true,
      logger,
    });
    const showProgress = (options.progress ?? conf.getBoolean('flint.ui.showConsoleProgress', true)) && process.stderr.isTTY === true;
    const progress = showProgress ? new ConsoleProgressBar(process.stderr) : undefined;
    const holder: { context?: FlintContext } = {};
    const executors = new Map<string, number>();
    /** The encoded value of each broadcast variable set now, by name (flint.broadcast). */
    const broadcastBytes = new Map<string, { name: string; id: number; data: Uint8Array }>();
    /** Each worker's shuffle service, by worker id, from the executors granted there (`hostPort`). */
    const workerServices = new Map<string, string>();
    const progressListeners = new Set<(p: JobProgress) => void>();
    const runtime = new DriverRuntime({
      env,
      config: driverConfig,
      bundle: bundling,
      executorConf: Object.fromEntries(conf.withoutSecrets()), // executors get the secret from the worker
      logger,
      metrics: readMetricsEnabled(conf),
      events: {
        progress: (jobId, total, done, running) => {
          progress?.update({ jobId, total, done, running });
          for (const listener of progressListeners) listener({ jobId, total, done, running });
        },
        jobEnded: (jobId) => progress?.finish(jobId),
        killExecutor: (executorId) => void source.killExecutors([executorId]).catch(() => false),
      },
    });
    // The application UI (Spark's SparkUI, bound before the app registers so the master gets its URL; its pages
    // are built once it has registered, while its first executors start).
    let ui: DriverUi | undefined;
    try {
      ui = await startDriverUi({
        conf,
        appSecret: rpc.appSecret ?? local?.key,
        host: bindHost === '0.0.0.0' && isLoopback(advertiseHost) ? advertiseHost : bindHost,
        publicHost: advertiseHost,
        machine: runtime.machine,
        metrics: runtime.metrics,
        changes: runtime.changes,
        cancelJob: (jobId, reason) => runtime.cancelJob(jobId, reason),
        info: {
          appName: desc.name,
          appId: () => {
            const id = holder.context?.applicationId;
            return id === undefined || id === '' ? undefined : id;
          },
          user: desc.user,
          master,
          mainModule: appMain,
          driverUrl: runtime.schedulerUrl,
          startedMs: Date.now(),
          stopped: () => holder.context !== undefined && holder.context.#stopping !== undefined,
          stages: () => (holder.context === undefined ? [] : holder.context.#dag.stages()),
        },
        logger,
        monotonicNow: systemClock.monotonic,
      });
    } catch (err) {
      await runtime.stop();
      await env.shutdown();
      throw err;
    }
    const dag = new DagRunner(runtime, {
      maxConsecutiveAttempts: conf.getInt('flint.stage.maxConsecutiveAttempts', 4, { min: 1 }),
      broadcasts: () => [...broadcastBytes.values()],
      applyAccumulatorUpdates,
      ...(runtime.metrics === undefined ? {} : { events: runtime.metrics }),
    });
    const executorCommand = {
      mainModule: 'flint:executor',
      arguments: [
        ...['--driver-url', runtime.schedulerUrl, '--executor-id', '{{EXECUTOR_ID}}', '--hostname', '{{HOSTNAME}}', '--cores', '{{CORES}}'],
        ...['--app-id', '{{APP_ID}}', '--worker-url', '{{WORKER_URL}}'],
        // The executor dials this driver before it can ask for the app's conf: it needs the TLS block first.
        ...sslConfToPassOn(conf).flatMap(([key, value]) => ['--conf', `${key}=${value}`]),
      ],
      environment: {} as Record<string, string>, // executors get their key from their worker, never from here
      nodeOptions,
    };
    let registered!: (appId: string) => void;
    let failed!: (reason: string) => void;
    const registration = new Promise<string>((res, rej) => {
      registered = res;
      failed = (reason) => rej(new ApplicationFailedError(reason));
    });
    const lost = (reason: string): void => {
      failed(reason);
      const context = holder.context;
      if (context === undefined) return;
      context.#dead = reason;
      void context.stop();
    };
    // The master grants executors on its workers (Spark's StandaloneAppClient); in local mode this process is the
    // one executor (Spark's LocalSchedulerBackend).
    const fromMaster = (): AppClient =>
      new AppClient(
        env,
        master,
        { ...desc, appUiUrl: ui?.url ?? '', command: executorCommand },
        {
          connected: (appId, executorKey) => {
            executorAuth.principal = `executor:${appId}`;
            executorAuth.key = executorKey;
            runtime.appId = appId; // executors may ask for the app's config before create() returns
            runtime.prepareForExecutors();
            registered(appId);
          },
          disconnected: () => {},
          dead: lost,
          executorAdded: (fullId, workerId, hostPort, cores) => {
            executors.set(fullId.slice(fullId.lastIndexOf('/') + 1), cores);
            workerServices.set(workerId, `flint://${hostPort}`);
            logger.info({ executorId: fullId, hostPort, cores }, `Granted executor ${fullId} on ${hostPort} with ${cores} cores`);
          },
          executorRemoved: (fullId, message, exitStatus, workerHost) => {
            const id = fullId.slice(fullId.lastIndexOf('/') + 1);
            executors.delete(id);
            // Spark's StandaloneSchedulerBackend.executorRemoved: an exit code counts against the app; a loss
            // without one counts only when its worker is not known to be gone.
            runtime.executorLost(id, `Executor ${fullId} removed: ${message}`, exitStatus !== undefined || workerHost === undefined);
          },
          executorDecommissioned: (fullId, message) => {
            const id = fullId.slice(fullId.lastIndexOf('/') + 1);
            executors.delete(id); // its cores take no more tasks
            logger.info({ executorId: fullId }, `Executor ${fullId} is decommissioned: ${message}`);
            void runtime.decommissionExecutor(id, `Executor ${fullId} decommissioned: ${message}`);
          },
          workerRemoved: (workerId) => {
            // Its shuffle service went with it: the map output there must be recomputed (Spark's
            // DAGScheduler.handleWorkerRemoved → removeOutputsOnHost).
            const service = workerServices.get(workerId);
            if (service !== undefined) dag.workerLost(service);
          },
        },
        logger,
        {
          registrationTimeoutMs: conf.getDurationMs('flint.app.registrationTimeout', '20s', 's'),
          registrationRetries: conf.getInt('flint.app.registrationRetries', 3, { min: 1 }),
        },
      );
    const source: ExecutorSource =
      local === undefined || localModules === undefined
        ? fromMaster()
        : new localModules.LocalBackend({
            env,
            schedulerUrl: runtime.schedulerUrl,
            // Spark names a local application local-<milliseconds since the epoch>.
            appId: `local-${Date.now()}`,
            threads: local.threads,
            warmThread,
            logger,
            registered: (appId) => {
              executors.set(localModules.LOCAL_EXECUTOR_ID, local.threads);
              runtime.appId = appId;
              runtime.prepareForExecutors();
              registered(appId);
            },
            lost,
          });
    // Spark leaves dynamic allocation off in local mode: there is one executor, and no master to ask for more.
    if (allocationConfig.enabled && local !== undefined) logger.warn({}, 'flint.dynamicAllocation.enabled is ignored in local mode: the one executor is this process');
    const allocation = allocationConfig.enabled && local === undefined
      ? new AllocationHost(
          allocationConfig,
          {
            snapshot: () => runtime.machine.snapshot(),
            executorsWithCachedData: () => dag.executorsWithCachedData(),
            requestTotalExecutors: (total) => source.requestTotalExecutors(total),
            drain: (id, reason, removedAs) => runtime.decommissionExecutor(id, reason, removedAs),
            hasExecutor: (id) => runtime.machine.hasExecutor(id),
            killExecutors: (ids) => source.killExecutors(ids),
          },
          logger,
          systemClock.monotonic,
        )
      : undefined;
    const context = new FlintContext({ conf, env, runtime, source, localThreads: local?.threads, appMain, logger, progress, executors, progressListeners, ui, dag, broadcastBytes, allocation });
    holder.context = context;
    source.start();
    // The UI's pages are built when its first request comes (startDriverUi).
    try {
      // Local mode's executor registers while the app is bundled: create() returns with it ready, so that a context
      // stopped at once never refuses an executor on its way in.
      const executorReady = local === undefined ? undefined : runtime.awaitExecutors(1, LOCAL_EXECUTOR_TIMEOUT_MS);
      const [appId, bundle] = await Promise.all([registration, bundling, executorReady]);
      context.#appId = appId;
      context.#bundleExports = new Set(bundle.exports);
      allocation?.start();
    } catch (err) {
      await context.stop();
      throw err;
    }
    return context;
  }

  /** The id the master gave the application, e.g. `app-20261121101500-0000`. */
  get applicationId(): string {
    return this.#appId;
  }

  /** The application UI's address (`http://host:4040`), or undefined when `flint.ui.enabled` is false. */
  get uiWebUrl(): string | undefined {
    return this.#ui?.url;
  }

  /** The driver's RPC address that executors connect to. */
  get driverUrl(): string {
    return this.#runtime.schedulerUrl;
  }

  /** Cores of the executors granted so far. */
  get totalExecutorCores(): number {
    let total = 0;
    for (const cores of this.#executors.values()) total += cores;
    return total;
  }

  /**
   * `flint.default.parallelism`, else the granted executor cores (at least 2), as Spark's standalone mode; in local
   * mode the task threads, as Spark's LocalSchedulerBackend.
   */
  get defaultParallelism(): number {
    return this.conf.getInt('flint.default.parallelism', this.#localThreads ?? Math.max(this.totalExecutorCores, 2), { min: 1 });
  }

  /**
   * A dataset over `data`, cut into `numSlices` partitions of about equal size. The records are encoded here,
   * so one that cannot be sent (docs/applications.md, "Records") throws RecordEncodeError from this call.
   */
  parallelize<T>(data: readonly T[], numSlices: number = this.defaultParallelism): Dataset<T> {
    const plans: PartitionPlan[] = sliceBounds(data.length, numSlices).map(([start, end]) => ({
      source: { kind: 'slice', data: encodeRecordSlice(data, start, end, 'data') },
      ops: [],
    }));
    return new Dataset<T>(this, plans);
  }

  /** The integers `start, start+step, …` below `end` (or `0 … start-1` when `end` is left out). */
  range(start: number, end?: number, step = 1, numSlices: number = this.defaultParallelism): Dataset<number> {
    const [from, to] = end === undefined ? [0, start] : [start, end];
    return new Dataset<number>(this, rangeSources(from, to, step, numSlices).map((source) => ({ source, ops: [] })));
  }

  /**
   * The lines of a text file, of every file of a directory, or of every file a glob matches (`logs/*.gz`), read
   * on the executors: plain files are cut into byte ranges on line boundaries (at least `minPartitions`
   * partitions in all, Hadoop's TextInputFormat), a gzip file is one partition. Files are planned here, so a
   * path that matches nothing throws at once. Executors must see the same paths as the driver.
   */
  textFile(pathOrGlob: string, minPartitions: number = Math.min(this.defaultParallelism, 2)): Dataset<string> {
    return this.#fileDataset(pathOrGlob, minPartitions, false) as Dataset<string>;
  }

  /** One record per line of JSON-lines files (as saveAsJsonFile writes them); a bad line fails its task, naming it. */
  jsonFile<T = unknown>(pathOrGlob: string, minPartitions: number = Math.min(this.defaultParallelism, 2)): Dataset<T> {
    return this.#fileDataset(pathOrGlob, minPartitions, true) as Dataset<T>;
  }

  #fileDataset(pathOrGlob: string, minPartitions: number, json: boolean): Dataset<unknown> {
    // The planner makes every path absolute (executors run elsewhere), globs included.
    const splits = planTextSplits(pathOrGlob, minPartitions);
    return new Dataset<unknown>(
      this,
      splits.map((split) => ({ source: { kind: 'textFile', path: split.path, start: split.start, length: split.length, gzip: split.gzip, json }, ops: [] })),
    );
  }

  /**
   * Sets the value of a broadcast variable (declared at the top level of the app's module with
   * `broadcastVariable(name)`, docs/applications.md) for the jobs submitted from now on. The value is encoded
   * here, so one that cannot be sent throws RecordEncodeError at once; each executor receives it once, with the
   * first task that may read it. Setting it again replaces it for later jobs. Returns the variable.
   */
  broadcast<T>(variable: Broadcast<T>, value: T): Broadcast<T> {
    const data = encodeRecord(value, variable.name);
    const id = this.#nextBroadcastId++;
    this.#broadcastBytes.set(variable.name, { name: variable.name, id, data });
    sharedVariables().broadcasts.set(variable.name, { id, value });
    return variable;
  }

  /** Stops sending a broadcast variable's value with new tasks (Spark's `Broadcast.destroy`). */
  unbroadcast(variable: Broadcast<unknown>): void {
    this.#broadcastBytes.delete(variable.name);
    sharedVariables().broadcasts.delete(variable.name);
  }

  /** @internal An id for a dataset being persisted. */
  newCacheId(): number {
    return this.#nextCacheId++;
  }

  /** @internal Forgets where a persisted dataset's partitions are and tells the executors to drop them. */
  dropCache(id: number): void {
    this.#dag.forgetCached(id);
    void this.#runtime.removeCache(id).catch((err: unknown) => this.#logger.warn({ err: String(err) }, 'could not tell the executors to drop a cached dataset'));
  }

  /** @internal A new shuffle of `parent`'s partitions. */
  newShuffle(parent: readonly PartitionPlan[], partitioner: PartitionerPlan, mapSide: AggregatorSpec | undefined, label: string): ShuffleDependency {
    const dep = new ShuffleDependency(this.#nextShuffleId++, parent, partitioner, mapSide, label);
    this.#cleaner.register(dep, dep.shuffleId);
    return dep;
  }

  /**
   * Runs `fn(records, partitionIndex)` on each chosen partition of `dataset` (all by default) and returns its
   * results in partition order: the primitive under every action.
   */
  async runJob<T, U>(
    dataset: Dataset<T>,
    fn: (records: AsyncIterable<T> & Iterable<T>, partition: number) => U | Promise<U>,
    partitions?: readonly number[],
  ): Promise<Awaited<U>[]> {
    const name = this.exportName(fn, 'runJob');
    const results = await this.submitTasks(dataset, { kind: 'runJob', fn: name }, partitions);
    return results as Awaited<U>[];
  }

  /** Resolves once `count` executors have registered and can run tasks; rejects after `timeoutMs` (60 s). */
  awaitExecutors(count: number, timeoutMs = 60_000): Promise<void> {
    return this.#runtime.awaitExecutors(count, timeoutMs);
  }

  /** Calls `listener` whenever a running job's numbers change (what the progress bar draws). Returns an unsubscribe. */
  onProgress(listener: (progress: JobProgress) => void): () => void {
    this.#progressListeners.add(listener);
    return () => this.#progressListeners.delete(listener);
  }

  /** Stops the application: executors are stopped, the master marks it FINISHED. Safe to call twice. */
  stop(): Promise<void> {
    this.#stopping ??= this.#stop();
    return this.#stopping;
  }

  async #stop(): Promise<void> {
    this.#untrack();
    this.#progress?.stop();
    this.#allocation?.stop();
    await this.#runtime.stop().catch((err: unknown) => this.#logger.warn({ err: String(err) }, 'stopping the scheduler failed'));
    await this.#source.stop().catch((err: unknown) => this.#logger.warn({ err: String(err) }, 'unregistering failed'));
    await this.#ui?.close().catch((err: unknown) => this.#logger.warn({ err: String(err) }, 'closing the application UI failed'));
    await this.#env.shutdown();
  }

  /** @internal The export name of a task function, or a clear error. */
  exportName(fn: unknown, usedBy: string): string {
    return taskFunctionName(fn, usedBy, this.#bundleExports, this.#appMain);
  }

  /**
   * @internal Runs `action` on the chosen partitions of `dataset` (all by default), after the stages it
   * depends on, and decodes the results (`raw`: leaves them encoded).
   */
  async submitTasks(dataset: Dataset<unknown>, action: TaskAction, partitions?: readonly number[], raw = false): Promise<unknown[]> {
    if (this.#dead !== undefined) throw new ApplicationFailedError(this.#dead);
    if (this.#stopping !== undefined) throw new FlintError('FLINT_CONTEXT_STOPPED', 'this FlintContext has been stopped; create a new one');
    const chosen = partitions ?? dataset.plans.map((_, i) => i);
    const plans = chosen.map((p) => {
      const plan = dataset.plans[p];
      if (plan === undefined) throw new RangeError(`partition ${p} does not exist: the dataset has ${dataset.plans.length}`);
      return plan;
    });
    if (plans.length === 0) return [];
    const encoded = await this.#dag.run(plans, chosen, action, jobDescription(plans[0] as PartitionPlan, action));
    return raw ? encoded : encoded.map((bytes) => decodeRecord(bytes));
  }
}

/** What the application UI calls a job: its last stage's transformations and its action, `map(square) → collect`. */
export function jobDescription(plan: Pick<PartitionPlan, 'ops'>, action: TaskAction): string {
  const fn = 'fn' in action ? `(${action.fn})` : action.kind === 'take' ? `(${action.n})` : '';
  return [...describeOps(plan.ops), `${action.kind}${fn}`].join(' → ');
}

/** How long local mode's executor, in this process, may take to register before create() fails. */
const LOCAL_EXECUTOR_TIMEOUT_MS = 30_000;

/** What the context needs of whoever gives it executors: the master's AppClient, or local mode's LocalBackend. */
type ExecutorSource = Pick<AppClient, 'start' | 'stop' | 'requestTotalExecutors' | 'killExecutors'>;

/** The application was refused or removed by the master, or no master answered. */
export class ApplicationFailedError extends FlintError {
  constructor(reason: string) {
    super('FLINT_APP_FAILED', `The application cannot run: ${reason}`);
  }
}

function contextConf(options: FlintContextOptions): FlintConf {
  const conf = new FlintConf(launchContext()?.conf ?? []);
  for (const [key, value] of Object.entries(options.conf ?? {})) conf.set(key, String(value));
  if (options.master !== undefined) conf.set('flint.master', options.master);
  if (options.appName !== undefined) conf.set('flint.app.name', options.appName);
  // A secret given without flint.authenticate means: authenticate.
  return conf.withAuthenticationWhenSecretGiven();
}

function applicationDescription(conf: FlintConf, allocation: AllocationConfig): Omit<ApplicationDescription, 'command'> {
  const maxCores = conf.has('flint.cores.max') ? conf.getInt('flint.cores.max', 1, LIMITS.appCores) : undefined;
  const coresPerExecutor = conf.has('flint.executor.cores') ? conf.getInt('flint.executor.cores', 1, LIMITS.cores) : undefined;
  const memoryMbPerExecutor = conf.getMemoryMb('flint.executor.memory', '1g');
  if (maxCores !== undefined && coresPerExecutor !== undefined && coresPerExecutor > maxCores) {
    throw new ConfigError('flint.executor.cores', `flint.executor.cores (${coresPerExecutor}) must not be greater than flint.cores.max (${maxCores})`);
  }
  // With dynamic allocation the master starts the app at its initial target (Spark's StandaloneSchedulerBackend
  // registers with initialExecutorLimit); the allocation manager asks for more or fewer from there.
  const limit = allocation.enabled
    ? allocation.initialExecutors
    : conf.has('flint.dynamicAllocation.initialExecutors')
      ? conf.getInt('flint.dynamicAllocation.initialExecutors', 0, LIMITS.count)
      : undefined;
  return {
    name: conf.getString('flint.app.name', 'flint-app'),
    ...(maxCores === undefined ? {} : { maxCores }),
    ...(coresPerExecutor === undefined ? {} : { coresPerExecutor }),
    memoryMbPerExecutor,
    appUiUrl: '',
    ...(limit === undefined ? {} : { initialExecutorLimit: limit }),
    user: safeUser(),
    ...resourceRequestsField(conf, 'executor', 'resourceReqsPerExecutor'),
  };
}

function safeUser(): string {
  try {
    return userInfo().username;
  } catch {
    return process.env['USER'] ?? 'unknown';
  }
}

function isLoopback(host: string): boolean {
  return host === 'localhost' || host.startsWith('127.') || host === '::1';
}

/** Executors must reach the driver: on a loopback-only cluster that is 127.0.0.1, else this host's name. */
function defaultDriverHost(masterHosts: readonly string[]): string {
  return masterHosts.every(isLoopback) ? '127.0.0.1' : hostname();
}

function driverLogLevel(): 'debug' | 'info' | 'warn' | 'error' | 'silent' {
  const level = process.env['FLINT_LOG_LEVEL'];
  return level === 'debug' || level === 'info' || level === 'warn' || level === 'error' || level === 'silent' ? level : 'warn';
}

/**
 * The executors' Node flags: `flint.executor.defaultNodeOptions` then `flint.executor.extraNodeOptions` (Spark's
 * spark.executor.defaultJavaOptions and extraJavaOptions), each separated by spaces. `{{APP_ID}}` and
 * `{{EXECUTOR_ID}}` are replaced by the worker. Words that are not flags are refused here, on the driver,
 * before anything starts.
 */
export function executorNodeOptions(conf: FlintConf): string[] {
  return [
    ...parseNodeFlags(conf.get(DEFAULT_NODE_OPTIONS_KEY) ?? DEFAULT_EXECUTOR_NODE_OPTIONS, DEFAULT_NODE_OPTIONS_KEY),
    ...parseNodeFlags(conf.get(EXTRA_NODE_OPTIONS_KEY) ?? '', EXTRA_NODE_OPTIONS_KEY),
  ];
}

const DEFAULT_NODE_OPTIONS_KEY = 'flint.executor.defaultNodeOptions';
const EXTRA_NODE_OPTIONS_KEY = 'flint.executor.extraNodeOptions';
/**
 * None, as Spark's spark.executor.defaultJavaOptions: the V8 flags that make a task's hot code optimised sooner
 * are set by the executor itself once it has registered (HOT_CODE_V8_FLAGS in src/daemons/executor-backend.ts),
 * so that they do not slow its start.
 */
export const DEFAULT_EXECUTOR_NODE_OPTIONS = '';
