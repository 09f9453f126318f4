// Master and worker daemons as child processes, for the integration tests under test/integration/daemons:
// spawn them with the test settings, wait (bounded) for their "started" line or any other log line, read
// their /json, and write the shared secret they authenticate with.
//
// Every daemon is spawned into the caller's ChildGroup, so the test's `after()` kills it.

import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { FlintConf } from '../../src/conf/flint-conf.ts';
import { deriveUiToken } from '../../src/io/http/ui-auth.ts';
import { describeExit, NODE_BIN, REPO_ROOT, spawnChild, waitFor, type ChildGroup, type ChildHandle } from './process.ts';

/** The CLI the daemons run (relative to the repo root, the children's working directory). */
export const MAIN = 'src/cli/main.ts';
/** flint.worker.timeout for every daemon here: short, so a worker that stops heartbeating is DEAD within seconds. */
export const WORKER_TIMEOUT = '2s';

/** A started daemon: its process and the ports from its "started" log line. */
export interface Daemon {
  readonly child: ChildHandle;
  readonly rpcPort: number;
  readonly webUiPort: number;
  /** The "started" log line. */
  readonly started: Record<string, unknown>;
}

/** A started master, with the URL (`flint://host:port`) it logged. */
export interface MasterDaemon extends Daemon {
  readonly url: string;
}

/** A started worker, with the id it logged and its work directory. */
export interface WorkerDaemon extends Daemon {
  readonly workerId: string;
  readonly workDir: string;
}

/** Waits (bounded) for the daemon's "started" line (the one carrying rpcPort and webUiPort). */
export async function startedLine(child: ChildHandle, timeoutMs = 15_000): Promise<Daemon> {
  const started = await waitFor(
    () => {
      const line = child.stderrJson().find((l) => typeof l['rpcPort'] === 'number' && typeof l['webUiPort'] === 'number');
      if (line !== undefined) return line;
      if (child.exit !== undefined) throw new Error(`${child.label} exited (${describeExit(child.exit)}) before it started:\n${child.stderr()}`);
      return undefined;
    },
    { timeoutMs, intervalMs: 25, what: `${child.label} to log that it started` },
  );
  const webUiPort = Number(started['webUiPort']);
  const login = child.stderrJson().find((l) => typeof l['loginUrl'] === 'string');
  if (login !== undefined) rememberUiToken(webUiPort, String(login['loginUrl']));
  return { child, rpcPort: Number(started['rpcPort']), webUiPort, started };
}

/** The UI tokens of the daemons started here, by web UI port, from the login URL each logged once. */
const uiTokens = new Map<number, string>();

/** Remembers the token in `loginUrl` (`…/?token=<token>`) for the UI on `webUiPort`. */
export function rememberUiToken(webUiPort: number, loginUrl: string): void {
  const token = new URL(loginUrl).searchParams.get('token');
  if (token !== null) uiTokens.set(webUiPort, token);
}

/** The headers that let a script into the web UI on `webUiPort`: its bearer token, when it has one. */
export function uiAuthHeaders(webUiPort: number): Record<string, string> {
  const token = uiTokens.get(webUiPort);
  return token === undefined ? {} : { authorization: `Bearer ${token}` };
}

/** Waits (bounded) for a pino line on the child's stderr; fails at once if the child exits. */
export function logLine(child: ChildHandle, match: (line: Record<string, unknown>) => boolean, what: string, timeoutMs = 5_000) {
  return waitFor(
    () => {
      const line = child.stderrJson().find(match);
      if (line !== undefined) return line;
      if (child.exit !== undefined) throw new Error(`${child.label} exited (${describeExit(child.exit)}) before ${what}:\n${child.stderr()}`);
      return undefined;
    },
    { timeoutMs, intervalMs: 25, what: `${what}; ${child.label} stderr:\n${child.stderr()}` },
  );
}

/** A fresh random shared secret. */
export function newSecret(): string {
  return randomBytes(24).toString('hex');
}

/** Writes `secret` to `path` (owner-only, as flint.authenticate.secret.file expects); returns `path`. */
export function writeSecretFile(path: string, secret: string): string {
  writeFileSync(path, `${secret}\n`, { mode: 0o600 });
  return path;
}

/**
 * `Authorization: Bearer <UI token>` for the web UI of a daemon whose cluster secret is in `secretFile` (the
 * token is derived from the secret, docs/security.md "The web UIs"). A worker's UI needs it for `/json`.
 */
export function uiBearer(secretFile: string): Record<string, string> {
  return { authorization: `Bearer ${deriveUiToken(readFileSync(secretFile, 'utf8').trim())}` };
}

/** RPC settings for an in-process env that authenticates to the daemons with `secret`. */
export function authConf(secret: string): FlintConf {
  return new FlintConf([
    ['flint.authenticate', 'true'],
    ['flint.authenticate.secret', secret],
  ]);
}

/**
 * Spawns a master on 127.0.0.1 (RPC `port`, default any free one; web UI on any free port) that reads its
 * secret from `secretFile`, and waits for its "started" line. `viaBinFlint` starts it through bin/flint
 * (bash, bootstrap check, exec node: the path operators use) instead of node running src/cli/main.ts.
 */
export async function startMaster(
  children: ChildGroup,
  { label, secretFile, port = 0, viaBinFlint = false, conf = [] }: { label: string; secretFile: string; port?: number; viaBinFlint?: boolean; conf?: readonly string[] },
): Promise<MasterDaemon> {
  const args = [
    'master',
    '--host',
    '127.0.0.1',
    '--port',
    String(port),
    '--webui-port',
    '0',
    '--conf',
    `flint.authenticate.secret.file=${secretFile}`,
    '--conf',
    `flint.worker.timeout=${WORKER_TIMEOUT}`,
    ...conf.flatMap((c) => ['--conf', c]),
  ];
  const child = children.add(viaBinFlint ? spawnChild(resolve(REPO_ROOT, 'bin/flint'), args, { label }) : spawnChild(NODE_BIN, [MAIN, ...args], { label }));
  const daemon = await startedLine(child);
  return { ...daemon, url: String(daemon.started['masterUrl']) };
}

/**
 * Spawns a worker of `masterUrl` on 127.0.0.1 (any free RPC and web UI ports) with `cores` and `memory`
 * (default 1 and 256m), that reads its secret from `secretFile` (and `env` added to its environment), and
 * waits for its "started" line.
 */
export async function startWorker(
  children: ChildGroup,
  {
    label,
    masterUrl,
    secretFile,
    workDir,
    cores = 1,
    memory = '256m',
    conf = [],
    env = {},
  }: { label: string; masterUrl: string; secretFile: string; workDir: string; cores?: number; memory?: string; conf?: readonly string[]; env?: Readonly<Record<string, string>> },
): Promise<WorkerDaemon> {
  const child = children.add(
    spawnChild(
      NODE_BIN,
      [
        MAIN,
        'worker',
        masterUrl,
        '--host',
        '127.0.0.1',
        '--port',
        '0',
        '--webui-port',
        '0',
        '--cores',
        String(cores),
        '--memory',
        memory,
        '--work-dir',
        workDir,
        '--conf',
        `flint.authenticate.secret.file=${secretFile}`,
        '--conf',
        `flint.worker.timeout=${WORKER_TIMEOUT}`,
        ...conf.flatMap((c) => ['--conf', c]),
      ],
      { label, env },
    ),
  );
  const daemon = await startedLine(child);
  return { ...daemon, workerId: String(daemon.started['workerId']), workDir };
}

/** One worker in the master's /json. */
export interface MasterWorkerJson {
  id: string;
  host: string;
  port: number;
  webuiaddress: string;
  cores: number;
  coresused: number;
  memory: number;
  memoryused: number;
  state: string;
}

/** The master's /json. */
export interface MasterJson {
  url: string;
  workers: MasterWorkerJson[];
  aliveworkers: number;
  cores: number;
  memory: number;
  coresused: number;
  activeapps: Array<{ id: string; cores: number; state: string; memoryperexecutor: number }>;
  status: string;
}

/** A worker's /json. */
export interface WorkerJson {
  id: string;
  masterurl: string;
  masterwebuiurl: string;
  cores: number;
  coresused: number;
  memory: number;
  memoryused: number;
  executors: Array<{ id: number; appid: string; memory: number }>;
}

/** GET /json from the web UI on `webUiPort` (3 s limit), with `headers` (its logged token by default); asserts status 200. */
export async function getJson<T>(webUiPort: number, headers: Record<string, string> = uiAuthHeaders(webUiPort)): Promise<T> {
  const res = await fetch(`http://127.0.0.1:${webUiPort}/json`, { headers, signal: AbortSignal.timeout(3_000) });
  assert.equal(res.status, 200, `GET /json on port ${webUiPort}`);
  return (await res.json()) as T;
}

/** The master's /json, from its web UI on `webUiPort`. */
export function masterJson(webUiPort: number): Promise<MasterJson> {
  return getJson<MasterJson>(webUiPort);
}

/** Polls the master's /json (every 100 ms, at most `timeoutMs`) until `ok` holds; the error shows the last one. */
export function untilMasterJson(webUiPort: number, ok: (j: MasterJson) => boolean, what: string, timeoutMs = 10_000): Promise<MasterJson> {
  let last: MasterJson | undefined;
  return waitFor(
    async () => {
      last = await masterJson(webUiPort);
      return ok(last) ? last : undefined;
    },
    { timeoutMs, intervalMs: 100, what: `${what} in the master's /json` },
  ).catch((err: Error) => {
    throw new Error(`${err.message}; last /json: ${JSON.stringify(last)}`);
  });
}
