// The driver loads the app's own TypeScript modules as esbuild compiled them for the executors' bundle
// (src/api/resolve-flint.ts, bundle-app.ts driverModules), kept in the bundle cache: all of TypeScript, as in the
// bundle (an enum, which Node's own type stripping refuses), stacks in the app's own lines, the same on a second run
// (the compilation from the cache), and Node's type stripper never loaded by a driver run from the build.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { ChildGroup, REPO_ROOT, spawnChild } from '../../helpers/process.ts';
import { finished } from '../../helpers/submit.ts';
import { tempDir } from '../../helpers/temp-dir.ts';

const children = new ChildGroup();

const dir = tempDir('flint-driver-modules-');
const APP = join(dir, 'app.ts');
writeFileSync(join(dir, 'colors.ts'), 'export enum Color {\n  Red = 1,\n  Green = 2,\n}\n');
writeFileSync(
  APP,
  [
    "import { FlintContext, runApp } from 'flint';",
    "import { Color } from './colors.ts';",
    '',
    'export function twice(x: number): number {',
    '  return x * Color.Green;',
    '}',
    '',
    'runApp(async (args) => {',
    "  const flint = await FlintContext.create({ appName: 'driver modules', progress: false });",
    '  const offset: number = Number(args[0] ?? 0);',
    '  const out = await flint.parallelize([1, 2, 3], 1).map(twice).map((x: number) => x + offset).collect();',
    "  const stripper = process.moduleLoadList.some((m) => m.includes('amaro'));",
    '  console.log(`RESULT ${JSON.stringify(out)} stripper=${stripper}`);',
    '  await flint.stop();',
    "  if (args[1] === 'throw') throw new Error('thrown on the driver');",
    '});',
    '',
  ].join('\n'),
);
/** The line of the throw above (1-based). */
const THROW_LINE = 15;

/** `bin/flint submit` (the build, as users run it) in local mode, with a bundle cache of this test's own. */
function submit(args: string[], label: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const conf = ['--conf', `flint.app.bundleCache.dir=${join(dir, 'cache')}`, '--conf', 'flint.ui.enabled=false'];
  return finished(children.add(spawnChild(join(REPO_ROOT, 'bin', 'flint'), ['submit', '--master', 'local[1]', ...conf, APP, ...args], { label, cwd: dir })), 90_000);
}

describe('the driver runs the app’s TypeScript as the bundle compiles it', () => {
  after(() => children.killAll());

  test('an enum in an imported module, on a first run and from the cache on a second; no type stripper loaded', async () => {
    for (const run of ['first', 'second']) {
      const { code, stdout, stderr } = await submit(['10'], `${run} run`);
      assert.equal(code, 0, `${run} run: ${stderr}`);
      assert.match(stdout, /^RESULT \[12,14,16\] stripper=false$/m, `${run} run`);
    }
  });

  test('an error thrown on the driver names the line of the app’s own file', async () => {
    const { code, stderr } = await submit(['0', 'throw'], 'throwing run');
    assert.equal(code, 1, stderr);
    assert.match(stderr, /thrown on the driver/);
    assert.match(stderr, new RegExp(`app\\.ts:${THROW_LINE}:\\d+`), stderr);
  });
});
