// A worker keeps Node's compile cache bounded (src/io/compile-cache/prune.ts): its periodic cleanup sweep trims the
// cache its processes write to (NODE_COMPILE_CACHE) to flint.worker.cleanup.compileCacheMaxSize, oldest entries
// first. Real processes: a master and a worker, and a cache directory laid out as Node lays it out, holding old
// entries made here next to the ones the worker's own Node writes.
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readdirSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { newSecret, startMaster, startWorker, writeSecretFile } from '../../helpers/daemons.ts';
import { ChildGroup, waitFor, type ChildHandle } from '../../helpers/process.ts';
import { tempDir } from '../../helpers/temp-dir.ts';

const children = new ChildGroup();
const dir = tempDir('flint-compile-cache-');
/** Stopped with SIGTERM first: it then stops its standby executors, which write to the cache as they exit. */
let workerChild: ChildHandle | undefined;
after(async () => {
  await workerChild?.kill('SIGTERM', 15_000);
  await children.killAll();
  rmSync(dir, { recursive: true, force: true });
});

test("the worker's cleanup sweep trims Node's compile cache to flint.worker.cleanup.compileCacheMaxSize, oldest entries first", { timeout: 90_000 }, async () => {
  const cache = join(dir, 'compile-cache');
  const old = join(cache, 'v0.0.0-x64-test-0');
  mkdirSync(old, { recursive: true, mode: 0o700 });
  const day = 86_400;
  for (let i = 0; i < 50; i++) {
    const entry = join(old, `entry-${i}`);
    writeFileSync(entry, Buffer.alloc(100_000)); // 5 MB in all, each a day old
    utimesSync(entry, Date.now() / 1000 - day, Date.now() / 1000 - day);
  }
  const secretFile = writeSecretFile(join(dir, 'secret'), newSecret());
  const master = await startMaster(children, { label: 'master', secretFile });
  const worker = await startWorker(children, {
    label: 'worker',
    masterUrl: master.url,
    secretFile,
    workDir: join(dir, 'work'),
    conf: ['flint.worker.cleanup.interval=1', 'flint.worker.cleanup.compileCacheMaxSize=1m'],
    env: { NODE_COMPILE_CACHE: cache },
  });
  workerChild = worker.child;
  await waitFor(() => /trimmed Node's compile cache/.test(worker.child.stderr()), { timeoutMs: 30_000, what: "the worker's first cleanup sweep" });
  const line = worker.child.stderr().split('\n').find((l) => l.includes("trimmed Node's compile cache")) ?? '';
  const logged = JSON.parse(line) as { removed: number; leftBytes: number; dir: string };
  assert.equal(logged.dir, cache);
  assert.ok(logged.removed >= 40 && logged.leftBytes <= 1024 ** 2, line);
  const left = readdirSync(old);
  assert.ok(left.length <= 10, `the day-old entries went first: ${left.length} of 50 left`);
  // The cache is the one the worker's own Node uses (it made its directory there), and only entries went.
  assert.ok(readdirSync(cache).some((name) => name.startsWith(`v${process.versions.node}-`)), "the worker's Node writes to this cache");
  assert.ok(existsSync(old), 'directories stay');
});
