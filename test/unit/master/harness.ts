// Drives a MasterMachine with a fake clock value and a seeded Rng: no sockets, no timers, no sleeps.
import assert from 'node:assert/strict';
import type {
  ApplicationDescription,
  DriverDescription,
  ExecutorDescription,
  MasterToApp,
  MasterToWorker,
} from '../../../src/protocol/messages.ts';
import {
  EMPTY_PERSISTED_STATE,
  MasterMachine,
  masterConfig,
  replyToken,
  type LogLevel,
  type MasterAsk,
  type MasterConfigInput,
  type MasterEffect,
  type MasterOneWay,
  type MasterProbes,
  type MasterReplyMessage,
  type MasterTimer,
  type PersistedApplication,
  type PersistedDriver,
  type PersistedMasterState,
  type PersistedWorker,
} from '../../../src/master/index.ts';
import { rngFrom } from '../../../src/kit/rng.ts';
import type { Rng } from '../../../src/scheduling/index.ts';

/** 2024-01-02T03:04:05Z: ids made at this time carry `20240102030405`. */
export const T0 = Date.UTC(2024, 0, 2, 3, 4, 5);
export const STAMP = '20240102030405';

export function seededRng(seed: number): Rng {
  let state = seed >>> 0;
  const next = (): number => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return rngFrom(next);
}

export const command = { mainModule: 'app.js', arguments: [], environment: {}, nodeOptions: [] };

export const appDesc = (over: Partial<ApplicationDescription> = {}): ApplicationDescription => ({
  name: 'test',
  memoryMbPerExecutor: 1024,
  command,
  appUiUrl: 'http://localhost:4040',
  user: 'tester',
  ...over,
});

export const driverDesc = (over: Partial<DriverDescription> = {}): DriverDescription => ({
  appResource: 'file:///app.js',
  memoryMb: 512,
  cores: 1,
  supervise: false,
  command: { ...command, mainModule: 'main.js' },
  ...over,
});

export interface WorkerSpec {
  readonly host?: string;
  readonly port?: number;
  readonly cores?: number;
  readonly memoryMb?: number;
  readonly masterAddress?: string;
  /** Custom resources the worker reports (RegisterWorker.resources). */
  readonly resources?: Record<string, string[]>;
}

/** Worker `wN` listens on 10.0.0.1:(7000 + N) unless told otherwise. */
export function workerSpec(id: string, spec: WorkerSpec = {}) {
  const n = Number(/\d+$/.exec(id)?.[0] ?? 0);
  const host = spec.host ?? '10.0.0.1';
  const port = spec.port ?? 7000 + n;
  return {
    host,
    port,
    address: `flint://Worker@${host}:${port}`,
    envId: `flint://${host}:${port}`,
    message: {
      type: 'RegisterWorker' as const,
      id,
      host,
      port,
      workerAddress: `flint://Worker@${host}:${port}`,
      cores: spec.cores ?? 10,
      memoryMb: spec.memoryMb ?? 4096,
      workerWebUiUrl: `http://${host}:8081`,
      masterAddress: spec.masterAddress ?? 'flint://master:7077',
      ...(spec.resources === undefined ? {} : { resources: spec.resources }),
    },
  };
}

export function persistedWorker(id: string, spec: WorkerSpec = {}): PersistedWorker {
  const { host, port, address, message } = workerSpec(id, spec);
  const { cores, memoryMb, workerWebUiUrl } = message;
  return {
    kind: 'worker',
    id,
    host,
    port,
    workerAddress: address,
    cores,
    memoryMb,
    webUiUrl: workerWebUiUrl,
    ...(spec.resources === undefined ? {} : { resources: spec.resources }),
  };
}

export function persistedApp(id: string, client: string, over: Partial<ApplicationDescription> = {}): PersistedApplication {
  return { kind: 'app', id, desc: appDesc(over), driverAddress: appAddress(client), startTimeMs: T0 - 1000, submitDateMs: T0 - 1000 };
}

export function persistedDriver(id: string, over: Partial<DriverDescription> = {}): PersistedDriver {
  return { kind: 'driver', id, desc: driverDesc(over), startTimeMs: T0 - 1000, submitDateMs: T0 - 1000 };
}

export const appAddress = (name: string): string => `flint+client://AppClient@${name}`;
export const appEnvId = (name: string): string => `flint+client://${name}`;

export interface Sent {
  readonly to: string;
  readonly message: MasterToWorker | MasterToApp;
}

type Outbound = MasterToWorker | MasterToApp;
type OutboundOf<T extends Outbound['type']> = Extract<Outbound, { type: T }>;

/** Every `Send` effect, optionally only of one message type. */
export function sent<T extends Outbound['type']>(effects: readonly MasterEffect[], type?: T): Array<{ to: string; message: OutboundOf<T> }> {
  const out: Array<{ to: string; message: OutboundOf<T> }> = [];
  for (const e of effects) {
    if (e.kind === 'Send' && (type === undefined || e.message.type === type)) {
      out.push({ to: e.to, message: e.message as OutboundOf<T> });
    }
  }
  return out;
}

export const sentTypes = (effects: readonly MasterEffect[]): string[] => sent(effects).map((s) => s.message.type);

export const logs = (effects: readonly MasterEffect[], level?: LogLevel): string[] =>
  effects.flatMap((e) => (e.kind === 'Log' && (level === undefined || e.level === level) ? [e.msg] : []));

export const ofKind = <K extends MasterEffect['kind']>(effects: readonly MasterEffect[], kind: K) =>
  effects.filter((e): e is Extract<MasterEffect, { kind: K }> => e.kind === kind);

/** Position of the first effect matching `pred`, asserting there is one. */
export function indexOf(effects: readonly MasterEffect[], pred: (e: MasterEffect) => boolean, what: string): number {
  const at = effects.findIndex(pred);
  assert.ok(at >= 0, `expected an effect: ${what}`);
  return at;
}

export const isSendOf = (type: string) => (e: MasterEffect) => e.kind === 'Send' && e.message.type === type;

export interface AskResult {
  readonly effects: MasterEffect[];
  readonly reply: MasterReplyMessage | undefined;
  readonly failure: string | undefined;
}

/** A MasterMachine plus a clock value and helpers for the usual conversations. */
export class TestMaster {
  readonly machine: MasterMachine;
  now = T0;
  #nextToken = 1;

  constructor(config: Partial<MasterConfigInput> = {}, rng: Rng = seededRng(7), probes?: MasterProbes) {
    this.machine = new MasterMachine(masterConfig({ host: 'master', port: 7077, ...config }), rng, probes);
    this.#handle({ kind: 'Start' }); // as the daemon does: arms the worker timeout sweep
  }

  get state() {
    return this.machine.state;
  }

  advance(ms: number): this {
    this.now += ms;
    return this;
  }

  elect(persisted: PersistedMasterState = EMPTY_PERSISTED_STATE): MasterEffect[] {
    return this.#handle({ kind: 'ElectedLeader', persisted });
  }

  /** The worker env each executor the master ever placed runs on, by `appId/execId` (see `#senderOf`). */
  readonly #executorWorkers = new Map<string, string>();

  /** Feeds the machine, then notes where every executor it knows runs. */
  #handle(input: Parameters<MasterMachine['handle']>[0]): MasterEffect[] {
    const effects = this.machine.handle(input, this.now);
    for (const app of this.machine.state.idToApp.values()) {
      for (const exec of app.executors.values()) this.#executorWorkers.set(`${app.id}/${exec.id}`, exec.worker.envId);
    }
    return effects;
  }

  /** An application's messages about itself come from its driver's env unless a test says otherwise. */
  #senderOf(message: MasterOneWay | MasterAsk): string {
    // An executor's state always comes from the worker that runs it (ExecutorStateChanged is Worker → Master),
    // also once the master has removed the executor from its app (killed, its app gone: an orphan whose
    // addresses the worker's last report frees).
    if (message.type === 'ExecutorStateChanged') {
      const worker = this.machine.state.idToApp.get(message.appId)?.executors.get(message.execId)?.worker.envId ?? this.#executorWorkers.get(`${message.appId}/${message.execId}`);
      if (worker !== undefined) return worker;
    }
    const appId = 'appId' in message ? message.appId : undefined;
    return (appId === undefined ? undefined : this.machine.state.idToApp.get(appId)?.driverEnvId) ?? 'flint://peer:1';
  }

  send(message: MasterOneWay, from = this.#senderOf(message)): MasterEffect[] {
    return this.#handle({ kind: 'Receive', from, message });
  }

  ask(message: MasterAsk, from = this.#senderOf(message)): AskResult {
    const token = replyToken(this.#nextToken++);
    const effects = this.#handle({ kind: 'Ask', from, replyTo: token, message });
    const answers = effects.filter((e) => (e.kind === 'Reply' || e.kind === 'ReplyFailure') && e.token === token);
    assert.equal(answers.length, 1, `exactly one answer to ${message.type}`);
    const answer = answers[0];
    return {
      effects,
      reply: answer?.kind === 'Reply' ? answer.message : undefined,
      failure: answer?.kind === 'ReplyFailure' ? answer.error : undefined,
    };
  }

  /** Fires `timer` with the generation it is armed with; one that is not armed fires stale (generation 0). */
  timer(timer: MasterTimer): MasterEffect[] {
    const generation = this.machine.state.timers.armed().find((t) => t.key === timer)?.generation ?? 0;
    return this.#handle({ kind: 'TimerFired', key: timer, generation });
  }

  disconnect(envId: string): MasterEffect[] {
    return this.#handle({ kind: 'Disconnected', envId });
  }

  /**
   * RegisterWorker, then, as a real worker does once registered, its WorkerLatestState (here: no executors), which
   * lets the master place executors on it. The effects of both, in order.
   */
  registerWorker(id: string, spec: WorkerSpec = {}): MasterEffect[] {
    const effects = this.send(workerSpec(id, spec).message);
    const registered = sent(effects, 'RegisteredWorker').some((r) => !r.message.duplicate);
    if (!registered) return effects;
    return [...effects, ...this.send({ type: 'WorkerLatestState', id, executors: [], driverIds: [] }, workerSpec(id, spec).envId)];
  }

  heartbeat(id: string, spec: WorkerSpec = {}): MasterEffect[] {
    return this.send({ type: 'Heartbeat', workerId: id, workerAddress: workerSpec(id, spec).address });
  }

  /** Registers an app whose client is `flint+client://AppClient@<client>`; returns its id. */
  registerApp(client: string, over: Partial<ApplicationDescription> = {}): { appId: string; effects: MasterEffect[] } {
    const effects = this.send(
      { type: 'RegisterApplication', appDescription: appDesc(over), driverAddress: appAddress(client) },
      appEnvId(client),
    );
    const registered = sent(effects, 'RegisteredApplication');
    assert.equal(registered.length, 1, 'RegisteredApplication sent');
    return { appId: registered[0]?.message.appId ?? '', effects };
  }

  submitDriver(over: Partial<DriverDescription> = {}): { driverId: string; effects: MasterEffect[] } {
    const { reply, effects } = this.ask({ type: 'RequestSubmitDriver', driverDescription: driverDesc(over) });
    assert.ok(reply?.type === 'SubmitDriverResponse' && reply.success, 'driver submitted');
    return { driverId: reply.driverId ?? '', effects };
  }

  executorStateChanged(appId: string, execId: number, state: ExecutorDescription['state'], exitStatus?: number): AskResult {
    return this.ask({
      type: 'ExecutorStateChanged',
      appId,
      execId,
      state,
      ...(exitStatus === undefined ? {} : { exitStatus }),
    });
  }

  worker(id: string) {
    const w = this.state.idToWorker.get(id);
    assert.ok(w, `worker ${id} is registered`);
    return w;
  }

  app(id: string) {
    const a = this.state.idToApp.get(id);
    assert.ok(a, `app ${id} is active`);
    return a;
  }

  driver(id: string) {
    return [...this.state.drivers, ...this.state.completedDrivers].find((d) => d.id === id);
  }
}

/** An ALIVE master (elected with nothing persisted). */
export function aliveMaster(config: Partial<MasterConfigInput> = {}, rng?: Rng): TestMaster {
  const m = new TestMaster(config, rng);
  m.elect();
  assert.equal(m.state.recoveryState, 'ALIVE');
  return m;
}
