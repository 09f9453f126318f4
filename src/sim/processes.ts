// The processes of a simulated cluster: the real master and worker machines (src/master, src/worker), each in a
// small host that carries out its effects on the simulated network, clock and disk, and an application client.
// A process object is one incarnation: a crash marks it down, its timers and in-flight work die with it, and a
// restart makes a new one on the same address.

import type { Rng } from '../kit/rng.ts';
import { KeyedTimers } from '../kit/timers.ts';
import { isMasterAsk, MasterMachine, type MasterConfig, type MasterEffect, type MasterInput, type PersistedMasterState, type PersistedRecord } from '../master/index.ts';
import { replyToken, type ReplyToken } from '../kit/replies.ts';
import type { ApplicationDescription, MasterToApp, MasterToWorker } from '../protocol/messages.ts';
import { parseEndpointAddress } from '../rpc/address.ts';
import { WorkerMachine, type WorkerConfig, type WorkerEffect, type WorkerInput } from '../worker/index.ts';
import type { EventQueue } from './event-queue.ts';
import { CONNECT_TIMEOUT_MS, type Envelope, type Node, type SimNetwork } from './network.ts';

/** What every process of one simulation shares. */
export interface SimWorld {
  readonly queue: EventQueue;
  readonly network: SimNetwork;
  /** Appends one line to the run's trace (kept for the report of a failing seed). */
  trace(line: string): void;
  /** Called after every input a machine handled: the invariants are checked here. */
  afterStep(what: string): void;
  /**
   * An executor process ended (killed, crashed, or with its worker): its connection to its driver closes, which
   * is how a driver hears of it even when the master does not tell it (Spark's CoarseGrainedSchedulerBackend
   * `onDisconnected`).
   */
  executorGone(driverUrl: string, execId: number): void;
  /** An executor process started: it connects to its driver and registers (Spark's RegisterExecutor). */
  executorStarted(driverUrl: string, execId: number): void;
}

const envOf = (address: string): string => parseEndpointAddress(address).env;

/** Host timers of one incarnation on the event queue: a crash cancels every pending firing. */
function simTimers(world: SimWorld): KeyedTimers<number> {
  return new KeyedTimers({ start: (delayMs, fire) => world.queue.schedule(delayMs, fire), stop: (handle) => world.queue.cancel(handle) });
}

/** A process that hosts one machine: inputs are handled one at a time, each list of effects carried out in order. */
abstract class MachineProcess<I, E> {
  up = true;
  protected readonly world: SimWorld;

  constructor(world: SimWorld) {
    this.world = world;
  }

  abstract readonly name: string;
  protected abstract apply(input: I, now: number): readonly E[];
  protected abstract carryOut(effect: E): void;

  /** Handles `input` now (nothing once down), then lets the invariants run. */
  protected step(input: I, what: string): void {
    if (!this.up) return;
    for (const effect of this.apply(input, this.world.queue.now)) if (this.up) this.carryOut(effect);
    this.world.afterStep(`${this.name}: ${what}`);
  }
}

// ---- master ----------------------------------------------------------------------------------------------

/** The master's disk: records by key, shared by its incarnations (FILESYSTEM recovery mode). */
export class SimStore {
  readonly records = new Map<string, PersistedRecord>();

  read(): PersistedMasterState {
    const all = [...this.records.values()];
    return {
      apps: all.filter((r) => r.kind === 'app'),
      drivers: all.filter((r) => r.kind === 'driver'),
      workers: all.filter((r) => r.kind === 'worker'),
    } as PersistedMasterState;
  }
}

export class SimMaster extends MachineProcess<MasterInput, MasterEffect> implements Node {
  readonly env: string;
  readonly machine: MasterMachine;
  readonly #store: SimStore;
  readonly #timers: KeyedTimers<number>;
  /** Pending asks: token → who asked, and the ask's id on the wire (undefined: sent one-way, no answer). */
  readonly #asks = new Map<ReplyToken, { readonly from: string; readonly askId: number | undefined }>();
  #nextToken = 1;

  constructor(world: SimWorld, config: MasterConfig, rng: Rng, store: SimStore) {
    super(world);
    this.#store = store;
    this.#timers = simTimers(world);
    this.machine = new MasterMachine(config, rng);
    this.env = config.masterUrl;
  }

  /** As the daemon starts: the endpoint starts, then leadership is granted with what the disk holds. */
  readonly name = 'master';

  protected apply(input: MasterInput, now: number): readonly MasterEffect[] {
    return this.machine.handle(input, now);
  }

  start(): void {
    this.step({ kind: 'Start' }, 'Start');
    this.step({ kind: 'ElectedLeader', persisted: this.#store.read() }, 'ElectedLeader');
  }

  crash(): void {
    this.up = false;
    this.#timers.cancelAll();
  }

  deliver(from: string, envelope: Envelope): void {
    if (envelope.kind === 'reply' || envelope.kind === 'failure') return; // the master asks nobody
    const message = envelope.message as Parameters<typeof isMasterAsk>[0];
    if (isMasterAsk(message)) {
      const token = replyToken(this.#nextToken++);
      this.#asks.set(token, { from, askId: envelope.kind === 'ask' ? envelope.askId : undefined });
      this.step({ kind: 'Ask', from, replyTo: token, message }, `Ask ${message.type} from ${from}`);
    } else {
      this.step({ kind: 'Receive', from, message } as MasterInput, `${message.type} from ${from}`);
    }
  }

  disconnected(env: string): void {
    this.step({ kind: 'Disconnected', envId: env }, `Disconnected ${env}`);
  }

  protected carryOut(effect: MasterEffect): void {
    const { network } = this.world;
    switch (effect.kind) {
      case 'Send':
        network.send(this.env, envOf(effect.to), { kind: 'send', message: effect.message });
        return;
      case 'Reply':
      case 'ReplyFailure': {
        const ask = this.#asks.get(effect.token);
        this.#asks.delete(effect.token);
        if (ask?.askId === undefined) return;
        network.send(
          this.env,
          ask.from,
          effect.kind === 'Reply' ? { kind: 'reply', askId: ask.askId, message: effect.message } : { kind: 'failure', askId: ask.askId, error: effect.error },
        );
        return;
      }
      case 'Persist':
        this.#store.records.set(effect.key, effect.record);
        return;
      case 'Unpersist':
        this.#store.records.delete(effect.key);
        return;
      case 'StartTimer':
      case 'CancelTimer':
        this.#timers.carryOut(effect, (key, generation) => this.step({ kind: 'TimerFired', key, generation }, `timer ${key}`));
        return;
      case 'StepDown':
        this.world.trace(`master steps down: ${effect.reason}`);
        this.crash();
        this.world.network.crashed(this.env);
        return;
      case 'Log':
        if (effect.level !== 'debug') this.world.trace(`master ${effect.level}: ${effect.msg}`);
        return;
      default: {
        const never: never = effect;
        throw new Error(`unknown master effect ${JSON.stringify(never)}`);
      }
    }
  }
}

// ---- worker ----------------------------------------------------------------------------------------------

/** An executor process a simulated worker runs: it lives until killed or crashed. */
interface SimExecutor {
  readonly appId: string;
  readonly execId: number;
  /** The driver it connects to: the `--driver-url` argument of its command. */
  readonly driverUrl: string;
  started: boolean;
  killRequested: boolean;
}

export class SimWorker extends MachineProcess<WorkerInput, WorkerEffect> implements Node {
  readonly env: string;
  readonly machine: WorkerMachine;
  readonly #timers: KeyedTimers<number>;
  readonly #rng: Rng;
  readonly #executors = new Map<string, SimExecutor>();
  readonly #asks = new Map<number, Extract<WorkerEffect, { kind: 'AskMaster' }>['message']>();
  #nextAsk = 1;

  constructor(world: SimWorld, config: WorkerConfig, rng: Rng) {
    super(world);
    this.#timers = simTimers(world);
    this.#rng = rng;
    this.machine = new WorkerMachine(config, { rng, now: world.queue.now });
    this.env = `flint://${config.host}:${config.port}`;
  }

  get name(): string {
    return `worker ${this.machine.workerId}`;
  }

  protected apply(input: WorkerInput, now: number): readonly WorkerEffect[] {
    return this.machine.handle(input, now);
  }

  start(): void {
    this.step({ kind: 'Start' }, 'Start');
  }

  /** The worker process dies; its executors die with it (they are its children). */
  crash(): void {
    this.up = false;
    this.#timers.cancelAll();
    for (const e of this.#executors.values()) if (e.started) this.world.executorGone(e.driverUrl, e.execId);
    this.#executors.clear();
  }

  /** An executor process crashes on its own (exit code 1). */
  killExecutor(pick: number): boolean {
    const running = [...this.#executors.entries()].filter(([, e]) => e.started);
    const chosen = running[pick % Math.max(1, running.length)];
    if (chosen === undefined) return false;
    const [key, e] = chosen;
    this.#executors.delete(key);
    this.world.executorGone(e.driverUrl, e.execId);
    this.step({ kind: 'ExecutorProcessExited', appId: e.appId, execId: e.execId, exitCode: 1, signal: null, killedByWorker: false }, `executor ${e.appId}/${e.execId} crashed`);
    return true;
  }

  /** Executor processes that run, as `appId/execId`. */
  runningExecutors(): string[] {
    return [...this.#executors.values()].filter((e) => e.started).map((e) => `${e.appId}/${e.execId}`);
  }

  deliver(from: string, envelope: Envelope): void {
    switch (envelope.kind) {
      case 'send':
        this.step({ kind: 'MasterMessage', from, message: envelope.message as MasterToWorker }, `${envelope.message.type} from ${from}`);
        return;
      case 'ask':
        return; // a worker answers no asks
      case 'reply':
      case 'failure': {
        const message = this.#asks.get(envelope.askId);
        this.#asks.delete(envelope.askId);
        if (message === undefined) return; // timed out already
        this.step(
          envelope.kind === 'reply'
            ? { kind: 'ExecutorStateSyncSucceeded', message }
            : { kind: 'ExecutorStateSyncFailed', message, error: envelope.error, timedOut: false },
          `answer to ExecutorStateChanged ${message.appId}/${message.execId}`,
        );
        return;
      }
    }
  }

  disconnected(env: string): void {
    this.step({ kind: 'Disconnected', envId: env }, `Disconnected ${env}`);
  }

  /** A short delay for work the host does outside the machine (starting or ending a process). */
  #soon(run: () => void): void {
    this.world.queue.schedule(1 + this.#rng.nextInt(50), () => {
      if (this.up) run();
    });
  }

  protected carryOut(effect: WorkerEffect): void {
    const { network } = this.world;
    switch (effect.kind) {
      case 'Send':
        network.send(this.env, envOf(effect.to), { kind: 'send', message: effect.message });
        return;
      case 'AskMaster': {
        const askId = this.#nextAsk++;
        const { message } = effect;
        this.#asks.set(askId, message);
        network.send(this.env, envOf(effect.to), { kind: 'ask', askId, message });
        this.world.queue.schedule(effect.timeoutMs, () => {
          if (!this.up || !this.#asks.delete(askId)) return;
          this.step({ kind: 'ExecutorStateSyncFailed', message, error: 'ask timed out', timedOut: true }, 'ExecutorStateChanged ask timed out');
        });
        return;
      }
      case 'RegisterWithMaster': {
        const { masterUrl } = effect;
        const attempt = network.connect(this.env, masterUrl);
        if (attempt === 'open') {
          network.send(this.env, masterUrl, { kind: 'send', message: effect.message });
        } else {
          const failed = (): void => this.step({ kind: 'RegisterWithMasterFailed', masterUrl, error: `connection ${attempt}` }, `cannot reach ${masterUrl}`);
          if (attempt === 'refused') this.#soon(failed);
          else this.world.queue.schedule(CONNECT_TIMEOUT_MS, () => this.up && failed());
        }
        return;
      }
      case 'StartTimer':
      case 'CancelTimer':
        this.#timers.carryOut(effect, (key, generation) => this.step({ kind: 'TimerFired', key, generation }, `timer ${key}`));
        return;
      case 'LaunchExecutor': {
        const { appId, execId, processKey, argv } = effect.spec;
        const driverUrl = argv[argv.indexOf('--driver-url') + 1] ?? '';
        const executor: SimExecutor = { appId, execId, driverUrl, started: false, killRequested: false };
        this.#executors.set(processKey, executor);
        this.#soon(() => {
          if (this.#executors.get(processKey) !== executor) return;
          executor.started = true;
          this.world.executorStarted(driverUrl, execId);
          this.step({ kind: 'ExecutorProcessStarted', appId, execId }, `executor ${appId}/${execId} started`);
          if (executor.killRequested) this.#endExecutor(processKey, executor);
        });
        return;
      }
      case 'KillExecutor': {
        const executor = this.#executors.get(effect.processKey);
        if (executor === undefined) return;
        executor.killRequested = true;
        if (executor.started) this.#endExecutor(effect.processKey, executor);
        return;
      }
      case 'LaunchDriver':
        this.#soon(() => this.step({ kind: 'DriverLaunchFailed', driverId: effect.spec.driverId, error: 'the simulator runs no drivers yet' }, 'driver launch'));
        return;
      case 'KillDriver':
      case 'CleanupAppDirs':
      case 'CleanupOldDirs':
        return;
      case 'Exit':
        this.world.trace(`${this.name} exits ${effect.code}: ${effect.reason}`);
        this.crash();
        network.crashed(this.env);
        return;
      case 'Log':
        if (effect.level !== 'debug') this.world.trace(`${this.name} ${effect.level}: ${effect.msg}`);
        return;
      default: {
        const never: never = effect;
        throw new Error(`unknown worker effect ${JSON.stringify(never)}`);
      }
    }
  }

  #endExecutor(processKey: string, executor: SimExecutor): void {
    this.#soon(() => {
      if (this.#executors.get(processKey) !== executor) return;
      this.#executors.delete(processKey);
      const { appId, execId } = executor;
      this.world.executorGone(executor.driverUrl, execId);
      this.step({ kind: 'ExecutorProcessExited', appId, execId, exitCode: null, signal: 'SIGTERM', killedByWorker: true }, `executor ${appId}/${execId} killed`);
    });
  }
}

// ---- application client ----------------------------------------------------------------------------------

/**
 * An application as the master sees it: Spark's StandaloneAppClient, scripted (it is not a machine yet). It
 * registers until the master answers, acknowledges a new master, and tracks the executors that register with its
 * driver.
 */
export class SimApp implements Node {
  readonly env: string;
  readonly address: string;
  up = true;
  appId: string | undefined;
  removed: string | undefined;
  /** The executors that registered with its driver and whose connection is still open: the ones it runs tasks on. */
  readonly registered = new Set<number>();
  readonly desc: ApplicationDescription;
  readonly #world: SimWorld;
  readonly #masterEnv: string;
  #registerTimer: number | undefined;

  constructor(world: SimWorld, id: string, masterEnv: string, desc: ApplicationDescription) {
    this.#world = world;
    this.env = `flint+client://${id}`;
    this.address = `flint+client://AppClient@${id}`;
    this.#masterEnv = masterEnv;
    this.desc = desc;
  }

  start(): void {
    this.#register();
  }

  #register(): void {
    if (!this.up || this.appId !== undefined) return;
    this.#world.network.send(this.env, this.#masterEnv, { kind: 'send', message: { type: 'RegisterApplication', appDescription: this.desc, driverAddress: this.address } as { type: string } });
    this.#registerTimer = this.#world.queue.schedule(5_000, () => this.#register());
  }

  deliver(from: string, envelope: Envelope): void {
    if (!this.up || envelope.kind !== 'send') return;
    const message = envelope.message as MasterToApp;
    switch (message.type) {
      case 'RegisteredApplication':
        this.appId = message.appId;
        if (this.#registerTimer !== undefined) this.#world.queue.cancel(this.#registerTimer);
        break;
      case 'ExecutorAdded':
      case 'ExecutorUpdated':
        // What it runs on is what registers with its driver (executorRegistered), as in Spark's backend.
        break;
      case 'MasterChanged':
        if (this.appId !== undefined) this.#world.network.send(this.env, from, { kind: 'send', message: { type: 'MasterChangeAcknowledged', appId: this.appId } as { type: string } });
        break;
      case 'ApplicationRemoved':
        this.removed = message.message;
        break;
      case 'WorkerRemoved':
        break;
    }
    this.#world.afterStep(`app ${this.appId ?? this.env}: ${message.type}`);
  }

  disconnected(): void {
    // Spark's AppClient waits for the master to come back (MasterChanged); it does not re-register.
  }

  /** One of its executors ended: the driver's connection to it closed. */
  executorGone(execId: number): void {
    this.registered.delete(execId);
  }

  /** One of its executors registered with the driver. */
  executorRegistered(execId: number): void {
    this.registered.add(execId);
  }
}

