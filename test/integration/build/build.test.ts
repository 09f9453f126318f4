// bin/flint runs Flint from a build (scripts/build.ts): on a copy of the install with no dist/, the first run
// builds, later runs reuse the build, a changed source gives a new build (the old one kept for processes still
// running it), a source that does not compile is a clear error, and FLINT_FROM_SOURCES=1 runs the sources.

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { appendFileSync, cpSync, existsSync, readdirSync, readlinkSync, rmSync, symlinkSync, utimesSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { REPO_ROOT } from '../../helpers/process.ts';
import { tempDir } from '../../helpers/temp-dir.ts';

describe('bin/flint and its build', { timeout: 120_000 }, () => {
  let home: string;
  before(() => {
    home = tempDir('flint-build-');
    for (const part of ['bin', 'src', 'scripts', 'conf', 'package.json', 'package-lock.json']) cpSync(join(REPO_ROOT, part), join(home, part), { recursive: true });
    symlinkSync(join(REPO_ROOT, 'node_modules'), join(home, 'node_modules'));
  });
  after(() => rmSync(home, { recursive: true, force: true }));

  const flint = (args: string[], env: Record<string, string> = {}) => {
    const run = spawnSync(join(home, 'bin', 'flint'), args, { encoding: 'utf8', timeout: 60_000, env: { ...process.env, ...env } });
    return { code: run.status, stdout: run.stdout, stderr: run.stderr };
  };
  const current = () => readlinkSync(join(home, 'dist', 'current'));
  /** Appends `text` to src/cli/program.ts, dated `aheadMs` in the future (newer than any build). */
  const changeSource = (text: string, aheadMs: number) => {
    const file = join(home, 'src', 'cli', 'program.ts');
    appendFileSync(file, text);
    const later = new Date(Date.now() + aheadMs);
    utimesSync(file, later, later);
  };
  const builds = () => readdirSync(join(home, 'dist', 'builds')).filter((name) => !name.startsWith('.')).sort();

  test('the first run builds dist/current; the next runs reuse it', () => {
    assert.equal(existsSync(join(home, 'dist')), false);
    const first = flint(['--version']);
    assert.equal(first.code, 0, first.stderr);
    assert.match(first.stdout, /^flint \d+\.\d+\.\d+ /);
    assert.match(first.stderr, /flint: built dist\/builds\/[0-9a-f]{16} in \d+ ms/);
    for (const program of ['cli', 'executor', 'driver', 'task-thread', 'api']) assert.ok(existsSync(join(home, 'dist', 'current', `${program}.mjs`)), program);
    const again = flint(['--version']);
    assert.equal(again.code, 0, again.stderr);
    assert.equal(again.stderr, '', 'no second build');
    assert.deepEqual(builds(), [current().replace('builds/', '')]);
  });

  test('a changed source gives a new build; the previous one stays for processes still running it', () => {
    const before = current();
    changeSource('\n// a change\n', 2_000);
    const run = flint(['--version']);
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stderr, /flint: built /);
    assert.notEqual(current(), before);
    assert.deepEqual(builds(), [before, current()].map((b) => b.replace('builds/', '')).sort());
  });

  test('a source that does not compile: a clear error naming the file, exit code 1, and the current build kept', () => {
    const before = current();
    changeSource('\nexport const broken = ;\n', 4_000);
    const run = flint(['--version']);
    assert.equal(run.code, 1);
    assert.match(run.stderr, /flint: the build failed/);
    assert.match(run.stderr, /src\/cli\/program\.ts:\d+/);
    assert.equal(current(), before);
  });

  test('FLINT_FROM_SOURCES=1 runs the TypeScript sources without building', () => {
    // Still broken from the test above: a run from the sources fails in the sources, not in a build.
    const run = flint(['--version'], { FLINT_FROM_SOURCES: '1' });
    assert.equal(run.code, 1);
    assert.doesNotMatch(run.stderr, /the build failed/);
    assert.match(run.stderr, /program\.ts/);
  });
});
