// Everything that can happen to a Master, as one closed union (STYLE.md §3): inbound wire messages, a lost
// connection, a timer firing, leadership granted or revoked, and the UI's kill button. The adapter turns
// each outside callback into one of these and feeds it to `MasterMachine.handle`, one at a time.

import type { ReplyToken } from '../kit/replies.ts';
import type { TimerFired } from '../kit/timers.ts';
import type {
  AppToMaster,
  ClientToMaster,
  MasterQuery,
  WorkerToMaster,
} from '../protocol/messages.ts';
import type { PersistedMasterState } from './persisted.ts';

/** Every wire message the Master endpoint accepts. */
export type MasterInbound = WorkerToMaster | AppToMaster | ClientToMaster | MasterQuery;

/** The messages that are asks: the sender waits for exactly one reply (reference §2). */
export const MASTER_ASK_TYPES = [
  'ExecutorStateChanged',
  'RequestExecutors',
  'KillExecutors',
  'RequestSubmitDriver',
  'RequestKillDriver',
  'RequestDriverStatus',
  'RequestKillAllDrivers',
  'RequestClearCompletedDriversAndApps',
  'RequestReadyz',
  'DecommissionWorkersOnHosts',
  'DecommissionWorkers',
  'RequestKillApplication',
  'RequestMasterState',
  'BoundPortsRequest',
  'RequestPlan',
] as const satisfies ReadonlyArray<MasterInbound['type']>;

export type MasterAskType = (typeof MASTER_ASK_TYPES)[number];
export type MasterAsk = Extract<MasterInbound, { readonly type: MasterAskType }>;
export type MasterOneWay = Exclude<MasterInbound, { readonly type: MasterAskType }>;

const askTypes: ReadonlySet<string> = new Set(MASTER_ASK_TYPES);

/** For the adapter: does this message need a reply token (`Ask`) or not (`Receive`)? */
export function isMasterAsk(message: MasterInbound): message is MasterAsk {
  return askTypes.has(message.type);
}

/**
 * The host's handle on a pending ask (src/kit/replies.ts). The master answers every `Ask` input with exactly one
 * `Reply` or `ReplyFailure` effect carrying the same token, within the same `handle` call.
 */
export { replyToken, type ReplyToken } from '../kit/replies.ts';

/**
 * The Master's own timers: Spark's self-sent `CheckForWorkerTimeOut` and `CompleteRecovery`, and Flint's
 * `ExecutorRelaunchBackoff`, one-shot, due when the earliest relaunch backoff of any app ends.
 */
export type MasterTimer = 'CheckForWorkerTimeOut' | 'CompleteRecovery' | 'ExecutorRelaunchBackoff';

/** An RPC env id: `flint://host:port` (a server: master, worker) or `flint+client://<id>` (apps, clients). */
export type EnvId = string;

export type MasterInput =
  /** The endpoint started: the machine schedules its periodic worker sweep. Feed it once, first. */
  | { readonly kind: 'Start' }
  | { readonly kind: 'Receive'; readonly from: EnvId; readonly message: MasterOneWay }
  | { readonly kind: 'Ask'; readonly from: EnvId; readonly replyTo: ReplyToken; readonly message: MasterAsk }
  /** The connection to this env closed (Spark's `onDisconnected`): a worker or an app client is gone. */
  | { readonly kind: 'Disconnected'; readonly envId: EnvId }
  /** A timer fired (src/kit/timers.ts): its name as `key`, and the generation it was armed with. */
  | TimerFired
  /** Leadership granted, with what the persistence store read back (empty lists when nothing was stored). */
  | { readonly kind: 'ElectedLeader'; readonly persisted: PersistedMasterState }
  | { readonly kind: 'RevokedLeadership' }
  /**
   * A `Persist` or `Unpersist` effect failed (the store's disk or ZooKeeper refused the write). The host carried
   * out none of that input's later effects; the machine's state is now ahead of what a successor would recover.
   */
  | { readonly kind: 'PersistFailed'; readonly key: string; readonly error: string }
  /** The web UI's `/app/kill` (Spark calls `removeApplication(app, KILLED)` directly). */
  | { readonly kind: 'KillApplication'; readonly appId: string };

/** One inbound message type, e.g. `Msg<'RegisterWorker'>`. */
export type Msg<T extends MasterInbound['type']> = Extract<MasterInbound, { readonly type: T }>;
