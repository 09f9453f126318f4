// Task traffic in batches: the LaunchTasks a driver sends one executor, and the StatusUpdates an executor sends
// its driver, that are ready in the same turn of the event loop travel as one message (LaunchTasks,
// StatusUpdates; src/protocol/task-messages.ts), not one each. The machines still send one message per task: the
// batching is the host's (SharedEffects, machine-host.ts), as Spark's CoarseGrainedSchedulerBackend sends a
// LaunchTask each and leaves the batching to Netty's write coalescing.
//
// Rules:
//   - a lone message goes as itself, at the end of the turn (a microtask): no added latency, and the wire is
//     what it was before batches;
//   - order per peer is kept: any other message to a peer, and any ask, first sends what is held for that peer;
//   - a batch holds at most TASK_BATCH_MAX messages and about BATCH_BYTES (estimated): a task that carries
//     its partition's data, or a large result, goes on its own rather than into a frame that could outgrow
//     flint.rpc.message.maxSize.

import { TASK_BATCH_MAX } from '../protocol/task-messages.ts';
import { estimateSize } from '../shuffle/size-estimate.ts';

/** Bytes (estimated) a batch may hold; a message estimated at more than a quarter of it goes alone. */
export const BATCH_BYTES = 256 * 1024;

/** Which message type is batched, and the batch message for two or more of them. */
export interface SendBatching {
  readonly type: string;
  wrap(messages: ReadonlyArray<{ readonly type: string }>): { readonly type: string };
}

interface Held<P> {
  readonly peer: P;
  readonly messages: Array<{ readonly type: string }>;
  bytes: number;
}

/** Holds the batched type's messages per peer until the end of the turn. `P` is the peer's ref. */
export class SendBatches<P> {
  readonly #batching: SendBatching;
  readonly #send: (peer: P, message: { readonly type: string }) => void;
  readonly #held = new Map<P, Held<P>>();
  #scheduled = false;
  readonly #flushAll = (): void => {
    this.#scheduled = false;
    for (const held of [...this.#held.values()]) this.#flush(held);
  };

  constructor(batching: SendBatching, send: (peer: P, message: { readonly type: string }) => void) {
    this.#batching = batching;
    this.#send = send;
  }

  /** Sends `message` to `peer`: held when it is of the batched type, else after what is held for `peer`. */
  send(peer: P, message: { readonly type: string }): void {
    if (message.type !== this.#batching.type) {
      this.before(peer);
      this.#send(peer, message);
      return;
    }
    const bytes = estimateSize(message);
    let held = this.#held.get(peer);
    if (held !== undefined && (held.messages.length >= TASK_BATCH_MAX || held.bytes + bytes > BATCH_BYTES)) {
      this.#flush(held);
      held = undefined;
    }
    if (bytes > BATCH_BYTES / 4) {
      if (held !== undefined) this.#flush(held);
      this.#send(peer, message);
      return;
    }
    if (held === undefined) this.#held.set(peer, (held = { peer, messages: [], bytes: 0 }));
    held.messages.push(message);
    held.bytes += bytes;
    if (!this.#scheduled) {
      this.#scheduled = true;
      queueMicrotask(this.#flushAll);
    }
  }

  /** Sends what is held for `peer` now: something else to it (an ask) is about to leave. */
  before(peer: P): void {
    const held = this.#held.get(peer);
    if (held !== undefined) this.#flush(held);
  }

  /** Sends everything held (a host that stops). */
  flushAll(): void {
    this.#flushAll();
  }

  #flush(held: Held<P>): void {
    this.#held.delete(held.peer);
    const { messages } = held;
    if (messages.length === 0) return;
    this.#send(held.peer, messages.length === 1 ? (messages[0] as { readonly type: string }) : this.#batching.wrap(messages));
  }
}
