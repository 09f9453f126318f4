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

import { hostname } from 'node:os';
import { pino } from 'pino';
import { isFlintError } from '../errors.ts';
import { runExecutorBackend } from '../daemons/executor-backend.ts';
import { readCredentialLine } from '../io/child-process/credential-line.ts';
import type { Credential } from '../rpc/auth.ts';
import { logLevelFromEnv, type Logger } from '../util/logger.ts';
import { EXECUTOR_USAGE, parseExecutorArgs, parseResourcesEnv, RESOURCES_ENV_VAR, type ExecutorCommandLine } from './executor-args.ts';
import type { ResourceAddresses } from '../protocol/messages.ts';

let args: ExecutorCommandLine;
let logger: Logger;
let resources: ResourceAddresses | undefined;
try {
  args = parseExecutorArgs(process.argv.slice(2), hostname());
  resources = parseResourcesEnv(process.env[RESOURCES_ENV_VAR]);
  // An executor logs a line per task at info ("Finished task"; Spark's "Got assigned task" and "Running task"
  // are at debug here); one write each would cost more than a short task. Lines are gathered up to 4 KiB,
  // written at least every 100 ms, and flushed when the process exits (crashes included; only a SIGKILL loses
  // the last 100 ms).
  const destination = pino.destination({ fd: 2, sync: true, minLength: 4096, periodicFlush: 100 });
  process.on('exit', () => destination.flushSync());
  logger = pino({ name: 'flint-executor', level: logLevelFromEnv(), base: { pid: process.pid } }, destination).child({
    executorId: args.executorId,
    appId: args.appId,
  });
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

const { startupConf, ...launch } = args;
const code = await runExecutorBackend({ launch: { ...launch, logUrls, ...(resources === undefined ? {} : { resources }) }, credential, startupConf, logger, workDir: process.cwd(), ...(onParentGone ? { onParentGone } : {}) });
process.exit(code);
