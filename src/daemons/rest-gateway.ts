// The master's REST submission gateway (docs/rest.md): Spark's `StandaloneRestServer`, started by the master
// daemon when `flint.master.rest.enabled` is true (off by default, as Spark's since 2.4, SPARK-25088). Reads its
// settings, starts the HTTP server (src/io/http/rest-server.ts) and answers each request through src/rest/ with
// asks the daemon feeds to its master machine.

import { readFileSync } from 'node:fs';
import type { FlintConf } from '../conf/flint-conf.ts';
import { ConfigError } from '../errors.ts';
import { startRestServer, type StartedRestServer } from '../io/http/rest-server.ts';
import type { SslOptions } from '../io/tls/ssl-options.ts';
import type { MasterAsk, MasterReplyMessage } from '../master/index.ts';
import { LIMITS } from '../protocol/limits.ts';
import { answerRestRequest } from '../rest/rest-gateway.ts';
import type { GatewayMaster } from '../rest/driver-submission.ts';
import type { RpcSettings } from '../rpc/rpc-env.ts';
import { sourcePath } from '../util/install.ts';
import type { Logger } from '../util/logger.ts';

/** `flint.master.rest.port`'s default: Spark's `spark.master.rest.port`. */
export const DEFAULT_REST_PORT = 6066;

export interface RestSettings {
  readonly port: number;
  /** `flint.master.rest.host`; the master's bind host when not set. */
  readonly host: string | undefined;
}

/**
 * `flint.master.rest.enabled` (false), `flint.master.rest.port` (6066), `flint.master.rest.host`. Undefined when
 * the gateway is off. On, it needs the cluster secret: a request proves a token derived from it, and a gateway
 * with nothing to check would let anyone start a driver (CVE-2018-11770).
 */
export function readRestSettings(conf: FlintConf, rpc: RpcSettings): RestSettings | undefined {
  if (!conf.getBoolean('flint.master.rest.enabled', false)) return undefined;
  const port = conf.getInt('flint.master.rest.port', DEFAULT_REST_PORT, LIMITS.bindPort);
  if (rpc.secret === undefined) {
    throw new ConfigError(
      'flint.master.rest.enabled',
      'flint.master.rest.enabled=true needs authentication (flint.authenticate=true with flint.authenticate.secret.file): every REST request must carry a token derived from a secret (docs/rest.md)',
    );
  }
  const host = conf.get('flint.master.rest.host');
  return { port, host: host === undefined || host.trim() === '' ? undefined : host.trim() };
}

export interface RestGatewayOptions {
  readonly settings: RestSettings;
  readonly rpc: RpcSettings;
  /** The master's bind host, used when flint.master.rest.host is not set. */
  readonly host: string;
  readonly maxRetries: number;
  readonly tls: SslOptions | undefined;
  readonly logger: Logger;
  /** The master as the gateway describes it to drivers; known once the master has bound every port. */
  readonly master: () => GatewayMaster | undefined;
  readonly ask: (message: MasterAsk) => Promise<MasterReplyMessage>;
}

export async function startRestGateway(opts: RestGatewayOptions): Promise<StartedRestServer> {
  const { secret, appSecret } = opts.rpc;
  if (secret === undefined) throw new Error('the REST gateway needs the cluster secret (readRestSettings checks it)');
  const serverVersion = flintVersion();
  const server = await startRestServer({
    host: opts.settings.host ?? opts.host,
    port: opts.settings.port,
    maxRetries: opts.maxRetries,
    tls: opts.tls,
    logger: opts.logger,
    secret,
    appSecret: appSecret ?? secret,
    serverVersion,
    answer: async (request) => {
      const master = opts.master();
      if (master === undefined) {
        return { status: 503, body: { action: 'ErrorResponse', serverSparkVersion: serverVersion, message: 'The master is starting; retry in a moment.' } };
      }
      return answerRestRequest(request, { serverVersion, master, ask: opts.ask });
    },
  });
  opts.logger.info({ restPort: server.port, scheme: server.scheme }, `REST submission gateway listening on port ${server.port}`);
  return server;
}

let version: string | undefined;

/** Flint's version (package.json), sent as `serverSparkVersion`. */
function flintVersion(): string {
  version ??= (JSON.parse(readFileSync(sourcePath('package.json'), 'utf8')) as { version: string }).version;
  return version;
}
