// NodeProcessLauncher against real processes: argv without a shell, logs to files, process-group kill,
// exit reporting, and no executor outliving a worker killed with -9.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { NodeProcessLauncher } from '../../../src/io/child-process/node-process-launcher.ts';
import type { ProcessExit } from '../../../src/ports/process-launcher.ts';
import { ChildGroup, NODE_BIN, REPO_ROOT, spawnNodeScript, waitFor, waitForMessage } from '../../helpers/process.ts';
import { tempDir } from '../../helpers/temp-dir.ts';

const EXECUTOR = join(REPO_ROOT, 'test/fixtures/test-executor.ts');
const launcher = new NodeProcessLauncher();
const children = new ChildGroup();
after(async () => {
  await launcher.killAll(2_000);
  await children.killAll();
});

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

function launch(key: string, args: string[], env: Record<string, string> = {}) {
  const dir = tempDir('flint-launch-');
  let exit: ProcessExit | undefined;
  const spec = { key, argv: [NODE_BIN, EXECUTOR, ...args], env, cwd: dir, stdoutPath: join(dir, 'out', 'stdout'), stderrPath: join(dir, 'out', 'stderr') };
  const launched = launcher.launch(spec, (e) => (exit = e));
  return { dir, spec, launched, exit: () => exit };
}

test('argv reaches the program word for word, with no shell; stdout and stderr go to their files', async () => {
  const hostile = '$(touch /tmp/flint-pwned); `id` && echo "x" | cat > /tmp/flint-pwned2';
  const run = launch('executor/app-1/0', ['--run-ms', '50', '--exit-code', '0', hostile], { FLINT_TEST_MARKER: 'm1' });
  const exit = await waitFor(run.exit, { timeoutMs: 10_000, what: 'the executor to exit' });
  assert.deepEqual(exit, { key: 'executor/app-1/0', code: 0, signal: null });
  const started = JSON.parse(readFileSync(run.spec.stdoutPath, 'utf8').trim()) as { args: string[]; marker: string };
  assert.equal(started.args.at(-1), hostile);
  assert.equal(started.marker, 'm1');
  assert.match(readFileSync(run.spec.stderrPath, 'utf8'), /test executor: started/);
  assert.deepEqual(launcher.running(), []);
});

test('a non-zero exit code is reported as such', async () => {
  const run = launch('executor/app-1/1', ['--run-ms', '10', '--exit-code', '7']);
  const exit = await waitFor(run.exit, { timeoutMs: 10_000, what: 'the executor to exit' });
  assert.equal(exit.code, 7);
});

test('kill signals the whole process group: the grandchild dies too', async () => {
  const run = launch('executor/app-1/2', ['--grandchild']);
  const started = await waitFor(
    () => {
      const text = readFileSync(run.spec.stdoutPath, 'utf8').trim();
      return text ? (JSON.parse(text) as { grandchildPid: number }) : undefined;
    },
    { timeoutMs: 10_000, what: 'the executor to start' },
  );
  assert.ok(alive(started.grandchildPid));
  assert.equal(launcher.kill('executor/app-1/2'), true);
  const exit = await waitFor(run.exit, { timeoutMs: 10_000, what: 'the executor to exit' });
  assert.equal(exit.code, 143);
  await waitFor(() => !alive(started.grandchildPid), { timeoutMs: 5_000, what: 'the grandchild to die' });
  assert.equal(launcher.kill('executor/app-1/2'), false);
});

test('launching a missing program reports an exit instead of crashing', async () => {
  let exit: ProcessExit | undefined;
  const dir = tempDir('flint-launch-');
  assert.throws(() =>
    launcher.launch(
      { key: 'missing', argv: ['/nonexistent/program'], env: {}, cwd: dir, stdoutPath: join(dir, 'o'), stderrPath: join(dir, 'e') },
      (e) => (exit = e),
    ),
  );
  const reported = await waitFor(() => exit, { timeoutMs: 5_000, what: 'the failed launch to be reported' });
  assert.notEqual(reported.code, 0);
});

test('an executor exits by itself when its launcher process is killed with -9', async () => {
  const dir = tempDir('flint-host-');
  const host = children.add(spawnNodeScript('test/fixtures/launcher-host.ts', [dir]));
  const { value } = await waitForMessage(host, (v) => v['launched'] === true, { timeoutMs: 10_000, what: 'launch' });
  const pid = value['pid'] as number;
  assert.ok(alive(pid));
  host.killNow('SIGKILL');
  await waitFor(() => !alive(pid), { timeoutMs: 5_000, what: 'the orphaned executor to exit' });
  assert.match(readFileSync(join(dir, 'stderr'), 'utf8'), /stdin closed, the worker is gone/);
});
