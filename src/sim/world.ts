// What every process of one simulated cluster shares (docs/architecture.md, "The simulator"): the event queue, the
// network, the trace, the hook the invariants run from, and the base of the small hosts that run the real machines.
// A process object is one incarnation: a crash marks it down, its timers and in-flight work die with it, and a
// restart makes a new one on the same address.

import { TaskSchedulerMachine, type DriverConfig } from '../driver/index.ts';
import { ExecutorMachine, type ExecutorLaunchArgs, type ExecutorMachineOptions } from '../executor/index.ts';
import type { Rng } from '../kit/rng.ts';
import type { LogEffect } from '../kit/log.ts';
import { replyToken, type Reply, type ReplyFailure, type ReplyToken } from '../kit/replies.ts';
import { KeyedTimers, type TimerEffect } from '../kit/timers.ts';
import { MasterMachine, type MasterConfig } from '../master/index.ts';
import { WorkerMachine, type WorkerConfig } from '../worker/index.ts';
import { parseEndpointAddress } from '../rpc/address.ts';
import type { EventQueue } from './event-queue.ts';
import type { SimNetwork } from './network.ts';

/**
 * How each process makes its machine. The simulator runs the real ones; a test passes a subclass with a bug put back
 * in (test/unit/sim/bugs.test.ts) to show that a sweep catches it.
 */
export interface MachineFactories {
  master(config: MasterConfig, rng: Rng): MasterMachine;
  worker(config: WorkerConfig, options: { rng: Rng; now: number }): WorkerMachine;
  executor(args: ExecutorLaunchArgs, options: ExecutorMachineOptions): ExecutorMachine;
  driver(config: DriverConfig): TaskSchedulerMachine;
}

export const REAL_MACHINES: MachineFactories = {
  master: (config, rng) => new MasterMachine(config, rng),
  worker: (config, options) => new WorkerMachine(config, options),
  executor: (args, options) => new ExecutorMachine(args, options),
  driver: (config) => new TaskSchedulerMachine(config),
};

export interface SimWorld {
  readonly queue: EventQueue;
  readonly machines: MachineFactories;
  readonly network: SimNetwork;
  /** Appends one line to the run's trace (kept for the report of a failing seed). */
  trace(line: string): void;
  /** Called after every input a machine handled: the invariants on what that process holds are checked here. */
  afterStep(what: string, stepped?: object): void;
  /** Reports a broken invariant that only the process that saw it can tell (a wrong job result, say). */
  violation(invariant: string, detail: string): void;
}

/**
 * A process's clock: `offsetMs` from true time, running at `rate` (1.02 is 2 % fast). What the machine is told is
 * "now" and how long its timers really take both follow it, as on a host whose clock is skewed and drifts.
 */
export interface ProcessClock {
  readonly offsetMs: number;
  readonly rate: number;
}

export const TRUE_CLOCK: ProcessClock = { offsetMs: 0, rate: 1 };

export const envOf = (address: string): string => parseEndpointAddress(address).env;

/** Host timers of one incarnation on the event queue, on its own clock: a crash cancels every pending firing. */
export function simTimers(world: SimWorld, clock: ProcessClock): KeyedTimers<number> {
  return new KeyedTimers({
    start: (delayMs, fire) => world.queue.schedule(Math.ceil(delayMs / clock.rate), fire),
    stop: (handle) => world.queue.cancel(handle),
  });
}

/** The effects a host carries out itself: all but the timers and log lines every machine shares. */
export type Own<E> = Exclude<E, { readonly kind: 'StartTimer' | 'CancelTimer' | 'Log' }>;

/**
 * A process that hosts one machine: inputs are handled one at a time, each list of effects carried out in order.
 * It carries out the effects every machine shares (src/kit: timers and logs) itself, so that each host keeps only
 * what is its machine's own.
 */
export abstract class MachineProcess<I, E extends { readonly kind: string }> {
  up = true;
  protected readonly world: SimWorld;
  protected readonly clock: ProcessClock;
  /** The lowest level of the machine's log lines that goes into the trace. */
  protected traceFrom: 'info' | 'warn' = 'info';
  readonly #start: number;
  readonly #timers: KeyedTimers<number>;

  constructor(world: SimWorld, clock: ProcessClock = TRUE_CLOCK) {
    this.world = world;
    this.clock = clock;
    this.#start = world.queue.now;
    this.#timers = simTimers(world, clock);
  }

  /** The shared effects: timers (their firings come back as `TimerFired`) and log lines. True when it was one. */
  #carryOutShared(effect: E): boolean {
    switch (effect.kind) {
      case 'StartTimer':
      case 'CancelTimer':
        this.#timers.carryOut(effect as unknown as TimerEffect<unknown>, (key, generation) => this.step({ kind: 'TimerFired', key, generation } as I, `timer ${key}`));
        return true;
      case 'Log': {
        const { level, msg } = effect as unknown as LogEffect;
        if (level === 'warn' || level === 'error' || (level === 'info' && this.traceFrom === 'info')) this.world.trace(`${this.name} ${level}: ${msg}`);
        return true;
      }
      default:
        return false;
    }
  }

  /** The process ends: none of its timers fires any more. */
  protected cancelTimers(): void {
    this.#timers.cancelAll();
  }

  abstract readonly name: string;
  protected abstract apply(input: I, now: number): readonly E[];
  /**
   * Carries out one of the machine's own effects; false stops the rest of the list (a write that failed, as the
   * daemons' hosts do). The shared ones never reach it.
   */
  protected abstract carryOut(effect: Own<E>): boolean | void;

  /** This process's idea of the time now. */
  protected now(): number {
    const real = this.world.queue.now;
    return Math.floor(this.#start + (real - this.#start) * this.clock.rate + this.clock.offsetMs);
  }

  /** Handles `input` now (nothing once down), then lets the invariants run. */
  protected step(input: I, what: string): void {
    if (!this.up) return;
    for (const effect of this.apply(input, this.now())) {
      if (!this.up) break;
      if (this.#carryOutShared(effect)) continue;
      if (this.carryOut(effect as Own<E>) === false) break;
    }
    this.world.afterStep(`${this.name}: ${what}`, this);
  }

  /** Runs `run` after `delayMs` on this process's clock, unless it is down by then. */
  protected after(delayMs: number, run: () => void): number {
    return this.world.queue.schedule(Math.ceil(delayMs / this.clock.rate), () => {
      if (this.up) run();
    });
  }
}

/**
 * The asks a host's machine must answer, by reply token (the simulator's ReplyBook, src/daemons/machine-host.ts):
 * who asked, the ask's id on the wire (undefined for an ask sent one-way: no answer travels), and what else the host
 * keeps with it.
 */
export class SimReplyBook<Extra = undefined> {
  readonly #open = new Map<ReplyToken, { readonly from: string; readonly askId: number | undefined; readonly extra: Extra }>();
  #next = 1;

  open(from: string, askId: number | undefined, extra: Extra): ReplyToken {
    const token = replyToken(this.#next++);
    this.#open.set(token, { from, askId, extra });
    return token;
  }

  /** Sends the answer back to the asker; returns what its ask was opened with, undefined for an unknown token. */
  answer(network: SimNetwork, self: string, effect: Reply<unknown> | ReplyFailure): { readonly from: string; readonly extra: Extra } | undefined {
    const ask = this.#open.get(effect.token);
    if (ask === undefined) return undefined;
    this.#open.delete(effect.token);
    if (ask.askId !== undefined) {
      network.send(
        self,
        ask.from,
        effect.kind === 'Reply' ? { kind: 'reply', askId: ask.askId, message: effect.message } : { kind: 'failure', askId: ask.askId, error: effect.error },
      );
    }
    return ask;
  }
}
