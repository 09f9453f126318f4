// What the benchmarks that run the real master daemon in their own process (its RPC on MemoryNetwork, its web UI on
// a real loopback socket) share: simulated workers that speak the real protocol, a bounded wait, and timed GETs.
// bench/ui.ts and bench/metrics.ts use them.

import type { FlintConf } from '../../src/conf/flint-conf.ts';
import { MasterToWorker, type ApplicationDescription, type WorkerToMaster } from '../../src/protocol/messages.ts';
import type { MemoryNetwork } from '../../src/rpc/memory-transport.ts';
import { percentile, sortedCopy } from './stats.ts';

export { until } from './stats.ts';

/**
 * A simulated worker (8 cores, 16 GiB): an env with a Worker endpoint that answers RegisteredWorker with its (empty)
 * state. It ignores the executors the master launches on it: they stay LAUNCHING, holding their cores.
 */
export function addWorker(network: MemoryNetwork, masterUrl: string, i: number, registered: Set<string>, conf: FlintConf): void {
  const host = `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`;
  const env = network.open({ name: `worker-${i}`, host, port: 7078, conf });
  const id = `worker-20260101000000-${host}-7078`;
  const workerAddress = `flint://Worker@${host}:7078`;
  env.setupEndpoint('Worker', {
    messages: MasterToWorker,
    receive: (message, ctx) => {
      if (message.type !== 'RegisteredWorker') return;
      registered.add(id);
      env.endpointRef<WorkerToMaster>(`flint://Master@${ctx.senderAddress.slice('flint://'.length)}`).send({ type: 'WorkerLatestState', id, executors: [], driverIds: [] });
    },
  });
  void env.setupEndpointRef<WorkerToMaster>(masterUrl, 'Master').then((master) =>
    master.send({ type: 'RegisterWorker', id, host, port: 7078, workerAddress, cores: 8, memoryMb: 16_384, workerWebUiUrl: `http://${host}:8081`, masterAddress: masterUrl }),
  );
}

/** `requests` GETs of `url`, one at a time: the client's times (the server's plus a loopback round trip). */
export async function timeGets(url: string, requests: number, headers: Record<string, string> = {}): Promise<{ p50: number; p99: number; bytes: number }> {
  const samples = new Float64Array(requests);
  let bytes = 0;
  for (let i = 0; i < requests; i++) {
    const start = performance.now();
    const res = await fetch(url, { headers });
    const body = await res.arrayBuffer();
    samples[i] = performance.now() - start;
    if (res.status !== 200) throw new Error(`${url} answered ${res.status}`);
    bytes = body.byteLength;
  }
  const sorted = sortedCopy(samples);
  return { p50: percentile(sorted, 50), p99: percentile(sorted, 99), bytes };
}

/** What a simulated driver registers: 2 cores of 512 MiB executors. */
export const BENCH_APP: ApplicationDescription = {
  name: 'bench-app',
  maxCores: 2,
  memoryMbPerExecutor: 512,
  command: { mainModule: 'flint:executor', arguments: [], environment: {}, nodeOptions: [] },
  appUiUrl: '',
  user: 'bench',
};
