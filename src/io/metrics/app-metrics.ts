// An application's metrics, on its driver's UI (docs/metrics.md): Spark's `DAGSchedulerSource` and
// `AppStatusSource` (jobs, stages, tasks), the task duration histogram, shuffle and result bytes, executors
// (`/metrics/prometheus`), and each executor's figures with an `executor_id` label (`/metrics/executors/prometheus`,
// Spark's `ExecutorSummary` metrics: active and completed tasks, task time, GC time, heap, RSS).
//
// Live figures (active tasks, executors) are read from the task scheduler's snapshots when scraped; events are
// counted as they arrive, one increment each: a task's end (`statusUpdate`), a job's or stage's start and end and
// the shuffle bytes (`DagEvents`), and each heartbeat's figures, kept by executor id (`heartbeat`).

import { Counter, Gauge, type Registry } from 'prom-client';
import type { DagEvents } from '../../api/dag-runner.ts';
import type { TaskSchedulerMachine } from '../../driver/index.ts';
import type { ExecutorFigures, ExecutorToDriver } from '../../protocol/task-messages.ts';
import { CountingHistogram } from './counting-histogram.ts';
import { ListGauge } from './list-gauge.ts';
import type { UiRoute } from '../http/ui-server.ts';
import { metricsRoutes, newRegistry, zeroed } from './metrics-routes.ts';

type StatusUpdate = Extract<ExecutorToDriver, { type: 'StatusUpdate' }>;
type Heartbeat = Extract<ExecutorToDriver, { type: 'ExecutorHeartbeat' }>;

/** How an attempt ended, as `flint_app_tasks_completed_total` labels it. */
const TASK_RESULTS = { FINISHED: 'succeeded', FAILED: 'failed', KILLED: 'killed', LOST: 'lost' } as const;
type TaskResult = (typeof TASK_RESULTS)[keyof typeof TASK_RESULTS];

const STAGE_RESULTS = { SUCCEEDED: 'succeeded', FAILED: 'failed', RESUBMITTED: 'resubmitted' } as const;

/** Tasks run from a millisecond to many minutes. */
const TASK_BUCKETS_S = [0.001, 0.005, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 1800];

type Inc = { inc(n?: number): void };

export class AppMetrics implements DagEvents {
  /** `/metrics/prometheus` on the driver's UI. */
  readonly registry: Registry = newRegistry();
  /** `/metrics/executors/prometheus`: one series per live executor. */
  readonly executors: Registry = newRegistry();
  /** Task ends and result bytes are plain numbers, read when scraped: they are counted once per task. */
  readonly #tasks: Record<TaskResult, number> = { succeeded: 0, failed: 0, killed: 0, lost: 0 };
  #resultBytes = 0;
  readonly #taskSeconds: CountingHistogram;
  readonly #jobsActive: Gauge;
  readonly #jobs: { succeeded: Inc; failed: Inc };
  readonly #stagesActive: Gauge;
  readonly #stages = new Map<string, Inc>();
  readonly #shuffleWritten: Counter;
  readonly #shuffleRead: Counter;
  /** The last figures each executor sent; those of executors no longer live are dropped when scraped. */
  readonly #figures = new Map<string, ExecutorFigures>();

  constructor(machine: Pick<TaskSchedulerMachine, 'snapshot' | 'historySnapshot'>) {
    const registers = [this.registry];
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
    const taskCounts = this.#tasks;
    new Counter({
      name: 'flint_app_tasks_completed_total',
      help: 'Task attempts that ended, by result: succeeded, failed, killed, lost.',
      labelNames: ['result'],
      registers,
      collect() {
        this.reset();
        for (const [result, n] of Object.entries(taskCounts)) this.inc({ result }, n);
      },
    });
    this.#taskSeconds = new CountingHistogram({ name: 'flint_app_task_duration_seconds', help: 'Run time of the task attempts that ended, as their executors measured it.', buckets: TASK_BUCKETS_S, registers });
    const resultBytes = () => this.#resultBytes;
    new Counter({
      name: 'flint_app_result_bytes_total',
      help: 'Bytes of the results the tasks sent to the driver (serialized).',
      registers,
      collect() {
        this.reset();
        this.inc(resultBytes());
      },
    });
    this.#jobsActive = new Gauge({ name: 'flint_app_jobs_active', help: 'Jobs (actions) running.', registers });
    const jobs = new Counter({ name: 'flint_app_jobs_completed_total', help: 'Jobs (actions) that ended, by result: succeeded, failed.', labelNames: ['result'], registers });
    this.#jobs = { succeeded: zeroed(jobs, 'result', 'succeeded'), failed: zeroed(jobs, 'result', 'failed') };
    this.#stagesActive = new Gauge({ name: 'flint_app_stages_active', help: 'Stage attempts (task sets) running.', registers });
    const stages = new Counter({
      name: 'flint_app_stages_completed_total',
      help: 'Stage attempts that ended, by result: succeeded, failed, resubmitted (after a shuffle fetch failure).',
      labelNames: ['result'],
      registers,
    });
    for (const [state, result] of Object.entries(STAGE_RESULTS)) this.#stages.set(state, zeroed(stages, 'result', result));
    this.#shuffleWritten = new Counter({ name: 'flint_app_shuffle_write_bytes_total', help: 'Bytes of shuffle blocks the map tasks wrote.', registers });
    this.#shuffleRead = new Counter({
      name: 'flint_app_shuffle_read_bytes_total',
      help: 'Bytes of shuffle blocks the reduce tasks were given to read (each attempt counted).',
      registers,
    });
    this.#executorMetrics(machine);
  }

  /** `/metrics/…` and `/metrics/executors/…` on the application UI. */
  routes(): UiRoute[] {
    return [
      ...metricsRoutes(this.registry, '/metrics/prometheus', '/metrics/json'),
      ...metricsRoutes(this.executors, '/metrics/executors/prometheus', '/metrics/executors/json'),
    ];
  }

  /** A task's StatusUpdate: counted when it ends, with its run time and result bytes. */
  statusUpdate(message: StatusUpdate): void {
    if (message.state === 'LAUNCHING' || message.state === 'RUNNING') return;
    this.#tasks[TASK_RESULTS[message.state]]++;
    if (message.metrics === undefined) return;
    this.#taskSeconds.observe(message.metrics.runTimeMs / 1000);
    this.#resultBytes += message.metrics.resultBytes;
  }

  heartbeat(message: Heartbeat): void {
    if (message.figures !== undefined) this.#figures.set(message.executorId, message.figures);
  }

  jobStarted(): void {
    this.#jobsActive.inc();
  }

  jobEnded(succeeded: boolean): void {
    this.#jobsActive.dec();
    (succeeded ? this.#jobs.succeeded : this.#jobs.failed).inc();
  }

  stageStarted(): void {
    this.#stagesActive.inc();
  }

  stageEnded(state: 'SUCCEEDED' | 'FAILED' | 'RESUBMITTED'): void {
    this.#stagesActive.dec();
    this.#stages.get(state)?.inc();
  }

  shuffleWritten(bytes: number): void {
    if (bytes > 0) this.#shuffleWritten.inc(bytes);
  }

  shuffleRead(bytes: number): void {
    if (bytes > 0) this.#shuffleRead.inc(bytes);
  }

  /** Per live executor: the scheduler's counts, and the figures of its last heartbeat once one came. */
  #executorMetrics(machine: Pick<TaskSchedulerMachine, 'historySnapshot'>): void {
    const registers = [this.executors];
    const figures = this.#figures;
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
  }
}
