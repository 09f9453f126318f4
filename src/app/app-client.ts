// AppClient: the driver's conversation with the master (Spark's StandaloneAppClient, reference §7.1).
//
// It registers the application with every master in parallel, retries every `registrationTimeoutMs` up to
// `registrationRetries` times, and declares the app dead when no master answered. A master in STANDBY never
// answers; the one that leads does. After that it follows MasterChanged, relays executor events to its
// listener, and unregisters on stop. It hosts the `AppClient` endpoint on the driver's env.

import { MasterReplies, MasterToApp, type AppToMaster, type ApplicationDescription } from '../protocol/messages.ts';
import { formatEndpointAddress, formatRpcAddress, parseEndpointAddress, parseMasterUrls } from '../rpc/address.ts';
import { unseal } from '../rpc/auth.ts';
import type { RpcEndpointRef } from '../rpc/endpoint-ref.ts';
import type { RpcEnv } from '../rpc/rpc-env.ts';
import type { Logger } from '../util/logger.ts';

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
}

export interface AppClientOptions {
  readonly registrationTimeoutMs?: number;
  readonly registrationRetries?: number;
}

export const APP_CLIENT_ENDPOINT = 'AppClient';

export class AppClient {
  readonly #env: RpcEnv;
  readonly #masters: string[];
  readonly #desc: ApplicationDescription;
  readonly #listener: AppClientListener;
  readonly #logger: Logger;
  readonly #timeoutMs: number;
  readonly #retries: number;
  #appId: string | undefined;
  #master: RpcEndpointRef<AppToMaster> | undefined;
  #timer: NodeJS.Timeout | undefined;
  #reconnectTimer: NodeJS.Timeout | undefined;
  #dead = false;
  #disconnected = false;
  #stopped = false;

  constructor(env: RpcEnv, masterUrl: string, desc: ApplicationDescription, listener: AppClientListener, logger: Logger, opts: AppClientOptions = {}) {
    this.#env = env;
    this.#masters = parseMasterUrls(masterUrl).map(formatRpcAddress);
    this.#desc = desc;
    this.#listener = listener;
    this.#logger = logger;
    this.#timeoutMs = opts.registrationTimeoutMs ?? 20_000;
    this.#retries = opts.registrationRetries ?? 3;
  }

  get appId(): string | undefined {
    return this.#appId;
  }

  start(): void {
    this.#env.setupEndpoint(APP_CLIENT_ENDPOINT, {
      messages: MasterToApp,
      receive: (message, ctx) => {
        switch (message.type) {
          case 'RegisteredApplication':
            return this.#onRegistered(message.appId, message.masterAddress, message.executorKey);
          case 'ApplicationRemoved':
            return this.#markDead(`Master removed our application: ${message.message}`);
          case 'ExecutorAdded':
            this.#logger.info({ executorId: message.id, workerId: message.workerId }, `Executor added: ${this.#appId}/${message.id} on ${message.hostPort} with ${message.cores} cores`);
            return this.#listener.executorAdded(`${this.#appId}/${message.id}`, message.workerId, message.hostPort, message.cores, message.memoryMb);
          case 'ExecutorUpdated':
            this.#logger.info({ executorId: message.id, state: message.state }, `Executor updated: ${this.#appId}/${message.id} is now ${message.state}`);
            if (['KILLED', 'FAILED', 'LOST', 'EXITED'].includes(message.state)) {
              this.#listener.executorRemoved(`${this.#appId}/${message.id}`, message.message ?? '', message.exitStatus, message.workerHost);
            }
            return undefined;
          case 'WorkerRemoved':
            return this.#listener.workerRemoved(message.id, message.host, message.message);
          case 'MasterChanged': {
            // A master that answers our own MasterChangeAcknowledged (see #reconnect) sends MasterChanged again:
            // acknowledge only a change or the end of a disconnection, so the exchange stops there.
            const changed = this.#master?.address !== message.masterAddress || this.#disconnected;
            this.#master = this.#env.endpointRef<AppToMaster>(message.masterAddress);
            this.#disconnected = false;
            clearTimeout(this.#reconnectTimer);
            if (!changed) return undefined;
            this.#logger.info({ master: message.masterAddress }, `Master has changed, new master is at ${message.masterAddress}`);
            if (this.#appId !== undefined) this.#master.send({ type: 'MasterChangeAcknowledged', appId: this.#appId });
            return undefined;
          }
          default: {
            const never: never = message;
            void ctx;
            throw new Error(`unexpected message ${JSON.stringify(never)}`);
          }
        }
      },
      onDisconnected: (envId) => {
        if (this.#master !== undefined && this.#master.env === envId && !this.#disconnected) {
          this.#disconnected = true;
          this.#logger.warn({ master: envId }, 'Connection to master lost; waiting for a leader to reach us');
          this.#listener.disconnected();
          this.#reconnect();
        }
      },
    });
    this.#register(1);
  }

  /** Asks the master for a total number of executors; false when not registered. */
  async requestTotalExecutors(total: number): Promise<boolean> {
    if (this.#master === undefined || this.#appId === undefined) return false;
    const reply = await this.#master.ask({ type: 'RequestExecutors', appId: this.#appId, requestedTotal: total }, { expect: MasterReplies });
    return reply.type === 'BooleanResponse' && reply.value;
  }

  async killExecutors(executorIds: string[]): Promise<boolean> {
    if (this.#master === undefined || this.#appId === undefined) return false;
    const reply = await this.#master.ask({ type: 'KillExecutors', appId: this.#appId, executorIds }, { expect: MasterReplies });
    return reply.type === 'BooleanResponse' && reply.value;
  }

  /** Unregisters the application (its executors are killed; it ends FINISHED) and stops the endpoint. */
  async stop(): Promise<void> {
    if (this.#stopped) return;
    this.#stopped = true;
    this.#dead = true;
    clearTimeout(this.#timer);
    clearTimeout(this.#reconnectTimer);
    if (this.#master !== undefined && this.#appId !== undefined) {
      this.#master.send({ type: 'UnregisterApplication', appId: this.#appId });
      await this.#master.whenWritable();
    }
    await this.#env.stop(APP_CLIENT_ENDPOINT);
  }

  #register(attempt: number): void {
    if (this.#appId !== undefined || this.#dead) return;
    const driverAddress = formatEndpointAddress({ env: this.#env.id, name: APP_CLIENT_ENDPOINT });
    for (const master of this.#masters) {
      this.#logger.info({ master, attempt }, `Connecting to master ${master}...`);
      this.#env.setupEndpointRef<AppToMaster>(master, 'Master').then(
        (ref) => ref.send({ type: 'RegisterApplication', appDescription: this.#desc, driverAddress }),
        (err: Error) => this.#logger.warn({ master, err: err.message }, `Failed to connect to master ${master}`),
      );
    }
    this.#timer = setTimeout(() => {
      if (this.#appId !== undefined || this.#dead) return;
      if (attempt >= this.#retries) this.#markDead('All masters are unresponsive! Giving up.');
      else this.#register(attempt + 1);
    }, this.#timeoutMs);
  }

  /**
   * While the master is unreachable, dial every master each second and tell it we are here
   * (MasterChangeAcknowledged). This env has no port, so a master can reach it only over a connection it
   * opened: a master restarted on the same address (FILESYSTEM) or a new leader we had no connection to could
   * not send MasterChanged otherwise. The leader, recovering this app, answers with MasterChanged, which ends
   * the loop; a standby ignores the message.
   */
  #reconnect(): void {
    clearTimeout(this.#reconnectTimer);
    this.#reconnectTimer = setTimeout(() => {
      const appId = this.#appId;
      if (!this.#disconnected || this.#dead || appId === undefined) return;
      for (const master of this.#masters) {
        this.#env.setupEndpointRef<AppToMaster>(master, 'Master').then(
          (ref) => ref.send({ type: 'MasterChangeAcknowledged', appId }),
          () => {},
        );
      }
      this.#reconnect();
    }, 1_000);
    this.#reconnectTimer.unref();
  }

  #onRegistered(appId: string, masterAddress: string, sealedKey: string | undefined): void {
    if (this.#dead) return;
    const ownKey = this.#env.credentialKey;
    const executorKey = sealedKey === undefined || ownKey === undefined ? undefined : unseal(ownKey, sealedKey, appId);
    if (ownKey !== undefined && executorKey === undefined) {
      this.#logger.error({ appId }, 'the master sent no executor key this driver can open: its executors cannot authenticate');
    }
    clearTimeout(this.#timer);
    this.#appId = appId;
    this.#master = this.#env.endpointRef<AppToMaster>(masterAddress);
    this.#logger.info({ appId, master: parseEndpointAddress(masterAddress).env }, `Connected to the master; the application id is ${appId}`);
    this.#listener.connected(appId, executorKey);
  }

  #markDead(reason: string): void {
    if (this.#dead) return;
    this.#dead = true;
    clearTimeout(this.#timer);
    clearTimeout(this.#reconnectTimer);
    this.#logger.error({ reason }, `Application has been killed. Reason: ${reason}`);
    this.#listener.dead(reason);
  }
}
