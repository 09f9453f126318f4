// The executor program (Spark's CoarseGrainedExecutorBackend process). Workers start it for `flint:executor`:
//
//   node src/entry/executor.ts --driver-url flint://CoarseGrainedScheduler@HOST:PORT --executor-id ID
//        --cores N --app-id APP_ID [--hostname HOST] [--worker-url flint://Worker@HOST:PORT]
//
// Its credential (`executor:<appId>` and the application's key) is the first line on stdin, written there by
// the worker (src/io/child-process/credential-line.ts): never in the environment, the arguments or a file.
// Logs are JSON lines on stderr. Exit codes: 0 when the driver stops the executor,
// 1 on bad arguments and on every failure (driver or worker lost, registration refused, code unavailable),
// 56 after too many failed heartbeats. See src/executor/README.md, "The executor process".
//
// Started as `node src/entry/executor.ts --standby`, it is a standby (docs/standby-executors.md): it loads its
// modules, says so on descriptor 3, and waits for a worker to adopt it with a line on stdin that gives it its
// arguments, environment and directory (src/io/child-process/adoption-line.ts); it then goes on as above.

import { closeSync, writeSync } from 'node:fs';
import { hostname } from 'node:os';
import { pino } from 'pino';
import { LogLineBuffer } from '../io/logs/line-buffer.ts';
import { isFlintError } from '../errors.ts';
import { runExecutorBackend } from '../daemons/executor-backend.ts';
import { readCredentialLine } from '../io/child-process/credential-line.ts';
import { READY_FD, STANDBY_FLAG, readAdoptionLine, type Adoption } from '../io/child-process/adoption-line.ts';
import type { Credential } from '../rpc/auth.ts';
import { logLevelFromEnv, type Logger } from '../util/logger.ts';
import {
  APP_CODE_DIR_ENV_VAR,
  appCodeDirFromEnv,
  EXECUTOR_USAGE,
  parseExecutorArgs,
  parseResourcesEnv,
  RESOURCES_ENV_VAR,
  type ExecutorCommandLine,
} from './executor-args.ts';
import type { ResourceAddresses } from '../protocol/messages.ts';
import { DriverReplies, DriverToExecutor } from '../protocol/task-messages.ts';
import { startWarmThread, warmThreadStarted, type WarmThread } from '../io/executor/task-pool.ts';

// An executor logs a line per task at info ("Finished task"; Spark's "Got assigned task" and "Running task" are at
// debug here); one write each would cost more than a short task. Lines are gathered up to 16 KiB
// (src/io/logs/line-buffer.ts), written at least every 100 ms (the timer starts with the executor, below), and
// flushed when the process exits (crashes included; only a SIGKILL loses the last 100 ms). The log is made before
// a standby waits: making it (pino, run for the first time) took an adopted standby 2 to 6 ms on its way to its
// driver.
const destination = new LogLineBuffer(2);
process.on('exit', () => destination.flushSync());
const baseLogger = pino({ name: 'flint-executor', level: 'info', base: { pid: process.pid } }, destination);

/** How often the executor's gathered log lines are written at least. */
const LOG_FLUSH_MS = 100;

const standby = process.argv[2] === STANDBY_FLAG;
let warmThread: WarmThread | undefined;
if (standby) {
  // Every module above is loaded: what a cold start spends most of its time on. The checkers of the messages an
  // executor receives are compiled now too (TypeBox generates code for each: about 20 ms, which an adopted
  // standby would otherwise spend on its driver's first replies and first task).
  for (const catalog of [DriverReplies, DriverToExecutor]) catalog.compileAll();
  // And a task thread is started: the pool the adopted executor makes takes it as its first thread. The standby
  // says it is ready once that thread runs, so that the worker's count of ready standbys means warm ones.
  warmThread = startWarmThread();
  await warmThreadStarted(warmThread);
  try {
    writeSync(READY_FD, 'ready\n');
    closeSync(READY_FD);
  } catch {
    // no ready pipe: started by hand
  }
  let adoption: Adoption | undefined;
  try {
    adoption = await readAdoptionLine(process.stdin);
    if (adoption !== undefined) process.chdir(adoption.cwd);
  } catch (err) {
    process.stderr.write(`flint executor: cannot be adopted: ${(err as Error).message}\n`);
    process.exit(1);
  }
  if (adoption === undefined) process.exit(0); // retired, or the worker is gone
  Object.assign(process.env, adoption.env);
  process.argv.splice(2, process.argv.length - 2, ...adoption.args);
}

let args: ExecutorCommandLine;
let logger: Logger;
let resources: ResourceAddresses | undefined;
try {
  args = parseExecutorArgs(process.argv.slice(2), hostname());
  // An adopted standby's command line is still the standby's: `ps` shows this name instead.
  if (standby) process.title = `flint-executor ${args.appId}/${args.executorId}`;
  resources = parseResourcesEnv(process.env[RESOURCES_ENV_VAR]);
  baseLogger.level = logLevelFromEnv();
  logger = baseLogger.child({ executorId: args.executorId, appId: args.appId });
  setInterval(() => destination.flushSync(), LOG_FLUSH_MS).unref();
} catch (err) {
  if (!isFlintError(err)) throw err;
  process.stderr.write(`flint executor: ${err.message}\n${EXECUTOR_USAGE}\n`);
  process.exit(1);
}

/** How long the executor waits for its worker's credential line. */
const CREDENTIAL_TIMEOUT_MS = 30_000;
let credential: Credential | undefined;
try {
  credential = await readCredentialLine(process.stdin, CREDENTIAL_TIMEOUT_MS);
} catch (err) {
  logger.error({ err: (err as Error).message }, 'cannot read the credential line');
  process.exit(1);
}

const logUrls: Record<string, string> = {};
for (const [variable, name] of [['FLINT_LOG_URL_STDOUT', 'stdout'], ['FLINT_LOG_URL_STDERR', 'stderr']] as const) {
  const url = process.env[variable];
  if (url !== undefined && url.length > 0) logUrls[name] = url;
}

// The worker starts executors with a stdin pipe that closes when the worker dies (Spark's WorkerWatcher).
const onParentGone =
  args.workerUrl === undefined
    ? undefined
    : (gone: () => void): void => {
        process.stdin.once('end', gone);
        process.stdin.once('error', gone);
        process.stdin.resume();
      };

// The worker's directory of bundles shared by its executors (src/io/executor/load-app-code.ts).
const appCodeDir = appCodeDirFromEnv(process.env[APP_CODE_DIR_ENV_VAR]);
const { startupConf, ...launch } = args;
const code = await runExecutorBackend({
  launch: { ...launch, logUrls, ...(resources === undefined ? {} : { resources }) },
  credential,
  startupConf,
  logger,
  workDir: process.cwd(),
  ...(appCodeDir === undefined ? {} : { appCodeDir }),
  warmThread,
  ...(onParentGone ? { onParentGone } : {}),
});
process.exit(code);
