// A task thread's import of its application's bundle (task-thread.ts `importBundle`): a bundle that is missing for a
// moment (the worker's cleanup holds it aside while it checks it once more: src/io/worker-files/app-code-dir.ts)
// is looked for again; anything else fails at once.
import assert from 'node:assert/strict';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { BUNDLE_IMPORT_ATTEMPTS, importBundle } from '../../../../src/io/executor/task-thread.ts';
import { tempDir } from '../../../helpers/temp-dir.ts';

const dir = tempDir('flint-bundle-import-');
after(() => rmSync(dir, { recursive: true, force: true }));
let files = 0;
const bundlePath = (): string => join(dir, `bundle-${++files}.mjs`);

test('a bundle that appears before the next attempt is imported', async () => {
  const path = bundlePath();
  let retries = 0;
  const exports = await importBundle(path, async () => {
    retries += 1;
    if (retries === 2) writeFileSync(path, 'export const answer = 42;\n');
  });
  assert.equal(exports['answer'], 42);
  assert.equal(retries, 2);
});

test('a bundle that never appears fails after the last attempt, with the error naming it', async () => {
  const path = bundlePath();
  let retries = 0;
  await assert.rejects(
    importBundle(path, async () => void (retries += 1)),
    (err: NodeJS.ErrnoException) => err.code === 'ERR_MODULE_NOT_FOUND' && err.message.includes(path),
  );
  assert.equal(retries, BUNDLE_IMPORT_ATTEMPTS - 1);
});

test('a bundle that imports a missing module, or throws, fails at once', async () => {
  const importsMissing = bundlePath();
  writeFileSync(importsMissing, "import './no-such-module.mjs';\nexport const x = 1;\n");
  const throws = bundlePath();
  writeFileSync(throws, "throw new Error('broken bundle');\n");
  let retries = 0;
  const count = async (): Promise<void> => void (retries += 1);
  await assert.rejects(importBundle(importsMissing, count), (err: NodeJS.ErrnoException) => err.code === 'ERR_MODULE_NOT_FOUND' && err.message.includes('no-such-module'));
  await assert.rejects(importBundle(throws, count), /broken bundle/);
  assert.equal(retries, 0);
});
