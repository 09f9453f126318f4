// A simulated worker process: the real WorkerMachine (src/worker) in a host that does what the worker daemon
// (src/daemons/worker-daemon.ts) does with its effects: it registers over the simulated network and starts and
// stops executor processes, which run the real executor machine (executor-process.ts).

import type { Rng } from '../kit/rng.ts';
import type { MasterToWorker } from '../protocol/messages.ts';
import { type WorkerMachine, type WorkerConfig, type WorkerEffect, type WorkerInput } from '../worker/index.ts';
import type { ExecutorLaunchSpec } from '../worker/worker-effect.ts';
import { ASK_TIMEOUT_MS, CONNECT_TIMEOUT_MS, type Envelope, type Node } from './network.ts';
import { envOf, MachineProcess, type Own, type ProcessClock, type SimWorld } from './world.ts';

/** How a worker's child process ended, as the worker hears it. */
export interface ChildExit {
  readonly exitCode: number | null;
  readonly signal: string | null;
}

/** An executor process as its worker sees it (executor-process.ts implements it). */
export interface ChildProcess {
  readonly up: boolean;
  /** SIGTERM: it exits soon. */
  terminate(): void;
  /** Its parent died: stdin closes, and it exits on its own. */
  parentGone(): void;
}

/** Starts an executor process; `exited` is called once, when it ends (not when the worker dies first). */
export type ExecutorSpawner = (spec: ExecutorLaunchSpec, worker: SimWorker, exited: (exit: ChildExit) => void) => ChildProcess;

interface Child {
  readonly spec: ExecutorLaunchSpec;
  process: ChildProcess | undefined;
  killRequested: boolean;
}

export class SimWorker extends MachineProcess<WorkerInput, WorkerEffect> implements Node {
  readonly env: string;
  readonly host: string;
  readonly machine: WorkerMachine;
  readonly #rng: Rng;
  readonly #spawn: ExecutorSpawner;
  readonly #children = new Map<string, Child>();
  readonly #asks = new Map<number, Extract<WorkerEffect, { kind: 'Ask' }>['context']>();
  #nextAsk = 1;

  constructor(world: SimWorld, config: WorkerConfig, rng: Rng, clock: ProcessClock, spawn: ExecutorSpawner) {
    super(world, clock);
    this.#rng = rng;
    this.#spawn = spawn;
    this.machine = world.machines.worker(config, { rng, now: this.now() });
    this.host = config.host;
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

  /** The worker process dies: its executors' stdin closes, and they exit on their own (Spark's WorkerWatcher). */
  crash(): void {
    this.up = false;
    this.cancelTimers();
    this.world.network.crashed(this.env);
    for (const child of this.#children.values()) child.process?.parentGone();
    this.#children.clear();
  }

  /** Executor processes that run, as `appId/execId`. */
  runningExecutors(): string[] {
    return [...this.#children.values()].filter((c) => c.process?.up === true).map((c) => `${c.spec.appId}/${c.spec.execId}`);
  }

  /** Its executor processes that run now. */
  executorProcesses(): ChildProcess[] {
    return [...this.#children.values()].flatMap((c) => (c.process?.up === true ? [c.process] : []));
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
            ? { kind: 'Answered', context: message, reply: envelope.message }
            : { kind: 'AskFailed', context: message, error: envelope.error, timedOut: false },
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
    this.after(1 + this.#rng.nextInt(50), run);
  }

  protected carryOut(effect: Own<WorkerEffect>): void {
    const { network } = this.world;
    switch (effect.kind) {
      case 'Send':
        network.send(this.env, envOf(effect.to), { kind: 'send', message: effect.message });
        return;
      case 'Ask': {
        const askId = this.#nextAsk++;
        const { message, context } = effect;
        this.#asks.set(askId, context);
        network.send(this.env, envOf(effect.to), { kind: 'ask', askId, message });
        this.after(effect.timeoutMs ?? ASK_TIMEOUT_MS, () => {
          if (!this.#asks.delete(askId)) return;
          this.step({ kind: 'AskFailed', context, error: 'ask timed out', timedOut: true }, 'ExecutorStateChanged ask timed out');
        });
        return;
      }
      case 'Dial': {
        const { envUrl: masterUrl } = effect;
        const attempt = network.connect(this.env, masterUrl);
        if (attempt === 'open') {
          network.send(this.env, masterUrl, { kind: 'send', message: effect.message });
        } else {
          const failed = (): void => this.step({ kind: 'DialFailed', envUrl: masterUrl, messageType: effect.message.type, error: `connection ${attempt}` }, `cannot reach ${masterUrl}`);
          if (attempt === 'refused') this.#soon(failed);
          else this.after(CONNECT_TIMEOUT_MS, failed);
        }
        return;
      }
      case 'LaunchExecutor': {
        const { spec } = effect;
        const child: Child = { spec, process: undefined, killRequested: false };
        this.#children.set(spec.processKey, child);
        this.#soon(() => {
          if (this.#children.get(spec.processKey) !== child) return;
          child.process = this.#spawn(spec, this, (exit) => this.#exited(child, exit));
          this.step({ kind: 'ExecutorProcessStarted', appId: spec.appId, execId: spec.execId }, `executor ${spec.appId}/${spec.execId} started`);
          if (child.killRequested) child.process.terminate();
        });
        return;
      }
      case 'KillExecutor': {
        const child = this.#children.get(effect.processKey);
        if (child === undefined) return;
        child.killRequested = true;
        child.process?.terminate();
        return;
      }
      case 'LaunchDriver':
        this.#soon(() => this.step({ kind: 'DriverLaunchFailed', driverId: effect.spec.driverId, error: 'the simulator runs no cluster-mode drivers' }, 'driver launch'));
        return;
      case 'KillDriver':
      case 'CleanupOldDirs':
      case 'RemoveAppShuffle':
        return;
      case 'Exit':
        this.world.trace(`${this.name} exits ${effect.code}: ${effect.reason}`);
        this.crash();
        return;
      default: {
        const never: never = effect;
        throw new Error(`unknown worker effect ${JSON.stringify(never)}`);
      }
    }
  }

  #exited(child: Child, exit: ChildExit): void {
    if (!this.up || this.#children.get(child.spec.processKey) !== child) return;
    this.#children.delete(child.spec.processKey);
    const { appId, execId } = child.spec;
    this.step(
      { kind: 'ExecutorProcessExited', appId, execId, exitCode: exit.exitCode, signal: exit.signal, killedByWorker: child.killRequested },
      `executor ${appId}/${execId} exited (${exit.exitCode ?? exit.signal})`,
    );
  }
}
