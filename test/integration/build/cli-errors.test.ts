// What an operator or an application developer can get wrong on `flint`'s command line, and the one line it
// prints for it: `flint: <what was wrong and what is expected>` on stderr, exit code 1 (issue 15: every error a
// user can cause has a test of its message). Run through the real bin/flint, with an empty FLINT_CONF_DIR so no
// properties file of the checkout's is read. No daemon, but for `flint logs` (the master must be asked) and a
// plain HTTP server standing where a REST gateway is expected.
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { newSecret, startMaster, writeSecretFile } from '../../helpers/daemons.ts';
import { ChildGroup, REPO_ROOT, spawnChild } from '../../helpers/process.ts';
import { tempDir } from '../../helpers/temp-dir.ts';

const dir = tempDir('flint-cli-errors-');
const secretFile = writeSecretFile(join(dir, 'secret'), newSecret());
const children = new ChildGroup();
after(async () => {
  await children.killAll();
  rmSync(dir, { recursive: true, force: true });
});

/** Runs bin/flint with `args` (and `env`); its exit code and stderr (without the line saying it built dist/). */
async function flint(args: string[], env: Record<string, string> = {}): Promise<{ code: number | null; stderr: string }> {
  const child = spawnChild(join(REPO_ROOT, 'bin', 'flint'), args, { env: { FLINT_CONF_DIR: dir, ...env } });
  const exit = await child.exited;
  return { code: exit.code, stderr: child.stderr().replace(/^flint: built .*\n/m, '') };
}

/** `flint <args>` fails with exit code 1 and prints `flint: <message>` alone. */
async function refused(args: string[], message: string | RegExp, env?: Record<string, string>): Promise<void> {
  const run = await flint(args, env);
  assert.equal(run.code, 1, `flint ${args.join(' ')}: ${run.stderr}`);
  if (typeof message === 'string') assert.equal(run.stderr, `flint: ${message}\n`, `flint ${args.join(' ')}`);
  else assert.match(run.stderr, message, `flint ${args.join(' ')}`);
}

const nobody = 'flint://127.0.0.1:1';

test('flint submit: no master, a deploy mode that does not exist, no REST gateway there', { timeout: 120_000 }, async () => {
  await refused(['submit', 'examples/wordcount.ts'], 'flint submit needs --master flint://host:port (or flint.master in the properties file)');
  await refused(['submit', '--master', nobody, '--deploy-mode', 'moon', 'examples/wordcount.ts'], '--deploy-mode must be client or cluster, got "moon"');
  await refused(
    ['submit', '--master', 'rest://127.0.0.1:1', '--conf', `flint.authenticate.secret.file=${secretFile}`, '--kill', 'driver-20240101000000-0000'],
    'no REST gateway accepted the request: http://127.0.0.1:1: ECONNREFUSED',
  );
});

describe('flint submit --master rest://… that names an HTTP server other than a REST gateway', () => {
  let server: Server;
  let answer: { status: number; body: string } = { status: 200, body: '' };
  before(async () => {
    server = createServer((_req, res) => res.writeHead(answer.status, { 'content-type': 'text/plain' }).end(answer.body));
    await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  });
  after(() => new Promise<void>((done) => server.close(() => done())));

  test('says what came back, and to give the REST port', { timeout: 120_000 }, async () => {
    const { port } = server.address() as { port: number };
    const submit = ['submit', '--master', `rest://127.0.0.1:${port}`, '--conf', `flint.authenticate.secret.file=${secretFile}`, '--kill', 'driver-20240101000000-0000'];
    const hint = "so it is not a Flint REST gateway: give the master's REST port (flint.master.rest.port, 6066 by default), not its web UI's";
    answer = { status: 404, body: '<html>Not Found</html>' };
    await refused(submit, `no REST gateway accepted the request: http://127.0.0.1:${port}: HTTP 404 with a body that is not JSON, ${hint}`);
    answer = { status: 200, body: '{"workers": []}' };
    await refused(submit, `no REST gateway accepted the request: http://127.0.0.1:${port}: HTTP 200 with a body that is not a protocol message, ${hint}`);
    answer = { status: 200, body: ' '.repeat(1024 * 1024 + 1) };
    await refused(submit, `no REST gateway accepted the request: http://127.0.0.1:${port}: the response is over 1048576 bytes, ${hint}`);
  });
});

test('flint plan: no master, a --resource that is not name=amount or named twice, no master answering', { timeout: 120_000 }, async () => {
  await refused(['plan'], 'flint plan needs --master flint://host:port');
  await refused(['plan', '--master', nobody, '--resource', 'gpu'], '--resource "gpu" is not name=amount; expected e.g. --resource gpu=1');
  await refused(['plan', '--master', nobody, '--resource', 'gpu=1', '--resource', 'gpu=2'], '--resource names gpu twice; give each resource once, e.g. --resource gpu=2');
  await refused(['plan', '--master', nobody], /^flint: no active master answered: flint:\/\/127\.0\.0\.1:1: connection to flint:\/\/127\.0\.0\.1:1 failed: connect ECONNREFUSED 127\.0\.0\.1:1\n$/);
});

test("the operators' commands: no master, an id that is not one, a byte count that is not one", { timeout: 120_000 }, async () => {
  await refused(['status'], 'give the cluster: --master flint://host:7077 (or flint.master in the properties file)');
  await refused(['kill', '--master', nobody, 'worker-1'], '"worker-1" is neither an application id (app-…) nor a driver id (driver-…); flint status lists them');
  await refused(['logs', '--master', nobody, 'app-20240101000000-0000', '0', '--bytes', '0'], '--bytes "0" is not a byte count; expected 1 to 1048576');
});

test("a daemon's Node flags that are not flags are refused by bin/flint before Node starts", { timeout: 120_000 }, async () => {
  await refused(['master'], "FLINT_DAEMON_NODE_OPTS holds 'rm', which is not a Node flag (flags start with -)", { FLINT_DAEMON_NODE_OPTS: '--max-semi-space-size=16 rm' });
});

test('flint logs of an application the master does not know says how to list them', { timeout: 120_000 }, async () => {
  const master = await startMaster(children, { label: 'master', secretFile });
  await refused(
    ['logs', '--master', master.url, '--conf', `flint.authenticate.secret.file=${secretFile}`, 'app-20240101000000-0042', '0'],
    'the master knows no application app-20240101000000-0042 (flint apps lists them)',
  );
});
