// What `import … from 'flint'` resolves to in an executor's bundle (src/api/remote.ts) exports every value the
// driver's `flint` (src/api/index.ts) does: an application importing one the stand-in lacked could not be
// bundled for its executors ("No matching export in src/api/remote.ts").
import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as driver from '../../../src/api/index.ts';
import * as remote from '../../../src/api/remote.ts';

test("the executors' flint exports every value the driver's does", () => {
  assert.deepEqual(Object.keys(remote).sort(), Object.keys(driver).sort());
});

test("creating a context inside an executor fails with the fix; the driver's error classes are there to test against", async () => {
  await assert.rejects(remote.FlintContext.create(), /FlintContext\.create\(\) was called inside an executor/);
  assert.ok(!(new Error('x') instanceof remote.JobFailedError));
});
