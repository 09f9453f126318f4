// Custom resources in the web UIs, in a real browser (Debian's chromium through playwright-core) against a real
// cluster: two workers with 2 gpus each (a fake discovery script this test writes), an application holding one
// gpu per executor, and one asking 4 gpus per executor, which no worker has, so it stays WAITING. The master's
// workers table shows each worker's gpus free/total, the waiting application's page says why it waits (the
// planner), and a worker's page shows its gpus and what its executors hold. Screenshots go to test-output/ui/.

import assert from 'node:assert/strict';
import { chmodSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Browser, Locator } from 'playwright-core';
import { LocalCluster } from '../../src/daemons/local-cluster.ts';
import { launchBrowser, screenshot, SCREENSHOT_DIR, VIEWPORTS } from '../helpers/browser.ts';
import { ChildGroup, waitFor, type ChildHandle } from '../helpers/process.ts';
import { tempDir } from '../helpers/temp-dir.ts';

const MAIN = 'src/cli/main.ts';

describe('custom resources in the web UIs', { timeout: 240_000 }, () => {
  const children = new ChildGroup();
  let dir = '';
  let cluster: LocalCluster;
  let browser: Browser;
  let holding = '';
  let waiting = '';
  const release = () => join(dir, 'release');

  function submit(args: string[], label: string): ChildHandle {
    return children.spawnNodeScript(MAIN, ['submit', '--master', cluster.masterUrl, '--conf', `flint.authenticate.secret.file=${cluster.secretFile}`, ...args], { label });
  }

  async function ready(app: ChildHandle, what: string): Promise<string> {
    await waitFor(() => app.stdoutLines.includes('READY') || (app.exit !== undefined && assert.fail(`${what} exited: ${app.stderr()}`)), { timeoutMs: 90_000, what });
    return app.stdoutLines.find((l) => l.startsWith('APP '))?.slice(4) ?? '';
  }

  before(async () => {
    dir = tempDir('flint-ui-gpus-');
    const script = join(dir, 'gpus.sh');
    writeFileSync(script, `#!/bin/sh\necho '{"name": "gpu", "addresses": ["0", "1"]}'\n`);
    chmodSync(script, 0o755);
    cluster = await LocalCluster.start({
      workers: 2,
      coresPerWorker: 2,
      memoryPerWorker: '1g',
      conf: ['flint.worker.timeout=10s', 'flint.worker.resource.gpu.amount=2', `flint.worker.resource.gpu.discoveryScript=${script}`],
    });
    const hold = submit(['--total-executor-cores', '2', '--executor-cores', '1', '--executor-memory', '300m', '--conf', 'flint.executor.resource.gpu.amount=1', 'test/fixtures/apps/test-app.ts', 'hold', release()], 'gpu holder');
    holding = await ready(hold, 'the gpu holder');
    const greedy = submit(['--total-executor-cores', '1', '--executor-memory', '300m', '--conf', 'flint.executor.resource.gpu.amount=4', 'test/fixtures/apps/gpu-app.ts', 'wait', release()], 'greedy app');
    waiting = await ready(greedy, 'the greedy app');
    browser = await launchBrowser();
  });

  after(async () => {
    if (dir !== '') writeFileSync(release(), '');
    await browser?.close();
    await children.killAll();
    await cluster?.stop();
    if (dir !== '') rmSync(dir, { recursive: true, force: true });
  });

  test('the workers table shows gpus free/total; the waiting app says why; a worker shows what its executors hold', async () => {
    const context = await browser.newContext({ viewport: VIEWPORTS.desktop });
    const page = await context.newPage();
    const problems: string[] = [];
    page.on('pageerror', (e) => problems.push(e.message));
    assert.equal((await page.goto(cluster.masterLoginUrl))?.status(), 200);
    await page.locator('#running-apps').getByText(waiting).waitFor();

    const header = await page.locator('#workers thead').innerText();
    assert.match(header, /Resources/);
    const cells = await page.locator('#workers tbody tr').allInnerTexts();
    assert.equal(cells.length, 2);
    // The holder has two executors of one gpu each; wherever they went, 2 of the 4 gpus are free.
    const free = cells.map((row) => Number(/gpu (\d)\/2 free/.exec(row)?.[1] ?? NaN));
    assert.equal(free.reduce((a, b) => a + b, 0), 2, `gpus free in the workers table: ${cells.join(' | ')}`);
    await screenshot(page, 'resources-master-desktop');
    // The page re-renders itself live, so the table is cut out of a page screenshot rather than shot as an element;
    // a re-render can also swap the section out just as it is measured (boundingBox is then null): measure again.
    let box: Awaited<ReturnType<Locator['boundingBox']>> = null;
    for (let tries = 0; box === null && tries < 50; tries++) {
      await page.locator('#workers-section').waitFor();
      box = await page.locator('#workers-section').boundingBox();
    }
    assert.ok(box, 'the workers table is on the page');
    await page.screenshot({ path: join(SCREENSHOT_DIR, 'resources-workers-table.png'), clip: box, fullPage: true });

    await page.goto(`${cluster.masterWebUiUrl}/app/?appId=${waiting}`);
    const why = page.locator('#why-waiting');
    await why.waitFor();
    const text = await why.innerText();
    assert.match(text, /RESOURCE/);
    assert.match(text, /gpu/);
    await screenshot(page, 'resources-app-waiting-desktop');

    await page.goto(`${cluster.masterWebUiUrl}/app/?appId=${holding}`);
    await page.getByText('Executor Summary').waitFor();
    assert.equal(await page.locator('#why-waiting').count(), 0, 'a running app has no "Why is it waiting?"');

    await page.goto(cluster.masterWebUiUrl);
    await page.locator('#workers a[href^="/goto/"]').first().click();
    await page.waitForURL((url) => url.port !== String(new URL(cluster.masterWebUiUrl).port));
    const summaryText = await page.locator('dl.summary').innerText();
    assert.match(summaryText, /Resources\s+gpu \d\/2 free/i);
    await screenshot(page, 'resources-worker-desktop');
    assert.deepEqual(problems, []);
    await context.close();
  });
});
