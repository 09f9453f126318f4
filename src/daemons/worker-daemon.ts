// The worker daemon: WorkerMachine wired to its ports (a Transport, the process launcher, the work dir's files),
// an HTTP server and timers. The machine decides; this file only carries out its effects and turns callbacks into
// inputs. Every port can be injected (WorkerDaemonOptions): the daemons run in one process on MemoryNetwork in
// test/unit/daemons/in-memory-cluster.test.ts.

import { pruneCompileCache } from '../io/compile-cache/prune.ts';
import { removeOldAppCode } from '../io/worker-files/app-code-dir.ts';
import { join } from 'node:path';
import { FLINT_HOME, programRelativePath } from '../util/install.ts';
import type { FlintConf } from '../conf/flint-conf.ts';
import { discoverWorkerResources } from '../io/worker-resources/discover-resources.ts';
import { formatCredentialLine } from '../io/child-process/credential-line.ts';
import { NodeProcessLauncher } from '../io/child-process/node-process-launcher.ts';
import { cpuBinder } from '../io/child-process/cpu-affinity.ts';
import { ProcessCpu } from '../io/child-process/process-cpu.ts';
import { StandbyExecutorLauncher } from '../io/child-process/standby-launcher.ts';
import { ChangeSignal } from '../io/http/live-page.ts';
import { readPortMaxRetries } from '../io/http/port-retry.ts';
import { readUiAuthSettings } from '../io/http/ui-auth.ts';
import { bindUiServer, type StartedUiServer } from '../io/http/ui-server.ts';
import { ownLogFile } from '../io/logs/own-log-file.ts';
import { readSslOptions } from '../io/tls/ssl-options.ts';
import type { ProcessExit, ProcessLauncher } from '../ports/process-launcher.ts';
import type { Transport } from '../ports/transport.ts';
import type { WorkerFiles } from '../ports/worker-files.ts';
import { NodeWorkerFiles } from '../io/worker-files/node-worker-files.ts';
import { LIMITS } from '../protocol/limits.ts';
import { MasterToWorker } from '../protocol/messages.ts';
import { deriveKey, type Credential } from '../rpc/auth.ts';
import { RpcEnv, readRpcSettings, type RpcEnvOptions } from '../rpc/rpc-env.ts';
import { workerKeyring } from './keyrings.ts';
import { ShuffleService } from './shuffle-service.ts';
import type { Logger } from '../util/logger.ts';
import {
  APP_CODE_DIR,
  EXECUTOR_CPUS_KEY,
  WorkerMachine,
  logRollingFromConf,
  parseCpuList,
  resolveMainModule,
  workerConfigFromConf,
  type DriverLaunchSpec,
  type ExecutorLaunchSpec,
  type WorkerConfigInput,
  type WorkerEffect,
  type WorkerInput,
  type WorkerSnapshot,
} from '../worker/index.ts';
import { DirSize } from '../io/metrics/dir-size.ts';
import { readMetricsEnabled } from '../io/metrics/metrics-enabled.ts';
import { executorExitReason, WorkerMetrics } from '../io/metrics/worker-metrics.ts';
import { MachineHost, SharedEffects, unknownEffect } from './machine-host.ts';
import { systemClock, systemRngStreams } from './system.ts';
import { workerUiRoutes } from './worker-ui.ts';
import { withHugePages } from '../io/child-process/huge-pages.ts';

export interface WorkerDaemonOptions {
  readonly conf: FlintConf;
  readonly logger: Logger;
  /** Host, ports (0 = any free one), cores, memory, work dir and master URLs, from flags and environment. */
  readonly base: WorkerConfigInput;
  readonly webUiHost?: string;
  /** The RPC env; RpcEnv.create when not given (MemoryNetwork.create in tests that run daemons in one process). */
  readonly transport?: (opts: RpcEnvOptions) => Promise<Transport>;
  /** Starts executors and drivers; Node child processes (with `flint.executor.logs.rolling.*`) when not given. */
  readonly launcher?: ProcessLauncher;
  /** The work dir's files; node:fs under the configured work dir when not given. */
  readonly files?: (workDir: string) => WorkerFiles;
}

export interface WorkerDaemon {
  readonly workerId: string;
  readonly rpcPort: number;
  readonly webUiPort: number;
  /** Resolves with the exit code the worker chose (registration gave up, shutdown, …). */
  readonly exited: Promise<number>;
  shutdown(reason: string): Promise<number>;
  /**
   * The decommission signal (SIGPWR; SIGTERM with `flint.decommission.enabled`, then `exitWhenDrained`):
   * Spark's `WorkerDecommissionSigReceived`. Resolves once the worker handled it.
   */
  decommission(exitWhenDrained: boolean): Promise<void>;
}

const TERMINATE_TIMEOUT_MS = 10_000;

/**
 * flint.worker.standbyExecutors (how many executor processes the worker keeps started ahead, 1 by default; 0
 * turns them off) and flint.worker.standbyExecutors.memory (their heap limit, the default flint.executor.memory):
 * docs/standby-executors.md.
 */
function readStandbySettings(conf: FlintConf): { count: number; memoryMb: number } {
  return {
    count: conf.getInt('flint.worker.standbyExecutors', 1, { min: 0, max: 16 }),
    memoryMb: conf.getMemoryMb('flint.worker.standbyExecutors.memory', '1g'),
  };
}

/**
 * flint.worker.executorCpus (docs/configuration.md): the taskset that binds executors to the listed CPUs, checked
 * (cpu-affinity.ts's cpuBinder), or undefined when the key is unset.
 */
function readCpuBinder(conf: FlintConf): string | undefined {
  const list = conf.get(EXECUTOR_CPUS_KEY);
  return list === undefined ? undefined : cpuBinder(parseCpuList(list));
}

/** docs/metrics.md: the worker's gauges are read from its snapshot when scraped; launches and exits are counted. */
function workerMetrics(conf: FlintConf, workDir: string, snapshot: () => WorkerSnapshot | undefined): WorkerMetrics | undefined {
  return readMetricsEnabled(conf) ? new WorkerMetrics({ snapshot, workDir: new DirSize(workDir) }) : undefined;
}

export async function startWorkerDaemon(opts: WorkerDaemonOptions): Promise<WorkerDaemon> {
  const { conf, logger } = opts;
  const uiTls = readSslOptions(conf, 'ui', { listens: true }); // checked before anything listens
  // Also checked before anything listens: a bad flint.executor.logs.rolling.* value stops the worker here.
  const rolling = logRollingFromConf(conf);
  const standbys = readStandbySettings(conf);
  // So is flint.worker.executorCpus: a list this worker cannot bind its executors to stops it here.
  const taskset = readCpuBinder(conf);
  const nodeLauncher =
    opts.launcher === undefined
      ? new NodeProcessLauncher({ rolling, onLogError: (err, what) => logger.warn({ err: err.message }, what), ...optional('taskset', taskset) })
      : undefined;

  // The cluster's daemons, and executors of any application for the shuffle service (its endpoint checks which).
  const env = await (opts.transport ?? RpcEnv.create)({ name: 'flintWorker', host: opts.base.host, port: opts.base.port, conf, logger, keyring: workerKeyring(readRpcSettings(conf)) });
  let http: StartedUiServer | undefined;
  // The UI's port is bound before registration (the master needs its URL); its pages are built when the first
  // request comes, so that building them holds up no registration (bindUiServer).
  try {
    const webUiPort = conf.getInt('flint.worker.ui.port', opts.base.webUiPort ?? 8081, LIMITS.bindPort);
    const ui: { machine?: WorkerMachine; standbys?: StandbyExecutorLauncher } = {};
    const signal = new ChangeSignal();
    // Spark's `WorkerWebUI.bind` before registration: a taken port moves on to the next (Utils.startServiceOnPort).
    const uiAuth = readUiAuthSettings(conf, env.settings.secret);
    const metrics = workerMetrics(conf, opts.base.workDir, () => ui.machine?.snapshot());
    const bound = await bindUiServer({
      serviceName: 'worker web UI',
      // Built on its first request (an operator, the master's links, a scrape, a probe): building it right after
      // registering took the worker's thread for about 140 ms while the master answered it (docs/ui.md, "Ports").
      buildOnFirstRequest: true,
      host: opts.webUiHost ?? opts.base.host,
      publicHost: opts.base.publicAddress ?? opts.base.host,
      port: webUiPort,
      maxRetries: readPortMaxRetries(conf),
      tls: uiTls,
      logger,
      auth: uiAuth,
      staticDir: join(FLINT_HOME, 'static'),
      routes: (metrics?.routes() ?? []).concat(workerUiRoutes({
        snapshot: () => (ui.machine as WorkerMachine).snapshot(),
        signal,
        roots: { workDir: opts.base.workDir, ...optional('daemonLogFile', ownLogFile()) },
        now: systemClock.now,
        logger,
        uiToken: uiAuth.token,
        standbys: () => ui.standbys?.status(),
      })),
    });
    http = bound;
    // Printed once, as Jupyter does: the URL holds the UI token (never the secret) and goes nowhere else.
    if (http.loginUrl !== undefined) logger.info({ loginUrl: http.loginUrl }, `worker web UI: log in at ${http.loginUrl}`);
    // Spark's `setupWorkerResources`: a resource that cannot be found stops the worker before it registers.
    const resources = await discoverWorkerResources(conf);
    const config = workerConfigFromConf(conf, {
      ...opts.base,
      ...(resources === undefined ? {} : { resources }),
      port: env.address?.port ?? opts.base.port,
      webUiPort: http.port,
      webUiScheme: http.scheme,
      nodeExecutable: process.execPath,
      // `flint:<entry>` main modules: this install's programs, in the form (sources or build) the worker runs from.
      flintHome: FLINT_HOME,
      flintEntries: { executor: programRelativePath('executor'), driver: programRelativePath('driver') },
    });
    const machine = new WorkerMachine(config, { rng: systemRngStreams().stream('worker.registration'), now: systemClock.now() });
    ui.machine = machine;
    const files = (opts.files ?? ((dir) => new NodeWorkerFiles(dir)))(config.workDir);
    const shuffle = new ShuffleService(env, config.workDir, logger, env.settings.secret !== undefined);
    // Standby executors move an executor's output files when adopted, which rolled logs do not allow.
    const executorProgram = resolveMainModule('flint:executor', config.flintHome, config.flintEntries);
    const standbyLauncher =
      nodeLauncher !== undefined && rolling === undefined && standbys.count > 0 && executorProgram.ok
        ? new StandbyExecutorLauncher(nodeLauncher, {
            ...standbys,
            nodeExecutable: config.nodeExecutable,
            programPath: executorProgram.path,
            dir: join(config.workDir, '.standby'),
            env: processEnv(),
            logger,
            cores: config.cores,
            processCpu: new ProcessCpu(),
            ...optional('taskset', taskset),
          })
        : undefined;
    ui.standbys = standbyLauncher;
    const launcher: ProcessLauncher = standbyLauncher ?? nodeLauncher ?? (opts.launcher as ProcessLauncher);
    const cacheDir = process.env['NODE_COMPILE_CACHE'];
    const compileCache = cacheDir === undefined || cacheDir === '' ? undefined : { dir: cacheDir, maxBytes: config.cleanup.compileCacheMaxBytes };
    const runtime = new WorkerRuntime({ env, http, machine, files, launcher, logger, signal, shuffle, metrics, compileCache });
    await runtime.start();
    // Once registered: a standby's start (a Node process loading its modules) must not delay the registration.
    if (standbyLauncher !== undefined) {
      const startWhenRegistered = (): void => {
        if (!machine.snapshot().registered) return;
        stopWatching();
        standbyLauncher.start();
      };
      const stopWatching = signal.subscribe(startWhenRegistered);
      startWhenRegistered();
    }
    return {
      workerId: machine.workerId,
      rpcPort: env.address?.port ?? 0,
      webUiPort: http.port,
      exited: runtime.exited,
      shutdown: (reason) => runtime.shutdown(reason),
      decommission: (exitWhenDrained) => runtime.decommission(exitWhenDrained),
    };
  } catch (err) {
    await http?.close();
    await env.shutdown();
    throw err;
  }
}

interface WorkerRuntimeParts {
  readonly env: Transport;
  readonly http: StartedUiServer;
  readonly machine: WorkerMachine;
  readonly files: WorkerFiles;
  readonly launcher: ProcessLauncher;
  readonly logger: Logger;
  /** Notified after every input the machine handled: the web UI's live pages re-render. */
  readonly signal: ChangeSignal;
  readonly shuffle: ShuffleService;
  /** Counts executor launches and exits; undefined with flint.metrics.enabled=false. */
  readonly metrics: WorkerMetrics | undefined;
  /**
   * Node's compile cache this worker and its children write to (NODE_COMPILE_CACHE, set by src/cli/main.ts), and the
   * size each cleanup sweep trims it to; undefined when the cache is off.
   */
  readonly compileCache: { readonly dir: string; readonly maxBytes: number } | undefined;
}

class WorkerRuntime {
  readonly #shuffle: ShuffleService;
  readonly exited: Promise<number>;
  readonly #env: Transport;
  readonly #http: StartedUiServer;
  readonly #signal: ChangeSignal;
  readonly #files: WorkerFiles;
  readonly #logger: Logger;
  readonly #host: MachineHost<WorkerInput, WorkerEffect>;
  readonly #launcher: ProcessLauncher;
  readonly #shared: SharedEffects;
  readonly #killed = new Set<string>();
  readonly #metrics: WorkerMetrics | undefined;
  readonly #compileCache: WorkerRuntimeParts['compileCache'];
  #resolveExit: (code: number) => void = () => {};
  #exiting = false;

  constructor({ env, http, machine, files, launcher, logger, signal, shuffle, metrics, compileCache }: WorkerRuntimeParts) {
    this.#compileCache = compileCache;
    this.#shuffle = shuffle;
    this.#metrics = metrics;
    this.#env = env;
    this.#signal = signal;
    this.#http = http;
    this.#files = files;
    this.#launcher = launcher;
    this.#logger = logger;
    this.exited = new Promise((done) => (this.#resolveExit = done));
    this.#host = new MachineHost<WorkerInput, WorkerEffect>(machine, (e) => this.#execute(e), { now: systemClock.now, logger });
    this.#shared = new SharedEffects({ transport: env, logger, submit: (input) => this.#submit(input as WorkerInput) });
  }

  async start(): Promise<void> {
    await this.#files.prepareWorkDir();
    this.#shuffle.start();
    this.#env.setupEndpoint('Worker', {
      messages: MasterToWorker,
      receive: (message, ctx) => this.#handle({ kind: 'MasterMessage', from: ctx.senderAddress, message }),
      onDisconnected: (envId) => this.#handle({ kind: 'Disconnected', envId }),
    });
    await this.#handle({ kind: 'Start' });
  }

  shutdown(reason: string): Promise<number> {
    void this.#handle({ kind: 'Shutdown', reason });
    return this.exited;
  }

  decommission(exitWhenDrained: boolean): Promise<void> {
    return this.#handle({ kind: 'DecommissionSignal', exitWhenDrained });
  }

  /** Every input goes through here: handled by the machine, then the UI's live pages are told (live-page.ts). */
  async #handle(input: WorkerInput): Promise<void> {
    await this.#host.submit(input);
    this.#signal.notify();
  }

  #submit(input: WorkerInput): void {
    void this.#handle(input);
  }

  /**
   * Carries out one effect. Launches, a shuffle's removal and the exit return a promise; every other effect
   * (the messages) is done when this returns, so it leaves in the turn of the input that caused it.
   */
  #execute(all: WorkerEffect): void | Promise<void> {
    const effect = this.#shared.take(all);
    if (effect === undefined) return;
    switch (effect.kind) {
      case 'LaunchExecutor': {
        const { appId, execId } = effect.spec;
        this.#metrics?.executorLaunched();
        return this.#launch(effect.spec, {
          started: () => this.#submit({ kind: 'ExecutorProcessStarted', appId, execId }),
          exited: (exit, killedByWorker) => {
            this.#metrics?.executorEnded(executorExitReason(exit, killedByWorker));
            this.#submit({ kind: 'ExecutorProcessExited', appId, execId, exitCode: exit.code, signal: exit.signal, killedByWorker });
          },
          failed: (error) => {
            this.#metrics?.executorEnded('launch_failed');
            this.#submit({ kind: 'ExecutorLaunchFailed', appId, execId, error });
          },
        });
      }
      case 'LaunchDriver':
        return this.#launchDriver(effect.spec);
      case 'KillExecutor':
      case 'KillDriver':
        this.#kill(effect.processKey);
        return;
      case 'RemoveAppShuffle':
        return this.#shuffle.removeApplication(effect.appId);
      case 'CleanupOldDirs':
        void this.#cleanupOldDirs(effect.modifiedBeforeMs, new Set(effect.keepNames))
          .then(() => this.#removeOldAppCode(join(effect.workDir, APP_CODE_DIR), effect.modifiedBeforeMs))
          .then(() => this.#pruneCompileCache());
        return;
      case 'Exit':
        return this.#exit(effect.code, effect.reason);
      default:
        return unknownEffect(effect);
    }
  }

  async #launchDriver(spec: DriverLaunchSpec): Promise<void> {
    const { driverId } = spec;
    const fetched = await this.#files.fetchAppResource(spec.appResource, spec.localAppResourcePath);
    if (fetched !== undefined) {
      this.#submit({ kind: 'DriverLaunchFailed', driverId, error: fetched });
      return;
    }
    await this.#launch(spec, {
      started: () => this.#submit({ kind: 'DriverProcessStarted', driverId }),
      exited: (exit, killedByWorker) =>
        this.#submit({ kind: 'DriverProcessExited', driverId, exitCode: exit.code, signal: exit.signal, killedByWorker }),
      failed: (error) => this.#submit({ kind: 'DriverLaunchFailed', driverId, error }),
    });
  }

  /**
   * What a child proves to its peers, derived here from the cluster secret, which never leaves this process:
   * an executor speaks for its application to its driver, a cluster-mode driver for itself to the master.
   */
  #credentialFor(spec: ExecutorLaunchSpec | DriverLaunchSpec): Credential | undefined {
    const secret = this.#env.settings.secret;
    if (secret === undefined) return undefined;
    return 'execId' in spec
      ? { principal: `executor:${spec.appId}`, key: deriveKey(secret, 'executor', spec.appId) }
      : { principal: `driver:${spec.driverId}`, key: deriveKey(secret, 'driver', spec.driverId) };
  }

  async #launch(
    spec: ExecutorLaunchSpec | DriverLaunchSpec,
    on: { started(): void; exited(exit: ProcessExit, killedByWorker: boolean): void; failed(error: string): void },
  ): Promise<void> {
    try {
      await this.#files.prepareProcessDir(spec);
      const launched = this.#launcher.launch(
        {
          key: spec.processKey,
          argv: spec.argv,
          env: { ...processEnv(), ...spec.env },
          cwd: spec.cwd,
          stdoutPath: spec.stdoutPath,
          stderrPath: spec.stderrPath,
          stdin: formatCredentialLine(this.#credentialFor(spec)),
          ...('cpus' in spec && spec.cpus !== undefined ? { cpus: spec.cpus } : {}),
        },
        (exit) => on.exited(exit, this.#killed.delete(spec.processKey)),
      );
      this.#logger.info({ processKey: spec.processKey, pid: launched.pid }, `launched ${spec.processKey}`);
      on.started();
    } catch (err) {
      on.failed((err as Error).message);
    }
  }

  #kill(processKey: string): void {
    if (!this.#launcher.running().includes(processKey)) return;
    this.#killed.add(processKey);
    this.#launcher.kill(processKey, 'SIGTERM');
    setTimeout(() => {
      if (this.#launcher.running().includes(processKey)) this.#launcher.kill(processKey, 'SIGKILL');
    }, TERMINATE_TIMEOUT_MS).unref();
  }

  async #cleanupOldDirs(modifiedBeforeMs: number, keep: ReadonlySet<string>): Promise<void> {
    const old = await this.#files.oldAppDirs(modifiedBeforeMs, keep).catch((err: Error) => {
      this.#logger.warn({ err: err.message }, 'could not list the work dir for its periodic cleanup');
      return [];
    });
    for (const name of old) {
      this.#logger.info({ dir: name }, 'removing an old work directory');
      await this.#files.removeAppDir(name).catch((err: Error) => this.#logger.warn({ name, err: err.message }, 'failed to clean up an app directory'));
    }
  }

  /** Removes the shared bundles no executor has used since the sweep's cut-off (src/io/worker-files/app-code-dir.ts). */
  async #removeOldAppCode(dir: string, modifiedBeforeMs: number): Promise<void> {
    try {
      const removed = await removeOldAppCode(dir, modifiedBeforeMs);
      if (removed > 0) this.#logger.info({ dir, removed }, 'removed application bundles no executor has used within flint.worker.cleanup.appDataTtl');
    } catch (err) {
      this.#logger.warn({ dir, err: (err as Error).message }, 'could not clean up the application bundles');
    }
  }

  /** Trims Node's compile cache (src/io/compile-cache/prune.ts), after the sweep of old directories. */
  async #pruneCompileCache(): Promise<void> {
    const cache = this.#compileCache;
    if (cache === undefined) return;
    try {
      const pruned = await pruneCompileCache(cache.dir, cache.maxBytes);
      if (pruned.removedFiles > 0) {
        this.#logger.info(
          { dir: cache.dir, removed: pruned.removedFiles, removedBytes: pruned.removedBytes, left: pruned.files - pruned.removedFiles, leftBytes: pruned.bytes - pruned.removedBytes },
          "trimmed Node's compile cache to flint.worker.cleanup.compileCacheMaxSize",
        );
      }
    } catch (err) {
      this.#logger.warn({ dir: cache.dir, err: (err as Error).message }, "could not trim Node's compile cache");
    }
  }

  async #exit(code: number, reason: string): Promise<void> {
    if (this.#exiting) return;
    this.#exiting = true;
    this.#logger.debug({ code }, `exiting: ${reason}`);
    this.#host.close();
    this.#shared.cancelTimers();
    await this.#launcher.killAll(TERMINATE_TIMEOUT_MS);
    await this.#http.close();
    await this.#env.shutdown();
    this.#resolveExit(code);
  }
}

function optional<K extends string, V>(key: K, value: V | undefined): { [P in K]?: V } {
  return (value === undefined ? {} : { [key]: value }) as { [P in K]?: V };
}

/**
 * The worker's environment for children, without a FLINT_AUTH_SECRET an operator may have set there: children
 * get their own credential on stdin, never the cluster secret; and with transparent huge pages asked of glibc's
 * malloc (withHugePages).
 */
function processEnv(): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) if (v !== undefined && k !== 'FLINT_AUTH_SECRET') out[k] = v;
  return withHugePages(out);
}
