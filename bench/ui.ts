// Flint's web UI benchmark: `npm run bench:ui` (issue 11).
//
// The real master daemon, in this process, with its RPC on the in-memory twin of the Transport port (MemoryNetwork)
// and its web UI on a real loopback socket. Simulated workers and drivers are in-memory envs that speak the real
// protocol: FLINT_BENCH_WORKERS (1,000) workers register and report their (empty) state, and FLINT_BENCH_APPS
// (10,000) applications register and unregister one after another, so the master holds 1,000 workers and 10,000
// completed apps (flint.deploy.retainedApplications is raised to keep them). Then, over HTTP on loopback:
//   - `/` (the HTML page) and `/json`, FLINT_BENCH_REQUESTS (200) times each, one at a time: response time p50 and
//     p99 (the client's, so the server's time plus a loopback round trip) and bytes;
//   - the time until a state change reaches an open page: an SSE stream on `/events/master` is open; a new worker
//     registers; timed until the stream's update that shows it arrives (FLINT_BENCH_CHANGES, 20, times);
//   - the page in a real browser (Debian's chromium, through playwright-core): from navigation to the page loaded
//     and laid out (the `load` event), FLINT_BENCH_BROWSER_LOADS (10) times after a first visit, p50 and max.
// Targets: HTML p99 ≤ 50 ms, change visible ≤ 1 s. Prints a table, then one JSON line with the figures, the CPU
// model, the Node version and a calibration figure.

import { FlintConf } from '../src/conf/flint-conf.ts';
import { startMasterDaemon } from '../src/daemons/master-daemon.ts';
import { MasterToApp, type AppToMaster } from '../src/protocol/messages.ts';
import { MemoryNetwork, type MemoryTransport } from '../src/rpc/memory-transport.ts';
import { silentLogger } from '../src/util/logger.ts';
import { launchBrowser } from '../test/helpers/browser.ts';
import { benchJson, measureMachine } from './lib/machine.ts';
import { addWorker, BENCH_APP, timeGets, until } from './lib/memory-cluster.ts';
import { formatTable, intFromEnv, percentile, sortedCopy } from './lib/stats.ts';

const WORKERS = intFromEnv('FLINT_BENCH_WORKERS', 1_000);
const APPS = intFromEnv('FLINT_BENCH_APPS', 10_000);
const REQUESTS = intFromEnv('FLINT_BENCH_REQUESTS', 200);
const CHANGES = intFromEnv('FLINT_BENCH_CHANGES', 20);

const conf = new FlintConf([
  ['flint.authenticate', 'false'],
  ['flint.worker.timeout', '3600s'],
  ['flint.deploy.retainedApplications', String(APPS)],
]);

const desc = BENCH_APP;

/** APPS applications, registered and unregistered one after another by one simulated driver env. */
async function completeApps(network: MemoryNetwork, masterUrl: string): Promise<void> {
  const env: MemoryTransport = network.open({ name: 'drivers', clientMode: true, principal: 'app', conf });
  let waiting: ((appId: string) => void) | undefined;
  env.setupEndpoint('AppClient', {
    messages: MasterToApp,
    receive: (message) => {
      if (message.type === 'RegisteredApplication') waiting?.(message.appId);
    },
  });
  const master = await env.setupEndpointRef<AppToMaster>(masterUrl, 'Master');
  for (let i = 0; i < APPS; i++) {
    const appId = await new Promise<string>((resolve) => {
      waiting = resolve;
      master.send({ type: 'RegisterApplication', appDescription: desc, driverAddress: `${env.id.replace('://', '://AppClient@')}` });
    });
    master.send({ type: 'UnregisterApplication', appId });
  }
}

/** Opens /events/master and returns the text it receives so far, growing. */
async function openEvents(url: string): Promise<{ text: () => string; close: () => void }> {
  const controller = new AbortController();
  const res = await fetch(url, { signal: controller.signal, headers: { accept: 'text/event-stream' } });
  if (res.status !== 200 || res.body === null) throw new Error(`${url} answered ${res.status}`);
  let text = '';
  const reader = res.body.getReader();
  const decoder = new TextDecoder();
  void (async () => {
    for (;;) {
      const { done, value } = await reader.read().catch(() => ({ done: true, value: undefined }));
      if (done) return;
      text += decoder.decode(value, { stream: true });
      if (text.length > 64 * 1024 * 1024) text = text.slice(-1024 * 1024);
    }
  })();
  return { text: () => text, close: () => controller.abort() };
}

async function main(): Promise<void> {
  const machine = await measureMachine();
  const network = new MemoryNetwork();
  const master = await startMasterDaemon({ conf, logger: silentLogger, host: '10.255.0.1', port: 7077, webUiPort: 0, webUiHost: '127.0.0.1', transport: network.create });
  const base = `http://127.0.0.1:${master.webUiPort}`;
  try {
    const registered = new Set<string>();
    const setupStart = performance.now();
    for (let i = 0; i < WORKERS; i++) addWorker(network, master.masterUrl, i, registered, conf);
    await until('the workers to register', () => registered.size === WORKERS);
    await completeApps(network, master.masterUrl);
    const json = await (await fetch(`${base}/json`)).json() as { aliveworkers: number; completedapps: unknown[] };
    if (json.aliveworkers !== WORKERS || json.completedapps.length !== APPS) {
      throw new Error(`the master holds ${json.aliveworkers} workers and ${json.completedapps.length} completed apps`);
    }
    const setupS = (performance.now() - setupStart) / 1000;

    const page = await timeGets(`${base}/`, REQUESTS);
    const api = await timeGets(`${base}/json`, REQUESTS);

    const changes = new Float64Array(CHANGES);
    const events = await openEvents(`${base}/events/master`);
    await until('the first update', () => events.text().includes('event: update'), 30_000);
    for (let c = 0; c < CHANGES; c++) {
      const i = WORKERS + c;
      const host = `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`;
      const before = events.text().length;
      const start = performance.now();
      addWorker(network, master.masterUrl, i, registered, conf);
      // The page's first table page may not list a new worker, but the summary's count of workers changes with it.
      await until(`the page to show worker ${host}`, () => events.text().length > before && events.text().slice(before).includes(`${WORKERS + c + 1}`), 30_000);
      changes[c] = performance.now() - start;
    }
    events.close();

    const loads = await browserLoads(base);
    const changeSorted = sortedCopy(changes);
    const changeP50 = percentile(changeSorted, 50);
    const changeMax = changeSorted[changeSorted.length - 1] ?? 0;

    console.log(
      formatTable(
        ['what', 'p50 ms', 'p99 ms', 'bytes'],
        [
          ['GET / (HTML)', page.p50.toFixed(1), page.p99.toFixed(1), String(page.bytes)],
          ['GET /json', api.p50.toFixed(1), api.p99.toFixed(1), String(api.bytes)],
          ['change → open page (SSE)', changeP50.toFixed(1), `${changeMax.toFixed(1)} (max)`, ''],
          ['page loaded in chromium', loads.p50.toFixed(1), `${loads.max.toFixed(1)} (max)`, ''],
        ],
      ),
    );
    console.log(`${WORKERS} workers and ${APPS} completed apps set up in ${setupS.toFixed(1)} s; calibration ${machine.calibrationMs} ms, ping-pong ${machine.pingPongP50Us} µs`);
    console.log(
      benchJson({
        workers: WORKERS,
        completedApps: APPS,
        htmlP50Ms: round(page.p50),
        htmlP99Ms: round(page.p99),
        htmlBytes: page.bytes,
        jsonP50Ms: round(api.p50),
        jsonP99Ms: round(api.p99),
        jsonBytes: api.bytes,
        changeVisibleP50Ms: round(changeP50),
        changeVisibleMaxMs: round(changeMax),
        browserLoadP50Ms: round(loads.p50),
        browserLoadMaxMs: round(loads.max),
        targetMet: page.p99 <= 50 && changeMax <= 1000 && loads.max <= 1000,
      }, machine),
    );
  } finally {
    await master.shutdown('bench over');
  }
}

/** The master's page loaded in chromium, from navigation start to its load event (the page laid out). */
async function browserLoads(base: string): Promise<{ p50: number; max: number }> {
  const browser = await launchBrowser();
  try {
    const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
    await page.goto(`${base}/`, { waitUntil: 'load' }); // a first visit: the browser's own start, the static files cached
    const samples = new Float64Array(intFromEnv('FLINT_BENCH_BROWSER_LOADS', 10));
    for (let i = 0; i < samples.length; i++) {
      await page.goto(`${base}/`, { waitUntil: 'load' });
      samples[i] = Number(await page.evaluate('performance.getEntriesByType("navigation")[0].loadEventEnd'));
    }
    const sorted = sortedCopy(samples);
    return { p50: percentile(sorted, 50), max: sorted[sorted.length - 1] ?? 0 };
  } finally {
    await browser.close();
  }
}

function round(x: number, digits = 1): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}

await main();
