// Flint daemons on the separate hosts of test/helpers/netns.ts: a master, workers and `flint submit`, each the
// same CLI command operators run (src/cli/main.ts under the project's Node 24), started inside a host with
// `ip netns exec`, bound to that host's own address; and a Probe on a host, through which the test reads the
// daemons' /json (the test's own network namespace reaches none of the hosts).
//
// Every host has its own ports, so the daemons use Spark's defaults: RPC 7077 and web UI 8080 for a master,
// web UI 8081 for a worker.

import assert from 'node:assert/strict';
import type { MasterJson, WorkerJson } from './daemons.ts';
import { MAIN, startedLine, uiBearer, type Daemon } from './daemons.ts';
import type { NetHost, NetnsLab } from './netns.ts';
import { waitFor, waitForMessage, type ChildGroup, type ChildHandle } from './process.ts';

export const MASTER_PORT = 7077;
export const MASTER_WEBUI_PORT = 8080;
export const WORKER_WEBUI_PORT = 8081;

/** The common part of every daemon's and app's settings: the secret file (and whatever `conf` adds). */
export interface HostSettings {
  readonly secretFile: string;
  /** `key=value` pairs for every process (TLS, timeouts, …). */
  readonly conf?: readonly string[];
  /** Added to the environment (FLINT_PUBLIC_DNS, …). */
  readonly env?: Readonly<Record<string, string>>;
}

const confArgs = (s: HostSettings, extra: readonly string[] = []): string[] =>
  [`flint.authenticate.secret.file=${s.secretFile}`, ...(s.conf ?? []), ...extra].flatMap((c) => ['--conf', c]);

export interface HostDaemon extends Daemon {
  readonly host: NetHost;
}

export interface HostMaster extends HostDaemon {
  readonly url: string;
}

export interface HostWorker extends HostDaemon {
  readonly workerId: string;
  readonly workDir: string;
}

/** Starts `flint master --host <address>` on `host` (RPC 7077, web UI 8080) and waits for its "started" line. */
export async function startMasterOn(children: ChildGroup, lab: NetnsLab, host: NetHost, s: HostSettings & { label?: string }): Promise<HostMaster> {
  const args = [MAIN, 'master', '--host', host.address, '--port', String(MASTER_PORT), '--webui-port', String(MASTER_WEBUI_PORT), ...confArgs(s)];
  const child = children.add(lab.spawnNode(host, args[0] as string, args.slice(1), { label: s.label ?? `master on ${host.name}`, env: s.env ?? {} }));
  const started = await startedLine(child, 30_000);
  return { ...started, host, url: String(started.started['masterUrl']) };
}

/** Starts `flint worker <masterUrl> --host <address>` on `host` (web UI 8081) and waits for its "started" line. */
export async function startWorkerOn(
  children: ChildGroup,
  lab: NetnsLab,
  host: NetHost,
  s: HostSettings & { masterUrl: string; workDir: string; cores?: number; memory?: string; label?: string },
): Promise<HostWorker> {
  const args = ['worker', s.masterUrl, '--host', host.address, '--port', '0', '--webui-port', String(WORKER_WEBUI_PORT), '--cores', String(s.cores ?? 2), '--memory', s.memory ?? '1g', '--work-dir', s.workDir];
  const child = children.add(lab.spawnNode(host, MAIN, [...args, ...confArgs(s)], { label: s.label ?? `worker on ${host.name}`, env: s.env ?? {} }));
  const started = await startedLine(child, 30_000);
  return { ...started, host, workerId: String(started.started['workerId']), workDir: s.workDir };
}

/** Starts `flint submit --master <masterUrl> <args…>` on `host` (the driver's host, in client mode). */
export function submitFrom(children: ChildGroup, lab: NetnsLab, host: NetHost, s: HostSettings & { masterUrl: string; label: string }, args: readonly string[]): ChildHandle {
  return children.add(lab.spawnNode(host, MAIN, ['submit', '--master', s.masterUrl, ...confArgs(s), ...args], { label: s.label, env: s.env ?? {} }));
}

/** Waits (bounded) for `child` to exit; throws with its output when it does not. */
export async function exited(child: ChildHandle, timeoutMs: number): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const exit = await Promise.race([child.exited, new Promise<undefined>((r) => setTimeout(() => r(undefined), timeoutMs).unref())]);
  if (exit === undefined) throw new Error(`${child.label} did not finish within ${timeoutMs} ms:\n${child.stdoutLines.join('\n')}\n${child.stderr().slice(-4_000)}`);
  return { code: exit.code, stdout: child.stdoutLines.join('\n'), stderr: child.stderr() };
}

/** A Probe (test/fixtures/netns-probe.ts) running on one host: HTTP GETs and raw TCP words from there. */
export class Probe {
  readonly #child: ChildHandle;
  #next = 1;

  private constructor(child: ChildHandle) {
    this.#child = child;
  }

  /** Starts a probe on `host`; `env` may carry NODE_EXTRA_CA_CERTS for HTTPS. */
  static async start(children: ChildGroup, lab: NetnsLab, host: NetHost, env: Readonly<Record<string, string>> = {}): Promise<Probe> {
    const child = children.add(lab.spawnNode(host, 'test/fixtures/netns-probe.ts', [], { label: `probe on ${host.name}`, stdin: 'pipe', env }));
    await waitForMessage(child, (v) => v['ready'] === true, { timeoutMs: 30_000, what: 'the probe to start' });
    return new Probe(child);
  }

  async #ask(request: Record<string, unknown>): Promise<Record<string, unknown>> {
    const id = this.#next++;
    const from = this.#child.messages.length;
    this.#child.writeStdin(`${JSON.stringify({ id, ...request })}\n`);
    // Longer than the probe's own timeout for a request (test/fixtures/netns-probe.ts), so that it answers first.
    return (await waitForMessage(this.#child, (v) => v['probe'] === id, { timeoutMs: 20_000, from, what: `the probe's answer to ${JSON.stringify(request)}` })).value;
  }

  /** GET `url` from the probe's host: status and body text, or the error (refused, timed out). */
  async get(url: string, headers: Record<string, string> = {}): Promise<{ status?: number; body?: string; error?: string }> {
    const a = await this.#ask({ url, headers });
    return typeof a['error'] === 'string' ? { error: a['error'] } : { status: Number(a['status']), body: String(a['body']) };
  }

  /** GET `url` and parse it as JSON; asserts status 200. */
  async json<T>(url: string, headers: Record<string, string> = {}): Promise<T> {
    const r = await this.get(url, headers);
    assert.equal(r.status, 200, `GET ${url} from the probe: ${r.error ?? r.body}`);
    return JSON.parse(String(r.body)) as T;
  }

  /** Sends `word` on a TCP connection to host:port and returns all it answered ('' when nothing did). */
  async tcp(host: string, port: number, word: string): Promise<string> {
    return String((await this.#ask({ tcp: { host, port, send: word } }))['text'] ?? '');
  }
}

/** The master's /json (through `probe`), or undefined when it does not answer. */
export async function masterJsonVia(probe: Probe, master: { host: NetHost; webUiPort: number }, secretFile: string, scheme = 'http'): Promise<MasterJson | undefined> {
  const r = await probe.get(`${scheme}://${master.host.address}:${master.webUiPort}/json`, uiBearer(secretFile));
  return r.status === 200 ? (JSON.parse(String(r.body)) as MasterJson) : undefined;
}

/** Polls the master's /json through `probe` until `ok` holds (bounded); the error shows the last one. */
export async function untilMasterJsonVia(
  probe: Probe,
  master: { host: NetHost; webUiPort: number },
  secretFile: string,
  ok: (j: MasterJson) => boolean,
  what: string,
  { timeoutMs = 20_000, scheme = 'http' }: { timeoutMs?: number; scheme?: string } = {},
): Promise<MasterJson> {
  let last: MasterJson | undefined;
  try {
    return await waitFor(
      async () => {
        last = await masterJsonVia(probe, master, secretFile, scheme);
        return last !== undefined && ok(last) ? last : undefined;
      },
      { timeoutMs, intervalMs: 200, what: `${what} in the master's /json` },
    );
  } catch (err) {
    throw new Error(`${(err as Error).message}; last /json: ${JSON.stringify(last)}`, { cause: err });
  }
}

/** A worker's /json (its UI needs the cluster's token), through `probe`. */
export function workerJsonVia(probe: Probe, url: string, secretFile: string): Promise<WorkerJson> {
  return probe.json<WorkerJson>(`${url}/json`, uiBearer(secretFile));
}
