// How long the master's `/` takes to render on the server (issue 11: "its HTML in under 50 ms on the server")
// with 1,000 registered workers and 10,000 completed applications: the pure renderer (src/ui/master-page.ts)
// over a state built directly, no sockets. The tables page at 100 rows. Not part of `npm test`:
//
//     node bench/master-ui-render.ts [iterations]
//
// Prints the p50 and p99 render times and the page's size; the last line is JSON.

import { newResourceBook } from '../src/master/resources.ts';
import { createMasterState, type ApplicationInfo, type WorkerInfo } from '../src/master/state.ts';
import { masterConfig } from '../src/master/index.ts';
import { newApplicationInfo } from '../src/master/apps.ts';
import { masterPage } from '../src/ui/master-page.ts';
import { UtilizationHistory } from '../src/ui/utilization.ts';
import { benchJson, measureMachine } from './lib/machine.ts';

const machine = await measureMachine();
const WORKERS = 1_000;
const COMPLETED_APPS = 10_000;
const iterations = Number(process.argv[2] ?? 200);
const now = Date.UTC(2026, 11, 2, 12, 0, 0);

const state = createMasterState(masterConfig({ host: 'master', port: 7077, retainedApplications: COMPLETED_APPS }));
state.recoveryState = 'ALIVE';
for (let i = 0; i < WORKERS; i++) {
  const id = `worker-20261202120000-10.0.${Math.floor(i / 250)}.${i % 250}-7078`;
  const worker: WorkerInfo = {
    id,
    host: `10.0.${Math.floor(i / 250)}.${i % 250}`,
    port: 7078,
    address: `flint://Worker@10.0.0.${i}:7078`,
    envId: `flint://10.0.0.${i}:7078`,
    cores: 16,
    memoryMb: 64 * 1024,
    webUiUrl: `http://10.0.0.${i}:8081`,
    state: i % 50 === 0 ? 'DEAD' : 'ALIVE',
    resources: newResourceBook(undefined),
    coresUsed: i % 17,
    memoryUsedMb: (i % 17) * 1024,
    lastHeartbeatMs: now,
    executors: new Map(),
    drivers: new Map(),
    awaitingLatestState: false,
    orphans: new Map(),
  };
  state.workers.add(worker);
  if (worker.state === 'ALIVE') state.idToWorker.set(id, worker);
}
const command = { mainModule: 'app.js', arguments: [], environment: {}, nodeOptions: [] };
for (let i = 0; i < COMPLETED_APPS; i++) {
  const app: ApplicationInfo = newApplicationInfo({
    id: `app-20261202${String(100000 + i).slice(-6)}-${String(i).padStart(4, '0')}`,
    desc: { name: `nightly job <${i}>`, memoryMbPerExecutor: 2048, command, appUiUrl: `http://10.1.0.${i % 250}:4040`, user: 'etl' },
    driverAddress: `flint+client://AppClient@d${i}`,
    startTimeMs: now - 3_600_000 + i,
    submitDateMs: now - 3_600_000 + i,
  });
  app.state = i % 10 === 0 ? 'FAILED' : 'FINISHED';
  app.endTimeMs = app.startTimeMs + 60_000 + i;
  state.completedApps.push(app);
}
const history = new UtilizationHistory();
for (let i = 0; i < 360; i++) history.record({ atMs: now - (360 - i) * 10_000, cores: 16_000, coresUsed: 8_000 + i, memoryMb: 64_000_000, memoryUsedMb: 32_000_000 });

function render(query: string): string {
  return masterPage({
    state,
    nowMs: now,
    query: new URLSearchParams(query),
    kill: { enabled: true, csrfToken: 'x'.repeat(43) },
    utilization: history.samples(),
  }).toString();
}

const quantile = (sorted: number[], q: number): number => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? NaN;

function measure(name: string, query: string): Record<string, number | string> {
  for (let i = 0; i < 20; i++) render(query); // warm up the JIT
  const times: number[] = [];
  let bytes = 0;
  for (let i = 0; i < iterations; i++) {
    const t0 = performance.now();
    bytes = Buffer.byteLength(render(query));
    times.push(performance.now() - t0);
  }
  times.sort((a, b) => a - b);
  const result = { view: name, p50Ms: Number(quantile(times, 0.5).toFixed(2)), p99Ms: Number(quantile(times, 0.99).toFixed(2)), bytes };
  console.log(`${name}: p50 ${result.p50Ms} ms, p99 ${result.p99Ms} ms, ${bytes} bytes`);
  return result;
}

const results = [
  measure('default', ''),
  measure('completed apps sorted by duration, page 50', 'completed-apps.sort=duration&completed-apps.desc=1&completed-apps.page=50'),
  measure('workers filtered', 'workers.q=10.0.3.'),
];
console.log(benchJson({ workers: WORKERS, completedApps: COMPLETED_APPS, iterations, results }, machine));
