// Drives an AppClientMachine with no sockets and no timers: inputs are built the way the adapter
// (src/daemons/app-client.ts) builds them, and timers fire when a test says so.
import {
  AppClientMachine,
  appClientConfig,
  type AppClientConfig,
  type AppClientEffect,
  type AppClientInput,
  type AppClientTimer,
} from '../../../src/app/index.ts';
import { replyToken, type ReplyToken } from '../../../src/kit/replies.ts';
import type { ApplicationDescription, MasterToApp } from '../../../src/protocol/messages.ts';

export const MASTER_A = 'flint://ma:7077';
export const MASTER_B = 'flint://mb:7077';
export const MASTER_A_ADDRESS = 'flint://Master@ma:7077';
export const MASTER_B_ADDRESS = 'flint://Master@mb:7077';
export const DRIVER_ADDRESS = 'flint+client://AppClient@d1';
export const APP_ID = 'app-20260101000000-0000';

export const description: ApplicationDescription = {
  name: 'harness-app',
  maxCores: 2,
  memoryMbPerExecutor: 512,
  command: { mainModule: 'flint:executor', arguments: [], environment: {}, nodeOptions: [] },
  appUiUrl: '',
  user: 'test',
};

type Kind = AppClientEffect['kind'];
export type EffectOf<K extends Kind> = Extract<AppClientEffect, { readonly kind: K }>;

export const ofKind = <K extends Kind>(effects: readonly AppClientEffect[], kind: K): Array<EffectOf<K>> =>
  effects.filter((e): e is EffectOf<K> => e.kind === kind);

/** The effects other than logs. */
export const quiet = (effects: readonly AppClientEffect[]): AppClientEffect[] => effects.filter((e) => e.kind !== 'Log');

/** The effects other than logs, as `kind` (with the message type for sends and the key for timers). */
export const shape = (effects: readonly AppClientEffect[]): string[] =>
  quiet(effects).map((e) => {
    switch (e.kind) {
      case 'Dial':
        return `Dial:${e.envUrl}:${e.message.type}`;
      case 'Send':
        return `Send:${e.to}:${e.message.type}`;
      case 'StartTimer':
      case 'CancelTimer':
        return `${e.kind}:${e.key}`;
      default:
        return e.kind;
    }
  });

export const logs = (effects: readonly AppClientEffect[]): Array<[string, string]> =>
  ofKind(effects, 'Log').map((l) => [l.level, l.msg]);

export class TestAppClient {
  readonly machine: AppClientMachine;
  now = 0;
  #nextToken = 1;

  constructor(config: Partial<AppClientConfig> = {}) {
    this.machine = new AppClientMachine(
      appClientConfig({ masters: [MASTER_A, MASTER_B], driverAddress: DRIVER_ADDRESS, description, ...config }),
    );
  }

  handle(input: AppClientInput): AppClientEffect[] {
    return this.machine.handle(input, this.now);
  }

  start(): AppClientEffect[] {
    return this.handle({ kind: 'Start' });
  }

  fromMaster(message: MasterToApp): AppClientEffect[] {
    return this.handle({ kind: 'MasterMessage', message });
  }

  /** Started and registered by master A. */
  registered(executorKey?: string): AppClientEffect[] {
    this.start();
    return this.fromMaster({
      type: 'RegisteredApplication',
      appId: APP_ID,
      masterAddress: MASTER_A_ADDRESS,
      ...(executorKey === undefined ? {} : { executorKey }),
    });
  }

  /** The generation `timer` is armed with, or undefined. */
  generation(timer: AppClientTimer): number | undefined {
    return this.machine.armedTimers().find((t) => t.key === timer)?.generation;
  }

  /** Fires `timer` with the generation it is armed with; one that is not armed fires stale (generation 0). */
  fire(timer: AppClientTimer): AppClientEffect[] {
    return this.handle({ kind: 'TimerFired', key: timer, generation: this.generation(timer) ?? 0 });
  }

  token(): ReplyToken {
    return replyToken(this.#nextToken++);
  }
}
