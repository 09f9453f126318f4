// The fuzzer's /json prober, run in a worker thread (harness.ts startProber): it reads the master's and the target
// worker's /json every `everyMs` and posts how long each took. On its own event loop, its figures are the
// daemons' latency, not the time the fuzzer's thread spends generating and writing a batch of inputs.

import { parentPort, workerData } from 'node:worker_threads';
import { timedJson } from './probes.ts';

export interface ProberConfig {
  readonly masterPort: number;
  readonly workerPort: number;
  /** The cluster's UI token (LocalCluster.uiToken). */
  readonly uiToken: string;
  readonly everyMs: number;
  readonly timeoutMs: number;
}

/** One round: each /json's time in ms, or undefined when it failed (the batch checks report failures). */
export interface ProbeRound {
  readonly masterMs: number | undefined;
  readonly workerMs: number | undefined;
}

const config = workerData as ProberConfig;
const port = parentPort;
if (port === null) throw new Error('json-prober.ts runs as a worker thread of the fuzzer');

let running = true;
port.once('message', () => (running = false)); // any message means stop

const ms = (r: PromiseSettledResult<{ ms: number }>): number | undefined => (r.status === 'fulfilled' ? r.value.ms : undefined);

// The first fetch of a process loads and compiles its HTTP client: that is the prober's cost, not a daemon's.
await Promise.allSettled([timedJson(config.masterPort, config.timeoutMs, config.uiToken), timedJson(config.workerPort, config.timeoutMs, config.uiToken)]);
while (running) {
  const [m, w] = await Promise.allSettled([timedJson(config.masterPort, config.timeoutMs, config.uiToken), timedJson(config.workerPort, config.timeoutMs, config.uiToken)]);
  port.postMessage({ masterMs: ms(m), workerMs: ms(w) } satisfies ProbeRound);
  await new Promise((resolve) => setTimeout(resolve, config.everyMs));
}
process.exit(0); // in a worker thread, ends only the thread (idle keep-alive sockets would hold it a while)
