// The worker's metrics (docs/metrics.md): Spark's `WorkerSource` (executors, coresUsed, memUsed_MB, coresFree,
// memFree_MB), with drivers, executor launches and exits by reason, and the bytes under the work dir. Gauges are
// read from the machine's snapshot when scraped; launches and exits are counted as the runtime carries them out.

import { Counter, Gauge, type Registry } from 'prom-client';
import type { WorkerSnapshot } from '../../worker/index.ts';
import type { DirSize } from './dir-size.ts';
import type { UiRoute } from '../http/ui-server.ts';
import { MB_BYTES, metricsRoutes, zeroed } from './metrics-routes.ts';
import { newRegistry } from './registry.ts';

/** Why an executor process ended, as `flint_worker_executor_exits_total` labels it. */
export type ExecutorExitReason = 'exited' | 'failed' | 'killed' | 'launch_failed';

export const EXECUTOR_EXIT_REASONS: readonly ExecutorExitReason[] = ['exited', 'failed', 'killed', 'launch_failed'];

/** `killed`: the worker ended it (a kill, a shutdown); `exited`: code 0; `failed`: another code or a signal. */
export function executorExitReason(exit: { readonly code: number | null }, killedByWorker: boolean): ExecutorExitReason {
  if (killedByWorker) return 'killed';
  return exit.code === 0 ? 'exited' : 'failed';
}

export interface WorkerMetricsOptions {
  /** The machine's snapshot, or undefined before the machine exists (the UI listens first). */
  readonly snapshot: () => WorkerSnapshot | undefined;
  /** The work dir's size, computed off the event loop's critical path and cached (dir-size.ts). */
  readonly workDir: DirSize;
}

export class WorkerMetrics {
  /** `/metrics/prometheus` on the worker's UI. */
  readonly registry: Registry = newRegistry();
  readonly #launches: Counter;
  readonly #exits = new Map<ExecutorExitReason, { inc(): void }>();

  constructor(options: WorkerMetricsOptions) {
    const registers = [this.registry];
    const gauge = (name: string, help: string, of: (s: WorkerSnapshot) => number) =>
      new Gauge({
        name,
        help,
        registers,
        collect() {
          const snapshot = options.snapshot();
          if (snapshot !== undefined) this.set(of(snapshot));
        },
      });
    gauge('flint_worker_executors', 'Executors this worker runs (launching or running).', (s) => s.executors.length);
    gauge('flint_worker_drivers', 'Drivers this worker runs (cluster deploy mode).', (s) => s.drivers.length);
    gauge('flint_worker_cores', 'Cores this worker offers.', (s) => s.cores);
    gauge('flint_worker_cores_used', 'Cores given to executors and drivers.', (s) => s.coresUsed);
    gauge('flint_worker_cores_free', 'Cores not given to executors or drivers.', (s) => s.coresFree);
    gauge('flint_worker_memory_bytes', 'Memory this worker offers, in bytes.', (s) => s.memoryMb * MB_BYTES);
    gauge('flint_worker_memory_used_bytes', 'Memory given to executors and drivers, in bytes.', (s) => s.memoryUsedMb * MB_BYTES);
    gauge('flint_worker_memory_free_bytes', 'Memory not given to executors or drivers, in bytes.', (s) => s.memoryFreeMb * MB_BYTES);
    gauge('flint_worker_registered', '1 while the worker is registered with a master, else 0.', (s) => (s.registered ? 1 : 0));
    new Gauge({
      name: 'flint_worker_work_dir_bytes',
      help: 'Bytes of the files under the work dir (logs, shuffle files, code), measured at most every 30 s; a lower bound past 100,000 files.',
      registers,
      async collect() {
        this.set((await options.workDir.read()).bytes);
      },
    });
    this.#launches = new Counter({ name: 'flint_worker_executor_launches_total', help: 'Executor processes this worker started or tried to start.', registers });
    const exits = new Counter({
      name: 'flint_worker_executor_exits_total',
      help: 'Executor processes that ended, by reason: exited (code 0), failed (another code or a signal), killed (by the worker), launch_failed.',
      labelNames: ['reason'],
      registers,
    });
    for (const reason of EXECUTOR_EXIT_REASONS) this.#exits.set(reason, zeroed(exits, 'reason', reason));
  }

  /** `/metrics/prometheus` and `/metrics/json` on the worker's web UI. */
  routes(): UiRoute[] {
    return metricsRoutes(this.registry, '/metrics/prometheus', '/metrics/json');
  }

  executorLaunched(): void {
    this.#launches.inc();
  }

  executorEnded(reason: ExecutorExitReason): void {
    this.#exits.get(reason)?.inc();
  }
}
