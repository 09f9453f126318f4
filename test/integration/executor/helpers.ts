// Shared by the executor integration tests: the fixture app's bundle, a work directory laid out as a worker
// lays it out (`<root>/<appId>/<execId>/`), and the executor program started as a real child process.

import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { encodeRecord } from '../../../src/task/record-codec.ts';
import { bundleApp, type AppBundle } from '../../../src/io/bundle/bundle-app.ts';
import { formatCredentialLine } from '../../../src/io/child-process/credential-line.ts';
import { REPO_ROOT, type ChildGroup, type ChildHandle } from '../../helpers/process.ts';

export const EXECUTOR_ENTRY = 'src/entry/executor.ts';

export function fixtureBundle(): Promise<AppBundle> {
  const dir = join(REPO_ROOT, 'test/fixtures/executor-app');
  return bundleApp(join(dir, 'main.ts'), { flintEntry: join(dir, 'flint.ts') });
}

export interface StartExecutorOptions {
  readonly driverUrl: string;
  readonly appId: string;
  readonly executorId: string;
  /** The worker's work dir: the executor runs in `<workRoot>/<appId>/<executorId>/`. */
  readonly workRoot: string;
  /** The key the executor proves as `executor:<appId>`, written on its stdin as its worker would. */
  readonly secret?: string;
  readonly cores?: number;
  /** Adds `--worker-url` (stdin is then watched) and gives the child a stdin pipe. */
  readonly workerUrl?: string;
  readonly env?: Readonly<Record<string, string>>;
}

export function startExecutor(children: ChildGroup, o: StartExecutorOptions): ChildHandle {
  const cwd = join(o.workRoot, o.appId, o.executorId);
  mkdirSync(cwd, { recursive: true });
  const args = ['--driver-url', o.driverUrl, '--executor-id', o.executorId, '--hostname', '127.0.0.1', '--cores', String(o.cores ?? 2), '--app-id', o.appId];
  if (o.workerUrl !== undefined) args.push('--worker-url', o.workerUrl);
  const child = children.spawnNodeScript(EXECUTOR_ENTRY, args, {
    label: `executor ${o.executorId}`,
    cwd,
    env: { FLINT_LOG_LEVEL: 'debug', ...o.env },
    stdin: o.workerUrl === undefined && o.secret === undefined ? 'ignore' : 'pipe',
  });
  const credential = o.secret === undefined ? undefined : { principal: `executor:${o.appId}`, key: o.secret };
  if (o.workerUrl !== undefined || credential !== undefined) child.writeStdin(formatCredentialLine(credential));
  // Without a worker to watch, the pipe carries only the credential line.
  if (o.workerUrl === undefined && credential !== undefined) child.closeStdin();
  return child;
}

/** The record codec, as the driver encodes slices. */
export function slice(values: unknown[]): Uint8Array {
  return encodeRecord(values);
}
