// bench:tasks (b): one application in a process of its own, as a user starts one: FlintContext.create() until
// its first executor has registered, on the cluster and with the bundle cache directory the benchmark gives.
//
//   node --conditions=flint-source bench/lib/first-executor.ts <master URL> <secret file> <bundle cache dir> <executor memory>
//
// Prints one JSON line, { "firstExecutorMs": … }, once both executors have registered, then stops the context.

import { FlintContext, runApp } from 'flint';

runApp(async (args) => {
  const [master, secretFile, bundleCacheDir, executorMemory] = args;
  if (master === undefined || secretFile === undefined || bundleCacheDir === undefined || executorMemory === undefined) {
    throw new Error('usage: first-executor.ts <master URL> <secret file> <bundle cache dir> <executor memory>');
  }
  const start = performance.now();
  const flint = await FlintContext.create({
    master,
    appName: 'bench:tasks first executor',
    conf: {
      'flint.cores.max': 2,
      'flint.executor.cores': 1,
      'flint.executor.memory': executorMemory,
      'flint.authenticate.secret.file': secretFile,
      'flint.app.bundleCache.dir': bundleCacheDir,
    },
    progress: false,
  });
  await flint.awaitExecutors(1, 30_000);
  const firstExecutorMs = performance.now() - start;
  await flint.awaitExecutors(2, 30_000);
  console.log(JSON.stringify({ firstExecutorMs }));
  await flint.stop();
});
