// Drives an ExecutorMachine the way the executor program would, with a fake time value and a tiny timer table:
// no sockets, no threads, no sleeps. Every effect is recorded with the time it was emitted, and every message
// the machine sends or asks is checked against the wire schema (a message the driver would reject fails the test).
import assert from 'node:assert/strict';
import { replyToken, type ReplyToken } from '../../../src/kit/replies.ts';
import { rngFrom } from '../../../src/kit/rng.ts';
import { ExecutorToDriver, type TaskAction, type TaskSource } from '../../../src/protocol/task-messages.ts';
import { ExecutorReplies } from '../../../src/protocol/task-messages.ts';
import {
  ExecutorMachine,
  type ExecutorEffect,
  type ExecutorInput,
  type ExecutorLaunchArgs,
  type LaunchTaskMessage,
  type Rng,
} from '../../../src/executor/index.ts';

/** 2024-01-02 03:04:05 UTC. */
export const T0 = Date.UTC(2024, 0, 2, 3, 4, 5);
export const SEC = 1000;
export const DRIVER_URL = 'flint://CoarseGrainedScheduler@10.0.0.9:40000';
export const CODE_HASH = 'ab'.repeat(32);

export const fixedRng = (value: number): Rng => rngFrom(() => value);

export function launchArgs(over: Partial<ExecutorLaunchArgs> = {}): ExecutorLaunchArgs {
  return {
    executorId: '3',
    appId: 'app-20240102030405-0000',
    hostname: 'h1',
    cores: 2,
    driverUrl: DRIVER_URL,
    executorAddress: 'flint+client://Executor@0123abcd',
    workerUrl: 'flint://Worker@h1:7078',
    logUrls: { stdout: 'http://h1:8081/logPage/?appId=app&executorId=3&logType=stdout' },
    ...over,
  };
}

export function launchTask(taskId: number, over: Partial<LaunchTaskMessage> = {}): LaunchTaskMessage {
  const source: TaskSource = { kind: 'range', start: 0, end: 10, step: 1 };
  const action: TaskAction = { kind: 'collect' };
  return { type: 'LaunchTask', taskId, jobId: 0, partition: taskId, attempt: 0, source, ops: [], action, ...over };
}

interface Armed {
  readonly key: string;
  readonly generation: number;
  readonly dueAt: number;
}

export class Harness {
  readonly machine: ExecutorMachine;
  now = T0;
  readonly timers = new Map<string, Armed>();
  readonly log: Array<{ at: number; effect: ExecutorEffect }> = [];
  exited = false;

  constructor(args: ExecutorLaunchArgs = launchArgs(), rng: Rng = fixedRng(0.5), tasksPerCore?: number) {
    this.machine = new ExecutorMachine(args, tasksPerCore === undefined ? { rng } : { rng, tasksPerCore });
  }

  handle(input: ExecutorInput): ExecutorEffect[] {
    const effects = this.machine.handle(input, this.now);
    effects.forEach((effect, i) => {
      this.log.push({ at: this.now, effect });
      if (this.exited) assert.fail(`effect ${effect.kind} after Exit`);
      if (effect.kind === 'Exit') {
        assert.equal(i, effects.length - 1, 'Exit is the last effect of its list');
        this.exited = true;
      }
      if (effect.kind === 'Send' || effect.kind === 'Ask') {
        const checked = ExecutorToDriver.check(effect.message);
        assert.ok(checked.ok, `${effect.message.type} fails the wire schema: ${checked.ok ? '' : checked.reason}`);
      }
      if (effect.kind === 'Reply') {
        const checked = ExecutorReplies.check(effect.message);
        assert.ok(checked.ok, `reply fails the wire schema: ${checked.ok ? '' : checked.reason}`);
      }
      if (effect.kind === 'StartTimer') {
        this.timers.set(effect.key, { key: effect.key, generation: effect.generation, dueAt: this.now + effect.delayMs });
      } else if (effect.kind === 'CancelTimer') {
        this.timers.delete(effect.key);
      }
    });
    return effects;
  }

  start(): ExecutorEffect[] {
    return this.handle({ kind: 'Start' });
  }

  configure(conf: Record<string, string> = {}): ExecutorEffect[] {
    this.start();
    return this.handle({
      kind: 'Answered',
      context: 'RetrieveAppConfig',
      reply: { type: 'AppConfigResponse', appId: 'app-20240102030405-0000', conf, codeHash: CODE_HASH, codeBytes: 12_345 },
    });
  }

  /** Start, configure, register and load the code: the executor is running. */
  run(conf: Record<string, string> = {}): ExecutorEffect[] {
    this.configure(conf);
    this.handle(REGISTERED);
    return this.handle({ kind: 'CodeLoaded', hash: CODE_HASH });
  }

  fromDriver(message: Extract<ExecutorInput, { kind: 'DriverMessage' }>['message']): ExecutorEffect[] {
    return this.handle({ kind: 'DriverMessage', message });
  }

  launch(taskId: number, over: Partial<LaunchTaskMessage> = {}): ExecutorEffect[] {
    return this.fromDriver(launchTask(taskId, over));
  }

  complete(taskId: number, result: Uint8Array = new Uint8Array([0x90]), records = 0, runTimeMs = 5): ExecutorEffect[] {
    return this.handle({ kind: 'TaskCompleted', taskId, result, records, runTimeMs });
  }

  fetch(taskId: number, index: number, token: ReplyToken = replyToken(taskId * 1000 + index)): ExecutorEffect[] {
    return this.handle({ kind: 'DriverAsk', message: { type: 'FetchTaskResult', taskId, index }, token });
  }

  /** Fires the armed timer `key` now, whatever its due time. */
  fire(key: string): ExecutorEffect[] {
    const armed = this.timers.get(key);
    if (armed === undefined) throw new Error(`timer ${key} is not armed`);
    this.timers.delete(key);
    return this.handle({ kind: 'TimerFired', key, generation: armed.generation });
  }

  /** Moves time forward, firing every timer that falls due on the way; `onEffects` answers each batch. */
  advance(ms: number, onEffects: (effects: ExecutorEffect[]) => void = () => {}): ExecutorEffect[] {
    const until = this.now + ms;
    const out: ExecutorEffect[] = [];
    for (;;) {
      const due = [...this.timers.values()].filter((t) => t.dueAt <= until).sort((a, b) => a.dueAt - b.dueAt)[0];
      if (due === undefined || this.exited) break;
      this.now = Math.max(this.now, due.dueAt);
      const effects = this.fire(due.key);
      out.push(...effects);
      onEffects(effects);
    }
    this.now = Math.max(this.now, until);
    return out;
  }

  recorded<T extends ExecutorEffect['kind']>(type: T): Array<Extract<ExecutorEffect, { kind: T }>> {
    return ofType(
      this.log.map((r) => r.effect),
      type,
    );
  }
}

export function ofType<T extends ExecutorEffect['kind']>(
  effects: readonly ExecutorEffect[],
  type: T,
): Array<Extract<ExecutorEffect, { kind: T }>> {
  return effects.filter((e) => e.kind === type) as Array<Extract<ExecutorEffect, { kind: T }>>;
}

export type Sent = Extract<ExecutorEffect, { kind: 'Send' }>['message'];
export type StatusUpdate = Extract<Sent, { type: 'StatusUpdate' }>;

/** The StatusUpdates in these effects, in order. */
export function statusUpdates(effects: readonly ExecutorEffect[]): StatusUpdate[] {
  return ofType(effects, 'Send')
    .map((e) => e.message)
    .filter((m): m is StatusUpdate => m.type === 'StatusUpdate');
}

/** `[taskId, state]` pairs of the StatusUpdates in these effects. */
export function states(effects: readonly ExecutorEffect[]): Array<[number, string]> {
  return statusUpdates(effects).map((u) => [u.taskId, u.state]);
}

export function runTaskIds(effects: readonly ExecutorEffect[]): number[] {
  return ofType(effects, 'RunTask').map((e) => e.task.taskId);
}

export function exitOf(effects: readonly ExecutorEffect[]): { code: number; reason: string } | undefined {
  const exit = ofType(effects, 'Exit')[0];
  return exit === undefined ? undefined : { code: exit.code, reason: exit.reason };
}

/** The driver's answers to the executor's asks, as the host hands them to the machine (src/kit/messaging.ts). */
export const REGISTERED = { kind: 'Answered', context: 'RegisterExecutor', reply: { type: 'BooleanResponse', value: true } } as const;
export const askFailed = (context: 'RetrieveAppConfig' | 'RegisterExecutor' | 'ExecutorHeartbeat', error: string, timedOut = false) =>
  ({ kind: 'AskFailed', context, error, timedOut }) as const;
export const heartbeatAnswered = (reregister: boolean) =>
  ({ kind: 'Answered', context: 'ExecutorHeartbeat', reply: { type: 'HeartbeatResponse', reregister } }) as const;
