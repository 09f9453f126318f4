// Builds Flint's programs into dist/ (bin/flint runs this when the sources are newer than the current build).
//
//   node scripts/build.ts            build unless a build of these very sources exists; point dist/current at it
//
// esbuild bundles the programs of src/util/install.ts (cli, executor, driver, task-thread, api) with their npm
// dependencies into dist/builds/<id>/ (scripts/bundle-programs.ts, which the npm package's build shares). <id> is a
// hash of the sources and the lockfile, so the same checkout always gives the same build. The build is made in
// a temporary directory and renamed into place, and dist/current is switched with a rename, so a process that
// starts meanwhile sees either the old build or the new one, whole. Processes already running keep their own
// build directory: the last few builds are kept for them (KEEP_BUILDS).
//
// Callers serialise on dist/.build.lock (bin/flint takes it); this script does not lock.

import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { bundlePrograms } from './bundle-programs.ts';

const KEEP_BUILDS = 3;
const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const dist = join(root, 'dist');
const builds = join(dist, 'builds');

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile())
    .map((entry) => join(entry.parentPath, entry.name))
    .sort();
}

/** A hash of every source file (path and content), the lockfile, this script and the bundling it shares. */
function buildId(): string {
  const hash = createHash('sha256');
  const scripts = [fileURLToPath(import.meta.url), join(root, 'scripts', 'bundle-programs.ts')];
  for (const file of [...sourceFiles(join(root, 'src')), join(root, 'package-lock.json'), ...scripts]) {
    hash.update(relative(root, file)).update('\0').update(readFileSync(file)).update('\0');
  }
  return hash.digest('hex').slice(0, 16);
}

function pointCurrentAt(id: string): void {
  const link = join(dist, 'current');
  const temp = join(dist, `.current-${process.pid}`);
  rmSync(temp, { force: true });
  symlinkSync(join('builds', id), temp);
  renameSync(temp, link);
}

/** Keeps the newest KEEP_BUILDS builds (the current one among them) and drops builds abandoned over an hour ago. */
function pruneOldBuilds(keep: string): void {
  const entries = readdirSync(builds, { withFileTypes: true })
    .filter((entry) => entry.isDirectory() && entry.name !== keep)
    .map((entry) => ({ name: entry.name, at: statSync(join(builds, entry.name)).mtimeMs }));
  const abandoned = entries.filter((e) => e.name.startsWith('.') && e.at < Date.now() - 3_600_000);
  const older = entries.filter((e) => !e.name.startsWith('.')).sort((a, b) => b.at - a.at).slice(KEEP_BUILDS - 1);
  for (const old of [...abandoned, ...older]) rmSync(join(builds, old.name), { recursive: true, force: true });
}

async function main(): Promise<void> {
  const id = buildId();
  const dir = join(builds, id);
  mkdirSync(builds, { recursive: true });
  // A build is never made again in place: running processes may be loading its chunks.
  if (!existsSync(join(dir, '.built'))) {
    const temp = join(builds, `.${id}-${process.pid}`);
    rmSync(temp, { recursive: true, force: true });
    const started = performance.now();
    await bundlePrograms(root, temp, 'dist');
    writeFileSync(join(temp, '.built'), `${id}\n`);
    rmSync(dir, { recursive: true, force: true });
    renameSync(temp, dir);
    process.stderr.write(`flint: built ${relative(root, dir)} in ${Math.round(performance.now() - started)} ms\n`);
  }
  pointCurrentAt(id);
  // dist/current/.built is what bin/flint compares the sources' times with; the directory's time orders builds.
  writeFileSync(join(dir, '.built'), `${id}\n`);
  const now = new Date();
  utimesSync(dir, now, now);
  pruneOldBuilds(id);
}

if (process.argv.length > 2) {
  process.stderr.write('usage: node scripts/build.ts (no arguments)\n');
  process.exit(2);
}
try {
  await main();
} catch (err) {
  process.stderr.write(`flint: the build failed: ${(err as Error).message}\n`);
  process.exit(1);
}
