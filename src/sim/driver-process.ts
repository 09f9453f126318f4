// A simulated driver process: the real task scheduler (src/driver) and the real application client (src/app), each
// in a host that does what the driver's runtime (src/daemons/driver-runtime.ts) and its app client host
// (src/daemons/app-client.ts) do, and a user program that runs jobs one after another and checks each answer
// against a plain local evaluation (app.ts).

import { AppClientMachine, appClientConfig, type AppClientEffect, type AppClientInput } from '../app/index.ts';
import { DRIVER_CONFIG_DEFAULTS, type TaskSchedulerMachine, type DriverEffect, type DriverInput } from '../driver/index.ts';
import { replyToken } from '../kit/replies.ts';
import type { Rng } from '../kit/rng.ts';
import type { ApplicationDescription, MasterReply, MasterToApp } from '../protocol/messages.ts';
import type { ExecutorToDriver } from '../protocol/task-messages.ts';
import { drawJob, type SimJob } from './app.ts';
import { ASK_TIMEOUT_MS, CONNECT_TIMEOUT_MS, type Envelope, type Node } from './network.ts';
import { envOf, MachineProcess, SimReplyBook, type Own, type ProcessClock, type SimWorld } from './world.ts';

/** An ask's timeout (flint.rpc.askTimeout falls back to flint.network.timeout, 120 s). */

export interface SimDriverOptions {
  readonly host: string;
  readonly masterEnvs: readonly string[];
  readonly desc: Omit<ApplicationDescription, 'command'>;
  /** The conf its executors get (AppConfigResponse). */
  readonly executorConf: Readonly<Record<string, string>>;
  /** Jobs it runs before it stops; undefined: until `submitUntil`. */
  readonly jobs: number | undefined;
  /** No job is submitted after this (true) time, so that every job can end within the convergence bound. */
  readonly submitUntil: number;
}

export class SimDriver extends MachineProcess<DriverInput, DriverEffect> implements Node {
  readonly env: string;
  readonly name: string;
  readonly machine: TaskSchedulerMachine;
  readonly desc: ApplicationDescription;
  appId: string | undefined;
  /** Why the app ended: removed by the master, given up, or finished. */
  ended: string | undefined;
  readonly stats = { submitted: 0, succeeded: 0, failed: 0 };
  /** The job that runs now, with its id. */
  current: { readonly id: number; readonly job: SimJob } | undefined;
  readonly #options: SimDriverOptions;
  readonly #rng: Rng;
  readonly client: SimAppClient;
  readonly #executorsByEnv = new Map<string, Set<string>>();
  /**
   * The driver's own asks (its FetchTaskResults, its app client's asks to a master), by ask id: to whom, whether the
   * connection's closing fails it (as the RPC layer does), and what to do with the answer.
   */
  readonly #pending = new Map<number, { readonly to: string; readonly closeFails: boolean; answer(answer: { ok: true; message: unknown } | { ok: false; error: string }): void }>();
  /** Executors' asks the machine answers, with the executor id a RegisterExecutor names. */
  readonly #asks = new SimReplyBook<string | undefined>();
  #nextAsk = 1;
  #nextJob = 0;

  constructor(world: SimWorld, options: SimDriverOptions, rng: Rng, clock: ProcessClock) {
    super(world, clock);
    this.#options = options;
    this.#rng = rng;
    this.traceFrom = 'warn';
    this.machine = world.machines.driver(DRIVER_CONFIG_DEFAULTS);
    this.env = `flint://${options.host}:7079`;
    this.name = `driver ${options.host}`;
    const scheduler = `flint://CoarseGrainedScheduler@${options.host}:7079`;
    this.desc = {
      ...options.desc,
      command: {
        mainModule: 'flint:executor',
        arguments: ['--driver-url', scheduler, '--executor-id', '{{EXECUTOR_ID}}', '--hostname', '{{HOSTNAME}}', '--cores', '{{CORES}}', '--app-id', '{{APP_ID}}', '--worker-url', '{{WORKER_URL}}'],
        environment: {},
        nodeOptions: [],
      },
    };
    this.client = new SimAppClient(world, clock, this);
  }

  get masterEnvs(): readonly string[] {
    return this.#options.masterEnvs;
  }

  get address(): string {
    return `flint://AppClient@${this.#options.host}:7079`;
  }

  protected apply(input: DriverInput, now: number): readonly DriverEffect[] {
    return this.machine.handle(input, now);
  }

  start(): void {
    this.world.network.attach(this);
    this.client.start();
  }

  // ---- what the application client tells the driver (Spark's AppClientListener) ----

  /** Registered: the user's program starts. */
  connected(appId: string): void {
    if (this.appId !== undefined) return;
    this.appId = appId;
    this.world.trace(`${this.name}: registered as ${appId}`);
    this.#nextJobSoon(0);
  }

  /**
   * An executor ended. Spark's StandaloneSchedulerBackend.executorRemoved: an exit code counts against the app; a
   * loss without one counts only when its worker is not known to be gone.
   */
  executorRemoved(fullId: string, message: string, exitStatus: number | undefined, workerHost: string | undefined): void {
    const id = fullId.slice(fullId.lastIndexOf('/') + 1);
    this.#lost(id, `Executor ${fullId} removed: ${message}`, exitStatus !== undefined || workerHost === undefined);
  }

  /** The executor's worker is being decommissioned: it drains (Spark's executorDecommissioned). */
  executorDecommissioned(fullId: string, message: string): void {
    const id = fullId.slice(fullId.lastIndexOf('/') + 1);
    if (this.machine.hasExecutor(id)) this.step({ kind: 'DecommissionExecutor', executorId: id, reason: message }, `executor ${id} decommissioned`);
  }

  /** The app cannot go on: no master answered, or the master removed it. */
  dead(reason: string): void {
    this.#end(reason);
  }

  /** Asks `to` (an env) on the driver's connection; `answer` gets exactly one answer: the reply, a failure, a timeout. */
  askOver(to: string, message: { readonly type: string }, closeFails: boolean, answer: (answer: { ok: true; message: unknown } | { ok: false; error: string }) => void): void {
    const askId = this.#nextAsk++;
    this.#pending.set(askId, { to, closeFails, answer });
    this.world.network.send(this.env, to, { kind: 'ask', askId, message });
    this.after(ASK_TIMEOUT_MS, () => {
      if (this.#pending.delete(askId)) answer({ ok: false, error: 'ask timed out' });
    });
  }

  #lost(executorId: string, reason: string, causedByApp: boolean): void {
    if (this.machine.hasExecutor(executorId)) this.step({ kind: 'ExecutorLost', executorId, reason, causedByApp }, `executor ${executorId} lost`);
  }

  /**
   * The driver's process dies (kill -9, a lost host): no Stop and no UnregisterApplication; the master and the
   * executors hear only that its connection closed (Spark's `Master.onDisconnected` finishes the app).
   */
  crash(): void {
    if (this.ended !== undefined) return;
    this.ended = 'crashed';
    this.up = false;
    this.cancelTimers();
    this.client.exit();
    this.world.network.crashed(this.env);
  }

  /** The app ends: the scheduler stops its executors, the master is told (when it is finished), the process exits. */
  #end(reason: string): void {
    if (this.ended !== undefined) return;
    this.ended = reason;
    this.world.trace(`${this.name}: the app ends: ${reason}`);
    this.step({ kind: 'Stop' }, 'Stop');
    this.client.stop();
    this.after(1_000, () => {
      this.up = false;
      this.cancelTimers();
      this.client.exit();
      this.world.network.crashed(this.env);
    });
  }

  // ---- the user's program: one job after another ----

  #nextJobSoon(delayMs: number): void {
    this.after(delayMs, () => {
      if (this.ended !== undefined || this.current !== undefined) return;
      const { jobs, submitUntil } = this.#options;
      if ((jobs !== undefined && this.stats.submitted >= jobs) || this.world.queue.now >= submitUntil) {
        if (jobs !== undefined) this.#end('finished');
        return;
      }
      const id = this.#nextJob++;
      const job = drawJob(this.#rng, id);
      this.current = { id, job };
      this.stats.submitted += 1;
      this.step({ kind: 'SubmitJob', jobId: id, tasks: job.tasks }, `submit ${job.name}`);
    });
  }

  #jobEnded(jobId: number, outcome: { ok: true; results: readonly Uint8Array[] } | { ok: false; summary: string }): void {
    const current = this.current;
    if (current?.id !== jobId) return this.world.violation('a job ends once', `${this.name}: job ${jobId} ended, but job ${current?.id} runs`);
    this.current = undefined;
    if (outcome.ok) {
      this.stats.succeeded += 1;
      const { job } = current;
      if (outcome.results.length !== job.tasks.length) {
        return this.world.violation('one result per task', `${this.name}: ${job.name} returned ${outcome.results.length} results for ${job.tasks.length} tasks`);
      }
      const got = JSON.stringify(job.combine(outcome.results));
      const want = JSON.stringify(job.expected);
      if (got !== want) return this.world.violation('a job returns what a local evaluation gives', `${this.name}: ${job.name} returned ${got.slice(0, 200)}, expected ${want.slice(0, 200)}`);
      this.world.trace(`${this.name}: ${job.name} = ${got.slice(0, 40)} ✓`);
    } else {
      this.stats.failed += 1;
      // The seeds' retry rule: a job fails only once one of its tasks failed flint.task.maxFailures times.
      if (this.ended === undefined && !/failed \d+ times \(flint\.task\.maxFailures/.test(outcome.summary)) {
        return this.world.violation('a job fails only when a task ran out of retries', `${this.name}: ${outcome.summary}`);
      }
      this.world.trace(`${this.name}: job ${jobId} failed: ${outcome.summary.slice(0, 120)}`);
    }
    this.#nextJobSoon(1_000 + this.#rng.nextInt(20_000));
  }

  // ---- the scheduler's endpoint ----

  deliver(from: string, envelope: Envelope): void {
    if (!this.up) return;
    switch (envelope.kind) {
      case 'send': {
        const message = envelope.message as ExecutorToDriver | MasterToApp;
        if (message.type === 'LaunchedExecutor') return this.step({ kind: 'ExecutorLaunched', executorId: message.executorId }, `LaunchedExecutor ${message.executorId}`);
        if (message.type === 'StatusUpdate') return this.step({ kind: 'StatusUpdate', message }, `StatusUpdate ${message.taskId} ${message.state}`);
        return this.client.fromMaster(message as MasterToApp, from);
      }
      case 'ask':
        return this.#ask(from, envelope.askId, envelope.message as ExecutorToDriver);
      case 'reply':
      case 'failure': {
        const pending = this.#pending.get(envelope.askId);
        this.#pending.delete(envelope.askId);
        pending?.answer(envelope.kind === 'reply' ? { ok: true, message: envelope.message } : { ok: false, error: envelope.error });
      }
    }
  }

  #ask(from: string, askId: number, message: ExecutorToDriver): void {
    const reply = (answer: unknown): void => this.world.network.send(this.env, from, { kind: 'reply', askId, message: answer });
    const fail = (error: string): void => this.world.network.send(this.env, from, { kind: 'failure', askId, error });
    switch (message.type) {
      case 'RetrieveAppConfig':
        if (this.appId === undefined) return fail('the application is not registered with a master yet');
        return reply({ type: 'AppConfigResponse', appId: this.appId, conf: this.#options.executorConf, codeHash: 'sim', codeBytes: 1 });
      case 'RegisterExecutor': {
        // The machine answers (true, or "Duplicate executor ID"); an accepted executor is known by its connection.
        const { executorId, executorAddress, hostname, cores } = message;
        const token = this.#asks.open(from, askId, executorId);
        return this.step({ kind: 'RegisterExecutor', token, executorId, executorAddress, hostname, cores }, `RegisterExecutor ${executorId}`);
      }
      case 'ExecutorHeartbeat': {
        const token = this.#asks.open(from, askId, undefined);
        return this.step({ kind: 'ExecutorHeartbeat', token, message }, `heartbeat of ${message.executorId}`);
      }
      default:
        return fail(`${message.type} is not asked in the simulator`);
    }
  }

  disconnected(env: string): void {
    this.client.disconnected(env);
    // The RPC layer fails the asks pending on a connection that closed.
    for (const [askId, pending] of this.#pending) {
      if (pending.to !== env || !pending.closeFails) continue;
      this.#pending.delete(askId);
      pending.answer({ ok: false, error: `the connection to ${env} closed` });
    }
    const ids = this.#executorsByEnv.get(env);
    if (ids === undefined) return;
    this.#executorsByEnv.delete(env);
    // Spark: ExecutorProcessLost("Remote RPC client disassociated…"), which counts against the app.
    for (const id of ids) this.#lost(id, `Remote RPC client disassociated (${env})`, true);
  }

  protected carryOut(effect: Own<DriverEffect>): void {
    const { network } = this.world;
    switch (effect.kind) {
      case 'Send':
        network.send(this.env, envOf(effect.to), { kind: 'send', message: effect.message });
        return;
      case 'FetchResult':
        this.#fetch(envOf(effect.to), effect.taskId, effect.chunks);
        return;
      case 'JobSucceeded':
        this.#jobEnded(effect.jobId, { ok: true, results: effect.results });
        return;
      case 'JobFailed':
        this.#jobEnded(effect.jobId, { ok: false, summary: effect.summary });
        return;
      case 'Progress':
        if (effect.done + effect.running > effect.total) this.world.violation('no task result counted twice', `${this.name}: job ${effect.jobId} shows ${effect.done} done and ${effect.running} running of ${effect.total}`);
        return;
      case 'Reply':
      case 'ReplyFailure': {
        // An accepted RegisterExecutor: the executor is known by its connection from now on.
        const ask = this.#asks.answer(network, this.env, effect);
        if (effect.kind === 'Reply' && ask?.extra !== undefined) {
          let ids = this.#executorsByEnv.get(ask.from);
          if (ids === undefined) this.#executorsByEnv.set(ask.from, (ids = new Set()));
          ids.add(ask.extra);
        }
        return;
      }
      case 'KillExecutor':
        this.client.killExecutor(effect.executorId);
        return;
      default: {
        const never: never = effect;
        throw new Error(`unknown driver effect ${JSON.stringify(never)}`);
      }
    }
  }

  /** Asks FetchTaskResult for each chunk in turn; exactly one ResultFetched or ResultFetchFailed follows. */
  #fetch(to: string, taskId: number, chunks: number): void {
    const parts: Uint8Array[] = [];
    const next = (index: number): void => {
      if (index === chunks) {
        const bytes = new Uint8Array(parts.reduce((n, p) => n + p.byteLength, 0));
        let at = 0;
        for (const p of parts) {
          bytes.set(p, at);
          at += p.byteLength;
        }
        return this.step({ kind: 'ResultFetched', taskId, bytes }, `result of task ${taskId} fetched`);
      }
      const failed = (error: string): void => this.step({ kind: 'ResultFetchFailed', taskId, error }, `result of task ${taskId} not fetched`);
      if (this.world.network.connect(this.env, to) !== 'open') return void this.after(1, () => failed('connection failed'));
      this.askOver(to, { type: 'FetchTaskResult', taskId, index } as { type: string }, true, (answer) => {
        if (!answer.ok) return failed(answer.error);
        parts.push((answer.message as { data: Uint8Array }).data);
        next(index + 1);
      });
    };
    next(0);
  }
}

/**
 * The driver's application client: the real AppClientMachine (src/app) in a host that does what
 * src/daemons/app-client.ts does with its effects, on the driver's env.
 */
class SimAppClient extends MachineProcess<AppClientInput, AppClientEffect> {
  readonly name: string;
  readonly machine: AppClientMachine;
  readonly #driver: SimDriver;
  #nextToken = 1;

  constructor(world: SimWorld, clock: ProcessClock, driver: SimDriver) {
    super(world, clock);
    this.#driver = driver;
    this.name = `${driver.name} app client`;
    this.machine = new AppClientMachine(appClientConfig({ masters: driver.masterEnvs, driverAddress: driver.address, description: driver.desc }));
  }

  protected apply(input: AppClientInput, now: number): readonly AppClientEffect[] {
    return this.machine.handle(input, now);
  }

  start(): void {
    this.step({ kind: 'Start' }, 'Start');
  }

  stop(): void {
    this.step({ kind: 'Stop' }, 'Stop');
  }

  exit(): void {
    this.up = false;
    this.cancelTimers();
  }

  fromMaster(message: MasterToApp, from: string): void {
    this.step({ kind: 'MasterMessage', message }, `${message.type} from ${from}`);
  }

  disconnected(env: string): void {
    this.step({ kind: 'Disconnected', envId: env }, `Disconnected ${env}`);
  }

  killExecutor(executorId: string): void {
    this.step({ kind: 'KillExecutors', token: replyToken(this.#nextToken++), executorIds: [executorId] }, `KillExecutors ${executorId}`);
  }

  protected carryOut(effect: Own<AppClientEffect>): void {
    const { network } = this.world;
    const env = this.#driver.env;
    switch (effect.kind) {
      case 'Dial': {
        const { envUrl: masterUrl, message } = effect;
        const attempt = network.connect(env, masterUrl);
        if (attempt === 'open') return network.send(env, masterUrl, { kind: 'send', message });
        this.after(attempt === 'refused' ? 1 : CONNECT_TIMEOUT_MS, () =>
          this.step({ kind: 'DialFailed', envUrl: masterUrl, messageType: message.type, error: `connection ${attempt}` }, `cannot reach ${masterUrl}`),
        );
        return;
      }
      case 'Send':
        return network.send(env, envOf(effect.to), { kind: 'send', message: effect.message });
      case 'Ask': {
        const { context } = effect;
        this.#driver.askOver(envOf(effect.to), effect.message, false, (answer) =>
          this.step(
            answer.ok
              ? { kind: 'Answered', context, reply: answer.message as MasterReply }
              : { kind: 'AskFailed', context, error: answer.error, timedOut: answer.error === 'ask timed out' },
            'answer from the master',
          ),
        );
        return;
      }
      case 'Reply':
      case 'ReplyFailure':
        return; // the driver's KillExecutors asks: nobody waits for their answer here
      case 'Connected':
        return this.#driver.connected(effect.appId);
      case 'Disconnected':
      case 'ExecutorAdded':
      case 'WorkerRemoved':
        return;
      case 'Dead':
        return this.#driver.dead(effect.reason);
      case 'ExecutorRemoved':
        return this.#driver.executorRemoved(effect.fullId, effect.message, effect.exitStatus, effect.workerHost);
      case 'ExecutorDecommissioned':
        return this.#driver.executorDecommissioned(effect.fullId, effect.message);
      default: {
        const never: never = effect;
        throw new Error(`unknown app client effect ${JSON.stringify(never)}`);
      }
    }
  }
}
