// The driver process of a cluster-mode application (Spark's DriverWrapper). The worker's DriverRunner starts
// it as `node src/entry/driver.ts [--conf k=v]... -- <worker url> <app bundle> [app args]` (mainModule
// `flint:driver`), with its credential (`driver:<driverId>` and its key) as the first line on stdin, when the
// cluster authenticates (src/io/child-process/credential-line.ts). It runs the app's `runApp(main)` here and
// exits with its outcome. It exits too when its worker goes away: the worker holds its stdin open, so the
// stdin closing means the worker is gone (Spark's WorkerWatcher).

import { resolve } from 'node:path';
import { launchApp } from '../api/launch-app.ts';
import { appWasStarted, stopAllContexts, whenAppDone } from '../api/run-app.ts';
import { parseConfPair } from '../conf/load-conf.ts';
import { readCredentialLine } from '../io/child-process/credential-line.ts';
import type { Credential } from '../rpc/auth.ts';

/** How long the driver waits for its worker's credential line. */
const CREDENTIAL_TIMEOUT_MS = 30_000;

function fail(message: string): never {
  process.stderr.write(`flint driver: ${message}\n`);
  process.exit(1);
}

const argv = process.argv.slice(2);
const dash = argv.indexOf('--');
if (dash < 0) fail('usage: driver.ts [--conf key=value]... -- <worker url> <app> [app args]');
const conf: Array<[string, string]> = [];
for (let i = 0; i < dash; i += 2) {
  const pair = argv[i + 1];
  if (argv[i] !== '--conf' || pair === undefined) fail(`expected --conf key=value, got ${JSON.stringify(argv[i])}`);
  try {
    conf.push(parseConfPair(pair));
  } catch (err) {
    fail((err as Error).message);
  }
}
const [workerUrl, app, ...appArgs] = argv.slice(dash + 1);
if (workerUrl === undefined || app === undefined) fail('missing <worker url> or <app> after --');
let credential: Credential | undefined;
try {
  credential = await readCredentialLine(process.stdin, CREDENTIAL_TIMEOUT_MS);
} catch (err) {
  fail((err as Error).message);
}
// The driver authenticates with its own key (the launch context's credential) or not at all: never with
// secrets from the conf it was given.
const ownConf = conf.filter(([key]) => !/^(flint|spark)\.authenticate/.test(key));
ownConf.push(['flint.authenticate', 'false']);

if (!process.stdin.isTTY) {
  process.stdin.on('data', () => {});
  process.stdin.on('close', () => {
    process.stderr.write(`flint driver: worker ${workerUrl} is gone; stopping\n`);
    void stopAllContexts().finally(() => process.exit(1));
  });
}

const appMain = resolve(app);
try {
  await launchApp({ appMain, appArgs, conf: ownConf, ...(credential ? { credential } : {}) });
} catch (err) {
  fail(`cannot load ${appMain}: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
}
if (appWasStarted()) {
  await whenAppDone();
  process.exit(process.exitCode ?? 0);
}
// An app without runApp ran at the top level: let the process end when its work does.
process.stdin.destroy();
