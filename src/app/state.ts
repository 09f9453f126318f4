// The app client's state: what Spark's `StandaloneAppClient.ClientEndpoint` keeps in its fields (`appId`,
// `master`, `registered`, `alreadyDead`, the retry timer), plus the disconnection Flint follows and the asks
// to the master still waiting for their answer.

import type { ReplyToken } from '../kit/replies.ts';
import { TimerBook } from '../kit/timers.ts';
import type { AppClientConfig } from './config.ts';
import type { EffectList } from './effects.ts';
import type { AppClientTimer } from './inputs.ts';
import type { MachineContext } from '../kit/context.ts';

export interface AppClientState {
  /** Given by the master that registered the app; undefined until then. */
  appId: string | undefined;
  /** The endpoint address (`flint://Master@host:port`) of the master that leads, once one has answered. */
  master: string | undefined;
  /** The registration round under way, from 1 to `registrationRetries`. */
  attempt: number;
  started: boolean;
  /** No master answered, or the master removed the app, or the app stopped: `Dead` is never emitted again. */
  dead: boolean;
  /** The connection to `master` dropped and no MasterChanged has come since. */
  disconnected: boolean;
  stopped: boolean;
  /** Driver asks forwarded to the master (`Ask`) and not answered yet. */
  readonly asking: Set<ReplyToken>;
  /**
   * Masters that refused the registration's connection for good (a wrong secret, another protocol version, an
   * HTTP server at the address), each with its error: when every master has, no round can succeed.
   */
  readonly refused: Map<string, string>;
  readonly timers: TimerBook<AppClientTimer>;
}

export function createAppClientState(): AppClientState {
  return {
    appId: undefined,
    master: undefined,
    attempt: 0,
    started: false,
    dead: false,
    disconnected: false,
    stopped: false,
    asking: new Set(),
    refused: new Map(),
    timers: new TimerBook(),
  };
}

/** What one `handle` call works with. */
export type Ctx = MachineContext<AppClientState, AppClientConfig, EffectList>;
