// The timeouts of an env's asks, without a timer per ask.
//
// Spark arms one timer per ask (`NettyRpcEnv.askAbortable`: `timeoutScheduler.schedule`). Node's own timers keep
// one list per duration, but an ask answered before the next is made empties its list, which Node then deletes and
// takes out of its priority queue, only to make both again for the next ask: about half a microsecond a round trip
// of `bench:rpc` (docs/benchmarks.md, "npm run bench:rpc"). Here the asks of one timeout form a lane, in the order
// they were made, which is also the order of their deadlines:
//
//   lane(120000 ms):  [answered] [answered] [waiting] [answered] [waiting]   one timer, for the first waiting
//                      ^ dropped as the next ask is added
//
// A lane has one timer, armed for its oldest entry. An answered ask only marks its entry; entries are dropped from
// the front as asks are added and when the timer fires, which fails every waiting ask past its deadline and arms
// the timer for the next. The timer holds the process open only while an ask waits (as a timer per ask did), and a
// lane whose answered entries behind a slow ask pile up is compacted, so memory follows the asks still waiting.

import { MAX_TIMER_MS } from '../protocol/limits.ts';

/** An ask waiting for its answer or its deadline; `AskTimeouts` calls `expire` once the deadline has passed. */
export abstract class TimedAsk {
  /** `performance.now()` after which the ask has timed out. */
  deadline = 0;
  /** Answered, failed or expired: nothing more happens to it. */
  settled = false;
  lane: Lane | undefined;

  /** Marks the ask answered (or failed); returns false when it had settled already (timed out, say). */
  settle(): boolean {
    if (this.settled) return false;
    this.settled = true;
    this.lane?.settled();
    return true;
  }

  /** Called once, when the deadline passed before an answer. */
  abstract expire(): void;

  /**
   * Called once when the env stops while the ask still waits (AskTimeouts.stop). A remote ask does nothing: its
   * connection closing fails it. A local one has no connection and fails here.
   */
  abandoned(): void {}
}

/** Answered entries tolerated in a lane beyond twice its waiting ones before it is compacted. */
const COMPACT_SLACK = 1_024;

class Lane {
  readonly #timeoutMs: number;
  readonly #onEmpty: (lane: Lane) => void;
  #entries: TimedAsk[] = [];
  #head = 0;
  /** Entries not settled yet. */
  #waiting = 0;
  #timer: NodeJS.Timeout | undefined;

  constructor(timeoutMs: number, onEmpty: (lane: Lane) => void) {
    this.#timeoutMs = timeoutMs;
    this.#onEmpty = onEmpty;
  }

  get timeoutMs(): number {
    return this.#timeoutMs;
  }

  /** Entries held, answered or not. */
  get held(): number {
    return this.#entries.length - this.#head;
  }

  add(ask: TimedAsk, now: number): void {
    this.#dropSettledHead();
    ask.deadline = now + this.#timeoutMs;
    ask.lane = this;
    this.#entries.push(ask);
    if (this.#waiting++ === 0) this.#timer?.ref();
    if (this.#timer === undefined) this.#arm(this.#timeoutMs);
    else if (this.#entries.length - this.#head > 2 * this.#waiting + COMPACT_SLACK) this.#compact();
  }

  settled(): void {
    if (--this.#waiting === 0) this.#timer?.unref();
  }

  stop(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    const waiting = this.#entries.slice(this.#head).filter((ask) => !ask.settled);
    this.#entries = [];
    this.#head = 0;
    this.#waiting = 0;
    for (const ask of waiting) {
      ask.lane = undefined;
      ask.abandoned();
    }
  }

  #arm(ms: number): void {
    // Node takes at most 2^31 - 1 ms: a longer deadline is reached in steps (#fire arms again while it is ahead).
    this.#timer = setTimeout(() => this.#fire(), Math.min(Math.max(1, Math.ceil(ms)), MAX_TIMER_MS));
    if (this.#waiting === 0) this.#timer.unref();
  }

  #fire(): void {
    this.#timer = undefined;
    const now = performance.now();
    for (;;) {
      this.#dropSettledHead();
      const first = this.#entries[this.#head];
      if (first === undefined || first.deadline > now) break;
      this.#head++;
      first.settle();
      first.expire();
    }
    // #dropSettledHead has emptied the lane when nothing is left in it.
    const first = this.#entries[this.#head];
    if (first === undefined) this.#onEmpty(this);
    else this.#arm(first.deadline - now);
  }

  #dropSettledHead(): void {
    const entries = this.#entries;
    let head = this.#head;
    while (head < entries.length && (entries[head] as TimedAsk).settled) head++;
    if (head === entries.length) {
      if (head > 0) this.#entries = [];
      this.#head = 0;
      return;
    }
    if (head > 1_024 && head * 2 > entries.length) {
      this.#entries = entries.slice(head);
      head = 0;
    }
    this.#head = head;
  }

  #compact(): void {
    this.#entries = this.#entries.slice(this.#head).filter((a) => !a.settled);
    this.#head = 0;
  }
}

/** The lanes of one env, one per timeout in use. */
export class AskTimeouts {
  readonly #lanes = new Map<number, Lane>();
  readonly #dropLane = (lane: Lane): void => {
    this.#lanes.delete(lane.timeoutMs);
  };

  /** Starts `ask`'s clock: `expire` is called once `timeoutMs` pass before it settles. */
  add(ask: TimedAsk, timeoutMs: number): void {
    let lane = this.#lanes.get(timeoutMs);
    if (lane === undefined) {
      lane = new Lane(timeoutMs, this.#dropLane);
      this.#lanes.set(timeoutMs, lane);
    }
    lane.add(ask, performance.now());
  }

  /** Lanes with a timer armed or asks held (for tests). */
  get lanes(): number {
    return this.#lanes.size;
  }

  /** Asks held over all lanes, answered or not (for tests). */
  get held(): number {
    let n = 0;
    for (const lane of this.#lanes.values()) n += lane.held;
    return n;
  }

  /** Clears every timer, and tells each ask still waiting (TimedAsk.abandoned). */
  stop(): void {
    for (const lane of this.#lanes.values()) lane.stop();
    this.#lanes.clear();
  }
}
