// The master daemon: MasterMachine wired to a real RpcEnv, an HTTP server, timers, a persistence store and
// a leader election. The machine decides; this file carries out its effects in order and turns callbacks
// (messages, disconnects, timers, leadership) into inputs.

import { ownLogFile } from '../io/logs/own-log-file.ts';
import { TypeCompiler } from '@sinclair/typebox/compiler';
import type { FlintConf } from '../conf/flint-conf.ts';
import { join } from 'node:path';
import { ChangeSignal } from '../io/http/live-page.ts';
import { listenWithRetries, readPortMaxRetries } from '../io/http/port-retry.ts';
import { readUiAuthSettings } from '../io/http/ui-auth.ts';
import { bindUiServer, type StartedUiServer } from '../io/http/ui-server.ts';
// fastify and its plugins are loaded with the master, before it opens a ZooKeeper session (master-command.ts
// imports this module first), and its pages are built as soon as it has started: loading them or building the
// pages on the first UI request took the master's thread, at whatever moment that request came, long enough on a
// loaded machine for ZooKeeper to suspend a short session and revoke the master's leadership (docs/ui.md, "Ports").
import '../io/http/fastify-modules.ts';
import { UTILIZATION_SAMPLE_MS, UtilizationHistory } from '../ui/utilization.ts';
import { FLINT_HOME } from '../util/install.ts';
import { masterUiRoutes, utilizationNow } from './master-ui.ts';
import { MasterMetrics } from '../io/metrics/master-metrics.ts';
import { readMetricsEnabled } from '../io/metrics/metrics-enabled.ts';
import { LIMITS } from '../protocol/limits.ts';
import { readSslOptions } from '../io/tls/ssl-options.ts';
import {
  EMPTY_PERSISTED_STATE,
  MasterMachine,
  PersistedRecord,
  isMasterAsk,
  type MasterAsk,
  type MasterEffect,
  type MasterInbound,
  type MasterInput,
  type MasterReplyMessage,
  type PersistedMasterState,
} from '../master/index.ts';
import { MonarchyLeaderElection, type LeaderElection } from '../ports/leader-election.ts';
import { NullPersistenceStore, type PersistenceStore } from '../ports/persistence-store.ts';
import { mergeCatalogs } from '../protocol/catalog.ts';
import { AdminToMaster, AppToMaster, ClientToMaster, MasterQueries, WorkerToMaster } from '../protocol/messages.ts';
import { parseEndpointAddress } from '../rpc/address.ts';
import { RpcEnv, readRpcSettings, type RpcEnvOptions } from '../rpc/rpc-env.ts';
import type { Transport } from '../ports/transport.ts';
import { masterKeyring, sealedExecutorKey } from './keyrings.ts';
import { LogLimiter } from '../util/log-limiter.ts';
import type { Logger } from '../util/logger.ts';
import { masterConfigFromConf } from './master-conf.ts';
import { readRestSettings, startRestGateway } from './rest-gateway.ts';
import type { StartedRestServer } from '../io/http/rest-server.ts';
import type { GatewayMaster } from '../rest/driver-submission.ts';
import { MachineHost, ReplyBook, SharedEffects, unknownEffect } from './machine-host.ts';
import { systemClock, systemRngStreams } from './system.ts';

const MasterInboundCatalog = mergeCatalogs<MasterInbound>(
  'Master',
  WorkerToMaster,
  AppToMaster,
  ClientToMaster,
  AdminToMaster,
  MasterQueries,
);

export interface MasterDaemonOptions {
  readonly conf: FlintConf;
  readonly logger: Logger;
  readonly host: string;
  readonly publicHost?: string;
  readonly port: number;
  readonly webUiPort: number;
  /**
   * The RPC port was not given explicitly (the CLI's default 7077): when it is taken, the next ones are tried,
   * up to `flint.port.maxRetries` (Spark's `Utils.startServiceOnPort`). A port given explicitly is that port.
   */
  readonly retryRpcPort?: boolean;
  /** Where the web UI listens; `host` when not given. */
  readonly webUiHost?: string;
  readonly store?: PersistenceStore;
  readonly election?: LeaderElection;
  /** The RPC env; RpcEnv.create when not given (MemoryNetwork.create in tests that run daemons in one process). */
  readonly transport?: (opts: RpcEnvOptions) => Promise<Transport>;
}

export interface MasterDaemon {
  readonly rpcPort: number;
  readonly webUiPort: number;
  readonly masterUrl: string;
  /** The web UI's URL as given to workers and apps: `https://` when flint.ssl.ui is on. */
  readonly webUiUrl: string;
  /** The web UI's login URL (`…/?token=<token>`); undefined for an open UI. A credential: see docs/security.md. */
  readonly webUiLoginUrl: string | undefined;
  /** The REST gateway's port (docs/rest.md); undefined when flint.master.rest.enabled is off. */
  readonly restPort: number | undefined;
  readonly exited: Promise<number>;
  shutdown(reason: string): Promise<number>;
}

export async function startMasterDaemon(opts: MasterDaemonOptions): Promise<MasterDaemon> {
  const { conf, logger } = opts;
  const uiTls = readSslOptions(conf, 'ui', { listens: true }); // checked before anything listens
  const rpcSettings = readRpcSettings(conf);
  const keyring = masterKeyring(rpcSettings);
  const uiAuth = readUiAuthSettings(conf, rpcSettings.secret);
  const killEnabled = conf.getBoolean('flint.ui.killEnabled', true);
  const restSettings = readRestSettings(conf, rpcSettings); // checked before anything listens
  const metricsEnabled = readMetricsEnabled(conf);
  const maxRetries = readPortMaxRetries(conf);
  // The master's own settings, checked before anything listens (the ports are filled in once bound, below).
  masterConfigFromConf(conf, { host: opts.host, publicHost: opts.publicHost ?? opts.host, port: opts.port, webUiPort: 0, webUiScheme: 'http' });
  const bindRpc = (port: number) => (opts.transport ?? RpcEnv.create)({ name: 'flintMaster', host: opts.host, port, conf, logger, keyring });
  // Spark's Utils.startServiceOnPort: a port given explicitly is that port or a failure; the default moves on.
  const env = opts.retryRpcPort === true ? await listenWithRetries(opts.port, bindRpc, { serviceName: 'master RPC', maxRetries, logger }) : await bindRpc(opts.port);
  const ui: { machine?: MasterMachine; runtime?: MasterRuntime } = {};
  const signal = new ChangeSignal();
  const utilization = new UtilizationHistory();
  let server: StartedUiServer | undefined;
  let rest: StartedRestServer | undefined;
  const gatewayMaster: { current?: GatewayMaster } = {};
  // docs/metrics.md: read at scrape time from the machine's state; only events are counted as they happen.
  const metrics = metricsEnabled
    ? new MasterMetrics({ state: () => ui.machine?.state, now: systemClock.now, handshakeFailures: () => env.handshakeFailures ?? 0 })
    : undefined;
  // The UI's port is bound first (its URL is part of the master's state); its pages are built once the master
  // has started (see the import of fastify-modules.ts above).
  try {
    const bound = await bindUiServer({
      serviceName: 'master web UI',
      host: opts.webUiHost ?? opts.host,
      publicHost: opts.publicHost ?? opts.webUiHost ?? opts.host,
      port: conf.getInt('flint.master.ui.port', opts.webUiPort, LIMITS.bindPort),
      maxRetries,
      tls: uiTls,
      logger,
      auth: uiAuth,
      staticDir: join(FLINT_HOME, 'static'),
      routes: (metrics?.routes() ?? []).concat(masterUiRoutes({
        state: () => (ui.machine as MasterMachine).state,
        now: systemClock.now,
        signal,
        killEnabled,
        utilization,
        killApplication: (appId) => (ui.runtime as MasterRuntime).submit({ kind: 'KillApplication', appId }),
        killDriver: (driverId) => (ui.runtime as MasterRuntime).askAndForget({ type: 'RequestKillDriver', driverId }),
        decommissionEnabled: conf.getBoolean('flint.decommission.enabled', false),
        decommissionWorkers: (message) => (ui.runtime as MasterRuntime).askForCount(message),
        uiToken: uiAuth.token,
        daemonLogFile: ownLogFile(),
        logger,
      })),
    });
    server = bound;
    if (restSettings !== undefined) {
      rest = await startRestGateway({
        settings: restSettings,
        rpc: rpcSettings,
        host: opts.host,
        maxRetries,
        tls: uiTls,
        logger,
        master: () => gatewayMaster.current,
        ask: (message) => (ui.runtime as MasterRuntime).ask(message, rpcSettings.askTimeoutMs),
      });
    }
    const config = masterConfigFromConf(conf, {
      host: opts.host,
      publicHost: opts.publicHost ?? opts.host,
      port: env.address?.port ?? opts.port,
      webUiPort: server.port,
      webUiScheme: server.scheme,
      ...(rest === undefined ? {} : { restPort: rest.port }),
    });
    const machine = new MasterMachine(config, systemRngStreams().stream('master.shuffle'), metrics?.probes);
    ui.machine = machine;
    const runtime = new MasterRuntime(env, server, machine, opts.store ?? new NullPersistenceStore(), opts.election ?? new MonarchyLeaderElection(), logger, {
      signal,
      utilization,
      rest,
      metrics,
    });
    ui.runtime = runtime;
    await runtime.start();
    setImmediate(() =>
      bound.build().catch((err: unknown) => {
        logger.error({ err: String(err) }, 'the master web UI could not be built; stopping');
        void runtime.shutdown('the web UI could not be built');
      }),
    );
    if (rest !== undefined) gatewayMaster.current = { masterUrl: config.masterUrl, rpcPort: config.port, restPort: rest.port };
    if (server.loginUrl !== undefined) {
      // Once, as Jupyter prints its URL: this line holds a credential (docs/security.md, "The web UIs").
      logger.info({ loginUrl: server.loginUrl, tokenSource: uiAuth.tokenSource }, `Web UI login URL (open it to log in): ${server.loginUrl}`);
    }
    return {
      rpcPort: env.address?.port ?? 0,
      webUiPort: server.port,
      masterUrl: config.masterUrl,
      webUiUrl: config.masterWebUiUrl,
      webUiLoginUrl: server.loginUrl,
      restPort: rest?.port,
      exited: runtime.exited,
      shutdown: (reason) => runtime.shutdown(reason),
    };
  } catch (err) {
    await rest?.close();
    await server?.close();
    await env.shutdown();
    throw err;
  }
}

/** What the web UI needs of the runtime: the live pages' signal and the utilization samples it takes. */
interface RuntimeUi {
  readonly signal: ChangeSignal;
  readonly utilization: UtilizationHistory;
  /** The REST gateway, closed with the master. */
  readonly rest?: StartedRestServer | undefined;
  /** Counts the messages received and follows the recovery state; undefined with flint.metrics.enabled=false. */
  readonly metrics: MasterMetrics | undefined;
}

class MasterRuntime {
  readonly exited: Promise<number>;
  readonly #env: Transport;
  readonly #http: StartedUiServer;
  readonly #ui: RuntimeUi;
  #sampler: NodeJS.Timeout | undefined;
  readonly #store: PersistenceStore;
  readonly #election: LeaderElection;
  readonly #logger: Logger;
  /**
   * The machine's log lines, at most LOG_BURST per template in 10 s, then one summary: when thousands of
   * workers drop at once (or register at once) the master writes a bounded number of lines, not two each.
   */
  readonly #limiter: LogLimiter;
  readonly #host: MachineHost<MasterInput, MasterEffect>;
  readonly #replies = new ReplyBook<MasterReplyMessage>();
  readonly #machine: MasterMachine;
  readonly #shared: SharedEffects;
  /** Bumped on every grant and revocation: a grant's read that finishes after its term ended is dropped. */
  #leadership = 0;
  #revoked = false;
  #resolveExit: (code: number) => void = () => {};
  #stopping = false;

  constructor(
    env: Transport,
    http: StartedUiServer,
    machine: MasterMachine,
    store: PersistenceStore,
    election: LeaderElection,
    logger: Logger,
    ui: RuntimeUi,
  ) {
    this.#env = env;
    this.#http = http;
    this.#ui = ui;
    this.#store = store;
    this.#election = election;
    this.#logger = logger;
    this.#limiter = new LogLimiter(logger, { burst: LOG_BURST });
    this.exited = new Promise((done) => (this.#resolveExit = done));
    this.#host = new MachineHost<MasterInput, MasterEffect>(machine, (e) => this.#execute(e), {
      now: systemClock.now,
      logger,
      afterInput: () => {
        ui.metrics?.afterInput();
        ui.signal.notify();
      },
    });
    this.#machine = machine;
    this.#shared = new SharedEffects({
      transport: env,
      logger,
      submit: (input) => void this.#host.submit(input as MasterInput),
      replies: this.#replies,
      writeLog: (effect) => this.#limiter.log(effect.level, logTemplate(effect.msg), { ...effect.fields }, effect.msg),
    });
  }

  async start(): Promise<void> {
    this.#env.setupEndpoint('Master', {
      messages: MasterInboundCatalog,
      receive: (message, ctx) => {
        this.#ui.metrics?.countMessage(message.type);
        if (isMasterAsk(message)) {
          // An ask sent one-way (an older client): handle it, and drop the reply.
          const token = this.#replies.open({ reply: () => {}, sendFailure: () => {} });
          return this.#host.submit({ kind: 'Ask', from: ctx.senderAddress, replyTo: token, message });
        }
        return this.#host.submit({ kind: 'Receive', from: ctx.senderAddress, message });
      },
      receiveAndReply: (message, ctx) => {
        this.#ui.metrics?.countMessage(message.type);
        if (!isMasterAsk(message)) {
          ctx.sendFailure(new Error(`${message.type} is a one-way message: send it, do not ask`));
          return undefined;
        }
        return this.#host.submit({ kind: 'Ask', from: ctx.senderAddress, replyTo: this.#replies.open(ctx), message });
      },
      onDisconnected: (envId) => this.#host.submit({ kind: 'Disconnected', envId }),
    });
    await this.#host.submit({ kind: 'Start' });
    this.#sample();
    this.#sampler = setInterval(() => this.#sample(), UTILIZATION_SAMPLE_MS);
    this.#sampler.unref();
    this.#election.start({
      granted: () => void this.#onGranted(++this.#leadership),
      revoked: () => {
        this.#leadership++; // a read of the persisted state still in flight is for a term that ended
        // Stop acting now, not when the queued input comes up: from here on no effect of an input already
        // being carried out reaches a peer or the store (a new leader may be acting already).
        this.#revoked = true;
        void this.#host.submit({ kind: 'RevokedLeadership' });
      },
    });
  }

  /** Feeds the machine an input from the web UI; resolves once it has been handled. */
  submit(input: MasterInput): Promise<void> {
    return this.#host.submit(input);
  }

  /** Feeds the machine an ask from the web UI whose reply nobody waits for (Spark's kill-driver button). */
  askAndForget(message: Extract<MasterInput, { kind: 'Ask' }>['message']): Promise<void> {
    const token = this.#replies.open({ reply: () => {}, sendFailure: () => {} });
    return this.#host.submit({ kind: 'Ask', from: WEB_UI_ENV, replyTo: token, message });
  }

  /**
   * Feeds the machine an ask from the REST gateway (docs/rest.md) and resolves with its reply: the same asks, and
   * the same handlers, as an RPC client's. Rejects when the machine fails it or no reply came within `timeoutMs`.
   */
  ask(message: MasterAsk, timeoutMs: number): Promise<MasterReplyMessage> {
    return new Promise<MasterReplyMessage>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`the master did not answer ${message.type} within ${timeoutMs} ms`)), timeoutMs);
      const settle = (fn: () => void) => () => void (clearTimeout(timer), fn());
      const token = this.#replies.open({
        reply: (reply) => settle(() => resolve(reply))(),
        sendFailure: (err) => settle(() => reject(err))(),
      });
      if (this.#stopping) this.#replies.fail(token, 'the master is stopping');
      else void this.#host.submit({ kind: 'Ask', from: REST_ENV, replyTo: token, message });
    });
  }

  /** Feeds the machine a decommission ask from the web UI and resolves with the count it answers. */
  askForCount(message: Extract<MasterInput, { kind: 'Ask' }>['message'] & { type: 'DecommissionWorkers' | 'DecommissionWorkersOnHosts' }): Promise<number> {
    return new Promise((resolve, reject) => {
      const token = this.#replies.open({ reply: (reply) => resolve(reply.type === 'DecommissionWorkersResponse' ? reply.count : 0), sendFailure: reject });
      void this.#host.submit({ kind: 'Ask', from: WEB_UI_ENV, replyTo: token, message });
    });
  }

  /** One utilization sample: the sums of /json/clusterutilization over the ALIVE workers. */
  #sample(): void {
    this.#ui.utilization.record(utilizationNow(this.#machine.state, systemClock.now()));
    this.#ui.signal.notify();
  }

  shutdown(reason: string): Promise<number> {
    void this.#stop(0, reason);
    return this.exited;
  }

  /**
   * Leadership granted: read back what was persisted, then feed ElectedLeader. A read that fails (the store's
   * server not reachable yet, SPARK-25101) is retried, every second at most, while this term lasts; the master
   * stays STANDBY meanwhile.
   */
  async #onGranted(term: number): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      if (this.#stopping || term !== this.#leadership) return;
      try {
        const persisted = await readPersisted(this.#store, this.#logger);
        if (this.#stopping || term !== this.#leadership) return;
        await this.#host.submit({ kind: 'ElectedLeader', persisted });
        return;
      } catch (err) {
        this.#logger.warn({ attempt, err: (err as Error).message }, 'could not read the persisted state; still STANDBY, retrying');
        await new Promise((resolve) => setTimeout(resolve, Math.min(100 * attempt, 1_000)));
      }
    }
  }

  /**
   * Carries out one effect. Only a persist to a store that has something to wait for returns a promise; every
   * other effect is done when this returns, so an input's effects (the persist of a worker, then the reply to
   * it) run in the same turn as the message that caused them, and the reply leaves in the same write as the
   * handshake's WELCOME (docs/benchmarks.md, bench:master).
   */
  #execute(effect: MasterEffect): void | Promise<void> {
    if (this.#revoked && (effect.kind === 'Send' || effect.kind === 'Persist' || effect.kind === 'Unpersist' || effect.kind === 'Reply')) {
      this.#logger.debug({ effect: effect.kind }, 'leadership revoked: effect dropped');
      if (effect.kind === 'Reply') {
        this.#replies.fail(effect.token, 'the master lost its leadership');
      }
      return;
    }
    if (effect.kind === 'Send' && effect.message.type === 'RegisteredApplication') {
      this.#shared.take({ ...effect, message: this.#withExecutorKey(effect.to, effect.message) });
      return;
    }
    const own = this.#shared.take(effect);
    if (own === undefined) return;
    switch (own.kind) {
      case 'Persist':
      case 'Unpersist': {
        let pending: Promise<void> | undefined;
        try {
          pending = own.kind === 'Persist' ? this.#store.put(own.key, own.record) : this.#store.delete(own.key);
        } catch (err) {
          throw this.#persistFailed(own.key, err);
        }
        return pending?.catch((err: unknown) => {
          throw this.#persistFailed(own.key, err);
        });
      }
      case 'StepDown':
        this.#logger.error({ reason: own.reason }, `Leadership has been revoked; the master is shutting down: ${own.reason}`);
        void this.#stop(0, own.reason);
        return;
      default:
        return unknownEffect(own);
    }
  }

  /**
   * A persist or unpersist failed. The machine decides (PersistFailed: it stops, fail-stop). Until that input
   * comes up, nothing the machine emits reaches a peer or the store; the caller rethrows what this returns, which
   * stops this input's later effects.
   */
  #persistFailed(key: string, err: unknown): unknown {
    this.#revoked = true;
    void this.#host.submit({ kind: 'PersistFailed', key, error: (err as Error).message });
    return err;
  }

  /**
   * RegisteredApplication carries the key of the application's executors, sealed for the driver with the key
   * its connection proved; the machine knows nothing of keys. Without authentication there is nothing to add.
   */
  #withExecutorKey(to: string, message: Extract<MasterEffect, { kind: 'Send' }>['message'] & { type: 'RegisteredApplication' }) {
    const secret = this.#env.settings.secret;
    if (secret === undefined) return message;
    const peer = this.#env.peerOf(parseEndpointAddress(to).env);
    const driverKey = peer === undefined ? undefined : this.#env.keyring?.(peer.principal);
    if (driverKey === undefined) {
      this.#logger.warn({ to, appId: message.appId }, 'the driver is not connected: its executors will not get their key');
      return message;
    }
    return { ...message, executorKey: sealedExecutorKey(secret, driverKey, message.appId) };
  }

  async #stop(code: number, reason: string): Promise<void> {
    if (this.#stopping) return;
    this.#stopping = true;
    this.#logger.info({ reason }, `Master stopping: ${reason}`);
    this.#host.close();
    if (this.#sampler !== undefined) clearInterval(this.#sampler);
    this.#limiter.close();
    this.#shared.cancelTimers();
    await this.#election.close();
    await this.#http.close();
    await this.#ui.rest?.close();
    await this.#env.shutdown();
    await this.#store.close();
    this.#resolveExit(code);
  }
}

/** The `from` of the asks the web UI feeds the machine: no RPC env has this id, so no reply is sent to one. */
const WEB_UI_ENV = 'flint+ui://master';
/** The `from` of the REST gateway's asks (docs/rest.md), likewise no RPC env's id. */
const REST_ENV = 'flint+rest://master';

const recordCheck = TypeCompiler.Compile(PersistedRecord);

/** Lines of one template the master writes per 10 s before it only counts them (see LogLimiter). */
const LOG_BURST = 50;

/** The template of a machine log line: its words with digits (ids, addresses, counts) replaced by `…`. */
export function logTemplate(msg: string): string {
  return msg.replace(/\S*\d\S*/g, '…');
}

/** Reads back what was persisted; a record that fails its schema is logged and skipped, never fatal. */
async function readPersisted(store: PersistenceStore, logger: Logger): Promise<PersistedMasterState> {
  const skip = (key: string, reason: string) => logger.warn({ key, reason }, 'skipping an unreadable persisted record');
  const read = async <K extends PersistedRecord['kind']>(prefix: string, kind: K) => {
    const out: Array<Extract<PersistedRecord, { kind: K }>> = [];
    for (const { key, value } of await store.list(prefix, skip)) {
      if (recordCheck.Check(value) && value.kind === kind) out.push(value as Extract<PersistedRecord, { kind: K }>);
      else skip(key, `not a valid ${kind} record: ${recordCheck.Errors(value).First()?.message ?? 'wrong kind'}`);
    }
    return out;
  };
  const [apps, drivers, workers] = await Promise.all([read('app_', 'app'), read('driver_', 'driver'), read('worker_', 'worker')]);
  return apps.length + drivers.length + workers.length === 0 ? EMPTY_PERSISTED_STATE : { apps, drivers, workers };
}
