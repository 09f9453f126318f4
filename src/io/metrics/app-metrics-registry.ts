// The prom-client registries of an application's metrics (docs/metrics.md), made at the first scrape of its
// driver's UI (AppMetrics.registries): every metric reads the counts AppMetrics keeps, or the task scheduler's
// snapshots, when collected.

import { Counter, Gauge, type Registry } from 'prom-client';
import type { AppCounts, AppMachine, TaskResult } from './app-metrics.ts';
import { STAGE_RESULTS } from './app-metrics.ts';
import { ListGauge } from './list-gauge.ts';
import { newRegistry } from './registry.ts';

export interface AppRegistries {
  /** `/metrics/prometheus` on the driver's UI. */
  readonly registry: Registry;
  /** `/metrics/executors/prometheus`: one series per live executor. */
  readonly executors: Registry;
}

export function appRegistries(machine: AppMachine, counts: AppCounts): AppRegistries {
  const registry = newRegistry();
  const registers = [registry];
  new Gauge({
    name: 'flint_app_executors',
    help: 'Executors registered with the driver and able to run tasks.',
    registers,
    collect() {
      this.set(machine.snapshot().executors.filter((e) => e.launched).length);
    },
  });
  new Gauge({
    name: 'flint_app_tasks_active',
    help: 'Task attempts running on executors, or with their result being fetched.',
    registers,
    collect() {
      this.set(machine.snapshot().tasks.length);
    },
  });
  byResult('flint_app_tasks_completed_total', 'Task attempts that ended, by result: succeeded, failed, killed, lost.', registers, () => Object.entries(counts.tasks) as Array<[TaskResult, number]>);
  registry.registerMetric(counts.taskSeconds as never);
  total('flint_app_result_bytes_total', 'Bytes of the results the tasks sent to the driver (serialized).', registers, () => counts.resultBytes);
  level('flint_app_jobs_active', 'Jobs (actions) running.', registers, () => counts.jobsActive);
  byResult('flint_app_jobs_completed_total', 'Jobs (actions) that ended, by result: succeeded, failed.', registers, () => Object.entries(counts.jobs));
  level('flint_app_stages_active', 'Stage attempts (task sets) running.', registers, () => counts.stagesActive);
  byResult('flint_app_stages_completed_total', 'Stage attempts that ended, by result: succeeded, failed, resubmitted (after a shuffle fetch failure).', registers, () =>
    Object.entries(STAGE_RESULTS).map(([state, result]) => [result, counts.stages[state as keyof typeof STAGE_RESULTS]]),
  );
  total('flint_app_shuffle_write_bytes_total', 'Bytes of shuffle blocks the map tasks wrote.', registers, () => counts.shuffleWrittenBytes);
  total('flint_app_shuffle_read_bytes_total', 'Bytes of shuffle blocks the reduce tasks were given to read (each attempt counted).', registers, () => counts.shuffleReadBytes);
  return { registry, executors: executorRegistry(machine, counts.figures) };
}

function level(name: string, help: string, registers: Registry[], read: () => number): void {
  new Gauge({
    name,
    help,
    registers,
    collect() {
      this.set(read());
    },
  });
}

function total(name: string, help: string, registers: Registry[], read: () => number): void {
  new Counter({
    name,
    help,
    registers,
    collect() {
      this.reset();
      this.inc(read());
    },
  });
}

/** A counter labelled `result`, every result present (at zero until one comes: `rate()` then sees the first). */
function byResult(name: string, help: string, registers: Registry[], read: () => Array<[string, number]>): void {
  new Counter({
    name,
    help,
    labelNames: ['result'],
    registers,
    collect() {
      this.reset();
      for (const [result, n] of read()) this.inc({ result }, n);
    },
  });
}

/** Per live executor: the scheduler's counts, and the figures of its last heartbeat once one came. */
function executorRegistry(machine: AppMachine, figures: AppCounts['figures']): Registry {
  const executors = newRegistry();
  const registers = [executors];
  // One history snapshot per scrape, taken by the first series and read by the others: a registry collects its
  // metrics in registration order, each synchronously.
  type Live = ReturnType<typeof machine.historySnapshot>['executors'];
  let current: Live = [];
  const refresh = (): void => {
    current = machine.historySnapshot().executors.filter((e) => e.removedMs === undefined);
    const ids = new Set(current.map((e) => e.executorId));
    for (const id of figures.keys()) if (!ids.has(id)) figures.delete(id);
  };
  let first = true;
  const series = (name: string, help: string, type: 'gauge' | 'counter', value: (e: Live[number]) => number | undefined) => {
    const refreshes = first;
    first = false;
    return new ListGauge({
      name,
      help,
      type,
      labelNames: ['executor_id'],
      registers,
      read: function* () {
        if (refreshes) refresh();
        for (const e of current) {
          const v = value(e);
          if (v !== undefined) yield { labels: { executor_id: e.executorId }, value: v };
        }
      },
    });
  };
  series('flint_executor_active_tasks', 'Task attempts running on the executor.', 'gauge', (e) => e.activeTasks);
  series('flint_executor_completed_tasks_total', 'Task attempts that ended successfully on the executor.', 'counter', (e) => e.completedTasks);
  series('flint_executor_failed_tasks_total', 'Task attempts that failed on the executor.', 'counter', (e) => e.failedTasks);
  series('flint_executor_task_time_seconds_total', 'Summed durations (launch to end) of the attempts that ended on the executor.', 'counter', (e) => e.totalTaskTimeMs / 1000);
  series('flint_executor_gc_time_seconds_total', 'Time the executor process spent in garbage collection (from its last heartbeat).', 'counter', (e) => {
    const f = figures.get(e.executorId);
    return f === undefined ? undefined : f.gcTimeMs / 1000;
  });
  series('flint_executor_heap_used_bytes', 'Heap the executor process uses (from its last heartbeat).', 'gauge', (e) => figures.get(e.executorId)?.heapUsedBytes);
  series('flint_executor_rss_bytes', 'Resident memory of the executor process (from its last heartbeat).', 'gauge', (e) => figures.get(e.executorId)?.rssBytes);
  return executors;
}
