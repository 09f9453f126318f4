// The web UIs in a real browser (Debian's chromium through playwright-core), against a real cluster: a master and
// two workers as processes (LocalCluster, as `flint demo` starts them) with a secret, and an application submitted
// with `flint submit` that holds its executors. The browser logs in with the master's login URL, follows a worker
// link (a /goto/ ticket lets it into the worker), an application, an executor's stderr log, and kills the
// application with its button while a second tab watches the master's page change live, with no reload.
// Screenshots of each page, at a desktop and a phone width, go to test-output/ui/ for people to look at.

import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { LocalCluster } from '../../src/daemons/local-cluster.ts';
import { launchBrowser, screenshot, VIEWPORTS } from '../helpers/browser.ts';
import { allowedCpus } from '../../src/io/child-process/cpu-affinity.ts';
import { ChildGroup, waitFor, type ChildHandle } from '../helpers/process.ts';
import { tempDir } from '../helpers/temp-dir.ts';

const MAIN = 'src/cli/main.ts';
const APP = 'test/fixtures/apps/test-app.ts';

/**
 * Run in the page (so it refers to nothing outside itself): whether the live indicator's title, which each update
 * sets anew (static/live.js), is no longer `before`. A function, not a string: the pages' CSP forbids eval.
 */
function liveTitleChanged(before: string | null): boolean {
  const page = globalThis as unknown as { document: { getElementById(id: string): { title: string } | null } };
  return page.document.getElementById('live-state')?.title !== before;
}

describe('the web UIs in a browser', { timeout: 240_000 }, () => {
  const children = new ChildGroup();
  let cluster: LocalCluster;
  let browser: Browser;
  let app: ChildHandle;
  let appId = '';
  let release = '';

  before(async () => {
    // Each worker binds its executor to a CPU (flint.worker.executorCpus), which the worker page shows.
    const cpus = allowedCpus() ?? [0];
    cluster = await LocalCluster.start({
      workers: 2,
      coresPerWorker: 1,
      memoryPerWorker: '1g',
      conf: ['flint.worker.timeout=10s'],
      workerConf: (i) => [`flint.worker.executorCpus=${cpus[i % cpus.length]}`],
    });
    release = join(tempDir('flint-ui-hold-'), 'release');
    app = children.spawnNodeScript(
      MAIN,
      ['submit', '--master', cluster.masterUrl, '--conf', `flint.authenticate.secret.file=${cluster.secretFile}`, '--total-executor-cores', '2', '--executor-memory', '300m', APP, 'hold', release],
      { label: 'hold app' },
    );
    await waitFor(() => app.stdoutLines.includes('READY') || (app.exit !== undefined && assert.fail(`the app exited: ${app.stderr()}`)), {
      timeoutMs: 60_000,
      what: 'the app to run its first job',
    });
    appId = app.stdoutLines.find((l) => l.startsWith('APP '))?.slice(4) ?? '';
    assert.match(appId, /^app-\d{14}-\d{4}$/);
    browser = await launchBrowser();
  });

  after(async () => {
    if (release !== '') writeFileSync(release, '');
    await browser?.close();
    await children.killAll();
    await cluster?.stop();
  });

  async function loggedIn(viewport: { width: number; height: number }): Promise<{ context: BrowserContext; page: Page }> {
    const context = await browser.newContext({ viewport });
    const page = await context.newPage();
    const response = await page.goto(cluster.masterLoginUrl);
    assert.equal(response?.status(), 200);
    assert.equal(new URL(page.url()).search, '', 'the login URL sends the browser on without the token');
    return { context, page };
  }

  test('desktop: master, a worker, the application, an executor\'s log; every page readable with no error', async () => {
    const { context, page } = await loggedIn(VIEWPORTS.desktop);
    const problems: string[] = [];
    page.on('console', (m) => (m.type() === 'error' ? problems.push(`${m.text()} (${m.location().url})`) : undefined));
    page.on('pageerror', (e) => problems.push(e.message));

    await page.getByRole('heading', { level: 1 }).filter({ hasText: 'Master at' }).waitFor();
    assert.ok(await page.locator('.badge', { hasText: 'ALIVE' }).first().isVisible(), 'the master is ALIVE');
    await page.locator('#running-apps').getByText(appId).waitFor();
    await page.locator('#live-state[data-state="live"]').waitFor({ timeout: 10_000 });
    await screenshot(page, 'master-desktop');

    // A worker, through the master's /goto/ and its ticket.
    await page.locator('#workers a[href^="/goto/"]').first().click();
    await page.waitForURL((url) => url.port !== String(new URL(cluster.masterWebUiUrl).port));
    await page.getByRole('heading', { level: 1 }).waitFor();
    assert.match(await page.locator('h1').innerText(), /Worker/);
    assert.equal(new URL(page.url()).searchParams.get('ticket'), null, 'the ticket is gone from the URL');
    // The app's executor on it, under its cores the CPU the worker bound it to.
    await page.locator('td small', { hasText: /^CPU \d+$/ }).first().waitFor();
    await screenshot(page, 'worker-desktop');

    // The application's page on the master, then one executor's stderr on its worker.
    await page.goto(`${cluster.masterWebUiUrl}/app/?appId=${appId}`);
    await page.getByText('Executor Summary').waitFor();
    await screenshot(page, 'app-desktop');
    await page.getByRole('link', { name: 'stderr' }).first().click();
    await page.waitForURL(/\/logPage\/\?/);
    const log = await page.locator('pre').first().innerText();
    assert.match(log, /Executor|executor/, 'the executor\'s stderr shows its launch header');
    await screenshot(page, 'log-desktop');

    assert.deepEqual(problems, [], 'no script error or CSP refusal on any page');
    await context.close();
  });

  test('phone: the same pages fit a phone\'s width', async () => {
    const { context, page } = await loggedIn(VIEWPORTS.phone);
    await page.locator('#running-apps').getByText(appId).waitFor();
    const overflow = Number(await page.evaluate('document.documentElement.scrollWidth - window.innerWidth'));
    assert.ok(overflow <= 1, `the master's page is ${overflow}px wider than the phone`);
    await screenshot(page, 'master-phone');
    await page.goto(`${cluster.masterWebUiUrl}/app/?appId=${appId}`);
    await page.getByText('Executor Summary').waitFor();
    await screenshot(page, 'app-phone');
    await page.getByRole('link', { name: 'stdout' }).first().click();
    await page.waitForURL(/\/logPage\/\?/);
    await screenshot(page, 'log-phone');
    await context.close();
  });

  test('the application\'s own UI on its driver: jobs, a job\'s tasks, executors, the environment with no secret', async () => {
    const line = await waitFor(() => app.stderr().split('\n').find((l) => l.includes('Application UI login')), { timeoutMs: 10_000, what: 'the driver to print its UI login URL' });
    const loginUrl = /(https?:\/\/\S+\/\?token=\S+)/.exec(line)?.[1] ?? '';
    assert.ok(loginUrl !== '', line);
    for (const [name, viewport] of Object.entries(VIEWPORTS)) {
      const context = await browser.newContext({ viewport });
      const page = await context.newPage();
      const problems: string[] = [];
      page.on('pageerror', (e) => problems.push(e.message));
      await page.goto(loginUrl);
      await page.waitForURL(/\/jobs\/$/);
      await page.getByText('Completed Jobs').first().waitFor();
      await screenshot(page, `app-ui-jobs-${name}`);
      await page.locator('a[href^="/jobs/job/?id="]').first().click();
      await page.getByRole('heading', { level: 1 }).waitFor();
      await screenshot(page, `app-ui-job-${name}`);
      await page.goto(new URL('/executors/', loginUrl).href);
      await page.getByRole('heading', { level: 1 }).waitFor();
      await screenshot(page, `app-ui-executors-${name}`);
      await page.goto(new URL('/environment/', loginUrl).href);
      const text = await page.locator('main').innerText();
      assert.ok(!text.includes(readFileSync(cluster.secretFile, 'utf8').trim()), 'the cluster secret is not shown');
      await screenshot(page, `app-ui-environment-${name}`);
      assert.deepEqual(problems, [], `no script error on the application UI (${name})`);
      await context.close();
    }
  });

  test('kill the application with its button; another tab sees it move to the completed table live, with no reload', async () => {
    const { context, page } = await loggedIn(VIEWPORTS.desktop);
    const watcher = await context.newPage();
    await watcher.goto(cluster.masterWebUiUrl);
    await watcher.locator('#running-apps').getByText(appId).waitFor();
    await watcher.locator('#live-state[data-state="live"]').waitFor({ timeout: 10_000 });
    await watcher.evaluate('window.notReloaded = true');
    // static/live.js morphs the page: what an update does not change stays the same element.
    const kept = await watcher.locator('#workers thead').elementHandle();

    page.on('dialog', (dialog) => void dialog.accept());
    // The button stays the same element through updates (the Duration column changes every second): a person
    // can click it. Two updates are awaited by the live indicator's title, which each one sets anew.
    const button = page.locator('#running-apps tr', { hasText: appId }).getByRole('button', { name: 'kill' });
    const held = await button.elementHandle();
    await page.locator('#live-state[data-state="live"]').waitFor({ timeout: 10_000 });
    for (let update = 0; update < 2; update++) {
      const title = await page.locator('#live-state').getAttribute('title');
      await page.waitForFunction(liveTitleChanged, title, { timeout: 10_000 });
    }
    assert.equal(await held?.evaluate((el) => el.isConnected), true, 'the kill button was kept through the updates, not replaced');
    await button.click();
    await page.waitForURL(cluster.masterWebUiUrl + '/').catch(async (err: Error) => {
      throw new Error(`${err.message}; the page is at ${page.url()}: ${(await page.content()).slice(0, 2000)}`);
    });

    const started = Date.now();
    await watcher.locator('#completed-apps tr', { hasText: appId }).getByText('KILLED').waitFor({ timeout: 10_000 });
    const tookMs = Date.now() - started;
    assert.equal(await watcher.evaluate('window.notReloaded'), true, 'the page changed in place');
    assert.equal(await kept?.evaluate((el) => el.isConnected), true, 'the workers table head was kept through the updates, not replaced');
    assert.equal(await watcher.locator('#running-apps').getByText(appId).count(), 0);
    await screenshot(watcher, 'master-after-kill-desktop');
    process.stdout.write(`# the kill reached the watching tab ${tookMs} ms after the form's redirect\n`);
    await context.close();
  });
});
