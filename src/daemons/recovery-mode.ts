// `flint.deploy.recoveryMode`: which PersistenceStore and LeaderElection a master runs with (reference §8, §9.1).
//
//   NONE        keeps nothing; the only master leads at once (Spark's BlackHole engine + MonarchyLeaderAgent)
//   FILESYSTEM  one file per object in flint.deploy.recoveryDirectory; monarchy (every restart replays recovery)
//   ZOOKEEPER   one znode per object under <flint.deploy.zookeeper.dir>/master_status; a leader latch under
//               <dir>/leader_election (standby masters wait their turn)
//   CUSTOM      flint.deploy.recoveryMode.factory: a module whose `createRecoveryMode(conf, logger)` (or default
//               export) returns `{ store, election }`, as Spark's StandaloneRecoveryModeFactory does
//
// Bad or missing keys are ConfigErrors naming the key, raised before the master binds anything.

import { isAbsolute, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { FlintConf } from '../conf/flint-conf.ts';
import { ConfigError } from '../errors.ts';
import { FilePersistenceStore, RECOVERY_DIRECTORY_KEY } from '../io/file-store/file-persistence-store.ts';
import { ZK_DIR_KEY, ZK_SESSION_TIMEOUT_KEY, ZK_URL_KEY, DEFAULT_ZK_DIR, DEFAULT_ZK_SESSION_TIMEOUT_MS } from '../io/zookeeper/keys.ts';
import { MonarchyLeaderElection, type LeaderElection } from '../ports/leader-election.ts';
import { NullPersistenceStore, type PersistenceStore } from '../ports/persistence-store.ts';
import type { Logger } from '../util/logger.ts';

export const RECOVERY_MODE_KEY = 'flint.deploy.recoveryMode';
export const RECOVERY_FACTORY_KEY = 'flint.deploy.recoveryMode.factory';
export const RECOVERY_MODES = ['NONE', 'FILESYSTEM', 'ZOOKEEPER', 'CUSTOM'] as const;
export type RecoveryModeName = (typeof RECOVERY_MODES)[number];

export interface RecoveryMode {
  readonly mode: RecoveryModeName;
  readonly store: PersistenceStore;
  readonly election: LeaderElection;
}

/** What a CUSTOM factory module exports (named `createRecoveryMode`, or as its default export). */
export type RecoveryModeFactory = (
  conf: FlintConf,
  logger: Logger,
) => { store: PersistenceStore; election: LeaderElection } | Promise<{ store: PersistenceStore; election: LeaderElection }>;

/** Reads `flint.deploy.recoveryMode` (case-insensitive, default NONE); a ConfigError for anything else. */
export function recoveryModeName(conf: FlintConf): RecoveryModeName {
  const text = conf.getString(RECOVERY_MODE_KEY, 'NONE').trim().toUpperCase();
  const mode = RECOVERY_MODES.find((m) => m === text);
  if (mode === undefined) {
    throw new ConfigError(RECOVERY_MODE_KEY, `${RECOVERY_MODE_KEY}=${JSON.stringify(conf.get(RECOVERY_MODE_KEY))} is not a recovery mode; expected one of ${RECOVERY_MODES.join(', ')}`);
  }
  return mode;
}

function required(conf: FlintConf, key: string, mode: RecoveryModeName): string {
  const value = conf.get(key)?.trim() ?? '';
  if (value === '') throw new ConfigError(key, `${RECOVERY_MODE_KEY}=${mode} needs ${key}`);
  return value;
}

/** The ZooKeeper options from `flint.deploy.zookeeper.*`, checked (ConfigErrors name the key). */
export function zooKeeperOptionsFromConf(conf: FlintConf, logger: Logger) {
  const url = required(conf, ZK_URL_KEY, 'ZOOKEEPER');
  const dir = conf.getString(ZK_DIR_KEY, DEFAULT_ZK_DIR);
  const sessionTimeoutMs = conf.getDurationMs(ZK_SESSION_TIMEOUT_KEY, `${DEFAULT_ZK_SESSION_TIMEOUT_MS}ms`, 'ms');
  if (!/^[^\s/]+$/.test(url)) throw new ConfigError(ZK_URL_KEY, `${ZK_URL_KEY}=${JSON.stringify(url)} is not a ZooKeeper connect string (host:port[,host:port...])`);
  if (!/^(\/[^/\s]+)+\/?$/.test(dir) || dir.split('/').some((p) => p === '.' || p === '..')) {
    throw new ConfigError(ZK_DIR_KEY, `${ZK_DIR_KEY}=${JSON.stringify(dir)} is not an absolute znode path such as /flint`);
  }
  if (sessionTimeoutMs <= 0) throw new ConfigError(ZK_SESSION_TIMEOUT_KEY, `${ZK_SESSION_TIMEOUT_KEY}=${JSON.stringify(conf.get(ZK_SESSION_TIMEOUT_KEY))} is not positive; expected a duration above 0, e.g. 10s`);
  return { url, dir, sessionTimeoutMs, logger };
}

/** Builds the store and the election for the configured mode. The caller closes both (the master daemon does). */
export async function createRecoveryMode(conf: FlintConf, logger: Logger, cwd = process.cwd()): Promise<RecoveryMode> {
  const mode = recoveryModeName(conf);
  switch (mode) {
    case 'NONE':
      return { mode, store: new NullPersistenceStore(), election: new MonarchyLeaderElection() };
    case 'FILESYSTEM': {
      const store = await FilePersistenceStore.open(required(conf, RECOVERY_DIRECTORY_KEY, mode));
      return { mode, store, election: new MonarchyLeaderElection() };
    }
    case 'ZOOKEEPER': {
      const options = zooKeeperOptionsFromConf(conf, logger);
      // Loaded only in this mode: the ZooKeeper client is not needed by other masters.
      const [{ ZooKeeperPersistenceStore }, { ZooKeeperLeaderElection }] = await Promise.all([
        import('../io/zookeeper/zookeeper-persistence-store.ts'),
        import('../io/zookeeper/zookeeper-leader-election.ts'),
      ]);
      return { mode, store: new ZooKeeperPersistenceStore(options), election: new ZooKeeperLeaderElection(options) };
    }
    case 'CUSTOM':
      return { mode, ...(await customRecoveryMode(conf, logger, cwd)) };
    default: {
      const never: never = mode;
      throw new Error(`unknown recovery mode ${String(never)}`);
    }
  }
}

async function customRecoveryMode(conf: FlintConf, logger: Logger, cwd: string): Promise<{ store: PersistenceStore; election: LeaderElection }> {
  const path = required(conf, RECOVERY_FACTORY_KEY, 'CUSTOM');
  const bad = (why: string, err?: unknown) =>
    new ConfigError(RECOVERY_FACTORY_KEY, `${RECOVERY_FACTORY_KEY}=${JSON.stringify(path)} ${why}${err === undefined ? '' : `: ${(err as Error).message}`}`);
  let module: Record<string, unknown>;
  try {
    module = (await import(pathToFileURL(isAbsolute(path) ? path : resolve(cwd, path)).href)) as Record<string, unknown>;
  } catch (err) {
    throw bad('cannot be loaded', err);
  }
  const factory = module['createRecoveryMode'] ?? module['default'];
  if (typeof factory !== 'function') throw bad('exports no createRecoveryMode function (nor a default export)');
  const made = (await (factory as RecoveryModeFactory)(conf, logger)) as Partial<{ store: PersistenceStore; election: LeaderElection }> | undefined;
  const store = made?.store;
  const election = made?.election;
  if (typeof store?.put !== 'function' || typeof store.list !== 'function' || typeof election?.start !== 'function' || typeof election.close !== 'function') {
    throw bad('returned something that is not { store: PersistenceStore, election: LeaderElection }');
  }
  return { store, election };
}
