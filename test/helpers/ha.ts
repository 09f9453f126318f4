// Standby masters for the high-availability tests (test/integration/ha) and bench:failover: masters on ports
// chosen in advance (workers and apps are given `flint://h1:p1,h2:p2` before the masters start), in recovery
// mode ZOOKEEPER or FILESYSTEM, and the probes that find out who leads.

import assert from 'node:assert/strict';
import { readdirSync, writeFileSync } from 'node:fs';
import { freePort } from '../../src/daemons/local-cluster.ts';
import { masterJson, startMaster, type MasterDaemon, type MasterJson } from './daemons.ts';
import { waitFor, type ChildGroup, type ChildHandle } from './process.ts';

export { freePort };

/** ZooKeeper session timeout for the tests: 1 s (the test server's tick is 200 ms, so it allows 0.4–4 s). */
export const TEST_ZK_SESSION_TIMEOUT = '1s';

/** The `--conf` pairs of a master in recovery mode ZOOKEEPER on `url`, under znode `dir`. */
export function zooKeeperConf(url: string, dir: string, sessionTimeout = TEST_ZK_SESSION_TIMEOUT): string[] {
  return ['flint.deploy.recoveryMode=ZOOKEEPER', `flint.deploy.zookeeper.url=${url}`, `flint.deploy.zookeeper.dir=${dir}`, `flint.deploy.zookeeper.sessionTimeout=${sessionTimeout}`];
}

/** The master's /json, or undefined when it does not answer. */
export function tryMasterJson(webUiPort: number): Promise<MasterJson | undefined> {
  return masterJson(webUiPort).catch(() => undefined);
}

/** GET /readyz's status code. */
export async function readyz(webUiPort: number): Promise<number> {
  return (await fetch(`http://127.0.0.1:${webUiPort}/readyz`, { signal: AbortSignal.timeout(3_000) })).status;
}

/** Waits until exactly one of `masters` is ALIVE and the others STANDBY; returns [leader, standbys]. */
export async function oneLeader(masters: readonly MasterDaemon[], timeoutMs = 20_000): Promise<[MasterDaemon, MasterDaemon[]]> {
  let last: string[] = [];
  try {
    return await waitFor(
      async () => {
        const statuses = await Promise.all(masters.map(async (m) => (await tryMasterJson(m.webUiPort))?.status ?? 'DOWN'));
        last = statuses;
        const alive = masters.filter((_, i) => statuses[i] === 'ALIVE');
        const standby = masters.filter((_, i) => statuses[i] === 'STANDBY');
        return alive.length === 1 && standby.length === masters.length - 1 ? ([alive[0], standby] as [MasterDaemon, MasterDaemon[]]) : undefined;
      },
      { timeoutMs, intervalMs: 50, what: 'exactly one ALIVE master' },
    );
  } catch (err) {
    throw new Error(`${(err as Error).message}; statuses: ${last.join(', ')}`, { cause: err });
  }
}

/** Starts a master on `port` with the given recovery `conf`. */
export function startRecoveringMaster(children: ChildGroup, label: string, secretFile: string, port: number, conf: readonly string[]): Promise<MasterDaemon> {
  return startMaster(children, { label, secretFile, port, conf });
}

/** A line `PREFIX value` the app printed on stdout. */
export const stdoutValue = (child: ChildHandle, prefix: string): string | undefined =>
  child.stdoutLines.find((l) => l.startsWith(`${prefix} `))?.slice(prefix.length + 1);

/**
 * `flint submit`s test-app.ts `sum 400 40 20 <progress> <gate>` (2 executors of 1 core) to `masterUrl`, waits until
 * it registered and a few records are done (the job is under way), and returns the app and its id. The second half
 * of the records waits for `release()`: the job runs on its executors without the master, so without the gate it
 * could end while a test still waits for the master to recover it (it did once, with both CPUs busy).
 */
export async function startSumAppMidJob(
  children: ChildGroup,
  masterUrl: string,
  secretFile: string,
  progress: string,
): Promise<{ app: ChildHandle; appId: string; release: () => void }> {
  const gate = `${progress}.open`;
  const app = children.spawnNodeScript(
    'src/cli/main.ts',
    ['submit', '--master', masterUrl, '--conf', `flint.authenticate.secret.file=${secretFile}`, '--total-executor-cores', '2', '--executor-cores', '1', 'test/fixtures/apps/test-app.ts', 'sum', '400', '40', '20', progress, gate],
    { label: 'sum app' },
  );
  const appId = await waitFor(() => stdoutValue(app, 'APP') ?? (app.exit !== undefined && assert.fail(app.stderr())), { timeoutMs: 30_000, what: 'the app to register' });
  await waitFor(() => readdirSync(progress).length >= 60, { timeoutMs: 30_000, intervalMs: 20, what: 'the job to be under way' });
  assert.equal(stdoutValue(app, 'RESULT'), undefined, 'the job is still running');
  return { app, appId, release: () => writeFileSync(gate, '') };
}

/** Opens the job's gate, then waits (at most a minute) for the sum app to exit 0 with the right total. */
export async function sumAppCompletes(app: ChildHandle, release: () => void): Promise<void> {
  release();
  const exit = await Promise.race([app.exited, new Promise<undefined>((r) => setTimeout(() => r(undefined), 60_000).unref())]);
  assert.equal(exit?.code, 0, app.stderr());
  assert.equal(stdoutValue(app, 'RESULT'), String(399 * 400));
}
