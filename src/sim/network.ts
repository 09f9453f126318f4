// The simulated network between the cluster's processes. It keeps what TCP keeps: between two processes,
// messages arrive in the order they were sent, each once, after a delay drawn from the seed. A partition (one-way
// or both ways) holds what crosses it until it heals, as TCP's retransmissions would. A crash closes the
// process's connections: what was in flight to or from it is lost, and its peers hear that the connection closed
// (Spark's onDisconnected). A message to a process that is down is lost.

import type { Rng } from '../kit/rng.ts';
import type { EventQueue } from './event-queue.ts';

/** What travels: a one-way message, an ask, or the answer to one. */
export type Envelope =
  | { readonly kind: 'send'; readonly message: { readonly type: string } }
  | { readonly kind: 'ask'; readonly askId: number; readonly message: { readonly type: string } }
  | { readonly kind: 'reply'; readonly askId: number; readonly message: unknown }
  | { readonly kind: 'failure'; readonly askId: number; readonly error: string };

/** A process on the network, by its env id (`flint://host:port`, `flint+client://id`). */
export interface Node {
  readonly env: string;
  readonly up: boolean;
  deliver(from: string, envelope: Envelope): void;
  /** The connection to `env` closed: it crashed or stopped. */
  disconnected(env: string): void;
}

export interface NetworkOptions {
  /** Message delay in ms, drawn uniformly from [min, max] for each message. */
  readonly minDelayMs: number;
  readonly maxDelayMs: number;
}

/** What a connection attempt to a process that is up but cut off costs before it fails (flint.rpc.connect.timeout). */
export const CONNECT_TIMEOUT_MS = 10_000;
/** An ask with no timeout of its own waits this long (`flint.rpc.askTimeout`'s default). */
export const ASK_TIMEOUT_MS = 120_000;

interface InFlight {
  readonly at: number;
  readonly connection: number;
  readonly envelope: Envelope;
}

/** What both directions between two processes share: the connection open between them, if any. */
interface Link {
  /** A number that every new connection changes; undefined while none is open. */
  connection: number | undefined;
}

/** One direction between two processes: its messages, oldest first, whether a delivery is scheduled, its partition. */
interface Channel {
  readonly from: string;
  readonly to: string;
  readonly queue: InFlight[];
  readonly link: Link;
  pumping: boolean;
  /** A partition holds this direction until then. */
  blockedUntil: number;
  /** The next delivery's handler, made once (one closure per channel, not one per message). */
  readonly deliver: () => void;
}

export class SimNetwork {
  readonly #queue: EventQueue;
  readonly #rng: Rng;
  readonly #options: NetworkOptions;
  readonly #nodes = new Map<string, Node>();
  /** Channels by sender, then receiver (nested maps: no key strings built per message). */
  readonly #channels = new Map<string, Map<string, Channel>>();
  readonly #peers = new Map<string, Set<string>>();
  #nextConnection = 1;
  #sent = 0;
  #lost = 0;

  constructor(queue: EventQueue, rng: Rng, options: NetworkOptions) {
    this.#queue = queue;
    this.#rng = rng;
    this.#options = options;
  }

  get stats(): { readonly sent: number; readonly lost: number } {
    return { sent: this.#sent, lost: this.#lost };
  }

  attach(node: Node): void {
    this.#nodes.set(node.env, node);
  }

  /**
   * How a connection attempt from `from` to `to` ends: `open` (there is one, or one can be made now), `refused`
   * (nothing listens: it fails at once) or `timeout` (cut off by a partition: it fails after CONNECT_TIMEOUT_MS).
   */
  connect(from: string, to: string): 'open' | 'refused' | 'timeout' {
    if (this.#nodes.get(to)?.up !== true) return 'refused';
    const channel = this.#channel(from, to);
    if (channel.link.connection !== undefined) return 'open';
    const now = this.#queue.now;
    return channel.blockedUntil > now || this.#channel(to, from).blockedUntil > now ? 'timeout' : 'open';
  }

  send(from: string, to: string, envelope: Envelope): void {
    this.#sent += 1;
    if (this.#nodes.get(to)?.up !== true) {
      this.#lost += 1;
      return;
    }
    const channel = this.#channel(from, to);
    const connection = this.#open(channel);
    const { minDelayMs, maxDelayMs } = this.#options;
    const delay = minDelayMs + this.#rng.nextInt(maxDelayMs - minDelayMs + 1);
    const last = channel.queue.at(-1)?.at ?? 0;
    channel.queue.push({ at: Math.max(this.#queue.now + delay, last), connection, envelope });
    this.#pump(channel);
  }

  /** Blocks `from` → `to` (and back, unless `oneWay`) for `forMs`: what is sent meanwhile waits for the heal. */
  partition(from: string, to: string, forMs: number, oneWay = false): void {
    const until = this.#queue.now + forMs;
    this.#channel(from, to).blockedUntil = until;
    if (!oneWay) this.#channel(to, from).blockedUntil = until;
  }

  /** Whether what `from` sends to `to` is held by a partition now. */
  isBlocked(from: string, to: string): boolean {
    return (this.#channels.get(from)?.get(to)?.blockedUntil ?? 0) > this.#queue.now;
  }

  /** `env` went down: its connections close, in-flight messages are lost, and its peers hear so. */
  crashed(env: string): void {
    const peers = this.#peers.get(env) ?? new Set<string>();
    this.#peers.delete(env);
    for (const peer of peers) {
      this.#peers.get(peer)?.delete(env);
      const out = this.#channel(env, peer);
      out.link.connection = undefined;
      for (const channel of [out, this.#channel(peer, env)]) {
        this.#lost += channel.queue.length;
        channel.queue.length = 0;
      }
      this.#queue.schedule(this.#options.minDelayMs, () => {
        const node = this.#nodes.get(peer);
        if (node?.up === true) node.disconnected(env);
      });
    }
  }

  #channel(from: string, to: string): Channel {
    let byReceiver = this.#channels.get(from);
    if (byReceiver === undefined) this.#channels.set(from, (byReceiver = new Map()));
    let channel = byReceiver.get(to);
    if (channel === undefined) {
      const link = this.#channels.get(to)?.get(from)?.link ?? { connection: undefined };
      const created: Channel = { from, to, queue: [], link, pumping: false, blockedUntil: 0, deliver: () => this.#deliver(created) };
      byReceiver.set(to, (channel = created));
    }
    return channel;
  }

  /** Delivers the channel's due messages in order; waits for the head's time, or for a partition to heal. */
  #pump(channel: Channel): void {
    if (channel.pumping) return;
    const head = channel.queue[0];
    if (head === undefined) return;
    const wait = Math.max(head.at, channel.blockedUntil) - this.#queue.now;
    channel.pumping = true;
    this.#queue.schedule(Math.max(0, wait), channel.deliver);
  }

  #deliver(channel: Channel): void {
    channel.pumping = false;
    const first = channel.queue[0];
    if (first === undefined) return;
    const now = this.#queue.now;
    if (first.at > now || channel.blockedUntil > now) return this.#pump(channel);
    channel.queue.shift();
    const node = this.#nodes.get(channel.to);
    if (node === undefined || !node.up || channel.link.connection !== first.connection) this.#lost += 1;
    else node.deliver(channel.from, first.envelope);
    this.#pump(channel);
  }

  /** The open connection of the channel's two ends, opened now if there is none. */
  #open(channel: Channel): number {
    const open = channel.link.connection;
    if (open !== undefined) return open;
    const id = this.#nextConnection++;
    channel.link.connection = id;
    const { from: a, to: b } = channel;
    if (!this.#peers.has(a)) this.#peers.set(a, new Set());
    if (!this.#peers.has(b)) this.#peers.set(b, new Set());
    this.#peers.get(a)?.add(b);
    this.#peers.get(b)?.add(a);
    return id;
  }
}
