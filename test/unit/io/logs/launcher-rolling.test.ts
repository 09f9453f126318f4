// NodeProcessLauncher with rolling on: a real child's stdout and stderr go through RollingFileAppenders (Spark's
// ExecutorRunner with FileAppender), the exit is reported only once its output is in the files, and a helper
// that keeps the pipes open delays the report by the grace period only.
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { NodeProcessLauncher } from '../../../../src/io/child-process/node-process-launcher.ts';
import type { ProcessExit } from '../../../../src/ports/process-launcher.ts';
import type { LogRollingConfig } from '../../../../src/worker/index.ts';
import { waitFor } from '../../../helpers/process.ts';

const T0 = Date.UTC(2026, 11, 2, 10, 0, 0, 0);
const dirs: string[] = [];
/**
 * The launchers of this file: after() kills what they still run through them (they know which children are still
 * theirs), never by a remembered pid, which may belong to another process by then (pids are reused).
 */
const launchers: NodeProcessLauncher[] = [];
after(async () => {
  for (const launcher of launchers) launcher.kill('executor/app-1/0', 'SIGKILL');
  for (const dir of dirs) await rm(dir, { recursive: true, force: true });
});

const SIZE_10K: LogRollingConfig = { strategy: 'size', maxSizeBytes: 10_000, maxRetainedFiles: 0, enableCompression: false };

/** Every file of one log, oldest first, read at this instant (synchronously, so it can run inside onExit). */
function logNow(dir: string, name: string): { names: string[]; text: string } {
  const names = readdirSync(dir)
    .filter((n) => n.startsWith(`${name}--`))
    .sort();
  const all = [...names, name];
  const read = (n: string): string => (n.endsWith('.gz') ? gunzipSync(readFileSync(join(dir, n))) : readFileSync(join(dir, n))).toString();
  return { names, text: all.map(read).join('') };
}

async function launchScript(script: string, options: ConstructorParameters<typeof NodeProcessLauncher>[0]) {
  const dir = await mkdtemp(join(tmpdir(), 'flint-launch-rolling-'));
  dirs.push(dir);
  await writeFile(join(dir, 'stderr'), 'Spark Executor Command: node\n========================================\n\n');
  let clock = T0;
  const launcher = new NodeProcessLauncher({ now: () => (clock += 1000), ...options });
  let atExit: { exit: ProcessExit; stdout: ReturnType<typeof logNow>; stderr: ReturnType<typeof logNow> } | undefined;
  const launched = launcher.launch(
    { key: 'executor/app-1/0', argv: [process.execPath, '-e', script], env: {}, cwd: dir, stdoutPath: join(dir, 'stdout'), stderrPath: join(dir, 'stderr') },
    (exit) => (atExit = { exit, stdout: logNow(dir, 'stdout'), stderr: logNow(dir, 'stderr') }),
  );
  launchers.push(launcher);
  return { dir, launcher, launched, atExit: () => atExit };
}

const lines = (prefix: string, count: number): string =>
  Array.from({ length: count }, (_, i) => `${prefix} line ${String(i).padStart(5, '0')}\n`).join('');
/** The same function, for the child's script. */
const linesSource = `const lines = ${lines.toString()}`;

test('rolling on: the output is rolled and gzipped, complete and in order when the exit is reported', async () => {
  // 160 KB, more than the pipe holds, rolled before every 8 KiB slice (the clock moves a second a slice) and
  // gzipped: the appender is still behind when the child exits.
  const expectedOut = lines('out', 10_000);
  const script = `${linesSource}; process.stdout.write(lines('out', 10000)); process.stderr.write('to stderr\\n'); process.exitCode = 3;`;
  const everySecond: LogRollingConfig = { strategy: 'time', intervalMs: 1000, suffixPattern: '--yyyy-MM-dd--HH-mm-ss', maxRetainedFiles: 0, enableCompression: true };
  const run = await launchScript(script, { rolling: everySecond });
  const atExit = await waitFor(run.atExit, { timeoutMs: 10_000, what: 'the exit report' });
  assert.deepEqual(atExit.exit, { key: 'executor/app-1/0', code: 3, signal: null });
  assert.equal(atExit.stdout.text, expectedOut, 'every byte, in order, before the exit was reported');
  assert.ok(atExit.stdout.names.length >= 10, `rolled files: ${atExit.stdout.names.join(', ')}`);
  for (const name of atExit.stdout.names) {
    assert.match(name, /^stdout--\d{4}-\d\d-\d\d--\d\d-\d\d-\d\d\.gz$/);
    assert.ok(gunzipSync(await readFile(join(run.dir, name))).length <= 8192, `${name} holds one slice at most`);
  }
  assert.equal(atExit.stderr.text, 'Spark Executor Command: node\n========================================\n\nto stderr\n', 'the header is kept');
  assert.deepEqual(run.launcher.running(), []);
});

test('rolling on with compression and retention: only the newest rolled files stay, gzipped', async () => {
  const script = `${linesSource}; process.stdout.write(lines('out', 3000));`;
  const run = await launchScript(script, { rolling: { ...SIZE_10K, maxRetainedFiles: 2, enableCompression: true } });
  await waitFor(run.atExit, { timeoutMs: 10_000, what: 'the exit report' });
  const rolled = (await readdir(run.dir)).filter((n) => n.startsWith('stdout--')).sort();
  assert.equal(rolled.length, 2, rolled.join(', '));
  for (const name of rolled) assert.ok(name.endsWith('.gz'), name);
});

test('a helper that keeps the pipes open delays the exit report by the grace period only', async () => {
  // The child leaves a grandchild in its process group holding stdout and stderr, then exits.
  const script = [
    `const { spawn } = require('node:child_process');`,
    `spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60000)'], { stdio: ['ignore', 'inherit', 'inherit'] }).unref();`,
    `process.stdout.write('before exit\\n');`,
  ].join('\n');
  const run = await launchScript(script, { rolling: SIZE_10K, outputGraceMs: 300 });
  const atExit = await waitFor(run.atExit, { timeoutMs: 10_000, what: 'the exit report despite the open pipes' });
  assert.equal(atExit.exit.code, 0);
  assert.equal(atExit.stdout.text, 'before exit\n');
});

test('rolling off: the child writes its files directly, as before', async () => {
  const run = await launchScript(`process.stdout.write('plain\\n');`, {});
  await waitFor(run.atExit, { timeoutMs: 10_000, what: 'the exit report' });
  assert.deepEqual((await readdir(run.dir)).sort(), ['stderr', 'stdout']);
  assert.equal(await readFile(join(run.dir, 'stdout'), 'utf8'), 'plain\n');
});

test('rolling on: a program that cannot start still has its exit reported, without waiting out the grace', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'flint-launch-rolling-'));
  dirs.push(dir);
  const launcher = new NodeProcessLauncher({ rolling: SIZE_10K, outputGraceMs: 600_000 });
  let exit: ProcessExit | undefined;
  assert.throws(() =>
    launcher.launch(
      { key: 'missing', argv: ['/nonexistent/program'], env: {}, cwd: dir, stdoutPath: join(dir, 'stdout'), stderrPath: join(dir, 'stderr') },
      (e) => (exit = e),
    ),
  );
  const reported = await waitFor(() => exit, { timeoutMs: 10_000, what: 'the failed launch to be reported' });
  assert.equal(reported.key, 'missing');
  assert.notEqual(reported.code, 0);
});
