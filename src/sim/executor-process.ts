// A simulated executor process: the real ExecutorMachine (src/executor) in a host that does what the executor
// program (src/daemons/executor-backend.ts) does with its effects. Its thread pool runs the real task evaluation
// (evaluateTask) on the sim app's exports; how long a task takes is drawn from the seed, and a slow executor
// (a fault) takes many times longer.

import type { ExecutorEffect, ExecutorInput, ExecutorMachine } from '../executor/index.ts';
import { evaluateTask, recordCodec, type LaunchTaskMessage, type TaskOutput } from '../task/index.ts';
import type { Rng } from '../kit/rng.ts';
import type { DriverCommand, FetchTaskResultMessage } from '../executor/executor-input.ts';
import type { DriverAskMessage } from '../executor/executor-effect.ts';
import type { ExecutorLaunchSpec } from '../worker/worker-effect.ts';
import type { DriverReply } from '../protocol/task-messages.ts';
import { SIM_APP_EXPORTS } from './app.ts';
import { ASK_TIMEOUT_MS, CONNECT_TIMEOUT_MS, type Envelope, type Node } from './network.ts';
import { envOf, MachineProcess, SimReplyBook, type Own, type ProcessClock, type SimWorld } from './world.ts';
import type { ChildExit, ChildProcess } from './worker-process.ts';

/** An ask's timeout when its effect names none (flint.rpc.askTimeout falls back to flint.network.timeout, 120 s). */
const CODEC = recordCodec;

/** What the host knows of the sim: where evaluations are awaited, how slow this executor runs. */
export interface ExecutorHost {
  /** Hands a task's evaluation to the run loop, which awaits it before the next event. */
  track(evaluation: Promise<unknown>): void;
  /** How many times slower than drawn its tasks run (1, or more once it is made slow). */
  slowFactor(process: SimExecutor): number;
}

interface PoolTask {
  readonly taskId: number;
  readonly startedAt: number;
  output: TaskOutput | Error | undefined;
  done: number | undefined;
}

function argument(argv: readonly string[], flag: string): string {
  const i = argv.indexOf(flag);
  return i >= 0 ? (argv[i + 1] ?? '') : '';
}

export class SimExecutor extends MachineProcess<ExecutorInput, ExecutorEffect> implements Node, ChildProcess {
  readonly env: string;
  readonly name: string;
  readonly appId: string;
  readonly execId: number;
  readonly driverEnv: string;
  readonly machine: ExecutorMachine;
  readonly #rng: Rng;
  readonly #host: ExecutorHost;
  readonly #exited: (exit: ChildExit) => void;
  readonly #asks = new Map<number, DriverAskMessage>();
  readonly #replies = new SimReplyBook();
  readonly #pool = new Map<number, PoolTask>();
  #nextAsk = 1;

  constructor(world: SimWorld, spec: ExecutorLaunchSpec, hostname: string, rng: Rng, clock: ProcessClock, host: ExecutorHost, exited: (exit: ChildExit) => void) {
    super(world, clock);
    this.appId = spec.appId;
    this.execId = spec.execId;
    this.traceFrom = 'warn';
    this.#rng = rng;
    this.#host = host;
    this.#exited = exited;
    const driverUrl = argument(spec.argv, '--driver-url');
    this.driverEnv = envOf(driverUrl);
    this.env = `flint+client://executor-${spec.appId}-${spec.execId}`;
    this.name = `executor ${spec.appId}/${spec.execId}`;
    this.machine = world.machines.executor(
      {
        executorId: String(spec.execId),
        appId: spec.appId,
        hostname,
        cores: spec.cores,
        driverUrl,
        executorAddress: `flint+client://Executor@executor-${spec.appId}-${spec.execId}`,
        workerUrl: argument(spec.argv, '--worker-url'),
      },
      { rng },
    );
  }

  protected apply(input: ExecutorInput, now: number): readonly ExecutorEffect[] {
    return this.machine.handle(input, now);
  }

  start(): void {
    this.world.network.attach(this);
    this.step({ kind: 'Start' }, 'Start');
  }

  terminate(): void {
    this.after(1 + this.#rng.nextInt(20), () => this.#exit({ exitCode: null, signal: 'SIGTERM' }));
  }

  parentGone(): void {
    this.after(1 + this.#rng.nextInt(20), () => this.step({ kind: 'ParentGone' }, 'stdin closed'));
  }

  /** The process is killed from outside (the kernel's OOM killer, say). */
  kill(): void {
    this.#exit({ exitCode: null, signal: 'SIGKILL' });
  }

  #exit(exit: ChildExit): void {
    if (!this.up) return;
    this.up = false;
    this.cancelTimers();
    for (const task of this.#pool.values()) if (task.done !== undefined) this.world.queue.cancel(task.done);
    this.world.network.crashed(this.env);
    this.#exited(exit);
  }

  deliver(from: string, envelope: Envelope): void {
    switch (envelope.kind) {
      case 'send':
        this.step({ kind: 'DriverMessage', message: envelope.message as DriverCommand }, `${envelope.message.type} from the driver`);
        return;
      case 'ask': {
        const token = this.#replies.open(from, envelope.askId, undefined);
        this.step({ kind: 'DriverAsk', message: envelope.message as FetchTaskResultMessage, token }, `ask ${envelope.message.type}`);
        return;
      }
      case 'reply':
      case 'failure':
        this.#answered(envelope.askId, envelope.kind === 'reply' ? { ok: true, message: envelope.message } : { ok: false, error: envelope.error });
    }
  }

  disconnected(env: string): void {
    if (env === this.driverEnv) this.step({ kind: 'DriverDisconnected', reason: `the connection to ${env} closed` }, 'the driver disconnected');
  }

  #answered(askId: number, answer: { ok: true; message: unknown } | { ok: false; error: string }): void {
    const ask = this.#asks.get(askId);
    if (ask === undefined) return; // timed out already
    this.#asks.delete(askId);
    const context = ask.type;
    this.step(
      answer.ok
        ? { kind: 'Answered', context, reply: answer.message as DriverReply }
        : { kind: 'AskFailed', context, error: answer.error, timedOut: answer.error === 'ask timed out' },
      `answer to ${context}`,
    );
  }

  protected carryOut(effect: Own<ExecutorEffect>): void {
    const { network } = this.world;
    switch (effect.kind) {
      case 'Ask': {
        const askId = this.#nextAsk++;
        this.#asks.set(askId, effect.message);
        const attempt = network.connect(this.env, this.driverEnv);
        if (attempt === 'open') {
          network.send(this.env, this.driverEnv, { kind: 'ask', askId, message: effect.message });
          this.after(effect.timeoutMs ?? ASK_TIMEOUT_MS, () => this.#answered(askId, { ok: false, error: 'ask timed out' }));
        } else {
          this.after(attempt === 'refused' ? 1 : CONNECT_TIMEOUT_MS, () => this.#answered(askId, { ok: false, error: `connection ${attempt}` }));
        }
        return;
      }
      case 'Send':
        network.send(this.env, this.driverEnv, { kind: 'send', message: effect.message });
        return;
      case 'LoadCode':
        this.after(5 + this.#rng.nextInt(100), () => this.step({ kind: 'CodeLoaded', hash: effect.hash }, 'code loaded'));
        return;
      case 'RunTask':
        this.#run(effect.task);
        return;
      case 'CancelTask': {
        const task = this.#pool.get(effect.taskId);
        if (task === undefined) return;
        if (task.done !== undefined) this.world.queue.cancel(task.done);
        this.#pool.delete(effect.taskId);
        this.after(1 + this.#rng.nextInt(10), () => this.step({ kind: 'TaskAborted', taskId: effect.taskId }, `task ${effect.taskId} aborted`));
        return;
      }
      case 'DropCache':
      case 'DropShuffle':
        return; // the simulated pool caches nothing and writes no shuffle
      case 'Reply':
      case 'ReplyFailure':
        this.#replies.answer(network, this.env, effect);
        return;
      case 'Exit':
        this.world.trace(`${this.name} exits ${effect.code}: ${effect.reason}`);
        this.#exit({ exitCode: effect.code, signal: null });
        return;
      default: {
        const never: never = effect;
        throw new Error(`unknown executor effect ${JSON.stringify(never)}`);
      }
    }
  }

  /** A pool thread runs the task: the real evaluation now, its answer after the drawn duration. */
  #run(message: LaunchTaskMessage): void {
    const task: PoolTask = { taskId: message.taskId, startedAt: this.world.queue.now, output: undefined, done: undefined };
    this.#pool.set(message.taskId, task);
    this.#host.track(
      evaluateTask(message, { resolve: (name) => SIM_APP_EXPORTS[name], codec: CODEC }).then(
        (output) => (task.output = output),
        (err: unknown) => (task.output = err instanceof Error ? err : new Error(String(err))),
      ),
    );
    const ms = (20 + this.#rng.nextInt(2_000)) * this.#host.slowFactor(this);
    task.done = this.after(ms, () => {
      if (this.#pool.get(task.taskId) !== task) return;
      this.#pool.delete(task.taskId);
      const runTimeMs = this.world.queue.now - task.startedAt;
      const output = task.output;
      if (output === undefined) throw new Error(`task ${task.taskId}'s evaluation did not settle before its end`);
      if (output instanceof Error) {
        this.step({ kind: 'TaskErrored', taskId: task.taskId, error: { name: output.name, message: output.message, stack: output.stack ?? '' }, runTimeMs }, `task ${task.taskId} failed`);
      } else {
        this.step({ kind: 'TaskCompleted', taskId: task.taskId, result: output.result, records: output.records, runTimeMs }, `task ${task.taskId} finished`);
      }
    });
  }
}
