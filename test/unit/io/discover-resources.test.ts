// Worker resource discovery (reference §6.9) with fake discovery scripts written by the test.
import assert from 'node:assert/strict';
import { chmodSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { FlintConf } from '../../../src/conf/flint-conf.ts';
import { discoverWorkerResources } from '../../../src/io/worker-resources/discover-resources.ts';
import { tempDir } from '../../helpers/temp-dir.ts';

const dir = tempDir('flint-resources-');
after(() => rmSync(dir, { recursive: true, force: true }));

function script(name: string, body: string): string {
  const path = join(dir, name);
  writeFileSync(path, `#!/bin/sh\n${body}\n`);
  chmodSync(path, 0o755);
  return path;
}
const conf = (pairs: Record<string, string>): FlintConf => new FlintConf(Object.entries(pairs));

test('a discovery script and a resources file give the worker its addresses', async () => {
  const gpus = script('gpus.sh', `echo '{"name": "gpu", "addresses": ["0", "1", "2"]}'`);
  const file = join(dir, 'resources.json');
  writeFileSync(file, JSON.stringify([{ id: { componentName: 'spark.worker', resourceName: 'fpga' }, addresses: ['f0'] }]));
  const found = await discoverWorkerResources(
    conf({ 'flint.worker.resource.gpu.amount': '2', 'flint.worker.resource.gpu.discoveryScript': gpus, 'flint.worker.resourcesFile': file }),
  );
  assert.deepEqual(found, { fpga: ['f0'], gpu: ['0', '1', '2'] });
  assert.equal(await discoverWorkerResources(conf({})), undefined);
});

test('every failure is a startup error naming the key, the script and what was wrong', async () => {
  const cases: Array<[Record<string, string>, RegExp]> = [
    [{ 'flint.worker.resource.gpu.amount': '1' }, /discoveryScript/],
    [{ 'flint.worker.resource.gpu.amount': '1', 'flint.worker.resource.gpu.discoveryScript': script('bad.sh', 'echo not json') }, /bad\.sh.*not JSON/],
    [{ 'flint.worker.resource.gpu.amount': '1', 'flint.worker.resource.gpu.discoveryScript': script('fail.sh', 'echo oops >&2; exit 3') }, /^the discovery script \S*fail\.sh of gpu failed: it exited with status 3: oops$/],
    [{ 'flint.worker.resource.gpu.amount': '1', 'flint.worker.resource.gpu.discoveryScript': script('other.sh', `echo '{"name":"fpga","addresses":["0"]}'`) }, /reported resource "fpga"/],
    [{ 'flint.worker.resource.gpu.amount': '3', 'flint.worker.resource.gpu.discoveryScript': script('few.sh', `echo '{"name":"gpu","addresses":["0"]}'`) }, /less than what the user requested: 3/],
    [{ 'flint.worker.resource.gpu.amount': '1', 'flint.worker.resource.gpu.discoveryScript': script('comma.sh', `echo '{"name":"gpu","addresses":["0,1"]}'`) }, /addresses\/0/],
    [{ 'flint.worker.resource.gpu.amount': '1', 'flint.worker.resource.gpu.discoveryScript': script('slow.sh', 'sleep 30'), 'flint.worker.resource.discoveryTimeout': '1s' }, /did not finish within 1000 ms/],
    [{ 'flint.worker.resource.gpu.amount': '1', 'flint.worker.resource.gpu.discoveryScript': join(dir, 'missing.sh') }, /could not be run \(ENOENT\)/],
  ];
  for (const [pairs, expected] of cases) {
    await assert.rejects(discoverWorkerResources(conf(pairs)), (err: Error & { code?: string }) => {
      assert.equal(err.code, 'FLINT_CONFIG_INVALID');
      assert.match(err.message, expected);
      return true;
    });
  }
});

test('a resources file that cannot be read, is too large or is not JSON, and too many resources, are refused', async () => {
  const missing = join(dir, 'missing.json');
  const huge = join(dir, 'huge.json');
  writeFileSync(huge, ' '.repeat(1024 * 1024 + 1));
  const prose = join(dir, 'prose.json');
  writeFileSync(prose, 'gpu: 0, 1');
  const many = Object.fromEntries(Array.from({ length: 40 }, (_, i) => [`flint.worker.resource.r${i}.amount`, '1']));
  const cases: Array<[Record<string, string>, string, RegExp]> = [
    [{ 'flint.worker.resourcesFile': missing }, 'flint.worker.resourcesFile', new RegExp(`^the resources file ${missing} cannot be read: ENOENT`)],
    [{ 'flint.worker.resourcesFile': huge }, 'flint.worker.resourcesFile', new RegExp(`^the resources file ${huge} is larger than 1048576 bytes$`)],
    [{ 'flint.worker.resourcesFile': prose }, 'flint.worker.resourcesFile', new RegExp(`^the resources file ${prose} is not JSON; expected \\[\\{"id": \\{"componentName": "spark\\.worker"`)],
    [many, 'flint.worker.resource', /^40 worker resources are configured; at most \d+ are allowed$/],
  ];
  for (const [pairs, key, message] of cases) {
    await assert.rejects(discoverWorkerResources(conf(pairs)), { code: 'FLINT_CONFIG_INVALID', key, message });
  }
});
