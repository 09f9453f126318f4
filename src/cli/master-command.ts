// `flint master [options]`: runs a master daemon in the foreground until SIGTERM/SIGINT.

import { Command } from 'commander';
import { loadConf } from '../conf/load-conf.ts';
import { warnOfUnknownKeys } from './conf-warnings.ts';
import { createLogger } from '../util/logger.ts';
import { collect, parseHost, parsePort, pick, requireAuthenticationByDefault, stopOnSignals, type Env } from './daemon-options.ts';

interface MasterFlags {
  host?: string;
  port?: string;
  webuiPort?: string;
  propertiesFile?: string;
  conf: string[];
}

export function masterCommand(flintHome: string, env: Env = process.env): Command {
  return new Command('master')
    .description('run a master daemon: workers register with it, apps and drivers are scheduled by it')
    .helpOption('--help', 'show this help')
    .option('-h, --host <host>', 'host to bind and advertise (FLINT_MASTER_HOST; default: this host name)')
    .option('-p, --port <port>', 'RPC port, 0 for any (FLINT_MASTER_PORT; default 7077)')
    .option('--webui-port <port>', 'web UI port, 0 for any (FLINT_MASTER_WEBUI_PORT; default 8080)')
    .option('--properties-file <file>', 'properties file (default: conf/flint-defaults.conf)')
    .option('--conf <key=value>', 'a configuration key, repeatable', collect, [])
    .action(async (flags: MasterFlags) => {
      const signals = stopOnSignals();
      const conf = loadConf({ propertiesFile: flags.propertiesFile, confPairs: flags.conf, optsVariables: ['FLINT_DAEMON_OPTS', 'FLINT_MASTER_OPTS'], env, flintHome });
      warnOfUnknownKeys(conf);
      const host = parseHost(pick(flags.host, '--host', env, 'FLINT_MASTER_HOST'));
      const portGiven = pick(flags.port, '--port', env, 'FLINT_MASTER_PORT');
      const port = parsePort(portGiven, 7077);
      const webUiPort = parsePort(pick(flags.webuiPort, '--webui-port', env, 'FLINT_MASTER_WEBUI_PORT'), 8080);
      const logger = createLogger('master');
      requireAuthenticationByDefault(conf, logger);
      const publicHost = env['FLINT_PUBLIC_DNS'] || host;
      const { startMasterDaemon } = await import('../daemons/master-daemon.ts');
      const { createRecoveryMode } = await import('../daemons/recovery-mode.ts');
      // Built before anything binds, so a bad recovery key fails fast; the daemon closes both on shutdown.
      const { mode, store, election } = await createRecoveryMode(conf, logger);
      const daemon = await startMasterDaemon({ conf, logger, host, publicHost, port, retryRpcPort: portGiven === undefined, webUiPort, store, election }).catch(async (err: unknown) => {
        await election.close();
        await store.close();
        throw err;
      });
      logger.info(
        {
          masterUrl: daemon.masterUrl,
          webUiUrl: daemon.webUiUrl,
          rpcPort: daemon.rpcPort,
          webUiPort: daemon.webUiPort,
          ...(daemon.restPort === undefined ? {} : { restPort: daemon.restPort }),
          recoveryMode: mode,
        },
        `Master started at ${daemon.masterUrl} (web UI ${daemon.webUiUrl})`,
      );
      signals.attach(daemon);
      process.exitCode = await daemon.exited;
    });
}
