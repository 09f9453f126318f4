// Drives a TaskSchedulerMachine with a fake clock: no sockets, no timers, no sleeps. Helpers build inputs the
// way the adapter would and pick effects apart for assertions.
import {
  TaskSchedulerMachine,
  driverConfig,
  type DriverConfig,
  type DriverEffect,
  type DriverInput,
  type DriverTimer,
  type ExecutorCommand,
  type StatusUpdateMessage,
  type TaskSpec,
} from '../../../src/driver/index.ts';
import { replyToken, type ReplyToken } from '../../../src/kit/replies.ts';
import type { TaskFailure } from '../../../src/protocol/task-messages.ts';

export const T0 = 1_700_000_000_000;

type Kind = DriverEffect['kind'];
export type EffectOf<K extends Kind> = Extract<DriverEffect, { readonly kind: K }>;
type Command = ExecutorCommand['type'];
export type CommandOf<T extends Command> = Extract<ExecutorCommand, { readonly type: T }>;

export const ofKind = <K extends Kind>(effects: readonly DriverEffect[], kind: K): Array<EffectOf<K>> =>
  effects.filter((e): e is EffectOf<K> => e.kind === kind);

/** `{ executorId, message }` for every Send of this message type. */
export function sent<T extends Command>(
  effects: readonly DriverEffect[],
  type: T,
): Array<{ executorId: string; to: string; message: CommandOf<T> }> {
  return ofKind(effects, 'Send')
    .filter((e) => e.message.type === type)
    .map((e) => ({ executorId: e.executorId, to: e.to, message: e.message as CommandOf<T> }));
}

export interface Launch {
  readonly executorId: string;
  readonly taskId: number;
  readonly jobId: number;
  readonly partition: number;
  readonly attempt: number;
}

/** The effects other than logs. */
export const quiet = (effects: readonly DriverEffect[]): DriverEffect[] => effects.filter((e) => e.kind !== 'Log');

/** The effects other than logs and answers to executors' asks. */
export const unanswered = (effects: readonly DriverEffect[]): DriverEffect[] =>
  quiet(effects).filter((e) => e.kind !== 'Reply' && e.kind !== 'ReplyFailure');

/** The effects other than logs, as the message type for sends and the kind otherwise. */
export const shape = (effects: readonly DriverEffect[]): string[] =>
  quiet(effects).map((e) => (e.kind === 'Send' ? e.message.type : e.kind));

export const launches = (effects: readonly DriverEffect[]): Launch[] =>
  sent(effects, 'LaunchTask').map(({ executorId, message: m }) => ({
    executorId,
    taskId: m.taskId,
    jobId: m.jobId,
    partition: m.partition,
    attempt: m.attempt,
  }));

/** The result bytes a task of (job, partition) returns in these tests: identifies both. */
export const resultOf = (jobId: number, partition: number): Uint8Array =>
  Uint8Array.of(jobId & 0xff, partition & 0xff, 7);

export const task = (partition: number): TaskSpec => ({
  partition,
  source: { kind: 'range', start: partition * 10, end: partition * 10 + 10, step: 1 },
  ops: [{ op: 'map', fn: 'square' }],
  action: { kind: 'collect' },
});

export const tasks = (n: number): TaskSpec[] => Array.from({ length: n }, (_, i) => task(i));

export const remoteError = (n = 1): TaskFailure => ({
  name: 'RangeError',
  message: `boom ${n}`,
  stack: `RangeError: boom ${n}\n    at square (file:///app/main.ts:3:9)\n    at runTask (executor.ts:10:5)`,
});

export const address = (executorId: string): string => `flint+client://Executor@exec-${executorId}`;

export class TestDriver {
  readonly machine: TaskSchedulerMachine;
  now = T0;
  /** Every effect so far, in order. */
  readonly log: DriverEffect[] = [];

  constructor(config: Partial<DriverConfig> = {}) {
    this.machine = new TaskSchedulerMachine(driverConfig(config));
  }

  handle(input: DriverInput): DriverEffect[] {
    const effects = this.machine.handle(input, this.now);
    this.log.push(...effects);
    return effects;
  }

  advance(ms: number): void {
    this.now += ms;
  }

  /** Fires `timer` with the generation it is armed with; one that is not armed fires stale (generation 0). */
  fireTimer(timer: DriverTimer): DriverEffect[] {
    const key = typeof timer === 'string' ? timer : `${timer.kind}:${timer.executorId}`;
    const generation = this.machine.armedTimers().find((t) => t.key === key)?.generation ?? 0;
    return this.handle({ kind: 'TimerFired', key, generation });
  }

  #nextToken = 1;

  /** A fresh reply token, as the adapter's ReplyBook opens one per ask. */
  token(): ReplyToken {
    return replyToken(this.#nextToken++);
  }

  /**
   * RegisterExecutor (with its custom-resource addresses, if any), then (unless `launched` is false)
   * ExecutorLaunched. Returns the effects of both.
   */
  addExecutor(executorId: string, cores = 1, launched = true, resources?: Readonly<Record<string, readonly string[]>>): DriverEffect[] {
    const effects = this.handle({
      kind: 'RegisterExecutor',
      token: this.token(),
      executorId,
      executorAddress: address(executorId),
      hostname: `host-${executorId}`,
      cores,
      ...(resources === undefined ? {} : { resources }),
    });
    return launched ? [...effects, ...this.handle({ kind: 'ExecutorLaunched', executorId })] : effects;
  }

  submit(jobId: number, n: number): DriverEffect[] {
    return this.handle({ kind: 'SubmitJob', jobId, tasks: tasks(n) });
  }

  status(
    launch: Launch,
    state: StatusUpdateMessage['state'],
    extra: Partial<StatusUpdateMessage> = {},
  ): DriverEffect[] {
    return this.handle({
      kind: 'StatusUpdate',
      message: { type: 'StatusUpdate', executorId: launch.executorId, taskId: launch.taskId, state, ...extra },
    });
  }

  finish(launch: Launch, result = resultOf(launch.jobId, launch.partition)): DriverEffect[] {
    return this.status(launch, 'FINISHED', { result });
  }

  fail(launch: Launch, failure: TaskFailure = remoteError(launch.attempt + 1)): DriverEffect[] {
    return this.status(launch, 'FAILED', { failure });
  }

  lose(executorId: string, causedByApp = false, reason = 'Worker shut down'): DriverEffect[] {
    return this.handle({ kind: 'ExecutorLost', executorId, reason, causedByApp });
  }

  heartbeat(executorId: string): DriverEffect[] {
    return this.handle({ kind: 'ExecutorHeartbeat', token: this.token(), message: { type: 'ExecutorHeartbeat', executorId, running: [] } });
  }

  /** Launches that have had no terminal status yet, per the machine's own view. */
  running(): Launch[] {
    return this.machine
      .snapshot()
      .tasks.filter((t) => t.phase === 'running')
      .map(({ executorId, taskId, jobId, partition, attempt }) => ({ executorId, taskId, jobId, partition, attempt }));
  }
}
