// Every configuration key Flint reads, as docs/configuration.md documents them (test/unit/docs-agree.test.ts keeps
// the three in step: this list, the documentation, and the keys the code names). A `flint.*` key given that is none
// of them is most often a misspelling: the CLI and the driver warn about it, naming the nearest known key.

/** The documented keys, sorted. */
export const KNOWN_KEYS: readonly string[] = [
  'flint.app.bundleCache.dir',
  'flint.app.bundleCache.enabled',
  'flint.app.name',
  'flint.app.registrationRetries',
  'flint.app.registrationTimeout',
  'flint.authenticate',
  'flint.authenticate.appSecret',
  'flint.authenticate.appSecret.file',
  'flint.authenticate.secret',
  'flint.authenticate.secret.file',
  'flint.cores.max',
  'flint.dead.worker.persistence',
  'flint.decommission.enabled',
  'flint.default.parallelism',
  'flint.deploy.defaultCores',
  'flint.deploy.executorMinUptime',
  'flint.deploy.executorRelaunchBackoff',
  'flint.deploy.executorRelaunchBackoffMax',
  'flint.deploy.maxDrivers',
  'flint.deploy.maxExecutorRetries',
  'flint.deploy.recoveryDirectory',
  'flint.deploy.recoveryMode',
  'flint.deploy.recoveryMode.factory',
  'flint.deploy.recoveryTimeout',
  'flint.deploy.retainedApplications',
  'flint.deploy.retainedDrivers',
  'flint.deploy.spreadOut',
  'flint.deploy.spreadOutApps',
  'flint.deploy.spreadOutDrivers',
  'flint.deploy.workerSelectionPolicy',
  'flint.deploy.zookeeper.dir',
  'flint.deploy.zookeeper.sessionTimeout',
  'flint.deploy.zookeeper.url',
  'flint.driver.bindAddress',
  'flint.driver.cores',
  'flint.driver.host',
  'flint.driver.maxResultSize',
  'flint.driver.memory',
  'flint.driver.port',
  'flint.driver.supervise',
  'flint.dynamicAllocation.cachedExecutorIdleTimeout',
  'flint.dynamicAllocation.enabled',
  'flint.dynamicAllocation.executorIdleTimeout',
  'flint.dynamicAllocation.initialExecutors',
  'flint.dynamicAllocation.maxExecutors',
  'flint.dynamicAllocation.minExecutors',
  'flint.dynamicAllocation.schedulerBacklogTimeout',
  'flint.dynamicAllocation.sustainedSchedulerBacklogTimeout',
  'flint.executor.cores',
  'flint.executor.decommission.forceKillTimeout',
  'flint.executor.defaultNodeOptions',
  'flint.executor.extraNodeOptions',
  'flint.executor.heartbeat.maxFailures',
  'flint.executor.heartbeatInterval',
  'flint.executor.logs.rolling.enableCompression',
  'flint.executor.logs.rolling.maxRetainedFiles',
  'flint.executor.logs.rolling.maxSize',
  'flint.executor.logs.rolling.strategy',
  'flint.executor.logs.rolling.time.interval',
  'flint.executor.memory',
  'flint.master',
  'flint.master.rest.enabled',
  'flint.master.rest.host',
  'flint.master.rest.port',
  'flint.master.ui.port',
  'flint.memory.fraction',
  'flint.memory.storageFraction',
  'flint.metrics.enabled',
  'flint.network.timeout',
  'flint.network.timeoutInterval',
  'flint.port.maxRetries',
  'flint.redaction.regex',
  'flint.reducer.maxSizeInFlight',
  'flint.rpc.askTimeout',
  'flint.rpc.connect.timeout',
  'flint.rpc.handshake.maxConnections',
  'flint.rpc.handshake.maxConnectionsPerAddress',
  'flint.rpc.handshake.maxWaiting',
  'flint.rpc.io.backLog',
  'flint.rpc.io.coalesceWrites',
  'flint.rpc.io.maxQueuedBytes',
  'flint.rpc.message.maxSize',
  'flint.shuffle.io.chunkSize',
  'flint.shuffle.readHostLocalDisk',
  'flint.ssl.certChain',
  'flint.ssl.certFile',
  'flint.ssl.enabled',
  'flint.ssl.enabledAlgorithms',
  'flint.ssl.keyFile',
  'flint.ssl.keyPasswordFile',
  'flint.ssl.needClientAuth',
  'flint.ssl.privateKey',
  'flint.ssl.protocol',
  'flint.ssl.trustedCaFile',
  'flint.stage.maxConsecutiveAttempts',
  'flint.submit.stagingDir',
  'flint.task.cpus',
  'flint.task.killTimeout',
  'flint.task.maxDirectResultSize',
  'flint.task.maxFailures',
  'flint.task.prefetch',
  'flint.task.prefetch.queueTime',
  'flint.task.resultChunkSize',
  'flint.ui.enabled',
  'flint.ui.killEnabled',
  'flint.ui.port',
  'flint.ui.retainedDeadExecutors',
  'flint.ui.retainedJobs',
  'flint.ui.retainedTasks',
  'flint.ui.session.timeout',
  'flint.ui.showConsoleProgress',
  'flint.ui.token',
  'flint.worker.cleanup.appDataTtl',
  'flint.worker.cleanup.compileCacheMaxSize',
  'flint.worker.cleanup.enabled',
  'flint.worker.cleanup.interval',
  'flint.worker.decommission.signal',
  'flint.worker.executorCpus',
  'flint.worker.executorStateSync.maxAttempts',
  'flint.worker.initialRegistrationRetries',
  'flint.worker.maxRegistrationRetries',
  'flint.worker.preferConfiguredMasterAddress',
  'flint.worker.registrationRetryInterval',
  'flint.worker.resource.discoveryTimeout',
  'flint.worker.resourcesFile',
  'flint.worker.standbyExecutors',
  'flint.worker.standbyExecutors.memory',
  'flint.worker.timeout',
  'flint.worker.ui.port',
  'flint.worker.ui.retainedDrivers',
  'flint.worker.ui.retainedExecutors',
];

/** Documented keys with a name of the user's in them (`<name>`: one segment). */
export const KNOWN_KEY_PATTERNS: readonly string[] = [
  'flint.driver.resource.<name>.amount',
  'flint.executor.resource.<name>.amount',
  'flint.task.resource.<name>.amount',
  'flint.worker.resource.<name>.amount',
  'flint.worker.resource.<name>.discoveryScript',
];

const PATTERNS = KNOWN_KEY_PATTERNS.map((key) => new RegExp(`^${key.replace(/\./g, '\\.').replace(/<[^>]+>/g, '[^.]+')}$`));
const KNOWN = new Set(KNOWN_KEYS);
/** TLS keys per namespace: `flint.ssl.rpc.keyFile` for each documented `flint.ssl.keyFile` (docs/configuration.md § TLS). */
const SSL_NAMESPACED = /^flint\.ssl\.(?:rpc|ui|standalone)\.([A-Za-z]+)$/;

/** Whether Flint reads `key` (a `flint.*` key; `spark.*` spellings are Spark's, and not checked). */
export function isKnownKey(key: string): boolean {
  if (KNOWN.has(key) || PATTERNS.some((p) => p.test(key))) return true;
  const ssl = SSL_NAMESPACED.exec(key);
  return ssl !== null && KNOWN.has(`flint.ssl.${ssl[1]}`);
}

/** Levenshtein's distance between two strings, or `limit + 1` as soon as it must be more than `limit`. */
function distance(a: string, b: string, limit: number): number {
  if (Math.abs(a.length - b.length) > limit) return limit + 1;
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i += 1) {
    const row = [i];
    let best = i;
    for (let j = 1; j <= b.length; j += 1) {
      const cost = a.charCodeAt(i - 1) === b.charCodeAt(j - 1) ? 0 : 1;
      const value = Math.min((previous[j] as number) + 1, (row[j - 1] as number) + 1, (previous[j - 1] as number) + cost);
      row.push(value);
      best = Math.min(best, value);
    }
    if (best > limit) return limit + 1;
    previous = row;
  }
  return previous[b.length] as number;
}

/**
 * The known key nearest to `key`, when one is near enough to be what was meant: at most 3 edits, and at most a
 * quarter of the key's length (a case slip counts as one edit, as any other letter).
 */
export function nearestKnownKey(key: string): string | undefined {
  const limit = Math.min(3, Math.floor(key.length / 4));
  let nearest: string | undefined;
  let nearestDistance = limit + 1;
  for (const known of KNOWN_KEYS) {
    const d = distance(key, known, Math.min(limit, nearestDistance - 1));
    if (d < nearestDistance) {
      nearest = known;
      nearestDistance = d;
    }
  }
  return nearest;
}

/**
 * One warning for each `flint.*` key of `keys` that Flint does not read: with the nearest known key when there
 * is one (`flint.executor.memroy` → `flint.executor.memory`). `where` says where the keys came from.
 */
export function unknownKeyWarnings(keys: Iterable<string>, where: string): string[] {
  const warnings: string[] = [];
  for (const key of keys) {
    if (!key.startsWith('flint.') || isKnownKey(key)) continue;
    const nearest = nearestKnownKey(key);
    warnings.push(
      nearest === undefined
        ? `${key} (${where}) is not a key Flint reads; it is ignored (the keys: docs/configuration.md)`
        : `${key} (${where}) is not a key Flint reads; it is ignored. Did you mean ${nearest}?`,
    );
  }
  return warnings;
}
