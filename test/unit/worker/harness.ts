// Drives a WorkerMachine the way a host would, with a fake time value and a tiny timer table: no sockets, no
// sleeps. Every effect is recorded with the time it was emitted, so tests can assert schedules.
import type { Static } from '@sinclair/typebox';
import { rngFrom } from '../../../src/kit/rng.ts';
import type {
  ApplicationDescription,
  DriverDescription,
  LaunchExecutor,
  MasterToWorker,
  WorkerToMaster,
} from '../../../src/protocol/messages.ts';
import {
  WorkerMachine,
  workerConfig,
  type Rng,
  type WorkerConfig,
  type WorkerConfigInput,
  type WorkerEffect,
  type WorkerInput,
  type WorkerTimer,
} from '../../../src/worker/index.ts';

/** mulberry32: reproducible draws in [0, 1). */
export function seededRng(seed: number): Rng {
  let state = seed >>> 0;
  return rngFrom(() => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  });
}

/** Always the same draw: `fixedRng(0.5)` gives a fuzz of exactly 1 (10 s / 60 s intervals). */
export const fixedRng = (value: number): Rng => rngFrom(() => value);

/** 2024-01-02 03:04:05 UTC. */
export const T0 = Date.UTC(2024, 0, 2, 3, 4, 5);

export const MASTER_A = 'flint://10.0.0.1:7077';
export const MASTER_B = 'flint://10.0.0.2:7077';
export const MASTER_A_ADDRESS = 'flint://Master@10.0.0.1:7077';
export const MASTER_B_ADDRESS = 'flint://Master@10.0.0.2:7077';

export function testConfig(over: Partial<WorkerConfigInput> = {}): WorkerConfig {
  return workerConfig({
    host: 'wh1',
    port: 7078,
    webUiPort: 8081,
    cores: 8,
    memoryMb: 8192,
    workDir: 'work',
    masterUrls: [MASTER_A, MASTER_B],
    ...over,
  });
}

export interface Armed {
  readonly key: string;
  readonly generation: number;
  readonly timer: WorkerTimer;
  readonly dueAt: number;
}

export interface Recorded {
  readonly at: number;
  readonly effect: WorkerEffect;
}

export class Harness {
  readonly machine: WorkerMachine;
  now: number;
  readonly timers = new Map<string, Armed>();
  readonly log: Recorded[] = [];

  constructor(config: WorkerConfig = testConfig(), options: { rng?: Rng; now?: number } = {}) {
    this.now = options.now ?? T0;
    this.machine = new WorkerMachine(config, { rng: options.rng ?? fixedRng(0.5), now: this.now });
  }

  handle(input: WorkerInput): WorkerEffect[] {
    const effects = this.machine.handle(input, this.now);
    for (const effect of effects) {
      this.log.push({ at: this.now, effect });
      if (effect.kind === 'StartTimer') {
        const { key, generation, timer, delayMs } = effect;
        this.timers.set(key, { key, generation, timer, dueAt: this.now + delayMs });
      } else if (effect.kind === 'CancelTimer') {
        this.timers.delete(effect.key);
      }
    }
    return effects;
  }

  start(): WorkerEffect[] {
    return this.handle({ kind: 'Start' });
  }

  fromMaster(message: MasterToWorker, from = MASTER_A): WorkerEffect[] {
    return this.handle({ kind: 'MasterMessage', from, message });
  }

  /** Start, then be accepted by master A. */
  register(address = MASTER_A_ADDRESS, masterUrl = MASTER_A): WorkerEffect[] {
    this.start();
    return this.fromMaster(
      { type: 'RegisteredWorker', masterAddress: address, masterWebUiUrl: 'http://m:8080', masterUrl, duplicate: false },
      masterUrl,
    );
  }

  /** Fires the armed timer `key` now, whatever its due time. */
  fire(key: string): WorkerEffect[] {
    const armed = this.timers.get(key);
    if (armed === undefined) throw new Error(`timer ${key} is not armed (armed: ${[...this.timers.keys()].join(', ')})`);
    this.timers.delete(key);
    return this.handle({ kind: 'TimerFired', key, generation: armed.generation });
  }

  /** Moves time forward, firing every timer that falls due on the way, earliest first. */
  advanceTo(time: number): WorkerEffect[] {
    const out: WorkerEffect[] = [];
    for (;;) {
      const due = [...this.timers.values()]
        .filter((t) => t.dueAt <= time)
        .sort((a, b) => a.dueAt - b.dueAt || a.generation - b.generation)[0];
      if (due === undefined) break;
      this.now = Math.max(this.now, due.dueAt);
      out.push(...this.fire(due.key));
      if (this.machine.snapshot().phase === 'stopped') break;
    }
    this.now = Math.max(this.now, time);
    return out;
  }

  advance(ms: number): WorkerEffect[] {
    return this.advanceTo(this.now + ms);
  }

  /** Recorded effects of one type since the start. */
  recorded<T extends WorkerEffect['kind']>(type: T): Array<{ at: number; effect: Extract<WorkerEffect, { kind: T }> }> {
    return this.log.filter((r) => r.effect.kind === type) as Array<{
      at: number;
      effect: Extract<WorkerEffect, { kind: T }>;
    }>;
  }
}

export function ofType<T extends WorkerEffect['kind']>(
  effects: readonly WorkerEffect[],
  type: T,
): Array<Extract<WorkerEffect, { kind: T }>> {
  return effects.filter((e) => e.kind === type) as Array<Extract<WorkerEffect, { kind: T }>>;
}

/** The wire messages sent (one-way) in these effects, of one type. */
export function sent<T extends WorkerToMaster['type']>(
  effects: readonly WorkerEffect[],
  type: T,
): Array<{ to: string; message: Extract<WorkerToMaster, { type: T }> }> {
  return ofType(effects, 'Send')
    .filter((e) => e.message.type === type)
    .map((e) => ({ to: e.to, message: e.message as Extract<WorkerToMaster, { type: T }> }));
}

export function appDesc(over: Partial<ApplicationDescription> = {}): ApplicationDescription {
  return {
    name: 'pi',
    memoryMbPerExecutor: 1024,
    command: {
      mainModule: 'flint/executor-backend.js',
      arguments: [
        '--driver-url',
        'flint+client://CoarseGrainedScheduler@abc',
        '--executor-id',
        '{{EXECUTOR_ID}}',
        '--hostname',
        '{{HOSTNAME}}',
        '--cores',
        '{{CORES}}',
        '--app-id',
        '{{APP_ID}}',
        '--worker-url',
        '{{WORKER_URL}}',
        '--resourceProfileId',
        '{{RESOURCE_PROFILE_ID}}',
      ],
      environment: { FLINT_EXECUTOR_OPTS: 'x' },
      nodeOptions: ['--title=exec-{{APP_ID}}-{{EXECUTOR_ID}}'],
    },
    appUiUrl: 'http://driver:4040',
    user: 'alice',
    ...over,
  };
}

export function launchExecutor(
  appId: string,
  execId: number,
  over: Partial<Static<typeof LaunchExecutor>> = {},
): Static<typeof LaunchExecutor> {
  return {
    type: 'LaunchExecutor',
    masterUrl: MASTER_A,
    appId,
    execId,
    appDesc: appDesc(),
    cores: 2,
    memoryMb: 1024,
    ...over,
  };
}

export function driverDesc(over: Partial<DriverDescription> = {}): DriverDescription {
  return {
    appResource: 'https://repo.example/jobs/etl.js?v=3',
    memoryMb: 512,
    cores: 1,
    supervise: true,
    command: {
      mainModule: 'flint/driver-wrapper.js',
      arguments: ['{{WORKER_URL}}', '{{USER_JAR}}', 'main', '--day', '{{USER_JAR}}x'],
      environment: { FLINT_DRIVER_MEMORY: '512' },
      nodeOptions: [],
    },
    ...over,
  };
}
