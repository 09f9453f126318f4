// The one timer model of the machines. A machine arms at most one timer per key; arming an armed key replaces it.
// Every arming gets a new generation, and a firing carries the generation it was armed with: a firing that was
// already on its way when its timer was cancelled or replaced is stale, and the machine ignores it. So a host
// needs no cancellation race handling: it starts and cancels host timers as told and reports every firing.
// Timers are one-shot; a periodic one is re-armed by the machine when it fires (as Spark's
// `scheduleAtFixedRate` tasks are, in effect, for the master's worker timeout check).

/** Arm `timer` under `key` to fire after `delayMs`; it replaces any armed timer with that key. */
export interface StartTimer<T> {
  readonly kind: 'StartTimer';
  readonly key: string;
  readonly generation: number;
  readonly timer: T;
  readonly delayMs: number;
}

/** Disarm the timer under `key`, if any. */
export interface CancelTimer {
  readonly kind: 'CancelTimer';
  readonly key: string;
}

export type TimerEffect<T> = StartTimer<T> | CancelTimer;

/** The input a firing becomes: the key and the generation it was armed with. */
export interface TimerFired {
  readonly kind: 'TimerFired';
  readonly key: string;
  readonly generation: number;
}

/** The armed timers of one machine, in its state. */
export class TimerBook<T> {
  readonly #armed = new Map<string, { readonly generation: number; readonly timer: T }>();
  #nextGeneration = 1;

  /** Arms `timer` under `key` and returns the effect that asks the host to. */
  start(key: string, timer: T, delayMs: number): StartTimer<T> {
    const generation = this.#nextGeneration++;
    this.#armed.set(key, { generation, timer });
    return { kind: 'StartTimer', key, generation, timer, delayMs: Math.max(0, delayMs) };
  }

  /** Disarms `key`: the effect to carry out, or undefined when nothing was armed (the host needs nothing). */
  cancel(key: string): CancelTimer | undefined {
    return this.#armed.delete(key) ? { kind: 'CancelTimer', key } : undefined;
  }

  /**
   * A firing: the timer it was armed for, now disarmed, or undefined when it is stale (cancelled or replaced
   * since), which the machine ignores.
   */
  fired(key: string, generation: number): T | undefined {
    const armed = this.#armed.get(key);
    if (armed === undefined || armed.generation !== generation) return undefined;
    this.#armed.delete(key);
    return armed.timer;
  }

  isArmed(key: string): boolean {
    return this.#armed.has(key);
  }

  /** The armed timers, for snapshots and tests. */
  armed(): ReadonlyArray<{ readonly key: string; readonly generation: number; readonly timer: T }> {
    return [...this.#armed].map(([key, { generation, timer }]) => ({ key, generation, timer }));
  }

  /** Forgets every timer (a machine that stops); returns the effects that cancel them. */
  cancelAll(): CancelTimer[] {
    const effects = [...this.#armed.keys()].map((key): CancelTimer => ({ kind: 'CancelTimer', key }));
    this.#armed.clear();
    return effects;
  }
}

/** How a host starts and stops one-shot timers: Node's setTimeout in the daemons, the event queue in the simulator. */
export interface TimerScheduler<H> {
  start(delayMs: number, fire: () => void): H;
  stop(handle: H): void;
}

/**
 * The host side of the model: one-shot timers by key, as the machines arm them (`StartTimer` on an armed key
 * replaces it). A firing that was cancelled in time never runs; the machines ignore stale ones that do.
 */
export class KeyedTimers<H> {
  readonly #scheduler: TimerScheduler<H>;
  readonly #timers = new Map<string, H>();

  constructor(scheduler: TimerScheduler<H>) {
    this.#scheduler = scheduler;
  }

  /** Carries out a machine's StartTimer or CancelTimer effect; a firing calls `fired(key, generation)`. */
  carryOut(effect: TimerEffect<unknown>, fired: (key: string, generation: number) => void): void {
    if (effect.kind === 'CancelTimer') return this.cancel(effect.key);
    const { key, generation } = effect;
    this.start(key, effect.delayMs, () => fired(key, generation));
  }

  start(key: string, delayMs: number, fire: () => void): void {
    this.cancel(key);
    const handle = this.#scheduler.start(delayMs, () => {
      this.#timers.delete(key);
      fire();
    });
    this.#timers.set(key, handle);
  }

  cancel(key: string): void {
    const handle = this.#timers.get(key);
    if (handle === undefined) return;
    this.#scheduler.stop(handle);
    this.#timers.delete(key);
  }

  cancelAll(): void {
    for (const handle of this.#timers.values()) this.#scheduler.stop(handle);
    this.#timers.clear();
  }
}
