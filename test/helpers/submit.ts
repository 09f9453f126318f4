// `flint submit` against a LocalCluster, as the application tests run their apps: a child process per app,
// with the cluster's secret file, and a bounded wait for it to end.

import type { LocalCluster } from '../../src/daemons/local-cluster.ts';
import type { ChildGroup, ChildHandle } from './process.ts';

const MAIN = 'src/cli/main.ts';

/** Starts `flint submit --master <cluster> <args…>` in `children`. */
export function submitTo(children: ChildGroup, cluster: LocalCluster, args: string[], label: string): ChildHandle {
  return children.spawnNodeScript(MAIN, ['submit', '--master', cluster.masterUrl, '--conf', `flint.authenticate.secret.file=${cluster.secretFile}`, ...args], { label });
}

/** Waits for the app to exit (at most `timeoutMs`); throws with its output when it does not. */
export async function finished(child: ChildHandle, timeoutMs = 60_000): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const exit = await Promise.race([child.exited, new Promise<undefined>((r) => setTimeout(() => r(undefined), timeoutMs).unref())]);
  if (exit === undefined) throw new Error(`${child.label} did not finish within ${timeoutMs} ms:\n${child.stdoutLines.join('\n')}\n${child.stderr()}`);
  return { code: exit.code, stdout: child.stdoutLines.join('\n'), stderr: child.stderr() };
}
