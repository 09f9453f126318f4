// Worker id, configuration, small pure helpers, and the worker's /json (reference §4.2, §6.1, §9.2, §11.4).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FlintConf } from '../../../src/conf/flint-conf.ts';
import { ConfigError } from '../../../src/errors.ts';
import {
  civilTimeUtc,
  exitStatusOf,
  formatIdTimestamp,
  generateWorkerId,
  heartbeatIntervalMs,
  masterEnvUrl,
  workerConfig,
  workerConfigFromConf,
  workerJson,
} from '../../../src/worker/index.ts';
import { appResourceFileName, describeCommand, redactArgument } from '../../../src/worker/process-specs.ts';
import { Harness, MASTER_A, appDesc, launchExecutor, testConfig } from './harness.ts';

const base = { host: 'h', port: 7078, cores: 4, memoryMb: 4096, workDir: '/var/flint/work', masterUrls: [MASTER_A] };

test('reference §4.2: worker-<yyyyMMddHHmmss>-<host>-<port>, formatted in UTC', () => {
  assert.equal(generateWorkerId(Date.UTC(2024, 0, 2, 3, 4, 5), '10.1.2.3', 35_111), 'worker-20240102030405-10.1.2.3-35111');
  assert.equal(formatIdTimestamp(0), '19700101000000');
  assert.equal(formatIdTimestamp(Date.UTC(2000, 1, 29, 23, 59, 59, 999)), '20000229235959', 'leap day, ms dropped');
  for (const ms of [-1, 951_782_400_000, 1_700_000_000_123, 4_102_444_800_000, 253_402_300_799_000]) {
    const d = new Date(ms);
    const c = civilTimeUtc(ms);
    assert.deepEqual(
      [c.year, c.month, c.day, c.hour, c.minute, c.second],
      [d.getUTCFullYear(), d.getUTCMonth() + 1, d.getUTCDate(), d.getUTCHours(), d.getUTCMinutes(), d.getUTCSeconds()],
      `at ${ms}`,
    );
  }
  assert.equal(new Harness(testConfig({ workerId: 'worker-fixed' })).machine.workerId, 'worker-fixed');
});

test('workerConfig fills Spark defaults and heartbeats every timeout / 4', () => {
  const c = workerConfig(base);
  assert.equal(c.initialRegistrationRetries, 6);
  assert.equal(c.totalRegistrationRetries, 16);
  assert.equal(c.workerTimeoutMs, 60_000);
  assert.equal(heartbeatIntervalMs(c), 15_000);
  assert.deepEqual(c.cleanup, { enabled: true, intervalMs: 1_800_000, appDataTtlMs: 604_800_000, compileCacheMaxBytes: 1024 ** 3 });
  assert.equal(c.publicAddress, 'h');
  assert.equal(c.webUiPort, 8081);
  assert.equal(c.retainedExecutors, 1000);
  assert.equal(c.executorStateSyncMaxAttempts, 5);
});

test('workerConfig refuses bad values with ConfigError naming the key', () => {
  const bad: Array<[Record<string, unknown>, string]> = [
    [{ cores: 0 }, '--cores'],
    [{ memoryMb: 1.5 }, '--memory'],
    [{ masterUrls: [] }, 'masters'],
    [{ masterUrls: ['http://m:7077'] }, 'masters'],
    [{ workDir: '' }, '--work-dir'],
    [{ executorStateSyncMaxAttempts: 0 }, 'flint.worker.executorStateSync.maxAttempts'],
  ];
  for (const [over, key] of bad) {
    assert.throws(
      () => workerConfig({ ...base, ...over } as Parameters<typeof workerConfig>[0]),
      (err: unknown) => err instanceof ConfigError && err.key === key,
      JSON.stringify(over),
    );
  }
});

test('workerConfigFromConf reads flint.* keys and their spark.* spellings', () => {
  const conf = new FlintConf([
    ['flint.worker.timeout', '20'],
    ['spark.worker.cleanup.enabled', 'false'],
    ['flint.worker.cleanup.interval', '60'],
    ['flint.worker.cleanup.appDataTtl', '2h'],
    ['flint.worker.cleanup.compileCacheMaxSize', '256m'],
    ['flint.worker.initialRegistrationRetries', '2'],
    ['flint.worker.maxRegistrationRetries', '4'],
    ['flint.worker.ui.retainedExecutors', '30'],
    ['flint.network.timeout', '90s'],
    ['flint.decommission.enabled', 'true'],
    ['spark.worker.preferConfiguredMasterAddress', 'true'],
  ]);
  const c = workerConfigFromConf(conf, base);
  assert.equal(c.workerTimeoutMs, 20_000);
  assert.deepEqual(c.cleanup, { enabled: false, intervalMs: 60_000, appDataTtlMs: 7_200_000, compileCacheMaxBytes: 256 * 1024 ** 2 });
  assert.deepEqual([c.initialRegistrationRetries, c.totalRegistrationRetries], [2, 4]);
  assert.equal(c.retainedExecutors, 30);
  assert.equal(c.askTimeoutMs, 90_000, 'flint.rpc.askTimeout defaults to flint.network.timeout');
  assert.equal(c.decommissionEnabled, true);
  assert.equal(c.preferConfiguredMasterAddress, true);
  const defaults = workerConfigFromConf(new FlintConf(), base);
  assert.deepEqual(defaults, workerConfig(base));
  assert.throws(() => workerConfigFromConf(new FlintConf([['flint.worker.cleanup.enabled', 'yes']]), base), ConfigError);
});

test('masterEnvUrl normalises master URLs and endpoint addresses to flint://host:port', () => {
  assert.equal(masterEnvUrl('spark://m:7077'), 'flint://m:7077');
  assert.equal(masterEnvUrl('flint://Master@m:7077'), 'flint://m:7077');
  assert.equal(masterEnvUrl(' flint://m:7077/ '), 'flint://m:7077');
  assert.equal(masterEnvUrl('garbage'), 'garbage');
});

test('exit status: the code, else 128 + the signal number (Java Process.waitFor)', () => {
  assert.equal(exitStatusOf({ exitCode: 3, signal: null }), 3);
  assert.equal(exitStatusOf({ exitCode: null, signal: 'SIGTERM' }), 143);
  assert.equal(exitStatusOf({ exitCode: null, signal: 'SIGKILL' }), 137);
  assert.equal(exitStatusOf({ exitCode: null, signal: 'SIGWHAT' }), undefined);
});

test('app resource file names and redaction', () => {
  assert.equal(appResourceFileName('https://repo/x/job.js?token=1#frag'), 'job.js');
  assert.equal(appResourceFileName('/abs/path/app.tgz'), 'app.tgz');
  assert.equal(appResourceFileName('https://repo/'), 'app-resource');
  assert.equal(appResourceFileName('file:///tmp/jobs/etl.js'), 'etl.js');
  assert.equal(appResourceFileName('..'), 'app-resource');
  assert.equal(redactArgument('--flint.authenticate.secret=hunter2'), '--flint.authenticate.secret=*********(redacted)');
  assert.equal(redactArgument('--cores=2'), '--cores=2');
  const cmd = describeCommand({ mainModule: 'm.js', arguments: ['a', 'b'], environment: { A: '1', MY_TOKEN: 't' }, nodeOptions: ['-x'] });
  assert.equal(cmd, 'Command(m.js,List(a, b),Map(A=1, MY_TOKEN=*********(redacted)),List(-x))');
});

test('reference §11.4: the worker /json document', () => {
  const h = new Harness();
  h.register();
  h.fromMaster(launchExecutor('app-1', 0, { appDesc: appDesc({ maxCores: 6 }) }));
  h.fromMaster(launchExecutor('app-2', 5));
  h.handle({ kind: 'ExecutorProcessExited', appId: 'app-2', execId: 5, exitCode: 0, signal: null, killedByWorker: false });
  const json = workerJson(h.machine.snapshot(), h.now);
  assert.deepEqual(Object.keys(json), [
    'id',
    'masterurl',
    'masterwebuiurl',
    'cores',
    'coresused',
    'memory',
    'memoryused',
    'resources',
    'resourcesused',
    'executors',
    'finishedexecutors',
  ]);
  assert.equal(json.id, 'worker-20240102030405-wh1-7078');
  assert.equal(json.masterurl, MASTER_A);
  assert.equal(json.masterwebuiurl, 'http://m:8080');
  assert.deepEqual([json.cores, json.coresused, json.memory, json.memoryused], [8, 2, 8192, 1024]);
  assert.equal(json.executors.length, 1);
  const e = json.executors[0];
  assert.deepEqual(
    { ...e, appdesc: { ...e?.appdesc, command: undefined } },
    {
      id: 0,
      memory: 1024,
      resources: {},
      appid: 'app-1',
      appdesc: {
        name: 'pi',
        cores: 6,
        memoryperexecutor: 1024,
        resourcesperexecutor: [],
        memoryperslave: 1024,
        resourcesperslave: [],
        user: 'alice',
        command: undefined,
      },
    },
  );
  assert.match(e?.appdesc.command ?? '', /^Command\(flint\/executor-backend\.js,List\(--driver-url/);
  assert.deepEqual(json.finishedexecutors.map((f) => [f.appid, f.id, f.appdesc.cores]), [['app-2', 5, 0]], 'maxCores unset → 0');
  const fresh = workerJson(new Harness().machine.snapshot(), 0);
  assert.deepEqual([fresh.masterurl, fresh.masterwebuiurl], ['', '']);
});

test('the worker /json shows its custom resources, those its live executors hold, and each executor\'s', () => {
  const h = new Harness(testConfig({ resources: { gpu: ['0', '1', '2', '3'] } }));
  h.register();
  h.fromMaster(launchExecutor('app-1', 0, { resources: { gpu: ['2', '0'] }, appDesc: appDesc({ resourceReqsPerExecutor: [{ name: 'gpu', amount: 2 }] }) }));
  h.fromMaster(launchExecutor('app-1', 1, { resources: { gpu: ['3'] } }));
  h.handle({ kind: 'ExecutorProcessExited', appId: 'app-1', execId: 1, exitCode: 0, signal: null, killedByWorker: false });
  const json = workerJson(h.machine.snapshot(), h.now);
  assert.deepEqual(json.resources, { gpu: { name: 'gpu', addresses: ['0', '1', '2', '3'] } });
  assert.deepEqual(json.resourcesused, { gpu: { name: 'gpu', addresses: ['0', '2'] } }, 'in the worker\'s order; an exited executor holds nothing');
  assert.deepEqual(json.executors[0]?.resources, { gpu: { name: 'gpu', addresses: ['2', '0'] } });
  assert.deepEqual(json.executors[0]?.appdesc.resourcesperexecutor, [{ name: 'gpu', amount: 2 }]);
});
