// `flint submit`: runs an application against a cluster (Spark's spark-submit for the standalone master).
//
//   flint submit --master flint://host:7077 [options] app.ts [app args]      client mode: the driver runs here
//   flint submit --deploy-mode cluster [--supervise] …                       a worker runs the driver
//   flint submit --kill driver-… --master URL  |  flint submit --status driver-… --master URL
//   flint submit --master rest://host:6066 …                                 cluster mode through the REST gateway
//   flint submit --master 'local[N]' app.ts [app args]                        local mode: no cluster (docs/local-mode.md)
//
// Flags become `flint.*` keys on top of the properties file (conf/flint-defaults.conf by default) and
// `--conf` pairs, as spark-submit does.

import { resourceRequestsField } from '../conf/resource-requests.ts';
import { mkdirSync, readFileSync, renameSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Command } from 'commander';
import { launchApp } from '../api/launch-app.ts';
import { whenAppDone } from '../api/run-app.ts';
import { pruneCompileCacheIfDue } from '../io/compile-cache/prune.ts';
import { WORKER_CONFIG_DEFAULTS } from '../worker/worker-config.ts';
import type { FlintConf } from '../conf/flint-conf.ts';
import { loadConf } from '../conf/load-conf.ts';
import { ConfigError, FlintError } from '../errors.ts';
import { MasterReplies, type ClientToMaster, type DriverDescription, type MasterReply } from '../protocol/messages.ts';
import { LIMITS, type IntRange } from '../protocol/limits.ts';
import { isLocalMaster } from '../api/local-master.ts';
import { formatRpcAddress, parseMasterUrls, RpcEnv } from '../rpc/index.ts';
import { silentLogger } from '../util/logger.ts';
import { sslConfToPassOn } from '../io/tls/ssl-options.ts';
import { collect, parseIntIn, type Env } from './daemon-options.ts';
import { isRestMaster, RestSubmissionClient } from './rest-client.ts';
import { sourcePath } from '../util/install.ts';

/** Sent as the REST protocol's `clientSparkVersion`. */
const FLINT_VERSION = (JSON.parse(readFileSync(sourcePath('package.json'), 'utf8')) as { version: string }).version;

interface SubmitFlags {
  master?: string;
  deployMode?: string;
  supervise?: boolean;
  name?: string;
  totalExecutorCores?: string;
  executorCores?: string;
  executorMemory?: string;
  driverCores?: string;
  driverMemory?: string;
  propertiesFile?: string;
  conf: string[];
  kill?: string;
  status?: string;
}

export function submitCommand(flintHome: string, env: Env = process.env): Command {
  return new Command('submit')
    .description('run an application on a Flint cluster (client mode here, or cluster mode on a worker)')
    .helpOption('-h, --help', 'show this help')
    .usage('--master flint://host:7077 [options] app.ts [app args]')
    .argument('[app]', 'the application: a TypeScript or JavaScript module that calls runApp(main)')
    .argument('[args...]', 'arguments passed to the application')
    .option('--master <url>', 'flint://host:port, or a comma list for standby masters (flint.master); rest://host:6066 for the REST gateway; local, local[N] or local[*] to run in this process')
    .option('--deploy-mode <mode>', 'client (the driver runs here; the default) or cluster (a worker runs it; always with rest://)')
    .option('--supervise', 'cluster mode: relaunch the driver when it fails')
    .option('--name <name>', 'application name (flint.app.name)')
    .option('--total-executor-cores <n>', 'cores for all executors together (flint.cores.max)')
    .option('--executor-cores <n>', 'cores per executor (flint.executor.cores)')
    .option('--executor-memory <mem>', 'memory per executor, e.g. 1g (flint.executor.memory)')
    .option('--driver-cores <n>', 'cluster mode: cores for the driver (flint.driver.cores)')
    .option('--driver-memory <mem>', 'memory for the driver, e.g. 1g (flint.driver.memory)')
    .option('--properties-file <file>', 'properties file (default: conf/flint-defaults.conf)')
    .option('--conf <key=value>', 'a configuration key, repeatable', collect, [])
    .option('--kill <driverId>', 'kill a driver that was submitted in cluster mode')
    .option('--status <driverId>', "print a cluster-mode driver's state")
    .passThroughOptions()
    .action(async (app: string | undefined, args: string[], flags: SubmitFlags) => {
      const conf = submitConf(flags, flintHome, env);
      const master = conf.get('flint.master');
      if (master === undefined || master.trim() === '') {
        throw new ConfigError('--master', 'flint submit needs --master flint://host:port (or flint.master in the properties file)');
      }
      const rest = isRestMaster(master);
      // Local mode (docs/local-mode.md) runs the driver and its executor in this process: there is no cluster to
      // send a driver to or to ask about one (Spark's SparkSubmit refuses cluster mode with a local master too).
      if (isLocalMaster(master)) {
        const cannot = flags.kill !== undefined ? '--kill' : flags.status !== undefined ? '--status' : flags.deployMode === 'cluster' ? '--deploy-mode cluster' : undefined;
        if (cannot !== undefined) throw new ConfigError(cannot, `${cannot} needs a cluster's master (flint://host:port or rest://host:6066), not the local master ${JSON.stringify(master)}`);
      }
      if (flags.kill !== undefined) return void (await (rest ? killOverRest : killDriver)(conf, master, flags.kill));
      if (flags.status !== undefined) return void (await (rest ? statusOverRest : driverStatus)(conf, master, flags.status));
      if (app === undefined) throw new ConfigError('app', 'flint submit needs the application to run: flint submit --master URL app.ts [args]');
      const appPath = resolve(app);
      if (!existsSync(appPath)) throw new ConfigError('app', `the application ${app} does not exist (looked for ${appPath})`);
      const deployMode = flags.deployMode ?? (rest ? 'cluster' : 'client');
      if (rest && deployMode !== 'cluster') throw new ConfigError('--deploy-mode', 'a rest:// master runs drivers in cluster mode only: leave out --deploy-mode or give --deploy-mode cluster');
      if (deployMode === 'cluster') return void (await (rest ? submitOverRest : submitDriver)(conf, master, appPath, args, flags.supervise === true));
      if (deployMode !== 'client') throw new ConfigError('--deploy-mode', `--deploy-mode must be client or cluster, got ${JSON.stringify(deployMode)}`);
      if (flags.supervise === true) throw new ConfigError('--supervise', '--supervise only applies to --deploy-mode cluster');
      await runInThisProcess(conf, appPath, args);
    });
}

/** Properties file < -D words in FLINT_SUBMIT_OPTS < --conf < the dedicated flags. */
function submitConf(flags: SubmitFlags, flintHome: string, env: Env): FlintConf {
  const conf = loadConf({ propertiesFile: flags.propertiesFile, confPairs: flags.conf, optsVariables: ['FLINT_SUBMIT_OPTS'], env, flintHome });
  const set = (key: string, value: string | undefined, check?: (v: string) => void): void => {
    if (value === undefined) return;
    check?.(value);
    conf.set(key, value);
  };
  const inRange = (flag: string, range: IntRange) => (value: string) => void parseIntIn({ value, what: flag }, 0, range, 'a number of cores');
  set('flint.master', flags.master);
  set('flint.app.name', flags.name);
  set('flint.cores.max', flags.totalExecutorCores, inRange('--total-executor-cores', LIMITS.appCores));
  set('flint.executor.cores', flags.executorCores, inRange('--executor-cores', LIMITS.cores));
  set('flint.executor.memory', flags.executorMemory);
  set('flint.driver.cores', flags.driverCores, inRange('--driver-cores', LIMITS.cores));
  set('flint.driver.memory', flags.driverMemory);
  // Values are checked where they are read (FlintConf's getters, against src/protocol/limits.ts); read them now
  // so a bad one, from a flag, --conf or the properties file, fails before anything starts.
  conf.getMemoryMb('flint.executor.memory', '1g');
  conf.getMemoryMb('flint.driver.memory', '1g');
  conf.getInt('flint.cores.max', 1, LIMITS.appCores);
  conf.getInt('flint.executor.cores', 1, LIMITS.cores);
  conf.getInt('flint.driver.cores', 1, LIMITS.cores);
  return conf;
}

/** Client mode: the driver is this process. The app's runApp(main) takes it from here. */
async function runInThisProcess(conf: FlintConf, appPath: string, args: string[]): Promise<void> {
  if (!conf.has('flint.app.name')) conf.set('flint.app.name', appPath.slice(appPath.lastIndexOf('/') + 1));
  const cacheMaxBytes = conf.getSizeBytes(COMPILE_CACHE_MAX_KEY, `${WORKER_CONFIG_DEFAULTS.cleanup.compileCacheMaxBytes}b`, 'b');
  try {
    await launchApp({ appMain: appPath, appArgs: args, conf: conf.entries() });
  } catch (err) {
    throw new FlintError('FLINT_APP_FAILED', `cannot load the application ${appPath}: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
  }
  // Node's compile cache keeps every module it compiled, the app's own among them: a machine that only submits apps
  // has no worker to trim it (src/io/compile-cache/prune.ts), so this does, at most once a day, once the app is done.
  const cacheDir = process.env['NODE_COMPILE_CACHE'];
  if (cacheDir !== undefined && cacheDir !== '') {
    void whenAppDone()
      .then(() => pruneCompileCacheIfDue(cacheDir, cacheMaxBytes))
      .catch((err: unknown) => process.stderr.write(`flint: warning: could not trim Node's compile cache in ${cacheDir}: ${(err as Error).message}\n`));
  }
}

/** The size `flint submit` trims Node's compile cache to, as a worker's sweep does (and with its default). */
const COMPILE_CACHE_MAX_KEY = 'flint.worker.cleanup.compileCacheMaxSize';

/** Cluster mode: bundle the app into one module, then RequestSubmitDriver to the leading master. */
async function submitDriver(conf: FlintConf, master: string, appPath: string, args: string[], supervise: boolean): Promise<void> {
  const bundlePath = await stageBundle(conf, appPath);
  const confArgs = driverConf(conf).flatMap(([k, v]) => ['--conf', `${k}=${v}`]);
  const description: DriverDescription = {
    appResource: pathToFileURL(bundlePath).href,
    memoryMb: conf.getMemoryMb('flint.driver.memory', '1g'),
    cores: conf.getInt('flint.driver.cores', 1, LIMITS.cores),
    supervise,
    ...resourceRequestsField(conf, 'driver', 'resourceReqs'),
    command: {
      mainModule: 'flint:driver',
      arguments: [...confArgs, '--', '{{WORKER_URL}}', '{{USER_JAR}}', ...args],
      environment: {}, // the worker gives the driver its own key on stdin (docs/security.md)
      nodeOptions: [],
    },
  };
  const reply = await askLeader(conf, master, { type: 'RequestSubmitDriver', driverDescription: description });
  if (reply.type !== 'SubmitDriverResponse' || !reply.success || reply.driverId === undefined) {
    throw new FlintError('FLINT_APP_FAILED', `the master refused the driver: ${'message' in reply ? reply.message : reply.type}`);
  }
  process.stdout.write(`Driver successfully submitted as ${reply.driverId}\n`);
  const status = await askLeader(conf, master, { type: 'RequestDriverStatus', driverId: reply.driverId });
  if (status.type === 'DriverStatusResponse' && status.found) process.stdout.write(`State of ${reply.driverId} is ${status.state ?? 'unknown'}\n`);
}

/**
 * Cluster mode through a REST gateway (docs/rest.md): the same bundle and the same driver conf, sent as Spark's
 * CreateSubmissionRequest; the gateway makes them the RequestSubmitDriver `submitDriver` sends.
 */
async function submitOverRest(conf: FlintConf, master: string, appPath: string, args: string[], supervise: boolean): Promise<void> {
  const client = new RestSubmissionClient(conf, master);
  const bundlePath = await stageBundle(conf, appPath);
  // flint.master stays rest://…: the gateway gives the driver its master's RPC URL in its place, as Spark's does.
  const sparkProperties = Object.fromEntries(driverConf(conf));
  if (supervise) sparkProperties['flint.driver.supervise'] = 'true';
  const created = await client.request('POST', 'create', 'CreateSubmissionResponse', {
    action: 'CreateSubmissionRequest',
    clientSparkVersion: FLINT_VERSION,
    appResource: pathToFileURL(bundlePath).href,
    mainClass: 'flint:driver',
    appArgs: args,
    sparkProperties,
    environmentVariables: {},
  });
  const driverId = created['submissionId'];
  if (created['success'] !== true || typeof driverId !== 'string') {
    throw new FlintError('FLINT_APP_FAILED', `the master refused the driver: ${String(created['message'] ?? created.action)}`);
  }
  process.stdout.write(`Driver successfully submitted as ${driverId}\n`);
  const status = await client.request('GET', `status/${encodeURIComponent(driverId)}`, 'SubmissionStatusResponse');
  if (status['success'] === true) process.stdout.write(`State of ${driverId} is ${String(status['driverState'] ?? 'unknown')}\n`);
}

async function killOverRest(conf: FlintConf, master: string, driverId: string): Promise<void> {
  const reply = await new RestSubmissionClient(conf, master).request('POST', `kill/${encodeURIComponent(driverId)}`, 'KillSubmissionResponse');
  process.stdout.write(`${String(reply['message'] ?? reply.action)}\n`);
  if (reply['success'] !== true) process.exitCode = 1;
}

async function statusOverRest(conf: FlintConf, master: string, driverId: string): Promise<void> {
  const reply = await new RestSubmissionClient(conf, master).request('GET', `status/${encodeURIComponent(driverId)}`, 'SubmissionStatusResponse');
  if (reply['success'] !== true) {
    process.stdout.write(`ERROR: Cluster master did not recognize ${driverId}\n`);
    process.exitCode = 1;
    return;
  }
  process.stdout.write(`State of ${driverId} is ${String(reply['driverState'] ?? 'unknown')}\n`);
  if (typeof reply['workerId'] === 'string') process.stdout.write(`Driver running on ${String(reply['workerHostPort'] ?? '?')} (${reply['workerId']})\n`);
  if (typeof reply['message'] === 'string') process.stdout.write(`${reply['message']}\n`);
}

/** The app bundled into one module in the staging dir (flint.submit.stagingDir), named by its hash; its path. */
async function stageBundle(conf: FlintConf, appPath: string): Promise<string> {
  const { bundleApp } = await import('../io/bundle/bundle-app.ts');
  const { openBundleCache } = await import('../io/bundle/bundle-cache.ts');
  const warn = (message: string): void => void process.stderr.write(`WARN: ${message}\n`);
  const bundle = await bundleApp(appPath, { flintEntry: 'external', cache: openBundleCache(conf, warn) });
  if (bundle.cacheError !== undefined) warn(bundle.cacheError);
  const dir = conf.get('flint.submit.stagingDir') ?? join(tmpdir(), 'flint-submit');
  mkdirSync(dir, { recursive: true });
  const bundlePath = join(dir, `${bundle.hash}.mjs`);
  if (!existsSync(bundlePath)) {
    const temp = `${bundlePath}.${process.pid}.tmp`;
    writeFileSync(temp, bundle.code);
    renameSync(temp, bundlePath);
  }
  if (!conf.has('flint.app.name')) conf.set('flint.app.name', appPath.slice(appPath.lastIndexOf('/') + 1));
  return bundlePath;
}

/** The conf a cluster-mode driver is given: no secret (it gets its own key from its worker), the TLS paths it needs. */
function driverConf(conf: FlintConf): Array<[string, string]> {
  // flint.ssl.keyPasswordFile looks secret by its name but is a path: the driver needs it to read its key.
  return [...new Map([...conf.withoutSecrets(), ...sslConfToPassOn(conf)])];
}

async function killDriver(conf: FlintConf, master: string, driverId: string): Promise<void> {
  const reply = await askLeader(conf, master, { type: 'RequestKillDriver', driverId });
  if (reply.type !== 'KillDriverResponse') throw new FlintError('FLINT_APP_FAILED', `unexpected reply ${reply.type}`);
  process.stdout.write(`${reply.message}\n`);
  if (!reply.success) process.exitCode = 1;
}

async function driverStatus(conf: FlintConf, master: string, driverId: string): Promise<void> {
  const reply = await askLeader(conf, master, { type: 'RequestDriverStatus', driverId });
  if (reply.type !== 'DriverStatusResponse') throw new FlintError('FLINT_APP_FAILED', `unexpected reply ${reply.type}`);
  if (!reply.found) {
    process.stdout.write(`ERROR: Cluster master did not recognize ${driverId}\n`);
    process.exitCode = 1;
    return;
  }
  process.stdout.write(`State of ${driverId} is ${reply.state ?? 'unknown'}\n`);
  if (reply.workerId !== undefined) process.stdout.write(`Driver running on ${reply.workerHostPort ?? '?'} (${reply.workerId})\n`);
  if (reply.exception !== undefined) process.stdout.write(`Exception from cluster was: ${reply.exception}\n`);
}

/**
 * Asks every master; the ALIVE one answers with success (a standby refuses: "Can only accept driver
 * submissions in ALIVE state"). Returns the first successful reply, else the last refusal.
 */
async function askLeader(conf: FlintConf, master: string, message: ClientToMaster): Promise<MasterReply> {
  const env = await RpcEnv.create({
    name: 'flintSubmit',
    clientMode: true,
    principal: 'app',
    conf: conf.withAuthenticationWhenSecretGiven(),
    logger: silentLogger,
  });
  try {
    const masters = parseMasterUrls(master).map(formatRpcAddress);
    const errors: string[] = [];
    let refusal: MasterReply | undefined;
    for (const address of masters) {
      try {
        const ref = await env.setupEndpointRef<ClientToMaster>(address, 'Master');
        const reply = await ref.ask(message, { expect: MasterReplies, timeoutMs: conf.getDurationMs('flint.rpc.askTimeout', '30s', 's') });
        if (!('success' in reply) || reply.success || reply.type === 'KillDriverResponse') return reply;
        refusal = reply;
      } catch (err) {
        errors.push(`${address}: ${err instanceof Error ? err.message : String(err)}`);
      }
    }
    if (refusal !== undefined) return refusal;
    throw new FlintError('FLINT_APP_FAILED', `no master answered: ${errors.join('; ')}`);
  } finally {
    await env.shutdown();
  }
}
