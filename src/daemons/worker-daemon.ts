// The worker daemon: WorkerMachine wired to a real RpcEnv, an HTTP server, timers and child processes.
// The machine decides; this file only carries out its effects and turns callbacks into inputs.

import { access, copyFile, mkdir, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { constants, existsSync } from 'node:fs';
import { isAbsolute, join, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { FLINT_HOME, programRelativePath } from '../util/install.ts';
import type { FlintConf } from '../conf/flint-conf.ts';
import { ConfigError } from '../errors.ts';
import { formatCredentialLine } from '../io/child-process/credential-line.ts';
import { NodeProcessLauncher } from '../io/child-process/node-process-launcher.ts';
import { json, startHttpServer, type StartedHttpServer } from '../io/http/http-server.ts';
import { readSslOptions } from '../io/tls/ssl-options.ts';
import type { ProcessExit } from '../ports/process-launcher.ts';
import { LIMITS } from '../protocol/limits.ts';
import { MasterToWorker } from '../protocol/messages.ts';
import { deriveKey, type Credential } from '../rpc/auth.ts';
import { RpcEnv } from '../rpc/rpc-env.ts';
import type { Logger } from '../util/logger.ts';
import {
  WorkerMachine,
  workerConfigFromConf,
  workerJson,
  type DriverLaunchSpec,
  type ExecutorLaunchSpec,
  type WorkerConfigInput,
  type WorkerEffect,
  type WorkerInput,
} from '../worker/index.ts';
import { MachineHost, SharedEffects, unknownEffect } from './machine-host.ts';
import { systemClock, systemRngStreams } from './system.ts';

export interface WorkerDaemonOptions {
  readonly conf: FlintConf;
  readonly logger: Logger;
  /** Host, ports (0 = any free one), cores, memory, work dir and master URLs, from flags and environment. */
  readonly base: WorkerConfigInput;
  readonly webUiHost?: string;
}

export interface WorkerDaemon {
  readonly workerId: string;
  readonly rpcPort: number;
  readonly webUiPort: number;
  /** Resolves with the exit code the worker chose (registration gave up, shutdown, …). */
  readonly exited: Promise<number>;
  shutdown(reason: string): Promise<number>;
}

const TERMINATE_TIMEOUT_MS = 10_000;
const SAFE_PATH_PART = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

export async function startWorkerDaemon(opts: WorkerDaemonOptions): Promise<WorkerDaemon> {
  const { conf, logger } = opts;
  const uiTls = readSslOptions(conf, 'ui', { listens: true }); // checked before anything listens
  const env = await RpcEnv.create({ name: 'flintWorker', host: opts.base.host, port: opts.base.port, conf, logger });
  let http: StartedHttpServer | undefined;
  try {
    const webUiPort = conf.getInt('flint.worker.ui.port', opts.base.webUiPort ?? 8081, LIMITS.bindPort);
    const ui: { machine?: WorkerMachine } = {};
    http = await startHttpServer(
      [
        { method: 'GET', path: '/json', handler: () => json(200, workerJson((ui.machine as WorkerMachine).snapshot(), systemClock.now())) },
        { method: 'GET', path: '/healthz', handler: () => json(200, { status: 'ok' }) },
      ],
      { host: opts.webUiHost ?? opts.base.host, port: webUiPort, logger, tls: uiTls },
    );
    const config = workerConfigFromConf(conf, {
      ...opts.base,
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
    const runtime = new WorkerRuntime(env, http, machine, config.workDir, logger);
    await runtime.start();
    return {
      workerId: machine.workerId,
      rpcPort: env.address?.port ?? 0,
      webUiPort: http.port,
      exited: runtime.exited,
      shutdown: (reason) => runtime.shutdown(reason),
    };
  } catch (err) {
    await http?.close();
    await env.shutdown();
    throw err;
  }
}

class WorkerRuntime {
  readonly exited: Promise<number>;
  readonly #env: RpcEnv;
  readonly #http: StartedHttpServer;
  readonly #workDir: string;
  readonly #logger: Logger;
  readonly #host: MachineHost<WorkerInput, WorkerEffect>;
  readonly #launcher = new NodeProcessLauncher();
  readonly #shared: SharedEffects;
  readonly #killed = new Set<string>();
  #resolveExit: (code: number) => void = () => {};
  #exiting = false;

  constructor(env: RpcEnv, http: StartedHttpServer, machine: WorkerMachine, workDir: string, logger: Logger) {
    this.#env = env;
    this.#http = http;
    this.#workDir = resolve(workDir);
    this.#logger = logger;
    this.exited = new Promise((done) => (this.#resolveExit = done));
    this.#host = new MachineHost<WorkerInput, WorkerEffect>(machine, (e) => this.#execute(e), { now: systemClock.now, logger });
    this.#shared = new SharedEffects({ transport: env, logger, submit: (input) => this.#submit(input as WorkerInput) });
  }

  async start(): Promise<void> {
    try {
      await mkdir(this.#workDir, { recursive: true });
      await access(this.#workDir, constants.W_OK);
    } catch (err) {
      throw new ConfigError(
        '--work-dir',
        `the work dir ${JSON.stringify(this.#workDir)} cannot be created or written: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`,
      );
    }
    this.#env.setupEndpoint('Worker', {
      messages: MasterToWorker,
      receive: (message, ctx) => this.#host.submit({ kind: 'MasterMessage', from: ctx.senderAddress, message }),
      onDisconnected: (envId) => this.#host.submit({ kind: 'Disconnected', envId }),
    });
    await this.#host.submit({ kind: 'Start' });
  }

  shutdown(reason: string): Promise<number> {
    void this.#host.submit({ kind: 'Shutdown', reason });
    return this.exited;
  }

  #submit(input: WorkerInput): void {
    void this.#host.submit(input);
  }

  async #execute(all: WorkerEffect): Promise<void> {
    const effect = this.#shared.take(all);
    if (effect === undefined) return;
    switch (effect.kind) {
      case 'LaunchExecutor': {
        const { appId, execId } = effect.spec;
        await this.#launch(effect.spec, {
          started: () => this.#submit({ kind: 'ExecutorProcessStarted', appId, execId }),
          exited: (exit, killedByWorker) =>
            this.#submit({ kind: 'ExecutorProcessExited', appId, execId, exitCode: exit.code, signal: exit.signal, killedByWorker }),
          failed: (error) => this.#submit({ kind: 'ExecutorLaunchFailed', appId, execId, error }),
        });
        return;
      }
      case 'LaunchDriver': {
        const { driverId } = effect.spec;
        const fetched = await this.#fetchAppResource(effect.spec.appResource, effect.spec.localAppResourcePath);
        if (fetched !== undefined) {
          this.#submit({ kind: 'DriverLaunchFailed', driverId, error: fetched });
          return;
        }
        await this.#launch(effect.spec, {
          started: () => this.#submit({ kind: 'DriverProcessStarted', driverId }),
          exited: (exit, killedByWorker) =>
            this.#submit({ kind: 'DriverProcessExited', driverId, exitCode: exit.code, signal: exit.signal, killedByWorker }),
          failed: (error) => this.#submit({ kind: 'DriverLaunchFailed', driverId, error }),
        });
        return;
      }
      case 'KillExecutor':
      case 'KillDriver':
        this.#kill(effect.processKey);
        return;
      case 'CleanupAppDirs':
        void this.#removeUnderWorkDir(effect.appId);
        return;
      case 'CleanupOldDirs':
        void this.#cleanupOldDirs(effect.modifiedBeforeMs, new Set(effect.keepNames));
        return;
      case 'Exit':
        await this.#exit(effect.code, effect.reason);
        return;
      default:
        return unknownEffect(effect);
    }
  }

  /** A directory the machine names must stay inside the work dir, whatever ids a message carried. */
  #insideWorkDir(path: string): boolean {
    const full = resolve(path);
    return full.startsWith(this.#workDir + sep);
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
    if (!this.#insideWorkDir(spec.cwd) || !this.#insideWorkDir(spec.stdoutPath) || !this.#insideWorkDir(spec.stderrPath)) {
      on.failed(`refusing to run ${spec.processKey} outside the work dir ${this.#workDir}`);
      return;
    }
    try {
      if (spec.cwdMustBeNew && existsSync(spec.cwd)) throw new Error(`directory ${spec.cwd} already exists`);
      await mkdir(spec.cwd, { recursive: true });
      await writeFile(spec.stderrPath, spec.stderrHeader);
      const launched = this.#launcher.launch(
        {
          key: spec.processKey,
          argv: spec.argv,
          env: { ...processEnv(), ...spec.env },
          cwd: spec.cwd,
          stdoutPath: spec.stdoutPath,
          stderrPath: spec.stderrPath,
          stdin: formatCredentialLine(this.#credentialFor(spec)),
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

  /** Only local files (a path or file:// URL) are fetched; returns an error message, or undefined on success. */
  async #fetchAppResource(resource: string, localPath: string): Promise<string | undefined> {
    if (existsSync(localPath)) return undefined;
    let source: string;
    if (resource.startsWith('file://')) source = fileURLToPath(resource);
    else if (isAbsolute(resource)) source = resource;
    else return `cannot fetch the app resource ${resource}: only absolute paths and file:// URLs are supported`;
    try {
      await mkdir(resolve(localPath, '..'), { recursive: true });
      await copyFile(source, localPath);
      return undefined;
    } catch (err) {
      return `cannot fetch the app resource ${resource}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`;
    }
  }

  async #removeUnderWorkDir(name: string): Promise<void> {
    if (!SAFE_PATH_PART.test(name)) {
      this.#logger.warn({ name }, 'not cleaning a directory whose name is not a plain id');
      return;
    }
    await rm(join(this.#workDir, name), { recursive: true, force: true }).catch((err: Error) =>
      this.#logger.warn({ name, err: err.message }, 'failed to clean up an app directory'),
    );
  }

  async #cleanupOldDirs(modifiedBeforeMs: number, keep: ReadonlySet<string>): Promise<void> {
    const entries = await readdir(this.#workDir, { withFileTypes: true }).catch(() => []);
    for (const entry of entries) {
      if (!entry.isDirectory() || keep.has(entry.name)) continue;
      const dir = join(this.#workDir, entry.name);
      if (!(await modifiedSince(dir, modifiedBeforeMs, 10_000))) {
        this.#logger.info({ dir }, 'removing an old work directory');
        await this.#removeUnderWorkDir(entry.name);
      }
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

/** True when any file under `dir` (bounded walk) was modified at or after `sinceMs`. */
async function modifiedSince(dir: string, sinceMs: number, budget: number): Promise<boolean> {
  const stack = [dir];
  for (let seen = 0; stack.length > 0 && seen < budget; seen++) {
    const current = stack.pop() as string;
    const info = await stat(current).catch(() => undefined);
    if (info === undefined) continue;
    if (info.mtimeMs >= sinceMs) return true;
    if (info.isDirectory()) {
      for (const name of await readdir(current).catch(() => [])) stack.push(join(current, name));
    }
  }
  return stack.length > 0; // walk cut short: keep the directory
}

/**
 * The worker's environment for children, without a FLINT_AUTH_SECRET an operator may have set there: children
 * get their own credential on stdin, never the cluster secret.
 */
function processEnv(): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) if (v !== undefined && k !== 'FLINT_AUTH_SECRET') out[k] = v;
  return out;
}
