// The ZooKeeper recovery keys and defaults, apart from the client so that reading conf loads no ZooKeeper code.

export const ZK_URL_KEY = 'flint.deploy.zookeeper.url';
export const ZK_DIR_KEY = 'flint.deploy.zookeeper.dir';
export const ZK_SESSION_TIMEOUT_KEY = 'flint.deploy.zookeeper.sessionTimeout';

export const DEFAULT_ZK_DIR = '/flint';
export const DEFAULT_ZK_SESSION_TIMEOUT_MS = 10_000;
