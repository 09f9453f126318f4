// How the executor process ends (reference §7.3 step 4–5, §6.4 fate-sharing): its worker gone (stdin closed),
// its driver gone, registration refused, a wrong secret, a driver that is not there, and bad arguments.
// Each case starts its own executor against a driver played by this test.

import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import type { AppBundle } from '../../../src/io/bundle/bundle-app.ts';
import { FakeDriver } from '../../fixtures/fake-driver.ts';
import { ChildGroup } from '../../helpers/process.ts';
import { EXECUTOR_ENTRY, fixtureBundle, startExecutor } from './helpers.ts';
import { tempDir } from '../../helpers/temp-dir.ts';

const EXIT_WITHIN_MS = 15_000;

describe('the executor process exits', { timeout: 90_000 }, () => {
  const children = new ChildGroup();
  const drivers: FakeDriver[] = [];
  const secret = randomBytes(16).toString('hex');
  let bundle: AppBundle;
  let workRoot: string;

  async function newDriver(driverSecret: string | undefined = secret): Promise<FakeDriver> {
    const driver = await FakeDriver.start({ bundle, ...(driverSecret === undefined ? {} : { secret: driverSecret }) });
    drivers.push(driver);
    return driver;
  }

  function launched(driver: FakeDriver, executorId: string): Promise<true> {
    return driver.until(() => (driver.launched.includes(executorId) ? true : undefined), `LaunchedExecutor from ${executorId}`);
  }

  before(async () => {
    bundle = await fixtureBundle();
    workRoot = tempDir('flint-executor-exit-');
  });

  after(async () => {
    await children.killAll();
    for (const driver of drivers) await driver.stop();
    rmSync(workRoot, { recursive: true, force: true });
  });

  test('with code 1 when its stdin closes: the worker that launched it is gone', async () => {
    const driver = await newDriver();
    const executor = startExecutor(children, {
      driverUrl: driver.url,
      appId: driver.appId,
      executorId: 'stdin',
      workRoot,
      secret,
      workerUrl: 'flint://Worker@127.0.0.1:7078',
    });
    await launched(driver, 'stdin');
    executor.closeStdin();
    assert.deepEqual(await executor.exited, { code: 1, signal: null });
    assert.match(executor.stderr(), /Lost connection to worker flint:\/\/Worker@127\.0\.0\.1:7078/);
  });

  test('with code 1 when the driver goes away', async () => {
    const driver = await newDriver();
    const executor = startExecutor(children, { driverUrl: driver.url, appId: driver.appId, executorId: 'orphan', workRoot, secret });
    await launched(driver, 'orphan');
    await driver.stop();
    assert.deepEqual(await executor.exited, { code: 1, signal: null });
    assert.match(executor.stderr(), /Driver flint:\/\/CoarseGrainedScheduler@127\.0\.0\.1:\d+ disassociated/);
  });

  test('with code 1, without registering, when its secret is wrong; neither secret is logged', async () => {
    const driver = await newDriver();
    const wrong = randomBytes(16).toString('hex');
    const executor = startExecutor(children, { driverUrl: driver.url, appId: driver.appId, executorId: 'intruder', workRoot, secret: wrong });
    assert.deepEqual(await executor.exited, { code: 1, signal: null });
    assert.deepEqual(driver.registrations, []);
    assert.deepEqual(driver.configRequests, [], 'nothing reached the endpoint');
    assert.match(executor.stderr(), /Cannot get the application's config/);
    for (const text of [secret, wrong]) assert.ok(!executor.stderr().includes(text), 'a secret in the log');
  });

  test('with code 1 when the driver refuses the registration', async () => {
    const driver = await newDriver();
    driver.refuseRegistration = 'Duplicate executor ID: dup';
    const executor = startExecutor(children, { driverUrl: driver.url, appId: driver.appId, executorId: 'dup', workRoot, secret });
    assert.deepEqual(await executor.exited, { code: 1, signal: null });
    assert.match(executor.stderr(), /Cannot register with driver: .*Duplicate executor ID: dup/);
    assert.deepEqual(driver.launched, []);
  });

  test('with code 1 when no driver answers at its URL, after 3 tries', async () => {
    const driver = await newDriver();
    const url = driver.url;
    await driver.stop();
    const executor = startExecutor(children, { driverUrl: url, appId: 'app-1', executorId: 'alone', workRoot, secret });
    let timer: NodeJS.Timeout | undefined;
    const exit = await Promise.race([executor.exited, new Promise((done) => (timer = setTimeout(done, EXIT_WITHIN_MS, 'still running')))]);
    clearTimeout(timer);
    assert.deepEqual(exit, { code: 1, signal: null });
    const tries = executor.stderrJson().filter((line) => String(line['msg']).startsWith('Cannot reach the driver'));
    assert.equal(tries.length, 2, 'two retries after the first try');
  });

  test('with code 1 and a message naming the flag when an argument is bad', async () => {
    const good = ['--driver-url', 'flint://CoarseGrainedScheduler@127.0.0.1:7', '--executor-id', '1', '--cores', '2', '--app-id', 'app-1'];
    const cases: Array<[string[], RegExp]> = [
      [good.slice(2), /--driver-url is required/],
      [good.map((a) => (a === '2' ? '0' : a)), /--cores "0" is not a whole number of at least 1/],
      [good.map((a) => (a === '2' ? 'two' : a)), /--cores "two" is not a whole number/],
      [good.map((a) => (a.startsWith('flint://') ? 'http://driver:7077' : a)), /--driver-url: "http:\/\/driver:7077" is not an endpoint address/],
      [[...good, '--worker-url', 'flint+client://Worker@abc'], /--worker-url .* is a client-mode address/],
      [good.filter((a, i) => a !== '--app-id' && good[i - 1] !== '--app-id'), /--app-id is required/],
      [[...good, '--bogus', 'x'], /Unknown option '--bogus'/],
    ];
    const runs = cases.map(([args]) => children.spawnNodeScript(EXECUTOR_ENTRY, args, { label: `executor ${args.join(' ')}` }));
    for (const [i, run] of runs.entries()) {
      const [, message] = cases[i] as [string[], RegExp];
      assert.deepEqual(await run.exited, { code: 1, signal: null }, run.label);
      assert.match(run.stderr(), message);
      assert.match(run.stderr(), /^usage: node src\/entry\/executor\.ts/m);
    }
  });
});
