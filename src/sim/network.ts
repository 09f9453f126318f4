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

interface InFlight {
  readonly at: number;
  readonly connection: number;
  readonly envelope: Envelope;
}

/** One direction of one connection: its messages, oldest first, and whether a delivery is scheduled. */
interface Channel {
  readonly from: string;
  readonly to: string;
  readonly queue: InFlight[];
  pumping: boolean;
}

export class SimNetwork {
  readonly #queue: EventQueue;
  readonly #rng: Rng;
  readonly #options: NetworkOptions;
  readonly #nodes = new Map<string, Node>();
  readonly #channels = new Map<string, Channel>();
  /** Open connections, by both ends (key: both ids, sorted), as a number that a new connection changes. */
  readonly #connections = new Map<string, number>();
  readonly #peers = new Map<string, Set<string>>();
  #nextConnection = 1;
  /** Blocked directions `from>to`, until a time. */
  readonly #blocked = new Map<string, number>();
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
    if (this.#connections.has(pairKey(from, to))) return 'open';
    return this.#blockedUntil(from, to) > this.#queue.now || this.#blockedUntil(to, from) > this.#queue.now ? 'timeout' : 'open';
  }

  send(from: string, to: string, envelope: Envelope): void {
    this.#sent += 1;
    if (this.#nodes.get(to)?.up !== true) {
      this.#lost += 1;
      return;
    }
    const connection = this.#connect(from, to);
    const { minDelayMs, maxDelayMs } = this.#options;
    const delay = minDelayMs + this.#rng.nextInt(maxDelayMs - minDelayMs + 1);
    const channel = this.#channel(from, to);
    const last = channel.queue.at(-1)?.at ?? 0;
    channel.queue.push({ at: Math.max(this.#queue.now + delay, last), connection, envelope });
    this.#pump(channel);
  }

  /** Blocks `from` → `to` (and back, unless `oneWay`) for `forMs`: what is sent meanwhile waits for the heal. */
  partition(from: string, to: string, forMs: number, oneWay = false): void {
    const until = this.#queue.now + forMs;
    this.#blocked.set(`${from}>${to}`, until);
    if (!oneWay) this.#blocked.set(`${to}>${from}`, until);
  }

  /** `env` went down: its connections close, in-flight messages are lost, and its peers hear so. */
  crashed(env: string): void {
    const peers = this.#peers.get(env) ?? new Set<string>();
    this.#peers.delete(env);
    for (const peer of peers) {
      this.#peers.get(peer)?.delete(env);
      this.#connections.delete(pairKey(env, peer));
      for (const key of [`${env}>${peer}`, `${peer}>${env}`]) {
        const channel = this.#channels.get(key);
        if (channel !== undefined) {
          this.#lost += channel.queue.length;
          channel.queue.length = 0;
        }
      }
      this.#queue.schedule(this.#options.minDelayMs, () => {
        const node = this.#nodes.get(peer);
        if (node?.up === true) node.disconnected(env);
      });
    }
  }

  #channel(from: string, to: string): Channel {
    const key = `${from}>${to}`;
    let channel = this.#channels.get(key);
    if (channel === undefined) {
      channel = { from, to, queue: [], pumping: false };
      this.#channels.set(key, channel);
    }
    return channel;
  }

  /** Delivers the channel's due messages in order; waits for the head's time, or for a partition to heal. */
  #pump(channel: Channel): void {
    if (channel.pumping) return;
    const head = channel.queue[0];
    if (head === undefined) return;
    const now = this.#queue.now;
    const wait = Math.max(head.at, this.#blockedUntil(channel.from, channel.to)) - now;
    channel.pumping = true;
    this.#queue.schedule(Math.max(0, wait), () => {
      channel.pumping = false;
      const first = channel.queue[0];
      if (first === undefined) return;
      if (first.at > this.#queue.now || this.#blockedUntil(channel.from, channel.to) > this.#queue.now) return this.#pump(channel);
      channel.queue.shift();
      const node = this.#nodes.get(channel.to);
      if (node === undefined || !node.up || this.#connections.get(pairKey(channel.from, channel.to)) !== first.connection) this.#lost += 1;
      else node.deliver(channel.from, first.envelope);
      this.#pump(channel);
    });
  }

  /** The open connection between `a` and `b`, opened now if there is none. */
  #connect(a: string, b: string): number {
    const key = pairKey(a, b);
    const open = this.#connections.get(key);
    if (open !== undefined) return open;
    const id = this.#nextConnection++;
    this.#connections.set(key, id);
    if (!this.#peers.has(a)) this.#peers.set(a, new Set());
    if (!this.#peers.has(b)) this.#peers.set(b, new Set());
    this.#peers.get(a)?.add(b);
    this.#peers.get(b)?.add(a);
    return id;
  }

  /** Whether what `from` sends to `to` is held by a partition now. */
  isBlocked(from: string, to: string): boolean {
    return this.#blockedUntil(from, to) > this.#queue.now;
  }

  #blockedUntil(from: string, to: string): number {
    return this.#blocked.get(`${from}>${to}`) ?? 0;
  }
}

function pairKey(a: string, b: string): string {
  return a < b ? `${a}|${b}` : `${b}|${a}`;
}
