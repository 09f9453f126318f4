// The npm package, used as a user uses it (issue 15, docs/getting-started.md): `npm pack` on a copy of the checkout
// (a fresh clone after bootstrap: no lib/, which prepack builds) makes a tarball that a new project under the
// system's temp directory, outside the repo, installs with typescript and @types/node. There, `tsc` under `strict`
// (and without skipLibCheck, so the shipped .d.ts are checked too) passes on an app that uses FlintContext and
// reports a deliberate type error in another file, and `npx flint submit` runs the app on a master and a worker
// started from the installed package's own bin, on the Node 24 npm installed beside it; `npx flint demo` runs the
// example the package ships compiled.

import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { cpSync, mkdirSync, readFileSync, readlinkSync, realpathSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { after, before, describe, test } from 'node:test';
import { logLine, newSecret, startedLine, writeSecretFile } from '../../helpers/daemons.ts';
import { ChildGroup, REPO_ROOT, spawnChild, type ChildHandle } from '../../helpers/process.ts';
import { tempDir } from '../../helpers/temp-dir.ts';

const execFileAsync = promisify(execFile);
const checkoutPackage = JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as { devDependencies: Record<string, string> };
/** What the checkout itself builds with, so npm finds them in the cache bootstrap filled. */
const typescript = `typescript@${checkoutPackage.devDependencies['typescript']}`;
const typesNode = `@types/node@${checkoutPackage.devDependencies['@types/node']}`;

const APP = `import { FlintContext, runApp, type Dataset } from 'flint';

export function square(x: number): number {
  return x * x;
}

export function add(a: number, b: number): number {
  return a + b;
}

runApp(async () => {
  const flint = await FlintContext.create({ appName: 'squares', progress: false });
  try {
    const squares: Dataset<number> = flint.range(0, 10, 1, 4).map(square);
    const sum: number = await squares.reduce(add);
    console.log(\`sum of squares: \${sum}\`);
  } finally {
    await flint.stop();
  }
});
`;

/** Two mistakes the types must catch: a number for a string option, and a count (a number) returned as a string. */
const BAD = `import { FlintContext } from 'flint';

export async function wrong(): Promise<string> {
  const flint = await FlintContext.create({ appName: 42 });
  return flint.range(0, 3).count();
}
`;

const TSCONFIG = {
  compilerOptions: { target: 'es2024', module: 'nodenext', moduleResolution: 'nodenext', types: ['node'], strict: true, skipLibCheck: false, noEmit: true },
  files: ['app.ts'],
};

interface Run {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs `command` to its end without blocking the event loop (the daemons' output keeps being read meanwhile). */
async function run(command: string, args: readonly string[], cwd: string, timeoutMs: number): Promise<Run> {
  try {
    const { stdout, stderr } = await execFileAsync(command, [...args], { cwd, timeout: timeoutMs, maxBuffer: 16 * 1024 * 1024 });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code?: number | string; stdout?: string; stderr?: string; message: string };
    return { code: typeof e.code === 'number' ? e.code : -1, stdout: e.stdout ?? '', stderr: e.stderr ?? e.message };
  }
}

const show = (r: Run): string => `exit ${r.code}\nstdout:\n${r.stdout}\nstderr:\n${r.stderr}`;

// About 50 s on a quiet 2-core machine (npm pack 12 s, npm install 20 s, tsc twice 11 s, the cluster and the demo
// 6 s), 85 s at a load average of 5: the bound leaves room for a loaded host.
describe('the npm package in a fresh project outside the repo', { timeout: 180_000 }, () => {
  const children = new ChildGroup();
  let root: string;
  let project: string;
  let packed: { filename: string; size: number; files: Array<{ path: string }> };

  before(async () => {
    root = tempDir('flint-package-');
    // What `git clone` and scripts/bootstrap.sh leave: the tracked files and node_modules, no lib/ and no dist/.
    const checkout = join(root, 'checkout');
    // conf/: the tracked templates only, never a secret or a flint-defaults.conf of the developer's.
    const tracked = (path: string): boolean => !path.startsWith(`${join(REPO_ROOT, 'conf')}/`) || /\.(template|json)$/.test(path);
    for (const part of ['bin', 'src', 'scripts', 'conf', 'sbin', 'static', 'examples', 'docs', 'README.md', 'package.json', 'package-lock.json', 'tsconfig.json']) {
      cpSync(join(REPO_ROOT, part), join(checkout, part), { recursive: true, filter: tracked });
    }
    // What an operator of the checkout may have put in conf/ (README.md): package.json `files` must leave it out.
    writeSecretFile(join(checkout, 'conf', 'secret'), newSecret());
    writeFileSync(join(checkout, 'conf', 'flint-defaults.conf'), `flint.authenticate.secret.file ${join(checkout, 'conf', 'secret')}\n`);
    symlinkSync(join(REPO_ROOT, 'node_modules'), join(checkout, 'node_modules'));
    const pack = await run('npm', ['pack', '--json', '--pack-destination', root], checkout, 90_000);
    assert.equal(pack.code, 0, show(pack));
    const [result] = JSON.parse(pack.stdout) as Array<typeof packed>;
    assert.ok(result !== undefined, show(pack));
    packed = result;

    project = join(root, 'project');
    mkdirSync(project);
    writeFileSync(join(project, 'package.json'), `${JSON.stringify({ name: 'my-flint-app', private: true, type: 'module' }, null, 2)}\n`);
    const install = await run('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund', join(root, packed.filename), typescript, typesNode], project, 90_000);
    assert.equal(install.code, 0, show(install));
  });

  after(async () => {
    await children.killAll();
    if (root !== undefined) rmSync(root, { recursive: true, force: true });
  });

  test('the tarball holds the compiled programs, the .d.ts, the bin, the UI and conf templates; no sources, no conf of the checkout\'s', () => {
    const files = new Set(packed.files.map((f) => f.path));
    for (const file of ['bin/flint', 'lib/cli.mjs', 'lib/api.mjs', 'lib/executor.mjs', 'lib/driver.mjs', 'lib/task-thread.mjs', 'lib/remote.mjs', 'lib/examples/pi.mjs', 'lib/types/api/index.d.ts', 'lib/types/api/context.d.ts', 'static/flint.css', 'conf/flint-defaults.conf.template', 'sbin/start-master.sh', 'package.json']) {
      assert.ok(files.has(file), `${file} is in the tarball`);
    }
    const unwanted = [...files].filter((f) => f.startsWith('src/') || f.startsWith('scripts/') || (f.startsWith('conf/') && !f.endsWith('.template') && !f.endsWith('.json')));
    assert.deepEqual(unwanted, []);
  });

  test('tsc under strict passes on an app that uses FlintContext, and reports a type error in another', async () => {
    writeFileSync(join(project, 'app.ts'), APP);
    writeFileSync(join(project, 'tsconfig.json'), `${JSON.stringify(TSCONFIG, null, 2)}\n`);
    writeFileSync(join(project, 'bad.ts'), BAD);
    writeFileSync(join(project, 'tsconfig.bad.json'), `${JSON.stringify({ extends: './tsconfig.json', files: ['bad.ts'] }, null, 2)}\n`);
    // Two projects, two runs of tsc at once (each checks the shipped .d.ts and those of the dependencies).
    const [good, bad] = await Promise.all([run('npx', ['tsc', '-p', '.'], project, 60_000), run('npx', ['tsc', '-p', 'tsconfig.bad.json'], project, 60_000)]);
    assert.equal(good.code, 0, show(good));
    assert.notEqual(bad.code, 0, show(bad));
    assert.match(bad.stdout, /bad\.ts\(4,\d+\): error TS2322: Type 'number' is not assignable to type 'string'/);
    assert.match(bad.stdout, /bad\.ts\(5,\d+\): error TS2322: Type 'number' is not assignable to type 'string'/);
  });

  test('npx flint submit runs the app on a master and a worker started from the installed package', async () => {
    const flint = join(project, 'node_modules', '.bin', 'flint');
    const secretFile = writeSecretFile(join(project, 'secret'), newSecret());
    const secret = ['--conf', `flint.authenticate.secret.file=${secretFile}`];
    const daemon = (label: string, args: string[]): ChildHandle => children.add(spawnChild(flint, [...args, ...secret], { label, cwd: project }));
    const master = await startedLine(daemon('master', ['master', '--host', '127.0.0.1', '--port', '0', '--webui-port', '0']), 30_000);
    const masterUrl = String(master.started['masterUrl']);
    const worker = daemon('worker', ['worker', masterUrl, '--host', '127.0.0.1', '--port', '0', '--webui-port', '0', '--cores', '2', '--memory', '1g', '--work-dir', join(project, 'work')]);
    await logLine(worker, (l) => String(l['msg']).startsWith('Successfully registered with master'), 'the worker to register', 30_000);
    // bin/flint ran the Node 24 npm installed into the project (node_modules/node), not one on PATH.
    const projectNode = realpathSync(join(project, 'node_modules', 'node', 'bin', 'node'));
    for (const child of [master.child, worker]) assert.equal(readlinkSync(`/proc/${child.pid}/exe`), projectNode, child.label);

    const submit = await run('npx', ['flint', 'submit', '--master', masterUrl, ...secret, '--executor-memory', '256m', 'app.ts'], project, 60_000);
    assert.equal(submit.code, 0, show(submit));
    assert.match(submit.stdout, /^sum of squares: 285$/m);

    await worker.kill('SIGTERM', 20_000);
    await master.child.kill('SIGTERM', 10_000);
  });

  test("npx flint submit --master 'local[2]' runs the app in local mode, with no daemon (docs/getting-started.md)", async () => {
    const local = await run('npx', ['flint', 'submit', '--master', 'local[2]', 'app.ts'], project, 60_000);
    assert.equal(local.code, 0, show(local));
    assert.match(local.stdout, /^sum of squares: 285$/m);
  });

  test('npx flint demo runs the pi example the package ships compiled, on a cluster of its own', async () => {
    const demo = await run('npx', ['flint', 'demo', '--workers', '1', '--cores', '1', '--samples', '100000', '--slices', '2'], project, 60_000);
    assert.equal(demo.code, 0, show(demo));
    assert.match(demo.stdout, /Running .*node_modules\/flint\/lib\/examples\/pi\.mjs with 100000 samples/);
    assert.match(demo.stdout, /^Pi is roughly 3\.\d+ \(100000 samples over 2 slices\)$/m);
    assert.match(demo.stdout, /^Cluster stopped; nothing is left running\.$/m);
  });
});

test('bin/flint of an installed package without a Node 24 near it or on PATH says what it expects', async (t) => {
  const dir = tempDir('flint-package-no-node-');
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  // The package's shape (bin/flint and lib/cli.mjs, no node_modules/node above it) and a `node` 20 on PATH.
  mkdirSync(join(dir, 'pkg', 'lib'), { recursive: true });
  cpSync(join(REPO_ROOT, 'bin'), join(dir, 'pkg', 'bin'), { recursive: true });
  writeFileSync(join(dir, 'pkg', 'lib', 'cli.mjs'), '');
  mkdirSync(join(dir, 'path'));
  writeFileSync(join(dir, 'path', 'node'), '#!/bin/sh\necho v20.19.0\n', { mode: 0o755 });
  const r = await run('/usr/bin/env', [`PATH=${join(dir, 'path')}:/usr/bin:/bin`, join(dir, 'pkg', 'bin', 'flint'), '--version'], dir, 10_000);
  assert.equal(r.code, 1, show(r));
  assert.match(r.stderr, /^flint: no Node 24 found for the flint package in .*pkg: expected the npm package node@24 \(a dependency of flint\) in node_modules\/node of .*pkg or of a directory above it, or `node` 24 on PATH \(found v20\.19\.0\); run `npm install` in your project again$/m);
});
