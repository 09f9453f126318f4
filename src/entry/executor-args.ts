// The executor program's command line (Spark's CoarseGrainedExecutorBackend arguments, reference §7.3): what
// the worker substitutes into the application's executor command. Parsing is pure: the host name to fall back
// on is passed in. A bad or missing argument is a ConfigError naming the flag.

import { parseArgs } from 'node:util';
import { isAbsolute } from 'node:path';
import { Value } from '@sinclair/typebox/value';
import { isSecretKey } from '../conf/flint-conf.ts';
import { parseConfPair } from '../conf/load-conf.ts';
import { ConfigError } from '../errors.ts';
import type { ExecutorLaunchArgs } from '../executor/index.ts';
import { LIMITS, outOfRange } from '../protocol/limits.ts';
import { ResourceAddresses } from '../protocol/messages.ts';
import { isClientEnvId, parseEndpointAddress } from '../rpc/address.ts';

/**
 * `--driver-url` (`flint://CoarseGrainedScheduler@host:port`), `--executor-id`, `--hostname` (default: this
 * machine's host name, as in Spark), `--cores` (the thread pool's size), `--app-id`, and `--worker-url`
 * (`flint://Worker@host:port`; when given, the executor shares its worker's fate through stdin).
 */
export type ExecutorArgs = Omit<ExecutorLaunchArgs, 'executorAddress' | 'logUrls' | 'resources'>;

/** The variable through which the worker gives an executor its custom-resource addresses (src/worker/process-specs.ts). */
export const RESOURCES_ENV_VAR = 'FLINT_RESOURCES';

/** The variable through which the worker names its executors' shared bundle directory (APP_CODE_DIR_ENV there). */
export const APP_CODE_DIR_ENV_VAR = 'FLINT_APP_CODE_DIR';

/** The shared bundle directory from `FLINT_APP_CODE_DIR`: an absolute path, else undefined (the app's own dir is used). */
export function appCodeDirFromEnv(value: string | undefined): string | undefined {
  return value !== undefined && isAbsolute(value) ? value : undefined;
}

/**
 * The executor's addresses from `FLINT_RESOURCES` (JSON, name → addresses, as the worker writes it): undefined
 * when unset or empty. Anything else than the wire's `ResourceAddresses` (bounded names and addresses) is a
 * ConfigError naming the variable, so the executor exits 1 at once instead of registering with garbage.
 */
export function parseResourcesEnv(text: string | undefined): ResourceAddresses | undefined {
  if (text === undefined || text.trim() === '') return undefined;
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new ConfigError(RESOURCES_ENV_VAR, `${RESOURCES_ENV_VAR} is not JSON (${(err as Error).message}); expected {"gpu": ["0", "1"], …}`);
  }
  if (!Value.Check(ResourceAddresses, value)) {
    const first = [...Value.Errors(ResourceAddresses, value)][0];
    const where = first === undefined ? '' : ` at ${first.path === '' ? '/' : first.path}: ${first.message}`;
    throw new ConfigError(RESOURCES_ENV_VAR, `${RESOURCES_ENV_VAR} is malformed${where}; expected {"gpu": ["0", "1"], …} (at most ${LIMITS.resourceNames.max} names, ${LIMITS.resourceAddresses.max} distinct addresses each)`);
  }
  return Object.keys(value).length === 0 ? undefined : value;
}

/**
 * The command line: the arguments, and `--conf key=value` pairs the driver passes for the executor's own RPC
 * envs before it can ask for the application's conf (Spark's executor startup confs): the `flint.ssl.*` block.
 * Only `flint.ssl.*` (or `spark.ssl.*`) keys are taken; a secret never travels on a command line.
 */
export interface ExecutorCommandLine extends ExecutorArgs {
  readonly startupConf?: ReadonlyArray<readonly [string, string]>;
}

export const EXECUTOR_USAGE = `usage: node src/entry/executor.ts --driver-url flint://CoarseGrainedScheduler@HOST:PORT
         --executor-id ID --cores N --app-id APP_ID [--hostname HOST] [--worker-url flint://Worker@HOST:PORT]
Its credential, when the cluster authenticates, is the first line on stdin, written there by the worker.`;

/** Longest id the wire schemas accept (task-messages.ts `Id`). */
const MAX_ID_CHARS = 512;

function endpointUrl(flag: string, value: string): string {
  let env: string;
  try {
    env = parseEndpointAddress(value).env;
  } catch (err) {
    throw new ConfigError(flag, `${flag}: ${(err as Error).message}`);
  }
  if (isClientEnvId(env)) throw new ConfigError(flag, `${flag} ${value} is a client-mode address, which cannot be dialed`);
  return value;
}

function id(flag: string, value: string | undefined): string {
  if (value === undefined || value.length === 0) throw new ConfigError(flag, `${flag} is required`);
  if (value.length > MAX_ID_CHARS) throw new ConfigError(flag, `${flag} is longer than ${MAX_ID_CHARS} characters`);
  return value;
}

function startupPair(pair: string): [string, string] {
  const [key, value] = parseConfPair(pair);
  if (!/^(flint|spark)\.ssl\./.test(key) || isSecretKey(key.replace(/PasswordFile$/, ''))) {
    throw new ConfigError('--conf', `--conf ${key}: an executor takes only flint.ssl.* settings on its command line (no secrets); the rest comes from the driver`);
  }
  return [key, value];
}

/** Parses `argv` (without node and the script). Throws ConfigError with a message naming the flag. */
export function parseExecutorArgs(argv: readonly string[], localHostname: string): ExecutorCommandLine {
  let values: Record<string, string | undefined>;
  let confPairs: string[] | undefined;
  try {
    const { values: parsed } = parseArgs({
      args: [...argv],
      strict: true,
      allowPositionals: false,
      options: {
        'driver-url': { type: 'string' },
        'executor-id': { type: 'string' },
        hostname: { type: 'string' },
        cores: { type: 'string' },
        'app-id': { type: 'string' },
        'worker-url': { type: 'string' },
        // Spark's flag for {{RESOURCE_PROFILE_ID}}; Flint has only the default profile (0).
        resourceProfileId: { type: 'string' },
        conf: { type: 'string', multiple: true },
      },
    }) as { values: Record<string, string | string[] | undefined> };
    confPairs = parsed['conf'] as string[] | undefined;
    values = Object.fromEntries(Object.entries(parsed).filter(([key]) => key !== 'conf')) as Record<string, string | undefined>;
  } catch (err) {
    throw new ConfigError('arguments', (err as Error).message);
  }
  const driverUrl = values['driver-url'];
  if (driverUrl === undefined) throw new ConfigError('--driver-url', '--driver-url is required');
  const coresText = values['cores'];
  if (coresText === undefined) throw new ConfigError('--cores', '--cores is required');
  const cores = /^[0-9]{1,16}$/.test(coresText) ? Number(coresText) : NaN;
  if (outOfRange(cores, LIMITS.cores) !== undefined) {
    const { min, max } = LIMITS.cores;
    throw new ConfigError('--cores', `--cores ${JSON.stringify(coresText)} is not a whole number of at least ${min} and at most ${max}`);
  }
  const profile = values['resourceProfileId'];
  if (profile !== undefined && profile !== '0') {
    throw new ConfigError('--resourceProfileId', `--resourceProfileId ${JSON.stringify(profile)}: Flint has only the default profile 0`);
  }
  const workerUrl = values['worker-url'];
  const hostname = values['hostname'] ?? localHostname;
  if (hostname.length === 0) throw new ConfigError('--hostname', '--hostname must not be empty');
  return {
    driverUrl: endpointUrl('--driver-url', driverUrl),
    executorId: id('--executor-id', values['executor-id']),
    hostname,
    cores,
    appId: id('--app-id', values['app-id']),
    ...(workerUrl === undefined ? {} : { workerUrl: endpointUrl('--worker-url', workerUrl) }),
    ...(confPairs === undefined ? {} : { startupConf: confPairs.map(startupPair) }),
  };
}
