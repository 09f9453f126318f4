// `flint submit` trims Node's compile cache as its app ends, at most once a day (pruneCompileCacheIfDue in
// src/io/compile-cache/prune.ts): a machine that only submits apps has no worker's cleanup sweep to do it. Real
// `bin/flint submit` runs in local mode, with a compile cache of the test's own holding old entries.

import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { PRUNED_STAMP } from '../../../src/io/compile-cache/prune.ts';
import { ChildGroup, REPO_ROOT, spawnChild } from '../../helpers/process.ts';
import { finished } from '../../helpers/submit.ts';
import { tempDir } from '../../helpers/temp-dir.ts';

const children = new ChildGroup();
const dir = tempDir('flint-submit-cache-');
after(async () => {
  await children.killAll();
  rmSync(dir, { recursive: true, force: true });
});

const APP = join(dir, 'app.ts');
writeFileSync(
  APP,
  [
    "import { FlintContext, runApp } from 'flint';",
    'runApp(async () => {',
    "  const flint = await FlintContext.create({ appName: 'compile cache', progress: false });",
    '  console.log(`COUNT ${await flint.parallelize([1, 2, 3], 1).count()}`);',
    '  await flint.stop();',
    '});',
    '',
  ].join('\n'),
);
/** The test's compile cache (private, as src/cli/main.ts wants it), with a version directory of made-up entries. */
const cache = mkdtempSync(join(dir, 'cache-'));
const FAKE_VERSION = join(cache, 'v0.0.0-fake');
mkdirSync(FAKE_VERSION);

/** Made-up entries of `bytes` each, last modified `daysAgo` days ago (a negative number: in the future). */
function entries(names: string[], daysAgo = 7, bytes = 1_000): void {
  const when = new Date(Date.now() - daysAgo * 86_400_000);
  for (const name of names) {
    writeFileSync(join(FAKE_VERSION, name), Buffer.alloc(bytes));
    utimesSync(join(FAKE_VERSION, name), when, when);
  }
}

async function submit(label: string): Promise<void> {
  const conf = ['--conf', 'flint.ui.enabled=false', '--conf', `flint.app.bundleCache.dir=${join(dir, 'bundles')}`, '--conf', 'flint.worker.cleanup.compileCacheMaxSize=1k'];
  const run = await finished(
    children.add(spawnChild(join(REPO_ROOT, 'bin', 'flint'), ['submit', '--master', 'local[1]', ...conf, APP], { label, cwd: dir, env: { ...process.env, NODE_COMPILE_CACHE: cache } })),
    90_000,
  );
  assert.equal(run.code, 0, `${label}: ${run.stderr}`);
  assert.match(run.stdout, /^COUNT 3$/m, label);
  assert.doesNotMatch(run.stderr, /could not trim/, label);
}

test("flint submit trims Node's compile cache to flint.worker.cleanup.compileCacheMaxSize once a day, oldest entries first", { timeout: 200_000 }, async () => {
  // Node writes the run's own entries (of the app's modules) in a directory of its version, newer than the
  // week-old ones and older than `newest`, maybe only as the process exits: what the pruning sees of them
  // depends on timing, what it leaves of these does not.
  entries(['old-1', 'old-2', 'old-3']);
  entries(['newest'], -1, 900);
  await submit('first run');
  assert.deepEqual(readdirSync(FAKE_VERSION), ['newest'], 'the week-old entries are gone, oldest first, down to 1 KiB (3,900 bytes and more)');
  assert.ok(existsSync(join(cache, PRUNED_STAMP)), 'the cache is stamped as pruned');
  entries(['old-4']);
  await submit('second run, the same day');
  assert.deepEqual(readdirSync(FAKE_VERSION).sort(), ['newest', 'old-4'], 'not pruned again within the day');
});
