// The WorkerFiles port's contract (src/ports/worker-files.ts), run on node:fs in a temporary directory and on the
// in-memory twin: the same calls give the same answers.

import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { MemoryWorkerFiles } from '../../../src/io/worker-files/memory-worker-files.ts';
import { NodeWorkerFiles } from '../../../src/io/worker-files/node-worker-files.ts';
import type { WorkerFiles } from '../../../src/ports/worker-files.ts';
import { tempDir } from '../../helpers/temp-dir.ts';

const HOUR = 3_600_000;
const temp = tempDir('flint-files-');
after(() => rmSync(temp, { recursive: true, force: true }));

interface Kind {
  readonly name: string;
  /** A fresh work dir, and a way to make a file in it look `ageMs` old. */
  make(): { files: WorkerFiles; age(path: string, ageMs: number): void };
}

let n = 0;
const KINDS: readonly Kind[] = [
  {
    name: 'NodeWorkerFiles',
    make: () => {
      const files = new NodeWorkerFiles(join(temp, `work-${n++}`));
      return {
        files,
        age: (path, ageMs) => {
          const t = new Date(Date.now() - ageMs);
          utimesSync(path, t, t);
        },
      };
    },
  },
  {
    name: 'MemoryWorkerFiles',
    make: () => {
      const files = new MemoryWorkerFiles(`/srv/work-${n++}`);
      return {
        files,
        age: (path, ageMs) => {
          const file = files.files.get(path);
          if (file !== undefined) files.files.set(path, { ...file, mtimeMs: Date.now() - ageMs });
          if (files.dirs.has(path)) files.dirs.set(path, Date.now() - ageMs);
        },
      };
    },
  },
];

for (const kind of KINDS) {
  describe(`WorkerFiles contract: ${kind.name}`, () => {
    test('a process directory is made inside the work dir once; paths outside it are refused', async () => {
      const { files } = kind.make();
      await files.prepareWorkDir();
      const dir = `${files.workDir}/app-1/0`;
      const spec = { cwd: dir, cwdMustBeNew: true, stdoutPath: `${dir}/stdout`, stderrPath: `${dir}/stderr`, stderrHeader: 'Spark Executor Command: …\n' };
      await files.prepareProcessDir(spec);
      await assert.rejects(files.prepareProcessDir(spec), /already exists/);
      await files.prepareProcessDir({ ...spec, cwdMustBeNew: false }); // a driver's directory may be reused
      for (const outside of [`${files.workDir}/../escape`, '/etc/flint', `${files.workDir}`]) {
        await assert.rejects(files.prepareProcessDir({ ...spec, cwd: outside, cwdMustBeNew: false }), /outside the work dir/, outside);
      }
      assert.match((await files.fetchAppResource('/tmp/app.js', '/tmp/copy.js')) ?? '', /outside the work dir/);
    });

    test('old app directories: only plain names, not kept ones, with nothing new inside', async () => {
      const { files, age } = kind.make();
      await files.prepareWorkDir();
      for (const app of ['app-old', 'app-new', 'app-kept']) {
        const dir = `${files.workDir}/${app}/0`;
        await files.prepareProcessDir({ cwd: dir, cwdMustBeNew: true, stdoutPath: `${dir}/stdout`, stderrPath: `${dir}/stderr`, stderrHeader: 'h' });
      }
      for (const path of [`${files.workDir}/app-old`, `${files.workDir}/app-old/0`, `${files.workDir}/app-old/0/stderr`, `${files.workDir}/app-kept`, `${files.workDir}/app-kept/0`, `${files.workDir}/app-kept/0/stderr`]) {
        age(path, 2 * HOUR);
      }
      const old = await files.oldAppDirs(Date.now() - HOUR, new Set(['app-kept']));
      assert.deepEqual(old, ['app-old']);
      await files.removeAppDir('app-old');
      assert.deepEqual(await files.oldAppDirs(Date.now() - HOUR, new Set(['app-kept'])), []);
      await assert.rejects(files.removeAppDir('../app-new'), /not a plain id/);
      await assert.rejects(files.removeAppDir(''), /not a plain id/);
    });
  });
}

test('NodeWorkerFiles: an unwritable work dir is a ConfigError naming --work-dir', async () => {
  const file = join(temp, 'not-a-dir');
  writeFileSync(file, 'x');
  await assert.rejects(new NodeWorkerFiles(join(file, 'work')).prepareWorkDir(), (err: Error & { code?: string; key?: string }) => err.code === 'FLINT_CONFIG_INVALID' && err.key === '--work-dir' && /cannot be created or written: ENOTDIR/.test(err.message));
});
