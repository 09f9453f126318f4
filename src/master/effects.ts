// What the Master asks the outside world to do, as one closed union (STYLE.md §3, after etcd raft's `Ready`).
//
// ORDERING. `handle` returns effects in a list and the adapter MUST execute them in list order, each one
// finished (or at least handed to the transport/store in order) before the next starts:
//
//   - `Persist` comes before the message that acknowledges the object: the worker record before
//     `RegisteredWorker`, the app record before `RegisteredApplication`, the driver record before the
//     `SubmitDriverResponse` and before its `LaunchDriver`. If a persist fails, the adapter must not send the
//     effects after it; it logs, and (like Spark, whose engine throws inside the handler) drops the rest.
//   - `Unpersist` of a removed object comes after the messages telling peers about the removal.
//   - For each new executor, `ExecutorAdded` to the app's driver comes before `LaunchExecutor` to the worker,
//     so the driver hears of an executor no later than the worker starts it.
//   - Sends to one endpoint keep their order (the RPC layer keeps per-connection order).
//   - Every `Ask` input gets exactly one `Reply` or `ReplyFailure` within the same list.
//   - `StepDown` is last. After it the machine must be discarded: the adapter cancels every timer, stops the
//     endpoint and lets the daemon exit (Spark's `System.exit(0)` on RevokedLeadership).
//
// TIMERS. The kit's model (src/kit/timers.ts): one timer per name, keyed by it; `StartTimer` on an armed name
// replaces it, and a firing comes back as a `TimerFired` input with the generation it was armed with (a stale one is
// ignored). Timers are one-shot: the worker timeout check re-arms itself each time it fires.

import type { MasterReply, MasterQueryReply, MasterToApp, MasterToWorker } from '../protocol/messages.ts';
import type { Reply, ReplyFailure } from '../kit/replies.ts';
import type { TimerBook, TimerEffect } from '../kit/timers.ts';
import type { MasterTimer, ReplyToken } from './inputs.ts';
import type { PersistedRecord } from './persisted.ts';
import type { LogEffect, LogLevel } from '../kit/log.ts';

export type MasterOutbound = MasterToWorker | MasterToApp;
export type MasterReplyMessage = MasterReply | MasterQueryReply;
export type { LogLevel };

export type MasterEffect =
  /** One-way message to an endpoint address (`flint://Worker@host:port`, `flint+client://AppClient@id`). */
  | { readonly kind: 'Send'; readonly to: string; readonly message: MasterOutbound }
  | Reply<MasterReplyMessage>
  /** Fail the ask (the RPC layer reports it to the asker as a remote handler error). */
  | ReplyFailure
  /** Write `record` under `key` (`worker_<id>`, `app_<id>`, `driver_<id>`). */
  | { readonly kind: 'Persist'; readonly key: string; readonly record: PersistedRecord }
  | { readonly kind: 'Unpersist'; readonly key: string }
  /** Fire `timer` (keyed by its name) after `delayMs`; `CancelTimer` disarms one. */
  | TimerEffect<MasterTimer>
  | { readonly kind: 'StepDown'; readonly reason: string }
  | LogEffect;

export type MasterEffectKind = MasterEffect['kind'];

type Fields = Readonly<Record<string, string | number | boolean>>;

/** Collects the effects of one `handle` call, in order. Handlers only append. */
export class EffectList {
  readonly #effects: MasterEffect[] = [];
  readonly #timers: TimerBook<MasterTimer>;

  /** `timers` is the machine's own (MasterState.timers): arming and cancelling go through it. */
  constructor(timers: TimerBook<MasterTimer>) {
    this.#timers = timers;
  }

  get effects(): readonly MasterEffect[] {
    return this.#effects;
  }

  send(to: string, message: MasterOutbound): void {
    this.#effects.push({ kind: 'Send', to, message });
  }

  reply(token: ReplyToken, message: MasterReplyMessage): void {
    this.#effects.push({ kind: 'Reply', token, message });
  }

  replyFailure(token: ReplyToken, error: string): void {
    this.#effects.push({ kind: 'ReplyFailure', token, error });
  }

  persist(key: string, record: PersistedRecord): void {
    this.#effects.push({ kind: 'Persist', key, record });
  }

  unpersist(key: string): void {
    this.#effects.push({ kind: 'Unpersist', key });
  }

  startTimer(timer: MasterTimer, delayMs: number): void {
    this.#effects.push(this.#timers.start(timer, timer, delayMs));
  }

  /** Disarms `timer`; nothing is emitted when it is not armed. */
  cancelTimer(timer: MasterTimer): void {
    const effect = this.#timers.cancel(timer);
    if (effect !== undefined) this.#effects.push(effect);
  }


  stepDown(reason: string): void {
    this.#effects.push({ kind: 'StepDown', reason });
  }

  log(level: LogLevel, msg: string, fields?: Fields): void {
    this.#effects.push(fields === undefined ? { kind: 'Log', level, msg } : { kind: 'Log', level, msg, fields });
  }

  info(msg: string, fields?: Fields): void {
    this.log('info', msg, fields);
  }

  warn(msg: string, fields?: Fields): void {
    this.log('warn', msg, fields);
  }

  error(msg: string, fields?: Fields): void {
    this.log('error', msg, fields);
  }
}
