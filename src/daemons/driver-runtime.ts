// The driver's side of a running application, wired to real I/O: the `CoarseGrainedScheduler` endpoint that
// executors talk to (Spark's `CoarseGrainedSchedulerBackend.DriverEndpoint`), the task scheduler machine
// (src/driver) behind a host loop, and the bundle it serves to executors. The application's place with the
// master is held by the app client (app-client.ts); FlintContext (src/api/context.ts) is the user's face of both.
// The machine decides every answer to an executor's ask about itself (registration, heartbeat); this adapter
// carries its effects out and answers only what the machine does not know of: the app's config and code.

import { ownsItsBuffer } from '../util/own-buffer.ts';
import { MachineHost, ReplyBook, SharedEffects, unknownEffect } from './machine-host.ts';
import type { SendBatching } from './send-batches.ts';
import { TaskSchedulerMachine, type DriverConfig, type DriverEffect, type DriverInput, type TaskSpec } from '../driver/index.ts';
import type { AppBundle } from '../io/bundle/bundle-app.ts';
import {
  ExecutorReplies,
  ExecutorToDriver,
  type DriverReply,
  type DriverToExecutor,
  type ExecutorToDriver as ExecutorMessage,
} from '../protocol/task-messages.ts';
import type { EnvId } from '../rpc/address.ts';
import type { ReplyContext } from '../rpc/endpoint.ts';
import type { Transport } from '../ports/transport.ts';
import type { Logger } from '../util/logger.ts';
import type { JobError } from '../driver/effects.ts';
import { FlintError } from '../errors.ts';
import { systemClock } from './system.ts';
import { ChangeSignal } from '../io/http/live-page.ts';
import { AppMetrics } from '../io/metrics/app-metrics.ts';

type LaunchTaskMessage = Extract<DriverToExecutor, { readonly type: 'LaunchTask' }>;

/** The LaunchTasks of one turn to one executor travel as one LaunchTasks (send-batches.ts). */
const LAUNCH_TASK_BATCHES: SendBatching = {
  type: 'LaunchTask',
  wrap: (tasks) => ({ type: 'LaunchTasks', tasks: tasks as LaunchTaskMessage[] }) satisfies DriverToExecutor,
};

export const SCHEDULER_ENDPOINT = 'CoarseGrainedScheduler';

/** The largest piece of the bundle one FetchAppCode may ask for. */
const MAX_CODE_CHUNK = 8 * 1024 * 1024;

/** A task set's results in task order, and the executor that computed each. */
export interface StageResults {
  readonly results: readonly Uint8Array[];
  readonly executors: readonly string[];
  /** Each task's accumulator updates (src/api/shared-variables.ts). */
  readonly accumulators: ReadonlyArray<Readonly<Record<string, number>> | undefined>;
}

type AccumulatorUpdates = StageResults['accumulators'];

export interface JobCallbacks {
  resolve(results: StageResults): void;
  reject(error: JobError, summary: string, results: ReadonlyArray<Uint8Array | undefined>, accumulators: AccumulatorUpdates): void;
}

export interface DriverRuntimeEvents {
  progress(jobId: number, total: number, done: number, running: number): void;
  jobEnded(jobId: number): void;
  killExecutor(executorId: string, reason: string): void;
}

export class DriverRuntime {
  readonly #env: Transport;
  readonly #machine: TaskSchedulerMachine;
  readonly #host: MachineHost<DriverInput, DriverEffect>;
  readonly #logger: Logger;
  readonly #bundle: Promise<AppBundle>;
  readonly #executorConf: Record<string, string>;
  readonly #events: DriverRuntimeEvents;
  readonly #jobs = new Map<number, JobCallbacks>();
  readonly #replies = new ReplyBook<DriverReply>();
  readonly #shared: SharedEffects;
  /** Which executor ids came over which connection, to notice their loss when it drops. */
  readonly #executorsByEnv = new Map<EnvId, Set<string>>();
  readonly #waiters = new Set<{ readonly count: number; resolve(): void }>();
  /** Notified after the machine handled each input: the application UI's live pages follow it. */
  readonly changes = new ChangeSignal();
  /** The application's metrics (docs/metrics.md); undefined with flint.metrics.enabled=false. */
  readonly metrics: AppMetrics | undefined;
  #appId: string | undefined;
  #nextJobId = 0;
  #stopped = false;

  constructor(opts: {
    env: Transport;
    config: DriverConfig;
    bundle: Promise<AppBundle>;
    executorConf: Record<string, string>;
    logger: Logger;
    events: DriverRuntimeEvents;
    /** `flint.metrics.enabled` (default true). */
    metrics?: boolean;
  }) {
    this.#env = opts.env;
    this.#machine = new TaskSchedulerMachine(opts.config);
    this.metrics = opts.metrics === false ? undefined : new AppMetrics(this.#machine);
    this.#logger = opts.logger;
    this.#bundle = opts.bundle;
    this.#executorConf = opts.executorConf;
    this.#events = opts.events;
    const machine = this.#machine;
    const changes = this.changes;
    const notifying = {
      handle: (input: DriverInput, now: number): readonly DriverEffect[] => {
        const effects = machine.handle(input, now);
        changes.notify();
        return effects;
      },
    };
    this.#host = new MachineHost(notifying, (effect) => this.#execute(effect), {
      now: systemClock.monotonic,
      logger: opts.logger,
    });
    this.#shared = new SharedEffects({
      transport: this.#env,
      logger: opts.logger,
      submit: (input) => void this.#host.submit(input as DriverInput),
      unref: () => true, // a driver's timers must not keep it alive after its app ends
      replies: this.#replies,
      batching: LAUNCH_TASK_BATCHES,
    });
    this.#env.setupEndpoint<ExecutorMessage>(SCHEDULER_ENDPOINT, {
      messages: ExecutorToDriver,
      receive: (message, ctx) => this.#receive(message, ctx.senderAddress),
      receiveAndReply: (message, ctx) => this.#receiveAndReply(message, ctx),
      onDisconnected: (remote) => this.#onDisconnected(remote),
    });
  }

  /**
   * Compiles the checkers of the executors' messages (TypeBox generates code for each, about 25 ms in all), at the
   * end of this turn: called once the app has registered, while the master and the workers start its executors,
   * so that their first messages do not wait for it.
   */
  prepareForExecutors(): void {
    setImmediate(() => ExecutorToDriver.compileAll()).unref();
  }

  /** `flint://CoarseGrainedScheduler@host:port`, what executors are started with. */
  get schedulerUrl(): string {
    return `${this.#env.id.replace('://', `://${SCHEDULER_ENDPOINT}@`)}`;
  }

  set appId(id: string) {
    this.#appId = id;
  }

  get machine(): TaskSchedulerMachine {
    return this.#machine;
  }

  /** Runs one job; resolves with each task's encoded result, in the order of `tasks`. */
  runJob(tasks: readonly TaskSpec[], description?: string): { jobId: number; done: Promise<StageResults> } {
    const jobId = this.#nextJobId++;
    const done = new Promise<StageResults>((resolve, reject) => {
      this.#jobs.set(jobId, { resolve, reject: (error, summary, results, accumulators) => reject(new JobFailedError(jobId, error, summary, results, accumulators)) });
    });
    void this.#host.submit({ kind: 'SubmitJob', jobId, tasks, ...(description === undefined ? {} : { description }) });
    return { jobId, done };
  }

  /** Tells every executor to delete its worker's map output of a shuffle the driver no longer needs. */
  removeShuffle(shuffleId: number): Promise<void> {
    return this.#host.submit({ kind: 'RemoveShuffle', shuffleId });
  }

  /** Tells every executor to drop the cached partitions of persisted dataset `id`. */
  removeCache(id: number): Promise<void> {
    return this.#host.submit({ kind: 'RemoveCache', id });
  }

  cancelJob(jobId: number, reason: string): Promise<void> {
    return this.#host.submit({ kind: 'CancelJob', jobId, reason });
  }

  /** The master or a worker reports the executor gone. */
  executorLost(executorId: string, reason: string, causedByApp: boolean): void {
    if (!this.#machine.hasExecutor(executorId)) return;
    void this.#host.submit({ kind: 'ExecutorLost', executorId, reason, causedByApp });
  }

  /** The executor's worker is being decommissioned: it takes no more tasks and is stopped once drained. */
  decommissionExecutor(executorId: string, reason: string, removedAs?: string): Promise<void> {
    if (!this.#machine.hasExecutor(executorId)) return Promise.resolve();
    return this.#host.submit({ kind: 'DecommissionExecutor', executorId, reason, ...(removedAs === undefined ? {} : { removedAs }) });
  }

  /** Executors that can run tasks now. */
  launchedExecutors(): number {
    return this.#machine.snapshot().executors.filter((e) => e.launched).length;
  }

  /** Resolves once `count` executors can run tasks; rejects after `timeoutMs`. */
  awaitExecutors(count: number, timeoutMs: number): Promise<void> {
    if (this.launchedExecutors() >= count) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      const waiter = {
        count,
        resolve: () => {
          clearTimeout(timer);
          resolve();
        },
      };
      const timer = setTimeout(() => {
        this.#waiters.delete(waiter);
        reject(new FlintError('FLINT_APP_FAILED', `${count} executor(s) did not register within ${timeoutMs} ms (${this.launchedExecutors()} did); are there workers with free cores and memory?`));
      }, timeoutMs);
      this.#waiters.add(waiter);
    });
  }

  #checkWaiters(): void {
    if (this.#waiters.size === 0) return;
    const ready = this.launchedExecutors();
    for (const waiter of this.#waiters) {
      if (ready < waiter.count) continue;
      this.#waiters.delete(waiter);
      waiter.resolve();
    }
  }

  /** Stops every executor and fails every unfinished job. */
  async stop(): Promise<void> {
    if (this.#stopped) return;
    await this.#host.submit({ kind: 'Stop' });
    this.#stopped = true;
    this.#shared.cancelTimers();
    this.#host.close();
  }

  #receive(message: ExecutorMessage, sender: EnvId): void {
    switch (message.type) {
      case 'LaunchedExecutor':
        void this.#host.submit({ kind: 'ExecutorLaunched', executorId: message.executorId }).then(() => this.#checkWaiters());
        return;
      case 'StatusUpdate':
        this.metrics?.statusUpdate(message);
        void this.#host.submit({ kind: 'StatusUpdate', message });
        return;
      case 'StatusUpdates':
        // A batch (send-batches.ts): its updates are the machine's inputs, one by one, in order.
        for (const update of message.updates) this.#receive(update, sender);
        return;
      default:
        this.#logger.warn({ type: message.type, from: sender }, `${message.type} must be asked, not sent; ignored`);
    }
  }

  #receiveAndReply(message: ExecutorMessage, ctx: ReplyContext): void {
    const reply = (value: DriverReply): void => ctx.reply(value);
    switch (message.type) {
      case 'RetrieveAppConfig':
        if (this.#appId === undefined) throw new Error('the application is not registered with a master yet');
        return void this.#bundle.then(
          (bundle) =>
            reply({
              type: 'AppConfigResponse',
              appId: this.#appId as string,
              conf: this.#executorConf,
              codeHash: bundle.hash,
              codeBytes: bundle.code.byteLength,
            }),
          (err: unknown) => ctx.sendFailure(new Error(`the application could not be bundled: ${err instanceof Error ? err.message : String(err)}`)),
        );
      case 'FetchAppCode':
        return void this.#bundle.then(
          (bundle) => {
            if (message.hash !== bundle.hash) return ctx.sendFailure(new Error(`no application bundle with hash ${message.hash}`));
            if (message.offset > bundle.code.byteLength) return ctx.sendFailure(new Error(`offset ${message.offset} is past the bundle's end`));
            const end = Math.min(message.offset + Math.min(message.length, MAX_CODE_CHUNK), bundle.code.byteLength);
            reply({ type: 'AppCodeChunk', hash: message.hash, offset: message.offset, data: bundle.code.subarray(message.offset, end) });
          },
          (err: unknown) => ctx.sendFailure(err instanceof Error ? err : new Error(String(err))),
        );
      case 'RegisterExecutor': {
        if (this.#stopped) return ctx.sendFailure(new Error('the driver is stopping')); // the machine's host is closed
        const { executorId, executorAddress, hostname, cores, logUrls, resources } = message;
        const sender = ctx.senderAddress;
        const token = this.#replies.open({
          reply: (value) => {
            // Accepted: remember the connection it came over, to notice the executor's loss when it drops.
            let ids = this.#executorsByEnv.get(sender);
            if (ids === undefined) this.#executorsByEnv.set(sender, (ids = new Set()));
            ids.add(executorId);
            ctx.reply(value);
          },
          sendFailure: (error) => ctx.sendFailure(error),
        });
        void this.#host.submit({ kind: 'RegisterExecutor', token, executorId, executorAddress, hostname, cores, logUrls, ...(resources === undefined ? {} : { resources }) });
        return;
      }
      case 'ExecutorHeartbeat': {
        if (this.#stopped) return ctx.reply({ type: 'HeartbeatResponse', reregister: true }); // the host is closed
        this.metrics?.heartbeat(message);
        const token = this.#replies.open(ctx);
        void this.#host.submit({ kind: 'ExecutorHeartbeat', token, message });
        return;
      }
      case 'LaunchedExecutor':
      case 'StatusUpdate':
      case 'StatusUpdates':
        this.#receive(message, ctx.senderAddress);
        return ctx.reply({ type: 'BooleanResponse', value: true });
      default: {
        const never: never = message;
        throw new Error(`unexpected message ${JSON.stringify(never)}`);
      }
    }
  }

  #onDisconnected(remote: EnvId): void {
    const ids = this.#executorsByEnv.get(remote);
    if (ids === undefined) return;
    this.#executorsByEnv.delete(remote);
    for (const executorId of ids) {
      // Spark: ExecutorProcessLost("Remote RPC client disassociated…"), which counts against the app.
      this.executorLost(executorId, `Remote RPC client disassociated. Likely due to the executor exceeding its limits or a network problem (${remote}).`, true);
    }
  }

  #execute(all: DriverEffect): void {
    const effect = this.#shared.take(all);
    if (effect === undefined) return;
    switch (effect.kind) {
      case 'FetchResult':
        void this.#fetchResult(effect.to, effect.taskId, effect.chunks, effect.bytes);
        return;
      case 'JobSucceeded': {
        const job = this.#jobs.get(effect.jobId);
        this.#jobs.delete(effect.jobId);
        this.#events.jobEnded(effect.jobId);
        job?.resolve({ results: effect.results, executors: effect.executors, accumulators: effect.accumulators });
        return;
      }
      case 'JobFailed': {
        const job = this.#jobs.get(effect.jobId);
        this.#jobs.delete(effect.jobId);
        this.#events.jobEnded(effect.jobId);
        job?.reject(effect.error, effect.summary, effect.results, effect.accumulators);
        return;
      }
      case 'Progress':
        this.#events.progress(effect.jobId, effect.total, effect.done, effect.running);
        return;
      case 'KillExecutor':
        this.#events.killExecutor(effect.executorId, effect.reason);
        return;
      default:
        return unknownEffect(effect);
    }
  }

  async #fetchResult(to: string, taskId: number, chunks: number, bytes: number): Promise<void> {
    try {
      const ref = this.#env.endpointRef<DriverToExecutor>(to);
      if (chunks === 1) {
        // A whole result in one chunk is taken as it came when it has a buffer of its own: handed over in the process
        // (local mode, local-backend.ts) it is the task's own bytes, which the executor never writes again.
        const chunk = await ref.ask({ type: 'FetchTaskResult', taskId, index: 0 }, { expect: ExecutorReplies });
        if (chunk.data.byteLength !== bytes) throw new Error(`task ${taskId}'s result has ${chunk.data.byteLength} bytes, ${bytes} were announced`);
        await this.#host.submit({ kind: 'ResultFetched', taskId, bytes: ownsItsBuffer(chunk.data) ? chunk.data : chunk.data.slice() });
        return;
      }
      const out = new Uint8Array(bytes);
      let offset = 0;
      for (let index = 0; index < chunks; index++) {
        const chunk = await ref.ask({ type: 'FetchTaskResult', taskId, index }, { expect: ExecutorReplies });
        if (offset + chunk.data.byteLength > bytes) throw new Error(`task ${taskId}'s result is longer than the ${bytes} bytes announced`);
        out.set(chunk.data, offset);
        offset += chunk.data.byteLength;
      }
      if (offset !== bytes) throw new Error(`task ${taskId}'s result has ${offset} bytes, ${bytes} were announced`);
      await this.#host.submit({ kind: 'ResultFetched', taskId, bytes: out });
    } catch (err) {
      await this.#host.submit({ kind: 'ResultFetchFailed', taskId, error: err instanceof Error ? err.message : String(err) });
    }
  }
}

/** A job failed: the message carries the failing task's remote error; `remoteStack` its stack. */
export class JobFailedError extends FlintError {
  readonly jobId: number;
  readonly remoteName: string;
  readonly remoteMessage: string;
  readonly remoteStack: string;
  /** A shuffle block its task could not read (the stage is resubmitted, src/api/dag-runner.ts). */
  readonly fetchFailed: JobError['fetchFailed'];
  /** The results of the tasks that had finished, by task index (undefined for the others). */
  readonly partialResults: ReadonlyArray<Uint8Array | undefined>;
  /** The accumulator updates of those tasks. */
  readonly partialAccumulators: AccumulatorUpdates;
  constructor(jobId: number, error: JobError, summary: string, partialResults: ReadonlyArray<Uint8Array | undefined> = [], partialAccumulators: AccumulatorUpdates = []) {
    super('FLINT_JOB_FAILED', summary);
    this.jobId = jobId;
    this.fetchFailed = error.fetchFailed;
    this.partialResults = partialResults;
    this.partialAccumulators = partialAccumulators;
    this.remoteName = error.name;
    this.remoteMessage = error.message;
    this.remoteStack = error.stack;
    this.stack = `${this.name}: ${summary}\nRemote stack (on the executor):\n${error.stack || `${error.name}: ${error.message}`}`;
  }
}
