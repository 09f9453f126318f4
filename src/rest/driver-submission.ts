// A CreateSubmissionRequest made into the master's RequestSubmitDriver: Spark's
// `StandaloneRestServer.buildDriverDescription` (reference §12.4), for a Flint driver. Pure: the gateway
// checks the body's schema first (src/protocol/rest-messages.ts), calls this, then asks the master with the
// message it returns, exactly as `flint submit --deploy-mode cluster` does over RPC (src/cli/submit-command.ts),
// so the master's machine stays the one place that decides.
//
// What a driver gets, as `flint submit` gives it: `node flint:driver --conf k=v … -- {{WORKER_URL}} {{USER_JAR}}
// <appArgs>`, with the request's sparkProperties as the `--conf` pairs and its environmentVariables as the
// process's environment.

import { resourceRequests } from '../conf/resource-requests.ts';
import type { ResourceRequest } from '../protocol/messages.ts';
import { FlintConf, isSecretKey } from '../conf/flint-conf.ts';
import { ConfigError } from '../errors.ts';
import { ClientToMaster, type DriverDescription } from '../protocol/messages.ts';
import { LIMITS } from '../protocol/limits.ts';
import type { CreateSubmissionRequest, FieldError } from '../protocol/rest-messages.ts';

/** The only main module a submitted driver may name: Flint's driver program on the worker (src/entry/driver.ts). */
export const DRIVER_MAIN_MODULE = 'flint:driver';

/** What the gateway knows of its master when it translates a request. */
export interface GatewayMaster {
  /** The master's RPC URL (`flint://host:7077`): the driver's `flint.master` when the request names none. */
  readonly masterUrl: string;
  readonly rpcPort: number;
  /** The gateway's own port: a `flint.master` naming it is rewritten to the RPC port, as Spark does. */
  readonly restPort: number;
}

export type RequestSubmitDriver = Extract<ClientToMaster, { type: 'RequestSubmitDriver' }>;

export type DriverSubmission = { readonly ok: true; readonly message: RequestSubmitDriver } | ({ readonly ok: false } & FieldError);

/** Spark drops these from a submitted driver's environment (they name the submitting host, not the worker). */
const DROPPED_ENV = new Set(['SPARK_LOCAL_IP', 'SPARK_LOCAL_HOSTNAME', 'FLINT_LOCAL_IP', 'FLINT_LOCAL_HOSTNAME']);

const MASTER_KEYS = ['flint.master', 'spark.master'] as const;

export function driverSubmission(request: CreateSubmissionRequest, master: GatewayMaster): DriverSubmission {
  if (request.mainClass !== undefined && request.mainClass !== DRIVER_MAIN_MODULE) {
    return refuse('mainClass', `Flint runs every driver with ${DRIVER_MAIN_MODULE}; leave mainClass out or set it to ${DRIVER_MAIN_MODULE} (got ${JSON.stringify(request.mainClass.slice(0, 100))})`);
  }
  const props = Object.entries(request.sparkProperties);
  const secretKey = props.find(([key]) => isSecretKey(key) && !/file$/i.test(key))?.[0];
  if (secretKey !== undefined) {
    return refuse(`sparkProperties.${secretKey}`, 'a secret must not be sent to a driver: it would show on its command line. The worker gives the driver its own credential');
  }
  const env = Object.entries(request.environmentVariables ?? {}).filter(([name]) => !DROPPED_ENV.has(name));
  const secretEnv = env.find(([name]) => isSecretKey(name))?.[0];
  if (secretEnv !== undefined) {
    return refuse(`environmentVariables.${secretEnv}`, 'a secret must not be sent to a driver: the worker gives the driver its own credential');
  }
  const conf = new FlintConf(props);
  if (!conf.has('flint.app.name')) {
    return refuse('sparkProperties.spark.app.name', "is required but missing: the application's name (spark.app.name or flint.app.name)");
  }
  const resources = driverResources(conf, request.sparkProperties);
  if (!resources.ok) return resources;
  const confPairs = [
    ...props.filter(([key]) => !(MASTER_KEYS as readonly string[]).includes(key)),
    ['flint.master', driverMasterUrl(conf.get('flint.master'), master)] as const,
  ];
  const description: DriverDescription = {
    appResource: request.appResource,
    memoryMb: resources.memoryMb,
    cores: resources.cores,
    supervise: resources.supervise,
    ...(resources.resourceReqs.length === 0 ? {} : { resourceReqs: resources.resourceReqs }),
    command: {
      mainModule: DRIVER_MAIN_MODULE,
      arguments: [...confPairs.flatMap(([k, v]) => ['--conf', `${k}=${v}`]), '--', '{{WORKER_URL}}', '{{USER_JAR}}', ...(request.appArgs ?? [])],
      environment: Object.fromEntries(env),
      nodeOptions: [],
    },
  };
  const message: RequestSubmitDriver = { type: 'RequestSubmitDriver', driverDescription: description };
  // The same check the master's RPC edge makes: what this builds must be a message the master would take.
  const checked = ClientToMaster.check(message);
  if (!checked.ok) return refuse('(request)', `the driver this request describes is too large for the master: ${checked.reason}`);
  return { ok: true, message };
}

type Resources = { ok: true; memoryMb: number; cores: number; supervise: boolean; resourceReqs: ResourceRequest[] } | ({ ok: false } & FieldError);

/**
 * Spark's type checks of a create request (`CreateSubmissionRequest.assertProperty`): supervise a boolean,
 * cores whole numbers, memory sizes such as 512m or 2g. Defaults as Spark's: 1 core, 1024 MB, no supervision.
 */
function driverResources(conf: FlintConf, given: Readonly<Record<string, string>>): Resources {
  try {
    conf.getInt('flint.cores.max', 1, LIMITS.appCores);
    conf.getMemoryMb('flint.executor.memory', '1g');
    return {
      ok: true,
      supervise: conf.getBoolean('flint.driver.supervise', false),
      cores: conf.getInt('flint.driver.cores', 1, LIMITS.cores),
      memoryMb: conf.getMemoryMb('flint.driver.memory', '1g'),
      resourceReqs: resourceRequests(conf, 'driver'),
    };
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    // The key as the request spelled it: `spark.driver.memory` when it gave that one.
    const sparkKey = err.key.replace(/^flint\./, 'spark.');
    const key = Object.hasOwn(given, err.key) ? err.key : sparkKey;
    return refuse(`sparkProperties.${key}`, err.message.replace(err.key, key));
  }
}

/**
 * The `flint.master` the driver is given: Spark's rewrite of `spark.master` in `buildDriverDescription`
 * (`:<restPort>` becomes `:<rpcPort>`), with the `rest://` scheme made `flint://`; the master's own URL when
 * the request names none.
 */
export function driverMasterUrl(given: string | undefined, master: GatewayMaster): string {
  if (given === undefined || given.trim() === '') return master.masterUrl;
  return given
    .split(',')
    .map((url) => url.trim().replace(/^rest:\/\//, 'flint://').replace(new RegExp(`:${master.restPort}$`), `:${master.rpcPort}`))
    .join(',');
}

function refuse(field: string, message: string): { ok: false } & FieldError {
  return { ok: false, field, message: `${field}: ${message}` };
}
