// The app client's host: the `AppClientMachine` (src/app, Spark's `StandaloneAppClient`) wired to the driver's
// RpcEnv. It hosts the `AppClient` endpoint, turns what arrives (master messages, disconnections, failed dials,
// the driver's asks and the master's answers, timer firings) into inputs, and carries the machine's effects out:
// messages to the masters, answers to the driver's asks, kit timers (nodeTimers), log lines, and the events it
// hands to the driver's `AppClientListener`. Every decision is the machine's.

import { AppClientMachine, appClientConfig, type AppClientEffect, type AppClientInput } from '../app/index.ts';
import type { ReplyToken } from '../kit/replies.ts';
import { MasterToApp, type ApplicationDescription } from '../protocol/messages.ts';
import { formatEndpointAddress, formatRpcAddress, parseMasterUrls } from '../rpc/address.ts';
import { unseal } from '../rpc/auth.ts';
import type { Transport } from '../ports/transport.ts';
import type { Logger } from '../util/logger.ts';
import { MachineHost, ReplyBook, SharedEffects, unknownEffect } from './machine-host.ts';
import { systemClock } from './system.ts';

/** What the driver hears from its app client (Spark's `StandaloneAppClientListener`). */
export interface AppClientListener {
  /**
   * Registered. `executorKey` is the key the application's executors prove to the driver (opened from what the
   * master sealed for this driver); undefined without authentication, or when it could not be opened.
   */
  connected(appId: string, executorKey: string | undefined): void;
  /** The connection to the master was lost; a new leader will send MasterChanged. */
  disconnected(): void;
  /** The app cannot go on (no master answered, or the master removed it). Called at most once. */
  dead(reason: string): void;
  executorAdded(fullId: string, workerId: string, hostPort: string, cores: number, memoryMb: number): void;
  /** An executor ended; `workerHost` is set when it was lost with its worker. */
  executorRemoved(fullId: string, message: string, exitStatus: number | undefined, workerHost: string | undefined): void;
  workerRemoved(workerId: string, host: string, message: string): void;
  /** The executor's worker is being decommissioned: the executor drains (Spark's `executorDecommissioned`). */
  executorDecommissioned(fullId: string, message: string): void;
}

export interface AppClientOptions {
  readonly registrationTimeoutMs?: number;
  readonly registrationRetries?: number;
}

export const APP_CLIENT_ENDPOINT = 'AppClient';

export class AppClient {
  readonly #env: Transport;
  readonly #machine: AppClientMachine;
  readonly #host: MachineHost<AppClientInput, AppClientEffect>;
  readonly #listener: AppClientListener;
  readonly #logger: Logger;
  readonly #replies = new ReplyBook<boolean>();
  readonly #shared: SharedEffects;
  /** While stopping: the sends to wait for before the endpoint goes. */
  #flushes: Array<Promise<void>> | undefined;
  #stopped = false;

  constructor(env: Transport, masterUrl: string, desc: ApplicationDescription, listener: AppClientListener, logger: Logger, opts: AppClientOptions = {}) {
    this.#env = env;
    this.#listener = listener;
    this.#logger = logger;
    this.#machine = new AppClientMachine(
      appClientConfig({
        masters: parseMasterUrls(masterUrl).map(formatRpcAddress),
        driverAddress: formatEndpointAddress({ env: env.id, name: APP_CLIENT_ENDPOINT }),
        description: desc,
        ...(opts.registrationTimeoutMs === undefined ? {} : { registrationTimeoutMs: opts.registrationTimeoutMs }),
        ...(opts.registrationRetries === undefined ? {} : { registrationRetries: opts.registrationRetries }),
      }),
    );
    this.#host = new MachineHost(this.#machine, (effect) => this.#execute(effect), { now: systemClock.monotonic, logger });
    this.#shared = new SharedEffects({
      transport: env,
      logger,
      submit: (input) => void this.#host.submit(input as AppClientInput),
      // RegistrationRetry keeps the driver alive while it registers; Reconnect need not (src/app/effects.ts).
      unref: (key) => key === 'Reconnect',
      replies: this.#replies,
      onSent: (ref) => this.#flushes?.push(ref.whenWritable()),
    });
  }

  get appId(): string | undefined {
    return this.#machine.appId;
  }

  start(): void {
    this.#env.setupEndpoint(APP_CLIENT_ENDPOINT, {
      messages: MasterToApp,
      receive: (message) => void this.#host.submit({ kind: 'MasterMessage', message }),
      onDisconnected: (envId) => void this.#host.submit({ kind: 'Disconnected', envId }),
    });
    void this.#host.submit({ kind: 'Start' });
  }

  /** Asks the master for a total number of executors; false when not registered. */
  requestTotalExecutors(total: number): Promise<boolean> {
    return this.#ask((token) => ({ kind: 'RequestExecutors', token, requestedTotal: total }));
  }

  killExecutors(executorIds: string[]): Promise<boolean> {
    return this.#ask((token) => ({ kind: 'KillExecutors', token, executorIds }));
  }

  /** Unregisters the application (its executors are killed; it ends FINISHED) and stops the endpoint. */
  async stop(): Promise<void> {
    if (this.#stopped) return;
    this.#stopped = true;
    this.#flushes = [];
    await this.#host.submit({ kind: 'Stop' });
    const flushes = this.#flushes;
    this.#flushes = undefined;
    await Promise.all(flushes);
    await this.#env.stop(APP_CLIENT_ENDPOINT);
  }

  #ask(input: (token: ReplyToken) => AppClientInput): Promise<boolean> {
    return new Promise<boolean>((resolve, reject) => {
      const token = this.#replies.open({ reply: resolve, sendFailure: reject });
      void this.#host.submit(input(token));
    });
  }

  #execute(all: AppClientEffect): void {
    const effect = this.#shared.take(all);
    if (effect === undefined) return;
    switch (effect.kind) {
      case 'Connected':
        this.#listener.connected(effect.appId, this.#executorKey(effect.appId, effect.sealedExecutorKey));
        return;
      case 'Disconnected':
        this.#listener.disconnected();
        return;
      case 'Dead':
        this.#listener.dead(effect.reason);
        return;
      case 'ExecutorAdded':
        this.#listener.executorAdded(effect.fullId, effect.workerId, effect.hostPort, effect.cores, effect.memoryMb);
        return;
      case 'ExecutorRemoved':
        this.#listener.executorRemoved(effect.fullId, effect.message, effect.exitStatus, effect.workerHost);
        return;
      case 'WorkerRemoved':
        this.#listener.workerRemoved(effect.workerId, effect.host, effect.message);
        return;
      case 'ExecutorDecommissioned':
        this.#listener.executorDecommissioned(effect.fullId, effect.message);
        return;
      default:
        return unknownEffect(effect);
    }
  }

  /** Opens the executors' key the master sealed for this driver: cryptography, which the machine does not do. */
  #executorKey(appId: string, sealed: string | undefined): string | undefined {
    const ownKey = this.#env.credentialKey;
    const executorKey = sealed === undefined || ownKey === undefined ? undefined : unseal(ownKey, sealed, appId);
    if (ownKey !== undefined && executorKey === undefined) {
      this.#logger.error({ appId }, 'the master sent no executor key this driver can open: its executors cannot authenticate');
    }
    return executorKey;
  }
}
