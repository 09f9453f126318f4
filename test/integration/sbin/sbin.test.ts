// The sbin/ scripts against the real `flint master` and `flint worker`: start in the background, pid and log
// files, status, refusing a second start, stop (and SIGKILL after FLINT_STOP_TIMEOUT), failed launches with
// the log tail, rotation, instances, the worker-hosts file, start-all/stop-all, foreground mode.
//
// Every script is spawned with an argv array (no shell) and an environment built from scratch: temp pid, log
// and conf dirs, and a marker variable that the daemons inherit, so after() can find and kill every daemon
// this file started, whatever happened. Every wait is bounded.

import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { deriveUiToken } from '../../../src/io/http/ui-auth.ts';
import { uiBearer } from '../../helpers/daemons.ts';
import { REPO_ROOT, waitFor } from '../../helpers/process.ts';
import { tempDir } from '../../helpers/temp-dir.ts';

const SBIN = join(REPO_ROOT, 'sbin');
const ROOT = tempDir('flint-sbin-');
const MARKER = 'FLINT_SBIN_TEST_SANDBOX';
const IDENT = 'sbintest';
const HOST = hostname();
const SECRET_FILE = join(ROOT, 'secret');
const SECRET = randomBytes(32).toString('base64');
writeFileSync(SECRET_FILE, SECRET, { mode: 0o600 });
/** The daemons' web UI token, derived from the secret (docs/security.md, "The web UIs"). */
const UI_AUTH = { authorization: `Bearer ${deriveUiToken(SECRET)}` };

const ownChildren = new Set<ChildProcess>();

after(async () => {
  for (const child of ownChildren) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  const leftovers = daemonsUnder(ROOT);
  for (const pid of leftovers) killQuietly(pid, 'SIGKILL');
  await waitFor(() => daemonsUnder(ROOT).length === 0, { timeoutMs: 10_000, intervalMs: 50, what: 'every daemon started by the sbin tests to die' });
  rmSync(ROOT, { recursive: true, force: true });
});

// --- sandboxes and processes ---------------------------------------------------------------------------

interface Sandbox {
  readonly dir: string;
  readonly pidDir: string;
  readonly logDir: string;
  readonly confDir: string;
  readonly workDir: string;
  readonly env: Record<string, string>;
}

let sandboxes = 0;

/** Fresh dirs and a clean environment: no FLINT_* variable of the caller's leaks in, and no HOSTNAME. */
function sandbox(extraEnv: Record<string, string> = {}): Sandbox {
  const dir = join(ROOT, `s${++sandboxes}`);
  const pidDir = join(dir, 'pid');
  const logDir = join(dir, 'logs');
  const confDir = join(dir, 'conf');
  const workDir = join(dir, 'work');
  mkdirSync(confDir, { recursive: true });
  writeFileSync(join(confDir, 'flint-defaults.conf'), `flint.authenticate.secret.file ${SECRET_FILE}\n`);
  const env: Record<string, string> = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (value !== undefined && !key.startsWith('FLINT_') && key !== 'HOSTNAME') env[key] = value;
  }
  Object.assign(env, {
    FLINT_PID_DIR: pidDir,
    FLINT_LOG_DIR: logDir,
    FLINT_CONF_DIR: confDir,
    FLINT_IDENT_STRING: IDENT,
    FLINT_WORKER_WEBUI_PORT: '0',
    [MARKER]: dir,
    ...extraEnv,
  });
  return { dir, pidDir, logDir, confDir, workDir, env };
}

interface Result {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs sbin/<script> with an argv array and waits (bounded) for it to finish and close its output. */
function run(script: string, args: readonly string[], env: Record<string, string>, { timeoutMs = 40_000, detached = false } = {}): Promise<Result> {
  return new Promise((resolve, reject) => {
    const child = spawn(join(SBIN, script), [...args], { env, cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'], shell: false, detached });
    ownChildren.add(child);
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${script} ${args.join(' ')} did not finish within ${timeoutMs} ms\nstdout:\n${stdout}\nstderr:\n${stderr}`));
    }, timeoutMs);
    child.once('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      ownChildren.delete(child);
      resolve({ code, signal, stdout, stderr });
    });
  });
}

function describe(result: Result): string {
  return `exit ${result.code ?? result.signal}\nstdout:\n${result.stdout}\nstderr:\n${result.stderr}`;
}

function readProc(pid: number, file: string): string {
  try {
    return readFileSync(`/proc/${pid}/${file}`, 'utf8');
  } catch {
    return '';
  }
}

/** The process's argv joined by spaces; '' once it is gone (or a zombie). */
function cmdline(pid: number): string {
  return readProc(pid, 'cmdline').split('\0').join(' ');
}

function running(pid: number): boolean {
  return cmdline(pid) !== '';
}

/** Live processes whose environment carries the marker of a sandbox under `prefix`. */
function daemonsUnder(prefix: string): number[] {
  const found: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const pid = Number(name);
    if (pid === process.pid) continue;
    const environ = readProc(pid, 'environ').split('\0');
    if (environ.some((entry) => entry === `${MARKER}=${prefix}` || entry.startsWith(`${MARKER}=${prefix}/`))) found.push(pid);
  }
  return found;
}

function killQuietly(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(pid, signal);
  } catch {
    // gone already
  }
}

function pidFile(sb: Sandbox, command: string, instance = 1): string {
  return join(sb.pidDir, `flint-${IDENT}-${command}-${instance}.pid`);
}

function logFile(sb: Sandbox, command: string, instance = 1): string {
  return join(sb.logDir, `flint-${IDENT}-${command}-${instance}-${HOST}.out`);
}

function readPid(sb: Sandbox, command: string, instance = 1): number {
  const text = readFileSync(pidFile(sb, command, instance), 'utf8').trim();
  assert.match(text, /^\d+$/, `pid file of ${command} ${instance} holds "${text}"`);
  return Number(text);
}

function listLogs(sb: Sandbox): string[] {
  return existsSync(sb.logDir) ? readdirSync(sb.logDir).sort() : [];
}

/** Ports from the kernel's free pool (listen on 0, then close). `count` consecutive ones if asked. */
async function freePorts(count = 1): Promise<number[]> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const servers: Server[] = [];
    try {
      const first = await listen(0);
      servers.push(first);
      const base = (first.address() as { port: number }).port;
      if (base + count - 1 > 65535) continue;
      for (let i = 1; i < count; i++) servers.push(await listen(base + i));
      return Array.from({ length: count }, (_, i) => base + i);
    } catch {
      // a neighbour was taken: try again
    } finally {
      await Promise.all(servers.map((s) => new Promise<void>((done) => s.close(() => done()))));
    }
  }
  throw new Error(`could not find ${count} consecutive free ports`);
}

async function freePort(): Promise<number> {
  return (await freePorts(1))[0] as number;
}

/** Two consecutive free ports. */
async function freePortPair(): Promise<[number, number]> {
  const [a, b] = await freePorts(2);
  return [a as number, b as number];
}

function listen(port: number): Promise<Server> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve(server));
  });
}

/** A master URL nothing listens on: the worker keeps retrying its registration, and stays up meanwhile. */
async function unreachableMasterUrl(): Promise<string> {
  return `flint://127.0.0.1:${await freePort()}`;
}

async function masterJson(webUiPort: number): Promise<Record<string, unknown> | undefined> {
  try {
    const response = await fetch(`http://127.0.0.1:${webUiPort}/json`, { headers: UI_AUTH, signal: AbortSignal.timeout(2_000) });
    return response.ok ? ((await response.json()) as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

// --- tests ---------------------------------------------------------------------------------------------

test('status and stop with no pid file: status exits 2, stop says there is nothing to stop', { timeout: 60_000 }, async () => {
  const sb = sandbox();
  for (const command of ['master', 'worker']) {
    const status = await run('flint-daemon.sh', ['status', command, '1'], sb.env);
    assert.equal(status.code, 2, describe(status));
    assert.equal(status.stdout, `${command} is not running.\n`);
    const stop = await run('flint-daemon.sh', ['stop', command, '1'], sb.env);
    assert.equal(stop.code, 0, describe(stop));
    assert.equal(stop.stdout, `no ${command} to stop\n`);
  }
  const stopMaster = await run('stop-master.sh', [], sb.env);
  assert.equal(stopMaster.code, 0, describe(stopMaster));
  assert.equal(stopMaster.stdout, 'no master to stop\n');
  const stopWorker = await run('stop-worker.sh', [], sb.env);
  assert.equal(stopWorker.code, 0, describe(stopWorker));
  assert.equal(stopWorker.stdout, 'no worker to stop\n');
});

test('a FLINT_LOG_MAX_FILES that is not a positive integer stops start with exit 1, before anything runs', { timeout: 60_000 }, async () => {
  const url = await unreachableMasterUrl();
  for (const bad of ['abc', '0', '-3', '2x']) {
    const sb = sandbox({ FLINT_LOG_MAX_FILES: bad });
    const master = await run('start-master.sh', [], sb.env);
    assert.equal(master.code, 1, describe(master));
    assert.ok(master.stderr.includes(`FLINT_LOG_MAX_FILES must be a positive integer, but got '${bad}'`), describe(master));
    const worker = await run('start-worker.sh', [url, '--work-dir', sb.workDir], sb.env);
    assert.equal(worker.code, 1, describe(worker));
    assert.ok(worker.stderr.includes(`FLINT_LOG_MAX_FILES must be a positive integer, but got '${bad}'`), describe(worker));
    assert.equal(existsSync(pidFile(sb, 'master')), false);
    assert.equal(existsSync(pidFile(sb, 'worker')), false);
    assert.deepEqual(listLogs(sb), []);
    assert.deepEqual(daemonsUnder(sb.dir), [], 'no process may be left behind');
  }
});

test('usage errors exit 1 and name the problem', { timeout: 60_000 }, async () => {
  const sb = sandbox();
  const unknownCommand = await run('flint-daemon.sh', ['start', 'executor', '1'], sb.env);
  assert.equal(unknownCommand.code, 1, describe(unknownCommand));
  assert.match(unknownCommand.stderr, /unknown command 'executor'; expected master or worker/);
  assert.match(unknownCommand.stderr, /^Usage: flint-daemon\.sh/m);
  const badInstance = await run('flint-daemon.sh', ['status', 'worker', '1;id'], sb.env);
  assert.equal(badInstance.code, 1, describe(badInstance));
  assert.match(badInstance.stderr, /the instance must be a positive whole number, but got '1;id'/);
  const noUrl = await run('start-worker.sh', [], sb.env);
  assert.equal(noUrl.code, 1, describe(noUrl));
  assert.match(noUrl.stderr, /^Usage: sbin\/start-worker\.sh <master-url>/m);
  const badIdent = await run('flint-daemon.sh', ['stop', 'master', '1'], { ...sb.env, FLINT_IDENT_STRING: '../escape' });
  assert.equal(badIdent.code, 1, describe(badIdent));
  assert.match(badIdent.stderr, /FLINT_IDENT_STRING must be/);
  const badTimeout = await run('flint-daemon.sh', ['stop', 'master', '1'], { ...sb.env, FLINT_STOP_TIMEOUT: 'soon' });
  assert.equal(badTimeout.code, 1, describe(badTimeout));
  assert.match(badTimeout.stderr, /FLINT_STOP_TIMEOUT must be a whole number/);
  assert.deepEqual(daemonsUnder(sb.dir), []);
});

test('start-master.sh runs the master in the background; status; a second start is refused; stop-master.sh stops it', { timeout: 90_000 }, async () => {
  const [port, webUiPort] = await freePortPair();
  const sb = sandbox({ FLINT_MASTER_HOST: '127.0.0.1', FLINT_MASTER_PORT: String(port), FLINT_MASTER_WEBUI_PORT: String(webUiPort) });
  const started = await run('start-master.sh', [], sb.env);
  assert.equal(started.code, 0, describe(started));
  assert.equal(started.stdout, `starting master, logging to ${logFile(sb, 'master')}\n`);
  const pid = readPid(sb, 'master');
  assert.ok(running(pid), 'the master runs once start-master.sh has returned');
  assert.ok(cmdline(pid).includes(`/dist/current/cli.mjs master --host 127.0.0.1 --port ${port} --webui-port ${webUiPort}`), cmdline(pid));
  const state = await waitFor(() => masterJson(webUiPort), { timeoutMs: 15_000, intervalMs: 200, what: "the master's /json" });
  assert.equal(state['url'], `flint://127.0.0.1:${port}`);
  assert.match(readFileSync(logFile(sb, 'master'), 'utf8'), /^\S+ flint-daemon\.sh: starting nice -n 0 \S*\/bin\/flint master --host 127\.0\.0\.1/);

  const self = await fetch(`http://127.0.0.1:${webUiPort}/logPage/?self`, { headers: uiBearer(SECRET_FILE), signal: AbortSignal.timeout(3_000) });
  assert.equal(self.status, 200, 'the master shows its own .out log');
  assert.match(await self.text(), /flint-daemon\.sh: starting/);
  const notHere = await fetch(`http://127.0.0.1:${webUiPort}/logPage/?appId=app-1&executorId=0&logType=stdout`, { headers: uiBearer(SECRET_FILE), signal: AbortSignal.timeout(3_000) });
  assert.equal(notHere.status, 400);
  assert.match(await notHere.text(), /the master has only its own log/);

  const status = await run('flint-daemon.sh', ['status', 'master', '1'], sb.env);
  assert.equal(status.code, 0, describe(status));
  assert.equal(status.stdout, `master is running (process ${pid}).\n`);

  const again = await run('start-master.sh', [], sb.env);
  assert.equal(again.code, 1, describe(again));
  assert.equal(again.stderr, `master running as process ${pid}.  Stop it first.\n`);
  assert.equal(readPid(sb, 'master'), pid, 'the refused start leaves the pid file alone');
  assert.ok(running(pid));

  const stopped = await run('stop-master.sh', [], sb.env);
  assert.equal(stopped.code, 0, describe(stopped));
  assert.equal(stopped.stdout, 'stopping master\n');
  assert.equal(running(pid), false, 'stop returns once the master is gone');
  assert.equal(existsSync(pidFile(sb, 'master')), false);
  const afterStop = await run('flint-daemon.sh', ['status', 'master', '1'], sb.env);
  assert.equal(afterStop.code, 2, describe(afterStop));
  assert.deepEqual(daemonsUnder(sb.dir), []);
});

test('start-worker.sh runs a worker in the background with the variables of flint-env.sh; stop-worker.sh stops it', { timeout: 90_000 }, async () => {
  const url = await unreachableMasterUrl();
  const sb = sandbox();
  writeFileSync(join(sb.confDir, 'flint-env.sh'), '# test\nFLINT_WORKER_CORES=1\n');
  const started = await run('start-worker.sh', [url, '--work-dir', sb.workDir], sb.env);
  assert.equal(started.code, 0, describe(started));
  assert.equal(started.stdout, `starting worker, logging to ${logFile(sb, 'worker')}\n`);
  const pid = readPid(sb, 'worker');
  assert.ok(cmdline(pid).includes(`/dist/current/cli.mjs worker --webui-port 0 ${url} --work-dir ${sb.workDir}`), cmdline(pid));
  const environ = readProc(pid, 'environ').split('\0');
  assert.ok(environ.includes('FLINT_WORKER_CORES=1'), 'flint-env.sh variables are exported to the daemon');
  assert.ok(environ.includes(`FLINT_CONF_DIR=${sb.confDir}`), 'FLINT_CONF_DIR is exported to the daemon');

  const status = await run('flint-daemon.sh', ['status', 'worker', '1'], sb.env);
  assert.equal(status.code, 0, describe(status));
  const again = await run('start-worker.sh', [url, '--work-dir', sb.workDir], sb.env);
  assert.equal(again.code, 1, describe(again));
  assert.equal(again.stderr, `worker running as process ${pid}.  Stop it first.\n`);
  assert.equal(daemonsUnder(sb.dir).length, 1, 'still exactly one worker');

  const stopped = await run('stop-worker.sh', [], sb.env);
  assert.equal(stopped.code, 0, describe(stopped));
  assert.equal(stopped.stdout, 'stopping worker\n');
  assert.equal(running(pid), false);
  assert.equal(existsSync(pidFile(sb, 'worker')), false);
  assert.deepEqual(daemonsUnder(sb.dir), []);
});

test("a worker started by start-worker.sh shows its own .out log at /logPage/?self; /readyz is 503 until it registers", { timeout: 90_000 }, async () => {
  const url = await unreachableMasterUrl();
  const sb = sandbox();
  const started = await run('start-worker.sh', [url, '--work-dir', sb.workDir], sb.env);
  assert.equal(started.code, 0, describe(started));
  const line = await waitFor(
    () => readFileSync(logFile(sb, 'worker'), 'utf8').split('\n').find((l) => l.includes('"webUiPort"')),
    { timeoutMs: 30_000, intervalMs: 100, what: "the worker's started line in its .out log" },
  );
  const webUiPort = Number((JSON.parse(line) as { webUiPort: number }).webUiPort);
  const base = `http://127.0.0.1:${webUiPort}`;
  assert.equal((await fetch(`${base}/readyz`, { signal: AbortSignal.timeout(3_000) })).status, 503);
  const self = await fetch(`${base}/logPage/?self`, { headers: uiBearer(SECRET_FILE), signal: AbortSignal.timeout(3_000) });
  assert.equal(self.status, 200);
  assert.match(await self.text(), /worker web UI listening/);
  const stopped = await run('stop-worker.sh', [], sb.env);
  assert.equal(stopped.code, 0, describe(stopped));
});

test('a daemon that dies at launch: "failed to launch", the log tail, exit 1, no pid file, no process', { timeout: 60_000 }, async () => {
  const url = await unreachableMasterUrl();
  const sb = sandbox();
  const result = await run('start-worker.sh', [url, '--work-dir', sb.workDir, '--no-such-flag', '--conf', 'flint.authenticate.secret=hunter2'], sb.env);
  assert.equal(result.code, 1, describe(result));
  assert.match(result.stderr, /^failed to launch: nice -n 0 \S*\/bin\/flint worker .*--no-such-flag/m);
  assert.match(result.stderr, /^ {2}.*unknown option '--no-such-flag'/m, 'the log tail is shown, indented');
  assert.ok(result.stderr.includes(`full log in ${logFile(sb, 'worker')}`), describe(result));
  assert.equal(existsSync(pidFile(sb, 'worker')), false);
  assert.deepEqual(daemonsUnder(sb.dir), []);
  const log = readFileSync(logFile(sb, 'worker'), 'utf8');
  assert.equal(log.includes('hunter2') || result.stderr.includes('hunter2') || result.stdout.includes('hunter2'), false, 'a secret is never echoed');
  assert.ok(log.includes('flint.authenticate.secret=*********(redacted)'));

  // The master cannot bind a port that is taken.
  const holder = await listen(0);
  try {
    const port = (holder.address() as { port: number }).port;
    const msb = sandbox({ FLINT_MASTER_HOST: '127.0.0.1', FLINT_MASTER_PORT: String(port), FLINT_MASTER_WEBUI_PORT: '0' });
    const master = await run('start-master.sh', [], msb.env);
    assert.equal(master.code, 1, describe(master));
    assert.match(master.stderr, /^failed to launch: /m);
    assert.ok(master.stderr.includes(`full log in ${logFile(msb, 'master')}`), describe(master));
    assert.equal(existsSync(pidFile(msb, 'master')), false);
    assert.deepEqual(daemonsUnder(msb.dir), []);
  } finally {
    await new Promise<void>((done) => holder.close(() => done()));
  }
});

test('each start rotates the log: .out → .out.1 → … keeping FLINT_LOG_MAX_FILES', { timeout: 60_000 }, async () => {
  const url = await unreachableMasterUrl();
  const sb = sandbox({ FLINT_LOG_MAX_FILES: '2' });
  const log = logFile(sb, 'worker');
  mkdirSync(sb.logDir, { recursive: true });
  writeFileSync(log, 'run 3\n');
  writeFileSync(`${log}.1`, 'run 2\n');
  writeFileSync(`${log}.2`, 'run 1\n');
  // A launch that fails fast still rotates first.
  const first = await run('start-worker.sh', [url, '--no-such-flag'], sb.env);
  assert.equal(first.code, 1, describe(first));
  assert.equal(readFileSync(`${log}.1`, 'utf8'), 'run 3\n');
  assert.equal(readFileSync(`${log}.2`, 'utf8'), 'run 2\n');
  assert.equal(existsSync(`${log}.3`), false, 'only FLINT_LOG_MAX_FILES rotated logs are kept');
  assert.match(readFileSync(log, 'utf8'), /flint-daemon\.sh: starting .*--no-such-flag/);

  const second = await run('start-worker.sh', [url, '--work-dir', sb.workDir], { ...sb.env, FLINT_LOG_MAX_FILES: '1' });
  assert.equal(second.code, 0, describe(second));
  assert.match(readFileSync(`${log}.1`, 'utf8'), /--no-such-flag/, 'the previous run is now .out.1');
  assert.equal(readFileSync(`${log}.2`, 'utf8'), 'run 2\n', 'a file above the limit is left alone');
  assert.deepEqual(listLogs(sb), [`flint-${IDENT}-worker-1-${HOST}.out`, `flint-${IDENT}-worker-1-${HOST}.out.1`, `flint-${IDENT}-worker-1-${HOST}.out.2`]);
  const stopped = await run('stop-worker.sh', [], sb.env);
  assert.equal(stopped.code, 0, describe(stopped));
  assert.deepEqual(daemonsUnder(sb.dir), []);
});

test('FLINT_WORKER_INSTANCES starts instances 1..N on consecutive ports; stop-worker.sh stops every instance with a pid file', { timeout: 90_000 }, async () => {
  const url = await unreachableMasterUrl();
  const [webUiBase] = await freePortPair();
  const sb = sandbox({ FLINT_WORKER_INSTANCES: '2', FLINT_WORKER_WEBUI_PORT: String(webUiBase) });
  const started = await run('start-worker.sh', [url, '--work-dir', sb.workDir], sb.env);
  assert.equal(started.code, 0, describe(started));
  const first = readPid(sb, 'worker', 1);
  const second = readPid(sb, 'worker', 2);
  assert.notEqual(first, second);
  assert.ok(cmdline(first).includes(`worker --webui-port ${webUiBase} ${url}`), cmdline(first));
  assert.ok(cmdline(second).includes(`worker --webui-port ${webUiBase + 1} ${url}`), cmdline(second));
  assert.ok(existsSync(logFile(sb, 'worker', 1)) && existsSync(logFile(sb, 'worker', 2)));

  // Lowered to 1 since: instance 2 still has a pid file, so it is stopped too.
  const stopped = await run('stop-worker.sh', [], { ...sb.env, FLINT_WORKER_INSTANCES: '1' });
  assert.equal(stopped.code, 0, describe(stopped));
  assert.equal(stopped.stdout, 'stopping worker\nstopping worker\n');
  assert.equal(running(first) || running(second), false);
  assert.deepEqual(daemonsUnder(sb.dir), []);
});

test('stop sends SIGKILL to a daemon that outlives FLINT_STOP_TIMEOUT', { timeout: 60_000 }, async () => {
  const url = await unreachableMasterUrl();
  const sb = sandbox({ FLINT_STOP_TIMEOUT: '1' });
  const started = await run('start-worker.sh', [url, '--work-dir', sb.workDir], sb.env);
  assert.equal(started.code, 0, describe(started));
  const pid = readPid(sb, 'worker');
  process.kill(pid, 'SIGSTOP'); // a stopped process cannot act on SIGTERM
  const stopped = await run('stop-worker.sh', [], sb.env);
  assert.equal(stopped.code, 0, describe(stopped));
  assert.equal(stopped.stdout, 'stopping worker\n');
  assert.match(stopped.stderr, new RegExp(`worker \\(process ${pid}\\) did not stop within 1 s of SIGTERM; sending SIGKILL`));
  assert.equal(running(pid), false);
  assert.equal(existsSync(pidFile(sb, 'worker')), false);
});

test('a pid file naming a process that is not a Flint daemon is stale: status 1, stop leaves the process alone', { timeout: 60_000 }, async () => {
  const sb = sandbox();
  mkdirSync(sb.pidDir, { recursive: true });
  const sleeper = spawn('sleep', ['60'], { stdio: 'ignore', shell: false });
  ownChildren.add(sleeper);
  try {
    for (const content of [String(sleeper.pid), 'abc', '0', '']) {
      writeFileSync(pidFile(sb, 'worker'), `${content}\n`);
      const status = await run('flint-daemon.sh', ['status', 'worker', '1'], sb.env, { detached: true });
      assert.equal(status.code, 1, describe(status));
      assert.equal(status.stdout, `${pidFile(sb, 'worker')} is present but worker is not running.\n`);
      const stop = await run('stop-worker.sh', [], sb.env, { detached: true });
      assert.equal(stop.code, 0, describe(stop));
      assert.equal(stop.stdout, 'no worker to stop\n');
      assert.equal(existsSync(pidFile(sb, 'worker')), false, 'the stale pid file is removed');
      assert.equal(sleeper.exitCode, null, 'the foreign process is not signalled');
      assert.equal(sleeper.signalCode, null);
    }
  } finally {
    sleeper.kill('SIGKILL');
  }
});

test('FLINT_NO_DAEMONIZE runs the worker in the foreground in place of the script, with no pid or log file', { timeout: 60_000 }, async () => {
  const url = await unreachableMasterUrl();
  const sb = sandbox({ FLINT_NO_DAEMONIZE: '' }); // set, even empty, as in Spark
  const child = spawn(join(SBIN, 'start-worker.sh'), [url, '--work-dir', sb.workDir], { env: sb.env, stdio: ['ignore', 'pipe', 'pipe'], shell: false });
  ownChildren.add(child);
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  child.stdout.resume();
  const closed = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((done) => child.once('close', (code, signal) => done({ code, signal })));
  const pid = child.pid as number;
  await waitFor(() => cmdline(pid).includes('/dist/current/cli.mjs worker '), { timeoutMs: 15_000, intervalMs: 50, what: 'the script to become the worker' });
  await waitFor(() => stderr.includes('"name":"worker"'), { timeoutMs: 15_000, intervalMs: 50, what: "the worker's log lines on stderr" });
  assert.equal(existsSync(pidFile(sb, 'worker')), false);
  assert.deepEqual(listLogs(sb), []);
  child.kill('SIGTERM');
  const exit = await Promise.race([closed, new Promise<undefined>((done) => setTimeout(() => done(undefined), 20_000))]);
  assert.deepEqual(exit, { code: 0, signal: null }, 'SIGTERM reaches the worker, which exits 0');
  ownChildren.delete(child);

  const two = await run('start-worker.sh', [url], { ...sb.env, FLINT_WORKER_INSTANCES: '2' });
  assert.equal(two.code, 1, describe(two));
  assert.match(two.stderr, /FLINT_NO_DAEMONIZE runs one worker in the foreground/);
  assert.deepEqual(daemonsUnder(sb.dir), []);
});

test('start-workers.sh reads the hosts file, starts this machine once, prefixes output; stop-workers.sh stops it', { timeout: 90_000 }, async () => {
  const masterPort = await freePort();
  const sb = sandbox({ FLINT_MASTER_HOST: '127.0.0.1', FLINT_MASTER_PORT: String(masterPort) });
  const hosts = join(sb.dir, 'hosts');
  writeFileSync(hosts, `# the workers\n\nlocalhost   # this machine\n127.0.0.1 ${HOST}\n`);
  const env = { ...sb.env, FLINT_WORKERS: hosts };
  const started = await run('start-workers.sh', ['--work-dir', sb.workDir], env);
  assert.equal(started.code, 0, describe(started));
  assert.equal(started.stdout, `localhost: starting worker, logging to ${logFile(sb, 'worker')}\n`);
  const pid = readPid(sb, 'worker');
  assert.ok(cmdline(pid).includes(`worker --webui-port 0 flint://127.0.0.1:${masterPort} --work-dir ${sb.workDir}`), cmdline(pid));
  assert.deepEqual(daemonsUnder(sb.dir), [pid], 'one worker, however many local names are listed');

  const stopped = await run('stop-workers.sh', [], env);
  assert.equal(stopped.code, 0, describe(stopped));
  assert.equal(stopped.stdout, 'localhost: stopping worker\n');
  assert.deepEqual(daemonsUnder(sb.dir), []);

  // An entry ssh would read as an option never reaches ssh.
  const pwned = join(sb.dir, 'pwned');
  writeFileSync(hosts, `-oProxyCommand=touch\\${pwned}\n`);
  const refused = await run('start-workers.sh', [], env);
  assert.equal(refused.code, 1, describe(refused));
  assert.match(refused.stderr, /skipping '-oProxyCommand=touch\\.*': not a host name or address/);
  assert.equal(existsSync(pwned), false);
  assert.deepEqual(daemonsUnder(sb.dir), []);
});

test('other hosts are reached with ssh $FLINT_SSH_OPTS -- <host> <command>, its words quoted for the remote shell', { timeout: 90_000 }, async () => {
  // A stand-in for ssh on PATH records its argv and runs the command as sshd would: `sh -c <command>`.
  // It keeps the environment, so the "remote" worker still uses this sandbox's pid and log dirs.
  const sb = sandbox({ FLINT_MASTER_HOST: '127.0.0.1', FLINT_MASTER_PORT: String(await freePort()) });
  const bin = join(sb.dir, 'bin');
  mkdirSync(bin);
  const calls = join(sb.dir, 'ssh-calls');
  writeFileSync(
    join(bin, 'ssh'),
    [
      `#!${process.execPath}`,
      "const { appendFileSync } = require('node:fs');",
      "const { spawnSync } = require('node:child_process');",
      'const argv = process.argv.slice(2);',
      `appendFileSync(${JSON.stringify(calls)}, JSON.stringify(argv) + '\\n');`,
      "const result = spawnSync('sh', ['-c', argv[argv.length - 1]], { stdio: 'inherit' });",
      'process.exit(result.status ?? 1);',
      '',
    ].join('\n'),
    { mode: 0o755 },
  );
  const confDir = join(sb.dir, "conf dir with 'quotes' & $(spaces)");
  mkdirSync(confDir);
  writeFileSync(join(confDir, 'flint-defaults.conf'), readFileSync(join(sb.confDir, 'flint-defaults.conf')));
  writeFileSync(join(confDir, 'workers'), 'worker-b.invalid\n');
  const env = { ...sb.env, FLINT_CONF_DIR: confDir, PATH: `${bin}:${sb.env['PATH'] ?? '/usr/bin:/bin'}` };

  const started = await run('start-workers.sh', ['--work-dir', sb.workDir], env);
  assert.equal(started.code, 0, describe(started));
  assert.equal(started.stdout, `worker-b.invalid: starting worker, logging to ${logFile(sb, 'worker')}\n`);
  const [call] = readFileSync(calls, 'utf8').trim().split('\n').map((line) => JSON.parse(line) as string[]);
  assert.deepEqual(call?.slice(0, 4), ['-o', 'StrictHostKeyChecking=accept-new', '--', 'worker-b.invalid']);
  assert.equal(call?.length, 5, 'the remote command is one argument');
  const pid = readPid(sb, 'worker');
  assert.ok(readProc(pid, 'environ').split('\0').includes(`FLINT_CONF_DIR=${confDir}`), 'the conf dir survives the remote shell word for word');
  assert.ok(cmdline(pid).includes(`--work-dir ${sb.workDir}`), cmdline(pid));

  const stopped = await run('stop-workers.sh', [], { ...env, FLINT_SSH_OPTS: '-o BatchMode=yes  -p 22' });
  assert.equal(stopped.code, 0, describe(stopped));
  assert.equal(stopped.stdout, 'worker-b.invalid: stopping worker\n');
  const second = readFileSync(calls, 'utf8').trim().split('\n').map((line) => JSON.parse(line) as string[])[1];
  assert.deepEqual(second?.slice(0, 6), ['-o', 'BatchMode=yes', '-p', '22', '--', 'worker-b.invalid']);
  assert.deepEqual(daemonsUnder(sb.dir), []);
});

test('start-all.sh starts the master and a worker that registers with it; stop-all.sh stops both', { timeout: 90_000 }, async () => {
  const [port, webUiPort] = await freePortPair();
  const sb = sandbox({ FLINT_MASTER_HOST: '127.0.0.1', FLINT_MASTER_PORT: String(port), FLINT_MASTER_WEBUI_PORT: String(webUiPort) });
  writeFileSync(join(sb.confDir, 'workers'), 'localhost\n');
  writeFileSync(join(sb.confDir, 'flint-env.sh'), `FLINT_WORKER_DIR=${JSON.stringify(sb.workDir)}\n`);
  const started = await run('start-all.sh', [], sb.env);
  assert.equal(started.code, 0, describe(started));
  assert.equal(started.stdout, `starting master, logging to ${logFile(sb, 'master')}\nlocalhost: starting worker, logging to ${logFile(sb, 'worker')}\n`);
  const master = readPid(sb, 'master');
  const worker = readPid(sb, 'worker');
  await waitFor(async () => (await masterJson(webUiPort))?.['aliveworkers'] === 1, { timeoutMs: 30_000, intervalMs: 200, what: 'the worker to register' });

  const stopped = await run('stop-all.sh', [], sb.env);
  assert.equal(stopped.code, 0, describe(stopped));
  assert.equal(stopped.stdout, 'localhost: stopping worker\nstopping master\n');
  assert.equal(running(master) || running(worker), false);
  assert.deepEqual(daemonsUnder(sb.dir), []);
  for (const command of ['master', 'worker']) {
    const status = await run('flint-daemon.sh', ['status', command, '1'], sb.env);
    assert.equal(status.code, 2, describe(status));
  }
});

test('--config <dir> makes flint-daemon.sh source that flint-env.sh', { timeout: 30_000 }, async () => {
  const sb = sandbox();
  const other = join(sb.dir, 'other-conf');
  mkdirSync(other, { recursive: true });
  writeFileSync(join(other, 'flint-env.sh'), 'FLINT_IDENT_STRING=fromconf\n');
  mkdirSync(sb.pidDir, { recursive: true });
  const stale = join(sb.pidDir, 'flint-fromconf-worker-1.pid');
  writeFileSync(stale, 'abc\n');
  const status = await run('flint-daemon.sh', ['--config', other, 'status', 'worker', '1'], sb.env);
  assert.equal(status.code, 1, describe(status));
  assert.equal(status.stdout, `${stale} is present but worker is not running.\n`);
});
