// Sending inputs over many connections at once. A lane pulls the next input index from the batch, keeps one
// authenticated connection per daemon, writes structured inputs back to back and every `syncEvery` of them
// waits for a VERIFY round trip (flow control, and a hang detector: a daemon that stops reading is caught
// here). After an input meant to end the connection it syncs at once: the daemon either closes (expected)
// or answers (it let the input through; counted as `fatalSurvived`), and the lane reconnects.

import { AuthedConnection, sendRaw } from './connections.ts';
import { generateInput, type Target } from './inputs.ts';

export interface LaneContext {
  readonly seed: number;
  readonly ports: Readonly<Record<Target, number>>;
  readonly secret: string;
  readonly syncEvery: number;
  readonly syncTimeoutMs: number;
  readonly stats: LaneStats;
  /** Called when a daemon did not answer a sync in time: the inputs [from, to] went to it since the last one. */
  readonly onHang: (target: Target, from: number, to: number) => void;
}

export interface LaneStats {
  structured: number;
  raw: number;
  fatalClosed: number;
  fatalSurvived: number;
  rawNotClosed: number;
  /** Authenticated connections opened. */
  connections: number;
  /** Connections the daemon closed after inputs not meant to end them. */
  unexpectedClosed: number;
  bytes: number;
}

export function newLaneStats(): LaneStats {
  return { structured: 0, raw: 0, fatalClosed: 0, fatalSurvived: 0, rawNotClosed: 0, connections: 0, unexpectedClosed: 0, bytes: 0 };
}

const ENDPOINT: Record<Target, string> = { master: 'Master', worker: 'Worker' };
const HANDSHAKE_TIMEOUT_MS = 10_000;

interface Link {
  conn: AuthedConnection;
  unsynced: number;
  firstUnsynced: number;
}

export class Lane {
  readonly #ctx: LaneContext;
  readonly #links = new Map<Target, Link>();

  constructor(ctx: LaneContext) {
    this.#ctx = ctx;
  }

  /** Runs inputs from `next()` until it returns undefined, then syncs every open connection. */
  async run(next: () => number | undefined): Promise<void> {
    for (let i = next(); i !== undefined; i = next()) await this.#one(i);
    for (const target of [...this.#links.keys()]) await this.#sync(target, -1);
  }

  async close(): Promise<void> {
    await Promise.all([...this.#links.values()].map((l) => l.conn.close()));
    this.#links.clear();
  }

  async #one(index: number): Promise<void> {
    const input = generateInput(this.#ctx.seed, index);
    const stats = this.#ctx.stats;
    if (input.kind === 'raw') {
      stats.raw++;
      stats.bytes += input.bytes.length;
      const outcome = await sendRaw(this.#ctx.ports[input.target], input.bytes, this.#ctx.syncTimeoutMs);
      if (outcome !== 'closed') stats.rawNotClosed++;
      return;
    }
    const link = await this.#link(input.target, index);
    stats.structured++;
    stats.bytes += input.frame.length;
    link.conn.write(input.frame);
    if (link.unsynced++ === 0) link.firstUnsynced = index;
    if (input.fatal) {
      const outcome = await this.#sync(input.target, index);
      if (outcome === 'closed') stats.fatalClosed++;
      else if (outcome === 'answered') stats.fatalSurvived++;
      await this.#drop(input.target);
    } else if (link.unsynced >= this.#ctx.syncEvery && (await this.#sync(input.target, index)) === 'closed') {
      stats.unexpectedClosed++;
    }
  }

  async #link(target: Target, index: number): Promise<Link> {
    const existing = this.#links.get(target);
    if (existing !== undefined && !existing.conn.isClosed) return existing;
    this.#ctx.stats.connections++;
    let conn: AuthedConnection;
    try {
      conn = await AuthedConnection.open(this.#ctx.ports[target], this.#ctx.secret, ENDPOINT[target], HANDSHAKE_TIMEOUT_MS);
    } catch (err) {
      this.#ctx.onHang(target, index, index);
      throw err;
    }
    const link = { conn, unsynced: 0, firstUnsynced: index };
    this.#links.set(target, link);
    return link;
  }

  async #sync(target: Target, index: number): Promise<'answered' | 'closed' | 'timeout'> {
    const link = this.#links.get(target);
    if (link === undefined) return 'closed';
    const outcome = await link.conn.sync(this.#ctx.syncTimeoutMs);
    if (outcome === 'timeout') {
      this.#ctx.onHang(target, link.firstUnsynced, index < 0 ? link.firstUnsynced + link.unsynced - 1 : index);
      await this.#drop(target);
    }
    link.unsynced = 0;
    if (outcome === 'closed') this.#links.delete(target);
    return outcome;
  }

  async #drop(target: Target): Promise<void> {
    const link = this.#links.get(target);
    this.#links.delete(target);
    await link?.conn.close();
  }
}
