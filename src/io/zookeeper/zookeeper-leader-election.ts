// ZooKeeperLeaderElection: recovery mode ZOOKEEPER's leader agent (Spark's ZooKeeperLeaderElectionAgent over
// Curator's LeaderLatch; reference §8.4).
//
// Each candidate creates an EPHEMERAL_SEQUENTIAL znode `<dir>/leader_election/latch-<nonce>-<seq>`. The one
// with the lowest sequence number leads; every other watches the node just before its own and re-checks when
// that node goes away (no herd: one watcher per deletion).
//
// Session handling, from the master's point of view:
//   connected ──▶ join (create our node once per session) ──▶ lowest? granted : watch predecessor
//   disconnected (connection suspended) ──▶ revoked at once; the client reconnects by itself, and if the
//     session survived we re-check our node (granted again if still lowest)
//   session expired ──▶ revoked; a new client and session, and we join again
//   never connected (ZooKeeper down at start, SPARK-25101) ──▶ a new client after each window, the windows
//     growing from 1 s to 10 s, each logged; `start` never throws for this
// `granted`/`revoked` alternate starting with `granted` (one flag, `#leader`, gates both) and none is called
// after `close` is entered. The nonce in the name finds our node again if a create's reply was lost.

import { randomUUID } from 'node:crypto';
import type { Client, Event } from 'node-zookeeper-client';
import type { LeaderElection, LeadershipHandlers } from '../../ports/leader-election.ts';
import { silentLogger, type Logger } from '../../util/logger.ts';
import {
  closeClient,
  CreateMode,
  Exception,
  hasZkCode,
  mkdirp,
  newZooKeeperClient,
  resolveZooKeeperOptions,
  zkCall,
  type ResolvedZooKeeperOptions,
  type ZooKeeperOptions,
} from './zookeeper-client.ts';

const FIRST_CONNECT_WINDOW_MS = 1_000;
const MAX_CONNECT_WINDOW_MS = 10_000;
const RETRY_DELAY_MS = 200;

const sequenceOf = (name: string): number => Number(name.slice(name.lastIndexOf('-') + 1));

export class ZooKeeperLeaderElection implements LeaderElection {
  /** `<dir>/leader_election`. */
  readonly electionPath: string;
  readonly #opts: ResolvedZooKeeperOptions;
  readonly #logger: Logger;
  #handlers: LeadershipHandlers | undefined;
  #closed = false;
  #leader = false;
  /** Bumped for every new client; callbacks from an older session are ignored. */
  #session = 0;
  #client: Client | undefined;
  #nonce = '';
  /** Our latch znode (full path) in the current session, once created. */
  #node: string | undefined;
  #connectAttempts = 0;
  /** A join (create our node) is in flight; another would make a second node in the same session. */
  #joining = false;
  readonly #timers = new Set<NodeJS.Timeout>();

  constructor(options: ZooKeeperOptions) {
    this.#opts = resolveZooKeeperOptions(options);
    this.#logger = (options.logger ?? silentLogger).child({ component: 'zookeeper-leader-election' });
    this.electionPath = `${this.#opts.dir}/leader_election`;
  }

  /** True while this candidate has been granted and not revoked. */
  get isLeader(): boolean {
    return this.#leader;
  }

  start(handlers: LeadershipHandlers): void {
    if (this.#handlers !== undefined) throw new Error('ZooKeeperLeaderElection.start was already called');
    this.#handlers = handlers;
    this.#later(0, () => this.#newSession());
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    for (const timer of this.#timers) clearTimeout(timer);
    this.#timers.clear();
    const client = this.#client;
    const node = this.#node;
    this.#client = undefined;
    if (client === undefined) return;
    if (node !== undefined) {
      await zkCall<void>(`delete ${node}`, this.#opts.operationTimeoutMs, (cb) => client.remove(node, -1, (e) => cb(e, undefined))).catch(
        (err: unknown) => this.#logger.debug({ node, err: String(err) }, 'could not delete the leader latch node; it goes with the session'),
      );
    }
    closeClient(client);
  }

  #newSession(): void {
    if (this.#closed) return;
    const session = ++this.#session;
    const previous = this.#client;
    previous?.removeAllListeners();
    if (previous !== undefined) closeClient(previous);
    const client = newZooKeeperClient(this.#opts, this.#logger);
    this.#client = client;
    this.#nonce = randomUUID();
    this.#node = undefined;
    this.#joining = false;
    const current = () => !this.#closed && this.#session === session;
    let connected = false;

    const window = Math.min(FIRST_CONNECT_WINDOW_MS * 2 ** this.#connectAttempts, MAX_CONNECT_WINDOW_MS);
    const connectTimer = this.#later(Math.max(window, this.#opts.sessionTimeoutMs), () => {
      if (!current() || connected) return;
      this.#connectAttempts++;
      this.#logger.warn({ url: this.#opts.url, attempts: this.#connectAttempts }, 'ZooKeeper is unreachable; still trying');
      this.#newSession();
    });

    client.on('connected', () => {
      if (!current()) return;
      clearTimeout(connectTimer);
      this.#timers.delete(connectTimer);
      this.#logger.info({ url: this.#opts.url, reconnected: connected }, connected ? 'ZooKeeper reconnected' : 'ZooKeeper connected');
      connected = true;
      this.#connectAttempts = 0;
      void this.#join(session);
    });
    client.on('disconnected', () => {
      if (!current()) return;
      if (this.#leader) this.#logger.warn({ url: this.#opts.url }, 'ZooKeeper connection suspended; leadership revoked');
      this.#setLeader(false);
    });
    client.on('expired', () => {
      if (!current()) return;
      this.#logger.warn({ url: this.#opts.url }, 'ZooKeeper session expired; leadership revoked, joining again with a new session');
      this.#setLeader(false);
      this.#newSession();
    });
    client.connect();
  }

  /** Creates our latch node (once per session, found again by its nonce) and checks who leads. */
  async #join(session: number): Promise<void> {
    const client = this.#client;
    if (client === undefined || this.#session !== session || this.#closed || this.#joining) return;
    const t = this.#opts.operationTimeoutMs;
    this.#joining = true;
    try {
      if (this.#node === undefined || !(await this.#children(client)).includes(this.#node.slice(this.electionPath.length + 1))) {
        this.#node = undefined;
        await mkdirp(client, this.electionPath, t);
        const prefix = `${this.electionPath}/latch-${this.#nonce}-`;
        this.#node = await zkCall<string>(`create ${prefix}`, t, (cb) => client.create(prefix, CreateMode.EPHEMERAL_SEQUENTIAL, cb)).catch(
          async (err: unknown) => {
            // The reply may have been lost after the node was made: look for ours before giving up.
            const mine = (await this.#children(client)).find((name) => name.startsWith(`latch-${this.#nonce}-`));
            if (mine === undefined) throw err;
            return `${this.electionPath}/${mine}`;
          },
        );
      }
    } catch (err) {
      this.#retry(session, 'join', err);
      return;
    } finally {
      if (this.#session === session) this.#joining = false;
    }
    await this.#check(session).catch((err: unknown) => this.#retry(session, 'check', err));
  }

  /** Leads when our node is the lowest; otherwise watches the node just before ours. */
  async #check(session: number): Promise<void> {
    const client = this.#client;
    const node = this.#node;
    if (client === undefined || node === undefined || this.#session !== session || this.#closed) return;
    const ours = node.slice(this.electionPath.length + 1);
    const sorted = (await this.#children(client)).filter((name) => name.startsWith('latch-')).sort((a, b) => sequenceOf(a) - sequenceOf(b));
    const index = sorted.indexOf(ours);
    if (index < 0) {
      // Our node is gone (deleted by hand, or by a session that ended): make a new one.
      this.#setLeader(false);
      this.#node = undefined;
      await this.#join(session);
      return;
    }
    if (index === 0) {
      this.#setLeader(true);
      return;
    }
    this.#setLeader(false);
    const predecessor = `${this.electionPath}/${sorted[index - 1]}`;
    const onEvent = (_event: Event) => {
      this.#check(session).catch((err: unknown) => this.#retry(session, 'check', err));
    };
    const stat = await zkCall<unknown>(`exists ${predecessor}`, this.#opts.operationTimeoutMs, (cb) => client.exists(predecessor, onEvent, cb));
    if (stat === null) await this.#check(session); // gone between the listing and the watch
  }

  #children(client: Client): Promise<string[]> {
    return zkCall<string[]>(`getChildren ${this.electionPath}`, this.#opts.operationTimeoutMs, (cb) => client.getChildren(this.electionPath, cb)).catch(
      (err: unknown) => {
        if (hasZkCode(err, Exception.NO_NODE)) return [];
        throw err;
      },
    );
  }

  /** A failed step: try again shortly while the session lasts (a lost session is handled by its events). */
  #retry(session: number, step: string, err: unknown): void {
    if (this.#closed || this.#session !== session) return;
    this.#logger.warn({ step, err: String(err) }, 'leader election step failed; retrying');
    this.#later(RETRY_DELAY_MS, () => {
      if (this.#client?.getState().name === 'SYNC_CONNECTED') void this.#join(session);
    });
  }

  #setLeader(leader: boolean): void {
    if (this.#closed || this.#leader === leader || this.#handlers === undefined) return;
    this.#leader = leader;
    this.#logger.info({ node: this.#node }, leader ? 'leadership granted' : 'leadership revoked');
    if (leader) this.#handlers.granted();
    else this.#handlers.revoked();
  }

  #later(ms: number, run: () => void): NodeJS.Timeout {
    const timer = setTimeout(() => {
      this.#timers.delete(timer);
      run();
    }, ms);
    this.#timers.add(timer);
    return timer;
  }
}
