// `runApp(main)`: the one line that makes a module a Flint application. On the driver it runs `main` once the
// module has finished loading, then stops every context the program left running and sets the exit code. In
// an executor, which imports the same module only to reach its exported task functions, it does nothing.
//
//   import { FlintContext, runApp } from 'flint';
//   export function square(x: number) { return x * x; }
//   runApp(async (args) => {
//     const flint = await FlintContext.create({ appName: 'squares' });
//     console.log(await flint.range(0, 10).map(square).collect());
//   });

import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { setMainNamespace } from './app-exports.ts';
import { isExecutor, launchContext } from './launch-context.ts';

type Stoppable = { stop(): Promise<void> };
const running = new Set<Stoppable>();

/** Contexts register here so that `runApp` and signals can stop them. */
export function trackContext(context: Stoppable): () => void {
  running.add(context);
  return () => running.delete(context);
}

export async function stopAllContexts(): Promise<void> {
  await Promise.allSettled([...running].map((c) => c.stop()));
}

let signalsInstalled = false;
const shutdownHooks: Array<() => Promise<void>> = [];

/** Runs after every context has stopped when Ctrl-C or SIGTERM ends the program (e.g. `flint demo` stops its cluster). */
export function addShutdownHook(hook: () => Promise<void>): void {
  shutdownHooks.push(hook);
}
let markDone: () => void = () => {};
const done = new Promise<void>((resolve) => {
  markDone = resolve;
});

/** Settles when the main function given to `runApp` has returned or thrown and every context is stopped. */
export function whenAppDone(): Promise<void> {
  return done;
}

let started = false;

/** True once `runApp` has been called (on the driver). */
export function appWasStarted(): boolean {
  return started;
}

/** Ctrl-C and SIGTERM stop every running context (its application is unregistered), then the process exits. */
export function installSignalHandlers(): void {
  if (signalsInstalled) return;
  signalsInstalled = true;
  // An error nobody caught (a throw in a callback, a rejected promise nobody awaited) ends the program as
  // Node would, but first stops every context so its application is unregistered and its executors exit.
  process.once('uncaughtException', (err) => stopAndExit(1, `uncaught error, stopping the application: ${describe(err)}`));
  for (const [signal, code] of [['SIGINT', 130], ['SIGTERM', 143]] as const) {
    process.once(signal, () => stopAndExit(code, `\nflint: ${signal} received, stopping the application`));
  }
}

/** Stops every context, runs the shutdown hooks, exits with `code` (after 20 s at the latest). */
function stopAndExit(code: number, why: string): void {
  process.stderr.write(`${why.startsWith('\n') ? why : `flint: ${why}`}\n`);
  setTimeout(() => process.exit(code), 20_000).unref();
  void stopAllContexts()
    .then(() => Promise.allSettled(shutdownHooks.map((hook) => hook())))
    .finally(() => process.exit(code));
}

/** Where the app's main module is: what the launcher said, else the script node was started with. */
export function appMainPath(): string | undefined {
  const launched = launchContext();
  if (launched !== undefined) return launched.appMain;
  const script = process.argv[1];
  return script === undefined ? undefined : resolve(script);
}

export function runApp(main: (args: string[]) => unknown): void {
  if (isExecutor()) return;
  started = true;
  installSignalHandlers();
  const args = [...(launchContext()?.appArgs ?? process.argv.slice(2))];
  // setImmediate: the main module finishes evaluating first, so its namespace can be imported here.
  setImmediate(() => {
    void (async () => {
      try {
        const mainPath = appMainPath();
        if (mainPath !== undefined) {
          const ns = (await import(pathToFileURL(mainPath).href)) as Record<string, unknown>;
          setMainNamespace(ns);
        }
        await main(args);
      } catch (err) {
        process.stderr.write(`flint: the application failed: ${describe(err)}\n`);
        process.exitCode = 1;
      } finally {
        await stopAllContexts();
        markDone();
      }
    })();
  });
}

function describe(err: unknown): string {
  if (err instanceof Error) return err.stack ?? `${err.name}: ${err.message}`;
  return String(err);
}
