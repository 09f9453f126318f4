// Building the processes a worker runs (Spark's ExecutorRunner / DriverRunner + CommandUtils, reference §6.4,
// §6.5), as data. A `Command` runs as `node [nodeOptions] mainModule arguments` with `environment` added.
//
// A main module `flint:<entry>` names a program of the worker's OWN Flint install (`WorkerConfig.flintHome`),
// so an application never has to know where Flint lives on a worker: `flint:executor` runs
// `<flintHome>/src/entry/executor.ts`, `flint:driver` `<flintHome>/src/entry/driver.ts` (or, for a worker that
// runs from a build, that build's executor.mjs and driver.mjs: `WorkerConfig.flintEntries`). Any other `flint:` name
// cannot be launched: the builders return an error, which the machine reports as a failed launch. Other main
// modules (paths) are run as given.
//
// Placeholders, as Spark substitutes them:
//   - in `arguments`, a WHOLE argument equal to a placeholder is replaced; other arguments are left as they are.
//     Executors: {{WORKER_URL}} {{EXECUTOR_ID}} {{HOSTNAME}} {{CORES}} {{APP_ID}} {{RESOURCE_PROFILE_ID}}.
//     Drivers: {{WORKER_URL}} {{USER_JAR}}.
//   - in executor `nodeOptions` (Spark's javaOpts), the substrings {{APP_ID}} and {{EXECUTOR_ID}}.

import { isSecretKey, REDACTED } from '../conf/flint-conf.ts';
import type { ApplicationDescription, Command, DriverDescription, ResourceAddresses } from '../protocol/messages.ts';
import { PROGRAMS } from '../util/programs.ts';
import type { WorkerConfig } from './worker-config.ts';
import type { DriverLaunchSpec, ExecutorLaunchSpec } from './worker-effect.ts';


/** The programs a `flint:<entry>` main module may name, relative to the Flint home, in the sources. */
export const FLINT_ENTRIES: Readonly<Record<string, string>> = { executor: PROGRAMS.executor, driver: PROGRAMS.driver };

const FLINT_SCHEME = 'flint:';

/** A spec to launch, or why it cannot be launched (reported as the launch's failure). */
export type Built<S> = { readonly ok: true; readonly spec: S } | { readonly ok: false; readonly error: string };

/** The program to run for `mainModule`: a `flint:<entry>` resolved in `flintHome`, anything else as given. */
export function resolveMainModule(
  mainModule: string,
  flintHome: string | undefined,
  entries: Readonly<Record<string, string>> = FLINT_ENTRIES,
): { readonly ok: true; readonly path: string } | { readonly ok: false; readonly error: string } {
  if (!mainModule.startsWith(FLINT_SCHEME)) return { ok: true, path: mainModule };
  const entry = mainModule.slice(FLINT_SCHEME.length);
  const known = Object.keys(entries);
  const relative = Object.hasOwn(entries, entry) ? entries[entry] : undefined;
  if (relative === undefined) {
    return {
      ok: false,
      error: `Unknown Flint program "${mainModule}": a main module "flint:<name>" must name one of ${known.map((k) => `flint:${k}`).join(', ')}`,
    };
  }
  if (flintHome === undefined) {
    return { ok: false, error: `Cannot run "${mainModule}": this worker does not know its Flint home` };
  }
  return { ok: true, path: joinPath(flintHome, relative) };
}

/** `a/b` joined with exactly one `/`. */
export function joinPath(dir: string, ...parts: string[]): string {
  return [dir.replace(/\/+$/, ''), ...parts].join('/');
}

export function executorProcessKey(appId: string, execId: number): string {
  return `executor:${appId}/${execId}`;
}

export function driverProcessKey(driverId: string): string {
  return `driver:${driverId}`;
}

/** Replaces whole arguments that are exactly a known placeholder. */
export function substituteArguments(args: readonly string[], values: Readonly<Record<string, string>>): string[] {
  return args.map((arg) => (Object.hasOwn(values, arg) ? (values[arg] as string) : arg));
}

/** `key=value` arguments and environment entries whose key looks secret lose their value (for logs and UIs). */
export function redactArgument(arg: string): string {
  const eq = arg.indexOf('=');
  return eq > 0 && isSecretKey(arg.slice(0, eq)) ? `${arg.slice(0, eq + 1)}${REDACTED}` : arg;
}

function quoted(argv: readonly string[]): string {
  return argv.map((arg) => `"${redactArgument(arg)}"`).join(' ');
}

/** `<title>: "<argv…>"`, a line of 40 `=`, a blank line: the top of the process's stderr file. */
export function stderrHeader(title: string, argv: readonly string[]): string {
  return `${title}: ${quoted(argv)}\n${'='.repeat(40)}\n\n`;
}

/** Spark's `Command.toString`, for the worker's `/json`. Secret-looking environment values are redacted. */
export function describeCommand(command: Command): string {
  const env = Object.entries(command.environment)
    .map(([key, value]) => `${key}=${isSecretKey(key) ? REDACTED : value}`)
    .join(', ');
  return (
    `Command(${command.mainModule},List(${command.arguments.join(', ')}),Map(${env}),` +
    `List(${command.nodeOptions.map(redactArgument).join(', ')}))`
  );
}

export interface ExecutorLaunch {
  readonly appId: string;
  readonly execId: number;
  readonly appDesc: ApplicationDescription;
  readonly cores: number;
  readonly memoryMb: number;
  readonly resources?: ResourceAddresses | undefined;
  /** The CPUs to bind it to (cpu-binding.ts); absent: not bound. */
  readonly cpus?: readonly number[] | undefined;
}

/** The env var through which an executor or driver learns its custom-resource addresses: JSON, name → addresses. */
export const RESOURCES_ENV = 'FLINT_RESOURCES';

/**
 * What a process holding `resources` gets in its environment: `FLINT_RESOURCES` (JSON; Spark writes a resources
 * file and passes `--resourcesFile` instead) and, with gpus, `CUDA_VISIBLE_DEVICES` set to them, so CUDA programs
 * see only their own devices. The addresses passed the wire schema: no commas, spaces or quotes.
 */
export function resourceEnvironment(resources: ResourceAddresses | undefined): Record<string, string> {
  if (resources === undefined || Object.keys(resources).length === 0) return {};
  const gpus = resources['gpu'];
  return { [RESOURCES_ENV]: JSON.stringify(resources), ...(gpus === undefined ? {} : { CUDA_VISIBLE_DEVICES: gpus.join(',') }) };
}

/**
 * The directory under the work dir where a worker's executors keep the application bundles they fetch, shared by
 * all applications (src/io/executor/load-app-code.ts), and the variable that tells an executor its path.
 */
export const APP_CODE_DIR = '.app-code';
export const APP_CODE_DIR_ENV = 'FLINT_APP_CODE_DIR';

/** The executor's process: dir `<workDir>/<appId>/<execId>/`, logs `stdout`/`stderr` in it. */
export function buildExecutorSpec(
  config: WorkerConfig,
  worker: { readonly workerAddress: string; readonly workerWebUiUrl: string },
  launch: ExecutorLaunch,
): Built<ExecutorLaunchSpec> {
  const { appId, execId, appDesc } = launch;
  const command = appDesc.command;
  const program = resolveMainModule(command.mainModule, config.flintHome, config.flintEntries);
  if (!program.ok) return program;
  const id = String(execId);
  // `--executor-memory` is the heap's limit, as Spark's -Xmx (docs/shuffles.md, "Memory"); an app's own
  // --max-old-space-size in flint.executor.extraNodeOptions comes later and wins.
  const nodeOptions = [`--max-old-space-size=${launch.memoryMb}`, ...command.nodeOptions].map((opt) =>
    opt.replaceAll('{{APP_ID}}', appId).replaceAll('{{EXECUTOR_ID}}', id),
  );
  const args = substituteArguments(command.arguments, {
    '{{WORKER_URL}}': worker.workerAddress,
    '{{EXECUTOR_ID}}': id,
    '{{HOSTNAME}}': config.host,
    '{{CORES}}': String(launch.cores),
    '{{APP_ID}}': appId,
    '{{RESOURCE_PROFILE_ID}}': '0',
  });
  const argv = [config.nodeExecutable, ...nodeOptions, program.path, ...args];
  const cwd = joinPath(config.workDir, appId, id);
  const logUrl = (logType: string): string =>
    `${worker.workerWebUiUrl}/logPage/?appId=${encodeURIComponent(appId)}&executorId=${id}&logType=${logType}`;
  const spec: ExecutorLaunchSpec = {
    processKey: executorProcessKey(appId, execId),
    appId,
    execId,
    cores: launch.cores,
    memoryMb: launch.memoryMb,
    argv,
    env: {
      ...command.environment,
      FLINT_LOG_URL_STDOUT: logUrl('stdout'),
      FLINT_LOG_URL_STDERR: logUrl('stderr'),
      ...resourceEnvironment(launch.resources),
      // After the app's environment: an app cannot point its executors at another directory.
      [APP_CODE_DIR_ENV]: joinPath(config.workDir, APP_CODE_DIR),
    },
    cwd: `${cwd}/`,
    cwdMustBeNew: true,
    stdoutPath: joinPath(cwd, 'stdout'),
    stderrPath: joinPath(cwd, 'stderr'),
    stderrHeader: stderrHeader('Flint Executor Command', argv),
    ...(launch.cpus === undefined ? {} : { cpus: launch.cpus }),
  };
  return { ok: true, spec };
}

/** The file name a driver's app resource gets in its directory: the last path segment of the URL or path. */
export function appResourceFileName(appResource: string): string {
  const path = appResource
    .replace(/[?#].*$/, '')
    .replace(/^[a-zA-Z][a-zA-Z0-9+.-]*:\/\/[^/]*/, '') // scheme and authority
    .replace(/\/+$/, '');
  const name = path.slice(path.lastIndexOf('/') + 1);
  return name.length > 0 && name !== '.' && name !== '..' ? name : 'app-resource';
}

/** The driver's process: dir `<workDir>/<driverId>/`, the app resource fetched into it. */
export function buildDriverSpec(
  config: WorkerConfig,
  worker: { readonly workerAddress: string; readonly workerWebUiUrl: string },
  driverId: string,
  desc: DriverDescription,
  resources?: ResourceAddresses,
): Built<DriverLaunchSpec> {
  const program = resolveMainModule(desc.command.mainModule, config.flintHome, config.flintEntries);
  if (!program.ok) return program;
  const cwd = joinPath(config.workDir, driverId);
  const localAppResourcePath = joinPath(cwd, appResourceFileName(desc.appResource));
  const args = substituteArguments(desc.command.arguments, {
    '{{WORKER_URL}}': worker.workerAddress,
    '{{USER_JAR}}': localAppResourcePath,
  });
  const argv = [config.nodeExecutable, ...desc.command.nodeOptions, program.path, ...args];
  const logUrl = (logType: string): string =>
    `${worker.workerWebUiUrl}/logPage/?driverId=${encodeURIComponent(driverId)}&logType=${logType}`;
  const spec: DriverLaunchSpec = {
    processKey: driverProcessKey(driverId),
    driverId,
    appResource: desc.appResource,
    localAppResourcePath,
    cores: desc.cores,
    memoryMb: desc.memoryMb,
    supervise: desc.supervise,
    argv,
    env: {
      ...desc.command.environment,
      // The driver runs on this worker's host, so it advertises the address the worker was given (--host) to the
      // executors that dial it, not whatever this machine's host name resolves to (context.ts reads it when
      // flint.driver.host is not set). Spark's drivers get SPARK_LOCAL_IP from the worker host's spark-env.sh;
      // the submitter's own value never applies here (Spark's REST server drops it: reference §12.4).
      FLINT_LOCAL_IP: config.host,
      FLINT_DRIVER_LOG_URL_STDOUT: logUrl('stdout'),
      FLINT_DRIVER_LOG_URL_STDERR: logUrl('stderr'),
      ...resourceEnvironment(resources),
    },
    cwd: `${cwd}/`,
    cwdMustBeNew: false,
    stdoutPath: joinPath(cwd, 'stdout'),
    stderrPath: joinPath(cwd, 'stderr'),
    stderrHeader: stderrHeader('Launch Command', argv),
  };
  return { ok: true, spec };
}
