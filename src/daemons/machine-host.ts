// The thin host loop around a sans-I/O machine (STYLE.md §3): every outside event becomes an input, inputs
// are handled strictly one at a time, and each input's effects are carried out in list order before the
// next input is handled. An async effect (a persist) is awaited; effects that report back later (an ask, a
// process exit) do so by submitting a new input.

import { isFlintError, RpcTimeoutError } from '../errors.ts';
import type { LogEffect } from '../kit/log.ts';
import type { TimerEffect, TimerFired } from '../kit/timers.ts';
import type { Answered, AskFailed, DialFailed, MessageEffect } from '../kit/messaging.ts';
import type { Transport } from '../ports/transport.ts';
import { repliesOf } from '../protocol/replies.ts';
import type { RpcEndpointRef } from '../rpc/endpoint-ref.ts';
import { replyToken, type ReplyEffect, type ReplyToken } from '../kit/replies.ts';
import { KeyedTimers } from '../kit/timers.ts';
import { Inbox } from '../rpc/inbox.ts';
import { SendBatches, type SendBatching } from './send-batches.ts';
import type { Logger } from '../util/logger.ts';

export interface HostedMachine<I, E> {
  handle(input: I, now: number): readonly E[];
}

/**
 * How long the host handles inputs back to back before it lets the event loop turn (a setImmediate): a storm
 * of inputs (2,000 workers dropping at once, each removal a schedule() pass) must not keep the web UI and
 * the sockets waiting for seconds. Order is kept: the next input waits for the turn, and so do the
 * endpoint's later messages, which are queued behind it.
 */
export const HOST_SLICE_MS = 10;

export class MachineHost<I, E> {
  readonly #machine: HostedMachine<I, E>;
  readonly #execute: (effect: E) => void | Promise<void>;
  readonly #now: () => number;
  /** Measures the slice (HOST_SLICE_MS); a test gives its own clock, so the slicing does not hang on the CPU. */
  readonly #monotonicNow: () => number;
  readonly #inbox: Inbox;
  /** Told after each input the machine handled (a web UI's ChangeSignal: the state it shows may have changed). */
  readonly #afterInput: (() => void) | undefined;
  /** When the current run of back-to-back inputs began; undefined once the event loop has turned. */
  #sliceStart: number | undefined;
  readonly #turned = (): void => {
    this.#sliceStart = undefined;
  };

  constructor(
    machine: HostedMachine<I, E>,
    execute: (effect: E) => void | Promise<void>,
    {
      now,
      logger,
      monotonicNow = () => performance.now(),
      afterInput,
    }: { now: () => number; logger: Logger; monotonicNow?: () => number; afterInput?: () => void },
  ) {
    this.#machine = machine;
    this.#afterInput = afterInput;
    this.#execute = execute;
    this.#now = now;
    this.#monotonicNow = monotonicNow;
    this.#inbox = new Inbox((err) =>
      logger.error({ err: err instanceof Error ? (err.stack ?? err.message) : String(err) }, 'failed to carry out an effect'),
    );
  }

  /**
   * Queues `input`; resolves once it has been handled and its effects carried out. Inputs whose effects are
   * all synchronous are handled synchronously, so a burst of inputs (one TCP read) is handled in one go and
   * the messages it sends leave together, unless inputs have already run for HOST_SLICE_MS in this turn of the
   * event loop: then this one waits for the next turn.
   */
  submit(input: I): Promise<void> {
    return new Promise<void>((resolve) => {
      const handle = (): void | Promise<void> => {
        let effects: readonly E[];
        try {
          effects = this.#machine.handle(input, this.#now());
        } catch (err) {
          resolve();
          throw err;
        }
        // The state changed when handle returned; a listener only schedules its own work (live-page.ts).
        this.#afterInput?.();
        for (let i = 0; i < effects.length; i++) {
          let pending: void | Promise<void>;
          try {
            pending = this.#execute(effects[i] as E);
          } catch (err) {
            resolve();
            throw err;
          }
          if (pending !== undefined) return this.#finish(pending, effects, i + 1).finally(resolve);
        }
        resolve();
        return undefined;
      };
      const posted = this.#inbox.post(() => (this.#sliceSpent() ? this.#nextTurn().then(handle) : handle()), () => resolve());
      if (!posted) resolve();
    });
  }

  /** True when inputs have run back to back for HOST_SLICE_MS in this turn of the event loop. */
  #sliceSpent(): boolean {
    const now = this.#monotonicNow();
    if (this.#sliceStart === undefined) {
      this.#sliceStart = now;
      setImmediate(this.#turned);
      return false;
    }
    return now - this.#sliceStart >= HOST_SLICE_MS;
  }

  #nextTurn(): Promise<void> {
    return new Promise((resolve) => setImmediate(resolve));
  }

  /** The rest of an input's effects, once one of them turned out to be asynchronous. */
  async #finish(pending: Promise<void>, effects: readonly E[], from: number): Promise<void> {
    await pending;
    for (let i = from; i < effects.length; i++) {
      const next = this.#execute(effects[i] as E);
      if (next !== undefined) await next;
    }
  }

  /** Stops taking inputs; queued ones are dropped. */
  close(): void {
    this.#inbox.close();
  }
}

/**
 * Host timers on Node's event loop (src/kit/timers.ts `KeyedTimers`). `unref` timers do not keep the process alive
 * (a driver's, which must end with its app).
 */
export function nodeTimers({ unref = false }: { unref?: boolean } = {}): KeyedTimers<NodeJS.Timeout> {
  return new KeyedTimers({
    start: (delayMs, fire) => {
      const timer = setTimeout(fire, delayMs);
      if (unref) timer.unref();
      return timer;
    },
    stop: (timer) => clearTimeout(timer),
  });
}

/** What a host answers an ask through: the RPC layer's ReplyContext, or the simulator's. */
export interface Replier<M> {
  reply(message: M): void;
  sendFailure(error: Error): void;
}

/**
 * The host side of the kit's reply model (src/kit/replies.ts): the live reply contexts of pending asks, behind
 * the tokens the machine sees. Each token is answered once; an answer for an unknown token does nothing.
 */
export class ReplyBook<M> {
  readonly #pending = new Map<ReplyToken, Replier<M>>();
  #next = 1;

  /** A token for `replier`, to put in the machine's input. */
  open(replier: Replier<M>): ReplyToken {
    const token = replyToken(this.#next++);
    this.#pending.set(token, replier);
    return token;
  }

  /** Carries out a machine's Reply or ReplyFailure effect. */
  carryOut(effect: ReplyEffect<M>): void {
    const replier = this.#pending.get(effect.token);
    this.#pending.delete(effect.token);
    if (effect.kind === 'Reply') replier?.reply(effect.message);
    else replier?.sendFailure(new Error(effect.error));
  }

  /** Fails the ask behind `token` outside the machine's answer (the host can no longer act on it). */
  fail(token: ReplyToken, error: string): void {
    this.carryOut({ kind: 'ReplyFailure', token, error });
  }

  get size(): number {
    return this.#pending.size;
  }
}

/** Writes a machine's `Log` effect (src/kit/log.ts) through the host's logger. */
function writeLog(logger: Logger, effect: LogEffect): void {
  logger[effect.level]({ ...effect.fields }, effect.msg);
}

/** The end of a host's effect switch: an effect no case took is a bug (the union grew, the host did not). */
export function unknownEffect(effect: never): never {
  throw new Error(`unknown effect ${JSON.stringify(effect)}`);
}

/**
 * Carries out a machine's `Send`, `Ask` or `Dial` over `transport`, the same way for every machine; answers come
 * back through `submit`. An ask's reply is checked against the replies its endpoint may give (src/protocol/
 * replies.ts) before the machine sees it. Returns the ref a `Send` went through, for a host that waits until the
 * peer's queue drains.
 */
function carryOutMessage(
  transport: Transport,
  effect: MessageEffect<{ readonly type: string }, unknown>,
  submit: (answer: SharedInput) => void,
  logger: Logger,
  batches: SendBatches<string> | undefined,
): RpcEndpointRef | undefined {
  switch (effect.kind) {
    case 'Send': {
      const ref = endpointRefOf(transport, effect.to);
      if (batches === undefined) sendOrDrop(ref, effect.message, logger);
      else batches.send(effect.to, effect.message);
      return ref;
    }
    case 'Ask': {
      const { context } = effect;
      batches?.before(effect.to);
      const ref = endpointRefOf(transport, effect.to);
      const expect = repliesOf(ref.name);
      ref.ask(effect.message, { ...(expect === undefined ? {} : { expect }), ...(effect.timeoutMs === undefined ? {} : { timeoutMs: effect.timeoutMs }) }).then(
        (reply) => submit({ kind: 'Answered', context, reply }),
        (err: unknown) =>
          submit({ kind: 'AskFailed', context, error: err instanceof Error ? err.message : String(err), timedOut: err instanceof RpcTimeoutError }),
      );
      return undefined;
    }
    case 'Dial': {
      const { envUrl, message } = effect;
      transport.setupEndpointRef(envUrl, effect.endpoint).then(
        (ref) => sendOrDrop(ref, message, logger),
        (err: Error) => submit({ kind: 'DialFailed', envUrl, messageType: message.type, error: err.message, ...(isFlintError(err) ? { code: err.code } : {}) }),
      );
      return undefined;
    }
    default:
      return unknownEffect(effect);
  }
}

/** Sends `message` through `ref`; on a stopped transport (a host that is exiting) it is dropped, as Spark's send. */
function sendOrDrop(ref: RpcEndpointRef, message: { readonly type: string }, logger: Logger): void {
  try {
    ref.send(message);
  } catch (err) {
    logger.debug({ to: ref.address, type: message.type, err: (err as Error).message }, 'dropped a message: the transport is stopped');
  }
}

/** Refs by address, per transport: a machine names the same few peers in every message it sends. */
const refCache = new WeakMap<Transport, Map<string, RpcEndpointRef>>();
const REF_CACHE_MAX = 4_096;

function endpointRefOf(transport: Transport, address: string): RpcEndpointRef {
  let refs = refCache.get(transport);
  if (refs === undefined) refCache.set(transport, (refs = new Map()));
  let ref = refs.get(address);
  if (ref === undefined) {
    if (refs.size >= REF_CACHE_MAX) refs.clear();
    ref = transport.endpointRef(address);
    refs.set(address, ref);
  }
  return ref;
}

/** The effects every machine shares (src/kit): timers, log lines, replies to asks and messaging. */
export type SharedEffect = TimerEffect<unknown> | LogEffect | ReplyEffect<unknown> | MessageEffect<{ readonly type: string }, unknown>;

/** What a daemon's own interpreter carries out: everything of its machine's but the shared effects. */
export type Own<E> = Exclude<E, { readonly kind: SharedEffect['kind'] }>;

/** What the shared effects feed back to the machine; every machine's input union has those it can get. */
export type SharedInput = TimerFired | Answered<unknown, unknown> | AskFailed<unknown> | DialFailed;

const SHARED_KINDS: ReadonlySet<string> = new Set<SharedEffect['kind']>(['StartTimer', 'CancelTimer', 'Log', 'Reply', 'ReplyFailure', 'Send', 'Ask', 'Dial']);

export interface SharedEffectsOptions {
  readonly transport: Transport;
  readonly logger: Logger;
  /** Feeds a timer's firing or a message's answer back to the machine, as a new input. */
  readonly submit: (input: SharedInput) => void;
  /**
   * Whether the timer under `key` must not keep the process alive (`unref`): a driver's timers, which must not
   * hold it once its app ends, or the app client's reconnect loop. None when not given.
   */
  readonly unref?: (key: string) => boolean;
  /** The live reply contexts behind the machine's reply tokens, for a machine that answers asks. */
  readonly replies?: Pick<ReplyBook<never>, 'carryOut'>;
  /** How a `Log` effect is written; through `logger` when not given. */
  readonly writeLog?: (effect: LogEffect) => void;
  /** Told of each ref a `Send` went through (a host that waits for its sends to drain before it stops). */
  readonly onSent?: (ref: RpcEndpointRef) => void;
  /** Sends of this type to one peer in one turn travel as one batch message (send-batches.ts). */
  readonly batching?: SendBatching;
}

/**
 * The one host of the shared effects, the same in every daemon: a daemon's interpreter hands each effect to
 * `take` first, and carries out only what comes back (its machine's own effects):
 *
 *     const own = this.#shared.take(effect);
 *     if (own === undefined) return;
 *     switch (own.kind) { … }
 */
export class SharedEffects {
  readonly #opts: SharedEffectsOptions;
  readonly #timers = nodeTimers();
  readonly #unrefTimers = nodeTimers({ unref: true });
  readonly #fired = (key: string, generation: number): void => this.#opts.submit({ kind: 'TimerFired', key, generation });

  readonly #batches: SendBatches<string> | undefined;

  constructor(opts: SharedEffectsOptions) {
    this.#opts = opts;
    this.#batches =
      opts.batching === undefined
        ? undefined
        : new SendBatches<string>(opts.batching, (to, message) => sendOrDrop(endpointRefOf(opts.transport, to), message, opts.logger));
  }

  /** Sends the batched messages held for the end of this turn now (a host about to stop or to wait on a drain). */
  flushBatches(): void {
    this.#batches?.flushAll();
  }

  /** Carries out `effect` when it is a shared one (and returns undefined); otherwise returns it, for the host. */
  take<E extends { readonly kind: string }>(effect: E): Own<E> | undefined {
    if (!SHARED_KINDS.has(effect.kind)) return effect as Own<E>;
    const shared = effect as unknown as SharedEffect;
    switch (shared.kind) {
      case 'StartTimer':
      case 'CancelTimer':
        (this.#opts.unref?.(shared.key) === true ? this.#unrefTimers : this.#timers).carryOut(shared, this.#fired);
        return undefined;
      case 'Log':
        if (this.#opts.writeLog) this.#opts.writeLog(shared);
        else writeLog(this.#opts.logger, shared);
        return undefined;
      case 'Reply':
      case 'ReplyFailure':
        if (this.#opts.replies === undefined) throw new Error(`${shared.kind} from a machine whose host answers no asks`);
        this.#opts.replies.carryOut(shared as ReplyEffect<never>);
        return undefined;
      case 'Send':
      case 'Ask':
      case 'Dial': {
        const ref = carryOutMessage(this.#opts.transport, shared, this.#opts.submit, this.#opts.logger, this.#batches);
        if (ref !== undefined) this.#opts.onSent?.(ref);
        return undefined;
      }
      default:
        return unknownEffect(shared);
    }
  }

  /** Cancels the timers it started (a host that stops). */
  cancelTimers(): void {
    this.#timers.cancelAll();
    this.#unrefTimers.cancelAll();
  }
}
