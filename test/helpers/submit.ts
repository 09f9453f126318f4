// `flint submit` against a LocalCluster, as the application tests run their apps: a child process per app,
// with the cluster's secret file, and a bounded wait for it to end.

import type { LocalCluster } from '../../src/daemons/local-cluster.ts';
import { waitFor, type ChildGroup, type ChildHandle } from './process.ts';

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

/**
 * Waits (at most 30 s) for a submitted app to print its UI address and login link, and returns a reader of its
 * JSON routes (`/json` by default) with the login's bearer token.
 */
export async function appUiOf(child: ChildHandle): Promise<{ url: string; json<T>(path?: string): Promise<T> }> {
  const { url, token } = await waitFor(() => {
    if (child.exit !== undefined) throw new Error(`${child.label} exited: ${child.stderr()}`);
    const stderr = child.stderr();
    const ui = /Application UI at (http:\/\/\S+)/.exec(stderr)?.[1];
    const login = /Application UI login[^:]*: (http:\/\/\S+)/.exec(stderr)?.[1];
    return ui === undefined || login === undefined ? undefined : { url: ui, token: new URL(login).searchParams.get('token') ?? '' };
  }, { timeoutMs: 30_000, what: `${child.label} to print its UI URLs` });
  const json = async <T>(path = '/json'): Promise<T> => (await (await fetch(`${url}${path}`, { headers: { authorization: `Bearer ${token}` }, signal: AbortSignal.timeout(5_000) })).json()) as T;
  return { url, json };
}
