// What an executor process measures of itself for its driver (docs/metrics.md, "Executors"): heap and resident
// memory, and the time spent in garbage collection, summed from the `gc` performance entries Node reports (Spark's
// `JVMGCTime` in its executor metrics). They travel in the executor's heartbeat (protocol/task-messages.ts
// `ExecutorFigures`); reading them costs a `process.memoryUsage()` per heartbeat.

import { PerformanceObserver } from 'node:perf_hooks';
import type { ExecutorFigures } from '../../protocol/task-messages.ts';

export class ProcessFigures {
  #gcTimeMs = 0;
  readonly #observer: PerformanceObserver;

  constructor() {
    this.#observer = new PerformanceObserver((list) => {
      for (const entry of list.getEntries()) this.#gcTimeMs += entry.duration;
    });
    this.#observer.observe({ entryTypes: ['gc'] });
  }

  read(): ExecutorFigures {
    const memory = process.memoryUsage();
    return { heapUsedBytes: memory.heapUsed, rssBytes: memory.rss, gcTimeMs: this.#gcTimeMs };
  }

  close(): void {
    this.#observer.disconnect();
  }
}
