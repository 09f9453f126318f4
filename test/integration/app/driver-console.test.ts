// A driver's log lines (src/util/logger.ts, createConsoleLogger): on a terminal, short readable lines on stderr,
// warnings and errors only by default; in a pipe or a file, JSON lines. The application's own output (stdout) is
// apart from them either way. The terminal is a real pseudo-terminal (util-linux's `script`).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { test } from 'node:test';
import { NODE_BIN, REPO_ROOT } from '../../helpers/process.ts';

const APP = join(REPO_ROOT, 'test', 'fixtures', 'apps', 'console-app.ts');
const WARNING = "flint.executor.memroy (the application's conf) is not a key Flint reads; it is ignored. Did you mean flint.executor.memory?";
const env = { ...process.env, NO_COLOR: '1', FLINT_LOG_LEVEL: '' };
// The app imports `flint`, which in this checkout is the sources under the flint-source condition (package.json).
const SOURCES = '--conditions=flint-source';

test('in a pipe the driver writes JSON lines on stderr, and the application its own output on stdout', { timeout: 60_000 }, () => {
  const run = spawnSync(NODE_BIN, [SOURCES, APP], { cwd: REPO_ROOT, encoding: 'utf8', timeout: 50_000, env });
  assert.equal(run.status, 0, run.stderr);
  assert.equal(run.stdout, "the app's own output: ApplicationFailedError\n");
  const lines = run.stderr.split('\n').filter((line) => line.startsWith('{'));
  const entries = lines.map((line) => JSON.parse(line) as { level: number; msg: string });
  assert.ok(entries.some((e) => e.level === 40 && e.msg === WARNING), run.stderr);
  assert.ok(entries.every((e) => e.level >= 40), 'warnings and errors only by default');
});

test('on a terminal the driver writes short readable lines, warnings and errors only', { timeout: 60_000 }, () => {
  const run = spawnSync('script', ['-qec', `${NODE_BIN} ${SOURCES} ${APP}`, '/dev/null'], { cwd: REPO_ROOT, encoding: 'utf8', timeout: 50_000, env });
  assert.equal(run.status, 0, run.stdout);
  const lines = run.stdout.split(/\r?\n/);
  const warning = lines.find((l) => l.includes('flint.executor.memroy'));
  assert.match(warning ?? '', /^\[\d\d:\d\d:\d\d\] WARN: /, run.stdout);
  assert.equal(warning?.replace(/^\[[\d:]+\] WARN: /, ''), WARNING, 'the time, the level and the message: no fields');
  assert.match(run.stdout, /^\[\d\d:\d\d:\d\d\] ERROR: Application has been killed\. Reason: All masters are unresponsive! Giving up\. \{"reason":/m);
  assert.ok(!lines.some((l) => l.startsWith('{')), 'no JSON line');
  assert.ok(!/INFO/.test(run.stdout), 'no info lines by default');
  assert.ok(lines.includes("the app's own output: ApplicationFailedError"));
});
