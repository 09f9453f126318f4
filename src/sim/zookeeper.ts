// The masters' recovery store and leader election, simulated (Spark's ZooKeeperPersistenceEngine with
// ZooKeeperLeaderElectionAgent, and FileSystemPersistenceEngine with MonarchyLeaderAgent; the real ones are
// src/io/zookeeper and src/io/file-store). Only the port is simulated: the masters run their real machine, and
// what reaches it is what the daemon would feed it (ElectedLeader with what the store holds, RevokedLeadership).
//
// ZooKeeper, as its client library and Curator's LeaderLatch behave (src/io/zookeeper/zookeeper-leader-election.ts):
//   - each master's session pings every third of the session timeout T while its link to ZooKeeper is up;
//   - the client counts itself disconnected after 2T/3 without an answer: leadership is revoked at once;
//   - the server expires a session after T without a ping: its ephemeral latch node goes, and the candidate with
//     the lowest node that is still connected is granted leadership;
//   - a master that stops closes its session (its node goes at once) when it can reach ZooKeeper;
//   - a write needs a connected session.
// So a leader cut off from ZooKeeper steps down (at 2T/3 of its own clock) before its session expires (at T of
// ZooKeeper's), and no second leader is granted while the first still acts, unless a clock runs more than half
// again as fast as the other: a margin the simulator's drift (≤ 2 %) stays far inside.

import type { PersistedMasterState, PersistedRecord } from '../master/index.ts';
import type { ProcessClock, SimWorld } from './world.ts';

/** What a master's host sees of the election: granted and revoked alternate, starting with granted. */
export interface ElectionHandlers {
  granted(): void;
  revoked(reason: string): void;
}

/** One master incarnation's handle on the store and the election. */
export interface MasterStorage {
  /** What the store holds now; undefined when it cannot be read (not connected). */
  read(): PersistedMasterState | undefined;
  /** Writes (or, for undefined, deletes) one record; false when the write fails. */
  write(key: string, record: PersistedRecord | undefined): boolean;
  start(handlers: ElectionHandlers): void;
  /** The process stopped on its own: it closes its session. */
  close(): void;
  /** The process died: nothing of it runs any more. */
  crashed(): void;
}

/** Records by key: the znodes under master_status, or the files in the recovery directory. */
class Records {
  readonly byKey = new Map<string, PersistedRecord>();
  /** Writes fail until this time (a disk or ZooKeeper write failure fault). */
  failingUntil = 0;

  read(): PersistedMasterState {
    const all = [...this.byKey.values()];
    return {
      apps: all.filter((r) => r.kind === 'app'),
      drivers: all.filter((r) => r.kind === 'driver'),
      workers: all.filter((r) => r.kind === 'worker'),
    } as PersistedMasterState;
  }

  write(now: number, key: string, record: PersistedRecord | undefined): boolean {
    if (now < this.failingUntil) return false;
    if (record === undefined) this.byKey.delete(key);
    else this.byKey.set(key, record);
    return true;
  }
}

/** FILESYSTEM recovery with one master: the disk outlives the process, and the master leads as soon as it starts. */
export class SimFileStore {
  readonly #world: SimWorld;
  readonly #records = new Records();

  constructor(world: SimWorld) {
    this.#world = world;
  }

  failWrites(forMs: number): void {
    this.#records.failingUntil = this.#world.queue.now + forMs;
  }

  storage(): MasterStorage {
    const records = this.#records;
    const world = this.#world;
    return {
      read: () => records.read(),
      write: (key, record) => records.write(world.queue.now, key, record),
      start: (handlers) => handlers.granted(),
      close: () => {},
      crashed: () => {},
    };
  }
}

/** The env ZooKeeper's links are cut on (`SimNetwork.partition(masterEnv, ZK_ENV, …)`). */
export const ZK_ENV = 'zk://zookeeper:2181';

interface Session {
  readonly id: number;
  readonly env: string;
  readonly clock: ProcessClock;
  /** The latch node's sequence number while the server holds the session. */
  node: number | undefined;
  /** The last time a ping got through (true time). */
  lastContact: number;
  /** The client's view: connected (it has heard from the server within 2T/3). */
  connected: boolean;
  leader: boolean;
  /** Ended on the server (expired or closed). */
  ended: boolean;
  /** The process is gone: its client does nothing more. */
  dead: boolean;
  handlers: ElectionHandlers | undefined;
  expiry: number | undefined;
}

export class SimZooKeeper {
  readonly #world: SimWorld;
  readonly #sessionTimeoutMs: number;
  readonly #records = new Records();
  readonly #sessions = new Set<Session>();
  #nextSession = 1;
  #nextNode = 0;

  constructor(world: SimWorld, sessionTimeoutMs: number) {
    this.#world = world;
    this.#sessionTimeoutMs = sessionTimeoutMs;
  }

  get sessionTimeoutMs(): number {
    return this.#sessionTimeoutMs;
  }

  failWrites(forMs: number): void {
    this.#records.failingUntil = this.#world.queue.now + forMs;
  }

  /** The env of the master whose session holds the lowest latch node (the one ZooKeeper would grant), if any. */
  latchHolder(): string | undefined {
    return this.#lowest()?.env;
  }

  storage(env: string, clock: ProcessClock): MasterStorage {
    const session: Session = {
      id: this.#nextSession++,
      env,
      clock,
      node: undefined,
      lastContact: this.#world.queue.now,
      connected: false,
      leader: false,
      ended: false,
      dead: false,
      handlers: undefined,
      expiry: undefined,
    };
    const world = this.#world;
    return {
      read: () => (session.connected && this.#linkUp(session) ? this.#records.read() : undefined),
      write: (key, record) => session.connected && this.#linkUp(session) && this.#records.write(world.queue.now, key, record),
      start: (handlers) => {
        session.handlers = handlers;
        this.#sessions.add(session);
        this.#tick(session);
      },
      close: () => {
        session.dead = true;
        if (!session.ended && this.#linkUp(session)) this.#end(session, 'closed');
      },
      crashed: () => {
        session.dead = true;
      },
    };
  }

  #linkUp(session: Session): boolean {
    const { network } = this.#world;
    return !network.isBlocked(session.env, ZK_ENV) && !network.isBlocked(ZK_ENV, session.env);
  }

  /** The client's ping, every T/3 of its own clock, and what it learns from it. */
  #tick(session: Session): void {
    if (session.dead) return;
    const now = this.#world.queue.now;
    const T = this.#sessionTimeoutMs;
    if (this.#linkUp(session)) {
      if (session.ended) {
        // The server ended this session while the client could not hear it: the client learns it is expired,
        // loses leadership if it had it, and joins again with a new session (and a new node, at the end).
        this.#revoke(session, 'ZooKeeper session expired');
        if (session.dead) return;
        session.ended = false;
        session.node = undefined;
      }
      session.lastContact = now;
      this.#armExpiry(session);
      if (session.node === undefined) {
        session.node = this.#nextNode++;
        this.#world.trace(`zookeeper: ${session.env} joins the leader latch (node ${session.node})`);
      }
      if (!session.connected) {
        session.connected = true;
        this.#elect();
      }
    } else if (session.connected && now - session.lastContact >= Math.ceil(((2 * T) / 3) / session.clock.rate)) {
      session.connected = false;
      this.#revoke(session, 'ZooKeeper connection suspended');
    }
    this.#world.queue.schedule(Math.ceil(T / 3 / session.clock.rate), () => this.#tick(session));
  }

  #armExpiry(session: Session): void {
    if (session.expiry !== undefined) this.#world.queue.cancel(session.expiry);
    session.expiry = this.#world.queue.schedule(this.#sessionTimeoutMs, () => {
      session.expiry = undefined;
      if (!session.ended) this.#end(session, 'expired');
    });
  }

  /** The server drops the session and its node; the next candidate may lead. */
  #end(session: Session, how: string): void {
    session.ended = true;
    if (session.expiry !== undefined) this.#world.queue.cancel(session.expiry);
    session.expiry = undefined;
    this.#world.trace(`zookeeper: session of ${session.env} ${how}`);
    if (session.dead) this.#sessions.delete(session);
    this.#elect();
  }

  #revoke(session: Session, reason: string): void {
    if (!session.leader) return;
    session.leader = false;
    session.handlers?.revoked(reason);
  }

  #lowest(): Session | undefined {
    let lowest: Session | undefined;
    for (const s of this.#sessions) {
      if (s.ended || s.node === undefined) continue;
      if (lowest === undefined || s.node < (lowest.node as number)) lowest = s;
    }
    return lowest;
  }

  /** Curator's LeaderLatch: the lowest node leads, once its client hears so. */
  #elect(): void {
    const lowest = this.#lowest();
    if (lowest === undefined || lowest.leader || !lowest.connected || lowest.dead) return;
    lowest.leader = true;
    this.#world.trace(`zookeeper: ${lowest.env} is granted leadership`);
    lowest.handlers?.granted();
  }
}
