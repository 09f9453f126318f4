// What the app client asks its host to do, as one closed union (STYLE.md §3, after etcd raft's `Ready`): talk to
// the masters, answer the driver's asks, tell the driver what happened, set timers, log.
//
// ORDERING. `handle` returns effects in a list, and the host MUST carry them out in list order, each one at least
// handed to the transport (or to the driver's listener) before the next:
//
//   - Messages to one master keep their order (the RPC layer keeps per-connection order). On `Stop` the
//     `Send(UnregisterApplication)` is the last effect; the host lets it reach the socket before it stops the
//     endpoint (Spark's `StandaloneAppClient.stop` waits for the `UnregisterApplication` to leave).
//   - Messaging is the kit's (src/kit/messaging.ts). A `Dial` reaches the master's `Master` endpoint first; when it
//     fails the host feeds exactly one `DialFailed` with its `envUrl` and the message's type; a dial that works
//     reports nothing.
//   - Every `Ask` is answered by exactly one `Answered` or `AskFailed` input with its token as context, and
//     every driver ask (`RequestExecutors`, `KillExecutors`) by exactly one `Reply` or `ReplyFailure` with its
//     token: at once when the app is not registered, else when the master's answer comes in.
//   - The events for the driver (`Connected`, `Disconnected`, `Dead`, `ExecutorAdded`, `ExecutorRemoved`,
//     `WorkerRemoved`) reflect state the machine already changed, in the order the master's messages came.
//     `Dead` comes at most once; no `Connected` and no registration round follows it.
//
// TIMERS. The kit's model (src/kit/timers.ts): one timer per name, keyed by it; a firing comes back as a
// `TimerFired` input with the generation it was armed with, and a stale one is ignored. `RegistrationRetry` ends
// a registration round, so it must keep the driver's process alive (the driver waits for registration);
// `Reconnect` need not (a host on Node's event loop may `unref` it).

import { logEffect, type LogEffect, type LogFields, type LogLevel } from '../kit/log.ts';
import type { Reply, ReplyFailure, ReplyToken } from '../kit/replies.ts';
import type { TimerBook, TimerEffect } from '../kit/timers.ts';
import type { Ask, Dial, Send } from '../kit/messaging.ts';
import type { AppToMaster } from '../protocol/messages.ts';
import type { AppClientTimer } from './inputs.ts';

/** The asks the client puts to the master on the driver's behalf; both are answered with BooleanResponse. */
export type MasterAsk = Extract<AppToMaster, { readonly type: 'RequestExecutors' | 'KillExecutors' }>;

export type AppClientEffect =
  /** Open (or reuse) a connection to a master's env (`flint://host:port`) and send to its `Master` endpoint. */
  | Dial<AppToMaster>
  /** One-way message to the master endpoint at `to` (`flint://Master@host:port`), over the connection it has. */
  | Send<AppToMaster>
  /** Ask the master endpoint at `to`; the answer comes back as `Answered` or `AskFailed` with the driver's token. */
  | Ask<MasterAsk, ReplyToken>
  /** Answer the driver's ask behind `token`: did the master accept it. */
  | Reply<boolean>
  /** Fail the driver's ask behind `token`: its promise rejects with `error`. */
  | ReplyFailure
  /**
   * Registered (Spark's `AppClientListener.connected`). `sealedExecutorKey` is the executors' key as the master
   * sealed it for this driver; the host opens it (it holds the driver's own key).
   */
  | { readonly kind: 'Connected'; readonly appId: string; readonly masterAddress: string; readonly sealedExecutorKey?: string }
  /** The connection to the master was lost; a new leader will send MasterChanged (`AppClientListener.disconnected`). */
  | { readonly kind: 'Disconnected' }
  /** The app cannot go on: no master answered, or the master removed it (`AppClientListener.dead`). */
  | { readonly kind: 'Dead'; readonly reason: string }
  /** The master granted an executor; `fullId` is `<appId>/<id>`. */
  | {
      readonly kind: 'ExecutorAdded';
      readonly fullId: string;
      readonly workerId: string;
      readonly hostPort: string;
      readonly cores: number;
      readonly memoryMb: number;
    }
  /** An executor ended (KILLED, FAILED, LOST, EXITED); `workerHost` is set when it was lost with its worker. */
  | {
      readonly kind: 'ExecutorRemoved';
      readonly fullId: string;
      readonly message: string;
      readonly exitStatus?: number;
      readonly workerHost?: string;
    }
  /**
   * The executor's worker is being decommissioned (Spark's `StandaloneAppClientListener.executorDecommissioned`):
   * the driver stops offering it tasks and lets it drain. Not an end: DECOMMISSIONED is not a finished state.
   */
  | { readonly kind: 'ExecutorDecommissioned'; readonly fullId: string; readonly message: string; readonly workerHost?: string }
  | { readonly kind: 'WorkerRemoved'; readonly workerId: string; readonly host: string; readonly message: string }
  | TimerEffect<AppClientTimer>
  | LogEffect;

export type AppClientEffectKind = AppClientEffect['kind'];

/** Collects the effects of one `handle` call, in order. Handlers only append. */
export class EffectList {
  readonly #effects: AppClientEffect[] = [];
  readonly #timers: TimerBook<AppClientTimer>;

  /** `timers` is the machine's own: arming and cancelling go through it. */
  constructor(timers: TimerBook<AppClientTimer>) {
    this.#timers = timers;
  }

  get effects(): readonly AppClientEffect[] {
    return this.#effects;
  }

  push(effect: AppClientEffect): void {
    this.#effects.push(effect);
  }

  startTimer(timer: AppClientTimer, delayMs: number): void {
    this.#effects.push(this.#timers.start(timer, timer, delayMs));
  }

  /** Disarms `timer`; nothing is emitted when it is not armed. */
  cancelTimer(timer: AppClientTimer): void {
    const effect = this.#timers.cancel(timer);
    if (effect !== undefined) this.#effects.push(effect);
  }

  log(level: LogLevel, msg: string, fields?: LogFields): void {
    this.#effects.push(logEffect(level, msg, fields));
  }
}
