// `flint worker <master-url> [options]`: runs a worker daemon in the foreground until SIGTERM/SIGINT.

import { availableParallelism, constants, totalmem } from 'node:os';
import { join } from 'node:path';
import { Command } from 'commander';
import { loadConf } from '../conf/load-conf.ts';
import { warnOfUnknownKeys } from './conf-warnings.ts';
import type { FlintConf } from '../conf/flint-conf.ts';
import { ConfigError } from '../errors.ts';
import { parseMasterUrls, formatRpcAddress } from '../rpc/address.ts';
import { LIMITS } from '../protocol/limits.ts';
import { createLogger } from '../util/logger.ts';
import { collect, parseHost, requireAuthenticationByDefault, parseMemoryMb, parseCores, parsePort, pick, stopOnSignals, type Env } from './daemon-options.ts';

interface WorkerFlags {
  cores?: string;
  memory?: string;
  workDir?: string;
  host?: string;
  port?: string;
  webuiPort?: string;
  propertiesFile?: string;
  conf: string[];
}

/** `flint.worker.decommission.signal` (Spark's `spark.worker.decommission.signal`): a signal name, `PWR` by default. */
export function readDecommissionSignal(conf: FlintConf): NodeJS.Signals {
  const raw = conf.getString('flint.worker.decommission.signal', 'PWR').trim().toUpperCase();
  const name = raw.startsWith('SIG') ? raw : `SIG${raw}`;
  const refused = new Set(['SIGKILL', 'SIGSTOP', 'SIGTERM', 'SIGINT']);
  if (!(name in constants.signals) || refused.has(name)) {
    throw new ConfigError(
      'flint.worker.decommission.signal',
      `flint.worker.decommission.signal=${JSON.stringify(raw)} is not a signal the worker can take for decommissioning; expected a name such as PWR or USR2 (not KILL, STOP, TERM or INT)`,
    );
  }
  return name as NodeJS.Signals;
}

/** Spark's default: all memory less 1 GiB, at least 1 GiB. */
export function defaultWorkerMemoryMb(totalBytes = totalmem()): number {
  return Math.min(Math.max(Math.floor(totalBytes / (1024 * 1024)) - 1024, 1024), LIMITS.memoryMb.max);
}

export function workerCommand(flintHome: string, env: Env = process.env): Command {
  return new Command('worker')
    .description('run a worker daemon that registers with the master(s) and launches executors and drivers')
    .argument('<master-url>', 'flint://host:port, or a comma list flint://h1:7077,h2:7077 for standby masters')
    .helpOption('--help', 'show this help')
    .option('-c, --cores <n>', 'cores to offer (FLINT_WORKER_CORES; default: all)')
    .option('-m, --memory <mem>', 'memory to offer, e.g. 1000m or 2g (FLINT_WORKER_MEMORY; default: total less 1g)')
    .option('-d, --work-dir <dir>', 'directory for executor and driver files (FLINT_WORKER_DIR; default: <flint>/work)')
    .option('-h, --host <host>', 'host to bind and advertise (FLINT_WORKER_HOST; default: this host name)')
    .option('-p, --port <port>', 'RPC port, 0 for any (FLINT_WORKER_PORT; default 0)')
    .option('--webui-port <port>', 'web UI port (FLINT_WORKER_WEBUI_PORT; default 8081)')
    .option('--properties-file <file>', 'properties file (default: conf/flint-defaults.conf)')
    .option('--conf <key=value>', 'a configuration key, repeatable', collect, [])
    .action(async (masterUrl: string, flags: WorkerFlags) => {
      const signals = stopOnSignals();
      const masters = parseMasterUrls(masterUrl).map(formatRpcAddress);
      const conf = loadConf({ propertiesFile: flags.propertiesFile, confPairs: flags.conf, optsVariables: ['FLINT_DAEMON_OPTS', 'FLINT_WORKER_OPTS'], env, flintHome });
      warnOfUnknownKeys(conf);
      const base = {
        host: parseHost(pick(flags.host, '--host', env, 'FLINT_WORKER_HOST')),
        port: parsePort(pick(flags.port, '--port', env, 'FLINT_WORKER_PORT'), 0),
        webUiPort: parsePort(pick(flags.webuiPort, '--webui-port', env, 'FLINT_WORKER_WEBUI_PORT'), 8081),
        cores: parseCores(pick(flags.cores, '--cores', env, 'FLINT_WORKER_CORES'), Math.min(availableParallelism(), LIMITS.cores.max)),
        memoryMb: parseMemoryMb(pick(flags.memory, '--memory', env, 'FLINT_WORKER_MEMORY'), defaultWorkerMemoryMb()),
        workDir: pick(flags.workDir, '--work-dir', env, 'FLINT_WORKER_DIR')?.value ?? join(flintHome, 'work'),
        masterUrls: masters,
      };
      // Spark's Worker.publicAddress: SPARK_PUBLIC_DNS, else the host; the name put in the web UI's URL (which the
      // master shows and links to) and in the executors' log URLs. The worker still binds and registers on --host.
      const publicDns = pick(undefined, 'FLINT_PUBLIC_DNS', env, 'FLINT_PUBLIC_DNS');
      const withPublic = publicDns === undefined || publicDns.value.trim() === '' ? base : { ...base, publicAddress: parseHost(publicDns) };
      const logger = createLogger('worker');
      requireAuthenticationByDefault(conf, logger);
      const decommissionSignal = readDecommissionSignal(conf); // a bad one stops the worker before it starts
      const daemon = await (await import('../daemons/worker-daemon.ts')).startWorkerDaemon({ conf, logger, base: withPublic });
      logger.info(
        { workerId: daemon.workerId, rpcPort: daemon.rpcPort, webUiPort: daemon.webUiPort, cores: base.cores, memoryMb: base.memoryMb },
        `Worker ${daemon.workerId} started on ${base.host}:${daemon.rpcPort} (web UI port ${daemon.webUiPort})`,
      );
      // Spark's Worker.onStart: the decommission signal (flint.worker.decommission.signal, PWR) drains the worker;
      // with flint.decommission.enabled the first SIGTERM does too, and the worker exits once drained.
      process.on(decommissionSignal, () => void daemon.decommission(false));
      const drainOnTerm = conf.getBoolean('flint.decommission.enabled', false);
      signals.attach(daemon, drainOnTerm ? { onFirstSigterm: () => void daemon.decommission(true) } : {});
      process.exitCode = await daemon.exited;
    });
}
