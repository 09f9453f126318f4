// The CLI turns on Node's compile cache only in a private directory of this user's (src/cli/main.ts,
// src/util/private-dir.ts): its bytecode runs in every daemon and executor, so a directory others may write to is
// refused with a warning and not handed on to the processes the CLI starts. By default it is
// $XDG_CACHE_HOME/flint/compile-cache (~/.cache/flint/compile-cache), made 0700.

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readdirSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { REPO_ROOT } from '../../helpers/process.ts';
import { tempDir } from '../../helpers/temp-dir.ts';

const root = tempDir('flint-compile-cache-test-');
after(() => rmSync(root, { recursive: true, force: true }));

/** `bin/flint --version` with `env` over this process's environment, less any compile cache setting of its own. */
function flintVersion(env: Record<string, string>): { code: number | null; stdout: string; stderr: string } {
  const base = { ...process.env };
  delete base['NODE_COMPILE_CACHE'];
  delete base['NODE_DISABLE_COMPILE_CACHE'];
  const run = spawnSync(join(REPO_ROOT, 'bin', 'flint'), ['--version'], { encoding: 'utf8', timeout: 120_000, env: { ...base, ...env } });
  return { code: run.status, stdout: run.stdout, stderr: run.stderr.replace(/^flint: built .*\n/m, '') };
}

/** Files anywhere under `dir` (Node keeps its entries in a subdirectory per Node version). */
function filesUnder(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true }).filter((e) => e.isFile()).map((e) => e.name);
}

test('by default the compile cache is a private directory under XDG_CACHE_HOME, made 0700 and filled', { timeout: 180_000 }, () => {
  const xdg = join(root, 'xdg');
  const run = flintVersion({ XDG_CACHE_HOME: xdg });
  assert.equal(run.code, 0, run.stderr);
  assert.match(run.stdout, /^flint \d+\.\d+\.\d+ /);
  assert.equal(run.stderr, '');
  const dir = join(xdg, 'flint', 'compile-cache');
  assert.equal(statSync(dir).mode & 0o777, 0o700);
  assert.ok(filesUnder(dir).length > 0, 'Node wrote its cache there');
});

test('a compile cache directory others may write to is refused with a warning naming it, and no other is chosen', { timeout: 180_000 }, () => {
  const open = join(root, 'open');
  mkdirSync(open);
  chmodSync(open, 0o777);
  const run = flintVersion({ NODE_COMPILE_CACHE: open, XDG_CACHE_HOME: join(root, 'unused') });
  assert.equal(run.code, 0, run.stderr);
  assert.match(run.stdout, /^flint \d+\.\d+\.\d+ /);
  assert.match(run.stderr, /flint: warning: Node's compile cache .*open may be written by others \(mode 777\); expected 700; running without it/);
  // Node itself reads NODE_COMPILE_CACHE as it starts, before Flint's code can refuse it, so it may have written
  // entries for the CLI's own first module; the point is the warning and that no child inherits the directory.
  assert.equal(existsSync(join(root, 'unused', 'flint', 'compile-cache')), false, 'no other directory was chosen behind the operator\'s back');
});

test('NODE_DISABLE_COMPILE_CACHE=1 turns the cache off: no directory is made', { timeout: 180_000 }, () => {
  const xdg = join(root, 'off');
  const run = flintVersion({ XDG_CACHE_HOME: xdg, NODE_DISABLE_COMPILE_CACHE: '1' });
  assert.equal(run.code, 0, run.stderr);
  assert.equal(run.stderr, '');
  assert.equal(existsSync(join(xdg, 'flint', 'compile-cache')), false);
});
