// A configuration key with a value Flint cannot use is refused before anything starts, by a ConfigError that
// names the key, the value and what is expected (issue 15: every error a user can cause has a test of its
// message). These are the readers of keys outside FlintConf's own getters (conf.test.ts): the master's, the
// worker's, the driver's and the executor's, units, properties files and FLINT_LOG_LEVEL.
import assert from 'node:assert/strict';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { FlintConf } from '../../../src/conf/flint-conf.ts';
import { readDecommissionSignal } from '../../../src/cli/worker-command.ts';
import { loadConf } from '../../../src/conf/load-conf.ts';
import { resourceRequests } from '../../../src/conf/resource-requests.ts';
import { parseSizeBytes } from '../../../src/conf/units.ts';
import { masterConfigFromConf } from '../../../src/daemons/master-conf.ts';
import { recoveryModeName, zooKeeperOptionsFromConf } from '../../../src/daemons/recovery-mode.ts';
import { allocationConfigFromConf } from '../../../src/driver/allocation.ts';
import { FilePersistenceStore } from '../../../src/io/file-store/file-persistence-store.ts';
import { readUiAuthSettings } from '../../../src/io/http/ui-auth.ts';
import { shuffleSettings, storageLimitBytes } from '../../../src/io/executor/shuffle-settings.ts';
import { readRpcSettings } from '../../../src/rpc/rpc-env.ts';
import { logLevelFromEnv, memoryLogger } from '../../../src/util/logger.ts';
import { logRollingFromConf } from '../../../src/worker/log-rolling-config.ts';
import { workerConfig } from '../../../src/worker/worker-config.ts';
import { tempDir } from '../../helpers/temp-dir.ts';

const dir = tempDir('flint-key-errors-');
after(() => rmSync(dir, { recursive: true, force: true }));

const conf = (pairs: Record<string, string>): FlintConf => new FlintConf(Object.entries(pairs));
/** What a refusal of `key` must be: Flint's ConfigError, naming the key, with `message`. */
const refusal = (key: string, message: RegExp) => ({ name: 'ConfigError', code: 'FLINT_CONFIG_INVALID', key, message });

describe('units and FlintConf', () => {
  test('a number under the range is too small, with the range expected', () => {
    assert.throws(() => conf({ 'flint.cores.max': '0' }).getInt('flint.cores.max', 1, { min: 1, max: 10 }), refusal('flint.cores.max', /^flint\.cores\.max=0 is too small; expected a whole number from 1 to 10$/));
  });

  test('a size past what a safe integer holds is too large, with the largest expected', () => {
    assert.throws(() => parseSizeBytes('99999999p', 'b'), { message: /^"99999999p" is too large a size; expected at most 9007199254740991 bytes \(8p\)$/ });
  });

  test('more resource names than the wire carries are refused with the limit', () => {
    const many = Object.fromEntries(Array.from({ length: 40 }, (_, i) => [`flint.executor.resource.r${i}.amount`, '1']));
    assert.throws(() => resourceRequests(conf(many), 'executor'), refusal('flint.executor.resource', /^40 executor resources are requested; at most \d+ are allowed$/));
  });

  test('a properties file that cannot be read names the file and why', () => {
    const missing = join(dir, 'no-such.conf');
    assert.throws(() => loadConf({ propertiesFile: missing, env: {} }), refusal('--properties-file', new RegExp(`^cannot read properties file ${missing}: ENOENT$`)));
  });

  test('FLINT_LOG_LEVEL must be one of the levels', () => {
    assert.throws(() => logLevelFromEnv({ FLINT_LOG_LEVEL: 'verbose' }), refusal('FLINT_LOG_LEVEL', /^FLINT_LOG_LEVEL="verbose" is not a level; expected one of debug, info, warn, error, silent$/));
  });
});

describe("the master's keys, and every daemon's secret and UI token", () => {
  const ports = { host: '127.0.0.1', publicHost: '127.0.0.1', port: 7077, webUiPort: 8080 };

  test('flint.deploy.workerSelectionPolicy must name a policy', () => {
    assert.throws(
      () => masterConfigFromConf(conf({ 'flint.deploy.workerSelectionPolicy': 'RANDOM' }), ports),
      refusal('flint.deploy.workerSelectionPolicy', /^flint\.deploy\.workerSelectionPolicy="RANDOM" is not a policy; expected one of CORES_FREE_ASC, CORES_FREE_DESC, MEMORY_FREE_ASC, MEMORY_FREE_DESC, WORKER_ID$/),
    );
  });

  test('flint.deploy.recoveryMode must name a mode', () => {
    assert.throws(() => recoveryModeName(conf({ 'flint.deploy.recoveryMode': 'DISK' })), refusal('flint.deploy.recoveryMode', /^flint\.deploy\.recoveryMode="DISK" is not a recovery mode; expected one of NONE, FILESYSTEM, ZOOKEEPER, CUSTOM$/));
  });

  test("ZooKeeper's connect string, znode path and session timeout are checked", () => {
    const zk = (pairs: Record<string, string>) => () => zooKeeperOptionsFromConf(conf({ 'flint.deploy.zookeeper.url': 'zk1:2181', ...pairs }), memoryLogger());
    assert.throws(zk({ 'flint.deploy.zookeeper.url': 'zk1:2181/flint' }), refusal('flint.deploy.zookeeper.url', /^flint\.deploy\.zookeeper\.url="zk1:2181\/flint" is not a ZooKeeper connect string \(host:port\[,host:port\.\.\.\]\)$/));
    assert.throws(zk({ 'flint.deploy.zookeeper.dir': 'flint' }), refusal('flint.deploy.zookeeper.dir', /^flint\.deploy\.zookeeper\.dir="flint" is not an absolute znode path such as \/flint$/));
    assert.throws(zk({ 'flint.deploy.zookeeper.sessionTimeout': '0s' }), refusal('flint.deploy.zookeeper.sessionTimeout', /^flint\.deploy\.zookeeper\.sessionTimeout="0s" is not positive; expected a duration above 0, e\.g\. 10s$/));
  });

  test('a recovery directory that cannot be used names the key and why', async () => {
    await assert.rejects(FilePersistenceStore.open(''), refusal('flint.deploy.recoveryDirectory', /^flint\.deploy\.recoveryDirectory="" cannot be used: it is empty$/));
    const file = join(dir, 'a-file');
    writeFileSync(file, '');
    await assert.rejects(FilePersistenceStore.open(join(file, 'recovery')), refusal('flint.deploy.recoveryDirectory', /^flint\.deploy\.recoveryDirectory=".*a-file\/recovery" cannot be used: /));
  });

  test('flint.ui.token must be long enough, and is not quoted', () => {
    assert.throws(() => readUiAuthSettings(conf({ 'flint.ui.token': 'short' }), undefined), refusal('flint.ui.token', /^flint\.ui\.token must be at least \d+ characters with no spaces$/));
  });

  test('an empty secret is refused with where else to give one', () => {
    assert.throws(() => readRpcSettings(conf({ 'flint.authenticate': 'true', 'flint.authenticate.secret': '' })), refusal('flint.authenticate.secret', /^flint\.authenticate\.secret is empty: give a non-empty secret \(or flint\.authenticate\.secret\.file\)$/));
  });
});

describe("the worker's keys", () => {
  test('the rolling interval must be a named interval or seconds in range', () => {
    const rolling = (interval: string) => () => logRollingFromConf(conf({ 'flint.executor.logs.rolling.strategy': 'time', 'flint.executor.logs.rolling.time.interval': interval }));
    const expected = 'expected daily, hourly, minutely or a whole number of seconds from';
    assert.throws(rolling('weekly'), refusal('flint.executor.logs.rolling.time.interval', new RegExp(`^flint\\.executor\\.logs\\.rolling\\.time\\.interval="weekly" is not an interval; ${expected} `)));
    assert.throws(rolling('1'), refusal('flint.executor.logs.rolling.time.interval', new RegExp(`^flint\\.executor\\.logs\\.rolling\\.time\\.interval="1" is out of range; ${expected} `)));
  });

  test('the decommission signal must be one the worker can take', () => {
    assert.throws(
      () => readDecommissionSignal(conf({ 'flint.worker.decommission.signal': 'kill' })),
      refusal('flint.worker.decommission.signal', /^flint\.worker\.decommission\.signal="KILL" is not a signal the worker can take for decommissioning; expected a name such as PWR or USR2 \(not KILL, STOP, TERM or INT\)$/),
    );
  });

  test('the work directory must not be empty', () => {
    const input = { host: '127.0.0.1', port: 7078, webUiPort: 0, cores: 1, memoryMb: 512, workDir: '', masterUrls: ['flint://127.0.0.1:7077'] };
    assert.throws(() => workerConfig(input), refusal('--work-dir', /^the work directory \(--work-dir\) must not be empty$/));
  });
});

describe("the driver's and the executors' keys", () => {
  test('dynamic allocation needs min ≤ initial ≤ max', () => {
    const allocation = (pairs: Record<string, string>) => () => allocationConfigFromConf(conf({ 'flint.dynamicAllocation.enabled': 'true', ...pairs }));
    assert.throws(
      allocation({ 'flint.dynamicAllocation.minExecutors': '3', 'flint.dynamicAllocation.maxExecutors': '2' }),
      refusal('flint.dynamicAllocation.minExecutors', /^flint\.dynamicAllocation\.minExecutors \(3\) must be less than or equal to flint\.dynamicAllocation\.maxExecutors \(2\)$/),
    );
    assert.throws(
      allocation({ 'flint.dynamicAllocation.minExecutors': '1', 'flint.dynamicAllocation.initialExecutors': '5', 'flint.dynamicAllocation.maxExecutors': '4' }),
      refusal('flint.dynamicAllocation.initialExecutors', /^flint\.dynamicAllocation\.initialExecutors \(5\) must be between flint\.dynamicAllocation\.minExecutors \(1\) and flint\.dynamicAllocation\.maxExecutors \(4\)$/),
    );
  });

  test('memory fractions and the fetch chunk size must be in range', () => {
    const place = { appId: 'app-1', hostname: '127.0.0.1', workerUrl: 'flint://Worker@127.0.0.1:7078', executorDir: dir, cores: 1 };
    assert.throws(() => storageLimitBytes(conf({ 'flint.memory.storageFraction': '1.5' }), 1), refusal('flint.memory.storageFraction', /^flint\.memory\.storageFraction must be a number from 0 to 1, got 1\.5$/));
    assert.throws(() => shuffleSettings(conf({ 'flint.memory.fraction': '0' }), place), refusal('flint.memory.fraction', /^flint\.memory\.fraction must be a number above 0 and at most 1, got 0$/));
    assert.throws(() => shuffleSettings(conf({ 'flint.shuffle.io.chunkSize': '0' }), place), refusal('flint.shuffle.io.chunkSize', /^flint\.shuffle\.io\.chunkSize="0" is too small; expected at least 1 byte, e\.g\. 4m$/));
  });
});
